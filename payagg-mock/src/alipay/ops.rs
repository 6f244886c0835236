//! The gateway methods: trades (precreate, pay, query, close, cancel), refunds, transfers,
//! certificate download, and `trade_status_sync` notifications.

use std::sync::Arc;

use base64::Engine as _;
use bytes::Bytes;
use payagg_alipay::sign::{self as asign, NotifyRule, SignType};
use payagg_alipay::wire::{self, ResponseStatus, methods};
use payagg_core::{Channel, Money};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use super::{AlipaySim, Call, ymdhms};
use crate::keys::{random_alnum, random_digits};
use crate::notify::Outgoing;
use crate::server::Shared;
use crate::state::{Order, OrderBook, OrderStatus, RefundRecord, RefundStatus};

/// A node on success, or a failure node (`Err`): both are answered signed.
pub(crate) type Reply = Result<String, String>;

/// The buyer who pays when no payer is named.
pub(crate) const DEFAULT_BUYER: &str = "2088102146225135";

pub(crate) fn node<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "{}".into())
}

pub(crate) fn fail(sub_code: &str, sub_msg: &str) -> String {
    node(&ResponseStatus::business_failed(sub_code, sub_msg))
}

fn biz<T: DeserializeOwned>(call: &Call) -> Result<T, String> {
    serde_json::from_str(&call.biz)
        .map_err(|e| fail("ACQ.INVALID_PARAMETER", &format!("参数无效: {e}")))
}

/// Yuan string → fen, in `[0.01, 100000000]`.
fn fen(s: &str) -> Result<u64, String> {
    Money::parse_major(s.trim(), payagg_core::Currency::Cny)
        .ok()
        .map(|m| m.minor_units())
        .filter(|f| (1..=10_000_000_000).contains(f))
        .ok_or_else(|| fail("ACQ.INVALID_PARAMETER", "金额格式错误或超出范围"))
}

pub(crate) fn yuan(fen: u64) -> String {
    Money::cny(fen).to_major_string()
}

/// Alipay's `trade_status` of an order.
pub(crate) fn trade_status(o: &Order) -> &'static str {
    match o.status {
        OrderStatus::NotPaid | OrderStatus::UserPaying => "WAIT_BUYER_PAY",
        OrderStatus::Success if o.refunded() < o.amount => "TRADE_SUCCESS",
        _ => "TRADE_CLOSED",
    }
}

pub(crate) fn extra_str(o: &Order, k: &str) -> Option<String> {
    o.extra.get(k).and_then(Value::as_str).map(str::to_owned)
}

/// Whether the trade exists at Alipay: a precreate trade only once the buyer scanned it.
pub(crate) fn visible(o: &Order) -> bool {
    o.extra
        .get("scanned")
        .and_then(Value::as_bool)
        .unwrap_or(true)
        || o.status != OrderStatus::NotPaid
}

pub(crate) fn buyer(o: &Order) -> String {
    o.payer
        .clone()
        .filter(|p| p.starts_with("2088"))
        .unwrap_or_else(|| DEFAULT_BUYER.to_owned())
}

pub(crate) fn buyer_logon_id(o: &Order) -> String {
    let b = buyer(o);
    format!("188******{}", &b[b.len().saturating_sub(2)..])
}

fn paid(o: &Order) -> bool {
    o.paid_at.is_some() && o.status == OrderStatus::Success
}

/// The `fund_bill_list` of a paid trade: one entry, the wallet the payer chose, for the
/// whole amount.
fn fund_bills(o: &Order) -> Vec<wire::FundBill> {
    vec![wire::FundBill {
        fund_channel: o.wallet.alipay_fund().0.into(),
        amount: yuan(o.amount.minor_units()),
        real_amount: Some(yuan(o.amount.minor_units())),
    }]
}

/// Adds `fund_type` and `bank_code` (which the shared wire model does not carry) to each
/// `BANKCARD` entry of the `list` array of a serialized response node, as Alipay's
/// `TradeFundBill` has them for bank-card payments.
fn with_card_details(node: String, list: &str, o: &Order) -> String {
    let (_, Some((fund_type, bank))) = o.wallet.alipay_fund() else {
        return node;
    };
    let Ok(mut v) = serde_json::from_str::<Value>(&node) else {
        return node;
    };
    if let Some(items) = v.get_mut(list).and_then(Value::as_array_mut) {
        for item in items {
            if item.get("fund_channel").and_then(Value::as_str) == Some("BANKCARD")
                && let Some(m) = item.as_object_mut()
            {
                m.insert("fund_type".into(), json!(fund_type));
                m.insert("bank_code".into(), json!(bank));
            }
        }
    }
    v.to_string()
}

