//! Bills from the simulator's own state: `GET /v3/bill/tradebill`, `GET /v3/bill/fundflowbill`
//! and the unsigned download, in WeChat's file format (brief §3.5, §7).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;

use bytes::Bytes;
use payagg_core::Channel;
use payagg_core::clock::CHINA_OFFSET;
use payagg_core::crypto::{hex_lower, sha1};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::{Date, Duration, Month, OffsetDateTime, Time};

use super::{Caller, WechatSim, WxError, WxResult};
use crate::keys::random_alnum;
use crate::server::{MockRequest, MockResponse, Shared};
use crate::state::{Order, OrderStatus, RefundStatus};

/// How long a `download_url` stays valid (the old v3 page's 30 s, the strictest reading).
const DOWNLOAD_VALID_SECS: i64 = 30;

/// A discrepancy injected into a day's trade bill, for reconciliation tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum BillDiscrepancy {
    /// The day's first payment row is left out.
    MissingRow,
    /// The day's first payment row states 1.00 yuan more than was paid.
    ChangedAmount,
    /// A payment row for a trade the simulator never saw is added.
    ExtraRow,
    /// The day's first row is dated 00:00:01 of the next day.
    NextDayRow,
}

/// A file waiting to be downloaded.
#[derive(Debug, Clone)]
pub(crate) struct BillFile {
    body: Bytes,
    expires: OffsetDateTime,
}

/// Bill state: issued download tokens and injected discrepancies.
#[derive(Debug, Default)]
pub(crate) struct Bills {
    files: HashMap<String, BillFile>,
    discrepancies: Vec<(Date, BillDiscrepancy)>,
}

impl Bills {
    pub(crate) fn inject(&mut self, date: Date, kind: BillDiscrepancy) {
        self.discrepancies.push((date, kind));
    }

    pub(crate) fn clear_discrepancies(&mut self) {
        self.discrepancies.clear();
    }
}

/// `YYYY-MM-DD`.
pub(crate) fn parse_date(s: &str) -> Option<Date> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y: i32 = s.get(0..4)?.parse().ok()?;
    let m: u8 = s.get(5..7)?.parse().ok()?;
    let d: u8 = s.get(8..10)?.parse().ok()?;
    Date::from_calendar_date(y, Month::try_from(m).ok()?, d).ok()
}

fn china_date(t: OffsetDateTime) -> Date {
    t.to_offset(CHINA_OFFSET).date()
}

fn bill_time(t: OffsetDateTime) -> String {
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

/// Fen as yuan with 2 decimals.
fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let a = fen.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

/// 1e-5 yuan units with 5 decimals.
fn yuan5(units: i64) -> String {
    let sign = if units < 0 { "-" } else { "" };
    let a = units.unsigned_abs();
    format!("{sign}{}.{:05}", a / 100_000, a % 100_000)
}

/// The fee of `fen` at `ppm`, in 1e-5 yuan, rounded half up.
fn fee_units(fen: i64, ppm: u32) -> i64 {
    let raw = i128::from(fen.unsigned_abs()) * i128::from(ppm);
    let units = i64::try_from((raw + 500) / 1000).unwrap_or(i64::MAX);
    if fen < 0 { -units } else { units }
}

/// 1e-5 yuan units rounded half up to fen.
fn units_to_fen(units: i64) -> i64 {
    let a = i64::try_from((u128::from(units.unsigned_abs()) + 500) / 1000).unwrap_or(i64::MAX);
    if units < 0 { -a } else { a }
}

fn rate_text(ppm: u32) -> String {
    format!("{}.{:02}%", ppm / 10_000, (ppm % 10_000) / 100)
}

/// No backticks, commas are fine (the parser splits on `` ,` ``), no line breaks.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| {
            if matches!(c, '`' | '\r' | '\n') {
                ' '
            } else {
                c
            }
        })
        .collect()
}

#[derive(Debug, Clone)]
struct RefundPart {
    refund_id: String,
    out_refund_no: String,
    requested_at: OffsetDateTime,
    success_at: Option<OffsetDateTime>,
    status: &'static str,
}

#[derive(Debug, Clone)]
struct Row {
    time: OffsetDateTime,
    appid: String,
    mchid: String,
    sub_mchid: String,
    transaction_id: String,
    out_trade_no: String,
    openid: String,
    trade_type: String,
    /// 付款银行: the payer's `bank_type`.
    bank_type: String,
    description: String,
    attach: String,
    /// Payment: the order amount; refund: the refunded amount (both positive).
    fen: i64,
    refund: Option<RefundPart>,
}

