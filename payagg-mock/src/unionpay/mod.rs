//! The UnionPay (ACP 5.1.0) half of the simulator.
//!
//! Requests are verified and answers signed with `payagg_unionpay::sign` and
//! `payagg_unionpay::qstring`, the very functions the client uses.

mod setup;
mod zm;

use std::collections::BTreeMap;
use std::sync::Mutex;

use bytes::Bytes;
use payagg_core::clock::CHINA_OFFSET;
use payagg_core::{Channel, Money};
use payagg_unionpay::qstring::{self, Fields};
use payagg_unionpay::sign::{self, SignMethod};
use payagg_unionpay::wire::{codes, fields as f, paths, zm as zmwire};
use secrecy::ExposeSecret;
use time::{Date, Duration, OffsetDateTime, PrimitiveDateTime, Time};

pub(crate) use setup::UnionpayFiles;
pub use setup::UnionpaySetup;

use crate::BillDiscrepancy;
use crate::error::{MockError, MockErrorKind};
use crate::fault::FaultKind;
use crate::notify::Outgoing;
use crate::server::{Action, MockRequest, MockResponse, Shared};
use crate::state::{Order, OrderStatus, RefundRecord, RefundStatus};
use crate::wallet::PayAs;

/// UnionPay's notification retries after the first send: 1, 2, 4, 5 minutes (5 sends).
const RETRY_SCHEDULE: &[u64] = &[60, 120, 240, 300];

/// The file-transfer path some clients use on the gateway host (the real one is `/` on the
/// file host; both are served).
const FILE_TRANS_ALT: &str = "/gateway/api/fileTransfer.do";

/// A UnionPay transaction as the gateway records it (consume, refund or cancel).
#[derive(Debug, Clone)]
struct Txn {
    order_id: String,
    txn_type: String,
    txn_sub_type: String,
    biz_type: String,
    channel_type: String,
    txn_time: String,
    amount: u64,
    query_id: String,
    trace_no: String,
    trace_time: String,
    back_url: Option<String>,
    front_url: Option<String>,
    req_reserved: Option<String>,
    method: SignMethod,
    orig_qry_id: Option<String>,
    /// Refund/cancel: when it succeeded.
    done_at: Option<OffsetDateTime>,
}

/// A refused request: respCode and respMsg.
#[derive(Debug)]
struct Reject(&'static str, String);

impl Reject {
    fn missing(field: &str) -> Self {
        Reject("13", format!("报文交易要素缺失[{field}][9100001]"))
    }
    fn format(field: &str) -> Self {
        Reject("10", format!("报文格式错误[{field}][9100002]"))
    }
    fn signature() -> Self {
        Reject("11", "验证签名失败[9100004]".into())
    }
    fn not_found() -> Self {
        Reject("34", "查无此交易[2600000]".into())
    }
    fn duplicate() -> Self {
        Reject("12", "重复交易[2011002]".into())
    }
    fn orig_state() -> Self {
        Reject("35", "原交易不存在或状态不正确[2011000]".into())
    }
    fn mismatch(what: &str) -> Self {
        Reject("36", format!("与原交易信息不符[{what}][2011001]"))
    }
}

const OK_MSG: &str = "成功[0000000]";

fn china(t: OffsetDateTime) -> OffsetDateTime {
    t.to_offset(CHINA_OFFSET)
}

/// `YYYYMMDDhhmmss`, Beijing time.
fn txn_time(t: OffsetDateTime) -> String {
    let c = china(t);
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}",
        c.year(),
        u8::from(c.month()),
        c.day(),
        c.hour(),
        c.minute(),
        c.second()
    )
}

fn parse_txn_time(s: &str) -> Option<OffsetDateTime> {
    if s.len() != 14 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s.get(r).and_then(|x| x.parse::<u32>().ok());
    let date = Date::from_calendar_date(
        i32::try_from(n(0..4)?).ok()?,
        time::Month::try_from(u8::try_from(n(4..6)?).ok()?).ok()?,
        u8::try_from(n(6..8)?).ok()?,
    )
    .ok()?;
    let t = Time::from_hms(
        u8::try_from(n(8..10)?).ok()?,
        u8::try_from(n(10..12)?).ok()?,
        u8::try_from(n(12..14)?).ok()?,
    )
    .ok()?;
    Some(PrimitiveDateTime::new(date, t).assume_offset(CHINA_OFFSET))
}

/// How far a request's `txnTime` may be from the gateway's clock (Beijing time) before the
/// simulator refuses it.
///
/// The official kits only say "必须取当前时间，否则会报txnTime无效" (txnTime must be the current
/// time, or the gateway answers that it is invalid) and give neither the tolerance nor the
/// respCode. The simulator's choice: ±15 minutes, answered `respCode=10` (the format/value
/// class) with `respMsg=txnTime无效[txnTime][9100002]`. That catches what goes wrong in
/// practice (a server building txnTime in UTC is 8 hours off, a replayed or reused request
/// is stale) and tolerates ordinary clock skew. Queries are exempt: their txnTime names the
/// original transaction.
pub(crate) const TXN_TIME_WINDOW: Duration = Duration::minutes(15);

/// A request's own `txnTime` (consume, refund, cancel, file transfer): well formed and within
/// [`TXN_TIME_WINDOW`] of `now`.
fn fresh_txn_time(req: &Fields, now: OffsetDateTime) -> Result<OffsetDateTime, Reject> {
    let t = parse_txn_time(need(req, f::TXN_TIME)?).ok_or_else(|| Reject::format(f::TXN_TIME))?;
    if (t - now).abs() > TXN_TIME_WINDOW {
        return Err(Reject("10", "txnTime无效[txnTime][9100002]".into()));
    }
    Ok(t)
}

/// The settlement day of `t`: production cut-off 23:00 Beijing (23:00 D-1 to 23:00 D).
fn settle_date(t: OffsetDateTime) -> Date {
    (china(t) + Duration::hours(1)).date()
}

fn mmdd(d: Date) -> String {
    format!("{:02}{:02}", u8::from(d.month()), d.day())
}

fn resp_msg_fields(f: &mut Fields, code: &str, msg: &str) {
    f.insert(f::RESP_CODE.into(), code.into());
    f.insert(f::RESP_MSG.into(), msg.into());
}

