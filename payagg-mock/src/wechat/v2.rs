//! APIv2 payment codes (付款码): `/pay/micropay`, `/pay/orderquery`, `/secapi/pay/reverse`,
//! XML in and out, MD5 or HMAC-SHA256 signatures with the merchant's API v2 key (brief §6).

use std::collections::BTreeMap;

use bytes::Bytes;
use payagg_core::clock::CHINA_OFFSET;
use payagg_core::{Channel, Currency, Money};
use payagg_wechat::micropay::{SignType, decode_xml, encode_xml, sign, verify};
use serde_json::json;
use time::{Duration, OffsetDateTime};

use super::{WechatSim, compact};
use crate::keys::random_alnum;
use crate::server::{MockRequest, MockResponse, Shared};
use crate::state::{Order, OrderStatus};

/// WeChat revokes a payment-code order the payer has not paid 45 s after it was created.
const AUTO_REVOKE_SECS: i64 = 45;
/// How long a "password, then success" payer takes to enter the password.
pub(crate) const PASSWORD_SECS: i64 = 10;
/// Payment-code orders older than this cannot be reversed (`REVERSE_EXPIRE`).
const REVERSE_DAYS: i64 = 7;

/// What a payment code does, by its first four digits (see the crate docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Code {
    Success,
    PasswordThenSuccess,
    PasswordHeld,
    PasswordHeldRecall,
    Expired,
    NotEnough,
    SystemErrorButPaid,
}

fn code_kind(auth_code: &str) -> Code {
    match auth_code.get(..4) {
        Some("1011") => Code::PasswordThenSuccess,
        Some("1012") => Code::PasswordHeld,
        Some("1013") => Code::PasswordHeldRecall,
        Some("1014") => Code::Expired,
        Some("1015") => Code::NotEnough,
        Some("1016") => Code::SystemErrorButPaid,
        _ => Code::Success,
    }
}

type Params = BTreeMap<String, String>;

fn xml_response(p: &Params) -> MockResponse {
    let body = encode_xml(p)
        .unwrap_or_else(|_| "<xml><return_code><![CDATA[FAIL]]></return_code></xml>".to_owned());
    MockResponse {
        status: 200,
        headers: vec![("Content-Type".into(), "text/xml; charset=utf-8".into())],
        body: Bytes::from(body),
    }
}

/// `return_code=FAIL`: a communication-level failure, not signed.
pub(crate) fn return_fail(msg: &str) -> MockResponse {
    let mut p = Params::new();
    p.insert("return_code".into(), "FAIL".into());
    p.insert("return_msg".into(), msg.into());
    xml_response(&p)
}

/// A business answer being built: `result_code` and fields, signed at the end.
struct Answer {
    p: Params,
}

impl Answer {
    fn ok() -> Self {
        let mut p = Params::new();
        p.insert("result_code".into(), "SUCCESS".into());
        Self { p }
    }

    fn fail(code: &str, des: &str) -> Self {
        let mut p = Params::new();
        p.insert("result_code".into(), "FAIL".into());
        p.insert("err_code".into(), code.into());
        p.insert("err_code_des".into(), des.into());
        Self { p }
    }

    fn set(mut self, k: &str, v: impl Into<String>) -> Self {
        let v = v.into();
        if !v.is_empty() {
            self.p.insert(k.into(), v);
        }
        self
    }
}

fn param<'a>(p: &'a Params, k: &str) -> Option<&'a str> {
    p.get(k).map(String::as_str).filter(|v| !v.is_empty())
}

fn valid_code(c: &str) -> bool {
    c.len() == 18
        && c.bytes().all(|b| b.is_ascii_digit())
        && matches!(&c[..2], "10" | "11" | "12" | "13" | "14" | "15")
}

fn paid_fields(a: Answer, o: &Order) -> Answer {
    let fee = o.amount.minor_units().to_string();
    a.set("openid", o.payer.clone().unwrap_or_default())
        .set("is_subscribe", "N")
        .set("trade_type", o.trade_type.clone())
        .set("bank_type", o.wallet.wechat_bank_type())
        .set("fee_type", "CNY")
        .set("total_fee", fee.clone())
        .set("cash_fee_type", "CNY")
        .set("cash_fee", fee)
        .set("transaction_id", o.transaction_id.clone())
        .set("time_end", o.paid_at.map(compact).unwrap_or_default())
        .set("attach", o.attach.clone().unwrap_or_default())
}