fn new_trade_no(now: OffsetDateTime) -> String {
    let d = now.to_offset(payagg_core::clock::CHINA_OFFSET);
    format!(
        "{:04}{:02}{:02}2200{}",
        d.year(),
        u8::from(d.month()),
        d.day(),
        random_digits(16)
    )
}

/// `timeout_express` (`90m`, `2h`, `1d`, `1c`) → duration.
fn timeout(s: &str, now: OffsetDateTime) -> Option<Duration> {
    let (n, unit) = s.trim().split_at(s.trim().len().checked_sub(1)?);
    let n: i64 = n.parse().ok()?;
    Some(match unit {
        "m" => Duration::minutes(n),
        "h" => Duration::hours(n),
        "d" => Duration::days(n),
        "c" => {
            let local = now.to_offset(payagg_core::clock::CHINA_OFFSET);
            let end = local
                .date()
                .next_day()?
                .with_time(time::Time::MIDNIGHT)
                .assume_offset(payagg_core::clock::CHINA_OFFSET);
            end - now
        }
        _ => return None,
    })
}

fn expiry(
    time_expire: Option<&str>,
    timeout_express: Option<&str>,
    now: OffsetDateTime,
) -> OffsetDateTime {
    if let Some(t) = time_expire.and_then(super::parse_ymdhms) {
        return t;
    }
    now + timeout_express
        .and_then(|t| timeout(t, now))
        .unwrap_or(Duration::hours(2))
}

/// Find a trade by `trade_no` (wins) or `out_trade_no`, visible or not.
pub(crate) fn find<'a>(
    book: &'a mut OrderBook<'_>,
    app: &str,
    trade_no: Option<&str>,
    out_trade_no: Option<&str>,
) -> Option<&'a mut Order> {
    match (trade_no, out_trade_no) {
        (Some(t), _) if !t.is_empty() => book.by_transaction_id(Channel::Alipay, app, t),
        (_, Some(o)) => book.get_mut(Channel::Alipay, app, o),
        _ => None,
    }
}

/// What a new trade needs.
pub(crate) struct NewTrade<'a> {
    pub(crate) out_trade_no: &'a str,
    pub(crate) fen: u64,
    pub(crate) subject: &'a str,
    pub(crate) body: Option<&'a str>,
    pub(crate) product_code: &'a str,
    pub(crate) expire_at: OffsetDateTime,
    pub(crate) extra: Value,
}

/// Create a trade or find the same one again: a paid one is `ACQ.TRADE_HAS_SUCCESS`, a
/// closed one `ACQ.TRADE_HAS_CLOSE`, an open one with other parameters
/// `ACQ.CONTEXT_INCONSISTENT`.
pub(crate) fn create<'a>(
    book: &'a mut OrderBook<'_>,
    call: &Call,
    t: NewTrade<'_>,
    now: OffsetDateTime,
) -> Result<&'a mut Order, String> {
    if t.out_trade_no.is_empty() || t.out_trade_no.len() > 64 {
        return Err(fail("ACQ.INVALID_PARAMETER", "out_trade_no无效"));
    }
    let fingerprint = format!("{}|{}", t.fen, t.subject);
    let exists = book
        .get_mut(Channel::Alipay, &call.app_id, t.out_trade_no)
        .map(|o| {
            (
                o.status,
                o.refunded() >= o.amount,
                o.fingerprint == fingerprint,
            )
        });
    match exists {
        Some((OrderStatus::Success, false, _)) => {
            return Err(fail("ACQ.TRADE_HAS_SUCCESS", "交易已被支付"));
        }
        Some((s, _, _)) if !s.is_open() => {
            return Err(fail("ACQ.TRADE_HAS_CLOSE", "交易已经关闭"));
        }
        Some((_, _, false)) => return Err(fail("ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改")),
        Some(_) => {}
        None => {
            let trade_no = new_trade_no(now);
            let mut extra = t.extra;
            if let Some(m) = extra.as_object_mut() {
                m.insert("method".into(), json!(call.method));
            }
            book.insert(Order {
                channel: Channel::Alipay,
                merchant: call.app_id.clone(),
                out_trade_no: t.out_trade_no.to_owned(),
                transaction_id: trade_no,
                amount: Money::cny(t.fen),
                status: OrderStatus::NotPaid,
                trade_type: t.product_code.to_owned(),
                description: t.subject.to_owned(),
                notify_url: call.notify_url.clone(),
                attach: t.body.map(str::to_owned),
                created_at: now,
                expire_at: t.expire_at,
                paid_at: None,
                payer: Some(DEFAULT_BUYER.to_owned()),
                prepay: json!({}),
                extra,
                refunds: Vec::new(),
                fingerprint,
                auto_pay_at: None,
                reverse_recalls: 0,
                wallet: crate::Wallet::Balance,
            });
        }
    }
    book.get_mut(Channel::Alipay, &call.app_id, t.out_trade_no)
        .ok_or_else(|| fail("ACQ.SYSTEM_ERROR", "系统异常"))
}