/// The UnionPay gateway's state: transactions by (merId, orderId), injected ZM discrepancies.
#[derive(Debug)]
pub(crate) struct UnionpaySim {
    setup: UnionpaySetup,
    txns: Mutex<BTreeMap<(String, String), Txn>>,
    discrepancies: Mutex<Vec<(Date, BillDiscrepancy)>>,
    base_url: String,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Which UnionPay endpoint a request is for (the fault-injection name), if any.
pub(crate) fn endpoint(req: &MockRequest) -> Option<&'static str> {
    if req.method != http::Method::POST {
        return None;
    }
    match req.path.as_str() {
        paths::FRONT_TRANS => Some("unionpay.front"),
        paths::BACK_TRANS => Some("unionpay.back"),
        paths::APP_TRANS => Some("unionpay.app"),
        paths::QUERY_TRANS => Some("unionpay.query"),
        FILE_TRANS_ALT => Some("unionpay.file"),
        paths::FILE_TRANS
            if memchr_str(&req.body, b"txnType=76") || memchr_str(&req.body, b"txnType%3D76") =>
        {
            Some("unionpay.file")
        }
        _ => None,
    }
}

fn memchr_str(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Serve a UnionPay request with the fault table applied. `None` drops the connection.
pub(crate) async fn serve(
    shared: &Shared,
    req: &MockRequest,
    endpoint: &'static str,
) -> Option<MockResponse> {
    let sim = &shared.unionpay;
    match shared.faults.check(Channel::Unionpay, endpoint) {
        Some(FaultKind::DropConnection) => None,
        Some(FaultKind::Timeout) => {
            tokio::time::sleep(shared.hang_for).await;
            None
        }
        Some(FaultKind::HttpStatus { status }) => Some(MockResponse::text(
            status,
            &format!("<html><body><h1>{status}</h1></body></html>"),
        )),
        Some(FaultKind::SystemError) => Some(sim.system_error(req)),
        Some(f) => {
            if let Some(d) = f.latency() {
                tokio::time::sleep(d).await;
            }
            Some(sim.handle(shared, req, endpoint))
        }
        None => Some(sim.handle(shared, req, endpoint)),
    }
}

/// Decode a form body once; values in the charset named by `encoding` (UTF-8 or GBK).
fn decode_form(body: &[u8]) -> Result<Fields, Reject> {
    let pairs = qstring::form_decode(body).map_err(|_| Reject::format("body"))?;
    let gbk = pairs.iter().any(|(k, v)| {
        k == b"encoding" && (v.eq_ignore_ascii_case(b"GBK") || v.eq_ignore_ascii_case(b"GB18030"))
    });
    let text = |b: &[u8]| -> String {
        if gbk {
            encoding_rs::GBK.decode(b).0.into_owned()
        } else {
            String::from_utf8_lossy(b).into_owned()
        }
    };
    Ok(pairs
        .into_iter()
        .map(|(k, v)| (text(&k), text(&v)))
        .collect())
}

fn need<'a>(req: &'a Fields, name: &str) -> Result<&'a str, Reject> {
    req.get(name)
        .map(String::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Reject::missing(name))
}

fn check_order_id(v: &str) -> Result<(), Reject> {
    if (8..=32).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err(Reject::format(f::ORDER_ID))
    }
}

fn amount(req: &Fields) -> Result<u64, Reject> {
    let v = need(req, f::TXN_AMT)?;
    if v.is_empty() || v.len() > 12 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Reject::format(f::TXN_AMT));
    }
    match v.parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(Reject::format(f::TXN_AMT)),
    }
}

impl UnionpaySim {
    pub(crate) fn new(setup: UnionpaySetup, base_url: String) -> Self {
        Self {
            setup,
            txns: Mutex::new(BTreeMap::new()),
            discrepancies: Mutex::new(Vec::new()),
            base_url,
        }
    }

    pub(crate) fn inject_bill_discrepancy(&self, date: Date, kind: BillDiscrepancy) {
        lock(&self.discrepancies).push((date, kind));
    }

    pub(crate) fn clear_bill_discrepancies(&self) {
        lock(&self.discrepancies).clear();
    }

    /// Sign `fields` as UnionPay signs answers and notifications: empty values dropped,
    /// `signMethod` set, `signPubKeyCert` (01) added before the string is built.
    fn sign(&self, method: SignMethod, mut fields: Fields) -> Fields {
        fields.retain(|_, v| !v.is_empty());
        fields.remove(f::SIGNATURE);
        fields.remove(f::CERT_ID);
        fields.insert(f::SIGN_METHOD.into(), method.code().into());
        let sig = match method {
            SignMethod::Rsa => {
                fields.insert(
                    f::SIGN_PUB_KEY_CERT.into(),
                    self.setup.signer_cert_pem().to_owned(),
                );
                sign::rsa_sha256_signature(self.setup.signer_key(), &sign::string_to_sign(&fields))
            }
            SignMethod::SecureKeySm3 => sign::secure_key_sm3_signature(
                &sign::string_to_sign(&fields),
                self.setup.secure_key().expose_secret(),
            ),
            _ => sign::secure_key_sha256_signature(
                &sign::string_to_sign(&fields),
                self.setup.secure_key().expose_secret(),
            ),
        };
        fields.insert(f::SIGNATURE.into(), sig);
        fields
    }

    /// A synchronous answer: raw `k=v&…`, not URL-encoded, HTTP 200.
    fn answer(&self, method: SignMethod, fields: Fields) -> MockResponse {
        let signed = self.sign(method, fields);
        MockResponse {
            status: 200,
            headers: vec![("Content-Type".into(), "text/plain;charset=UTF-8".into())],
            body: Bytes::from(qstring::to_raw_string(&signed)),
        }
    }

    /// The request fields an answer echoes.
    fn echo(req: &Fields) -> Fields {
        const ECHO: [&str; 12] = [
            f::VERSION,
            f::ENCODING,
            f::BIZ_TYPE,
            f::TXN_TYPE,
            f::TXN_SUB_TYPE,
            f::ACCESS_TYPE,
            f::MER_ID,
            f::ORDER_ID,
            f::TXN_TIME,
            f::TXN_AMT,
            f::CURRENCY_CODE,
            f::REQ_RESERVED,
        ];
        ECHO.iter()
            .filter_map(|k| req.get(*k).map(|v| ((*k).to_owned(), v.clone())))
            .collect()
    }

    fn method_of(req: &Fields) -> SignMethod {
        req.get(f::SIGN_METHOD)
            .and_then(|m| SignMethod::from_code(m))
            .unwrap_or(SignMethod::Rsa)
    }

    fn reject(&self, req: &Fields, r: &Reject) -> MockResponse {
        let mut out = Self::echo(req);
        out.entry(f::VERSION.into())
            .or_insert_with(|| codes::VERSION_5_1_0.into());
        out.entry(f::ENCODING.into())
            .or_insert_with(|| codes::ENCODING_UTF8.into());
        resp_msg_fields(&mut out, r.0, &r.1);
        self.answer(Self::method_of(req), out)
    }

