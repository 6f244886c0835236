//! The HTTP server, the library handle [`MockServer`], and the control API.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use payagg_core::Channel;
use payagg_core::clock::{Clock, ManualClock};
use serde::Deserialize;
use time::{Duration, OffsetDateTime};
use tokio::net::TcpListener;

use crate::config::{MockConfig, WechatSetup};
use crate::error::{MockError, MockErrorKind};
use crate::fault::{FaultKind, FaultRule, Faults};
use crate::notify::{Delivery, Notifier};
use crate::state::{Order, OrderStatus, RefundRecord, RefundStatus, Store};
use crate::wallet::{PayAs, Wallet};
use crate::wechat::WechatSim;

/// A request as the simulator sees it: the raw request-target is kept for signature checks.
#[derive(Debug)]
pub(crate) struct MockRequest {
    pub(crate) method: http::Method,
    /// Path and query exactly as received (absolute-form authority stripped).
    pub(crate) target: String,
    pub(crate) path: String,
    pub(crate) query: Option<String>,
    pub(crate) headers: http::HeaderMap,
    pub(crate) body: Bytes,
}

impl MockRequest {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// A query parameter, percent-decoded.
    pub(crate) fn query_param(&self, name: &str) -> Option<String> {
        self.query.as_deref()?.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k, true) == name).then(|| percent_decode(v, true))
        })
    }
}

/// A response before it goes on the wire.
#[derive(Debug)]
pub(crate) struct MockResponse {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Bytes,
}

impl MockResponse {
    pub(crate) fn json(status: u16, value: &serde_json::Value) -> Self {
        Self {
            status,
            headers: vec![(
                "Content-Type".into(),
                "application/json; charset=utf-8".into(),
            )],
            body: Bytes::from(value.to_string()),
        }
    }

    pub(crate) fn text(status: u16, text: &str) -> Self {
        Self {
            status,
            headers: vec![("Content-Type".into(), "text/plain; charset=utf-8".into())],
            body: Bytes::from(text.to_owned()),
        }
    }
}

/// Decode `%XX` escapes (and `+` as a space when `plus_is_space`). Invalid escapes stay as-is.
pub(crate) fn percent_decode(s: &str, plus_is_space: bool) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                if let Some(v) = hex {
                    out.push(v);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            b'+' if plus_is_space => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// State shared by the server, its handlers and the library handle.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) clock: Arc<ManualClock>,
    pub(crate) store: Store,
    pub(crate) faults: Faults,
    pub(crate) notifier: Notifier,
    pub(crate) wechat: WechatSim,
    pub(crate) alipay: crate::alipay::AlipaySim,
    pub(crate) unionpay: crate::unionpay::UnionpaySim,
    pub(crate) hang_for: std::time::Duration,
    /// At most this many handlers sign on the blocking pool at once (one per core).
    pub(crate) signers: Arc<tokio::sync::Semaphore>,
}

/// A payer action on an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    Pay,
    UserPaying,
    Fail,
    Expire,
    Revoke,
}

impl Shared {
    pub(crate) fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    pub(crate) fn act(
        &self,
        channel: Channel,
        out_trade_no: &str,
        action: Action,
        pay: &PayAs,
    ) -> Result<Order, MockError> {
        let now = self.now();
        if action == Action::Pay && !pay.wallet.supports(channel) {
            return Err(MockError::new(
                MockErrorKind::InvalidInput,
                format!("{channel} cannot be paid with {}", pay.wallet),
            ));
        }
        let order = self.store.with(now, |book| {
            let o = book.find_any(channel, out_trade_no)?;
            let next = match (action, o.status) {
                (Action::Pay, s) if s.is_open() => OrderStatus::Success,
                (Action::UserPaying, OrderStatus::NotPaid) => OrderStatus::UserPaying,
                (Action::Fail, s) if s.is_open() => OrderStatus::PayError,
                (Action::Expire, s) if s.is_open() => OrderStatus::Closed,
                (Action::Revoke, s) if s.is_open() => OrderStatus::Revoked,
                (a, s) => {
                    return Err(MockError::new(
                        MockErrorKind::InvalidTransition,
                        format!("cannot {a:?} order {out_trade_no} in state {s:?}"),
                    ));
                }
            };
            o.status = next;
            match action {
                Action::Pay => {
                    o.paid_at = Some(now);
                    o.wallet = pay.wallet.clone();
                    if let Some(p) = pay.payer.as_deref() {
                        o.payer = Some(p.to_owned());
                    } else if o.payer.is_none() {
                        o.payer = Some("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o".to_owned());
                    }
                }
                Action::Expire => o.expire_at = now,
                _ => {}
            }
            Ok(o.clone())
        })?;
        if action == Action::Pay {
            self.notify_paid(&order);
        }
        Ok(order)
    }

