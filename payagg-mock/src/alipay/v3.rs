//! The Alipay v3 REST API (brief §9) on top of the classic state machine: the same orders,
//! refunds, transfers and bills, reached through `/v3/alipay/…`.
//!
//! Request check, in order: the `Authorization: ALIPAY-SHA256withRSA {authString},sign=…`
//! header (scheme exact; `authString` pairs in any order: `app_id`, `nonce`, `timestamp` in
//! unix **milliseconds** required, `app_cert_sn` in certificate mode, optional
//! `expired_seconds`, anything else tolerated as the Node SDK's `additionalAuthInfo`), the
//! app, the certificate SNs (`app_cert_sn` and the `alipay-root-cert-sn` header), the
//! timestamp (older or newer than `expired_seconds`, else the app's timestamp window:
//! refused), then the signature over
//! `{authString}\n{METHOD}\n{path?query as sent}\n{body}\n[{alipay-app-auth-token}\n]` with the
//! app's key. The body is the classic `biz_content` object at top level (`notify_url` in it),
//! AES ciphertext when `alipay-encrypt-type: AES`; GET carries the fields in the query.
//!
//! Answers: 2xx with the classic node minus `code`/`msg` (a payment-code answer that is
//! still waiting simply has no `gmt_payment`), errors as `{code, message, links}` with the
//! classic sub code (40004 → 400, 20000 → 500, 20001 → 401, 40006 → 403, 40005 → 429).
//! Every answer is signed with `alipay-timestamp` (ms) / `alipay-nonce` / `alipay-signature`
//! over `{timestamp}\n{nonce}\n{body}\n`, plus `alipay-sn` in certificate mode and an
//! `alipay-trace-id`; authentication failures are signed only when the setup signs protocol
//! errors (as on the classic gateway). Authentication failure codes are the classic sub codes
//! without their `isv.`/`aop.` prefix, as observed for `invalid-auth-token` (HTTP 401,
//! Node SDK tests); the exact v3 code for a stale timestamp is not documented in the sources
//! we have, `invalid-timestamp` follows that pattern.
//!
//! A `nonce` the app already used is refused while the first request's timestamp window
//! lasts (`expired_seconds`, else the app's window; 15 minutes when that is off): HTTP 401
//! `invalid-nonce`, checked after the signature so unsigned requests cannot burn a nonce.
//! The v3 signing rules say only that the nonce must be unique per request and a request
//! that fails the signature check is refused with 401; the code follows the pattern above
//! (no official code for a replay was found).

use std::collections::BTreeMap;

use bytes::Bytes;
use payagg_alipay::sign::{self as asign, SignType};
use payagg_alipay::wire::methods;
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::{AlipaySim, Call, decode, raw_pairs};
use crate::keys::random_alnum;
use crate::server::{MockRequest, MockResponse, Shared};

/// The path prefix of the v3 API.
pub(crate) const PREFIX: &str = "/v3/alipay/";

/// The classic method and fault endpoint behind a v3 request (`None`: no such endpoint).
/// Fault endpoints are the classic ones, so a fault rule hits both transports alike.
pub(crate) fn route(method: &http::Method, path: &str) -> Option<(&'static str, &'static str)> {
    let post = *method == http::Method::POST;
    let get = *method == http::Method::GET;
    Some(match path {
        "/v3/alipay/trade/pay" if post => (methods::PAY, "alipay.pay"),
        "/v3/alipay/trade/precreate" if post => (methods::PRECREATE, "alipay.precreate"),
        // POST in the current official docs, GET in the older Java v3 docs (brief D17).
        "/v3/alipay/trade/query" if post || get => (methods::QUERY, "alipay.query"),
        "/v3/alipay/trade/close" if post => (methods::CLOSE, "alipay.close"),
        "/v3/alipay/trade/cancel" if post => (methods::CANCEL, "alipay.cancel"),
        "/v3/alipay/trade/refund" if post => (methods::REFUND, "alipay.refund"),
        "/v3/alipay/trade/fastpay/refund/query" if post => {
            (methods::REFUND_QUERY, "alipay.refund_query")
        }
        "/v3/alipay/fund/trans/uni/transfer" if post => (methods::TRANSFER, "alipay.transfer"),
        "/v3/alipay/fund/trans/common/query" if get => {
            (methods::TRANSFER_QUERY, "alipay.transfer_query")
        }
        "/v3/alipay/data/dataservice/bill/downloadurl/query" if get => {
            (methods::BILL_URL, "alipay.bill")
        }
        _ => return None,
    })
}