impl WechatSim {
    /// Verify, route and sign one APIv2 payment-code call.
    pub(crate) fn handle_v2(&self, shared: &Shared, req: &MockRequest) -> MockResponse {
        if req.method != http::Method::POST {
            return return_fail("请使用post方法");
        }
        if req.body.is_empty() {
            return return_fail("post数据为空");
        }
        let Ok(p) = decode_xml(&req.body) else {
            return return_fail("XML格式错误");
        };
        let sign_type = match param(&p, "sign_type") {
            None | Some("MD5") => SignType::Md5,
            Some("HMAC-SHA256") => SignType::HmacSha256,
            Some(_) => return return_fail("签名类型错误"),
        };
        let key = self.setup.apiv2_key();
        if param(&p, "sign").is_none() {
            return return_fail("缺少参数sign");
        }
        if verify(&p, key, sign_type).is_err() {
            return return_fail("签名错误");
        }
        let Some(nonce) = param(&p, "nonce_str").filter(|n| n.len() <= 32) else {
            return return_fail("nonce_str参数错误");
        };
        let _ = nonce;
        let answer = if param(&p, "mch_id") != Some(self.setup.mchid()) {
            Answer::fail("MCHID_NOT_EXIST", "商户号不存在")
        } else if param(&p, "appid") != Some(self.setup.appid()) {
            Answer::fail("APPID_MCHID_NOT_MATCH", "appid和mch_id不匹配")
        } else {
            let merchant = match param(&p, "sub_mch_id") {
                Some(sub) => format!("{}/{sub}", self.setup.mchid()),
                None => self.setup.mchid().to_owned(),
            };
            let now = shared.now();
            match req.path.as_str() {
                "/pay/micropay" => self.micropay(shared, &p, &merchant, now),
                "/pay/orderquery" => Self::orderquery(shared, &p, &merchant, now),
                "/secapi/pay/reverse" => Self::reverse(shared, &p, &merchant, now),
                _ => return return_fail("请求的接口不存在"),
            }
        };
        let mut out = answer.p;
        out.insert("return_code".into(), "SUCCESS".into());
        out.insert("return_msg".into(), "OK".into());
        for k in ["appid", "mch_id", "sub_mch_id", "sub_appid", "device_info"] {
            if let Some(v) = param(&p, k) {
                out.insert(k.into(), v.to_owned());
            }
        }
        out.insert("nonce_str".into(), random_alnum(16));
        if sign_type != SignType::Md5 {
            out.insert("sign_type".into(), sign_type.as_str().into());
        }
        let s = sign(&out, key, sign_type);
        out.insert("sign".into(), s);
        xml_response(&out)
    }

    #[allow(clippy::too_many_lines)]
    fn micropay(&self, shared: &Shared, p: &Params, merchant: &str, now: OffsetDateTime) -> Answer {
        for k in [
            "body",
            "out_trade_no",
            "total_fee",
            "spbill_create_ip",
            "auth_code",
        ] {
            if param(p, k).is_none() {
                return Answer::fail("PARAM_ERROR", &format!("缺少参数{k}"));
            }
        }
        let no = param(p, "out_trade_no").unwrap_or_default();
        let body = param(p, "body").unwrap_or_default();
        let code = param(p, "auth_code").unwrap_or_default();
        let Some(total) = param(p, "total_fee")
            .and_then(|t| t.parse::<u64>().ok())
            .filter(|t| *t > 0)
        else {
            return Answer::fail("PARAM_ERROR", "total_fee参数错误");
        };
        if param(p, "fee_type").is_some_and(|c| c != "CNY") {
            return Answer::fail("PARAM_ERROR", "fee_type参数错误");
        }
        if no.len() > 32 || body.chars().count() > 127 {
            return Answer::fail("PARAM_ERROR", "out_trade_no或body长度超限");
        }
        if !valid_code(code) {
            return Answer::fail(
                "AUTH_CODE_INVALID",
                "请扫描微信支付授权码(以10、11、12、13、14、15开头的18位数字)",
            );
        }
        let kind = code_kind(code);
        let fingerprint = format!("MICROPAY|{body}|{total}");
        let existing = shared.store.with(now, |book| {
            book.get_mut(Channel::Wechat, merchant, no).cloned()
        });
        if let Some(o) = existing {
            if o.fingerprint != fingerprint {
                return Answer::fail("OUT_TRADE_NO_USED", "商户订单号重复");
            }
            return match o.status {
                OrderStatus::Success => Answer::fail("ORDERPAID", "订单已支付"),
                OrderStatus::UserPaying | OrderStatus::NotPaid => {
                    Answer::fail("USERPAYING", "需要用户输入支付密码")
                }
                OrderStatus::Revoked => Answer::fail("ORDERREVERSED", "订单已撤销"),
                _ => Answer::fail("ORDERCLOSED", "订单已关闭"),
            };
        }
        match kind {
            Code::Expired => {
                return Answer::fail("AUTHCODEEXPIRE", "二维码已过期，请用户在微信上刷新后再试");
            }
            Code::NotEnough => return Answer::fail("NOTENOUGH", "余额不足"),
            _ => {}
        }
        let d = now.to_offset(CHINA_OFFSET);
        let seq = shared.store.next_seq();
        let paid_now = matches!(kind, Code::Success | Code::SystemErrorButPaid);
        let mut extra = json!({"appid": self.setup.appid(), "mchid": self.setup.mchid()});
        if let Some((sp, sub)) = merchant.split_once('/') {
            extra = json!({"sp_appid": self.setup.appid(), "sp_mchid": sp, "sub_mchid": sub});
        }
        let order = Order {
            channel: Channel::Wechat,
            merchant: merchant.to_owned(),
            out_trade_no: no.to_owned(),
            transaction_id: format!(
                "4200{:04}{:02}{:02}{:016}",
                d.year(),
                u8::from(d.month()),
                d.day(),
                seq
            ),
            amount: Money::from_minor(total, Currency::Cny),
            status: if paid_now {
                OrderStatus::Success
            } else {
                OrderStatus::UserPaying
            },
            trade_type: "MICROPAY".into(),
            description: body.to_owned(),
            notify_url: None,
            attach: param(p, "attach").map(str::to_owned),
            created_at: now,
            expire_at: now + Duration::seconds(AUTO_REVOKE_SECS),
            paid_at: paid_now.then_some(now),
            payer: Some(format!("oMicropay{}", &code[code.len() - 6..])),
            prepay: json!({}),
            extra,
            refunds: Vec::new(),
            fingerprint,
            auto_pay_at: (kind == Code::PasswordThenSuccess)
                .then(|| now + Duration::seconds(PASSWORD_SECS)),
            reverse_recalls: u32::from(kind == Code::PasswordHeldRecall),
            wallet: crate::Wallet::Balance,
        };
        let answer = match kind {
            Code::Success => paid_fields(Answer::ok(), &order).set("out_trade_no", no),
            Code::SystemErrorButPaid => Answer::fail("SYSTEMERROR", "系统超时，请查询订单"),
            _ => Answer::fail("USERPAYING", "需要用户输入支付密码"),
        };
        shared.store.with(now, |book| book.insert(order));
        answer
    }