const ALL: &[&str] = &[
    "交易时间",
    "公众账号ID",
    "商户号",
    "特约商户号",
    "设备号",
    "微信订单号",
    "商户订单号",
    "用户标识",
    "交易类型",
    "交易状态",
    "付款银行",
    "货币种类",
    "应结订单金额",
    "代金券金额",
    "微信退款单号",
    "商户退款单号",
    "退款金额",
    "充值券退款金额",
    "退款类型",
    "退款状态",
    "商品名称",
    "商户数据包",
    "手续费",
    "费率",
    "订单金额",
    "申请退款金额",
    "费率备注",
];
const SUCCESS: &[&str] = &[
    "交易时间",
    "公众账号ID",
    "商户号",
    "特约商户号",
    "设备号",
    "微信订单号",
    "商户订单号",
    "用户标识",
    "交易类型",
    "交易状态",
    "付款银行",
    "货币种类",
    "应结订单金额",
    "代金券金额",
    "商品名称",
    "商户数据包",
    "手续费",
    "费率",
    "订单金额",
    "费率备注",
];
const REFUND: &[&str] = &[
    "交易时间",
    "公众账号ID",
    "商户号",
    "特约商户号",
    "设备号",
    "微信订单号",
    "商户订单号",
    "用户标识",
    "交易类型",
    "交易状态",
    "付款银行",
    "货币种类",
    "应结订单金额",
    "代金券金额",
    "退款申请时间",
    "退款成功时间",
    "微信退款单号",
    "商户退款单号",
    "退款金额",
    "充值券退款金额",
    "退款类型",
    "退款状态",
    "商品名称",
    "商户数据包",
    "手续费",
    "费率",
    "订单金额",
    "申请退款金额",
    "费率备注",
];
const SUMMARY_ALL: &[&str] = &[
    "总交易单数",
    "应结订单总金额",
    "退款总金额",
    "充值券退款总金额",
    "手续费总金额",
    "订单总金额",
    "申请退款总金额",
];
const SUMMARY_SUCCESS: &[&str] = &["总交易单数", "应结订单总金额", "手续费总金额", "订单总金额"];
const FUND_FLOW: &[&str] = &[
    "记账时间",
    "微信支付业务单号",
    "资金流水单号",
    "业务名称",
    "业务类型",
    "收支类型",
    "收支金额(元)",
    "账户结余(元)",
    "资金变更提交申请人",
    "备注",
    "业务凭证号",
];
const SUMMARY_FUND_FLOW: &[&str] = &[
    "资金流水总笔数",
    "收入笔数",
    "收入金额",
    "支出笔数",
    "支出金额",
];

impl Row {
    fn fee(&self, ppm: u32) -> i64 {
        if self.refund.is_some() {
            -fee_units(self.fen, ppm)
        } else {
            fee_units(self.fen, ppm)
        }
    }

    /// (应结订单金额, 退款金额, 订单金额, 申请退款金额) in fen.
    fn amounts(&self) -> (i64, i64, i64, i64) {
        if self.refund.is_some() {
            (0, self.fen, 0, self.fen)
        } else {
            (self.fen, 0, self.fen, 0)
        }
    }

    fn field(&self, name: &str, ppm: u32) -> String {
        let (settle, refund, order, applied) = self.amounts();
        let r = self.refund.as_ref();
        match name {
            "交易时间" => bill_time(self.time),
            "公众账号ID" => self.appid.clone(),
            "商户号" => self.mchid.clone(),
            "特约商户号" => self.sub_mchid.clone(),
            "微信订单号" => self.transaction_id.clone(),
            "商户订单号" => self.out_trade_no.clone(),
            "用户标识" => self.openid.clone(),
            "交易类型" => self.trade_type.clone(),
            "交易状态" => if r.is_some() { "REFUND" } else { "SUCCESS" }.into(),
            "付款银行" => self.bank_type.clone(),
            "货币种类" => "CNY".into(),
            "应结订单金额" => yuan(settle),
            "退款金额" => yuan(refund),
            "订单金额" => yuan(order),
            "申请退款金额" => yuan(applied),
            "代金券金额" | "充值券退款金额" => yuan(0),
            "微信退款单号" => r.map_or_else(|| "0".into(), |r| r.refund_id.clone()),
            "商户退款单号" => r.map_or_else(|| "0".into(), |r| r.out_refund_no.clone()),
            "退款类型" => r.map(|_| "ORIGINAL".to_owned()).unwrap_or_default(),
            "退款状态" => r.map(|r| r.status.to_owned()).unwrap_or_default(),
            "退款申请时间" => r.map(|r| bill_time(r.requested_at)).unwrap_or_default(),
            "退款成功时间" => r
                .and_then(|r| r.success_at)
                .map(bill_time)
                .unwrap_or_default(),
            "商品名称" => clean(&self.description),
            "商户数据包" => clean(&self.attach),
            "手续费" => yuan5(self.fee(ppm)),
            "费率" => rate_text(ppm),
            _ => String::new(),
        }
    }
}