/// A transfer to an Alipay account.
#[derive(Debug, Clone)]
pub(crate) struct Transfer {
    out_biz_no: String,
    order_id: String,
    pay_fund_order_id: String,
    fen: u64,
    product_code: String,
    biz_scene: String,
    fingerprint: String,
    at: OffsetDateTime,
}

fn date_digits(now: OffsetDateTime) -> String {
    let d = now.to_offset(payagg_core::clock::CHINA_OFFSET);
    format!("{:04}{:02}{:02}", d.year(), u8::from(d.month()), d.day())
}

/// `%XX`-encode everything but RFC 3986 unreserved characters.
pub(crate) fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub(crate) fn form_body(params: &[(String, String)]) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

impl AlipaySim {
    pub(super) fn dispatch(&self, shared: &Shared, call: &Call, now: OffsetDateTime) -> String {
        let r = match call.method.as_str() {
            methods::PRECREATE => self.precreate(shared, call, now),
            methods::PAY => self.trade_pay(shared, call, now),
            methods::QUERY => Self::query(shared, call, now),
            methods::CLOSE => self.close(shared, call, now),
            methods::CANCEL => self.cancel(shared, call, now),
            methods::REFUND => self.refund(shared, call, now),
            methods::REFUND_QUERY => Self::refund_query(shared, call, now),
            methods::TRANSFER => self.transfer(call, now),
            methods::TRANSFER_QUERY => self.transfer_query(call),
            methods::BILL_URL => self.bill_url(shared, call, now),
            methods::CERT_DOWNLOAD => self.cert_download(call),
            _ => Err(node(&ResponseStatus::failure(
                "40002",
                "Invalid Arguments",
                "isv.invalid-method",
                "不存在的方法名",
            ))),
        };
        match r {
            Ok(s) | Err(s) => s,
        }
    }

    fn precreate(&self, shared: &Shared, call: &Call, now: OffsetDateTime) -> Reply {
        let c: wire::PrecreateContent = biz(call)?;
        let f = fen(&c.total_amount)?;
        let base = self.base_url.clone();
        shared.store.with(now, |book| {
            let o = create(
                book,
                call,
                NewTrade {
                    out_trade_no: &c.out_trade_no,
                    fen: f,
                    subject: &c.subject,
                    body: c.body.as_deref(),
                    product_code: c.product_code.as_deref().unwrap_or("FACE_TO_FACE_PAYMENT"),
                    expire_at: expiry(c.time_expire.as_deref(), c.timeout_express.as_deref(), now),
                    extra: json!({"scanned": false, "store_id": c.store_id}),
                },
                now,
            )?;
            let qr = format!("{base}/alipay/qr/{}", o.transaction_id);
            o.prepay = json!({"qr_code": qr});
            Ok(node(&wire::PrecreateResponse {
                status: ResponseStatus::success(),
                out_trade_no: Some(o.out_trade_no.clone()),
                qr_code: Some(qr),
                share_code: None,
            }))
        })
    }

