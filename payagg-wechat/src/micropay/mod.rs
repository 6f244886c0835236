//! Payment-code (付款码, "micropay") payments over APIv2 XML: the merchant scans the payer's
//! code at a till.
//!
//! [`MicropayClient::pay`] runs the whole flow WeChat prescribes, so the till always ends
//! with a definite answer:
//!
//! 1. `POST /pay/micropay`. `SUCCESS` → done.
//! 2. `USERPAYING` (the payer is entering a password), `SYSTEMERROR`, `BANKERROR`, `ORDERPAID`,
//!    `return_code=FAIL`, or no usable answer (timeout, connection reset, unparseable body)
//!    → poll `POST /pay/orderquery` every [`PollSchedule::query_interval`] until
//!    [`PollSchedule::query_timeout`] (defaults 5 s and 45 s: WeChat recommends a 45 s
//!    limit and revokes unpaid payment-code orders itself after 45 s). A paid or a
//!    definitely failed state ends the flow.
//! 3. Still not paid → `POST /secapi/pay/reverse` over the client-certificate transport,
//!    again while the answer says `recall=Y` or gives no definite answer, at most
//!    [`PollSchedule::reverse_attempts`] times. A confirmed reversal returns the trade as
//!    [`TradeStatus::Revoked`].
//!
//! Any other business error of step 1 (`AUTHCODEEXPIRE`, `NOTENOUGH`, ...) is returned at
//! once as [`Error::Gateway`] with a normalized [`GatewayErrorKind`]: nothing was charged.
//! Only when even the reversal cannot be confirmed does `pay` return an error whose
//! [`Error::outcome_unknown`] is true.
//!
//! Every answer with `return_code=SUCCESS` must carry a valid `sign` ([`verify`], constant
//! time); a bad or missing one is an [`Error::Verification`] and stops the flow at once, because
//! nothing in that answer (or the ones after it) can be trusted: alert, then reconcile the
//! order by hand (query or reverse it).
//!
//! Waiting goes through an injected [`Sleeper`], so tests do not wait real time; the schedule
//! counts the time slept, so the wall-clock time is longer by the requests' own latency.

mod codes;
mod sign;
mod xml;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use payagg_core::clock::CHINA_OFFSET;
use payagg_core::crypto::{NonceSource, RandomNonce};
use payagg_core::error::{
    ConfigError, DecodeError, Error, GatewayError, GatewayErrorKind, InvalidInput, TimeoutError,
    VerificationError, VerificationKind,
};
use payagg_core::ids::{AppId, ChannelTradeNo, MerchantId, MerchantOrderNo};
use payagg_core::money::{Currency, Money};
use payagg_core::trade::{Trade, TradeRef, TradeStatus};
use payagg_core::transport::HttpTransport;
use payagg_core::{Channel, Result, Sensitive};
use secrecy::SecretString;

pub use sign::{SignType, sign, string_to_sign, verify};
pub use xml::{decode_xml, encode_xml};

/// The production APIv2 host.
pub const DEFAULT_BASE_URL: &str = "https://api.mch.weixin.qq.com";

/// How long to poll and how often to reverse. Durations count time slept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PollSchedule {
    /// The wait before each order query (default 5 s; WeChat: 5 s after `SYSTEMERROR`, queries
    /// every 3 to 10 s while `USERPAYING`).
    pub query_interval: Duration,
    /// Stop querying and reverse once this much time has been waited (default 45 s, WeChat's
    /// recommended limit; keep it at least 15 s, the earliest WeChat advises reversing).
    pub query_timeout: Duration,
    /// Reversal attempts at most (default 10, as WeChat's demo).
    pub reverse_attempts: u32,
    /// The wait before each repeated reversal (default 5 s).
    pub reverse_interval: Duration,
}

impl Default for PollSchedule {
    fn default() -> Self {
        Self {
            query_interval: Duration::from_secs(5),
            query_timeout: Duration::from_secs(45),
            reverse_attempts: 10,
            reverse_interval: Duration::from_secs(5),
        }
    }
}

impl PollSchedule {
    /// A schedule querying every `interval` until `timeout`, with the default reversal policy.
    #[must_use]
    pub fn new(interval: Duration, timeout: Duration) -> Self {
        Self {
            query_interval: interval,
            query_timeout: timeout,
            ..Self::default()
        }
    }

