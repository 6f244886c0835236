//! `alipay.data.dataservice.bill.downloadurl.query` and the download: a ZIP (GBK entry
//! names, flag bit 11 clear, deflate) of two GBK CRLF CSVs, `<acct>_<date>_业务明细.csv` and
//! `…_业务明细(汇总).csv`, built from the simulator's own trades and refunds (brief §7).

use std::collections::HashMap;
use std::io::Write as _;

use bytes::Bytes;
use payagg_alipay::wire::{self, ResponseStatus};
use payagg_core::Channel;
use payagg_core::clock::CHINA_OFFSET;
use time::{Date, Duration, OffsetDateTime, Time};

use super::ops::{Reply, buyer_logon_id, extra_str, fail, node};
use super::{AlipaySim, Call, ymdhms};
use crate::BillDiscrepancy;
use crate::keys::{random_alnum, random_digits};
use crate::server::{MockRequest, MockResponse, Shared};
use crate::state::{Order, OrderStatus, RefundStatus};

const DOWNLOAD_VALID_SECS: i64 = 30;

#[derive(Debug, Default)]
pub(crate) struct Bills {
    files: HashMap<String, (Bytes, OffsetDateTime)>,
    discrepancies: Vec<(Date, BillDiscrepancy)>,
}

impl Bills {
    pub(crate) fn inject(&mut self, date: Date, kind: BillDiscrepancy) {
        self.discrepancies.push((date, kind));
    }
    pub(crate) fn clear(&mut self) {
        self.discrepancies.clear();
    }
}

const DETAIL_HEADER: &[&str] = &[
    "支付宝交易号",
    "商户订单号",
    "业务类型",
    "商品名称",
    "创建时间",
    "完成时间",
    "门店编号",
    "门店名称",
    "操作员",
    "终端号",
    "对方账户",
    "订单金额（元）",
    "商家实收（元）",
    "支付宝红包（元）",
    "集分宝（元）",
    "支付宝优惠（元）",
    "商家优惠（元）",
    "券核销金额（元）",
    "券名称",
    "商家红包消费金额（元）",
    "卡消费金额（元）",
    "退款批次号/请求号",
    "服务费（元）",
    "分润（元）",
    "备注",
];

const SUMMARY_HEADER: &[&str] = &[
    "门店编号",
    "门店名称",
    "交易订单总笔数",
    "退款订单总笔数",
    "订单金额（元）",
    "商家实收（元）",
    "支付宝优惠（元）",
    "商家优惠（元）",
    "卡消费金额（元）",
    "服务费（元）",
    "分润（元）",
    "实收净额（元）",
];

#[derive(Debug, Clone)]
struct Row {
    trade_no: String,
    out_trade_no: String,
    refund_no: Option<String>,
    subject: String,
    created: OffsetDateTime,
    done: OffsetDateTime,
    store_id: String,
    buyer: String,
    /// Signed: negative on refunds.
    fen: i64,
}

fn syuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let a = fen.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

/// 服务费 of a row: the fee charged (negative) on a payment, returned (positive) on a refund.
fn fee(fen: i64, ppm: u32) -> i64 {
    let f = (i128::from(fen.unsigned_abs()) * i128::from(ppm) + 500_000) / 1_000_000;
    let f = i64::try_from(f).unwrap_or(0);
    if fen < 0 { f } else { -f }
}

fn cn_date_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(CHINA_OFFSET);
    format!(
        "{:04}年{:02}月{:02}日 {:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn rows(orders: &[Order]) -> Vec<Row> {
    let mut out = Vec::new();
    for o in orders {
        let Some(paid) = o.paid_at else { continue };
        if o.status != OrderStatus::Success {
            continue;
        }
        let base = Row {
            trade_no: o.transaction_id.clone(),
            out_trade_no: o.out_trade_no.clone(),
            refund_no: None,
            subject: o.description.clone(),
            created: o.created_at,
            done: paid,
            store_id: extra_str(o, "store_id").unwrap_or_default(),
            buyer: buyer_logon_id(o),
            fen: i64::try_from(o.amount.minor_units()).unwrap_or(0),
        };
        out.push(base.clone());
        for r in &o.refunds {
            if r.status != RefundStatus::Success {
                continue;
            }
            let mut row = base.clone();
            row.refund_no = Some(r.out_refund_no.clone());
            row.done = r.success_at.unwrap_or(r.created_at);
            row.fen = -i64::try_from(r.amount.minor_units()).unwrap_or(0);
            out.push(row);
        }
    }
    out.sort_by_key(|r| r.done);
    out
}

