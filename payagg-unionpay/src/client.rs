//! [`UnionPayClient`]: the ACP 5.1.0 client implementing [`Gateway`].

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use payagg_core::callback::{CallbackAck, CallbackRequest, VerifiedCallback};
use payagg_core::clock::{Clock, SystemClock};
use payagg_core::error::{DecodeError, Error, Result, Unsupported};
use payagg_core::ids::{ChannelRefundNo, ChannelTradeNo, MerchantTransferNo};
use payagg_core::pay::HtmlForm;
use payagg_core::statement::{Statement, StatementKind, StatementRequest};
use payagg_core::transport::{HttpTransport, ReqwestTransport};
use payagg_core::{
    Capabilities, Channel, CloseRequest, Gateway, MerchantRefundNo, Money, Operation, PayAction,
    PayRequest, PayResponse, QueryRequest, Refund, RefundQuery, RefundRequest, RefundStatus, Scene,
    SceneKind, Trade, TradeRef, TradeStatus, Transfer, TransferRequest, operation_span,
};
use time::OffsetDateTime;
use time::macros::format_description;
use tracing::Instrument as _;

use crate::bill::{ZmParser, decode_file_content, settle_date_of_entry, zm_entry};
use crate::config::Config;
use crate::error::{Outcome, classify_resp_code, gateway_error};
use crate::qstring::{Fields, form_encode};
use crate::sign;
use crate::verify::{notification_fields, response_fields};
use crate::wire::{codes, fields as f, paths};

const CHANNEL: Channel = Channel::Unionpay;

/// Sleeps between scheduled queries; inject a fake in tests.
#[async_trait]
pub trait Sleeper: Send + Sync + fmt::Debug {
    /// Wait `d`.
    async fn sleep(&self, d: std::time::Duration);
}

/// [`Sleeper`] on tokio's timer.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioSleeper;

#[async_trait]
impl Sleeper for TokioSleeper {
    async fn sleep(&self, d: std::time::Duration) {
        tokio::time::sleep(d).await;
    }
}

/// The official query schedules (brief §5.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum QuerySchedule {
    /// Front transactions (B2C/B2B gateway): 5, 10, 30, 60 and 120 minutes after submission.
    Front,
    /// Back transactions (refund, cancel): after 1, 2, 4, 8, 16, 32 s.
    Back,
}

impl QuerySchedule {
    /// The waits before each query, cumulative offsets turned into gaps.
    #[must_use]
    pub fn gaps(self) -> Vec<std::time::Duration> {
        use std::time::Duration as D;
        match self {
            QuerySchedule::Front => [5u64, 5, 20, 30, 60]
                .iter()
                .map(|m| D::from_secs(m * 60))
                .collect(),
            QuerySchedule::Back => [1u64, 2, 4, 8, 16, 32]
                .iter()
                .map(|s| D::from_secs(*s))
                .collect(),
        }
    }
}

/// The UnionPay ACP 5.1.0 client (B2C and B2B gateways, app, query, refund, cancel,
/// notifications, reconciliation file).
pub struct UnionPayClient {
    config: Config,
    transport: Arc<dyn HttpTransport>,
    clock: Arc<dyn Clock>,
    /// `orderId` → what this process sent (a query needs `txnTime`; a consume's `payTimeout`
    /// decides whether a failed `origRespCode` is final yet).
    txn_times: Mutex<HashMap<String, Sent>>,
}

/// An order or refund this client sent.
#[derive(Debug, Clone)]
struct Sent {
    txn_time: String,
    /// `payTimeout` of a front or app consume; `None` for back transactions.
    pay_timeout: Option<OffsetDateTime>,
}

impl fmt::Debug for UnionPayClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnionPayClient")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn txn_time(at: OffsetDateTime) -> String {
    let fmt = format_description!("[year][month][day][hour][minute][second]");
    at.to_offset(payagg_core::clock::CHINA_OFFSET)
        .format(&fmt)
        .unwrap_or_default()
}

fn order_id_rule(no: &str, field: &'static str) -> Result<()> {
    let ok = (8..=32).contains(&no.len()) && no.bytes().all(|b| b.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_input(
            field,
            "UnionPay orderId: 8 to 32 letters and digits",
        ))
    }
}

fn get<'a>(fields: &'a Fields, k: &str) -> &'a str {
    fields.get(k).map_or("", String::as_str)
}