    /// Reverse at most `attempts` times, waiting `interval` before each repeat.
    #[must_use]
    pub fn reverse(mut self, attempts: u32, interval: Duration) -> Self {
        self.reverse_attempts = attempts.max(1);
        self.reverse_interval = interval;
        self
    }
}

/// Waits between polls. Inject a fake in tests.
#[async_trait]
pub trait Sleeper: Send + Sync + fmt::Debug {
    /// Wait `d`.
    async fn sleep(&self, d: Duration);
}

/// The real [`Sleeper`], on tokio's timer.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioSleeper;

#[async_trait]
impl Sleeper for TokioSleeper {
    async fn sleep(&self, d: Duration) {
        tokio::time::sleep(d).await;
    }
}

/// The merchant's APIv2 settings for payment-code payments.
#[derive(Clone)]
pub struct MicropayConfig {
    appid: String,
    mch_id: String,
    key: SecretString,
    sub_appid: Option<String>,
    sub_mch_id: Option<String>,
    sign_type: SignType,
    base_url: String,
    schedule: PollSchedule,
}

impl fmt::Debug for MicropayConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MicropayConfig")
            .field("appid", &self.appid)
            .field("mch_id", &self.mch_id)
            .field("key", &"[redacted]")
            .field("sub_appid", &self.sub_appid)
            .field("sub_mch_id", &self.sub_mch_id)
            .field("sign_type", &self.sign_type)
            .field("base_url", &self.base_url)
            .field("schedule", &self.schedule)
            .finish()
    }
}

impl MicropayConfig {
    /// Settings for merchant `mch_id` under `appid`, signing with the API v2 key `key`
    /// (`MD5`, the production host, the default [`PollSchedule`]).
    #[must_use]
    pub fn new(appid: impl Into<String>, mch_id: impl Into<String>, key: SecretString) -> Self {
        Self {
            appid: appid.into(),
            mch_id: mch_id.into(),
            key,
            sub_appid: None,
            sub_mch_id: None,
            sign_type: SignType::Md5,
            base_url: DEFAULT_BASE_URL.to_owned(),
            schedule: PollSchedule::default(),
        }
    }
    /// Service-provider mode: pay to this sub-merchant.
    #[must_use]
    pub fn sub_mch_id(mut self, sub_mch_id: impl Into<String>) -> Self {
        self.sub_mch_id = Some(sub_mch_id.into());
        self
    }
    /// Service-provider mode: the sub-merchant's own app id.
    #[must_use]
    pub fn sub_appid(mut self, sub_appid: impl Into<String>) -> Self {
        self.sub_appid = Some(sub_appid.into());
        self
    }
    /// Sign with `sign_type` (responses are verified with the same).
    #[must_use]
    pub fn sign_type(mut self, sign_type: SignType) -> Self {
        self.sign_type = sign_type;
        self
    }
    /// Another host (the backup `https://api2.mch.weixin.qq.com`, or a simulator on loopback).
    #[must_use]
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into().trim_end_matches('/').to_owned();
        self
    }
    /// The polling and reversal schedule.
    #[must_use]
    pub fn schedule(mut self, schedule: PollSchedule) -> Self {
        self.schedule = schedule;
        self
    }
}

/// A payment-code payment.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MicropayRequest {
    /// The merchant's order number (`out_trade_no`, at most 32 characters).
    pub out_trade_no: MerchantOrderNo,
    /// The amount (`total_fee` in fen, `fee_type`).
    pub total: Money,
    /// What is bought (`body`, at most 127 characters).
    pub body: String,
    /// The scanned payment code (`auth_code`). Personal data.
    pub auth_code: Sensitive<String>,
    /// The till's IP address (`spbill_create_ip`).
    pub spbill_create_ip: String,
    /// The till's id (`device_info`).
    pub device_info: Option<String>,
    /// Pass-back data (`attach`).
    pub attach: Option<String>,
    /// Coupon tag (`goods_tag`).
    pub goods_tag: Option<String>,
}