    fn trade_pay(&self, shared: &Shared, call: &Call, now: OffsetDateTime) -> Reply {
        let c: wire::TradePayContent = biz(call)?;
        let f = fen(&c.total_amount)?;
        if !matches!(c.scene.as_str(), "bar_code" | "security_code") {
            return Err(fail("ACQ.INVALID_PARAMETER", "scene无效"));
        }
        let code = c.auth_code.as_str();
        let digits_ok = code.len() >= 16
            && code.len() <= 24
            && code.bytes().all(|b| b.is_ascii_digit())
            && matches!(
                code.get(0..2),
                Some("25" | "26" | "27" | "28" | "29" | "30")
            );
        let face_ok = code.starts_with("fp") && code.len() == 37;
        if !(digits_ok || face_ok) {
            return Err(fail("ACQ.PAYMENT_AUTH_CODE_INVALID", "支付授权码无效"));
        }
        let magic = code.get(0..4).unwrap_or("");
        match magic {
            "2814" => return Err(fail("ACQ.PAYMENT_AUTH_CODE_INVALID", "支付授权码已过期")),
            "2815" => return Err(fail("ACQ.BUYER_BALANCE_NOT_ENOUGH", "买家余额不足")),
            _ => {}
        }
        let (reply, notify) = shared.store.with(now, |book| -> Result<_, String> {
            let existed = book
                .get_mut(Channel::Alipay, &call.app_id, &c.out_trade_no)
                .is_some();
            let o = create(
                book,
                call,
                NewTrade {
                    out_trade_no: &c.out_trade_no,
                    fen: f,
                    subject: &c.subject,
                    body: c.body.as_deref(),
                    product_code: c.product_code.as_deref().unwrap_or("FACE_TO_FACE_PAYMENT"),
                    expire_at: expiry(None, c.timeout_express.as_deref(), now),
                    extra: json!({"scanned": true, "store_id": c.store_id, "bar_code": true}),
                },
                now,
            )?;
            let mut notify = None;
            if !existed {
                o.payer = Some(DEFAULT_BUYER.to_owned());
                match magic {
                    "2811" | "2812" | "2813" => {
                        o.status = OrderStatus::UserPaying;
                        if magic == "2811" {
                            o.auto_pay_at = Some(now + Duration::seconds(10));
                        }
                        if magic == "2813" {
                            o.reverse_recalls = 1;
                        }
                    }
                    _ => {
                        o.status = OrderStatus::Success;
                        o.paid_at = Some(now);
                        notify = Some(o.clone());
                    }
                }
            }
            let mut r = wire::TradePayResponse {
                status: ResponseStatus::success(),
                trade_no: Some(o.transaction_id.clone()),
                out_trade_no: Some(o.out_trade_no.clone()),
                buyer_logon_id: Some(buyer_logon_id(o)),
                buyer_user_id: Some(buyer(o)),
                total_amount: Some(yuan(f)),
                ..Default::default()
            };
            if paid(o) {
                r.receipt_amount = Some(yuan(f));
                r.buyer_pay_amount = Some(yuan(f));
                r.point_amount = Some("0.00".into());
                r.invoice_amount = Some(yuan(f));
                r.gmt_payment = o.paid_at.map(ymdhms);
                r.fund_bill_list = fund_bills(o);
                if magic == "2816" && !existed {
                    r = wire::TradePayResponse {
                        status: ResponseStatus::failure(
                            "20000",
                            "Service Currently Unavailable",
                            "ACQ.SYSTEM_ERROR",
                            "系统异常",
                        ),
                        out_trade_no: Some(o.out_trade_no.clone()),
                        ..Default::default()
                    };
                }
            } else {
                r.status = ResponseStatus {
                    code: "10003".into(),
                    msg: "order success pay inprocess".into(),
                    ..Default::default()
                };
            }
            Ok((with_card_details(node(&r), "fund_bill_list", o), notify))
        })?;
        if let Some(o) = notify {
            self.send(shared, &o, None);
        }
        Ok(reply)
    }

    fn query(shared: &Shared, call: &Call, now: OffsetDateTime) -> Reply {
        let c: wire::TradeQueryContent = biz(call)?;
        shared.store.with(now, |book| {
            let o = find(
                book,
                &call.app_id,
                c.trade_no.as_deref(),
                c.out_trade_no.as_deref(),
            )
            .filter(|o| visible(o))
            .ok_or_else(|| fail("ACQ.TRADE_NOT_EXIST", "交易不存在"))?;
            let total = yuan(o.amount.minor_units());
            let is_paid = o.paid_at.is_some();
            let zero = || Some("0.00".to_owned());
            let answer = node(&wire::TradeQueryResponse {
                status: ResponseStatus::success(),
                trade_no: Some(o.transaction_id.clone()),
                out_trade_no: Some(o.out_trade_no.clone()),
                buyer_logon_id: Some(buyer_logon_id(o)),
                trade_status: Some(trade_status(o).into()),
                total_amount: Some(total.clone()),
                buyer_pay_amount: if is_paid { Some(total.clone()) } else { zero() },
                point_amount: zero(),
                invoice_amount: if is_paid { Some(total.clone()) } else { zero() },
                receipt_amount: if is_paid { Some(total) } else { zero() },
                send_pay_date: o.paid_at.map(ymdhms),
                buyer_user_id: Some(buyer(o)),
                store_id: extra_str(o, "store_id"),
                fund_bill_list: if is_paid { fund_bills(o) } else { Vec::new() },
                ..Default::default()
            });
            Ok(with_card_details(answer, "fund_bill_list", o))
        })
    }

    fn close(&self, shared: &Shared, call: &Call, now: OffsetDateTime) -> Reply {
        let c: wire::TradeCloseContent = biz(call)?;
        let (reply, closed) = shared.store.with(now, |book| -> Result<_, String> {
            let o = find(
                book,
                &call.app_id,
                c.trade_no.as_deref(),
                c.out_trade_no.as_deref(),
            )
            .filter(|o| visible(o))
            .ok_or_else(|| fail("ACQ.TRADE_NOT_EXIST", "交易不存在"))?;
            if !o.status.is_open() {
                return Err(fail("ACQ.TRADE_STATUS_ERROR", "交易状态不合法"));
            }
            o.status = OrderStatus::Closed;
            o.auto_pay_at = None;
            Ok((
                node(&wire::TradeCloseResponse {
                    status: ResponseStatus::success(),
                    trade_no: Some(o.transaction_id.clone()),
                    out_trade_no: Some(o.out_trade_no.clone()),
                }),
                o.clone(),
            ))
        })?;
        self.send(shared, &closed, None);
        Ok(reply)
    }