fn apply(rows: &mut Vec<Row>, date: Date, kinds: &[BillDiscrepancy]) {
    let first_payment = |rows: &Vec<Row>| rows.iter().position(|r| r.refund_no.is_none());
    let noon = date
        .with_time(Time::from_hms(12, 0, 0).unwrap_or(Time::MIDNIGHT))
        .assume_offset(CHINA_OFFSET);
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
            BillDiscrepancy::ExtraRow => rows.push(Row {
                trade_no: format!(
                    "{:04}{:02}{:02}2200{}",
                    date.year(),
                    u8::from(date.month()),
                    date.day(),
                    random_digits(16)
                ),
                out_trade_no: format!("MOCKEXTRA{}", random_alnum(8)),
                refund_no: None,
                subject: "payagg-mock extra row".into(),
                created: noon,
                done: noon,
                store_id: String::new(),
                buyer: "188******99".into(),
                fen: 1234,
            }),
            BillDiscrepancy::NextDayRow => {
                if let Some(r) = rows.first_mut() {
                    r.done = date
                        .next_day()
                        .unwrap_or(date)
                        .with_time(Time::from_hms(0, 0, 1).unwrap_or(Time::MIDNIGHT))
                        .assume_offset(CHINA_OFFSET);
                }
            }
            #[allow(unreachable_patterns)]
            _ => {}
        }
    }
}

fn line(out: &mut String, cells: &[String]) {
    let cells: Vec<String> = cells.iter().map(|c| format!("{c}\t")).collect();
    out.push_str(&cells.join(","));
    out.push_str("\r\n");
}

fn clean(s: &str) -> String {
    s.chars()
        .map(|c| {
            if matches!(c, ',' | '\r' | '\n' | '\t') {
                ' '
            } else {
                c
            }
        })
        .collect()
}

fn detail(rows: &[Row], acct: &str, from: &str, to: &str, now: OffsetDateTime, ppm: u32) -> String {
    let mut s = String::new();
    s.push_str("#支付宝业务明细查询\r\n");
    s.push_str(&format!("#账号：[{acct}]\r\n"));
    s.push_str(&format!("#起始日期：[{from}]   终止日期：[{to}]\r\n"));
    s.push_str("#-----------------------------------------业务明细列表----------------------------------------\r\n");
    s.push_str(&DETAIL_HEADER.join(","));
    s.push_str("\r\n");
    let zero = || "0.00".to_owned();
    for r in rows {
        line(
            &mut s,
            &[
                r.trade_no.clone(),
                r.out_trade_no.clone(),
                if r.refund_no.is_some() {
                    "退款"
                } else {
                    "交易"
                }
                .into(),
                clean(&r.subject),
                ymdhms(r.created),
                ymdhms(r.done),
                r.store_id.clone(),
                String::new(),
                String::new(),
                String::new(),
                r.buyer.clone(),
                syuan(r.fen),
                syuan(r.fen),
                zero(),
                zero(),
                zero(),
                zero(),
                zero(),
                String::new(),
                zero(),
                zero(),
                r.refund_no.clone().unwrap_or_default(),
                syuan(fee(r.fen, ppm)),
                zero(),
                String::new(),
            ],
        );
    }
    s.push_str("#-----------------------------------------业务明细列表结束------------------------------------\r\n");
    let (pays, refunds): (Vec<&Row>, Vec<&Row>) = rows.iter().partition(|r| r.refund_no.is_none());
    let sum = |v: &[&Row]| v.iter().map(|r| r.fen).sum::<i64>();
    s.push_str(&format!(
        "#交易合计：{}笔，商家实收共{}元，商家优惠共0.00元\r\n",
        pays.len(),
        syuan(sum(&pays))
    ));
    s.push_str(&format!(
        "#退款合计：{}笔，商家实收退款共{}元，商家优惠退款共0.00元\r\n",
        refunds.len(),
        syuan(sum(&refunds))
    ));
    s.push_str(&format!("#导出时间：[{}]\r\n", cn_date_time(now)));
    s
}

