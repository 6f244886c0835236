//! The Alipay half: the classic `gateway.do` (request verification exactly as Alipay does,
//! signed response nodes, certificate mode), the trade, refund, transfer and bill methods,
//! the payer's cashier page and `trade_status_sync` notifications; the v3 REST API
//! (`/v3/alipay/…`, `v3.rs`) over the same state.

mod bill;
mod control;
mod ops;
mod page;
mod setup;
mod v3;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use payagg_alipay::aes::AesKey;
use payagg_alipay::sign::{self as asign, SignType};
use payagg_alipay::wire::{ResponseStatus, methods};
use payagg_core::clock::CHINA_OFFSET;
use secrecy::ExposeSecret;
use time::OffsetDateTime;

use crate::fault::FaultKind;
use crate::server::{MockRequest, MockResponse, Shared};

pub(crate) use setup::AlipayFiles;
pub use setup::AlipaySetup;

/// Alipay's notification retry schedule after the first attempt (brief §6.4): 4m, 10m,
/// 10m, 1h, 2h, 6h, 15h — 8 attempts in about 25 hours.
pub(crate) const RETRY_SCHEDULE: &[u64] = &[240, 600, 600, 3600, 7200, 21600, 54000];

/// `yyyy-MM-dd HH:mm:ss` in China time.
pub(crate) fn ymdhms(t: OffsetDateTime) -> String {
    let t = t.to_offset(CHINA_OFFSET);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Parses `yyyy-MM-dd HH:mm:ss` as China time (strict format).
pub(crate) fn parse_ymdhms(s: &str) -> Option<OffsetDateTime> {
    let b = s.as_bytes();
    if b.len() != 19
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b' '
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let p = s.get(r)?;
        p.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| p.parse().ok())?
    };
    let date = time::Date::from_calendar_date(
        i32::try_from(num(0..4)?).ok()?,
        time::Month::try_from(u8::try_from(num(5..7)?).ok()?).ok()?,
        u8::try_from(num(8..10)?).ok()?,
    )
    .ok()?;
    let t = time::Time::from_hms(
        u8::try_from(num(11..13)?).ok()?,
        u8::try_from(num(14..16)?).ok()?,
        u8::try_from(num(17..19)?).ok()?,
    )
    .ok()?;
    Some(date.with_time(t).assume_offset(CHINA_OFFSET))
}

/// A verified gateway call.
#[derive(Debug)]
pub(crate) struct Call {
    pub(crate) method: String,
    pub(crate) app_id: String,
    pub(crate) cert_mode: bool,
    pub(crate) encrypted: bool,
    pub(crate) sign_type: SignType,
    /// `biz_content`, decrypted when `encrypt_type=AES`.
    pub(crate) biz: String,
    pub(crate) notify_url: Option<String>,
    pub(crate) return_url: Option<String>,
}

/// A protocol error (code `400xx`) before the method runs.
#[derive(Debug)]
pub(crate) struct GatewayError {
    code: &'static str,
    msg: &'static str,
    sub_code: String,
    sub_msg: String,
}

impl GatewayError {
    fn missing(what: &str) -> Self {
        Self {
            code: "40001",
            msg: "Missing Required Arguments",
            sub_code: format!("isv.missing-{what}"),
            sub_msg: format!("缺少{what}参数"),
        }
    }

    fn invalid(sub_code: &str, sub_msg: impl Into<String>) -> Self {
        Self {
            code: "40002",
            msg: "Invalid Arguments",
            sub_code: sub_code.to_owned(),
            sub_msg: sub_msg.into(),
        }
    }

    fn status(&self) -> ResponseStatus {
        ResponseStatus::failure(self.code, self.msg, &self.sub_code, &self.sub_msg)
    }
}

/// Request parameters: query and form merged, decoded in the request's charset.
#[derive(Debug, Default)]
pub(crate) struct Params(pub(crate) Vec<(String, String)>);

impl Params {
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }
}