/// A v3 error before the method runs.
#[derive(Debug)]
pub(crate) struct V3Error {
    status: u16,
    code: &'static str,
    message: String,
}

impl V3Error {
    fn auth(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status: 401,
            code,
            message: message.into(),
        }
    }

    fn bad(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status: 400,
            code,
            message: message.into(),
        }
    }
}

/// The HTTP status of a classic failure `code`.
fn status_of(code: &str) -> u16 {
    match code {
        "20000" => 500,
        "20001" => 401,
        "40006" => 403,
        "40005" => 429,
        _ => 400,
    }
}

fn error_body(code: &str, message: &str, trace: &str) -> Value {
    json!({
        "code": code,
        "message": message,
        "links": [{
            "link": format!("https://open.alipay.com/api/errCheck?traceId={trace}"),
            "desc": "解决方案",
        }],
    })
}

/// Milliseconds since the epoch.
fn unix_ms(t: OffsetDateTime) -> i128 {
    t.unix_timestamp_nanos() / 1_000_000
}

/// How long a nonce is remembered when the app's timestamp window is off (0).
const DEFAULT_NONCE_MEMORY_MS: i128 = 15 * 60 * 1000;

/// The v3 nonces seen, per app, until their request's timestamp window closes (a replay
/// after that is refused as `invalid-timestamp` anyway).
#[derive(Debug, Default)]
pub(crate) struct NonceLog {
    inner: std::sync::Mutex<NonceLogInner>,
}

#[derive(Debug, Default)]
struct NonceLogInner {
    /// `app_id \n nonce` → when it may be forgotten (unix ms, simulator clock).
    seen: std::collections::HashMap<String, i128>,
    /// Prune the forgotten ones when `seen` grows past this.
    prune_at: usize,
}

impl NonceLog {
    /// Records `nonce` of `app_id` until `keep_until`; `false` when it is already recorded
    /// and still remembered at `now` (a replay).
    pub(crate) fn first_use(&self, app_id: &str, nonce: &str, keep_until: i128, now: i128) -> bool {
        let mut g = self
            .inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let key = format!("{app_id}\n{nonce}");
        if g.seen.get(&key).is_some_and(|until| *until >= now) {
            return false;
        }
        g.seen.insert(key, keep_until);
        if g.seen.len() > g.prune_at {
            g.seen.retain(|_, until| *until >= now);
            g.prune_at = (g.seen.len() * 2).max(1024);
        }
        true
    }
}

impl AlipaySim {
    /// Serve one v3 request (faults already decided by the caller).
    pub(crate) fn handle_v3(&self, shared: &Shared, req: &MockRequest) -> MockResponse {
        let now = shared.now();
        let cert_mode = auth_fields(req).is_some_and(|(_, f)| f.contains_key("app_cert_sn"));
        let Some((method, _)) = route(&req.method, &req.path) else {
            let e = V3Error {
                status: 404,
                code: "NOT_FOUND",
                message: format!("{} {} is not a v3 endpoint", req.method, req.path),
            };
            return self.v3_error(&e, cert_mode, self.setup.sign_protocol_errors, now);
        };
        let call = match self.v3_verify(req, method, now) {
            Ok(c) => c,
            Err(e) => return self.v3_error(&e, cert_mode, self.setup.sign_protocol_errors, now),
        };
        let node = self.dispatch(shared, &call, now);
        self.v3_answer(&node, &call, now)
    }

    /// The fault injector's system error on v3: HTTP 500 `isp.unknow-error`, signed.
    pub(crate) fn v3_system_error(&self, req: &MockRequest, now: OffsetDateTime) -> MockResponse {
        let cert_mode = auth_fields(req).is_some_and(|(_, f)| f.contains_key("app_cert_sn"));
        let e = V3Error {
            status: 500,
            code: "isp.unknow-error",
            message: "系统繁忙".into(),
        };
        self.v3_error(&e, cert_mode, true, now)
    }