    /// Check the signature of a request exactly as the gateway does: version, the merchant,
    /// `certId` + SHA256withRSA (01) or the secure key (11, 12).
    fn verify(&self, req: &Fields) -> Result<SignMethod, Reject> {
        let version = need(req, f::VERSION)?;
        if version != codes::VERSION_5_1_0 {
            return Err(Reject::format(f::VERSION));
        }
        need(req, f::ENCODING)?;
        let method = SignMethod::from_code(need(req, f::SIGN_METHOD)?)
            .ok_or_else(|| Reject::format(f::SIGN_METHOD))?;
        need(req, f::SIGNATURE)?;
        let mer_id = need(req, f::MER_ID)?;
        if mer_id != self.setup.mer_id() {
            return Err(Reject("31", "商户状态不正确[2000011]".into()));
        }
        match method {
            SignMethod::Rsa => {
                let cert_id = need(req, f::CERT_ID)?;
                if cert_id != self.setup.cert_id() {
                    return Err(Reject::signature());
                }
                sign::verify_rsa_sha256(req, self.setup.merchant_key().public_key())
                    .map_err(|_| Reject::signature())?;
            }
            m => sign::verify_secure_key(req, m, self.setup.secure_key())
                .map_err(|_| Reject::signature())?,
        }
        Ok(method)
    }

    pub(crate) fn system_error(&self, req: &MockRequest) -> MockResponse {
        let fields = decode_form(&req.body).unwrap_or_default();
        self.reject(
            &fields,
            &Reject("03", "交易通讯超时，请发起查询交易[0300000]".into()),
        )
    }

    pub(crate) fn handle(
        &self,
        shared: &Shared,
        req: &MockRequest,
        endpoint: &'static str,
    ) -> MockResponse {
        let fields = match decode_form(&req.body) {
            Ok(f) => f,
            Err(r) => return self.reject(&Fields::new(), &r),
        };
        let front = endpoint == "unionpay.front";
        let result = self.verify(&fields).and_then(|method| match endpoint {
            "unionpay.front" => self.front(shared, &fields, method),
            "unionpay.app" => self.app(shared, &fields, method),
            "unionpay.back" => self.back(shared, &fields, method),
            "unionpay.query" => self.query(shared, &fields, method),
            _ => self.file(shared, &fields, method),
        });
        match result {
            Ok(r) => r,
            Err(r) if front => error_page(&r),
            Err(r) => self.reject(&fields, &r),
        }
    }

    fn next_ids(&self, shared: &Shared, t: OffsetDateTime) -> (String, String, String) {
        let seq = shared.store.next_seq();
        let trace_no = format!("{:06}", seq % 1_000_000);
        let c = china(t);
        let trace_time = format!(
            "{:02}{:02}{:02}{:02}{:02}",
            u8::from(c.month()),
            c.day(),
            c.hour(),
            c.minute(),
            c.second()
        );
        let query_id = format!("65{:02}{trace_time}{trace_no}{}", c.year() % 100, seq % 10);
        (query_id, trace_no, trace_time)
    }

    /// Records a new consume order (front or app); `Err(12)` for a reused orderId.
    fn create_consume(
        &self,
        shared: &Shared,
        req: &Fields,
        method: SignMethod,
        trade_type: &str,
        default_timeout: Duration,
    ) -> Result<(Order, Txn), Reject> {
        let now = shared.now();
        let order_id = need(req, f::ORDER_ID)?;
        check_order_id(order_id)?;
        let txn_time_s = need(req, f::TXN_TIME)?;
        fresh_txn_time(req, now)?;
        let amt = amount(req)?;
        need(req, f::ACCESS_TYPE)?;
        if need(req, f::CURRENCY_CODE)? != codes::CURRENCY_CNY {
            return Err(Reject::format(f::CURRENCY_CODE));
        }
        let back_url = need(req, f::BACK_URL)?.to_owned();
        let expire_at = match req.get(f::PAY_TIMEOUT).filter(|v| !v.is_empty()) {
            Some(v) => {
                let t = parse_txn_time(v).ok_or_else(|| Reject::format(f::PAY_TIMEOUT))?;
                if t <= now {
                    return Err(Reject(
                        "39",
                        "交易不在受理时间范围内[payTimeout][5000039]".into(),
                    ));
                }
                t
            }
            None => now + default_timeout,
        };
        let key = (self.setup.mer_id().to_owned(), order_id.to_owned());
        let mut txns = lock(&self.txns);
        if txns.contains_key(&key) {
            return Err(Reject::duplicate());
        }
        let (query_id, trace_no, trace_time) = self.next_ids(shared, now);
        let txn = Txn {
            order_id: order_id.to_owned(),
            txn_type: codes::TXN_CONSUME.into(),
            txn_sub_type: codes::SUB_CONSUME.into(),
            biz_type: need(req, f::BIZ_TYPE)?.to_owned(),
            channel_type: req
                .get(f::CHANNEL_TYPE)
                .cloned()
                .unwrap_or_else(|| codes::CHANNEL_PC.into()),
            txn_time: txn_time_s.to_owned(),
            amount: amt,
            query_id: query_id.clone(),
            trace_no,
            trace_time,
            back_url: Some(back_url.clone()),
            front_url: req.get(f::FRONT_URL).cloned(),
            req_reserved: req.get(f::REQ_RESERVED).cloned(),
            method,
            orig_qry_id: None,
            done_at: None,
        };
        let order = Order {
            channel: Channel::Unionpay,
            merchant: self.setup.mer_id().to_owned(),
            out_trade_no: order_id.to_owned(),
            transaction_id: query_id,
            amount: Money::cny(amt),
            status: OrderStatus::NotPaid,
            trade_type: trade_type.to_owned(),
            description: req.get(f::ORDER_DESC).cloned().unwrap_or_default(),
            notify_url: Some(back_url),
            attach: req.get(f::REQ_RESERVED).cloned(),
            created_at: now,
            expire_at,
            paid_at: None,
            payer: None,
            prepay: serde_json::Value::Null,
            extra: serde_json::json!({
                "bizType": txn.biz_type,
                "channelType": txn.channel_type,
                "txnTime": txn.txn_time,
                "issInsCode": req.get(f::ISS_INS_CODE),
            }),
            refunds: Vec::new(),
            fingerprint: String::new(),
            auto_pay_at: None,
            reverse_recalls: 0,
            wallet: crate::Wallet::Balance,
        };
        txns.insert(key, txn.clone());
        drop(txns);
        shared.store.with(now, |book| book.insert(order.clone()));
        Ok((order, txn))
    }