impl MicropayRequest {
    /// Charge `total` for `body` to the payment code `auth_code`, scanned at `spbill_create_ip`.
    ///
    /// # Errors
    /// [`InvalidInput`] for a zero amount, an order number over 32 characters, an empty or
    /// too long body, a code that is not 18 digits starting with 10 to 15, or an empty IP.
    pub fn new(
        out_trade_no: MerchantOrderNo,
        total: Money,
        body: impl Into<String>,
        auth_code: impl Into<String>,
        spbill_create_ip: impl Into<String>,
    ) -> std::result::Result<Self, InvalidInput> {
        let body = body.into();
        let auth_code = auth_code.into();
        if total.is_zero() {
            return Err(InvalidInput::new(
                "amount",
                "a payment must be larger than zero",
            ));
        }
        out_trade_no.check_channel_rule(
            1,
            32,
            |c| c.is_ascii_alphanumeric() || "_-*".contains(c),
            "WeChat out_trade_no",
        )?;
        let n = body.chars().count();
        if body.trim().is_empty() || n > 127 {
            return Err(InvalidInput::new(
                "description",
                format!("{n} characters; WeChat body needs 1 to 127"),
            ));
        }
        crate::text::check_text("description", &body)?;
        let valid_code = auth_code.len() == 18
            && auth_code.bytes().all(|b| b.is_ascii_digit())
            && matches!(&auth_code[..2], "10" | "11" | "12" | "13" | "14" | "15");
        if !valid_code {
            return Err(InvalidInput::new(
                "auth_code",
                "a WeChat payment code is 18 digits starting with 10 to 15",
            ));
        }
        let spbill_create_ip = spbill_create_ip.into();
        if spbill_create_ip.trim().is_empty() {
            return Err(InvalidInput::new(
                "spbill_create_ip",
                "the till's IP address is required",
            ));
        }
        Ok(Self {
            out_trade_no,
            total,
            body,
            auth_code: Sensitive::new(auth_code),
            spbill_create_ip,
            device_info: None,
            attach: None,
            goods_tag: None,
        })
    }
    /// Set the till's id.
    #[must_use]
    pub fn device_info(mut self, v: impl Into<String>) -> Self {
        self.device_info = Some(v.into());
        self
    }
    /// Set pass-back data.
    #[must_use]
    pub fn attach(mut self, v: impl Into<String>) -> Self {
        self.attach = Some(v.into());
        self
    }
    /// Set the coupon tag.
    #[must_use]
    pub fn goods_tag(mut self, v: impl Into<String>) -> Self {
        self.goods_tag = Some(v.into());
        self
    }
}

/// The answer to one reversal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReverseOutcome {
    /// WeChat asks to call reverse again (`recall=Y`): the reversal is not confirmed yet.
    pub recall: bool,
}

/// Payment-code payments, order queries and reversals over APIv2.
#[derive(Debug, Clone)]
pub struct MicropayClient {
    config: Arc<MicropayConfig>,
    transport: Arc<dyn HttpTransport>,
    cert_transport: Arc<dyn HttpTransport>,
    sleeper: Arc<dyn Sleeper>,
    nonce: Arc<dyn NonceSource>,
}

enum Endpoint {
    Micropay,
    OrderQuery,
    Reverse,
}

impl Endpoint {
    fn path(&self) -> &'static str {
        match self {
            Endpoint::Micropay => "/pay/micropay",
            Endpoint::OrderQuery => "/pay/orderquery",
            Endpoint::Reverse => "/secapi/pay/reverse",
        }
    }
}