/// `%XX` and `+` decoding to bytes.
fn percent_bytes(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'%' if i + 2 < s.len() => {
                let hex = std::str::from_utf8(&s[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                if let Some(v) = hex {
                    out.push(v);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    out
}

fn raw_pairs(s: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    s.split(|&b| b == b'&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = match p.iter().position(|&b| b == b'=') {
                Some(i) => (&p[..i], &p[i + 1..]),
                None => (p, &b""[..]),
            };
            (percent_bytes(k), percent_bytes(v))
        })
        .collect()
}

pub(crate) fn encoding(charset: &str) -> &'static encoding_rs::Encoding {
    encoding_rs::Encoding::for_label(charset.trim().as_bytes()).unwrap_or(encoding_rs::UTF_8)
}

fn decode(enc: &'static encoding_rs::Encoding, b: &[u8]) -> String {
    enc.decode_without_bom_handling(b).0.into_owned()
}

/// `multipart/form-data` text fields (files are skipped: they are not signed).
fn multipart(body: &[u8], boundary: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    let delim = format!("--{boundary}");
    let text = body;
    let mut out = Vec::new();
    let mut parts: Vec<&[u8]> = Vec::new();
    let d = delim.as_bytes();
    let mut start = None;
    let mut i = 0;
    while i + d.len() <= text.len() {
        if &text[i..i + d.len()] == d {
            if let Some(s) = start {
                parts.push(&text[s..i]);
            }
            start = Some(i + d.len());
            i += d.len();
        } else {
            i += 1;
        }
    }
    for part in parts {
        let part = part.strip_prefix(b"\r\n").unwrap_or(part);
        let Some(split) = part.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&part[..split]).into_owned();
        let mut value = &part[split + 4..];
        value = value.strip_suffix(b"\r\n").unwrap_or(value);
        if head.contains("filename=") {
            continue;
        }
        let Some(name) = head
            .split("name=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
        else {
            continue;
        };
        out.push((name.as_bytes().to_vec(), value.to_vec()));
    }
    out
}

/// Merge the query and the body (form or multipart), decoded in the request's `charset`.
/// A parameter sent twice with different values is an error.
pub(crate) fn merged_params(req: &MockRequest) -> Result<(Params, String), GatewayError> {
    let mut raw = raw_pairs(req.query.as_deref().unwrap_or("").as_bytes());
    let ctype = req
        .header("content-type")
        .unwrap_or("")
        .to_ascii_lowercase();
    if !req.body.is_empty() {
        if let Some(b) = ctype.split("boundary=").nth(1) {
            let boundary = b
                .split(';')
                .next()
                .unwrap_or("")
                .trim_matches('"')
                .to_owned();
            raw.extend(multipart(&req.body, &boundary));
        } else if !ctype.contains("json") {
            raw.extend(raw_pairs(&req.body));
        }
    }
    let charset = raw
        .iter()
        .find(|(k, _)| k == b"charset")
        .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
        .or_else(|| {
            ctype
                .split("charset=")
                .nth(1)
                .map(|c| c.split(';').next().unwrap_or("").to_owned())
        })
        .unwrap_or_else(|| "utf-8".into());
    let enc = encoding(&charset);
    let mut out: Vec<(String, String)> = Vec::with_capacity(raw.len());
    for (k, v) in raw {
        let (k, v) = (decode(enc, &k), decode(enc, &v));
        if let Some((_, prev)) = out.iter().find(|(pk, _)| *pk == k) {
            if *prev != v {
                return Err(GatewayError::invalid(
                    "isv.invalid-parameter",
                    format!("参数{k}重复且取值不一致"),
                ));
            }
            continue;
        }
        out.push((k, v));
    }
    Ok((Params(out), charset))
}

/// Simulator-side Alipay state beyond the shared order book.
#[derive(Debug, Default)]
pub(crate) struct AlipayState {
    pub(crate) transfers: BTreeMap<String, ops::Transfer>,
    /// The merchant's balance for refunds and transfers, in fen (`None`: unlimited).
    pub(crate) balance: Option<u64>,
    pub(crate) bills: bill::Bills,
}

/// The Alipay half of a running simulator.
#[derive(Debug)]
pub(crate) struct AlipaySim {
    pub(crate) setup: AlipaySetup,
    pub(crate) base_url: String,
    aes: Option<AesKey>,
    pub(crate) state: Mutex<AlipayState>,
    /// v3 request nonces, to refuse replays.
    nonces: v3::NonceLog,
}

impl AlipaySim {
    pub(crate) fn new(setup: AlipaySetup, base_url: String) -> Self {
        let aes = AesKey::from_base64(setup.aes_key().expose_secret()).ok();
        Self {
            setup,
            base_url,
            aes,
            state: Mutex::new(AlipayState::default()),
            nonces: v3::NonceLog::default(),
        }
    }

    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, AlipayState> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The fault-rule endpoint name, or `None` when the request is not Alipay's.
    pub(crate) fn endpoint(&self, req: &MockRequest) -> Option<&'static str> {
        let p = req.path.as_str();
        if p.starts_with("/alipay/") {
            return Some("alipay.cashier");
        }
        if p == "/downloadBillFile.resource" {
            return Some("alipay.bill_download");
        }
        // The v3 REST API: claimed here, before WeChat's `/v3/` routing sees it.
        if p.starts_with(v3::PREFIX) {
            return Some(v3::route(&req.method, p).map_or("alipay.v3", |(_, e)| e));
        }
        if p != "/gateway.do" {
            return None;
        }
        let method = merged_params(req)
            .ok()
            .and_then(|(p, _)| p.get("method").map(str::to_owned))
            .unwrap_or_default();
        Some(match method.as_str() {
            methods::PRECREATE => "alipay.precreate",
            methods::PAY => "alipay.pay",
            methods::PAGE_PAY | methods::WAP_PAY | methods::APP_PAY => "alipay.page_pay",
            methods::QUERY => "alipay.query",
            methods::CLOSE => "alipay.close",
            methods::CANCEL => "alipay.cancel",
            methods::REFUND => "alipay.refund",
            methods::REFUND_QUERY => "alipay.refund_query",
            methods::TRANSFER => "alipay.transfer",
            methods::TRANSFER_QUERY => "alipay.transfer_query",
            methods::BILL_URL => "alipay.bill",
            methods::CERT_DOWNLOAD => "alipay.cert_download",
            _ => "alipay.other",
        })
    }

    /// Verify the common parameters and the signature; decrypt `biz_content`.
    fn verify(
        &self,
        params: &Params,
        charset: &str,
        now: OffsetDateTime,
    ) -> Result<Call, GatewayError> {
        let s = &self.setup;
        let app_id = params
            .get("app_id")
            .ok_or_else(|| GatewayError::missing("app-id"))?;
        let method = params
            .get("method")
            .ok_or_else(|| GatewayError::missing("method"))?;
        let sig = params
            .get("sign")
            .ok_or_else(|| GatewayError::missing("signature"))?;
        let sign_type = params
            .get("sign_type")
            .ok_or_else(|| GatewayError::missing("signature-type"))?;
        let timestamp = params
            .get("timestamp")
            .ok_or_else(|| GatewayError::missing("timestamp"))?;
        if params.get("version").is_none() {
            return Err(GatewayError::missing("version"));
        }
        if app_id != s.app_id() {
            return Err(GatewayError::invalid(
                "isv.invalid-app-id",
                "无效的AppID参数",
            ));
        }
        let sign_type = SignType::parse(sign_type)
            .ok_or_else(|| GatewayError::invalid("isv.invalid-signature-type", "无效签名类型"))?;
        if !matches!(
            charset.to_ascii_lowercase().as_str(),
            "utf-8" | "utf8" | "gbk" | "gb2312"
        ) {
            return Err(GatewayError::invalid("isv.invalid-charset", "字符集错误"));
        }
        let at = parse_ymdhms(timestamp)
            .ok_or_else(|| GatewayError::invalid("isv.invalid-timestamp", "非法的时间戳参数"))?;
        let window = i64::from(s.timestamp_window_secs);
        if window > 0 && (at - now).whole_seconds().abs() > window {
            return Err(GatewayError::invalid(
                "isv.invalid-timestamp",
                "非法的时间戳参数",
            ));
        }
        let cert_mode =
            params.get("app_cert_sn").is_some() || params.get("alipay_root_cert_sn").is_some();
        if cert_mode {
            if params.get("app_cert_sn") != Some(s.app_cert_sn()) {
                return Err(GatewayError::invalid(
                    "isv.app-cert-not-exist",
                    "应用公钥证书不存在",
                ));
            }
            if params.get("alipay_root_cert_sn") != Some(s.root_cert_sn()) {
                return Err(GatewayError::invalid(
                    "isv.invalid-alipay-root-cert-sn",
                    "无效支付宝根证书序列号",
                ));
            }
        }
        let content = asign::sign_content(params.0.iter().map(|(k, v)| (k, v)));
        let bytes = encoding(charset).encode(&content).0;
        if asign::verify(s.app_private_key().public_key(), sign_type, &bytes, sig).is_err() {
            return Err(GatewayError::invalid(
                "isv.invalid-signature",
                format!(
                    "验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配，网关生成的验签字符串为：{}",
                    content.replace('&', "&amp;")
                ),
            ));
        }
        let encrypted = match params.get("encrypt_type") {
            None => false,
            Some("AES") => true,
            Some(_) => {
                return Err(GatewayError::invalid(
                    "isv.invalid-encrypt-type",
                    "无效的加密类型",
                ));
            }
        };
        let mut biz = params.get("biz_content").unwrap_or("{}").to_owned();
        if encrypted {
            let key = self.aes.as_ref().ok_or_else(|| {
                GatewayError::invalid("isv.missing-encrypt-key", "未配置接口内容加密密钥")
            })?;
            let plain = key
                .decrypt_b64(&biz)
                .map_err(|_| GatewayError::invalid("isv.invalid-encrypt", "解密出错"))?;
            biz = decode(encoding(charset), &plain);
        }
        Ok(Call {
            method: method.to_owned(),
            app_id: app_id.to_owned(),
            cert_mode,
            encrypted,
            sign_type,
            biz,
            notify_url: params.get("notify_url").map(str::to_owned),
            return_url: params.get("return_url").map(str::to_owned),
        })
    }

    /// The signed classic answer around `node_json` (a compact JSON object).
    pub(crate) fn respond(
        &self,
        method: &str,
        node_json: &str,
        cert_mode: bool,
        encrypted: bool,
        sign_type: SignType,
    ) -> MockResponse {
        let escaped = asign::escape_slashes(node_json);
        let node = match (encrypted, &self.aes) {
            (true, Some(k)) => format!("\"{}\"", k.encrypt_b64(node_json.as_bytes())),
            _ => escaped,
        };
        let sig = asign::sign(self.setup.alipay_private_key(), sign_type, node.as_bytes());
        let sn = cert_mode.then(|| self.setup.alipay_cert_sn());
        let body = asign::response_body(method, &node, sn, Some(&sig));
        json_response(body)
    }

    fn protocol_error(
        &self,
        method: Option<&str>,
        cert_mode: bool,
        e: &GatewayError,
    ) -> MockResponse {
        let node = serde_json::to_string(&e.status()).unwrap_or_default();
        match method {
            Some(m) if self.setup.sign_protocol_errors => {
                self.respond(m, &node, cert_mode, false, SignType::Rsa2)
            }
            _ => json_response(asign::error_response_body(
                &asign::escape_slashes(&node),
                None,
                None,
            )),
        }
    }

    /// Serve one Alipay request (faults already decided by the caller).
    pub(crate) fn handle(&self, shared: &Shared, req: &MockRequest) -> MockResponse {
        let now = shared.now();
        if req.path.starts_with("/alipay/") {
            return self.cashier(shared, req, now);
        }
        if req.path == "/downloadBillFile.resource" {
            return self.download(req, now);
        }
        if req.path.starts_with(v3::PREFIX) {
            return self.handle_v3(shared, req);
        }
        let (params, charset) = match merged_params(req) {
            Ok(p) => p,
            Err(e) => return self.protocol_error(None, false, &e),
        };
        let call = match self.verify(&params, &charset, now) {
            Ok(c) => c,
            Err(e) => {
                let m = params.get("method");
                if matches!(
                    m,
                    Some(methods::PAGE_PAY | methods::WAP_PAY | methods::APP_PAY)
                ) {
                    return page::error_page(&e.sub_code, &e.sub_msg);
                }
                return self.protocol_error(m, params.get("app_cert_sn").is_some(), &e);
            }
        };
        if matches!(
            call.method.as_str(),
            methods::PAGE_PAY | methods::WAP_PAY | methods::APP_PAY
        ) {
            return self.page_pay(shared, &call, now);
        }
        let node = self.dispatch(shared, &call, now);
        self.respond(
            &call.method,
            &node,
            call.cert_mode,
            call.encrypted,
            call.sign_type,
        )
    }

    /// The fault injector's business error: `20000` / `isp.unknow-error`, signed.
    pub(crate) fn system_error(&self, req: &MockRequest) -> MockResponse {
        let Ok((params, _)) = merged_params(req) else {
            return MockResponse::text(500, "system error");
        };
        let Some(method) = params.get("method") else {
            return MockResponse::text(500, "system error");
        };
        let node = serde_json::to_string(&ResponseStatus::failure(
            "20000",
            "Service Currently Unavailable",
            "isp.unknow-error",
            "系统繁忙",
        ))
        .unwrap_or_default();
        self.respond(
            method,
            &node,
            params.get("app_cert_sn").is_some(),
            false,
            SignType::Rsa2,
        )
    }
}