    /// `frontTransReq.do`: B2C (000201) and B2B (000202) gateway consume; answers the
    /// simulator's cashier page.
    fn front(
        &self,
        shared: &Shared,
        req: &Fields,
        method: SignMethod,
    ) -> Result<MockResponse, Reject> {
        if need(req, f::TXN_TYPE)? != codes::TXN_CONSUME
            || need(req, f::TXN_SUB_TYPE)? != codes::SUB_CONSUME
        {
            return Err(Reject("32", "商户无此交易权限[txnType][2000032]".into()));
        }
        let biz = need(req, f::BIZ_TYPE)?;
        let channel = need(req, f::CHANNEL_TYPE)?;
        let b2b = match biz {
            codes::BIZ_B2C => false,
            codes::BIZ_B2B => true,
            _ => return Err(Reject("32", "商户无此交易权限[bizType][2000032]".into())),
        };
        if b2b && channel != codes::CHANNEL_PC || !matches!(channel, "07" | "08") {
            return Err(Reject::format(f::CHANNEL_TYPE));
        }
        need(req, f::FRONT_URL)?;
        let (order, _) = if b2b {
            self.create_consume(shared, req, method, "B2B", Duration::days(1))?
        } else {
            self.create_consume(shared, req, method, "B2C", Duration::hours(1))?
        };
        Ok(cashier_page(&order, b2b))
    }

    /// `appTransReq.do`: app consume, answers `tn`.
    fn app(
        &self,
        shared: &Shared,
        req: &Fields,
        method: SignMethod,
    ) -> Result<MockResponse, Reject> {
        if need(req, f::TXN_TYPE)? != codes::TXN_CONSUME {
            return Err(Reject("32", "商户无此交易权限[txnType][2000032]".into()));
        }
        need(req, f::BIZ_TYPE)?;
        let (order, _) = self.create_consume(shared, req, method, "APP", Duration::hours(1))?;
        let tn = format!(
            "{}{:07}",
            txn_time(order.created_at),
            shared.store.next_seq() % 10_000_000
        );
        shared.store.with(shared.now(), |book| {
            if let Some(o) = book.get_mut(Channel::Unionpay, &order.merchant, &order.out_trade_no) {
                o.prepay = serde_json::json!({ "tn": tn });
            }
        });
        let mut out = Self::echo(req);
        resp_msg_fields(&mut out, "00", OK_MSG);
        out.insert(f::TN.into(), tn);
        Ok(self.answer(method, out))
    }

    /// `backTransReq.do`: refund (04) and consume cancel (31).
    fn back(
        &self,
        shared: &Shared,
        req: &Fields,
        method: SignMethod,
    ) -> Result<MockResponse, Reject> {
        let txn_type = need(req, f::TXN_TYPE)?;
        if txn_type != codes::TXN_REFUND && txn_type != codes::TXN_CANCEL {
            return Err(Reject("32", "商户无此交易权限[txnType][2000032]".into()));
        }
        let order_id = need(req, f::ORDER_ID)?;
        check_order_id(order_id)?;
        let txn_time_s = need(req, f::TXN_TIME)?;
        let now = shared.now();
        fresh_txn_time(req, now)?;
        let amt = amount(req)?;
        let orig = need(req, f::ORIG_QRY_ID)?;
        let back_url = need(req, f::BACK_URL)?.to_owned();
        let mer = self.setup.mer_id().to_owned();
        let mut txns = lock(&self.txns);
        if txns.contains_key(&(mer.clone(), order_id.to_owned())) {
            return Err(Reject::duplicate());
        }
        let orig_txn = txns
            .values()
            .find(|t| t.query_id == orig && t.txn_type == codes::TXN_CONSUME)
            .cloned()
            .ok_or_else(Reject::orig_state)?;
        let cancel = txn_type == codes::TXN_CANCEL;
        let (query_id, trace_no, trace_time) = self.next_ids(shared, now);
        let record = shared.store.with(now, |book| {
            let o = book
                .get_mut(Channel::Unionpay, &mer, &orig_txn.order_id)
                .ok_or_else(Reject::orig_state)?;
            if o.status != OrderStatus::Success {
                return Err(Reject::orig_state());
            }
            let paid = o.amount.minor_units();
            let refunded = o.refunded().minor_units();
            if refunded >= paid {
                return Err(Reject("45", "已被成功退货或已被成功撤销[2040007]".into()));
            }
            if cancel {
                let same_day = o.paid_at.map(settle_date) == Some(settle_date(now));
                if !same_day || refunded > 0 {
                    return Err(Reject::orig_state());
                }
                if amt != paid {
                    return Err(Reject::mismatch(f::TXN_AMT));
                }
            } else if amt > paid - refunded {
                return Err(Reject::mismatch(f::TXN_AMT));
            }
            let r = RefundRecord {
                out_refund_no: order_id.to_owned(),
                refund_id: query_id.clone(),
                amount: Money::cny(amt),
                status: RefundStatus::Success,
                created_at: now,
                success_at: Some(now),
                notify_url: Some(back_url.clone()),
                reason: Some(if cancel { "消费撤销" } else { "退货" }.to_owned()),
            };
            o.refunds.push(r.clone());
            Ok(r)
        })?;
        let txn = Txn {
            order_id: order_id.to_owned(),
            txn_type: txn_type.to_owned(),
            txn_sub_type: codes::SUB_DEFAULT.into(),
            biz_type: req
                .get(f::BIZ_TYPE)
                .cloned()
                .unwrap_or_else(|| orig_txn.biz_type.clone()),
            channel_type: req
                .get(f::CHANNEL_TYPE)
                .cloned()
                .unwrap_or_else(|| orig_txn.channel_type.clone()),
            txn_time: txn_time_s.to_owned(),
            amount: amt,
            query_id: query_id.clone(),
            trace_no,
            trace_time,
            back_url: Some(back_url),
            front_url: None,
            req_reserved: req.get(f::REQ_RESERVED).cloned(),
            method,
            orig_qry_id: Some(orig.to_owned()),
            done_at: record.success_at,
        };
        txns.insert((mer, order_id.to_owned()), txn.clone());
        drop(txns);
        let mut out = Self::echo(req);
        resp_msg_fields(&mut out, "00", OK_MSG);
        out.insert(f::ORIG_QRY_ID.into(), orig.to_owned());
        out.insert(f::QUERY_ID.into(), query_id);
        let resp = self.answer(method, out);
        // Back transactions notify on success and failure; this one succeeded at once.
        if let Some(o) = self.notification(&txn, now, None) {
            shared.notifier.dispatch(o);
        }
        Ok(resp)
    }