fn params<const N: usize>(pairs: [(&str, &str); N]) -> BTreeMap<String, String> {
    pairs
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// The error for a payment whose outcome the flow could not settle: outcome unknown.
fn unknown_outcome(req: &MicropayRequest, why: String, waited: Duration) -> Error {
    TimeoutError::new(
        format!(
            "wechat micropay {}: payment not confirmed and {why}",
            req.out_trade_no
        ),
        elapsed_ms(waited),
    )
    .into()
}

fn elapsed_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl MicropayClient {
    /// A client sending micropay and orderquery through `transport` and reverse through
    /// `cert_transport`, which must present the merchant's API client certificate
    /// (for example [`payagg_core::transport::ReqwestTransport::with_identity`]).
    ///
    /// # Errors
    /// [`Error::Config`] for an empty app id, merchant id or key, or a base URL that is not
    /// https (plain http only on loopback).
    pub fn new(
        config: MicropayConfig,
        transport: Arc<dyn HttpTransport>,
        cert_transport: Arc<dyn HttpTransport>,
    ) -> Result<Self> {
        use secrecy::ExposeSecret;
        if config.appid.is_empty() || config.mch_id.is_empty() {
            return Err(
                ConfigError::new("wechat micropay", "appid and mch_id are required").into(),
            );
        }
        if config.key.expose_secret().is_empty() {
            return Err(ConfigError::new("wechat micropay", "the API v2 key is empty").into());
        }
        payagg_core::transport::check_endpoint(&config.base_url)
            .map_err(|e| ConfigError::new("wechat micropay base_url", e.reason().to_owned()))?;
        Ok(Self {
            config: Arc::new(config),
            transport,
            cert_transport,
            sleeper: Arc::new(TokioSleeper),
            nonce: Arc::new(RandomNonce),
        })
    }

    /// Wait with `sleeper` instead of tokio's timer.
    #[must_use]
    pub fn with_sleeper(mut self, sleeper: Arc<dyn Sleeper>) -> Self {
        self.sleeper = sleeper;
        self
    }

    /// Draw `nonce_str` from `nonce`.
    #[must_use]
    pub fn with_nonce_source(mut self, nonce: Arc<dyn NonceSource>) -> Self {
        self.nonce = nonce;
        self
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &MicropayConfig {
        &self.config
    }

    /// Charge a payment code and see it through to a definite outcome (see the
    /// [module docs](self)).
    ///
    /// Returns the trade as [`TradeStatus::Success`] when paid, or with a definite non-paid
    /// status ([`TradeStatus::Revoked`] after a confirmed reversal, `Closed`, `Failed`).
    ///
    /// # Errors
    /// - [`Error::Gateway`] when WeChat refused the payment (`AUTHCODEEXPIRE`, `NOTENOUGH`,
    ///   ...): nothing was charged; the kind says what to tell the payer.
    /// - [`Error::Verification`] when an answer's signature is bad: alert; the order's state
    ///   is unknown to this client, so the error is marked
    ///   [`payagg_core::error::VerificationError::after_write`] and
    ///   [`Error::outcome_unknown`] is true (query before charging again).
    /// - [`Error::Timeout`] (so [`Error::outcome_unknown`] is true) when the payment was not
    ///   confirmed and neither was its reversal: still `recall=Y` or unanswered after
    ///   [`PollSchedule::reverse_attempts`], or refused (`REVERSE_EXPIRE`, ...). Its message
    ///   names the last answer.
    /// - [`Error::InvalidInput`], [`Error::Transport`] (not sent) when nothing was sent.
    pub async fn pay(&self, req: &MicropayRequest) -> Result<Trade> {
        // The public fields may have been changed after `new`: check every free text.
        crate::text::check_text("description", &req.body)?;
        crate::text::check_opt("attach", req.attach.as_deref())?;
        crate::text::check_opt("device_info", req.device_info.as_deref())?;
        crate::text::check_opt("goods_tag", req.goods_tag.as_deref())?;
        // Any answer that fails verification during the flow leaves the charge unknown.
        self.pay_flow(req).await.map_err(Error::after_write)
    }

    async fn pay_flow(&self, req: &MicropayRequest) -> Result<Trade> {
        match self.micropay(req).await {
            Ok(trade) => return Ok(trade),
            Err(e) => {
                let keep_going = match &e {
                    // An err_code this client does not know is no definite refusal:
                    // find out by querying (then reversing) like a system error.
                    Error::Gateway(g) => matches!(
                        g.kind(),
                        GatewayErrorKind::UserPaying
                            | GatewayErrorKind::SystemError
                            | GatewayErrorKind::OrderPaid
                            | GatewayErrorKind::Unknown
                    ),
                    Error::Verification(_) => false,
                    other => other.outcome_unknown(),
                };
                if !keep_going {
                    return Err(e);
                }
                tracing::info!(order = req.out_trade_no.as_str(), error = %e, "wechat micropay not final; polling");
            }
        }
        let trade_ref = TradeRef::MerchantOrderNo(req.out_trade_no.clone());
        let schedule = self.config.schedule;
        let mut waited = Duration::ZERO;
        while waited < schedule.query_timeout {
            self.sleeper.sleep(schedule.query_interval).await;
            waited += schedule.query_interval;
            match self.query_inner(&trade_ref, Some(req.total)).await {
                Ok(trade)
                    if matches!(trade.status, TradeStatus::NotPaid | TradeStatus::UserPaying) => {}
                Ok(trade) => return Ok(trade),
                Err(e @ Error::Verification(_)) => return Err(e),
                Err(e) => {
                    tracing::info!(order = req.out_trade_no.as_str(), error = %e, "wechat orderquery failed; polling on")
                }
            }
        }
        self.reverse_until_final(req, &trade_ref, waited).await
    }

    async fn reverse_until_final(
        &self,
        req: &MicropayRequest,
        trade_ref: &TradeRef,
        mut waited: Duration,
    ) -> Result<Trade> {
        let schedule = self.config.schedule;
        let revoked = |raw: &str, status: TradeStatus| {
            Trade::new(
                Channel::Wechat,
                req.out_trade_no.clone(),
                status,
                raw,
                req.total,
            )
        };
        let mut last: Option<Error> = None;
        for attempt in 1..=schedule.reverse_attempts.max(1) {
            if attempt > 1 {
                self.sleeper.sleep(schedule.reverse_interval).await;
                waited += schedule.reverse_interval;
            }
            match self.reverse(trade_ref).await {
                Ok(ReverseOutcome { recall: false }) => {
                    return Ok(revoked("REVOKED", TradeStatus::Revoked));
                }
                Ok(ReverseOutcome { recall: true }) => last = None,
                Err(Error::Gateway(g)) if g.code() == "ORDERREVERSED" => {
                    return Ok(revoked("REVOKED", TradeStatus::Revoked));
                }
                Err(Error::Gateway(g)) if g.code() == "ORDERCLOSED" => {
                    return Ok(revoked("CLOSED", TradeStatus::Closed));
                }
                Err(Error::Gateway(g)) if g.code() == "ORDERNOTEXIST" => {
                    // The order never reached WeChat: nothing was charged.
                    return Ok(revoked("ORDERNOTEXIST", TradeStatus::Failed));
                }
                Err(Error::Gateway(g))
                    if matches!(
                        g.kind(),
                        GatewayErrorKind::UserPaying
                            | GatewayErrorKind::SystemError
                            | GatewayErrorKind::RateLimited
                    ) =>
                {
                    last = Some(Error::Gateway(g));
                }
                Err(Error::Gateway(g)) => {
                    // A definite refusal (REVERSE_EXPIRE, ...): the reversal will not happen,
                    // so whether the payment went through stays unknown.
                    return Err(unknown_outcome(
                        req,
                        format!("reversal refused ({g})"),
                        waited,
                    ));
                }
                Err(e @ (Error::Verification(_) | Error::Config(_) | Error::InvalidInput(_))) => {
                    return Err(e);
                }
                Err(e) => last = Some(e),
            }
            tracing::warn!(
                order = req.out_trade_no.as_str(),
                attempt,
                "wechat micropay reverse not confirmed; repeating"
            );
        }
        let why = match last {
            Some(e) => format!(
                "reversal not confirmed after {} attempts (last: {e})",
                schedule.reverse_attempts.max(1)
            ),
            None => format!(
                "reversal not confirmed after {} attempts (recall=Y)",
                schedule.reverse_attempts.max(1)
            ),
        };
        Err(unknown_outcome(req, why, waited))
    }

    /// One `POST /pay/micropay`, without polling.
    ///
    /// # Errors
    /// [`Error::Gateway`] for `result_code=FAIL` (`USERPAYING` has kind
    /// [`GatewayErrorKind::UserPaying`]; `SYSTEMERROR`/`BANKERROR` and `return_code=FAIL`
    /// have kind `SystemError`, outcome unknown), [`Error::Verification`] for a bad `sign` or an
    /// answer about another merchant or order, and the transport's errors.
    pub async fn micropay(&self, req: &MicropayRequest) -> Result<Trade> {
        let total = req.total.minor_units().to_string();
        let currency = req.total.currency();
        let p = params([
            ("auth_code", req.auth_code.expose().as_str()),
            ("body", req.body.as_str()),
            ("out_trade_no", req.out_trade_no.as_str()),
            ("total_fee", total.as_str()),
            // CNY is the default: leave it out, as the documented examples do.
            (
                "fee_type",
                if currency == Currency::Cny {
                    ""
                } else {
                    currency.code()
                },
            ),
            ("spbill_create_ip", req.spbill_create_ip.as_str()),
            ("device_info", req.device_info.as_deref().unwrap_or("")),
            ("attach", req.attach.as_deref().unwrap_or("")),
            ("goods_tag", req.goods_tag.as_deref().unwrap_or("")),
        ]);
        let resp = self.call(Endpoint::Micropay, p).await?;
        let trade = trade_from(
            &resp,
            TradeStatus::Success,
            "SUCCESS",
            Some(&req.out_trade_no),
            Some(req.total),
        )?;
        self.check_order(&trade, &req.out_trade_no)?;
        Ok(trade)
    }

    /// `POST /pay/orderquery`: the order's current state.
    ///
    /// `amount` is `total_fee` when WeChat states it; unpaid states do not, and then it is zero.
    ///
    /// # Errors
    /// [`Error::Gateway`] (`ORDERNOTEXIST` has kind `NotFound`), [`Error::Verification`],
    /// [`Error::Decode`] for an unknown `trade_state`, and the transport's errors.
    pub async fn query(&self, trade: &TradeRef) -> Result<Trade> {
        self.query_inner(trade, None).await
    }

    async fn query_inner(&self, trade: &TradeRef, amount: Option<Money>) -> Result<Trade> {
        let resp = self
            .call(Endpoint::OrderQuery, trade_ref_params(trade))
            .await?;
        let state = resp.get("trade_state").map(String::as_str).unwrap_or("");
        let status = match state {
            "SUCCESS" => TradeStatus::Success,
            "REFUND" => TradeStatus::Refunded,
            "NOTPAY" => TradeStatus::NotPaid,
            "USERPAYING" | "ACCEPT" => TradeStatus::UserPaying,
            "CLOSED" => TradeStatus::Closed,
            "REVOKED" => TradeStatus::Revoked,
            "PAYERROR" => TradeStatus::Failed,
            other => {
                return Err(Error::Decode(DecodeError::new(format!(
                    "wechat orderquery: unknown trade_state {other:?}"
                ))));
            }
        };
        let no = match trade {
            TradeRef::MerchantOrderNo(n) => Some(n),
            TradeRef::ChannelTradeNo(_) => None,
        };
        let t = trade_from(&resp, status, state, no, amount)?;
        if let Some(n) = no {
            self.check_order(&t, n)?;
        }
        Ok(t)
    }

    /// One `POST /secapi/pay/reverse` over the client-certificate transport.
    ///
    /// `Ok` with `recall: false` confirms the reversal (an unpaid order is closed, a paid one
    /// refunded); `recall: true` asks to call again. WeChat reverses orders of the last 7 days
    /// only (`REVERSE_EXPIRE` otherwise: refund instead).
    ///
    /// # Errors
    /// [`Error::Gateway`] for `result_code=FAIL` with `recall=N` (`ORDERREVERSED` has kind
    /// `OrderClosed`), [`Error::Verification`], and the transport's errors.
    pub async fn reverse(&self, trade: &TradeRef) -> Result<ReverseOutcome> {
        let resp = self
            .send_signed(Endpoint::Reverse, trade_ref_params(trade))
            .await?;
        let recall = resp.get("recall").is_some_and(|r| r == "Y");
        if recall {
            // Whatever the result, WeChat asks to call again: not confirmed yet.
            return Ok(ReverseOutcome { recall: true });
        }
        business_result(&resp)?;
        Ok(ReverseOutcome { recall: false })
    }

    /// The answer must be about our merchant and order.
    fn check_order(&self, t: &Trade, order: &MerchantOrderNo) -> Result<()> {
        let mut bad = Vec::new();
        if &t.merchant_order_no != order {
            bad.push((
                "out_trade_no",
                order.to_string(),
                t.merchant_order_no.to_string(),
            ));
        }
        if let Some(mch) = &t.merchant_id
            && mch.as_str() != self.config.mch_id
        {
            bad.push(("mch_id", self.config.mch_id.clone(), mch.to_string()));
        }
        if let Some(app) = &t.app_id
            && app.as_str() != self.config.appid
        {
            bad.push(("appid", self.config.appid.clone(), app.to_string()));
        }
        if bad.is_empty() {
            return Ok(());
        }
        let fields: Vec<&str> = bad.iter().map(|b| b.0).collect();
        Err(VerificationError::new(
            Channel::Wechat,
            VerificationKind::BusinessMismatch,
            format!(
                "APIv2 answer is about another order ({})",
                fields.join(", ")
            ),
        )
        .expected(
            bad.iter()
                .map(|b| format!("{}={}", b.0, b.1))
                .collect::<Vec<_>>()
                .join(" "),
        )
        .presented(
            bad.iter()
                .map(|b| format!("{}={}", b.0, b.2))
                .collect::<Vec<_>>()
                .join(" "),
        )
        .into())
    }

    /// Sign and send one APIv2 call; `Ok` for a verified `return_code=SUCCESS` answer.
    async fn send_signed(
        &self,
        endpoint: Endpoint,
        mut p: BTreeMap<String, String>,
    ) -> Result<BTreeMap<String, String>> {
        let cfg = &self.config;
        p.insert("appid".into(), cfg.appid.clone());
        p.insert("mch_id".into(), cfg.mch_id.clone());
        if let Some(s) = &cfg.sub_mch_id {
            p.insert("sub_mch_id".into(), s.clone());
        }
        if let Some(s) = &cfg.sub_appid {
            p.insert("sub_appid".into(), s.clone());
        }
        p.insert("nonce_str".into(), self.nonce.nonce());
        if cfg.sign_type != SignType::Md5 {
            p.insert("sign_type".into(), cfg.sign_type.as_str().into());
        }
        let signature = sign(&p, &cfg.key, cfg.sign_type);
        p.insert("sign".into(), signature);
        let body = encode_xml(&p)?;
        let url = format!("{}{}", cfg.base_url, endpoint.path());
        let request = http::Request::builder()
            .method(http::Method::POST)
            .uri(&url)
            .header(http::header::CONTENT_TYPE, "text/xml; charset=utf-8")
            .header(http::header::ACCEPT, "*/*")
            .body(Bytes::from(body))
            .map_err(|e| {
                Error::InvalidInput(InvalidInput::new("endpoint", format!("{url}: {e}")))
            })?;
        let transport = match endpoint {
            Endpoint::Reverse => &self.cert_transport,
            Endpoint::Micropay | Endpoint::OrderQuery => &self.transport,
        };
        let response = transport.send(request).await?;
        let status = response.status();
        if !status.is_success() {
            return Err(Error::Decode(
                DecodeError::new(format!(
                    "wechat {}: HTTP {}",
                    endpoint.path(),
                    status.as_u16()
                ))
                .retryable(),
            ));
        }
        let resp = decode_xml(response.body())?;
        let get = |k: &str| resp.get(k).map(String::as_str).unwrap_or("");
        if get("return_code") != "SUCCESS" {
            // Communication-level failure: nothing else in the answer is meaningful or signed.
            return Err(GatewayError::new(
                Channel::Wechat,
                GatewayErrorKind::SystemError,
                "FAIL",
                get("return_msg"),
            )
            .into());
        }
        verify(&resp, &cfg.key, cfg.sign_type)?;
        Ok(resp)
    }

    /// [`Self::send_signed`], then `Ok` only for `result_code=SUCCESS`.
    async fn call(
        &self,
        endpoint: Endpoint,
        p: BTreeMap<String, String>,
    ) -> Result<BTreeMap<String, String>> {
        let resp = self.send_signed(endpoint, p).await?;
        business_result(&resp)?;
        Ok(resp)
    }
}

/// `Err(Gateway)` for `result_code` other than `SUCCESS`.
fn business_result(resp: &BTreeMap<String, String>) -> Result<()> {
    let get = |k: &str| resp.get(k).map(String::as_str).unwrap_or("");
    if get("result_code") == "SUCCESS" {
        return Ok(());
    }
    let code = get("err_code");
    Err(GatewayError::new(
        Channel::Wechat,
        codes::kind_of(code),
        code,
        get("err_code_des"),
    )
    .into())
}

fn trade_ref_params(trade: &TradeRef) -> BTreeMap<String, String> {
    match trade {
        TradeRef::MerchantOrderNo(n) => params([("out_trade_no", n.as_str())]),
        TradeRef::ChannelTradeNo(n) => params([("transaction_id", n.as_str())]),
    }
}

fn bad_field(field: &str, value: &str, why: impl fmt::Display) -> Error {
    Error::Decode(
        DecodeError::new(format!("wechat APIv2 field {field}={value:?}: {why}"))
            .at(field.to_owned()),
    )
}

/// Build a trade from a `result_code=SUCCESS` answer.
fn trade_from(
    p: &BTreeMap<String, String>,
    status: TradeStatus,
    raw_status: &str,
    order: Option<&MerchantOrderNo>,
    amount: Option<Money>,
) -> Result<Trade> {
    let get = |k: &str| p.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let order_no = match (get("out_trade_no"), order) {
        (Some(v), _) => MerchantOrderNo::new(v).map_err(|e| bad_field("out_trade_no", v, e))?,
        (None, Some(o)) => o.clone(),
        (None, None) => return Err(Error::decode("wechat APIv2 answer without out_trade_no")),
    };
    let currency = match get("fee_type") {
        Some(c) => Currency::from_code(c).map_err(|e| bad_field("fee_type", c, e))?,
        None => amount.map_or(Currency::Cny, |m| m.currency()),
    };
    let total = match get("total_fee") {
        Some(v) => Money::parse_minor(v, currency).map_err(|e| bad_field("total_fee", v, e))?,
        None => amount.unwrap_or(Money::zero(currency)),
    };
    let mut t = Trade::new(Channel::Wechat, order_no, status, raw_status, total);
    if let Some(v) = get("transaction_id") {
        t.channel_trade_no =
            Some(ChannelTradeNo::new(v).map_err(|e| bad_field("transaction_id", v, e))?);
    }
    if let Some(v) = get("cash_fee") {
        let cur = match get("cash_fee_type") {
            Some(c) => Currency::from_code(c).map_err(|e| bad_field("cash_fee_type", c, e))?,
            None => currency,
        };
        t.payer_amount = Some(Money::parse_minor(v, cur).map_err(|e| bad_field("cash_fee", v, e))?);
    }
    if let Some(v) = get("time_end") {
        t.paid_at =
            Some(parse_time_end(v).ok_or_else(|| bad_field("time_end", v, "not yyyyMMddHHmmss"))?);
    }
    t.payer = get("openid").map(|v| Sensitive::new(v.to_owned()));
    t.app_id = get("appid").and_then(|v| AppId::new(v).ok());
    t.merchant_id = get("mch_id").and_then(|v| MerchantId::new(v).ok());
    t.attach = get("attach").map(str::to_owned);
    Ok(t)
}

fn parse_time_end(s: &str) -> Option<time::OffsetDateTime> {
    let b = s.as_bytes();
    if b.len() != 14 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s[r].parse::<u16>().ok();
    let month = time::Month::try_from(u8::try_from(n(4..6)?).ok()?).ok()?;
    let small = |r| n(r).and_then(|v| u8::try_from(v).ok());
    let date = time::Date::from_calendar_date(i32::from(n(0..4)?), month, small(6..8)?).ok()?;
    let t = time::Time::from_hms(small(8..10)?, small(10..12)?, small(12..14)?).ok()?;
    Some(time::PrimitiveDateTime::new(date, t).assume_offset(CHINA_OFFSET))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn request_validation() {
        let no = MerchantOrderNo::new("1415757673").unwrap();
        assert!(
            MicropayRequest::new(
                no.clone(),
                Money::cny(1),
                "t",
                "120061098828009406",
                "1.2.3.4"
            )
            .is_ok()
        );
        assert!(
            MicropayRequest::new(
                no.clone(),
                Money::cny(0),
                "t",
                "120061098828009406",
                "1.2.3.4"
            )
            .is_err()
        );
        assert!(
            MicropayRequest::new(
                no.clone(),
                Money::cny(1),
                "t",
                "280061098828009406",
                "1.2.3.4"
            )
            .is_err()
        );
        assert!(
            MicropayRequest::new(
                no.clone(),
                Money::cny(1),
                "t",
                "12006109882800940",
                "1.2.3.4"
            )
            .is_err()
        );
        assert!(
            MicropayRequest::new(no, Money::cny(1), "", "120061098828009406", "1.2.3.4").is_err()
        );
        let long = MerchantOrderNo::new("x".repeat(33)).unwrap();
        assert!(
            MicropayRequest::new(long, Money::cny(1), "t", "120061098828009406", "1.2.3.4")
                .is_err()
        );
        let r = MicropayRequest::new(
            MerchantOrderNo::new("A1").unwrap(),
            Money::cny(1),
            "t",
            "120061098828009406",
            "1.2.3.4",
        )
        .unwrap();
        assert!(!format!("{r:?}").contains("120061098828009406"));
    }

    #[test]
    fn time_end_and_config_debug() {
        assert_eq!(
            parse_time_end("20141111170043").unwrap().to_string(),
            "2014-11-11 17:00:43.0 +08:00:00"
        );
        assert!(parse_time_end("20141311170043").is_none());
        let c = MicropayConfig::new("wx1", "100", SecretString::from("secret-key-value"));
        assert!(!format!("{c:?}").contains("secret-key-value"));
    }
}