fn summary(
    rows: &[Row],
    acct: &str,
    from: &str,
    to: &str,
    now: OffsetDateTime,
    ppm: u32,
) -> String {
    let mut s = String::new();
    s.push_str("#支付宝业务汇总查询\r\n");
    s.push_str(&format!("#账号：[{acct}]\r\n"));
    s.push_str(&format!("#起始日期：[{from}]   终止日期：[{to}]\r\n"));
    s.push_str("#-----------------------------------------业务汇总列表----------------------------------------\r\n");
    s.push_str(&SUMMARY_HEADER.join(","));
    s.push_str("\r\n");
    let mut stores: Vec<String> = rows.iter().map(|r| r.store_id.clone()).collect();
    stores.sort();
    stores.dedup();
    let agg = |sel: &dyn Fn(&Row) -> bool| {
        let v: Vec<&Row> = rows.iter().filter(|r| sel(r)).collect();
        let pays = v.iter().filter(|r| r.refund_no.is_none()).count();
        let refunds = v.len() - pays;
        let amount: i64 = v.iter().map(|r| r.fen).sum();
        let fees: i64 = v.iter().map(|r| fee(r.fen, ppm)).sum();
        (pays, refunds, amount, fees)
    };
    let mut emit = |id: &str, (p, r, a, f): (usize, usize, i64, i64)| {
        line(
            &mut s,
            &[
                id.to_owned(),
                String::new(),
                p.to_string(),
                r.to_string(),
                syuan(a),
                syuan(a),
                "0.00".into(),
                "0.00".into(),
                "0.00".into(),
                syuan(f),
                "0.00".into(),
                syuan(a + f),
            ],
        );
    };
    for st in &stores {
        emit(st, agg(&|r: &Row| &r.store_id == st));
    }
    emit("合计", agg(&|_: &Row| true));
    s.push_str("#-----------------------------------------业务汇总列表结束------------------------------------\r\n");
    s.push_str(&format!("#导出时间：[{}]\r\n", cn_date_time(now)));
    s
}

fn gbk(s: &str) -> Vec<u8> {
    encoding_rs::GBK.encode(s).0.into_owned()
}

/// A minimal ZIP writer: deflated entries with raw (GBK) names, flag bit 11 clear.
fn zip(entries: &[(Vec<u8>, Vec<u8>)]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in entries {
        let mut crc = flate2::Crc::new();
        crc.update(data);
        let mut enc =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(data)?;
        let comp = enc.finish()?;
        let offset = u32::try_from(out.len()).unwrap_or(u32::MAX);
        let (csize, usize_) = (
            u32::try_from(comp.len()).unwrap_or(u32::MAX),
            u32::try_from(data.len()).unwrap_or(u32::MAX),
        );
        let name_len = u16::try_from(name.len()).unwrap_or(u16::MAX);
        let common = |v: &mut Vec<u8>| {
            v.extend_from_slice(&20u16.to_le_bytes()); // version needed
            v.extend_from_slice(&0u16.to_le_bytes()); // flags: bit 11 clear (names are GBK)
            v.extend_from_slice(&8u16.to_le_bytes()); // deflate
            v.extend_from_slice(&0u16.to_le_bytes()); // time
            v.extend_from_slice(&0x21u16.to_le_bytes()); // date 1980-01-01
            v.extend_from_slice(&crc.sum().to_le_bytes());
            v.extend_from_slice(&csize.to_le_bytes());
            v.extend_from_slice(&usize_.to_le_bytes());
            v.extend_from_slice(&name_len.to_le_bytes());
            v.extend_from_slice(&0u16.to_le_bytes()); // extra length
        };
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        common(&mut out);
        out.extend_from_slice(name);
        out.extend_from_slice(&comp);
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&20u16.to_le_bytes()); // version made by
        common(&mut central);
        central.extend_from_slice(&0u16.to_le_bytes()); // comment length
        central.extend_from_slice(&0u16.to_le_bytes()); // disk
        central.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
        central.extend_from_slice(&0u32.to_le_bytes()); // external attributes
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name);
    }
    let cd_offset = u32::try_from(out.len()).unwrap_or(u32::MAX);
    let n = u16::try_from(entries.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(
        &u32::try_from(central.len())
            .unwrap_or(u32::MAX)
            .to_le_bytes(),
    );
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    Ok(out)
}

/// Day (`yyyy-MM-dd`) or month (`yyyy-MM`): the China-time range `[from, to)`.
fn period(s: &str) -> Option<(Date, Date, String)> {
    if s.len() == 10 {
        let d = crate::wechat::parse_date(s)?;
        Some((d, d.next_day()?, s.replace('-', "")))
    } else if s.len() == 7 {
        let d = crate::wechat::parse_date(&format!("{s}-01"))?;
        let next = if d.month() == time::Month::December {
            Date::from_calendar_date(d.year() + 1, time::Month::January, 1).ok()?
        } else {
            Date::from_calendar_date(d.year(), d.month().next(), 1).ok()?
        };
        Some((d, next, s.replace('-', "")))
    } else {
        None
    }
}