    /// Pay the open order behind a merchant-presented QR code as `payer`: a WeChat Native
    /// `code_url` (`weixin://wxpay/bizpayurl?pr=…`) or an Alipay precreate `qr_code`
    /// (matched exactly, or by its `/alipay/qr/{trade_no}` path under any host).
    fn scan(&self, code_url: &str, pay: &PayAs) -> Result<Order, MockError> {
        let code_url = code_url.trim();
        let orders = self.store.orders();
        let by_code = orders.iter().find(|o| {
            ["code_url", "qr_code"]
                .iter()
                .any(|k| o.prepay.get(k).and_then(|v| v.as_str()) == Some(code_url))
        });
        let alipay_trade = code_url
            .split_once("/alipay/qr/")
            .and_then(|(_, t)| t.split(['?', '#', '/']).next())
            .map(|t| percent_decode(t, false));
        let found = by_code.or_else(|| {
            let t = alipay_trade.as_deref()?;
            orders
                .iter()
                .find(|o| o.channel == Channel::Alipay && o.transaction_id == t)
        });
        let Some(o) = found else {
            return Err(MockError::new(
                MockErrorKind::NotFound,
                format!("no order has the QR code {code_url}"),
            ));
        };
        match o.channel {
            Channel::Alipay => self
                .alipay
                .pay_trade(self, &o.transaction_id, pay)
                .ok_or_else(|| {
                    MockError::new(
                        MockErrorKind::InvalidTransition,
                        format!(
                            "cannot pay Alipay trade {} ({}): it is not open",
                            o.out_trade_no, o.transaction_id
                        ),
                    )
                }),
            channel => self.act(channel, &o.out_trade_no, Action::Pay, pay),
        }
    }

    pub(crate) fn notify_paid(&self, order: &Order) {
        let outgoing = match order.channel {
            Channel::Wechat => self.wechat.payment_notification(self, order),
            Channel::Alipay => self.alipay.notification(self, order, None),
            Channel::Unionpay => self.unionpay.payment_notification(order),
            _ => None,
        };
        if let Some(o) = outgoing {
            self.notifier.dispatch(o);
        }
    }
}

/// A running simulator. Dropping it stops the server and any notification retries.
///
/// ```no_run
/// # async fn demo() -> Result<(), payagg_mock::MockError> {
/// use payagg_mock::{MockConfig, MockServer};
/// let server = MockServer::start(MockConfig::generate()?.with_time_scale(1000)).await?;
/// println!("simulator at {}", server.base_url());
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct MockServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    accept: tokio::task::AbortHandle,
    config: MockConfig,
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.accept.abort();
        self.shared.notifier.shutdown();
    }
}

#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}

impl std::error::Error for Dropped {}