impl UnionPayClient {
    /// A client over the default transport (reqwest + rustls).
    ///
    /// # Errors
    /// [`Error::Config`] when the transport cannot be set up.
    pub fn new(config: Config) -> Result<Self> {
        let transport = Arc::new(ReqwestTransport::new(config.timeouts)?);
        Ok(Self::with_transport(config, transport))
    }

    /// A client over `transport`.
    #[must_use]
    pub fn with_transport(config: Config, transport: Arc<dyn HttpTransport>) -> Self {
        Self {
            config,
            transport,
            clock: Arc::new(SystemClock),
            txn_times: Mutex::new(HashMap::new()),
        }
    }

    /// Use `clock` for `txnTime` and certificate validity (the public test certificates have
    /// expired: inject a time inside their validity to use them).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The acknowledgement UnionPay expects after a notification was handled (`200 ok`).
    #[must_use]
    pub fn success_ack() -> CallbackAck {
        CallbackAck::new(200, Some("text/plain"), "ok")
    }

    /// Answer to a notification that failed or could not be stored (UnionPay retries).
    #[must_use]
    pub fn failure_ack() -> CallbackAck {
        CallbackAck::new(500, Some("text/plain"), "fail")
    }

    fn remember(&self, order_id: &str, txn_time: &str, pay_timeout: Option<OffsetDateTime>) {
        let mut m = self
            .txn_times
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if m.len() > 100_000 {
            m.clear();
        }
        m.insert(
            order_id.to_owned(),
            Sent {
                txn_time: txn_time.to_owned(),
                pay_timeout,
            },
        );
    }

    fn remembered(&self, order_id: &str) -> Option<Sent> {
        self.txn_times
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(order_id)
            .cloned()
    }

    fn base(&self, txn_type: &str, sub: &str, biz: &str, txn_time: &str) -> Fields {
        let mut m = Fields::new();
        for (k, v) in [
            (f::VERSION, codes::VERSION_5_1_0),
            (f::ENCODING, codes::ENCODING_UTF8),
            (f::TXN_TYPE, txn_type),
            (f::TXN_SUB_TYPE, sub),
            (f::BIZ_TYPE, biz),
            (f::ACCESS_TYPE, codes::ACCESS_TYPE_MERCHANT),
            (f::MER_ID, self.config.mer_id.as_str()),
            (f::TXN_TIME, txn_time),
        ] {
            m.insert(k.to_owned(), v.to_owned());
        }
        m
    }