fn merchant_ids(o: &Order) -> (String, String, String) {
    let s = |k: &str| {
        o.extra
            .get(k)
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    match o.merchant.split_once('/') {
        Some((sp, sub)) => (s("sp_appid"), sp.to_owned(), sub.to_owned()),
        None => (s("appid"), o.merchant.clone(), "0".to_owned()),
    }
}

/// Every trade row of the merchant's paid orders and their refunds (all dates).
fn rows(orders: &[Order]) -> Vec<Row> {
    let mut out = Vec::new();
    for o in orders {
        let Some(paid_at) = o.paid_at else { continue };
        // A reversed payment-code order is as if it never happened (its money went back).
        if o.status == OrderStatus::Revoked {
            continue;
        }
        let (appid, mchid, sub_mchid) = merchant_ids(o);
        let base = Row {
            time: paid_at,
            appid,
            mchid,
            sub_mchid,
            transaction_id: o.transaction_id.clone(),
            out_trade_no: o.out_trade_no.clone(),
            openid: o.payer.clone().unwrap_or_default(),
            bank_type: o.wallet.wechat_bank_type(),
            trade_type: o.trade_type.clone(),
            description: o.description.clone(),
            attach: o.attach.clone().unwrap_or_default(),
            fen: i64::try_from(o.amount.minor_units()).unwrap_or(i64::MAX),
            refund: None,
        };
        for r in &o.refunds {
            let status = match r.status {
                RefundStatus::Success => "SUCCESS",
                RefundStatus::Processing => "PROCESSING",
                _ => continue,
            };
            let mut row = base.clone();
            row.time = r.created_at;
            row.fen = i64::try_from(r.amount.minor_units()).unwrap_or(i64::MAX);
            row.refund = Some(RefundPart {
                refund_id: r.refund_id.clone(),
                out_refund_no: r.out_refund_no.clone(),
                requested_at: r.created_at,
                success_at: r.success_at,
                status,
            });
            out.push(row);
        }
        out.push(base);
    }
    out.sort_by_key(|r| r.time);
    out
}

fn apply(rows: &mut Vec<Row>, date: Date, kinds: &[BillDiscrepancy]) {
    let first_payment = |rows: &Vec<Row>| rows.iter().position(|r| r.refund.is_none());
    for kind in kinds {
        match kind {
            BillDiscrepancy::MissingRow => {
                if let Some(i) = first_payment(rows) {
                    rows.remove(i);
                }
            }
            BillDiscrepancy::ChangedAmount => {
                if let Some(i) = first_payment(rows) {
                    rows[i].fen += 100;
                }
            }
            BillDiscrepancy::ExtraRow => {
                let mut row = rows.first().cloned().unwrap_or_else(|| Row {
                    time: OffsetDateTime::UNIX_EPOCH,
                    appid: String::new(),
                    mchid: String::new(),
                    sub_mchid: "0".into(),
                    transaction_id: String::new(),
                    out_trade_no: String::new(),
                    openid: String::new(),
                    trade_type: "NATIVE".into(),
                    bank_type: "OTHERS".into(),
                    description: "payagg-mock extra row".into(),
                    attach: String::new(),
                    fen: 0,
                    refund: None,
                });
                row.time = date
                    .with_time(Time::from_hms(12, 0, 0).unwrap_or(Time::MIDNIGHT))
                    .assume_offset(CHINA_OFFSET);
                row.transaction_id = format!("4209{}", crate::keys::random_digits(24));
                row.out_trade_no = format!("MOCKEXTRA{}", random_alnum(8));
                row.openid = "oMockExtraPayer".into();
                row.fen = 1234;
                row.refund = None;
                rows.push(row);
            }
            BillDiscrepancy::NextDayRow => {
                if let Some(r) = rows.first_mut() {
                    r.time = date
                        .next_day()
                        .unwrap_or(date)
                        .with_time(Time::from_hms(0, 0, 1).unwrap_or(Time::MIDNIGHT))
                        .assume_offset(CHINA_OFFSET);
                }
            }
        }
    }
}

fn push_line(out: &mut String, fields: impl IntoIterator<Item = String>, ticks: bool) {
    for (i, f) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if ticks {
            out.push('`');
        }
        out.push_str(&f);
    }
    out.push_str("\r\n");
}