impl MockServer {
    /// Bind `config.listen` and start serving in the current Tokio runtime.
    ///
    /// # Errors
    /// [`MockError`] if the address cannot be bound.
    pub async fn start(config: MockConfig) -> Result<MockServer, MockError> {
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|e| MockError::io(format!("binding {}", config.listen), e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| MockError::io("reading the bound address", e))?;
        let clock = Arc::new(ManualClock::new(config.start_time));
        let notifier = Notifier::new(clock.clone(), config.time_scale);
        let base_url = format!("http://{addr}");
        let shared = Arc::new(Shared {
            clock,
            store: Store::default(),
            faults: Faults::default(),
            notifier,
            unionpay: crate::unionpay::UnionpaySim::new(config.unionpay.clone(), base_url.clone()),
            alipay: crate::alipay::AlipaySim::new(config.alipay.clone(), base_url.clone()),
            wechat: WechatSim::new(config.wechat.clone(), base_url),
            hang_for: config.hang_for,
            signers: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, std::num::NonZero::get),
            )),
        });
        // A payment-code payer who finishes the password (Alipay 2811) has paid: notify.
        let weak = Arc::downgrade(&shared);
        shared.store.on_password_paid(move |o| {
            if let Some(s) = weak.upgrade() {
                s.notify_paid(o);
            }
        });
        let s = shared.clone();
        let accept = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let s = s.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req| handle(s.clone(), req));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        })
        .abort_handle();
        Ok(MockServer {
            shared,
            addr,
            accept,
            config,
        })
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    #[must_use]
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The configuration it was started with (keys included).
    #[must_use]
    pub fn config(&self) -> &MockConfig {
        &self.config
    }

    /// The WeChat merchant and platform keys.
    #[must_use]
    pub fn wechat(&self) -> &WechatSetup {
        &self.config.wechat
    }

    /// The simulator clock (also usable as the client's clock in tests).
    #[must_use]
    pub fn clock(&self) -> Arc<ManualClock> {
        self.shared.clock.clone()
    }

    /// The simulator's current time.
    #[must_use]
    pub fn now(&self) -> OffsetDateTime {
        self.shared.now()
    }

    /// Move the simulator clock forward; open orders past their expiry close.
    pub fn advance(&self, by: Duration) {
        self.shared.clock.advance(by);
        self.shared.store.expire(self.shared.now());
    }

    pub(crate) fn shared(&self) -> &Shared {
        &self.shared
    }

    pub(crate) fn shared_arc(&self) -> Arc<Shared> {
        self.shared.clone()
    }

    pub(crate) fn alipay_sim(&self) -> &crate::alipay::AlipaySim {
        &self.shared.alipay
    }

    /// The fault table.
    #[must_use]
    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// The notification dispatcher (duplicates, holding and reordering).
    #[must_use]
    pub fn notifier(&self) -> &Notifier {
        &self.shared.notifier
    }

    /// Every notification delivery attempt so far.
    #[must_use]
    pub fn notifications(&self) -> Vec<Delivery> {
        self.shared.notifier.deliveries()
    }

    /// Every order, all channels.
    #[must_use]
    pub fn orders(&self) -> Vec<Order> {
        self.shared.store.expire(self.now());
        self.shared.store.orders()
    }

    /// One order by channel and merchant order number (any merchant).
    #[must_use]
    pub fn order(&self, channel: Channel, out_trade_no: &str) -> Option<Order> {
        self.orders()
            .into_iter()
            .find(|o| o.channel == channel && o.out_trade_no == out_trade_no)
    }

    /// Pay an open order as `payer` (a default payer when `None`); sends the payment
    /// notification.
    ///
    /// # Errors
    /// [`MockError`] (`NotFound`, `InvalidTransition`).
    pub fn pay(
        &self,
        channel: Channel,
        out_trade_no: &str,
        payer: Option<&str>,
    ) -> Result<Order, MockError> {
        let pay = PayAs {
            payer: payer.map(str::to_owned),
            ..PayAs::default()
        };
        self.shared.act(channel, out_trade_no, Action::Pay, &pay)
    }

    /// Pay an open order as [`PayAs`] says: a chosen payer and [`crate::Wallet`] (a bank
    /// card, 花呗, the balance), which the channel then reports (WeChat `bank_type`, Alipay
    /// `fund_bill_list`, UnionPay `accNo` and the ZM card type) in queries, notifications
    /// and statements. Sends the payment notification.
    ///
    /// ```no_run
    /// # fn demo(server: &payagg_mock::MockServer) -> Result<(), payagg_mock::MockError> {
    /// use payagg_core::Channel;
    /// use payagg_mock::{PayAs, Wallet};
    /// server.pay_as(Channel::Wechat, "A1", &PayAs::payer("oPayer").with_wallet(Wallet::debit("CMB")))?;
    /// server.pay_as(Channel::Alipay, "B1", &PayAs::wallet(Wallet::Huabei))?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`MockError`] (`NotFound`, `InvalidTransition`; `InvalidInput` for a wallet the
    /// channel does not have, such as 花呗 on WeChat).
    pub fn pay_as(
        &self,
        channel: Channel,
        out_trade_no: &str,
        pay: &PayAs,
    ) -> Result<Order, MockError> {
        self.shared.act(channel, out_trade_no, Action::Pay, pay)
    }

    /// Scan a merchant-presented QR code and pay its order as `payer` (a default payer when
    /// `None`): a WeChat Native `code_url` (`weixin://wxpay/bizpayurl?pr=…`) or an Alipay
    /// precreate `qr_code` (`{base_url}/alipay/qr/{trade_no}`). Sends the payment
    /// notification.
    ///
    /// # Errors
    /// [`MockError`] (`NotFound` when no order has that code, `InvalidTransition` when it is
    /// no longer open).
    pub fn scan(&self, code_url: &str, payer: Option<&str>) -> Result<Order, MockError> {
        let pay = PayAs {
            payer: payer.map(str::to_owned),
            ..PayAs::default()
        };
        self.shared.scan(code_url, &pay)
    }

    /// [`MockServer::scan`] as [`PayAs`] says (payer and wallet).
    ///
    /// # Errors
    /// As [`MockServer::scan`], and `InvalidInput` for a wallet the channel does not have.
    pub fn scan_as(&self, code_url: &str, pay: &PayAs) -> Result<Order, MockError> {
        self.shared.scan(code_url, pay)
    }

    /// Put an unpaid order into "user paying" (password entry).
    ///
    /// # Errors
    /// [`MockError`] (`NotFound`, `InvalidTransition`).
    pub fn user_paying(&self, channel: Channel, out_trade_no: &str) -> Result<Order, MockError> {
        self.shared
            .act(channel, out_trade_no, Action::UserPaying, &PayAs::default())
    }

    /// Fail an open order's payment (WeChat `PAYERROR`).
    ///
    /// # Errors
    /// [`MockError`] (`NotFound`, `InvalidTransition`).
    pub fn fail(&self, channel: Channel, out_trade_no: &str) -> Result<Order, MockError> {
        self.shared
            .act(channel, out_trade_no, Action::Fail, &PayAs::default())
    }

    /// Let an open order expire now (it becomes closed).
    ///
    /// # Errors
    /// [`MockError`] (`NotFound`, `InvalidTransition`).
    pub fn expire(&self, channel: Channel, out_trade_no: &str) -> Result<Order, MockError> {
        self.shared
            .act(channel, out_trade_no, Action::Expire, &PayAs::default())
    }

    /// Limit the WeChat merchant's balance available for refunds to `fen` (`None`, the
    /// default, is unlimited). A refund above it is answered `403 NOT_ENOUGH`.
    pub fn set_wechat_balance(&self, fen: Option<u64>) {
        self.shared.wechat.set_balance(fen);
    }

    /// Inject `kind` into the WeChat trade bill of `date` (a China-time business day), for
    /// reconciliation tests. Several may be injected for one day; they apply in order.
    pub fn inject_bill_discrepancy(&self, date: time::Date, kind: crate::BillDiscrepancy) {
        self.shared.wechat.inject_bill_discrepancy(date, kind);
    }

    /// Remove every injected bill discrepancy.
    pub fn clear_bill_discrepancies(&self) {
        self.shared.wechat.clear_bill_discrepancies();
    }

    /// Rotate the WeChat platform certificate mid-run: a new certificate becomes current
    /// (it signs every response that names no other key, and is listed by
    /// `/v3/certificates`); the previous one still signs when a request names it and stays
    /// listed for `overlap` on the simulator clock. Returns the new serial.
    ///
    /// # Errors
    /// [`MockError`] if key or certificate generation fails.
    pub fn rotate_wechat_platform_certificate(
        &self,
        overlap: Duration,
    ) -> Result<String, MockError> {
        self.shared.wechat.rotate_platform(self.now(), overlap)
    }

    /// The current WeChat platform certificate serial (changes on rotation).
    #[must_use]
    pub fn wechat_platform_serial(&self) -> String {
        self.shared.wechat.platform_serial()
    }

    /// Sign the first delivery attempt of the next `n` WeChat notifications with a
    /// `WECHATPAY/SIGNTEST/…` probe; the retries carry a valid signature. (Response probes:
    /// the [`FaultKind::SignTest`] fault.)
    pub fn probe_wechat_notifications(&self, n: u32) {
        self.shared.wechat.probe_notifications(n);
    }

    /// How WeChat refunds created from now on end: [`RefundStatus::Success`] (the default) at
    /// once, [`RefundStatus::Abnormal`] or [`RefundStatus::Closed`] at once (with
    /// `REFUND.ABNORMAL` / `REFUND.CLOSED`), or [`RefundStatus::Processing`] until
    /// [`MockServer::settle_refund`].
    pub fn set_wechat_refund_outcome(&self, status: RefundStatus) {
        self.shared.wechat.set_refund_outcome(status);
    }

    /// Settle a processing refund as `status` (success, closed or abnormal) and send its
    /// notification.
    ///
    /// # Errors
    /// [`MockError`] (`NotFound`, `InvalidTransition`).
    pub fn settle_refund(
        &self,
        channel: Channel,
        out_refund_no: &str,
        status: RefundStatus,
    ) -> Result<RefundRecord, MockError> {
        match channel {
            Channel::Wechat => {
                self.shared
                    .wechat
                    .settle_refund(&self.shared, out_refund_no, status)
            }
            other => Err(MockError::new(
                MockErrorKind::NotFound,
                format!("no {other} refund {out_refund_no}"),
            )),
        }
    }

    /// The real name of the WeChat payee `openid`: a transfer bill naming anyone else (in
    /// `user_name`) fails with `NAME_NOT_CORRECT`.
    pub fn set_wechat_payee_name(&self, openid: &str, name: &str) {
        self.shared.wechat.set_payee_name(openid, name);
    }

    /// Every WeChat transfer bill.
    #[must_use]
    pub fn transfers(&self) -> Vec<crate::TransferRecord> {
        self.shared.wechat.transfer_records()
    }

    /// The payee confirms a transfer bill waiting for them: it succeeds and
    /// `MCHTRANSFER.BILL.FINISHED` is sent.
    ///
    /// # Errors
    /// [`MockError`] (`NotFound`, `InvalidTransition`).
    pub fn confirm_transfer(&self, out_bill_no: &str) -> Result<crate::TransferRecord, MockError> {
        self.shared.wechat.payee_act(
            &self.shared,
            out_bill_no,
            crate::wechat::PayeeAction::Confirm,
            None,
        )
    }

    /// A transfer bill fails (`reason`, default `PAYEE_ACCOUNT_ABNORMAL`); the money returns
    /// to the balance and `MCHTRANSFER.BILL.FINISHED` is sent.
    ///
    /// # Errors
    /// [`MockError`] (`NotFound`, `InvalidTransition`).
    pub fn fail_transfer(
        &self,
        out_bill_no: &str,
        reason: Option<&str>,
    ) -> Result<crate::TransferRecord, MockError> {
        self.shared.wechat.payee_act(
            &self.shared,
            out_bill_no,
            crate::wechat::PayeeAction::Fail,
            reason,
        )
    }

    /// Revoke an open order (WeChat `REVOKED`).
    ///
    /// # Errors
    /// [`MockError`] (`NotFound`, `InvalidTransition`).
    pub fn revoke(&self, channel: Channel, out_trade_no: &str) -> Result<Order, MockError> {
        self.shared
            .act(channel, out_trade_no, Action::Revoke, &PayAs::default())
    }
}