    /// Signs, posts and verifies; returns the verified answer.
    async fn post(&self, url: &str, fields: Fields) -> Result<Fields> {
        // Query (00) and file transfer (76) only read; every other txnType moves money, and a
        // forged answer to it leaves the outcome unknown.
        let is_write = !matches!(get(&fields, f::TXN_TYPE), "00" | "76");
        let signed = sign::sign(fields, &self.config.signer)?;
        let body = form_encode(&signed);
        let req = http::Request::builder()
            .method(http::Method::POST)
            .uri(url)
            .header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded;charset=UTF-8",
            )
            .body(Bytes::from(body))
            .map_err(|e| Error::invalid_input("endpoint", e.to_string()))?;
        let resp = self.transport.send(req).await?;
        if resp.status() != http::StatusCode::OK {
            // The official SDKs treat any non-200 as "no answer": the outcome is unknown.
            return Err(DecodeError::new(format!(
                "UnionPay answered HTTP {} (no answer; query before retrying)",
                resp.status().as_u16()
            ))
            .retryable()
            .into());
        }
        let fields = response_fields(resp.body())?;
        if !fields.contains_key(f::SIGNATURE) {
            // An unsigned answer proves nothing: outcome unknown, never a business failure.
            return Err(DecodeError::new(format!(
                "unsigned UnionPay answer (respCode {:?}); outcome unknown",
                get(&fields, f::RESP_CODE)
            ))
            .into());
        }
        self.config
            .verifier
            .verify(&fields, self.clock.now())
            .map_err(|e| if is_write { e.after_write() } else { e })?;
        Ok(fields)
    }

    fn pay_timeout_at(&self, req: &PayRequest) -> OffsetDateTime {
        req.expires_at
            .unwrap_or_else(|| self.clock.now() + self.config.pay_timeout)
    }

    fn consume_fields(
        &self,
        req: &PayRequest,
        biz: &str,
        channel: &str,
        now: &str,
    ) -> Result<Fields> {
        let order = req.merchant_order_no.as_str();
        order_id_rule(order, "merchant_order_no")?;
        if req.amount.currency() != payagg_core::Currency::Cny {
            return Err(Error::invalid_input(
                "amount",
                "UnionPay consumes are in CNY",
            ));
        }
        let back = req
            .notify_url
            .clone()
            .or_else(|| self.config.back_url.clone())
            .ok_or_else(|| Error::invalid_input("notify_url", "backUrl is required"))?;
        let mut m = self.base(codes::TXN_CONSUME, codes::SUB_CONSUME, biz, now);
        m.insert(f::CHANNEL_TYPE.into(), channel.into());
        m.insert(f::CURRENCY_CODE.into(), codes::CURRENCY_CNY.into());
        m.insert(f::ORDER_ID.into(), order.into());
        m.insert(f::TXN_AMT.into(), req.amount.minor_units().to_string());
        m.insert(f::BACK_URL.into(), back);
        m.insert(f::PAY_TIMEOUT.into(), txn_time(self.pay_timeout_at(req)));
        if let Some(a) = &req.attach {
            m.insert(f::REQ_RESERVED.into(), a.clone());
        }
        Ok(m)
    }

    async fn pay_front(
        &self,
        req: &PayRequest,
        b2b_bank: Option<Option<&str>>,
    ) -> Result<PayResponse> {
        let now = txn_time(self.clock.now());
        let biz = if b2b_bank.is_some() {
            codes::BIZ_B2B
        } else {
            codes::BIZ_B2C
        };
        let mut m = self.consume_fields(req, biz, codes::CHANNEL_PC, &now)?;
        let front = req
            .return_url
            .clone()
            .or_else(|| self.config.front_url.clone())
            .ok_or_else(|| Error::invalid_input("return_url", "frontUrl is required"))?;
        m.insert(f::FRONT_URL.into(), front);
        if let Some(Some(bank)) = b2b_bank {
            m.insert(f::ISS_INS_CODE.into(), bank.to_owned());
        }
        let signed = sign::sign(m, &self.config.signer)?;
        self.remember(
            req.merchant_order_no.as_str(),
            &now,
            Some(self.pay_timeout_at(req)),
        );
        let form = HtmlForm::new(
            format!("{}{}", self.config.gateway_url, paths::FRONT_TRANS),
            "POST",
            signed.into_iter().collect(),
        );
        Ok(
            PayResponse::new(req.merchant_order_no.clone(), PayAction::SubmitForm(form))
                .channel_ref(now),
        )
    }

    async fn pay_app(&self, req: &PayRequest) -> Result<PayResponse> {
        let now = txn_time(self.clock.now());
        let m = self.consume_fields(req, codes::BIZ_B2C, codes::CHANNEL_MOBILE, &now)?;
        self.remember(
            req.merchant_order_no.as_str(),
            &now,
            Some(self.pay_timeout_at(req)),
        );
        let url = format!("{}{}", self.config.gateway_url, paths::APP_TRANS);
        let r = self.post(&url, m).await?;
        let code = get(&r, f::RESP_CODE);
        match classify_resp_code(code) {
            Outcome::Success if !get(&r, f::TN).is_empty() => Ok(PayResponse::new(
                req.merchant_order_no.clone(),
                PayAction::AppTransactionNumber(get(&r, f::TN).to_owned()),
            )
            .channel_ref(now)),
            Outcome::Success => Err(Error::decode("app consume answered 00 without tn")),
            _ => Err(gateway_error(code, get(&r, f::RESP_MSG))),
        }
    }

    /// Queries `order` sent at `txn_time` (`YYYYMMDDhhmmss`, Beijing; returned as
    /// [`PayResponse::channel_ref`] by `pay`). `respCode` 34 (no such transaction), 03/04/05
    /// and unlisted codes are unknown outcomes (never failures).
    ///
    /// `origRespCode`: `00`/`A6` → `Success`; `03`/`04`/`05`/`70` and `01`/`12`/`34`/`60`/`74`
    /// → `NotPaid` (query again); explicit failures → `Failed`, except for a front or app
    /// consume this client sent whose `payTimeout` has not passed yet: UnionPay says such a
    /// state may still change, so it stays `NotPaid` until then.
    ///
    /// # Errors
    /// Outcome-unknown [`Error::Gateway`] for 34/03/04/05; failures for 10/11/13…;
    /// verification and transport errors.
    pub async fn query_order(&self, order: &str, txn_time: &str) -> Result<Trade> {
        let mut m = self.base(
            codes::TXN_QUERY,
            codes::SUB_DEFAULT,
            codes::BIZ_GENERIC,
            txn_time,
        );
        m.insert(f::ORDER_ID.into(), order.into());
        let url = format!("{}{}", self.config.gateway_url, paths::QUERY_TRANS);
        let r = self
            .config
            .retry
            .run(Operation::Query, || self.post(&url, m.clone()))
            .await?;
        let code = get(&r, f::RESP_CODE);
        if classify_resp_code(code) != Outcome::Success {
            return Err(gateway_error(code, get(&r, f::RESP_MSG)));
        }
        let mut trade = crate::convert::trade_from_query(&r)?;
        // Before payTimeout a failed front/app consume "may still be an intermediate state"
        // (official demos): only after it is the failure final. Known for orders this client
        // sent; others are taken at their word.
        if trade.status == TradeStatus::Failed
            && let Some(Sent {
                txn_time: sent_at,
                pay_timeout: Some(deadline),
            }) = self.remembered(order)
            && sent_at == txn_time
            && self.clock.now() <= deadline
        {
            trade.status = TradeStatus::NotPaid;
        }
        Ok(trade)
    }

    /// Queries on the official schedule until the trade is final (success or failure),
    /// sleeping with `sleeper` between queries. Unknown-outcome errors (34, 03/04/05) keep
    /// the schedule going; the last answer is returned when it ends (then settle with the
    /// reconciliation file).
    ///
    /// # Errors
    /// The last error when no query answered with a trade; verification errors at once.
    pub async fn query_until_final(
        &self,
        order: &str,
        txn_time: &str,
        schedule: QuerySchedule,
        sleeper: &dyn Sleeper,
    ) -> Result<Trade> {
        let mut last: Option<Result<Trade>> = None;
        for gap in schedule.gaps() {
            sleeper.sleep(gap).await;
            match self.query_order(order, txn_time).await {
                Ok(t) if t.status.is_final() => return Ok(t),
                Err(e @ Error::Verification(_)) => return Err(e),
                Err(e) if !e.outcome_unknown() => return Err(e),
                other => last = Some(other),
            }
        }
        last.unwrap_or_else(|| Err(Error::decode("empty query schedule")))
    }

    async fn back_txn(
        &self,
        txn_type: &str,
        orig_qry_id: &str,
        refund_no: &MerchantRefundNo,
        amount: Money,
        notify_url: Option<&str>,
    ) -> Result<Refund> {
        order_id_rule(refund_no.as_str(), "merchant_refund_no")?;
        let now = txn_time(self.clock.now());
        // bizType 000201, as the official B2C and app demos (`Form_6_4_Refund`,
        // `Form_6_3_ConsumeUndo`) and the official B2B PHP kit send for refunds and
        // cancels; the generic 000000 of query and file transfer is not documented here.
        let mut m = self.base(txn_type, codes::SUB_DEFAULT, codes::BIZ_B2C, &now);
        m.insert(f::CHANNEL_TYPE.into(), codes::CHANNEL_PC.into());
        m.insert(f::ORDER_ID.into(), refund_no.as_str().into());
        m.insert(f::ORIG_QRY_ID.into(), orig_qry_id.into());
        m.insert(f::TXN_AMT.into(), amount.minor_units().to_string());
        let back = notify_url
            .map(str::to_owned)
            .or_else(|| self.config.back_url.clone())
            .ok_or_else(|| Error::invalid_input("notify_url", "backUrl is required"))?;
        m.insert(f::BACK_URL.into(), back);
        self.remember(refund_no.as_str(), &now, None);
        let url = format!("{}{}", self.config.gateway_url, paths::BACK_TRANS);
        let r = self.post(&url, m).await?;
        let code = get(&r, f::RESP_CODE);
        match classify_resp_code(code) {
            // Sync 00 = accepted only; the result comes by notification or query.
            Outcome::Success | Outcome::Processing => {
                let mut refund = Refund::new(
                    CHANNEL,
                    refund_no.clone(),
                    amount,
                    RefundStatus::Processing,
                    code,
                );
                refund.channel_refund_no = ChannelRefundNo::new(get(&r, f::QUERY_ID)).ok();
                refund.channel_trade_no = ChannelTradeNo::new(orig_qry_id).ok();
                Ok(refund)
            }
            _ => Err(gateway_error(code, get(&r, f::RESP_MSG))),
        }
    }

    /// Consume cancel (`txnType=31`): same settlement day, full amount only. Prefer
    /// [`Gateway::refund`] (04) unless both are certain.
    ///
    /// # Errors
    /// As for [`Gateway::refund`].
    pub async fn cancel(
        &self,
        orig_qry_id: &str,
        cancel_no: &MerchantRefundNo,
        amount: Money,
    ) -> Result<Refund> {
        let span = operation_span(CHANNEL, Operation::Refund, Some(cancel_no.as_str()));
        self.back_txn(codes::TXN_CANCEL, orig_qry_id, cancel_no, amount, None)
            .instrument(span)
            .await
    }

    async fn orig_qry_id(&self, trade: &TradeRef) -> Result<String> {
        match trade {
            TradeRef::ChannelTradeNo(q) => Ok(q.as_str().to_owned()),
            TradeRef::MerchantOrderNo(o) => {
                let t = self.txn_time_of(o.as_str())?;
                let trade = self.query_order(o.as_str(), &t).await?;
                trade
                    .channel_trade_no
                    .map(ChannelTradeNo::into_string)
                    .ok_or_else(|| {
                        Error::invalid_input("trade", "the order has no queryId (not paid)")
                    })
            }
        }
    }

    fn txn_time_of(&self, order: &str) -> Result<String> {
        self.remembered(order).map(|s| s.txn_time).ok_or_else(|| {
            Error::invalid_input(
                "txn_time",
                "UnionPay queries need orderId and txnTime; this client did not send the order: \
                 use UnionPayClient::query_order(order, txn_time) or refund by queryId",
            )
        })
    }
}