    fn cancel(&self, shared: &Shared, call: &Call, now: OffsetDateTime) -> Reply {
        let c: wire::TradeCancelContent = biz(call)?;
        let balance = self.lock().balance;
        let (reply, notify, debit) = shared.store.with(now, |book| -> Result<_, String> {
            let Some(o) = find(
                book,
                &call.app_id,
                c.trade_no.as_deref(),
                c.out_trade_no.as_deref(),
            ) else {
                return Ok((
                    node(&wire::TradeCancelResponse {
                        status: ResponseStatus::success(),
                        out_trade_no: c.out_trade_no.clone(),
                        retry_flag: Some("N".into()),
                        ..Default::default()
                    }),
                    None,
                    0,
                ));
            };
            let mut r = wire::TradeCancelResponse {
                status: ResponseStatus::success(),
                trade_no: Some(o.transaction_id.clone()),
                out_trade_no: Some(o.out_trade_no.clone()),
                retry_flag: Some("N".into()),
                action: None,
            };
            if now - o.created_at > Duration::hours(24) {
                r.status = ResponseStatus::business_failed(
                    "ACQ.TRADE_CANCEL_TIME_OUT",
                    "超过撤销时间范围",
                );
                return Err(node(&r));
            }
            if o.reverse_recalls > 0 {
                o.reverse_recalls -= 1;
                r.status = ResponseStatus::business_failed("ACQ.SYSTEM_ERROR", "系统异常");
                r.retry_flag = Some("Y".into());
                return Err(node(&r));
            }
            let mut notify = None;
            let mut debit = 0;
            if o.status.is_open() {
                o.status = OrderStatus::Closed;
                o.auto_pay_at = None;
                r.action = Some("close".into());
                notify = Some(o.clone());
            } else if o.status == OrderStatus::Success {
                r.action = Some("refund".into());
                let left = o
                    .amount
                    .minor_units()
                    .saturating_sub(o.refunded().minor_units());
                if left > 0 {
                    if balance.is_some_and(|b| left > b) {
                        r.status = ResponseStatus::business_failed(
                            "ACQ.SELLER_BALANCE_NOT_ENOUGH",
                            "卖家余额不足",
                        );
                        r.action = None;
                        return Err(node(&r));
                    }
                    o.refunds.push(RefundRecord {
                        out_refund_no: o.out_trade_no.clone(),
                        refund_id: random_digits(28),
                        amount: Money::cny(left),
                        status: RefundStatus::Success,
                        created_at: now,
                        success_at: Some(now),
                        notify_url: o.notify_url.clone(),
                        reason: Some("cancel".into()),
                    });
                    debit = left;
                    notify = Some(o.clone());
                }
            } else {
                r.action = Some(
                    if o.paid_at.is_some() {
                        "refund"
                    } else {
                        "close"
                    }
                    .into(),
                );
            }
            Ok((node(&r), notify, debit))
        })?;
        self.debit(debit);
        if let Some(o) = notify {
            let refund = o.refunds.last().cloned();
            self.send(shared, &o, refund.as_ref().filter(|_| o.paid_at.is_some()));
        }
        Ok(reply)
    }

    pub(crate) fn debit(&self, fen: u64) {
        if fen > 0
            && let Some(b) = self.lock().balance.as_mut()
        {
            *b = b.saturating_sub(fen);
        }
    }