async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Dropped> {
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return Err(Dropped),
    };
    let pq = parts
        .uri
        .path_and_query()
        .map_or("/", http::uri::PathAndQuery::as_str)
        .to_owned();
    let req = MockRequest {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        target: pq,
        headers: parts.headers,
        body,
    };
    let resp = if req.path.starts_with("/__mock/") || req.path == "/__mock" {
        let resp = control(&shared, &req);
        // Form posts from the payer page come back to it.
        match req.query_param("return") {
            Some(to) if resp.status < 300 => crate::page::redirect(&to).unwrap_or(resp),
            _ => resp,
        }
    } else if req.path == "/" && req.method == http::Method::GET {
        crate::page::payer_page(&shared)
    } else if let Some(endpoint) = crate::unionpay::endpoint(&req) {
        match crate::unionpay::serve(&shared, &req, endpoint).await {
            Some(r) => r,
            None => return Err(Dropped),
        }
    } else if let Some(endpoint) = shared.alipay.endpoint(&req) {
        match crate::alipay::serve(&shared, &req, endpoint).await {
            Some(r) => r,
            None => return Err(Dropped),
        }
    } else if let Some(endpoint) = shared.wechat.endpoint(&req) {
        match shared.faults.check(Channel::Wechat, endpoint) {
            Some(FaultKind::DropConnection) => return Err(Dropped),
            Some(FaultKind::Timeout) => {
                tokio::time::sleep(shared.hang_for).await;
                return Err(Dropped);
            }
            Some(FaultKind::HttpStatus { status }) => {
                let reason = http::StatusCode::from_u16(status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("Error");
                MockResponse::text(
                    status,
                    &format!("<html><body><h1>{status} {reason}</h1></body></html>"),
                )
            }
            Some(FaultKind::SystemError) => shared.wechat.system_error(&req),
            Some(FaultKind::SignTest) => {
                let mut r = shared.wechat.handle(&shared, &req);
                crate::wechat::probe_response(&mut r);
                r
            }
            Some(f) => {
                if let Some(d) = f.latency() {
                    tokio::time::sleep(d).await;
                }
                off_workers(&shared, req, |s, r| s.wechat.handle(s, r)).await?
            }
            None => off_workers(&shared, req, |s, r| s.wechat.handle(s, r)).await?,
        }
    } else {
        MockResponse::json(
            404,
            &serde_json::json!({"code": "NOT_FOUND", "message": "no such endpoint in payagg-mock"}),
        )
    };
    let mut builder = Response::builder().status(resp.status);
    for (k, v) in &resp.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    builder.body(Full::new(resp.body)).map_err(|_| Dropped)
}