#[async_trait]
impl Gateway for UnionPayClient {
    fn channel(&self) -> Channel {
        CHANNEL
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::new(
            CHANNEL,
            [
                SceneKind::UnionpayB2c,
                SceneKind::UnionpayB2b,
                SceneKind::App,
            ],
            [
                Operation::Pay,
                Operation::Query,
                Operation::Refund,
                Operation::QueryRefund,
                Operation::VerifyCallback,
                Operation::DownloadStatement,
            ],
            [StatementKind::AllTrades],
        )
    }

    async fn pay(&self, req: &PayRequest) -> Result<PayResponse> {
        let span = operation_span(
            CHANNEL,
            Operation::Pay,
            Some(req.merchant_order_no.as_str()),
        );
        async {
            match &req.scene {
                Scene::UnionpayB2c => self.pay_front(req, None).await,
                Scene::UnionpayB2b { bank } => self.pay_front(req, Some(bank.as_deref())).await,
                Scene::App => self.pay_app(req).await,
                other => {
                    Err(Unsupported::new(CHANNEL, format!("the {} scene", other.kind())).into())
                }
            }
        }
        .instrument(span)
        .await
    }

    async fn query(&self, req: &QueryRequest) -> Result<Trade> {
        let order = match &req.trade {
            TradeRef::MerchantOrderNo(o) => o.clone(),
            TradeRef::ChannelTradeNo(_) => {
                return Err(Error::invalid_input(
                    "trade",
                    "ACP 5.1.0 has no query by queryId: query by orderId (and its txnTime)",
                ));
            }
        };
        let span = operation_span(CHANNEL, Operation::Query, Some(order.as_str()));
        async {
            let t = self.txn_time_of(order.as_str())?;
            self.query_order(order.as_str(), &t).await
        }
        .instrument(span)
        .await
    }