impl AlipaySim {
    pub(super) fn bill_url(&self, shared: &Shared, call: &Call, now: OffsetDateTime) -> Reply {
        let c: wire::BillDownloadUrlContent = serde_json::from_str(&call.biz)
            .map_err(|e| fail("isp.invalid_arguments", &format!("参数无效: {e}")))?;
        if c.bill_type != "trade" {
            return Err(fail(
                "isp.type_not_supported",
                "payagg-mock 只支持 bill_type=trade",
            ));
        }
        let (from, to, tag) = period(&c.bill_date)
            .ok_or_else(|| fail("isp.invalid_arguments", "bill_date格式错误"))?;
        let local = now.to_offset(CHINA_OFFSET);
        let today = local.date();
        // Daily bills exist from the next day (generated by 09:00), monthly ones from the 3rd.
        let ready = if c.bill_date.len() == 10 {
            to < today || (to == today && local.hour() >= 9)
        } else {
            to < today || (to == today && local.hour() >= 9) || (to <= today && today.day() >= 3)
        };
        if !ready {
            return Err(fail("isp.bill_not_exist", "账单不存在"));
        }
        let start = from.with_time(Time::MIDNIGHT).assume_offset(CHINA_OFFSET);
        let end = to.with_time(Time::MIDNIGHT).assume_offset(CHINA_OFFSET);
        shared.store.expire(now);
        let orders: Vec<Order> = shared
            .store
            .orders()
            .into_iter()
            .filter(|o| o.channel == Channel::Alipay && o.merchant == call.app_id)
            .collect();
        let kinds: Vec<BillDiscrepancy> = self
            .lock()
            .bills
            .discrepancies
            .iter()
            .filter(|(d, _)| *d >= from && *d < to)
            .map(|(_, k)| *k)
            .collect();
        let mut day: Vec<Row> = rows(&orders)
            .into_iter()
            .filter(|r| r.done >= start && r.done < end)
            .collect();
        apply(&mut day, from, &kinds);
        let mut status = ResponseStatus::success();
        let mut file_code = None;
        if day.is_empty() {
            if !self.setup.empty_bill_file {
                return Err(fail("isp.bill_not_exist", "账单不存在"));
            }
            file_code = Some("EMPTY_DATA_WITH_BILL_FILE".to_owned());
            status = ResponseStatus::success();
        }
        let acct = format!("{}0156", self.setup.seller_id());
        let (f, t) = (cn_date_time(start), cn_date_time(end));
        let ppm = self.setup.fee_rate_ppm;
        let entries = vec![
            (
                gbk(&format!("{acct}_{tag}_业务明细.csv")),
                gbk(&detail(&day, &acct, &f, &t, now, ppm)),
            ),
            (
                gbk(&format!("{acct}_{tag}_业务明细(汇总).csv")),
                gbk(&summary(&day, &acct, &f, &t, now, ppm)),
            ),
        ];
        let body = zip(&entries).map_err(|_| fail("isp.unknow-error", "系统繁忙"))?;
        let token = random_alnum(32);
        let url = format!(
            "{}/downloadBillFile.resource?bizType=trade&userId={}&fileType=csv.zip&bizDates={tag}&downloadFileName={acct}_{tag}.csv.zip&fileId={token}",
            self.base_url,
            self.setup.seller_id()
        );
        {
            let mut st = self.lock();
            st.bills.files.retain(|_, (_, exp)| *exp > now);
            st.bills.files.insert(
                token,
                (
                    Bytes::from(body),
                    now + Duration::seconds(DOWNLOAD_VALID_SECS),
                ),
            );
        }
        Ok(node(&wire::BillDownloadUrlResponse {
            status,
            bill_download_url: Some(url),
            bill_file_code: file_code,
        }))
    }

    /// The file itself: a plain, unsigned GET, valid 30 s.
    pub(super) fn download(&self, req: &MockRequest, now: OffsetDateTime) -> MockResponse {
        let token = req.query_param("fileId").unwrap_or_default();
        let name = req
            .query_param("downloadFileName")
            .unwrap_or_else(|| "bill.csv.zip".into());
        let file = self.lock().bills.files.get(&token).cloned();
        match file {
            Some((body, exp)) if exp > now => MockResponse {
                status: 200,
                headers: vec![
                    ("Content-Type".into(), "application/oct-stream".into()),
                    (
                        "Content-Disposition".into(),
                        format!("attachment; filename={name}"),
                    ),
                ],
                body,
            },
            Some(_) => MockResponse::text(410, "下载链接已失效"),
            None => MockResponse::text(404, "文件不存在"),
        }
    }
}