pub(crate) fn json_response(body: String) -> MockResponse {
    MockResponse {
        status: 200,
        headers: vec![(
            "Content-Type".into(),
            "application/json;charset=utf-8".into(),
        )],
        body: Bytes::from(body),
    }
}

/// Serve an Alipay request with fault injection. `None`: drop the connection.
pub(crate) async fn serve(
    shared: &Arc<Shared>,
    req: &MockRequest,
    endpoint: &'static str,
) -> Option<MockResponse> {
    let sim = &shared.alipay;
    Some(
        match shared.faults.check(payagg_core::Channel::Alipay, endpoint) {
            Some(FaultKind::DropConnection) => return None,
            Some(FaultKind::Timeout) => {
                tokio::time::sleep(shared.hang_for).await;
                return None;
            }
            Some(FaultKind::HttpStatus { status }) => MockResponse::text(
                status,
                &format!("<html><body><h1>{status}</h1></body></html>"),
            ),
            Some(FaultKind::SystemError) if req.path.starts_with(v3::PREFIX) => {
                sim.v3_system_error(req, shared.now())
            }
            Some(FaultKind::SystemError) => sim.system_error(req),
            Some(f) => {
                if let Some(d) = f.latency() {
                    tokio::time::sleep(d).await;
                }
                sim.handle(shared, req)
            }
            None => sim.handle(shared, req),
        },
    )
}
