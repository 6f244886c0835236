//! The WeChat Pay APIv3 half: request verification, response signing, the order and refund
//! endpoints, platform certificates and encrypted notifications.

mod bill;
mod h5;
mod transfer;
mod v2;

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use bytes::Bytes;
use payagg_core::clock::{CHINA_OFFSET, Clock};
use payagg_core::crypto::{Certificate, RsaPrivateKey};
use payagg_core::{Channel, Currency, Money};
use payagg_wechat::sign::{self, AUTH_SCHEME, AuthorizationHeader, headers};
use payagg_wechat::wire;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::config::{WechatSetup, WechatSigner};
use crate::error::{MockError, MockErrorKind};
use crate::keys::{random_alnum, random_bytes};
use crate::notify::{Outgoing, Signer};
use crate::server::{MockRequest, MockResponse, Shared, percent_decode};
use crate::state::{Order, OrderStatus, RefundRecord, RefundStatus};

pub use bill::BillDiscrepancy;
pub(crate) use bill::parse_date;
pub(crate) use transfer::PayeeAction;
pub use transfer::TransferRecord;

/// WeChat's payment and refund notification retry schedule (brief §5.4), in seconds.
pub(crate) const RETRY_SCHEDULE: &[u64] = &[
    15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600,
];

/// The five-minute window on request timestamps.
const WINDOW_SECS: i64 = 300;

/// RFC 3339 in China time, seconds precision: `2024-05-20T10:00:00+08:00`.
pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    let t = t.to_offset(CHINA_OFFSET);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}+08:00",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn compact(t: OffsetDateTime) -> String {
    let t = t.to_offset(CHINA_OFFSET);
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// A WeChat error answer (never signed).
#[derive(Debug)]
struct WxError {
    status: u16,
    code: &'static str,
    message: String,
    detail: Option<Value>,
}

impl WxError {
    fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            detail: None,
        }
    }

    fn detail(mut self, detail: Value) -> Self {
        self.detail = Some(detail);
        self
    }

    fn param(field: &str, issue: impl Into<String>, location: &str) -> Self {
        let issue = issue.into();
        Self::new(400, "PARAM_ERROR", "参数错误")
            .detail(json!({"field": field, "issue": issue, "location": location}))
    }

    fn sign(message: &str) -> Self {
        Self::new(401, "SIGN_ERROR", message)
    }

    fn into_response(self) -> MockResponse {
        let mut body = json!({"code": self.code, "message": self.message});
        if let (Some(d), Some(obj)) = (self.detail, body.as_object_mut()) {
            obj.insert("detail".into(), d);
        }
        MockResponse::json(self.status, &body)
    }
}

type WxResult = Result<(u16, Option<Value>), WxError>;

/// The WeChat Pay side of the simulator.
#[derive(Debug)]
pub(crate) struct WechatSim {
    setup: WechatSetup,
    base_url: String,
    /// The merchant's balance available for refunds; `None` = unlimited.
    balance: Mutex<Option<u64>>,
    /// The last `Wechatpay-Serial` a request named that the simulator owns: the key the
    /// merchant verifies with, so notifications are signed with it too.
    last_serial: Mutex<Option<String>>,
    /// Issued bill downloads and injected discrepancies.
    bills: Mutex<bill::Bills>,
    /// Platform certificates, oldest first; the last is current.
    platforms: Mutex<Vec<Platform>>,
    /// How many of the next notifications carry a `WECHATPAY/SIGNTEST/` probe signature on
    /// their first attempt.
    probe_notifications: AtomicU32,
    /// How new refunds end.
    refund_outcome: Mutex<RefundStatus>,
    /// Transfer bills and payees' names.
    transfers: Mutex<transfer::Transfers>,
}

/// A platform certificate the simulator signs with.
#[derive(Debug, Clone)]
struct Platform {
    key: RsaPrivateKey,
    cert: Certificate,
    pem: String,
    serial: String,
    /// When a rotated-out certificate stops being used and listed.
    retire_at: Option<OffsetDateTime>,
}

/// A probe signature: `WECHATPAY/SIGNTEST/` and random base64, never a valid signature.
fn probe_signature() -> String {
    format!("WECHATPAY/SIGNTEST/{}", B64.encode(random_bytes::<18>()))
}