    /// The fields of a finished transaction, as in its notification and query answer.
    /// `card`: the payer's card, reported (masked) as `accNo` on consumes.
    fn result_fields(
        &self,
        t: &Txn,
        done: OffsetDateTime,
        card: Option<&crate::wallet::UnionpayCard>,
    ) -> Fields {
        let mut out = Fields::new();
        let mut put = |k: &str, v: &str| {
            out.insert(k.to_owned(), v.to_owned());
        };
        put(f::VERSION, codes::VERSION_5_1_0);
        put(f::ENCODING, codes::ENCODING_UTF8);
        put(f::ACCESS_TYPE, codes::ACCESS_TYPE_MERCHANT);
        put(f::BIZ_TYPE, &t.biz_type);
        put(f::TXN_TYPE, &t.txn_type);
        put(f::TXN_SUB_TYPE, &t.txn_sub_type);
        put(f::MER_ID, self.setup.mer_id());
        put(f::ORDER_ID, &t.order_id);
        put(f::TXN_TIME, &t.txn_time);
        put(f::TXN_AMT, &t.amount.to_string());
        put(f::CURRENCY_CODE, codes::CURRENCY_CNY);
        put(f::QUERY_ID, &t.query_id);
        put(f::TRACE_NO, &t.trace_no);
        put(f::TRACE_TIME, &t.trace_time);
        put(f::SETTLE_AMT, &t.amount.to_string());
        put("settleCurrencyCode", codes::CURRENCY_CNY);
        put(f::SETTLE_DATE, &mmdd(settle_date(done)));
        if let Some(r) = &t.req_reserved {
            put(f::REQ_RESERVED, r);
        }
        if let Some(o) = &t.orig_qry_id {
            put(f::ORIG_QRY_ID, o);
        }
        if let Some(c) = card {
            put(f::ACC_NO, &c.masked);
            put("issuerIdentifyMode", "0");
        }
        out
    }

    fn notification(
        &self,
        t: &Txn,
        done: OffsetDateTime,
        card: Option<&crate::wallet::UnionpayCard>,
    ) -> Option<Outgoing> {
        let url = t.back_url.clone()?;
        let mut fields = self.result_fields(t, done, card);
        resp_msg_fields(&mut fields, "00", OK_MSG);
        let signed = self.sign(t.method, fields);
        let event_type = match t.txn_type.as_str() {
            codes::TXN_REFUND => "refund",
            codes::TXN_CANCEL => "cancel",
            _ => "consume",
        };
        Some(Outgoing {
            channel: Channel::Unionpay,
            event_id: t.query_id.clone(),
            event_type: event_type.to_owned(),
            url,
            body: Bytes::from(qstring::form_encode(&signed)),
            signer: std::sync::Arc::new(|_| {
                vec![(
                    "Content-Type".to_owned(),
                    "application/x-www-form-urlencoded;charset=UTF-8".to_owned(),
                )]
            }),
            schedule: RETRY_SCHEDULE,
            ack: |status, _| status == 200 || status == 302,
        })
    }

    /// The backUrl notification of a consume that just succeeded.
    pub(crate) fn payment_notification(&self, order: &Order) -> Option<Outgoing> {
        let txn = lock(&self.txns)
            .get(&(order.merchant.clone(), order.out_trade_no.clone()))
            .cloned()?;
        self.notification(&txn, order.paid_at?, Some(&order.wallet.unionpay_card()))
    }

    /// The signed fields a browser posts to frontUrl after a successful payment.
    fn front_result(&self, order: &Order) -> Option<(String, Fields)> {
        let txn = lock(&self.txns)
            .get(&(order.merchant.clone(), order.out_trade_no.clone()))
            .cloned()?;
        let url = txn.front_url.clone()?;
        let mut fields =
            self.result_fields(&txn, order.paid_at?, Some(&order.wallet.unionpay_card()));
        resp_msg_fields(&mut fields, "00", OK_MSG);
        Some((url, self.sign(txn.method, fields)))
    }

    /// `queryTrans.do`: by the original orderId + txnTime.
    fn query(
        &self,
        shared: &Shared,
        req: &Fields,
        method: SignMethod,
    ) -> Result<MockResponse, Reject> {
        let order_id = need(req, f::ORDER_ID)?;
        let txn_time_s = need(req, f::TXN_TIME)?;
        let mer = self.setup.mer_id().to_owned();
        let txn = lock(&self.txns)
            .get(&(mer.clone(), order_id.to_owned()))
            .filter(|t| t.txn_time == txn_time_s)
            .cloned()
            .ok_or_else(Reject::not_found)?;
        let now = shared.now();
        let mut out = Self::echo(req);
        out.remove(f::TXN_AMT);
        resp_msg_fields(&mut out, "00", OK_MSG);
        let mut card = None;
        let (orig_code, orig_msg, done) = if txn.txn_type == codes::TXN_CONSUME {
            let order = shared
                .store
                .with(now, |book| {
                    book.get_mut(Channel::Unionpay, &mer, order_id).cloned()
                })
                .ok_or_else(Reject::not_found)?;
            card = Some(order.wallet.unionpay_card());
            match order.status {
                OrderStatus::Success => ("00", OK_MSG.to_owned(), order.paid_at),
                OrderStatus::NotPaid | OrderStatus::UserPaying => (
                    "05",
                    "交易已受理，请稍后查询交易结果[6154037]".to_owned(),
                    None,
                ),
                OrderStatus::PayError => (
                    "60",
                    "交易失败，详情请咨询您的发卡行[6160000]".to_owned(),
                    None,
                ),
                _ => ("01", "交易失败。详情请咨询95516[1000001]".to_owned(), None),
            }
        } else {
            ("00", OK_MSG.to_owned(), txn.done_at)
        };
        match done {
            Some(at) => out.extend(self.result_fields(&txn, at, card.as_ref())),
            None => {
                for (k, v) in [
                    (f::BIZ_TYPE, txn.biz_type.as_str()),
                    (f::TXN_TYPE, txn.txn_type.as_str()),
                    (f::TXN_SUB_TYPE, txn.txn_sub_type.as_str()),
                    (f::TXN_AMT, &txn.amount.to_string()),
                    (f::SETTLE_AMT, "0"),
                    (f::CURRENCY_CODE, codes::CURRENCY_CNY),
                ] {
                    out.insert(k.to_owned(), v.to_owned());
                }
            }
        }
        resp_msg_fields(&mut out, "00", OK_MSG);
        out.insert(f::ORIG_RESP_CODE.into(), orig_code.into());
        out.insert(f::ORIG_RESP_MSG.into(), orig_msg);
        Ok(self.answer(method, out))
    }