    async fn close(&self, _req: &CloseRequest) -> Result<()> {
        // ACP has no close: an unpaid front order lapses at its payTimeout (B2B online banking
        // paid late is refunded automatically by UnionPay).
        Err(Unsupported::new(CHANNEL, "close (unpaid orders lapse at payTimeout)").into())
    }

    async fn refund(&self, req: &RefundRequest) -> Result<Refund> {
        let span = operation_span(
            CHANNEL,
            Operation::Refund,
            Some(req.merchant_refund_no.as_str()),
        );
        async {
            let orig = self.orig_qry_id(&req.trade).await?;
            let mut r = self
                .back_txn(
                    codes::TXN_REFUND,
                    &orig,
                    &req.merchant_refund_no,
                    req.amount,
                    req.notify_url.as_deref(),
                )
                .await?;
            if let TradeRef::MerchantOrderNo(o) = &req.trade {
                r.merchant_order_no = Some(o.clone());
            }
            Ok(r)
        }
        .instrument(span)
        .await
    }

    async fn query_refund(&self, req: &RefundQuery) -> Result<Refund> {
        let no = req.merchant_refund_no.as_str();
        let span = operation_span(CHANNEL, Operation::QueryRefund, Some(no));
        async {
            let t = self.txn_time_of(no)?;
            let trade = self.query_order(no, &t).await?;
            let status = match trade.status {
                TradeStatus::Success => RefundStatus::Success,
                TradeStatus::Failed => RefundStatus::Failed,
                _ => RefundStatus::Processing,
            };
            let mut r = Refund::new(
                CHANNEL,
                req.merchant_refund_no.clone(),
                trade.amount,
                status,
                trade.raw_status,
            );
            r.channel_refund_no = trade
                .channel_trade_no
                .and_then(|q| ChannelRefundNo::new(q.into_string()).ok());
            r.succeeded_at = trade.paid_at;
            Ok(r)
        }
        .instrument(span)
        .await
    }

