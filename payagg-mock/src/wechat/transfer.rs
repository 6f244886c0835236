//! Transfer bills (商家转账, brief §3.6): create, query, cancel, payee confirmation through the
//! control API, and the `MCHTRANSFER.BILL.FINISHED` notification.

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use payagg_wechat::sign::headers;
use payagg_wechat::wire;
use serde::Serialize;
use time::OffsetDateTime;

use super::{Caller, WechatSim, WxError, WxResult, lock, rfc3339, to_value};
use crate::error::{MockError, MockErrorKind};
use crate::keys::{random_alnum, random_digits};
use crate::server::{MockRequest, Shared, percent_decode};

/// Transfer notifications: at once, then 15 s ×10, 300 s ×10, 1800 s ×44 (brief §3.6).
pub(crate) static TRANSFER_RETRY_SCHEDULE: [u64; 64] = {
    let mut a = [1800u64; 64];
    let mut i = 0;
    while i < 20 {
        a[i] = if i < 10 { 15 } else { 300 };
        i += 1;
    }
    a
};

/// From this amount (2,000 yuan) the payee's name is required.
const NAME_REQUIRED_FEN: i64 = 200_000;

/// A transfer bill at the simulated WeChat Pay.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct TransferRecord {
    /// The merchant id.
    pub mchid: String,
    /// The merchant's bill number.
    pub out_bill_no: String,
    /// WeChat's bill number.
    pub transfer_bill_no: String,
    /// The app id.
    pub appid: String,
    /// The payee's openid.
    pub openid: String,
    /// The payee's name as decrypted from `user_name`, if given.
    pub user_name: Option<String>,
    /// Fen.
    pub amount: i64,
    /// The remark shown to the payee.
    pub remark: String,
    /// `WAIT_USER_CONFIRM`, `SUCCESS`, `FAIL`, `CANCELLED`.
    pub state: &'static str,
    /// Why it failed.
    pub fail_reason: Option<String>,
    /// Where `MCHTRANSFER.BILL.FINISHED` goes.
    pub notify_url: Option<String>,
    /// When it was created (simulator clock).
    pub created_at: OffsetDateTime,
    /// When it last changed.
    pub updated_at: OffsetDateTime,
    #[serde(skip)]
    fingerprint: String,
}

impl TransferRecord {
    fn is_final(&self) -> bool {
        matches!(self.state, "SUCCESS" | "FAIL" | "CANCELLED")
    }
}

/// Transfer state: bills by merchant number, and payees' real names.
#[derive(Debug, Default)]
pub(crate) struct Transfers {
    bills: Vec<TransferRecord>,
    names: HashMap<String, String>,
}

/// What a payee does with a bill waiting for confirmation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PayeeAction {
    Confirm,
    Fail,
}

fn required_infos(scene: &str) -> &'static [&'static str] {
    match scene {
        "1000" => &["活动名称", "奖励说明"],
        "1005" => &["岗位类型", "报酬说明"],
        _ => &[],
    }
}