    /// The rows of settle date `date`, discrepancies applied.
    fn zm_rows(&self, shared: &Shared, date: Date) -> Vec<zm::Row> {
        let mer = self.setup.mer_id().to_owned();
        shared.store.expire(shared.now());
        let orders = shared.store.orders();
        let txns = lock(&self.txns).clone();
        let fee = |amt: u64| -> u64 {
            (u128::from(amt) * u128::from(self.setup.fee_rate_ppm) + 500_000)
                .checked_div(1_000_000)
                .and_then(|v| u64::try_from(v).ok())
                .unwrap_or(0)
        };
        // The card of a consume, by orderId; refunds and cancels go back to it.
        let card = |order_id: &str| {
            orders
                .iter()
                .find(|o| {
                    o.channel == Channel::Unionpay
                        && o.merchant == mer
                        && o.out_trade_no == order_id
                })
                .map_or(crate::Wallet::Balance, |o| o.wallet.clone())
                .unionpay_card()
        };
        let mut rows: Vec<(OffsetDateTime, zm::Row)> = Vec::new();
        for t in txns.values() {
            let base = |code, done, reverse, orig: Option<&Txn>| {
                let c = card(orig.map_or(t.order_id.as_str(), |o| o.order_id.as_str()));
                (
                    done,
                    zm::Row {
                        code,
                        trace_no: t.trace_no.clone(),
                        trace_time: t.trace_time.clone(),
                        acc_no: c.masked,
                        card_type: c.card_type,
                        amount: t.amount,
                        channel_type: t.channel_type.clone(),
                        query_id: t.query_id.clone(),
                        order_id: t.order_id.clone(),
                        orig_trace: orig.map(|o| (o.trace_no.clone(), o.trace_time.clone())),
                        fee: fee(t.amount),
                        reverse,
                        txn_type: t.txn_type.clone(),
                        txn_sub_type: t.txn_sub_type.clone(),
                        biz_type: t.biz_type.clone(),
                        orig_qry_id: t.orig_qry_id.clone(),
                        mer_id: mer.clone(),
                        req_reserved: t.req_reserved.clone(),
                        orig_order_id: orig.map(|o| o.order_id.clone()),
                    },
                )
            };
            if t.txn_type == codes::TXN_CONSUME {
                let paid = orders
                    .iter()
                    .find(|o| {
                        o.channel == Channel::Unionpay
                            && o.merchant == mer
                            && o.out_trade_no == t.order_id
                    })
                    .and_then(|o| o.paid_at.filter(|_| o.status == OrderStatus::Success));
                if let Some(at) = paid.filter(|at| settle_date(*at) == date) {
                    rows.push(base("S22", at, false, None));
                }
            } else if let Some(at) = t.done_at.filter(|at| settle_date(*at) == date) {
                let orig = txns
                    .values()
                    .find(|o| Some(&o.query_id) == t.orig_qry_id.as_ref());
                let code = if t.txn_type == codes::TXN_CANCEL {
                    "S31"
                } else {
                    "S30"
                };
                rows.push(base(code, at, true, orig));
            }
        }
        rows.sort_by_key(|(at, r)| (*at, r.query_id.clone()));
        let mut rows: Vec<zm::Row> = rows.into_iter().map(|(_, r)| r).collect();
        let kinds: Vec<BillDiscrepancy> = lock(&self.discrepancies)
            .iter()
            .filter(|(d, _)| *d == date)
            .map(|(_, k)| *k)
            .collect();
        zm::apply(&mut rows, date, &kinds, &mer);
        rows
    }

    /// `fileTransfer` (txnType 76): the ZM file of a past settle date, from 09:00 Beijing of
    /// the next day; `98` before that or for a day without transactions.
    fn file(
        &self,
        shared: &Shared,
        req: &Fields,
        method: SignMethod,
    ) -> Result<MockResponse, Reject> {
        if need(req, f::TXN_TYPE)? != codes::TXN_FILE_TRANSFER {
            return Err(Reject::format(f::TXN_TYPE));
        }
        fresh_txn_time(req, shared.now())?;
        let settle = need(req, f::SETTLE_DATE)?;
        let file_type = need(req, f::FILE_TYPE)?;
        if file_type != codes::FILE_TYPE_ZM {
            return Err(Reject::format(f::FILE_TYPE));
        }
        let (m, d) = match (
            settle.get(0..2).and_then(|v| v.parse::<u8>().ok()),
            settle.get(2..4).and_then(|v| v.parse::<u8>().ok()),
        ) {
            (Some(m), Some(d)) if settle.len() == 4 => (m, d),
            _ => return Err(Reject::format(f::SETTLE_DATE)),
        };
        let now = china(shared.now());
        let month = time::Month::try_from(m).map_err(|_| Reject::format(f::SETTLE_DATE))?;
        let mut date = Date::from_calendar_date(now.year(), month, d)
            .map_err(|_| Reject::format(f::SETTLE_DATE))?;
        if date > now.date() {
            date = Date::from_calendar_date(now.year() - 1, month, d)
                .map_err(|_| Reject::format(f::SETTLE_DATE))?;
        }
        let publish = date
            .next_day()
            .map(|n| PrimitiveDateTime::new(n, Time::from_hms(9, 0, 0).unwrap_or(Time::MIDNIGHT)));
        let no_file = Reject(codes::RESP_NO_FILE, "文件不存在[0000098]".into());
        let Some(publish) = publish else {
            return Err(no_file);
        };
        if now < publish.assume_offset(CHINA_OFFSET) {
            return Err(no_file);
        }
        let rows = self.zm_rows(shared, date);
        if rows.is_empty() {
            return Err(no_file);
        }
        let yymmdd = format!("{:02}{}", date.year() % 100, mmdd(date));
        let entry = zmwire::zm_entry_name(&yymmdd, self.setup.mer_id());
        let content = zm::file_content(&entry, &zm::file(&rows), publish)
            .map_err(|_| Reject("99", "通用错误[9900000]".into()))?;
        let mut out = Self::echo(req);
        resp_msg_fields(&mut out, "00", OK_MSG);
        out.insert(f::SETTLE_DATE.into(), settle.to_owned());
        out.insert(f::FILE_TYPE.into(), file_type.to_owned());
        out.insert(
            f::FILE_NAME.into(),
            format!(
                "{}_{:04}{}.zip",
                self.setup.mer_id(),
                date.year(),
                mmdd(date)
            ),
        );
        out.insert(f::FILE_CONTENT.into(), content);
        Ok(self.answer(method, out))
    }