/// Runs a channel handler (request verification, the state change and the RSA signature of
/// the answer) on Tokio's blocking pool, so the CPU-bound signing does not hold an async
/// worker that other connections' I/O is waiting for.
async fn off_workers(
    shared: &Arc<Shared>,
    req: MockRequest,
    f: fn(&Shared, &MockRequest) -> MockResponse,
) -> Result<MockResponse, Dropped> {
    let permit = shared
        .signers
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| Dropped)?;
    let s = shared.clone();
    tokio::task::spawn_blocking(move || {
        let r = f(&s, &req);
        drop(permit);
        r
    })
    .await
    .map_err(|_| Dropped)
}

#[derive(Debug, Deserialize, Default)]
struct PayBody {
    #[serde(default)]
    payer: Option<String>,
    #[serde(default)]
    wallet: Option<Wallet>,
}

#[derive(Debug, Deserialize)]
struct ScanBody {
    code_url: String,
    #[serde(default)]
    payer: Option<String>,
    #[serde(default)]
    wallet: Option<Wallet>,
}

fn is_form(req: &MockRequest) -> bool {
    req.header("content-type")
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"))
}

/// The fields of a browser's urlencoded form (the payer page), blank values left out.
fn form_fields(body: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(body)
        .split('&')
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let v = percent_decode(v, true).trim().to_owned();
            (!v.is_empty()).then(|| (percent_decode(k, true), v))
        })
        .collect()
}