/// The trade bill file of `rows` (already those of the day and bill type).
fn trade_file(rows: &[Row], bill_type: &str, ppm: u32) -> String {
    let (header, summary) = match bill_type {
        "SUCCESS" => (SUCCESS, SUMMARY_SUCCESS),
        "REFUND" => (REFUND, SUMMARY_ALL),
        _ => (ALL, SUMMARY_ALL),
    };
    let mut out = String::from("\u{feff}");
    push_line(&mut out, header.iter().map(|h| (*h).to_owned()), false);
    let (mut settle, mut refund, mut order, mut applied, mut fee) = (0i64, 0i64, 0i64, 0i64, 0i64);
    for r in rows {
        push_line(&mut out, header.iter().map(|h| r.field(h, ppm)), true);
        let (s, rf, o, a) = r.amounts();
        settle += s;
        refund += rf;
        order += o;
        applied += a;
        fee += r.fee(ppm);
    }
    push_line(&mut out, summary.iter().map(|h| (*h).to_owned()), false);
    let count = rows.len().to_string();
    let values = summary.iter().map(|h| match *h {
        "总交易单数" => count.clone(),
        "应结订单总金额" => yuan(settle),
        "退款总金额" => yuan(refund),
        "手续费总金额" => yuan5(fee),
        "订单总金额" => yuan(order),
        "申请退款总金额" => yuan(applied),
        _ => yuan(0),
    });
    push_line(&mut out, values, true);
    out
}

struct Flow {
    time: OffsetDateTime,
    biz_no: String,
    name: &'static str,
    kind: &'static str,
    income: bool,
    fen: i64,
    voucher: String,
}

fn flows(orders: &[Order], ppm: u32) -> Vec<Flow> {
    let mut out = Vec::new();
    for row in rows(orders) {
        match &row.refund {
            None => {
                out.push(Flow {
                    time: row.time,
                    biz_no: row.transaction_id.clone(),
                    name: "交易",
                    kind: "交易",
                    income: true,
                    fen: row.fen,
                    voucher: row.out_trade_no.clone(),
                });
                let fee = units_to_fen(fee_units(row.fen, ppm));
                if fee > 0 {
                    out.push(Flow {
                        time: row.time,
                        biz_no: row.transaction_id.clone(),
                        name: "交易",
                        kind: "扣除交易手续费",
                        income: false,
                        fen: fee,
                        voucher: row.out_trade_no.clone(),
                    });
                }
            }
            Some(r) => {
                let Some(at) = r.success_at else { continue };
                out.push(Flow {
                    time: at,
                    biz_no: r.refund_id.clone(),
                    name: "退款",
                    kind: "退款",
                    income: false,
                    fen: row.fen,
                    voucher: r.out_refund_no.clone(),
                });
                let fee = units_to_fen(fee_units(row.fen, ppm));
                if fee > 0 {
                    out.push(Flow {
                        time: at,
                        biz_no: r.refund_id.clone(),
                        name: "退款",
                        kind: "退还交易手续费",
                        income: true,
                        fen: fee,
                        voucher: r.out_refund_no.clone(),
                    });
                }
            }
        }
    }
    out.sort_by_key(|f| f.time);
    out
}