    /// The merchant's public setup, for the control API.
    fn public_setup(&self) -> MockResponse {
        MockResponse::json(
            200,
            &serde_json::json!({
                "base_url": self.base_url,
                "front_trans_url": format!("{}{}", self.base_url, paths::FRONT_TRANS),
                "file_trans_url": format!("{}/", self.base_url),
                "mer_id": self.setup.mer_id(),
                "cert_id": self.setup.cert_id(),
                "signer_cn": self.setup.signer_cn(),
                "middle_certificate": self.setup.middle_cert_pem(),
                "root_certificate": self.setup.root_cert_pem(),
            }),
        )
    }

    /// Move a UnionPay order: `submit` (the payer submitted at the corporate bank, awaiting
    /// approval), `approve`/`pay` (paid, notification sent), `fail`.
    pub(crate) fn payer_action(
        &self,
        shared: &Shared,
        order_id: &str,
        action: &str,
    ) -> Result<Order, MockError> {
        let now = shared.now();
        let order = shared.store.with(now, |book| {
            let o = book.find_any(Channel::Unionpay, order_id)?;
            let next = match (action, o.status) {
                ("submit", OrderStatus::NotPaid) => OrderStatus::UserPaying,
                ("confirm-b2b", s) if s.is_open() && o.trade_type == "B2B" => OrderStatus::Success,
                ("pay" | "approve", s) if s.is_open() => OrderStatus::Success,
                ("fail", s) if s.is_open() => OrderStatus::PayError,
                (a, s) => {
                    return Err(MockError::new(
                        MockErrorKind::InvalidTransition,
                        format!(
                            "cannot {a} UnionPay order {order_id} ({}) in state {s:?}",
                            o.trade_type
                        ),
                    ));
                }
            };
            o.status = next;
            if next == OrderStatus::Success {
                o.paid_at = Some(now);
            }
            Ok(o.clone())
        })?;
        if order.status == OrderStatus::Success
            && let Some(n) = self.payment_notification(&order)
        {
            shared.notifier.dispatch(n);
        }
        Ok(order)
    }

    /// What the UnionPay app control does with a `tn`: the payer pays (or fails) the order
    /// `appTransReq.do` answered that `tn` for, with the card [`PayAs`] names.
    fn app_act(shared: &Shared, tn: &str, action: Action, pay: &PayAs) -> Result<Order, MockError> {
        let tn = tn.trim();
        let order_id = shared
            .store
            .orders()
            .into_iter()
            .find(|o| {
                o.channel == Channel::Unionpay
                    && o.prepay.get("tn").and_then(serde_json::Value::as_str) == Some(tn)
            })
            .map(|o| o.out_trade_no)
            .ok_or_else(|| {
                MockError::new(
                    MockErrorKind::NotFound,
                    format!("no UnionPay order has tn {tn}"),
                )
            })?;
        shared.act(Channel::Unionpay, &order_id, action, pay)
    }

    /// Control routes under `/__mock/unionpay/…` and `/__mock/bills/unionpay/…`.
    pub(crate) fn control(
        &self,
        shared: &Shared,
        req: &MockRequest,
        segs: &[&str],
    ) -> MockResponse {
        use http::Method;
        let err = |e: &MockError| {
            let status = match e.kind() {
                MockErrorKind::NotFound => 404,
                MockErrorKind::InvalidTransition => 409,
                _ => 500,
            };
            MockResponse::json(status, &serde_json::json!({"error": e.to_string()}))
        };
        match (&req.method, segs) {
            (&Method::GET, ["unionpay", "setup"]) => self.public_setup(),
            (&Method::POST, ["unionpay", "orders", no, "confirm-b2b"]) => {
                match self.payer_action(shared, no, "confirm-b2b") {
                    Ok(o) => MockResponse::json(200, &serde_json::to_value(&o).unwrap_or_default()),
                    Err(e) => err(&e),
                }
            }
            (&Method::POST, ["unionpay", "app", tn, action]) => {
                #[derive(serde::Deserialize, Default)]
                struct Body {
                    #[serde(default)]
                    payer: Option<String>,
                    #[serde(default)]
                    wallet: Option<crate::Wallet>,
                }
                let action = match *action {
                    "pay" => Action::Pay,
                    "fail" => Action::Fail,
                    _ => {
                        return MockResponse::json(
                            400,
                            &serde_json::json!({"error": "action must be pay or fail"}),
                        );
                    }
                };
                let body = if req.body.iter().all(u8::is_ascii_whitespace) {
                    Body::default()
                } else {
                    match serde_json::from_slice::<Body>(&req.body) {
                        Ok(b) => b,
                        Err(e) => {
                            return MockResponse::json(
                                400,
                                &serde_json::json!({"error": e.to_string()}),
                            );
                        }
                    }
                };
                let pay = PayAs {
                    payer: body.payer,
                    wallet: body.wallet.unwrap_or_default(),
                };
                match Self::app_act(shared, tn, action, &pay) {
                    Ok(o) => MockResponse::json(200, &serde_json::to_value(&o).unwrap_or_default()),
                    Err(e) if e.kind() == MockErrorKind::InvalidInput => {
                        MockResponse::json(400, &serde_json::json!({"error": e.to_string()}))
                    }
                    Err(e) => err(&e),
                }
            }
            (&Method::POST, ["unionpay", "cashier", no, action]) => {
                match self.payer_action(shared, no, action) {
                    Ok(o) => self.after_cashier(&o),
                    Err(e) => html(409, &format!("<p>{}</p>", escape(&e.to_string()))),
                }
            }
            (&Method::POST, ["bills", "unionpay", "discrepancies"]) => {
                #[derive(serde::Deserialize)]
                struct Body {
                    date: String,
                    kind: BillDiscrepancy,
                }
                let Ok(body) = serde_json::from_slice::<Body>(&req.body) else {
                    return MockResponse::json(
                        400,
                        &serde_json::json!({"error": "expected {\"date\":\"YYYY-MM-DD\",\"kind\":…}"}),
                    );
                };
                let Some(date) = crate::wechat::parse_date(&body.date) else {
                    return MockResponse::json(
                        400,
                        &serde_json::json!({"error": "date must be YYYY-MM-DD"}),
                    );
                };
                self.inject_bill_discrepancy(date, body.kind);
                MockResponse::json(
                    200,
                    &serde_json::json!({"injected": body.kind, "date": body.date}),
                )
            }
            (&Method::DELETE, ["bills", "unionpay", "discrepancies"]) => {
                self.clear_bill_discrepancies();
                MockResponse::json(200, &serde_json::json!({"cleared": true}))
            }
            _ => MockResponse::json(
                404,
                &serde_json::json!({"error": "unknown UnionPay control endpoint"}),
            ),
        }
    }