    async fn transfer(&self, _req: &TransferRequest) -> Result<Transfer> {
        Err(Unsupported::new(CHANNEL, "transfers").into())
    }

    async fn query_transfer(&self, _no: &MerchantTransferNo) -> Result<Transfer> {
        Err(Unsupported::new(CHANNEL, "transfers").into())
    }

    async fn verify_callback(&self, req: &CallbackRequest) -> Result<VerifiedCallback> {
        let span = operation_span(CHANNEL, Operation::VerifyCallback, None);
        async {
            // Only the POST body: query-string parameters are not part of the signature.
            let fields = notification_fields(&req.body)?;
            self.config.verifier.verify(&fields, self.clock.now())?;
            let event = crate::convert::event_from_notification(&fields)?;
            let txn = get(&fields, f::TXN_TYPE).to_owned();
            Ok(
                VerifiedCallback::new(txn, event, Self::success_ack(), Self::failure_ack())
                    .notification_id(format!(
                        "{}:{}:{}",
                        get(&fields, f::ORDER_ID),
                        get(&fields, f::TXN_TIME),
                        get(&fields, f::TXN_TYPE)
                    )),
            )
        }
        .instrument(span)
        .await
    }

    async fn download_statement(&self, req: &StatementRequest) -> Result<Statement> {
        let span = operation_span(CHANNEL, Operation::DownloadStatement, None);
        async {
            if req.kind != StatementKind::AllTrades {
                return Err(Unsupported::new(CHANNEL, format!("{:?} statements", req.kind)).into());
            }
            let now = txn_time(self.clock.now());
            let mut m = self.base(
                codes::TXN_FILE_TRANSFER,
                codes::SUB_FILE,
                codes::BIZ_GENERIC,
                &now,
            );
            m.insert(
                f::SETTLE_DATE.into(),
                format!("{:02}{:02}", u8::from(req.date.month()), req.date.day()),
            );
            m.insert(f::FILE_TYPE.into(), codes::FILE_TYPE_ZM.into());
            let url = format!("{}{}", self.config.file_url, paths::FILE_TRANS);
            let r = self
                .config
                .retry
                .run(Operation::DownloadStatement, || self.post(&url, m.clone()))
                .await?;
            let code = get(&r, f::RESP_CODE);
            if code == codes::RESP_NO_FILE {
                return Err(payagg_core::error::GatewayError::new(
                    CHANNEL,
                    payagg_core::GatewayErrorKind::NotFound,
                    code,
                    get(&r, f::RESP_MSG),
                )
                .into());
            }
            if classify_resp_code(code) != Outcome::Success {
                return Err(gateway_error(code, get(&r, f::RESP_MSG)));
            }
            let zip = decode_file_content(get(&r, f::FILE_CONTENT))?;
            let (name, zm) = zm_entry(&zip)?;
            let settle = settle_date_of_entry(&name).unwrap_or(req.date);
            Ok(Statement::new(
                CHANNEL,
                settle,
                req.kind,
                Bytes::from(zm),
                Arc::new(ZmParser::new(settle)),
            ))
        }
        .instrument(span)
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_and_times() {
        assert_eq!(QuerySchedule::Back.gaps().len(), 6);
        let total: u64 = QuerySchedule::Front
            .gaps()
            .iter()
            .map(|d| d.as_secs())
            .sum();
        assert_eq!(total, 120 * 60);
        let t = time::macros::datetime!(2024-01-05 06:50:46 UTC);
        assert_eq!(txn_time(t), "20240105145046");

        assert!(order_id_rule("A1", "x").is_err());
        assert!(order_id_rule("pay20240105145046", "x").is_ok());
        assert!(order_id_rule("pay-2024010514", "x").is_err());
    }
}