fn fund_flow_file(orders: &[Order], date: Date, mchid: &str, ppm: u32) -> Option<String> {
    let mut out = String::from("\u{feff}");
    push_line(&mut out, FUND_FLOW.iter().map(|h| (*h).to_owned()), false);
    let mut balance = 0i64;
    let (mut n, mut n_in, mut sum_in, mut n_out, mut sum_out) = (0u64, 0u64, 0i64, 0u64, 0i64);
    for (i, f) in flows(orders, ppm).into_iter().enumerate() {
        balance += if f.income { f.fen } else { -f.fen };
        if china_date(f.time) != date {
            continue;
        }
        n += 1;
        if f.income {
            n_in += 1;
            sum_in += f.fen;
        } else {
            n_out += 1;
            sum_out += f.fen;
        }
        let d = f.time.to_offset(CHINA_OFFSET);
        let flow_no = format!(
            "{mchid}{:04}{:02}{:02}{:012}",
            d.year(),
            u8::from(d.month()),
            d.day(),
            i + 1
        );
        push_line(
            &mut out,
            [
                bill_time(f.time),
                f.biz_no,
                flow_no,
                f.name.to_owned(),
                f.kind.to_owned(),
                if f.income { "收入" } else { "支出" }.to_owned(),
                yuan(f.fen),
                yuan(balance),
                "system".to_owned(),
                String::new(),
                f.voucher,
            ],
            true,
        );
    }
    if n == 0 {
        return None;
    }
    push_line(
        &mut out,
        SUMMARY_FUND_FLOW.iter().map(|h| (*h).to_owned()),
        false,
    );
    push_line(
        &mut out,
        [
            n.to_string(),
            n_in.to_string(),
            yuan(sum_in),
            n_out.to_string(),
            yuan(sum_out),
        ],
        true,
    );
    Some(out)
}

fn no_statement() -> WxError {
    WxError::new(400, "NO_STATEMENT_EXIST", "请求的账单文件不存在")
}

impl WechatSim {
    /// Check `bill_date` against the clock: only past days, and yesterday's from 10:00 on.
    fn bill_date(req: &MockRequest, now: OffsetDateTime) -> Result<Date, WxError> {
        let raw = req
            .query_param("bill_date")
            .ok_or_else(|| WxError::param("bill_date", "bill_date为必填参数", "query"))?;
        let date = parse_date(&raw)
            .ok_or_else(|| WxError::param("bill_date", "日期格式应为YYYY-MM-DD", "query"))?;
        let local = now.to_offset(CHINA_OFFSET);
        let today = local.date();
        if date >= today {
            return Err(WxError::param(
                "bill_date",
                "只能下载当天之前的账单",
                "query",
            ));
        }
        if today - date > Duration::days(92) {
            return Err(WxError::new(
                400,
                "INVALID_REQUEST",
                "只能下载三个月以内的账单",
            ));
        }
        if date.next_day() == Some(today) && local.hour() < 10 {
            return Err(WxError::new(400, "STATEMENT_CREATING", "账单生成中"));
        }
        Ok(date)
    }

    fn gzip(req: &MockRequest) -> Result<bool, WxError> {
        match req.query_param("tar_type").as_deref() {
            None | Some("") => Ok(false),
            Some("GZIP") => Ok(true),
            Some(_) => Err(WxError::param("tar_type", "tar_type只能是GZIP", "query")),
        }
    }

    /// The merchant's orders (with `sub_mchid`: that sub-merchant's only).
    fn bill_orders(
        shared: &Shared,
        caller: &Caller,
        sub: Option<&str>,
        now: OffsetDateTime,
    ) -> Vec<Order> {
        shared.store.expire(now);
        let sub_key = sub.map(|s| format!("{}/{s}", caller.mchid));
        shared
            .store
            .orders()
            .into_iter()
            .filter(|o| o.channel == Channel::Wechat)
            .filter(|o| match &sub_key {
                Some(k) => &o.merchant == k,
                None => {
                    o.merchant == caller.mchid
                        || o.merchant.starts_with(&format!("{}/", caller.mchid))
                }
            })
            .collect()
    }

    pub(super) fn trade_bill(
        &self,
        shared: &Shared,
        req: &MockRequest,
        caller: &Caller,
        now: OffsetDateTime,
    ) -> WxResult {
        let date = Self::bill_date(req, now)?;
        let gzip = Self::gzip(req)?;
        let bill_type = req.query_param("bill_type").unwrap_or_else(|| "ALL".into());
        if !matches!(bill_type.as_str(), "ALL" | "SUCCESS" | "REFUND") {
            return Err(WxError::param(
                "bill_type",
                "payagg-mock 支持的账单类型：ALL、SUCCESS、REFUND",
                "query",
            ));
        }
        let orders =
            Self::bill_orders(shared, caller, req.query_param("sub_mchid").as_deref(), now);
        let kinds: Vec<BillDiscrepancy> = self
            .bills()
            .discrepancies
            .iter()
            .filter(|(d, _)| *d == date)
            .map(|(_, k)| *k)
            .collect();
        let mut day: Vec<Row> = rows(&orders)
            .into_iter()
            .filter(|r| china_date(r.time) == date)
            .collect();
        apply(&mut day, date, &kinds);
        day.retain(|r| match bill_type.as_str() {
            "SUCCESS" => r.refund.is_none(),
            "REFUND" => r.refund.is_some(),
            _ => true,
        });
        if day.is_empty() {
            return Err(no_statement());
        }
        let file = trade_file(&day, &bill_type, self.setup.fee_rate_ppm);
        Ok((200, Some(self.issue_download(file, gzip, now)?)))
    }