fn form_wallet(fields: &[(String, String)]) -> Result<Option<Wallet>, MockResponse> {
    fields
        .iter()
        .find(|(k, _)| k == "wallet")
        .map(|(_, v)| v.parse::<Wallet>())
        .transpose()
        .map_err(|e| bad_request(&e.to_string()))
}

impl PayBody {
    /// JSON, or a browser's urlencoded form (the payer page).
    fn parse(req: &MockRequest) -> Result<Self, MockResponse> {
        if !is_form(req) {
            return parse(&req.body);
        }
        let fields = form_fields(&req.body);
        Ok(Self {
            payer: fields
                .iter()
                .find(|(k, _)| k == "payer")
                .map(|(_, v)| v.clone()),
            wallet: form_wallet(&fields)?,
        })
    }

    fn pay_as(self) -> PayAs {
        PayAs {
            payer: self.payer,
            wallet: self.wallet.unwrap_or_default(),
        }
    }
}

impl ScanBody {
    /// JSON, or a browser's urlencoded form (the payer page).
    fn parse(req: &MockRequest) -> Result<Self, MockResponse> {
        if !is_form(req) {
            return parse_required(&req.body);
        }
        let fields = form_fields(&req.body);
        let get = |name: &str| {
            fields
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        Ok(Self {
            code_url: get("code_url").ok_or_else(|| bad_request("code_url is required"))?,
            payer: get("payer"),
            wallet: form_wallet(&fields)?,
        })
    }
}

#[derive(Debug, Deserialize)]
struct AdvanceBody {
    seconds: i64,
}

#[derive(Debug, Deserialize, Default)]
struct ReleaseBody {
    #[serde(default)]
    reversed: bool,
}

#[derive(Debug, Deserialize, Default)]
struct RotateBody {
    #[serde(default)]
    overlap_seconds: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct ProbeBody {
    notifications: u32,
}

#[derive(Debug, Deserialize)]
struct OutcomeBody {
    status: RefundStatus,
}

fn refund_status(s: &str) -> Option<RefundStatus> {
    Some(match s {
        "success" => RefundStatus::Success,
        "closed" => RefundStatus::Closed,
        "abnormal" => RefundStatus::Abnormal,
        "processing" => RefundStatus::Processing,
        _ => return None,
    })
}

#[derive(Debug, Deserialize)]
struct PayeeBody {
    openid: String,
    name: String,
}

#[derive(Debug, Deserialize, Default)]
struct TransferActBody {
    #[serde(default)]
    reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct DiscrepancyBody {
    date: String,
    kind: crate::BillDiscrepancy,
}

#[derive(Debug, Deserialize)]
struct DuplicatesBody {
    count: u32,
}

fn parse<T: for<'de> Deserialize<'de> + Default>(body: &[u8]) -> Result<T, MockResponse> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| bad_request(&e.to_string()))
}

fn parse_required<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, MockResponse> {
    serde_json::from_slice(body).map_err(|e| bad_request(&e.to_string()))
}

fn bad_request(msg: &str) -> MockResponse {
    MockResponse::json(400, &serde_json::json!({"error": msg}))
}

fn to_json<T: serde::Serialize>(v: &T) -> MockResponse {
    match serde_json::to_value(v) {
        Ok(v) => MockResponse::json(200, &v),
        Err(e) => MockResponse::json(500, &serde_json::json!({"error": e.to_string()})),
    }
}

fn control_error(e: &MockError) -> MockResponse {
    let status = match e.kind() {
        MockErrorKind::NotFound => 404,
        MockErrorKind::InvalidTransition => 409,
        MockErrorKind::InvalidInput => 400,
        _ => 500,
    };
    MockResponse::json(status, &serde_json::json!({"error": e.to_string()}))
}

fn control(shared: &Shared, req: &MockRequest) -> MockResponse {
    match control_inner(shared, req) {
        Ok(r) | Err(r) => r,
    }
}

fn control_inner(shared: &Shared, req: &MockRequest) -> Result<MockResponse, MockResponse> {
    use http::Method;
    let segs: Vec<String> = req
        .path
        .trim_start_matches("/__mock")
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| percent_decode(s, false))
        .collect();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let m = &req.method;
    if let Some(r) = shared.alipay.control(shared, m, &segs, &req.body) {
        return Ok(r);
    }
    Ok(match (m, segs.as_slice()) {
        (&Method::GET, ["health"]) => MockResponse::json(200, &serde_json::json!({"ok": true})),
        (&Method::GET, ["orders"]) => {
            shared.store.expire(shared.now());
            to_json(&shared.store.orders())
        }
        (&Method::POST, ["orders", channel, no, action]) => {
            let channel =
                Channel::from_name(channel).ok_or_else(|| bad_request("unknown channel"))?;
            let action = match *action {
                "pay" => Action::Pay,
                "user-paying" => Action::UserPaying,
                "fail" => Action::Fail,
                "expire" => Action::Expire,
                "revoke" => Action::Revoke,
                _ => {
                    return Err(bad_request(
                        "action must be pay, user-paying, fail, expire or revoke",
                    ));
                }
            };
            let body = PayBody::parse(req)?;
            match shared.act(channel, no, action, &body.pay_as()) {
                Ok(o) => to_json(&o),
                Err(e) => control_error(&e),
            }
        }
        (&Method::POST, ["scan"]) => {
            let body = ScanBody::parse(req)?;
            let pay = PayAs {
                payer: body.payer,
                wallet: body.wallet.unwrap_or_default(),
            };
            match shared.scan(&body.code_url, &pay) {
                Ok(o) => to_json(&o),
                Err(e) => control_error(&e),
            }
        }
        (&Method::GET, ["notifications"]) => to_json(&shared.notifier.deliveries()),
        (&Method::POST, ["notifications", "hold"]) => {
            shared.notifier.hold();
            MockResponse::json(200, &serde_json::json!({"holding": true}))
        }
        (&Method::POST, ["notifications", "release"]) => {
            let body: ReleaseBody = parse(&req.body)?;
            let n = shared.notifier.release(body.reversed);
            MockResponse::json(200, &serde_json::json!({"released": n}))
        }
        (&Method::POST, ["notifications", "duplicates"]) => {
            let body: DuplicatesBody = parse_required(&req.body)?;
            shared.notifier.set_duplicates(body.count);
            MockResponse::json(200, &serde_json::json!({"duplicates": body.count}))
        }
        (&Method::POST, ["faults"]) => {
            let rule: FaultRule = parse_required(&req.body)?;
            shared.faults.add(rule);
            MockResponse::json(
                200,
                &serde_json::json!({"rules": shared.faults.fired().len()}),
            )
        }
        (&Method::GET, ["faults"]) => {
            MockResponse::json(200, &serde_json::json!({"fired": shared.faults.fired()}))
        }
        (&Method::DELETE, ["faults"]) => {
            shared.faults.clear();
            MockResponse::json(200, &serde_json::json!({"rules": 0}))
        }
        (&Method::GET, ["clock"]) => MockResponse::json(
            200,
            &serde_json::json!({"now": crate::wechat::rfc3339(shared.now())}),
        ),
        (&Method::POST, ["clock", "advance"]) => {
            let body: AdvanceBody = parse_required(&req.body)?;
            shared.clock.advance(Duration::seconds(body.seconds));
            shared.store.expire(shared.now());
            MockResponse::json(
                200,
                &serde_json::json!({"now": crate::wechat::rfc3339(shared.now())}),
            )
        }
        (_, ["unionpay", ..] | ["bills", "unionpay", ..]) => {
            shared.unionpay.control(shared, req, segs.as_slice())
        }
        (&Method::GET, ["wechat", "setup"]) => shared.wechat.public_setup(),
        (&Method::POST, ["wechat", "rotate-certificate"]) => {
            let body: RotateBody = parse(&req.body)?;
            let overlap = Duration::seconds(body.overlap_seconds.unwrap_or(3600));
            match shared.wechat.rotate_platform(shared.now(), overlap) {
                Ok(serial) => MockResponse::json(200, &serde_json::json!({"serial": serial})),
                Err(e) => control_error(&e),
            }
        }
        (&Method::POST, ["wechat", "signtest"]) => {
            let body: ProbeBody = parse_required(&req.body)?;
            shared.wechat.probe_notifications(body.notifications);
            MockResponse::json(
                200,
                &serde_json::json!({"notifications": body.notifications}),
            )
        }
        (&Method::POST, ["wechat", "refund-outcome"]) => {
            let body: OutcomeBody = parse_required(&req.body)?;
            shared.wechat.set_refund_outcome(body.status);
            to_json(&serde_json::json!({"status": body.status}))
        }
        (&Method::POST, ["refunds", "wechat", no, status]) => {
            let status = refund_status(status)
                .ok_or_else(|| bad_request("status must be success, closed or abnormal"))?;
            match shared.wechat.settle_refund(shared, no, status) {
                Ok(r) => to_json(&r),
                Err(e) => control_error(&e),
            }
        }
        (&Method::GET, ["transfers"]) => to_json(&shared.wechat.transfer_records()),
        (&Method::POST, ["transfers", "wechat", no, action]) => {
            let action = match *action {
                "confirm" => crate::wechat::PayeeAction::Confirm,
                "fail" => crate::wechat::PayeeAction::Fail,
                _ => return Err(bad_request("action must be confirm or fail")),
            };
            let body: TransferActBody = parse(&req.body)?;
            match shared
                .wechat
                .payee_act(shared, no, action, body.reason.as_deref())
            {
                Ok(r) => to_json(&r),
                Err(e) => control_error(&e),
            }
        }
        (&Method::POST, ["wechat", "payees"]) => {
            let body: PayeeBody = parse_required(&req.body)?;
            shared.wechat.set_payee_name(&body.openid, &body.name);
            MockResponse::json(200, &serde_json::json!({"openid": body.openid}))
        }
        (&Method::POST, ["bills", "wechat", "discrepancies"]) => {
            let body: DiscrepancyBody = parse_required(&req.body)?;
            let date = crate::wechat::parse_date(&body.date)
                .ok_or_else(|| bad_request("date must be YYYY-MM-DD"))?;
            shared.wechat.inject_bill_discrepancy(date, body.kind);
            MockResponse::json(
                200,
                &serde_json::json!({"injected": body.kind, "date": body.date}),
            )
        }
        (&Method::DELETE, ["bills", "wechat", "discrepancies"]) => {
            shared.wechat.clear_bill_discrepancies();
            MockResponse::json(200, &serde_json::json!({"cleared": true}))
        }
        _ => MockResponse::json(
            404,
            &serde_json::json!({"error": "unknown control endpoint; see the payagg-mock crate docs"}),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::percent_decode;

    #[test]
    fn decodes() {
        assert_eq!(percent_decode("A%7CB*C%2A+x", false), "A|B*C*+x");
        assert_eq!(percent_decode("a+b%20c", true), "a b c");
        assert_eq!(percent_decode("bad%zz%", true), "bad%zz%");
    }
}