    /// The page after a cashier button: a paid order posts the signed result to frontUrl.
    fn after_cashier(&self, o: &Order) -> MockResponse {
        match o.status {
            OrderStatus::Success => match self.front_result(o) {
                Some((url, fields)) => html(200, &auto_form(&url, &fields)),
                None => html(200, "<p>支付成功 (paid)</p>"),
            },
            OrderStatus::UserPaying => html(
                200,
                &format!(
                    "<p>已提交，等待企业网银复核 (submitted; awaiting the corporate approver)</p>\
                     <form method=\"post\" action=\"/__mock/unionpay/cashier/{0}/approve\">\
                     <button>复核通过 (approve)</button></form>",
                    escape(&o.out_trade_no)
                ),
            ),
            _ => html(200, "<p>支付失败 (payment failed)</p>"),
        }
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn html(status: u16, body: &str) -> MockResponse {
    MockResponse {
        status,
        headers: vec![("Content-Type".into(), "text/html;charset=UTF-8".into())],
        body: Bytes::from(format!(
            "<!DOCTYPE html><html><head><meta charset=\"UTF-8\"><title>银联在线支付 (payagg-mock)</title></head><body>{body}</body></html>"
        )),
    }
}

fn auto_form(url: &str, fields: &Fields) -> String {
    let mut s = format!(
        "<form id=\"pay_form\" action=\"{}\" method=\"post\">",
        escape(url)
    );
    for (k, v) in fields {
        s.push_str(&format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            escape(k),
            escape(v)
        ));
    }
    s.push_str("<button>返回商户 (back to the merchant)</button></form><script>document.getElementById('pay_form').submit();</script>");
    s
}

/// The gateway's error page for a refused front request.
fn error_page(r: &Reject) -> MockResponse {
    html(
        200,
        &format!(
            "<h1>交易失败</h1><p id=\"respCode\">{}</p><p id=\"respMsg\">{}</p>",
            r.0,
            escape(&r.1)
        ),
    )
}

/// The simulator's cashier (B2C card / B2B corporate online banking) for an arrived order.
fn cashier_page(o: &Order, b2b: bool) -> MockResponse {
    let no = escape(&o.out_trade_no);
    let amount = o.amount.to_major_string();
    let buttons = if b2b {
        format!(
            "<form method=\"post\" action=\"/__mock/unionpay/cashier/{no}/submit\"><button>提交企业网银 (submit, awaiting approval)</button></form>\
             <form method=\"post\" action=\"/__mock/unionpay/cashier/{no}/approve\"><button>提交并复核 (submit and approve)</button></form>\
             <form method=\"post\" action=\"/__mock/unionpay/cashier/{no}/fail\"><button>失败 (fail)</button></form>"
        )
    } else {
        format!(
            "<form method=\"post\" action=\"/__mock/unionpay/cashier/{no}/pay\"><button>支付 (pay)</button></form>\
             <form method=\"post\" action=\"/__mock/unionpay/cashier/{no}/fail\"><button>失败 (fail)</button></form>"
        )
    };
    html(
        200,
        &format!(
            "<h1>{}</h1><p>订单号 <span id=\"orderId\">{no}</span> 金额 ¥{amount}</p>{buttons}",
            if b2b {
                "银联企业网银支付 (B2B)"
            } else {
                "银联在线支付 (B2C)"
            }
        ),
    )
}

impl crate::MockServer {
    /// The UnionPay merchant, its PFX and the gateway's chain.
    #[must_use]
    pub fn unionpay(&self) -> &UnionpaySetup {
        &self.config().unionpay
    }

    /// The corporate payer submitted the B2B order at the bank; it waits for the approver
    /// (query: `origRespCode=05`).
    ///
    /// # Errors
    /// [`MockError`] (`NotFound`, `InvalidTransition`).
    pub fn unionpay_bank_submit(&self, order_id: &str) -> Result<Order, MockError> {
        self.shared()
            .unionpay
            .payer_action(self.shared(), order_id, "submit")
    }

    /// Confirm a B2B online-banking payment (the corporate approver approves): the order is
    /// paid and the backUrl notification is sent. Only for `bizType=000202` orders.
    ///
    /// # Errors
    /// [`MockError`] (`NotFound`, `InvalidTransition`).
    pub fn unionpay_confirm_b2b(&self, order_id: &str) -> Result<Order, MockError> {
        self.shared()
            .unionpay
            .payer_action(self.shared(), order_id, "confirm-b2b")
    }

    /// Pay a UnionPay app order by its `tn`, as the UnionPay app control would: the payer
    /// pays the order `appTransReq.do` answered that `tn` for, with the card
    /// [`PayAs::wallet`] names (a credit card reports `accNo` of the ACP test credit card and
    /// card type `02`; anything else the test debit card). Sends the backUrl notification.
    ///
    /// ```no_run
    /// # fn demo(server: &payagg_mock::MockServer, tn: &str) -> Result<(), payagg_mock::MockError> {
    /// use payagg_mock::{PayAs, Wallet};
    /// server.unionpay_pay_tn(tn, &PayAs::wallet(Wallet::credit("CMB")))?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`MockError`] (`NotFound` for an unknown `tn`, `InvalidTransition` when the order is
    /// no longer open, `InvalidInput` for a wallet UnionPay lacks).
    pub fn unionpay_pay_tn(&self, tn: &str, pay: &PayAs) -> Result<Order, MockError> {
        UnionpaySim::app_act(self.shared(), tn, Action::Pay, pay)
    }

    /// The payment of a UnionPay app order fails in the app control (by its `tn`).
    ///
    /// # Errors
    /// [`MockError`] (`NotFound`, `InvalidTransition`).
    pub fn unionpay_fail_tn(&self, tn: &str) -> Result<Order, MockError> {
        UnionpaySim::app_act(self.shared(), tn, Action::Fail, &PayAs::default())
    }

    /// Inject `kind` into the ZM file of settle date `date`.
    pub fn inject_unionpay_bill_discrepancy(&self, date: Date, kind: BillDiscrepancy) {
        self.shared().unionpay.inject_bill_discrepancy(date, kind);
    }

    /// Remove every injected ZM discrepancy.
    pub fn clear_unionpay_bill_discrepancies(&self) {
        self.shared().unionpay.clear_bill_discrepancies();
    }
}