    fn refund(&self, shared: &Shared, call: &Call, now: OffsetDateTime) -> Reply {
        let c: wire::TradeRefundContent = biz(call)?;
        let amount = fen(&c.refund_amount)?;
        let balance = self.lock().balance;
        let (reply, notify) = shared.store.with(now, |book| -> Result<_, String> {
            let o = find(
                book,
                &call.app_id,
                c.trade_no.as_deref(),
                c.out_trade_no.as_deref(),
            )
            .filter(|o| visible(o))
            .ok_or_else(|| fail("ACQ.TRADE_NOT_EXIST", "交易不存在"))?;
            let req_no = c
                .out_request_no
                .clone()
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| o.out_trade_no.clone());
            let response = |o: &Order, change: &str, at: Option<OffsetDateTime>| {
                let answer = node(&wire::TradeRefundResponse {
                    status: ResponseStatus::success(),
                    trade_no: Some(o.transaction_id.clone()),
                    out_trade_no: Some(o.out_trade_no.clone()),
                    buyer_logon_id: Some(buyer_logon_id(o)),
                    fund_change: Some(change.into()),
                    refund_fee: Some(yuan(o.refunded().minor_units())),
                    gmt_refund_pay: at.map(ymdhms),
                    // The money goes back the way it came.
                    refund_detail_item_list: vec![wire::FundBill {
                        fund_channel: o.wallet.alipay_fund().0.into(),
                        amount: yuan(amount),
                        real_amount: Some(yuan(amount)),
                    }],
                    send_back_fee: Some(yuan(amount)),
                });
                with_card_details(answer, "refund_detail_item_list", o)
            };
            if let Some(r) = o.refunds.iter().find(|r| r.out_refund_no == req_no) {
                if r.amount.minor_units() != amount {
                    return Err(fail("ACQ.DISCORDANT_REPEAT_REQUEST", "请求信息不一致"));
                }
                let at = r.success_at;
                return Ok((response(o, "N", at), None));
            }
            if o.status.is_open() {
                return Err(fail("ACQ.TRADE_STATUS_ERROR", "交易状态不合法"));
            }
            let total = o.amount.minor_units();
            let refunded = o.refunded().minor_units();
            if o.status != OrderStatus::Success || refunded >= total {
                return Err(fail("ACQ.TRADE_HAS_CLOSE", "交易已经关闭"));
            }
            if c.out_request_no.as_deref().is_none_or(str::is_empty) && amount != total {
                return Err(fail(
                    "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL",
                    "退款金额与交易总金额不一致（部分退款须传out_request_no）",
                ));
            }
            if refunded + amount > total {
                return Err(fail("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限"));
            }
            if balance.is_some_and(|b| amount > b) {
                return Err(fail("ACQ.SELLER_BALANCE_NOT_ENOUGH", "卖家余额不足"));
            }
            o.refunds.push(RefundRecord {
                out_refund_no: req_no,
                refund_id: random_digits(28),
                amount: Money::cny(amount),
                status: RefundStatus::Success,
                created_at: now,
                success_at: Some(now),
                notify_url: o.notify_url.clone(),
                reason: c.refund_reason.clone(),
            });
            Ok((response(o, "Y", Some(now)), Some(o.clone())))
        })?;
        if let Some(o) = notify {
            self.debit(amount);
            self.send(shared, &o, o.refunds.last());
        }
        Ok(reply)
    }

    fn refund_query(shared: &Shared, call: &Call, now: OffsetDateTime) -> Reply {
        let c: wire::RefundQueryContent = biz(call)?;
        shared.store.with(now, |book| {
            let o = find(
                book,
                &call.app_id,
                c.trade_no.as_deref(),
                c.out_trade_no.as_deref(),
            )
            .filter(|o| visible(o))
            .ok_or_else(|| fail("ACQ.TRADE_NOT_EXIST", "交易不存在"))?;
            let mut r = wire::RefundQueryResponse {
                status: ResponseStatus::success(),
                trade_no: Some(o.transaction_id.clone()),
                out_trade_no: Some(o.out_trade_no.clone()),
                out_request_no: Some(c.out_request_no.clone()),
                ..Default::default()
            };
            if let Some(rf) = o
                .refunds
                .iter()
                .find(|r| r.out_refund_no == c.out_request_no)
            {
                r.refund_reason = rf.reason.clone();
                r.total_amount = Some(yuan(o.amount.minor_units()));
                r.refund_amount = Some(yuan(rf.amount.minor_units()));
                if rf.status == RefundStatus::Success {
                    r.refund_status = Some("REFUND_SUCCESS".into());
                }
                if c.query_options.iter().any(|q| q == "gmt_refund_pay") {
                    r.gmt_refund_pay = rf.success_at.map(ymdhms);
                }
            }
            Ok(node(&r))
        })
    }

    fn transfer(&self, call: &Call, now: OffsetDateTime) -> Reply {
        let c: wire::TransferContent = biz(call)?;
        let f = Money::parse_major(c.trans_amount.trim(), payagg_core::Currency::Cny)
            .map(|m| m.minor_units())
            .map_err(|_| fail("INVALID_PARAMETER", "参数有误：trans_amount"))?;
        if c.product_code != "TRANS_ACCOUNT_NO_PWD" && c.product_code != "STD_RED_PACKET" {
            return Err(fail("INVALID_PARAMETER", "参数有误：product_code"));
        }
        if c.biz_scene != "DIRECT_TRANSFER" && c.biz_scene != "PERSONAL_COLLECTION" {
            return Err(fail("INVALID_PARAMETER", "参数有误：biz_scene"));
        }
        if f < 10 {
            return Err(fail("EXCEED_LIMIT_SM_MIN_AMOUNT", "单笔最低转账金额0.1元"));
        }
        let p = &c.payee_info;
        match p.identity_type.as_str() {
            "ALIPAY_USER_ID" if !p.identity.starts_with("2088") || p.identity.len() != 16 => {
                return Err(fail("PAYEE_NOT_EXIST", "收款账号不存在"));
            }
            "ALIPAY_LOGON_ID" if p.name.as_deref().is_none_or(str::is_empty) => {
                return Err(fail("INVALID_PARAMETER", "参数有误：收款方姓名不能为空"));
            }
            "ALIPAY_USER_ID" | "ALIPAY_LOGON_ID" | "ALIPAY_OPEN_ID" => {}
            _ => return Err(fail("INVALID_PARAMETER", "参数有误：identity_type")),
        }
        let fingerprint = format!("{f}|{}|{}", p.identity_type, p.identity);
        let mut st = self.lock();
        let t = if let Some(t) = st.transfers.get(&c.out_biz_no) {
            if t.fingerprint != fingerprint {
                return Err(fail(
                    "PAYMENT_INFO_INCONSISTENCY",
                    "两次请求商户单号一样，但是参数不一致",
                ));
            }
            t.clone()
        } else {
            if st.balance.is_some_and(|b| f > b) {
                return Err(fail("PAYER_BALANCE_NOT_ENOUGH", "付款方余额不足"));
            }
            if let Some(b) = st.balance.as_mut() {
                *b -= f;
            }
            let d = date_digits(now);
            let t = Transfer {
                out_biz_no: c.out_biz_no.clone(),
                order_id: format!("{d}110070000{}", random_digits(15)),
                pay_fund_order_id: format!("{d}110070001{}", random_digits(15)),
                fen: f,
                product_code: c.product_code.clone(),
                biz_scene: c.biz_scene.clone(),
                fingerprint,
                at: now,
            };
            st.transfers.insert(c.out_biz_no.clone(), t.clone());
            t
        };
        Ok(node(&wire::TransferResponse {
            status: ResponseStatus::success(),
            out_biz_no: Some(t.out_biz_no),
            order_id: Some(t.order_id),
            pay_fund_order_id: Some(t.pay_fund_order_id),
            trans_status: Some("SUCCESS".into()),
            trans_date: Some(ymdhms(t.at)),
        }))
    }

    fn transfer_query(&self, call: &Call) -> Reply {
        let c: wire::TransferQueryContent = biz(call)?;
        let st = self.lock();
        let t = if let Some(id) = c.pay_fund_order_id.as_deref().filter(|s| !s.is_empty()) {
            st.transfers.values().find(|t| t.pay_fund_order_id == id)
        } else if let Some(id) = c.order_id.as_deref().filter(|s| !s.is_empty()) {
            st.transfers.values().find(|t| t.order_id == id)
        } else if let Some(no) = c.out_biz_no.as_deref() {
            if c.product_code.is_none() || c.biz_scene.is_none() {
                return Err(fail(
                    "INVALID_PARAMETER",
                    "参数有误：按out_biz_no查询时product_code和biz_scene必填",
                ));
            }
            st.transfers.get(no).filter(|t| {
                Some(t.product_code.as_str()) == c.product_code.as_deref()
                    && Some(t.biz_scene.as_str()) == c.biz_scene.as_deref()
            })
        } else {
            return Err(fail("INVALID_PARAMETER", "参数有误：缺少查询单号"));
        };
        let t = t.ok_or_else(|| fail("ORDER_NOT_EXIST", "转账订单不存在"))?;
        Ok(node(&wire::TransferQueryResponse {
            status: ResponseStatus::success(),
            order_id: Some(t.order_id.clone()),
            pay_fund_order_id: Some(t.pay_fund_order_id.clone()),
            out_biz_no: Some(t.out_biz_no.clone()),
            trans_amount: Some(yuan(t.fen)),
            trans_status: Some("SUCCESS".into()),
            pay_date: Some(ymdhms(t.at)),
            ..Default::default()
        }))
    }

    fn cert_download(&self, call: &Call) -> Reply {
        let c: wire::CertDownloadContent = biz(call)?;
        if c.alipay_cert_sn != self.setup.alipay_cert_sn() {
            return Err(fail("CERT_NOT_EXIST", "证书不存在"));
        }
        Ok(node(&wire::CertDownloadResponse {
            status: ResponseStatus::success(),
            alipay_cert_content: Some(
                base64::engine::general_purpose::STANDARD.encode(self.setup.alipay_cert_pem()),
            ),
        }))
    }

    /// Pay an open trade as `payer` (the cashier page); sends the notification.
    pub(crate) fn pay_trade(
        &self,
        shared: &Shared,
        trade_no: &str,
        pay: &crate::PayAs,
    ) -> Option<Order> {
        let now = shared.now();
        let app = self.setup.app_id().to_owned();
        let o = shared.store.with(now, |book| {
            let o = book.by_transaction_id(Channel::Alipay, &app, trade_no)?;
            if !o.status.is_open() {
                return None;
            }
            o.status = OrderStatus::Success;
            o.paid_at = Some(now);
            o.auto_pay_at = None;
            if let Some(p) = pay.payer.as_deref().filter(|p| !p.is_empty()) {
                o.payer = Some(p.to_owned());
            }
            o.wallet = pay.wallet.clone();
            if let Some(m) = o.extra.as_object_mut() {
                m.insert("scanned".into(), json!(true));
            }
            Some(o.clone())
        })?;
        self.send(shared, &o, None);
        Some(o)
    }

    /// Dispatch the `trade_status_sync` notification of `o` (with `refund` for a refund).
    pub(crate) fn send(&self, shared: &Shared, o: &Order, refund: Option<&RefundRecord>) {
        if let Some(out) = self.notification(shared, o, refund) {
            shared.notifier.dispatch(out);
        }
    }

    /// The signed `trade_status_sync` form of `o`, if it has a notify URL.
    pub(crate) fn notification(
        &self,
        shared: &Shared,
        o: &Order,
        refund: Option<&RefundRecord>,
    ) -> Option<Outgoing> {
        let url = o.notify_url.as_deref()?;
        let now = shared.now();
        let status = trade_status(o);
        let total = yuan(o.amount.minor_units());
        let is_paid = o.paid_at.is_some();
        let money = |v: &str| is_paid.then(|| v.to_owned());
        let notify_id = format!("2024{}", random_alnum(28)).to_lowercase();
        let n = wire::TradeNotification {
            notify_time: Some(ymdhms(now)),
            notify_type: Some("trade_status_sync".into()),
            notify_id: Some(notify_id.clone()),
            charset: Some("utf-8".into()),
            version: Some("1.0".into()),
            sign_type: Some("RSA2".into()),
            sign: None,
            app_id: Some(o.merchant.clone()),
            auth_app_id: Some(o.merchant.clone()),
            trade_no: Some(o.transaction_id.clone()),
            out_trade_no: Some(o.out_trade_no.clone()),
            out_biz_no: refund.map(|r| r.out_refund_no.clone()),
            buyer_id: Some(buyer(o)),
            buyer_open_id: None,
            buyer_logon_id: Some(buyer_logon_id(o)),
            seller_id: Some(self.setup.seller_id().to_owned()),
            seller_email: Some("payagg-mock-seller@example.com".into()),
            trade_status: Some(status.into()),
            total_amount: Some(total.clone()),
            receipt_amount: money(&total),
            invoice_amount: money(&total),
            buyer_pay_amount: money(&total),
            point_amount: money("0.00"),
            refund_fee: (!o.refunds.is_empty()).then(|| yuan(o.refunded().minor_units())),
            subject: Some(o.description.clone()),
            body: o.attach.clone(),
            gmt_create: Some(ymdhms(o.created_at)),
            gmt_payment: o.paid_at.map(ymdhms),
            gmt_refund: refund.and_then(|r| r.success_at).map(|t| {
                let mut s = ymdhms(t);
                s.push_str(".000");
                s
            }),
            gmt_close: (status == "TRADE_CLOSED").then(|| ymdhms(now)),
            fund_bill_list: is_paid.then(|| {
                json!([{"amount": total, "fundChannel": o.wallet.alipay_fund().0}]).to_string()
            }),
            voucher_detail_list: None,
            passback_params: extra_str(o, "passback_params"),
        };
        let mut params = n.to_params();
        let content = asign::notify_sign_content(
            params.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            NotifyRule::V1,
        );
        let sig = asign::sign(
            self.setup.alipay_private_key(),
            SignType::Rsa2,
            content.as_bytes(),
        );
        params.push(("sign".into(), sig));
        Some(Outgoing {
            channel: Channel::Alipay,
            event_id: notify_id,
            event_type: format!("trade_status_sync:{status}"),
            url: url.to_owned(),
            body: Bytes::from(form_body(&params)),
            signer: Arc::new(|_| {
                vec![(
                    "Content-Type".into(),
                    "application/x-www-form-urlencoded; charset=utf-8".into(),
                )]
            }),
            schedule: super::RETRY_SCHEDULE,
            ack: |status, body| status == 200 && body == b"success",
        })
    }
}