    fn orderquery(shared: &Shared, p: &Params, merchant: &str, now: OffsetDateTime) -> Answer {
        let found = shared.store.with(now, |book| {
            match (param(p, "transaction_id"), param(p, "out_trade_no")) {
                (Some(id), _) => book.by_transaction_id(Channel::Wechat, merchant, id),
                (None, Some(no)) => book.get_mut(Channel::Wechat, merchant, no),
                (None, None) => None,
            }
            .cloned()
        });
        if param(p, "transaction_id").is_none() && param(p, "out_trade_no").is_none() {
            return Answer::fail("PARAM_ERROR", "transaction_id和out_trade_no必须二选一");
        }
        let Some(o) = found else {
            return Answer::fail("ORDERNOTEXIST", "此交易订单号不存在");
        };
        let (state, desc) = super::trade_state(&o);
        let a = Answer::ok()
            .set("out_trade_no", o.out_trade_no.clone())
            .set("trade_state", state)
            .set("trade_state_desc", desc);
        if o.paid_at.is_some() {
            paid_fields(a, &o)
        } else {
            a.set("trade_type", o.trade_type.clone())
        }
    }

    fn reverse(shared: &Shared, p: &Params, merchant: &str, now: OffsetDateTime) -> Answer {
        if param(p, "transaction_id").is_none() && param(p, "out_trade_no").is_none() {
            return Answer::fail("PARAM_ERROR", "transaction_id和out_trade_no必须二选一")
                .set("recall", "N");
        }
        shared.store.with(now, |book| {
            let o = match (param(p, "transaction_id"), param(p, "out_trade_no")) {
                (Some(id), _) => book.by_transaction_id(Channel::Wechat, merchant, id),
                (None, Some(no)) => book.get_mut(Channel::Wechat, merchant, no),
                (None, None) => None,
            };
            let Some(o) = o else {
                return Answer::fail("ORDERNOTEXIST", "订单不存在").set("recall", "N");
            };
            if o.trade_type != "MICROPAY" {
                return Answer::fail("TRADE_ERROR", "非付款码订单不能撤销").set("recall", "N");
            }
            if now - o.created_at > Duration::days(REVERSE_DAYS) {
                return Answer::fail("REVERSE_EXPIRE", "订单已超过撤销期限，请使用退款")
                    .set("recall", "N");
            }
            if o.reverse_recalls > 0 {
                o.reverse_recalls -= 1;
                return Answer::fail("SYSTEMERROR", "系统繁忙，请稍后再撤销").set("recall", "Y");
            }
            if !o.refunds.is_empty() {
                return Answer::fail("TRADE_ERROR", "订单已发生退款，不能撤销").set("recall", "N");
            }
            match o.status {
                OrderStatus::Closed => Answer::fail("ORDERCLOSED", "订单已关闭").set("recall", "N"),
                _ => {
                    // Unpaid: closed for good; paid: the money goes back to the payer.
                    o.status = OrderStatus::Revoked;
                    o.auto_pay_at = None;
                    Answer::ok().set("recall", "N")
                }
            }
        })
    }
}