impl WechatSim {
    fn transfers(&self) -> std::sync::MutexGuard<'_, Transfers> {
        lock(&self.transfers)
    }

    /// The payee `openid`'s real name: transfers naming someone else fail.
    pub(crate) fn set_payee_name(&self, openid: &str, name: &str) {
        self.transfers()
            .names
            .insert(openid.to_owned(), name.to_owned());
    }

    /// Every transfer bill.
    pub(crate) fn transfer_records(&self) -> Vec<TransferRecord> {
        self.transfers().bills.clone()
    }

    /// Decrypt `user_name` with the private key of the key `Wechatpay-Serial` names.
    fn decrypt_user_name(
        &self,
        req: &MockRequest,
        ciphertext: &str,
        now: OffsetDateTime,
    ) -> Result<String, WxError> {
        let serial = req.header(headers::SERIAL).ok_or_else(|| {
            WxError::param(
                "Wechatpay-Serial",
                "加密敏感信息时必须在Wechatpay-Serial中指明所用的公钥或平台证书",
                "header",
            )
        })?;
        let key = if serial == self.setup.pub_key_id() {
            self.setup.pub_key_private().clone()
        } else {
            self.live_platforms(now)
                .into_iter()
                .find(|p| p.serial.eq_ignore_ascii_case(serial))
                .map(|p| p.key)
                .ok_or_else(|| {
                    WxError::param(
                        "Wechatpay-Serial",
                        "Wechatpay-Serial不是有效的微信支付公钥ID或平台证书序列号",
                        "header",
                    )
                })?
        };
        let ct = B64
            .decode(ciphertext)
            .map_err(|_| WxError::param("/user_name", "user_name解密失败", "body"))?;
        let plain = key
            .oaep_sha1_decrypt(&ct)
            .map_err(|_| WxError::param("/user_name", "user_name解密失败", "body"))?;
        String::from_utf8(plain)
            .map_err(|_| WxError::param("/user_name", "user_name解密失败", "body"))
    }

    fn bill_json(&self, r: &TransferRecord) -> Result<serde_json::Value, WxError> {
        // Sensitive fields in answers are encrypted for the merchant.
        let user_name = r.user_name.as_ref().and_then(|n| {
            self.setup
                .merchant_public()
                .oaep_sha1_encrypt(n.as_bytes())
                .ok()
                .map(|c| B64.encode(c))
        });
        to_value(&wire::TransferBill {
            mch_id: Some(r.mchid.clone()),
            out_bill_no: r.out_bill_no.clone(),
            transfer_bill_no: Some(r.transfer_bill_no.clone()),
            appid: Some(r.appid.clone()),
            state: r.state.into(),
            transfer_amount: r.amount,
            transfer_remark: Some(r.remark.clone()),
            fail_reason: r.fail_reason.clone(),
            openid: Some(r.openid.clone()),
            user_name,
            create_time: Some(rfc3339(r.created_at)),
            update_time: Some(rfc3339(r.updated_at)),
        })
    }

    #[allow(clippy::too_many_lines)]
    pub(super) fn transfer_create(
        &self,
        shared: &Shared,
        req: &MockRequest,
        caller: &Caller,
        now: OffsetDateTime,
    ) -> WxResult {
        let body: wire::TransferBillRequest = serde_json::from_slice(&req.body)
            .map_err(|e| WxError::param("/", format!("请求体无法解析: {e}"), "body"))?;
        if body.appid != self.setup.appid() {
            return Err(WxError::new(
                400,
                "APPID_MCHID_NOT_MATCH",
                "AppID和mch_id不匹配",
            ));
        }
        let no = &body.out_bill_no;
        if no.is_empty() || no.len() > 32 || !no.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(WxError::param(
                "/out_bill_no",
                "长度1到32，只能是数字和大小写字母",
                "body",
            ));
        }
        if body.openid.is_empty() {
            return Err(WxError::param("/openid", "openid为必填参数", "body"));
        }
        if body.transfer_amount <= 0 {
            return Err(WxError::param(
                "/transfer_amount",
                "转账金额必须大于0",
                "body",
            ));
        }
        if body.transfer_remark.is_empty() || body.transfer_remark.chars().count() > 32 {
            return Err(WxError::param(
                "/transfer_remark",
                "转账备注长度应为1到32个字符",
                "body",
            ));
        }
        if body.transfer_scene_id.is_empty() {
            return Err(WxError::param(
                "/transfer_scene_id",
                "transfer_scene_id为必填参数",
                "body",
            ));
        }
        for need in required_infos(&body.transfer_scene_id) {
            if !body
                .transfer_scene_report_infos
                .iter()
                .any(|i| i.info_type == *need && !i.info_content.is_empty())
            {
                return Err(WxError::param(
                    "/transfer_scene_report_infos",
                    "需传入转账场景报备信息,请检查",
                    "body",
                ));
            }
        }
        if let Some(u) = &body.notify_url
            && (!(u.starts_with("https://") || u.starts_with("http://")) || u.contains('?'))
        {
            return Err(WxError::param(
                "/notify_url",
                "notify_url格式不正确：需为不带参数的http(s)地址",
                "body",
            ));
        }
        let name = match &body.user_name {
            Some(c) => Some(self.decrypt_user_name(req, c, now)?),
            None if body.transfer_amount >= NAME_REQUIRED_FEN => {
                return Err(WxError::param(
                    "/user_name",
                    "转账金额大于等于2000元时，收款用户姓名必填",
                    "body",
                ));
            }
            None => None,
        };
        let fingerprint = format!(
            "{}|{}|{}|{}|{}",
            body.appid,
            body.openid,
            body.transfer_amount,
            body.transfer_scene_id,
            body.transfer_remark
        );
        let mut t = self.transfers();
        if let Some(r) = t
            .bills
            .iter()
            .find(|r| r.mchid == caller.mchid && &r.out_bill_no == no)
        {
            if r.fingerprint != fingerprint {
                return Err(WxError::new(
                    400,
                    "INVALID_REQUEST",
                    "商户单号已存在，但请求参数与原单不一致",
                ));
            }
            return Ok((200, Some(create_answer(r))));
        }
        let name_mismatch = match (&name, t.names.get(&body.openid)) {
            (Some(given), Some(real)) => given != real,
            _ => false,
        };
        if !name_mismatch {
            let mut bal = lock(&self.balance);
            if let Some(b) = bal.as_mut() {
                let fen = u64::try_from(body.transfer_amount).unwrap_or(u64::MAX);
                if *b < fen {
                    return Err(WxError::new(
                        403,
                        "NOT_ENOUGH",
                        "商户运营账户资金不足，请充值后重新发起",
                    ));
                }
                *b -= fen;
            }
        }
        let seq = shared.store.next_seq();
        let d = now.to_offset(payagg_core::clock::CHINA_OFFSET);
        let record = TransferRecord {
            mchid: caller.mchid.clone(),
            out_bill_no: no.clone(),
            transfer_bill_no: format!(
                "1330000{:04}{:02}{:02}{:016}",
                d.year(),
                u8::from(d.month()),
                d.day(),
                seq
            ),
            appid: body.appid.clone(),
            openid: body.openid.clone(),
            user_name: name,
            amount: body.transfer_amount,
            remark: body.transfer_remark.clone(),
            state: if name_mismatch {
                "FAIL"
            } else {
                "WAIT_USER_CONFIRM"
            },
            fail_reason: name_mismatch.then(|| "NAME_NOT_CORRECT".to_owned()),
            notify_url: body.notify_url.clone(),
            created_at: now,
            updated_at: now,
            fingerprint,
        };
        let answer = create_answer(&record);
        t.bills.push(record.clone());
        drop(t);
        if record.is_final() {
            self.transfer_notification(shared, &record);
        }
        Ok((200, Some(answer)))
    }

    pub(super) fn transfer_query(&self, caller: &Caller, by: &str, no: &str) -> WxResult {
        let no = percent_decode(no, false);
        let t = self.transfers();
        let r = t
            .bills
            .iter()
            .find(|r| {
                r.mchid == caller.mchid
                    && if by == "out-bill-no" {
                        r.out_bill_no == no
                    } else {
                        r.transfer_bill_no == no
                    }
            })
            .ok_or_else(|| WxError::new(404, "NOT_FOUND", "记录不存在"))?;
        Ok((200, Some(self.bill_json(r)?)))
    }

    pub(super) fn transfer_cancel(
        &self,
        shared: &Shared,
        caller: &Caller,
        no: &str,
        now: OffsetDateTime,
    ) -> WxResult {
        let no = percent_decode(no, false);
        let mut t = self.transfers();
        let r = t
            .bills
            .iter_mut()
            .find(|r| r.mchid == caller.mchid && r.out_bill_no == no)
            .ok_or_else(|| WxError::new(404, "NOT_FOUND", "记录不存在"))?;
        if r.is_final() {
            return Err(WxError::new(
                400,
                "INVALID_REQUEST",
                "转账单已是终态，不能撤销",
            ));
        }
        r.state = "CANCELLED";
        r.updated_at = now;
        let record = r.clone();
        drop(t);
        if let Some(b) = lock(&self.balance).as_mut() {
            *b += u64::try_from(record.amount).unwrap_or(0);
        }
        self.transfer_notification(shared, &record);
        // The answer says CANCELING; the bill is CANCELLED by the time anyone queries.
        Ok((
            200,
            Some(serde_json::json!({
                "out_bill_no": record.out_bill_no,
                "transfer_bill_no": record.transfer_bill_no,
                "state": "CANCELING",
                "update_time": rfc3339(now),
            })),
        ))
    }

    /// The payee confirms (`SUCCESS`) or the transfer fails (`FAIL`, `reason`).
    pub(crate) fn payee_act(
        &self,
        shared: &Shared,
        out_bill_no: &str,
        action: PayeeAction,
        reason: Option<&str>,
    ) -> Result<TransferRecord, MockError> {
        let now = shared.now();
        let mut t = self.transfers();
        let r = t
            .bills
            .iter_mut()
            .find(|r| r.out_bill_no == out_bill_no)
            .ok_or_else(|| {
                MockError::new(
                    MockErrorKind::NotFound,
                    format!("no wechat transfer {out_bill_no}"),
                )
            })?;
        if r.is_final() {
            return Err(MockError::new(
                MockErrorKind::InvalidTransition,
                format!("transfer {out_bill_no} is already {}", r.state),
            ));
        }
        match action {
            PayeeAction::Confirm => r.state = "SUCCESS",
            PayeeAction::Fail => {
                r.state = "FAIL";
                r.fail_reason = Some(reason.unwrap_or("PAYEE_ACCOUNT_ABNORMAL").to_owned());
            }
        }
        r.updated_at = now;
        let record = r.clone();
        drop(t);
        if action == PayeeAction::Fail
            && let Some(b) = lock(&self.balance).as_mut()
        {
            *b += u64::try_from(record.amount).unwrap_or(0);
        }
        self.transfer_notification(shared, &record);
        Ok(record)
    }

    /// `MCHTRANSFER.BILL.FINISHED` for a bill in a final state.
    fn transfer_notification(&self, shared: &Shared, r: &TransferRecord) {
        let Some(url) = r.notify_url.as_deref() else {
            return;
        };
        let plain = wire::TransferBill {
            mch_id: Some(r.mchid.clone()),
            out_bill_no: r.out_bill_no.clone(),
            transfer_bill_no: Some(r.transfer_bill_no.clone()),
            appid: None,
            state: r.state.into(),
            transfer_amount: r.amount,
            transfer_remark: None,
            fail_reason: r.fail_reason.clone(),
            openid: Some(r.openid.clone()),
            user_name: None,
            create_time: Some(rfc3339(r.created_at)),
            update_time: Some(rfc3339(r.updated_at)),
        };
        let Ok(plaintext) = serde_json::to_vec(&plain) else {
            return;
        };
        let mut o = self.notification(
            shared,
            url,
            "MCHTRANSFER.BILL.FINISHED",
            "商家转账单据终态通知",
            "mch_payment",
            &plaintext,
        );
        o.schedule = &TRANSFER_RETRY_SCHEDULE;
        shared.notifier.dispatch(o);
    }
}

fn create_answer(r: &TransferRecord) -> serde_json::Value {
    let mut v = serde_json::json!({
        "out_bill_no": r.out_bill_no,
        "transfer_bill_no": r.transfer_bill_no,
        "create_time": rfc3339(r.created_at),
        "state": r.state,
    });
    if let Some(obj) = v.as_object_mut() {
        if r.state == "WAIT_USER_CONFIRM" {
            obj.insert(
                "package_info".into(),
                format!(
                    "ABBQO+oYAAABAAAAAAB{}{}",
                    random_alnum(24),
                    random_digits(8)
                )
                .into(),
            );
        }
        if let Some(f) = &r.fail_reason {
            obj.insert("fail_reason".into(), f.clone().into());
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule() {
        assert_eq!(TRANSFER_RETRY_SCHEDULE[0], 15);
        assert_eq!(TRANSFER_RETRY_SCHEDULE[9], 15);
        assert_eq!(TRANSFER_RETRY_SCHEDULE[10], 300);
        assert_eq!(TRANSFER_RETRY_SCHEDULE[19], 300);
        assert_eq!(TRANSFER_RETRY_SCHEDULE[20], 1800);
        assert_eq!(TRANSFER_RETRY_SCHEDULE.len(), 64);
    }
}