    pub(super) fn fund_flow_bill(
        &self,
        shared: &Shared,
        req: &MockRequest,
        caller: &Caller,
        now: OffsetDateTime,
    ) -> WxResult {
        let date = Self::bill_date(req, now)?;
        let gzip = Self::gzip(req)?;
        match req.query_param("account_type").as_deref() {
            None | Some("" | "BASIC") => {}
            // The simulated merchant has no flows in its operation or fee accounts.
            Some("OPERATION" | "FEES") => return Err(no_statement()),
            Some(_) => {
                return Err(WxError::param(
                    "account_type",
                    "account_type只能是BASIC、OPERATION或FEES",
                    "query",
                ));
            }
        }
        let orders = Self::bill_orders(shared, caller, None, now);
        let file = fund_flow_file(&orders, date, &caller.mchid, self.setup.fee_rate_ppm)
            .ok_or_else(no_statement)?;
        Ok((200, Some(self.issue_download(file, gzip, now)?)))
    }

    fn issue_download(
        &self,
        file: String,
        gzip: bool,
        now: OffsetDateTime,
    ) -> Result<serde_json::Value, WxError> {
        let hash = hex_lower(&sha1(file.as_bytes()));
        let body = if gzip {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            enc.write_all(file.as_bytes())
                .and_then(|()| enc.finish())
                .map(Bytes::from)
                .map_err(|_| WxError::new(500, "SYSTEM_ERROR", "系统异常，请稍后重试"))?
        } else {
            Bytes::from(file)
        };
        let token = random_alnum(40);
        let mut url = format!("{}/v3/billdownload/file?token={token}", self.base_url);
        if gzip {
            let _ = write!(url, "&tartype=gzip");
        }
        let mut bills = self.bills();
        bills.files.retain(|_, f| f.expires > now);
        bills.files.insert(
            token,
            BillFile {
                body,
                expires: now + Duration::seconds(DOWNLOAD_VALID_SECS),
            },
        );
        Ok(json!({"hash_type": "SHA1", "hash_value": hash, "download_url": url}))
    }

    /// `GET /v3/billdownload/file?token=…`: the file itself, not signed.
    pub(super) fn download(&self, req: &MockRequest, now: OffsetDateTime) -> MockResponse {
        let token = req.query_param("token").unwrap_or_default();
        let file = self.bills().files.get(&token).cloned();
        match file {
            Some(f) if f.expires > now => MockResponse {
                status: 200,
                headers: vec![("Content-Type".into(), "application/octet-stream".into())],
                body: f.body,
            },
            Some(_) => WxError::new(400, "INVALID_REQUEST", "下载链接已过期，请重新申请账单")
                .into_response(),
            None => WxError::new(404, "RESOURCE_NOT_EXISTS", "下载链接无效").into_response(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_and_fees() {
        assert_eq!(yuan(12345), "123.45");
        assert_eq!(yuan(-5), "-0.05");
        assert_eq!(yuan5(fee_units(100, 6000)), "0.00600");
        assert_eq!(yuan5(fee_units(26000, 6000)), "1.56000");
        assert_eq!(yuan5(-fee_units(3000, 6000)), "-0.18000");
        assert_eq!(units_to_fen(fee_units(1000, 6000)), 6);
        assert_eq!(units_to_fen(fee_units(100, 6000)), 1); // 0.006 → 0.01
        assert_eq!(rate_text(6000), "0.60%");
        assert_eq!(rate_text(390_000), "39.00%");
        assert_eq!(
            parse_date("2024-05-20"),
            Date::from_calendar_date(2024, Month::May, 20).ok()
        );
        assert_eq!(parse_date("2024-5-20"), None);
    }
}