/// Replace a signed response's signature with a probe (the `sign_test` fault).
pub(crate) fn probe_response(resp: &mut MockResponse) {
    for (k, v) in &mut resp.headers {
        if k.eq_ignore_ascii_case(headers::SIGNATURE) {
            *v = probe_signature();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The caller identified by a verified `Authorization` header.
struct Caller {
    mchid: String,
}

impl WechatSim {
    pub(crate) fn new(setup: WechatSetup, base_url: String) -> Self {
        let first = Platform {
            key: setup.platform_key().clone(),
            cert: setup.platform_cert().clone(),
            pem: setup.platform_cert_pem().to_owned(),
            serial: setup.platform_serial(),
            retire_at: None,
        };
        Self {
            platforms: Mutex::new(vec![first]),
            probe_notifications: AtomicU32::new(0),
            refund_outcome: Mutex::new(RefundStatus::Success),
            transfers: Mutex::new(transfer::Transfers::default()),
            setup,
            base_url,
            balance: Mutex::new(None),
            last_serial: Mutex::new(None),
            bills: Mutex::new(bill::Bills::default()),
        }
    }

    fn bills(&self) -> std::sync::MutexGuard<'_, bill::Bills> {
        self.bills
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Add a discrepancy to the trade bill of `date` (China time).
    pub(crate) fn inject_bill_discrepancy(&self, date: time::Date, kind: BillDiscrepancy) {
        self.bills().inject(date, kind);
    }

    /// Remove every injected bill discrepancy.
    pub(crate) fn clear_bill_discrepancies(&self) {
        self.bills().clear_discrepancies();
    }

    /// Platform certificates still in use at `now`, oldest first (the last is current).
    fn live_platforms(&self, now: OffsetDateTime) -> Vec<Platform> {
        lock(&self.platforms)
            .iter()
            .filter(|p| p.retire_at.is_none_or(|t| t > now))
            .cloned()
            .collect()
    }

    /// The current platform certificate's serial.
    pub(crate) fn platform_serial(&self) -> String {
        lock(&self.platforms)
            .last()
            .map(|p| p.serial.clone())
            .unwrap_or_default()
    }

    /// Issue a new platform certificate and make it current; the previous ones keep signing
    /// (when asked for by serial) and stay listed for `overlap`. Returns the new serial.
    pub(crate) fn rotate_platform(
        &self,
        now: OffsetDateTime,
        overlap: time::Duration,
    ) -> Result<String, MockError> {
        let key = crate::keys::generate_rsa()?;
        let (pem, cert) = self.setup.issue_platform(&key, now)?;
        let serial = cert.serial_hex_upper();
        let mut ps = lock(&self.platforms);
        for p in ps.iter_mut() {
            if p.retire_at.is_none() {
                p.retire_at = Some(now + overlap);
            }
        }
        ps.push(Platform {
            key: key.key,
            cert,
            pem,
            serial: serial.clone(),
            retire_at: None,
        });
        Ok(serial)
    }

    /// Sign the first attempt of the next `n` notifications with a probe signature.
    pub(crate) fn probe_notifications(&self, n: u32) {
        self.probe_notifications.store(n, Ordering::SeqCst);
    }

    /// How refunds created from now on end (`Success`, the default, settles at once;
    /// `Processing` waits for [`WechatSim::settle_refund`]).
    pub(crate) fn set_refund_outcome(&self, status: RefundStatus) {
        *lock(&self.refund_outcome) = status;
    }

    /// Settle a `PROCESSING` refund as `status` and send its notification.
    pub(crate) fn settle_refund(
        &self,
        shared: &Shared,
        out_refund_no: &str,
        status: RefundStatus,
    ) -> Result<RefundRecord, MockError> {
        let now = shared.now();
        let (order, record) = shared.store.with(now, |book| {
            let o = book.find_refund_any(Channel::Wechat, out_refund_no)?;
            let r = o
                .refunds
                .iter_mut()
                .find(|r| r.out_refund_no == out_refund_no)
                .ok_or_else(|| MockError::new(MockErrorKind::NotFound, "no such refund"))?;
            if r.status != RefundStatus::Processing || status == RefundStatus::Processing {
                return Err(MockError::new(
                    MockErrorKind::InvalidTransition,
                    format!(
                        "cannot settle refund {out_refund_no} in state {:?} as {status:?}",
                        r.status
                    ),
                ));
            }
            r.status = status;
            r.success_at = (status == RefundStatus::Success).then_some(now);
            let r = r.clone();
            Ok((o.clone(), r))
        })?;
        if status != RefundStatus::Success
            && let Some(b) = lock(&self.balance).as_mut()
        {
            *b += order_fen(&record);
        }
        if let Some(o) = self.refund_notification(shared, &order, &record) {
            shared.notifier.dispatch(o);
        }
        Ok(record)
    }

    pub(crate) fn set_balance(&self, fen: Option<u64>) {
        *self
            .balance
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = fen;
    }

    /// The endpoint name used by fault rules, or `None` when the request is not WeChat's.
    pub(crate) fn endpoint(&self, req: &MockRequest) -> Option<&'static str> {
        let p = req.path.as_str();
        match p {
            "/pay/micropay" => return Some("wechat.micropay"),
            "/pay/orderquery" => return Some("wechat.orderquery"),
            "/secapi/pay/reverse" => return Some("wechat.reverse"),
            h5::H5_PATH => return Some("wechat.h5"),
            _ if !p.starts_with("/v3/") => return None,
            _ => {}
        }
        let p = p
            .strip_prefix("/v3/pay/partner/transactions")
            .or_else(|| p.strip_prefix("/v3/pay/transactions"));
        Some(match (req.method.as_str(), p) {
            ("POST", Some(rest)) if rest.ends_with("/close") => "wechat.close",
            ("POST", Some(_)) => "wechat.prepay",
            ("GET", Some(_)) => "wechat.query",
            _ if req.path == "/v3/refund/domestic/refunds" => "wechat.refund",
            _ if req.path.starts_with("/v3/refund/domestic/refunds/") => "wechat.refund_query",
            _ if req.path == "/v3/certificates" => "wechat.certificates",
            _ if req.path.starts_with("/v3/bill/") => "wechat.bill",
            ("POST", _) if req.path == "/v3/fund-app/mch-transfer/transfer-bills" => {
                "wechat.transfer"
            }
            ("POST", _) if req.path.starts_with("/v3/fund-app/mch-transfer/") => {
                "wechat.transfer_cancel"
            }
            ("GET", _) if req.path.starts_with("/v3/fund-app/mch-transfer/") => {
                "wechat.transfer_query"
            }
            _ if req.path == "/v3/billdownload/file" => "wechat.bill_download",
            _ => "wechat.other",
        })
    }

    /// HTTP 500 `SYSTEM_ERROR`: the fault injector's business error.
    pub(crate) fn system_error(&self, req: &MockRequest) -> MockResponse {
        if req.path == h5::H5_PATH {
            return h5::busy();
        }
        if !req.path.starts_with("/v3/") {
            return v2::return_fail("系统繁忙，请稍后再试");
        }
        WxError::new(500, "SYSTEM_ERROR", "系统异常，请稍后重试").into_response()
    }

    /// What a client needs to talk to the simulator (public parts only).
    pub(crate) fn public_setup(&self) -> MockResponse {
        let s = &self.setup;
        MockResponse::json(
            200,
            &json!({
                "base_url": self.base_url,
                "mchid": s.mchid(),
                "appid": s.appid(),
                "merchant_serial": s.merchant_serial(),
                "platform_serial": self.platform_serial(),
                "platform_certificate": lock(&self.platforms).last().map(|p| p.pem.clone()),
                "public_key_id": s.pub_key_id(),
                "public_key": s.pub_key_pem(),
            }),
        )
    }

    /// Verify, route and sign one APIv3 request.
    pub(crate) fn handle(&self, shared: &Shared, req: &MockRequest) -> MockResponse {
        if req.path == h5::H5_PATH {
            return self.h5_page(shared, req);
        }
        if !req.path.starts_with("/v3/") {
            return self.handle_v2(shared, req);
        }
        let now = shared.now();
        if req.path == "/v3/billdownload/file" && req.method == http::Method::GET {
            // A signed request; the file itself is not signed.
            return match self.authenticate(req, now) {
                Ok(_) => self.download(req, now),
                Err(e) => e.into_response(),
            };
        }
        let result = self
            .authenticate(req, now)
            .and_then(|caller| self.route(shared, req, &caller, now));
        match result {
            Ok((status, body)) => {
                self.note_serial(req.header(headers::SERIAL), now);
                let body = body.map(|v| Bytes::from(v.to_string())).unwrap_or_default();
                let mut headers = self.sign_headers(req.header(headers::SERIAL), now, &body);
                if !body.is_empty() {
                    headers.push((
                        "Content-Type".into(),
                        "application/json; charset=utf-8".into(),
                    ));
                }
                MockResponse {
                    status,
                    headers,
                    body,
                }
            }
            Err(e) => e.into_response(),
        }
    }

    /// Which key signs: the one the request's `Wechatpay-Serial` names if the simulator owns
    /// it, else the configured default.
    fn signer_for(&self, requested: Option<&str>, now: OffsetDateTime) -> (RsaPrivateKey, String) {
        let s = &self.setup;
        let public = || (s.pub_key_private().clone(), s.pub_key_id().to_owned());
        if !s.platform_certificates || requested == Some(s.pub_key_id()) {
            return public();
        }
        let live = self.live_platforms(now);
        if let Some(p) =
            requested.and_then(|r| live.iter().find(|p| p.serial.eq_ignore_ascii_case(r)))
        {
            return (p.key.clone(), p.serial.clone());
        }
        match (s.default_signer, live.last()) {
            (WechatSigner::PlatformCertificate, Some(p)) => (p.key.clone(), p.serial.clone()),
            _ => public(),
        }
    }

    /// Remember the key a request asked for, if it is one of ours.
    fn note_serial(&self, requested: Option<&str>, now: OffsetDateTime) {
        let Some(r) = requested else { return };
        let ours = self
            .live_platforms(now)
            .iter()
            .any(|p| p.serial.eq_ignore_ascii_case(r));
        if r == self.setup.pub_key_id() || ours {
            *self
                .last_serial
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(r.to_owned());
        }
    }

    fn sign_headers(
        &self,
        requested: Option<&str>,
        now: OffsetDateTime,
        body: &[u8],
    ) -> Vec<(String, String)> {
        let (key, serial) = self.signer_for(requested, now);
        signed_headers(&key, &serial, now, body)
    }

    fn authenticate(&self, req: &MockRequest, now: OffsetDateTime) -> Result<Caller, WxError> {
        if req.header("accept").is_none_or(str::is_empty)
            || req.header("user-agent").is_none_or(str::is_empty)
        {
            return Err(WxError::new(
                400,
                "INVALID_REQUEST",
                "Http头缺少Accept或User-Agent",
            ));
        }
        let Some(value) = req.header("authorization") else {
            return Err(WxError::sign("Http头缺少Authorization"));
        };
        if !value.starts_with(AUTH_SCHEME) {
            return Err(WxError::sign(
                "错误的签名方案，请使用WECHATPAY2-SHA256-RSA2048",
            ));
        }
        let auth = AuthorizationHeader::parse(value).map_err(|e| {
            WxError::sign("Http头Authorization值格式错误，请参考《微信支付商户REST API签名规则》")
                .detail(
                    json!({"field": "authorization", "issue": e.reason(), "location": "header"}),
                )
        })?;
        if auth.mchid != self.setup.mchid() {
            return Err(WxError::new(400, "MCH_NOT_EXISTS", "商户号不存在"));
        }
        if !auth
            .serial_no
            .eq_ignore_ascii_case(&self.setup.merchant_serial())
        {
            return Err(WxError::sign(
                "商户证书序列号有误。请使用签名私钥匹配的证书序列号",
            ));
        }
        let ts: i64 = auth
            .timestamp
            .parse()
            .ok()
            .filter(|_| {
                auth.timestamp.len() <= 10 && auth.timestamp.bytes().all(|b| b.is_ascii_digit())
            })
            .ok_or_else(|| WxError::sign("Http头Authorization中的timestamp格式错误"))?;
        if (now.unix_timestamp() - ts).abs() > WINDOW_SECS {
            return Err(WxError::sign(
                "Http头Authorization中的timestamp与发起请求的时间不得超过5分钟",
            ));
        }
        let method = req.method.as_str();
        if auth
            .verify(self.setup.merchant_public(), method, &req.target, &req.body)
            .is_err()
        {
            let message = sign::request_message(
                method,
                &req.target,
                &auth.timestamp,
                &auth.nonce_str,
                &req.body,
            );
            let text = String::from_utf8_lossy(&message);
            let truncated: String = text.chars().take(128).collect();
            return Err(WxError::sign("错误的签名，验签失败").detail(json!({
                "detail": {"issue": "sign not match"},
                "field": "signature",
                "location": "authorization",
                "sign_information": {
                    "method": method,
                    "sign_message_length": message.len(),
                    "truncated_sign_message": truncated,
                    "url": req.target,
                },
            })));
        }
        Ok(Caller { mchid: auth.mchid })
    }

    fn route(
        &self,
        shared: &Shared,
        req: &MockRequest,
        caller: &Caller,
        now: OffsetDateTime,
    ) -> WxResult {
        let path = req.path.as_str();
        let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        let get = req.method == http::Method::GET;
        let post = req.method == http::Method::POST;
        match segs.as_slice() {
            ["v3", "pay", "transactions", kind] if post => {
                self.prepay(shared, req, caller, kind, false, now)
            }
            ["v3", "pay", "partner", "transactions", kind] if post => {
                self.prepay(shared, req, caller, kind, true, now)
            }
            [
                "v3",
                "pay",
                "transactions",
                by @ ("out-trade-no" | "id"),
                no,
            ] if get => self.query(shared, req, caller, by, no, false, now),
            [
                "v3",
                "pay",
                "partner",
                "transactions",
                by @ ("out-trade-no" | "id"),
                no,
            ] if get => self.query(shared, req, caller, by, no, true, now),
            ["v3", "pay", "transactions", "out-trade-no", no, "close"] if post => {
                self.close(shared, req, caller, no, false, now)
            }
            [
                "v3",
                "pay",
                "partner",
                "transactions",
                "out-trade-no",
                no,
                "close",
            ] if post => self.close(shared, req, caller, no, true, now),
            ["v3", "refund", "domestic", "refunds"] if post => {
                self.refund(shared, req, caller, now)
            }
            ["v3", "refund", "domestic", "refunds", no] if get => {
                self.refund_query(shared, req, caller, no, now)
            }
            ["v3", "bill", "tradebill"] if get => self.trade_bill(shared, req, caller, now),
            ["v3", "fund-app", "mch-transfer", "transfer-bills"] if post => {
                self.transfer_create(shared, req, caller, now)
            }
            [
                "v3",
                "fund-app",
                "mch-transfer",
                "transfer-bills",
                by @ ("out-bill-no" | "transfer-bill-no"),
                no,
            ] if get => self.transfer_query(caller, by, no),
            [
                "v3",
                "fund-app",
                "mch-transfer",
                "transfer-bills",
                "out-bill-no",
                no,
                "cancel",
            ] if post => self.transfer_cancel(shared, caller, no, now),
            ["v3", "bill", "fundflowbill"] if get => self.fund_flow_bill(shared, req, caller, now),
            ["v3", "certificates"] if get && !self.setup.platform_certificates => {
                Err(WxError::new(
                    404,
                    "RESOURCE_NOT_EXISTS",
                    "无可用的平台证书，请在商户平台-API安全申请使用微信支付公钥。可查看指引https://pay.weixin.qq.com/docs/merchant/products/platform-certificate/wxp-pub-key-guide.html",
                ))
            }
            ["v3", "certificates"] if get => Ok((200, Some(self.certificates(now)))),
            _ if segs.first() == Some(&"v3") && (get || post) => Err(WxError::new(
                404,
                "NOT_FOUND",
                "请求的资源不存在（payagg-mock 未实现该接口）",
            )),
            _ => Err(WxError::new(405, "METHOD_NOT_ALLOWED", "不支持的请求方法")),
        }
    }

    fn merchant_key(
        &self,
        caller: &Caller,
        partner: bool,
        sub_mchid: Option<&str>,
    ) -> Result<String, WxError> {
        if partner {
            let sub = sub_mchid
                .filter(|s| !s.is_empty())
                .ok_or_else(|| WxError::param("sub_mchid", "sub_mchid为必填参数", "body"))?;
            Ok(format!("{}/{}", caller.mchid, sub))
        } else {
            Ok(caller.mchid.clone())
        }
    }

    #[allow(clippy::too_many_lines)]
    fn prepay(
        &self,
        shared: &Shared,
        req: &MockRequest,
        caller: &Caller,
        kind: &str,
        partner: bool,
        now: OffsetDateTime,
    ) -> WxResult {
        let trade_type = match kind {
            "jsapi" => "JSAPI",
            "native" => "NATIVE",
            "app" => "APP",
            "h5" => "MWEB",
            _ => return Err(WxError::new(404, "NOT_FOUND", "请求的资源不存在")),
        };
        let body: wire::PrepayRequest = serde_json::from_slice(&req.body)
            .map_err(|e| WxError::param("/", format!("请求体无法解析: {e}"), "body"))?;
        let (appid, mchid_field) = if partner {
            (body.sp_appid.as_deref(), body.sp_mchid.as_deref())
        } else {
            (body.appid.as_deref(), body.mchid.as_deref())
        };
        let (appid_name, mchid_name) = if partner {
            ("/sp_appid", "/sp_mchid")
        } else {
            ("/appid", "/mchid")
        };
        let appid = appid.ok_or_else(|| WxError::param(appid_name, "缺少必填参数", "body"))?;
        let mchid =
            mchid_field.ok_or_else(|| WxError::param(mchid_name, "缺少必填参数", "body"))?;
        if mchid != caller.mchid {
            return Err(WxError::new(
                400,
                "INVALID_REQUEST",
                "请求中的商户号与Authorization中的mchid不一致",
            ));
        }
        if appid != self.setup.appid() {
            return Err(WxError::new(
                400,
                "APPID_MCHID_NOT_MATCH",
                "AppID和mch_id不匹配",
            ));
        }
        let merchant = self.merchant_key(caller, partner, body.sub_mchid.as_deref())?;
        if body.description.is_empty() || body.description.chars().count() > 127 {
            return Err(WxError::param(
                "/description",
                "长度应为1到127个字符",
                "body",
            ));
        }
        let no = &body.out_trade_no;
        if !(6..=32).contains(&no.len())
            || !no
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_-*|".contains(&b))
        {
            return Err(WxError::param(
                "/out_trade_no",
                "长度6到32，只能是数字、大小写字母_-*|",
                "body",
            ));
        }
        if !(body.notify_url.starts_with("https://") || body.notify_url.starts_with("http://"))
            || body.notify_url.contains('?')
        {
            return Err(WxError::param(
                "/notify_url",
                "notify_url格式不正确：需为不带参数的http(s)地址",
                "body",
            ));
        }
        let total = u64::try_from(body.amount.total)
            .ok()
            .filter(|t| *t > 0)
            .ok_or_else(|| WxError::param("/amount/total", "金额必须大于0", "body"))?;
        if body.amount.currency.as_deref().is_some_and(|c| c != "CNY") {
            return Err(WxError::param(
                "/amount/currency",
                "Currency code is invalid",
                "body",
            ));
        }
        let payer_id = body.payer.as_ref().and_then(|p| {
            p.openid
                .clone()
                .or_else(|| p.sp_openid.clone())
                .or_else(|| p.sub_openid.clone())
        });
        if trade_type == "JSAPI" && payer_id.is_none() {
            return Err(WxError::param(
                if partner {
                    "/payer/sp_openid"
                } else {
                    "/payer/openid"
                },
                "JSAPI下单必须传openid",
                "body",
            ));
        }
        if trade_type == "MWEB"
            && body
                .scene_info
                .as_ref()
                .and_then(|s| s.h5_info.as_ref())
                .is_none()
        {
            return Err(WxError::param(
                "/scene_info/h5_info",
                "H5下单必须传h5_info",
                "body",
            ));
        }
        let expire_at = match &body.time_expire {
            Some(t) => OffsetDateTime::parse(t, &Rfc3339)
                .map_err(|_| WxError::param("/time_expire", "时间格式不正确", "body"))?,
            None => now + time::Duration::hours(2),
        };
        let amount = Money::from_minor(total, Currency::Cny);
        let fingerprint = format!(
            "{trade_type}|{appid}|{}|{total}|{:?}",
            body.description, body.sub_appid
        );
        let created = shared.store.with(now, |book| -> Result<Value, WxError> {
            if let Some(o) = book.get_mut(Channel::Wechat, &merchant, no) {
                if o.paid_at.is_some() {
                    return Err(WxError::new(400, "INVALID_REQUEST", "该订单已支付"));
                }
                if !o.status.is_open() {
                    return Err(WxError::new(400, "ORDER_CLOSED", "订单已关闭"));
                }
                if o.fingerprint != fingerprint {
                    return Err(WxError::new(403, "OUT_TRADE_NO_USED", "商户订单号重复"));
                }
                return Ok(o.prepay.clone());
            }
            let seq = shared.store.next_seq();
            let prepay_id = format!("wx{}{}", compact(now), random_alnum(20).to_ascii_lowercase());
            let prepay = match trade_type {
                "NATIVE" => json!({"code_url": format!("weixin://wxpay/bizpayurl?pr={}", random_alnum(7))}),
                "MWEB" => json!({"h5_url": self.h5_url(&prepay_id, &crate::keys::random_digits(10))}),
                _ => json!({"prepay_id": prepay_id}),
            };
            let d = now.to_offset(CHINA_OFFSET);
            let transaction_id = format!("4200{:04}{:02}{:02}{:016}", d.year(), u8::from(d.month()), d.day(), seq);
            let extra = if partner {
                json!({"sp_appid": appid, "sp_mchid": mchid, "sub_mchid": body.sub_mchid, "sub_appid": body.sub_appid})
            } else {
                json!({"appid": appid, "mchid": mchid})
            };
            book.insert(Order {
                channel: Channel::Wechat,
                merchant: merchant.clone(),
                out_trade_no: no.clone(),
                transaction_id,
                amount,
                status: OrderStatus::NotPaid,
                trade_type: trade_type.to_owned(),
                description: body.description.clone(),
                notify_url: Some(body.notify_url.clone()),
                attach: body.attach.clone(),
                created_at: now,
                expire_at,
                paid_at: None,
                payer: payer_id,
                prepay: prepay.clone(),
                extra,
                refunds: Vec::new(),
                fingerprint,
                auto_pay_at: None,
                reverse_recalls: 0,
                wallet: crate::Wallet::Balance,
            });
            Ok(prepay)
        })?;
        Ok((200, Some(created)))
    }

    fn query_merchant(
        &self,
        req: &MockRequest,
        caller: &Caller,
        partner: bool,
    ) -> Result<String, WxError> {
        if partner {
            let sp = req
                .query_param("sp_mchid")
                .ok_or_else(|| WxError::param("sp_mchid", "sp_mchid为必填参数", "query"))?;
            if sp != caller.mchid {
                return Err(WxError::new(
                    400,
                    "INVALID_REQUEST",
                    "sp_mchid与Authorization中的mchid不一致",
                ));
            }
            self.merchant_key(caller, true, req.query_param("sub_mchid").as_deref())
        } else {
            let m = req
                .query_param("mchid")
                .ok_or_else(|| WxError::param("mchid", "mchid为必填参数", "query"))?;
            if m != caller.mchid {
                return Err(WxError::new(
                    400,
                    "INVALID_REQUEST",
                    "mchid与Authorization中的mchid不一致",
                ));
            }
            Ok(m)
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn query(
        &self,
        shared: &Shared,
        req: &MockRequest,
        caller: &Caller,
        by: &str,
        no: &str,
        partner: bool,
        now: OffsetDateTime,
    ) -> WxResult {
        let merchant = self.query_merchant(req, caller, partner)?;
        let no = percent_decode(no, false);
        shared.store.with(now, |book| {
            let order = if by == "id" {
                book.by_transaction_id(Channel::Wechat, &merchant, &no)
                    .filter(|o| o.paid_at.is_some())
            } else {
                book.get_mut(Channel::Wechat, &merchant, &no)
            };
            let order = order.ok_or_else(|| WxError::new(404, "ORDER_NOT_EXIST", "订单不存在"))?;
            Ok((200, Some(to_value(&transaction(order))?)))
        })
    }

    fn close(
        &self,
        shared: &Shared,
        req: &MockRequest,
        caller: &Caller,
        no: &str,
        partner: bool,
        now: OffsetDateTime,
    ) -> WxResult {
        let body: wire::CloseRequest = serde_json::from_slice(&req.body)
            .map_err(|e| WxError::param("/", format!("请求体无法解析: {e}"), "body"))?;
        let mchid = if partner {
            body.sp_mchid.as_deref()
        } else {
            body.mchid.as_deref()
        };
        if mchid != Some(caller.mchid.as_str()) {
            return Err(WxError::param(
                if partner { "/sp_mchid" } else { "/mchid" },
                "商户号缺失或与Authorization中的mchid不一致",
                "body",
            ));
        }
        let merchant = self.merchant_key(caller, partner, body.sub_mchid.as_deref())?;
        let no = percent_decode(no, false);
        shared.store.with(now, |book| {
            let o = book
                .get_mut(Channel::Wechat, &merchant, &no)
                .ok_or_else(|| WxError::new(404, "ORDER_NOT_EXIST", "订单不存在"))?;
            if o.paid_at.is_some() {
                return Err(WxError::new(400, "INVALID_REQUEST", "订单已支付，不能关闭"));
            }
            if o.status.is_open() {
                o.status = OrderStatus::Closed;
            }
            Ok((204, None))
        })
    }

    #[allow(clippy::too_many_lines)]
    fn refund(
        &self,
        shared: &Shared,
        req: &MockRequest,
        caller: &Caller,
        now: OffsetDateTime,
    ) -> WxResult {
        let body: wire::RefundCreateRequest = serde_json::from_slice(&req.body)
            .map_err(|e| WxError::param("/", format!("请求体无法解析: {e}"), "body"))?;
        let merchant = match body.sub_mchid.as_deref() {
            Some(sub) => format!("{}/{sub}", caller.mchid),
            None => caller.mchid.clone(),
        };
        let no = &body.out_refund_no;
        if no.is_empty()
            || no.len() > 64
            || !no
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_-|*@".contains(&b))
        {
            return Err(WxError::param(
                "/out_refund_no",
                "长度1到64，只能是数字、大小写字母_-|*@",
                "body",
            ));
        }
        if body.amount.currency != "CNY" {
            return Err(WxError::param(
                "/amount/currency",
                "Currency code is invalid",
                "body",
            ));
        }
        let refund_fen = u64::try_from(body.amount.refund)
            .ok()
            .filter(|r| *r > 0)
            .ok_or_else(|| WxError::param("/amount/refund", "退款金额必须大于0", "body"))?;
        let total_fen = u64::try_from(body.amount.total)
            .map_err(|_| WxError::param("/amount/total", "订单金额不正确", "body"))?;
        let refund_amount = Money::from_minor(refund_fen, Currency::Cny);
        let balance = &self.balance;
        let (value, notification) = shared.store.with(
            now,
            |book| -> Result<(Value, Option<(Order, RefundRecord)>), WxError> {
                if let Some(o) = book.by_out_refund_no(Channel::Wechat, &merchant, no) {
                    let same_order = body
                        .out_trade_no
                        .as_deref()
                        .is_none_or(|t| t == o.out_trade_no)
                        && body
                            .transaction_id
                            .as_deref()
                            .is_none_or(|t| t == o.transaction_id);
                    let r = o.refunds.iter().find(|r| &r.out_refund_no == no).cloned();
                    return match r {
                        Some(r) if same_order && r.amount == refund_amount => {
                            Ok((to_value(&refund_response(o, &r, now))?, None))
                        }
                        _ => Err(WxError::new(
                            400,
                            "INVALID_REQUEST",
                            "退款单号已存在，但请求参数与原退款不一致",
                        )),
                    };
                }
                let order = match (&body.out_trade_no, &body.transaction_id) {
                    (Some(t), _) => book.get_mut(Channel::Wechat, &merchant, t),
                    (None, Some(id)) => book.by_transaction_id(Channel::Wechat, &merchant, id),
                    (None, None) => {
                        return Err(WxError::param(
                            "/out_trade_no",
                            "out_trade_no和transaction_id必须二选一",
                            "body",
                        ));
                    }
                };
                let order = order.filter(|o| o.paid_at.is_some()).ok_or_else(|| {
                    WxError::new(404, "RESOURCE_NOT_EXISTS", "订单不存在或未支付")
                })?;
                if total_fen != order.amount.minor_units() {
                    return Err(WxError::param(
                        "/amount/total",
                        "订单金额与原订单不一致",
                        "body",
                    ));
                }
                Money::check_refundable(order.amount, order.refunded(), refund_amount).map_err(
                    |_| WxError::new(400, "INVALID_REQUEST", "申请退款金额超过订单可退金额"),
                )?;
                if order.refunds.len() >= 50 {
                    return Err(WxError::new(403, "RULE_LIMIT", "同一笔订单最多退款50次"));
                }
                {
                    let mut bal = balance
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    if let Some(b) = bal.as_mut() {
                        if *b < refund_fen {
                            return Err(WxError::new(
                                403,
                                "NOT_ENOUGH",
                                "基本账户余额不足，请充值后重新发起",
                            ));
                        }
                        *b -= refund_fen;
                    }
                }
                let outcome = *lock(&self.refund_outcome);
                if matches!(outcome, RefundStatus::Closed | RefundStatus::Abnormal)
                    && let Some(b) = lock(balance).as_mut()
                {
                    // The money never left the merchant's balance.
                    *b += refund_fen;
                }
                let d = now.to_offset(CHINA_OFFSET);
                let seq = shared.store.next_seq();
                let record = RefundRecord {
                    out_refund_no: no.clone(),
                    refund_id: format!(
                        "503{:04}{:02}{:02}{:018}",
                        d.year(),
                        u8::from(d.month()),
                        d.day(),
                        seq
                    ),
                    amount: refund_amount,
                    status: outcome,
                    created_at: now,
                    success_at: (outcome == RefundStatus::Success).then_some(now),
                    notify_url: body.notify_url.clone().or_else(|| order.notify_url.clone()),
                    reason: body.reason.clone(),
                };
                order.refunds.push(record.clone());
                // The create answer reports PROCESSING; the refund settles at once.
                let mut processing = record.clone();
                processing.status = RefundStatus::Processing;
                processing.success_at = None;
                let value = to_value(&refund_response(order, &processing, now))?;
                let notify = (outcome != RefundStatus::Processing).then(|| (order.clone(), record));
                Ok((value, notify))
            },
        )?;
        if let Some(o) = notification
            .and_then(|(order, record)| self.refund_notification(shared, &order, &record))
        {
            shared.notifier.dispatch(o);
        }
        Ok((200, Some(value)))
    }

    fn refund_query(
        &self,
        shared: &Shared,
        req: &MockRequest,
        caller: &Caller,
        no: &str,
        now: OffsetDateTime,
    ) -> WxResult {
        let merchant = match req.query_param("sub_mchid") {
            Some(sub) => format!("{}/{sub}", caller.mchid),
            None => caller.mchid.clone(),
        };
        let no = percent_decode(no, false);
        shared.store.with(now, |book| {
            let o = book
                .by_out_refund_no(Channel::Wechat, &merchant, &no)
                .ok_or_else(|| WxError::new(404, "RESOURCE_NOT_EXISTS", "退款单不存在"))?;
            let r = o
                .refunds
                .iter()
                .find(|r| r.out_refund_no == no)
                .ok_or_else(|| WxError::new(404, "RESOURCE_NOT_EXISTS", "退款单不存在"))?;
            Ok((200, Some(to_value(&refund_response(o, r, now))?)))
        })
    }

    fn certificates(&self, now: OffsetDateTime) -> Value {
        let data = self
            .live_platforms(now)
            .into_iter()
            .map(|p| {
                let (nonce, ciphertext) = encrypt(&self.setup, "certificate", p.pem.as_bytes());
                wire::CertificateItem {
                    serial_no: p.serial.clone(),
                    effective_time: rfc3339(p.cert.not_before()),
                    expire_time: rfc3339(p.cert.not_after()),
                    encrypt_certificate: wire::EncryptedResource {
                        original_type: None,
                        algorithm: "AEAD_AES_256_GCM".into(),
                        ciphertext,
                        associated_data: "certificate".into(),
                        nonce,
                    },
                }
            })
            .collect();
        serde_json::to_value(wire::CertificatesResponse { data }).unwrap_or(Value::Null)
    }

    fn notification(
        &self,
        shared: &Shared,
        url: &str,
        event_type: &str,
        summary: &str,
        original_type: &str,
        plaintext: &[u8],
    ) -> Outgoing {
        let now = shared.now();
        let (nonce, ciphertext) = encrypt(&self.setup, original_type, plaintext);
        let b = random_bytes::<16>();
        let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
        let id = format!(
            "{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        );
        let envelope = wire::NotifyEnvelope {
            id: id.clone(),
            create_time: rfc3339(now),
            resource_type: "encrypt-resource".into(),
            event_type: event_type.into(),
            summary: summary.into(),
            resource: wire::EncryptedResource {
                original_type: Some(original_type.into()),
                algorithm: "AEAD_AES_256_GCM".into(),
                ciphertext,
                associated_data: original_type.into(),
                nonce,
            },
        };
        let body = Bytes::from(serde_json::to_string(&envelope).unwrap_or_default());
        let last = self
            .last_serial
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let (key, serial) = self.signer_for(last.as_deref(), now);
        let clock = shared.clock.clone();
        let probe = Arc::new(AtomicBool::new(
            self.probe_notifications
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok(),
        ));
        let signer: Signer = Arc::new(move |body: &[u8]| {
            let mut h = signed_headers(&key, &serial, clock.now(), body);
            if probe.swap(false, Ordering::SeqCst) {
                for (k, v) in &mut h {
                    if k == headers::SIGNATURE {
                        *v = probe_signature();
                    }
                }
            }
            h.push(("Content-Type".into(), "application/json".into()));
            h
        });
        Outgoing {
            channel: Channel::Wechat,
            event_id: id,
            event_type: event_type.into(),
            url: url.to_owned(),
            body,
            signer,
            schedule: RETRY_SCHEDULE,
            ack: |status, _| status == 200 || status == 204,
        }
    }

    /// `TRANSACTION.SUCCESS` for a paid order.
    pub(crate) fn payment_notification(&self, shared: &Shared, order: &Order) -> Option<Outgoing> {
        let url = order.notify_url.as_deref()?;
        let plaintext = serde_json::to_vec(&transaction(order)).ok()?;
        Some(self.notification(
            shared,
            url,
            "TRANSACTION.SUCCESS",
            "支付成功",
            "transaction",
            &plaintext,
        ))
    }

    fn refund_notification(
        &self,
        shared: &Shared,
        order: &Order,
        r: &RefundRecord,
    ) -> Option<Outgoing> {
        let url = r.notify_url.as_deref()?;
        let partner = order.merchant.contains('/');
        let total = i64::try_from(order.amount.minor_units()).ok()?;
        let refund = i64::try_from(r.amount.minor_units()).ok()?;
        let n = wire::RefundNotification {
            mchid: (!partner).then(|| order.merchant.clone()),
            sp_mchid: order
                .extra
                .get("sp_mchid")
                .and_then(Value::as_str)
                .map(str::to_owned),
            sub_mchid: order
                .extra
                .get("sub_mchid")
                .and_then(Value::as_str)
                .map(str::to_owned),
            out_trade_no: Some(order.out_trade_no.clone()),
            transaction_id: Some(order.transaction_id.clone()),
            out_refund_no: r.out_refund_no.clone(),
            refund_id: Some(r.refund_id.clone()),
            refund_status: refund_status(r.status).into(),
            success_time: r.success_at.map(rfc3339),
            user_received_account: Some("支付用户零钱".into()),
            amount: wire::RefundAmount {
                total,
                refund,
                payer_total: Some(total),
                payer_refund: Some(refund),
                ..Default::default()
            },
        };
        let plaintext = serde_json::to_vec(&n).ok()?;
        let summary = match r.status {
            RefundStatus::Success => "退款成功",
            RefundStatus::Closed => "退款关闭",
            _ => "退款异常",
        };
        let event = match r.status {
            RefundStatus::Success => "REFUND.SUCCESS",
            RefundStatus::Closed => "REFUND.CLOSED",
            _ => "REFUND.ABNORMAL",
        };
        Some(self.notification(shared, url, event, summary, "refund", &plaintext))
    }
}

fn order_fen(r: &RefundRecord) -> u64 {
    r.amount.minor_units()
}

fn to_value<T: serde::Serialize>(v: &T) -> Result<Value, WxError> {
    serde_json::to_value(v).map_err(|_| WxError::new(500, "SYSTEM_ERROR", "系统异常，请稍后重试"))
}

/// The `Wechatpay-*` headers of a signed response or notification.
fn signed_headers(
    key: &RsaPrivateKey,
    serial: &str,
    now: OffsetDateTime,
    body: &[u8],
) -> Vec<(String, String)> {
    let timestamp = now.unix_timestamp().to_string();
    let nonce: String = random_bytes::<16>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let signature = sign::sign_response(key, &timestamp, &nonce, body);
    let request_id: String = random_bytes::<20>()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    vec![
        (headers::REQUEST_ID.into(), format!("{request_id}-0")),
        (headers::NONCE.into(), nonce),
        (headers::SIGNATURE.into(), signature),
        (headers::TIMESTAMP.into(), timestamp),
        (headers::SERIAL.into(), serial.to_owned()),
        (headers::SIGNATURE_TYPE.into(), AUTH_SCHEME.into()),
    ]
}

/// AES-256-GCM under the APIv3 key with a fresh 12-character nonce: `(nonce, base64(ct‖tag))`.
fn encrypt(setup: &WechatSetup, aad: &str, plaintext: &[u8]) -> (String, String) {
    let nonce = random_alnum(12);
    let mut n = [0u8; 12];
    n.copy_from_slice(&nonce.as_bytes()[..12]);
    let ct = setup.apiv3().encrypt(&n, aad.as_bytes(), plaintext);
    (nonce, B64.encode(ct))
}

fn trade_state(o: &Order) -> (&'static str, &'static str) {
    match o.status {
        OrderStatus::Success if !o.refunds.is_empty() => ("REFUND", "转入退款"),
        OrderStatus::Success => ("SUCCESS", "支付成功"),
        OrderStatus::NotPaid => ("NOTPAY", "未支付"),
        OrderStatus::UserPaying => ("USERPAYING", "用户支付中（输入密码）"),
        OrderStatus::Closed => ("CLOSED", "已关闭"),
        OrderStatus::Revoked => ("REVOKED", "已撤销"),
        OrderStatus::PayError => ("PAYERROR", "支付失败，请重新下单支付"),
    }
}

fn refund_status(s: RefundStatus) -> &'static str {
    match s {
        RefundStatus::Processing => "PROCESSING",
        RefundStatus::Success => "SUCCESS",
        RefundStatus::Closed => "CLOSED",
        RefundStatus::Abnormal => "ABNORMAL",
    }
}

fn extra_str(o: &Order, k: &str) -> Option<String> {
    o.extra.get(k).and_then(Value::as_str).map(str::to_owned)
}

/// The transaction object (query answer and `TRANSACTION.SUCCESS` resource).
fn transaction(o: &Order) -> wire::Transaction {
    let paid = o.paid_at.is_some();
    let (state, desc) = trade_state(o);
    let total = i64::try_from(o.amount.minor_units()).unwrap_or(i64::MAX);
    let partner = o.merchant.contains('/');
    wire::Transaction {
        appid: extra_str(o, "appid"),
        mchid: extra_str(o, "mchid"),
        sp_appid: extra_str(o, "sp_appid"),
        sp_mchid: extra_str(o, "sp_mchid"),
        sub_appid: extra_str(o, "sub_appid"),
        sub_mchid: extra_str(o, "sub_mchid"),
        out_trade_no: o.out_trade_no.clone(),
        transaction_id: paid.then(|| o.transaction_id.clone()),
        trade_type: paid.then(|| o.trade_type.clone()),
        trade_state: state.into(),
        trade_state_desc: Some(desc.into()),
        bank_type: paid.then(|| o.wallet.wechat_bank_type()),
        attach: o.attach.clone(),
        success_time: o.paid_at.map(rfc3339),
        payer: o
            .payer
            .as_ref()
            .filter(|_| paid)
            .map(|p| wire::TransactionPayer {
                openid: (!partner).then(|| p.clone()),
                sp_openid: partner.then(|| p.clone()),
                sub_openid: None,
            }),
        amount: Some(wire::TransactionAmount {
            total: Some(total),
            payer_total: paid.then_some(total),
            currency: Some("CNY".into()),
            payer_currency: Some("CNY".into()),
        }),
        promotion_detail: None,
    }
}

fn refund_response(o: &Order, r: &RefundRecord, _now: OffsetDateTime) -> wire::RefundResponse {
    let total = i64::try_from(o.amount.minor_units()).unwrap_or(i64::MAX);
    let refund = i64::try_from(r.amount.minor_units()).unwrap_or(i64::MAX);
    wire::RefundResponse {
        refund_id: r.refund_id.clone(),
        out_refund_no: r.out_refund_no.clone(),
        transaction_id: Some(o.transaction_id.clone()),
        out_trade_no: Some(o.out_trade_no.clone()),
        channel: Some("ORIGINAL".into()),
        user_received_account: Some("支付用户零钱".into()),
        success_time: r.success_at.map(rfc3339),
        create_time: Some(rfc3339(r.created_at)),
        status: refund_status(r.status).into(),
        funds_account: Some("AVAILABLE".into()),
        amount: wire::RefundAmount {
            total,
            refund,
            from: Some(Vec::new()),
            payer_total: Some(total),
            payer_refund: Some(refund),
            settlement_refund: Some(refund),
            settlement_total: Some(total),
            discount_refund: Some(0),
            currency: Some("CNY".into()),
            refund_fee: Some(0),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn formats_china_time() {
        assert_eq!(
            rfc3339(datetime!(2024-05-20 02:03:04 UTC)),
            "2024-05-20T10:03:04+08:00"
        );
        assert_eq!(
            compact(datetime!(2024-05-20 02:03:04 UTC)),
            "20240520100304"
        );
    }
}