    /// Check the request as Alipay does and turn it into a classic call.
    fn v3_verify(
        &self,
        req: &MockRequest,
        method: &str,
        now: OffsetDateTime,
    ) -> Result<Call, V3Error> {
        let s = &self.setup;
        let header = req
            .header("authorization")
            .ok_or_else(|| V3Error::auth("missing-signature", "缺少Authorization请求头"))?;
        let (auth_string, f) = auth_fields(req).ok_or_else(|| {
            V3Error::auth(
                "invalid-signature-type",
                format!(
                    "Authorization 不是 {} 格式: {header}",
                    asign::V3_AUTH_SCHEME
                ),
            )
        })?;
        let sig = header
            .rsplit_once(",sign=")
            .map(|(_, s)| s.trim())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| V3Error::auth("missing-signature", "缺少签名参数sign"))?;
        let field = |k: &'static str| {
            f.get(k)
                .map(String::as_str)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| V3Error::auth("missing-signature", format!("authString缺少{k}")))
        };
        let app_id = field("app_id")?;
        let nonce = field("nonce")?;
        let ts: i128 = field("timestamp")?
            .parse()
            .map_err(|_| V3Error::auth("invalid-timestamp", "非法的时间戳参数（应为毫秒）"))?;
        if app_id != s.app_id() {
            return Err(V3Error::auth("invalid-app-id", "无效的AppID参数"));
        }
        let cert_mode = f.contains_key("app_cert_sn");
        if cert_mode {
            if f.get("app_cert_sn").map(String::as_str) != Some(s.app_cert_sn()) {
                return Err(V3Error::auth("app-cert-not-exist", "应用公钥证书不存在"));
            }
            if req.header("alipay-root-cert-sn").map(str::trim) != Some(s.root_cert_sn()) {
                return Err(V3Error::auth(
                    "invalid-alipay-root-cert-sn",
                    "无效支付宝根证书序列号",
                ));
            }
        }
        let window_ms = match f.get("expired_seconds") {
            Some(e) => e
                .parse::<u32>()
                .map_err(|_| V3Error::auth("invalid-timestamp", "非法的expired_seconds参数"))?,
            None => s.timestamp_window_secs,
        };
        let window_ms = i128::from(window_ms) * 1000;
        if window_ms > 0 && (unix_ms(now) - ts).abs() > window_ms {
            return Err(V3Error::auth(
                "invalid-timestamp",
                "非法的时间戳参数：请求已过期或时间不同步",
            ));
        }
        let token = req.header("alipay-app-auth-token").map(str::trim);
        let content = asign::v3_request_message(
            &auth_string,
            req.method.as_str(),
            &req.target,
            &req.body,
            token.filter(|t| !t.is_empty()),
        );
        if asign::verify(
            s.app_private_key().public_key(),
            SignType::Rsa2,
            &content,
            sig,
        )
        .is_err()
        {
            return Err(V3Error::auth(
                "invalid-signature",
                format!(
                    "验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配，网关生成的验签字符串为：{}",
                    String::from_utf8_lossy(&content).escape_debug()
                ),
            ));
        }
        // A replay: the same nonce, signed by the app, inside the timestamp window.
        let keep_ms = if window_ms > 0 {
            window_ms
        } else {
            DEFAULT_NONCE_MEMORY_MS
        };
        if !self
            .nonces
            .first_use(app_id, nonce, unix_ms(now).max(ts) + keep_ms, unix_ms(now))
        {
            return Err(V3Error::auth(
                "invalid-nonce",
                "nonce已被使用，请勿重放请求（每次请求使用新的随机nonce）",
            ));
        }
        let encrypted = req
            .header("alipay-encrypt-type")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("AES"));
        let mut object = if req.method == http::Method::GET {
            let pairs = raw_pairs(req.query.as_deref().unwrap_or("").as_bytes());
            let map: serde_json::Map<String, Value> = pairs
                .iter()
                .map(|(k, v)| {
                    (
                        decode(encoding_rs::UTF_8, k),
                        Value::String(decode(encoding_rs::UTF_8, v)),
                    )
                })
                .collect();
            map
        } else {
            let text = if encrypted {
                let key = self
                    .aes
                    .as_ref()
                    .ok_or_else(|| V3Error::bad("missing-encrypt-key", "未配置接口内容加密密钥"))?;
                let b64 = std::str::from_utf8(&req.body)
                    .map_err(|_| V3Error::bad("invalid-encrypt", "解密出错"))?;
                let plain = key
                    .decrypt_b64(b64.trim())
                    .map_err(|_| V3Error::bad("invalid-encrypt", "解密出错"))?;
                decode(encoding_rs::UTF_8, &plain)
            } else {
                decode(encoding_rs::UTF_8, &req.body)
            };
            let text = if text.trim().is_empty() { "{}" } else { &text };
            match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(m)) => m,
                _ => return Err(V3Error::bad("invalid-parameter", "请求体不是JSON对象")),
            }
        };
        let notify_url = match object.remove("notify_url") {
            Some(Value::String(u)) if !u.is_empty() => Some(u),
            _ => None,
        };
        Ok(Call {
            method: method.to_owned(),
            app_id: app_id.to_owned(),
            cert_mode,
            encrypted,
            sign_type: SignType::Rsa2,
            biz: Value::Object(object).to_string(),
            notify_url,
            return_url: None,
        })
    }

    /// A classic node as the v3 answer.
    fn v3_answer(&self, node: &str, call: &Call, now: OffsetDateTime) -> MockResponse {
        let trace = random_alnum(24);
        let Ok(Value::Object(mut m)) = serde_json::from_str::<Value>(node) else {
            let e = V3Error {
                status: 500,
                code: "isp.unknow-error",
                message: "系统繁忙".into(),
            };
            return self.v3_error(&e, call.cert_mode, true, now);
        };
        let code = m
            .get("code")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        if matches!(code.as_str(), "10000" | "10003") {
            for k in ["code", "msg", "sub_code", "sub_msg"] {
                m.remove(k);
            }
            let json = Value::Object(m).to_string();
            let (body, ctype) = match (&self.aes, call.encrypted) {
                (Some(k), true) => (k.encrypt_b64(json.as_bytes()), "text/plain;charset=utf-8"),
                _ => (json, "application/json;charset=utf-8"),
            };
            return self.v3_signed(200, body, ctype, call.cert_mode, &trace, now, true);
        }
        let text = |k: &str| m.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
        let sub = text("sub_code").or(text("code")).unwrap_or("UNKNOWN_ERROR");
        let msg = text("sub_msg").or(text("msg")).unwrap_or("");
        let body = error_body(sub, msg, &trace).to_string();
        self.v3_signed(
            status_of(&code),
            body,
            "application/json;charset=utf-8",
            call.cert_mode,
            &trace,
            now,
            true,
        )
    }

    fn v3_error(
        &self,
        e: &V3Error,
        cert_mode: bool,
        signed: bool,
        now: OffsetDateTime,
    ) -> MockResponse {
        let trace = random_alnum(24);
        let body = error_body(e.code, &e.message, &trace).to_string();
        self.v3_signed(
            e.status,
            body,
            "application/json;charset=utf-8",
            cert_mode,
            &trace,
            now,
            signed,
        )
    }

    /// The answer with the v3 response headers (`alipay-signature` … when `signed`).
    #[allow(clippy::too_many_arguments)]
    fn v3_signed(
        &self,
        status: u16,
        body: String,
        content_type: &str,
        cert_mode: bool,
        trace: &str,
        now: OffsetDateTime,
        signed: bool,
    ) -> MockResponse {
        let mut headers = vec![
            ("Content-Type".to_owned(), content_type.to_owned()),
            ("alipay-trace-id".to_owned(), trace.to_owned()),
        ];
        if signed {
            let ts = unix_ms(now).to_string();
            let nonce = random_alnum(32);
            let sig = asign::sign(
                self.setup.alipay_private_key(),
                SignType::Rsa2,
                &asign::v3_response_message(&ts, &nonce, body.as_bytes()),
            );
            headers.push(("alipay-timestamp".to_owned(), ts));
            headers.push(("alipay-nonce".to_owned(), nonce));
            headers.push(("alipay-signature".to_owned(), sig));
            if cert_mode {
                headers.push((
                    "alipay-sn".to_owned(),
                    self.setup.alipay_cert_sn().to_owned(),
                ));
            }
        }
        MockResponse {
            status,
            headers,
            body: Bytes::from(body),
        }
    }
}

/// The `authString` (everything between the scheme and `,sign=`) and its pairs, or `None`
/// when the header is absent, has another scheme, or a pair is malformed or repeated.
fn auth_fields(req: &MockRequest) -> Option<(String, BTreeMap<String, String>)> {
    let h = req.header("authorization")?.trim();
    let rest = h.strip_prefix(asign::V3_AUTH_SCHEME)?.strip_prefix(' ')?;
    let auth_string = rest.rsplit_once(",sign=").map_or(rest, |(a, _)| a);
    let mut f = BTreeMap::new();
    for pair in auth_string.split(',') {
        let (k, v) = pair.split_once('=')?;
        if f.insert(k.trim().to_owned(), v.trim().to_owned()).is_some() {
            return None;
        }
    }
    Some((auth_string.to_owned(), f))
}
