//! Synthetic edge cases for the WeChat bill parsers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use payagg_core::statement::{RecordKind, StatementParser};
use payagg_core::{Currency, Error, ExactAmount, Result, StatementRecord};
use payagg_wechat::bill::{FundFlowBillParser, TradeBillParser};

const ALL_HEADER: &str = "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注";
const ALL_SUMMARY: &str =
    "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额";

fn pay_row(time: &str, order: &str, amount: &str, fee: &str, goods: &str) -> String {
    format!(
        "`{time},`wx1,`1230000109,`0,`,`42000{order},`{order},`oU1,`JSAPI,`SUCCESS,`OTHERS,`CNY,`{amount},`0.00,`0,`0,`0.00,`0.00,`,`,`{goods},`,`{fee},`0.60%,`{amount},`0.00,`"
    )
}

fn refund_row(time: &str, order: &str, refund: &str, amount: &str, fee: &str) -> String {
    format!(
        "`{time},`wx1,`1230000109,`0,`,`42000{order},`{order},`oU1,`JSAPI,`REFUND,`OTHERS,`CNY,`0.00,`0.00,`5030{refund},`{refund},`{amount},`0.00,`ORIGINAL,`SUCCESS,`g,`,`{fee},`0.60%,`0.00,`{amount},`"
    )
}

fn bill(header: &str, rows: &[String], summary_header: &str, summary: &str) -> Vec<u8> {
    let mut s = String::from("\u{feff}");
    s.push_str(header);
    s.push_str("\r\n");
    for r in rows {
        s.push_str(r);
        s.push_str("\r\n");
    }
    s.push_str(summary_header);
    s.push_str("\r\n");
    s.push_str(summary);
    s.push_str("\r\n");
    s.into_bytes()
}

fn sample() -> Vec<u8> {
    bill(
        ALL_HEADER,
        &[
            pay_row("2024-05-20 10:15:32", "A1", "100.00", "0.60000", "会员月卡"),
            pay_row(
                "2024-05-20 11:02:07",
                "A2",
                "58.80",
                "0.35000",
                "咖啡豆, 250g",
            ),
            refund_row("2024-05-20 15:40:11", "A1", "R1", "30.00", "-0.18000"),
        ],
        ALL_SUMMARY,
        "`3.0,`158.80,`30.00,`0.00,`0.77,`158.80,`30.00",
    )
}

fn trade(raw: &[u8]) -> Vec<Result<StatementRecord>> {
    TradeBillParser::new().records(raw).collect()
}

fn ok(raw: &[u8]) -> Vec<StatementRecord> {
    trade(raw).into_iter().collect::<Result<Vec<_>>>().unwrap()
}

fn amt(s: &str) -> ExactAmount {
    ExactAmount::parse(s).unwrap()
}

fn decode_msg(e: &Error) -> String {
    match e {
        Error::Decode(d) => format!("{} @ {}", d.what(), d.location().unwrap_or("")),
        other => panic!("expected a decode error, got {other:?}"),
    }
}

#[test]
fn maps_payments_and_refunds() {
    let r = ok(&sample());
    assert_eq!(r.len(), 3);
    assert_eq!(r[0].kind, RecordKind::Payment);
    assert_eq!(
        (r[0].gross, r[0].fee, r[0].net),
        (amt("100.00"), amt("-0.60000"), amt("99.40000"))
    );
    assert_eq!(r[0].net.to_string(), "99.40000");
    assert_eq!(r[0].channel_kind, "SUCCESS");
    assert_eq!(r[0].currency, Currency::Cny);
    assert_eq!(r[0].merchant_refund_no, None);
    assert_eq!(r[0].primary_key(), Some("A1"));
    assert_eq!(
        r[1].raw,
        pay_row(
            "2024-05-20 11:02:07",
            "A2",
            "58.80",
            "0.35000",
            "咖啡豆, 250g"
        )
    );
    assert_eq!(r[2].kind, RecordKind::Refund);
    assert_eq!(
        (r[2].gross, r[2].fee, r[2].net),
        (amt("-30.00"), amt("0.18000"), amt("-29.82000"))
    );
    assert_eq!(r[2].merchant_refund_no.as_deref(), Some("R1"));
    assert_eq!(r[2].channel_refund_no.as_deref(), Some("5030R1"));
    assert_eq!(r[2].primary_key(), Some("R1"));
    assert_eq!(r[2].source_line, 4);
    assert_eq!(
        r[2].occurred_at.to_string(),
        "2024-05-20 15:40:11.0 +08:00:00"
    );
}

#[test]
fn empty_bills_and_no_bill_answers_yield_nothing() {
    for raw in [
        &b""[..],
        b"\xEF\xBB\xBF",
        b"\r\n\r\n",
        b"<xml><return_code><![CDATA[FAIL]]></return_code><return_msg><![CDATA[No Bill Exist]]></return_msg><error_code><![CDATA[20002]]></error_code></xml>",
        r#"{"code":"NO_STATEMENT_EXIST","message":"请求的账单文件不存在"}"#.as_bytes(),
    ] {
        assert!(trade(raw).is_empty(), "{raw:?}");
        assert_eq!(TradeBillParser::new().check_summary(raw).unwrap().record_count, 0);
        assert!(FundFlowBillParser::new().records(raw).next().is_none());
    }
    // A day without business that still came as a file: header and zero totals.
    let raw = bill(
        ALL_HEADER,
        &[],
        ALL_SUMMARY,
        "`0,`0.00,`0.00,`0.00,`0.00000,`0.00,`0.00",
    );
    assert!(trade(&raw).is_empty());
    assert_eq!(
        TradeBillParser::new()
            .check_summary(&raw)
            .unwrap()
            .record_count,
        0
    );
}

#[test]
fn columns_are_found_by_name_in_any_order() {
    let names: Vec<&str> = ALL_HEADER.split(',').collect();
    let order: Vec<usize> = (0..names.len()).rev().collect();
    let permute = |line: &str, backticked: bool| -> String {
        let f: Vec<&str> = if backticked {
            line[1..].split(",`").collect()
        } else {
            line.split(',').collect()
        };
        let p: Vec<&str> = order.iter().map(|&i| f[i]).collect();
        if backticked {
            format!("`{}", p.join(",`"))
        } else {
            p.join(",")
        }
    };
    let rows = [
        pay_row("2024-05-20 10:15:32", "A1", "100.00", "0.60000", "x"),
        refund_row("2024-05-20 15:40:11", "A1", "R1", "30.00", "-0.18000"),
    ];
    let raw = bill(
        &permute(ALL_HEADER, false),
        &rows.iter().map(|r| permute(r, true)).collect::<Vec<_>>(),
        "申请退款总金额,总交易单数,手续费总金额,应结订单总金额",
        "`30.00,`2,`0.42,`100.00",
    );
    let r = ok(&raw);
    assert_eq!(r[0].gross, amt("100.00"));
    assert_eq!(r[0].merchant_order_no.as_deref(), Some("A1"));
    assert_eq!(r[1].gross, amt("-30.00"));
    assert_eq!(r[1].fee, amt("0.18000"));
}

#[test]
fn success_bill_with_its_four_column_summary() {
    let header = "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,商品名称,商户数据包,手续费,费率,订单金额,费率备注";
    let row = "`2024-05-20 10:15:32,`wx1,`1230000109,`0,`,`4200001,`A1,`oU1,`MICROPAY,`SUCCESS,`CMB_DEBIT,`CNY,`12.30,`0.00,`tea,`,`0.07000,`0.60%,`12.30,`".to_owned();
    let raw = bill(
        header,
        &[row],
        "总交易单数,应结订单总金额,手续费总金额,订单总金额",
        "`1,`12.30,`0.07,`12.30",
    );
    let r = ok(&raw);
    assert_eq!(r[0].net, amt("12.23"));
    let s = TradeBillParser::new().check_summary(&raw).unwrap();
    assert_eq!(s.record_count, 1);
    assert_eq!(s.totals.len(), 3);
}

#[test]
fn refund_bill_uses_the_refund_success_time() {
    let header = "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,退款申请时间,退款成功时间,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注";
    let row = "`2024-05-19 09:00:00,`wx1,`1230000109,`0,`,`4200001,`A1,`oU1,`JSAPI,`REFUND,`OTHERS,`CNY,`0.00,`0.00,`2024-05-20 08:00:00,`2024-05-20 08:00:05,`5030001,`R1,`10.00,`0.00,`ORIGINAL,`SUCCESS,`tea,`,`-0.06000,`0.60%,`0.00,`10.00,`".to_owned();
    let raw = bill(
        header,
        &[row],
        ALL_SUMMARY,
        "`1,`0.00,`10.00,`0.00,`-0.06,`0.00,`10.00",
    );
    let r = ok(&raw);
    assert_eq!(r[0].kind, RecordKind::Refund);
    assert_eq!(
        r[0].occurred_at.to_string(),
        "2024-05-20 8:00:05.0 +08:00:00"
    );
    assert_eq!(r[0].gross, amt("-10.00"));
}

#[test]
fn legacy_layout_and_summary() {
    let header = "交易时间,公众账号ID,商户号,子商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,总金额,代金券或立减优惠金额,微信退款单号,商户退款单号,退款金额,代金券或立减优惠退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率";
    let rows = [
        "`2017-01-01 10:00:00,`wx1,`1900000109,`0,`,`4001,`A1,`oU1,`NATIVE,`SUCCESS,`CFT,`CNY,`5.00,`0.00,`0,`0,`0.00,`0.00,`,`,`x,`,`0.03000,`0.60%".to_owned(),
        "`2017-01-01 11:00:00,`wx1,`1900000109,`0,`,`4001,`A1,`oU1,`NATIVE,`REFUND,`CFT,`CNY,`0.00,`0.00,`5001,`R1,`5.00,`0.00,`ORIGINAL,`SUCCESS,`x,`,`-0.03000,`0.60%".to_owned(),
    ];
    let raw = bill(
        header,
        &rows,
        "总交易单数,总交易额,总退款金额,总代金券或立减优惠退款金额,手续费总金额",
        "`2,`5.00,`5.00,`0.00,`0.00",
    );
    let r = ok(&raw);
    assert_eq!(r[0].gross, amt("5.00"));
    assert_eq!(r[1].gross, amt("-5.00"));
    let s = TradeBillParser::new().check_summary(&raw).unwrap();
    assert_eq!(s.computed("总交易额"), Some(amt("5.00")));
    assert_eq!(s.computed("总退款金额"), Some(amt("5.00")));
    let bad = bill(
        header,
        &rows,
        "总交易单数,总交易额,总退款金额,总代金券或立减优惠退款金额,手续费总金额",
        "`2,`6.00,`5.00,`0.00,`0.00",
    );
    assert!(TradeBillParser::new().check_summary(&bad).is_err());
}

#[test]
fn malformed_rows_name_their_line_and_the_rest_still_parses() {
    let rows = [
        pay_row("2024-05-20 10:15:32", "A1", "1.2.3", "0.60000", "x"),
        pay_row("2024-05-20 25:00:00", "A2", "1.00", "0.00600", "x"),
        "`too,`few,`fields".to_owned(),
        pay_row("2024-05-20 10:15:32", "A4", "1.00", "0.00600", "x"),
    ];
    let raw = bill(ALL_HEADER, &rows, ALL_SUMMARY, "`4,`0,`0,`0,`0,`0,`0");
    let out = trade(&raw);
    assert_eq!(out.len(), 4, "no summary error once rows failed: {out:?}");
    let e0 = decode_msg(out[0].as_ref().unwrap_err());
    assert!(
        e0.contains("应结订单金额") && e0.ends_with("line 2"),
        "{e0}"
    );
    assert!(decode_msg(out[1].as_ref().unwrap_err()).ends_with("line 3"));
    let e2 = decode_msg(out[2].as_ref().unwrap_err());
    assert!(
        e2.contains("3 fields where the header has 27 columns") && e2.ends_with("line 4"),
        "{e2}"
    );
    assert_eq!(
        out[3].as_ref().unwrap().merchant_order_no.as_deref(),
        Some("A4")
    );
    assert!(TradeBillParser::new().check_summary(&raw).is_err());
}

#[test]
fn summary_disagreements_are_reported_at_the_end() {
    let mut raw = sample();
    let text = String::from_utf8(raw.clone())
        .unwrap()
        .replace("`158.80,`30.00,`0.00,`0.77", "`158.81,`30.00,`0.00,`0.77");
    raw = text.into_bytes();
    let out = trade(&raw);
    assert_eq!(out.len(), 4);
    assert!(out[..3].iter().all(Result::is_ok));
    let e = decode_msg(out[3].as_ref().unwrap_err());
    assert!(
        e.contains("应结订单总金额 states 158.81 but the rows sum to 158.80")
            && e.ends_with("line 6"),
        "{e}"
    );
    let e = TradeBillParser::new().check_summary(&raw).unwrap_err();
    assert!(e.to_string().contains("应结订单总金额"), "{e}");

    let count = String::from_utf8(sample())
        .unwrap()
        .replace("`3.0,", "`4.0,");
    let e = TradeBillParser::new()
        .check_summary(count.as_bytes())
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("总交易单数 states 4.0 but the bill has 3 rows"),
        "{e}"
    );

    let fee = String::from_utf8(sample())
        .unwrap()
        .replace(",`0.77,", ",`0.79,");
    assert!(
        TradeBillParser::new()
            .check_summary(fee.as_bytes())
            .is_err()
    );
}

#[test]
fn fee_totals_accept_rounding_but_not_drift() {
    let rows: Vec<String> = (0..3)
        .map(|i| {
            pay_row(
                "2024-05-20 10:15:32",
                &format!("A{i}"),
                "1.00",
                "0.00600",
                "x",
            )
        })
        .collect();
    let with = |fee: &str| {
        bill(
            ALL_HEADER,
            &rows,
            ALL_SUMMARY,
            &format!("`3,`3.00,`0.00,`0.00,`{fee},`3.00,`0.00"),
        )
    };
    let s = TradeBillParser::new().check_summary(&with("0.02")).unwrap();
    assert_eq!(s.computed("手续费总金额").unwrap().to_string(), "0.01800");
    assert!(
        TradeBillParser::new()
            .check_summary(&with("0.01800"))
            .is_ok()
    );
    assert!(
        TradeBillParser::new().check_summary(&with("0.03")).is_ok(),
        "per-row rounding"
    );
    assert!(TradeBillParser::new().check_summary(&with("0.05")).is_err());
    assert!(
        TradeBillParser::new()
            .check_summary(&with("0.01900"))
            .is_err()
    );
}

#[test]
fn structural_errors() {
    // Truncated download: no summary.
    let text = String::from_utf8(sample()).unwrap();
    let cut = &text[..text.find("总交易单数").unwrap()];
    let out = trade(cut.as_bytes());
    assert!(decode_msg(out.last().unwrap().as_ref().unwrap_err()).contains("without its summary"));
    // Summary header without values.
    let cut = &text[..text.find("`3.0").unwrap()];
    assert!(
        decode_msg(trade(cut.as_bytes()).last().unwrap().as_ref().unwrap_err())
            .contains("no values line")
    );
    // Something after the summary.
    let more = format!("{text}`extra\r\n");
    assert!(
        decode_msg(trade(more.as_bytes()).last().unwrap().as_ref().unwrap_err())
            .contains("after the summary")
    );
    // A header without the columns we need stops at line 1.
    let out = trade("a,b,c\r\n`1,`2,`3\r\n".as_bytes());
    assert_eq!(out.len(), 1);
    let e = decode_msg(out[0].as_ref().unwrap_err());
    assert!(
        e.contains("the header has no") && e.ends_with("line 1"),
        "{e}"
    );
    // Not UTF-8.
    let mut raw = sample();
    let at = raw.windows(3).position(|w| w == b"`wx").unwrap();
    raw[at + 1] = 0xFF;
    let out = trade(&raw);
    assert!(decode_msg(out[0].as_ref().unwrap_err()).contains("not UTF-8"));
    // LF-only line ends and no final newline are fine.
    let lf = text.replace("\r\n", "\n");
    assert_eq!(ok(lf.trim_end().as_bytes()).len(), 3);
}

#[test]
fn never_panics_on_truncated_or_mangled_input() {
    let raw = sample();
    for cut in 0..raw.len() {
        let _ = trade(&raw[..cut]);
        let _ = FundFlowBillParser::new().records(&raw[..cut]).count();
    }
    let mut mangled = raw.clone();
    for i in (0..mangled.len()).step_by(7) {
        mangled[i] = b"`,\r\n0-.:"[i % 8];
        let _ = trade(&mangled);
    }
}

const FUND_HEADER: &str = "记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额(元),账户结余(元),资金变更提交申请人,备注,业务凭证号";

fn fund_bill(header: &str, summary: &str) -> Vec<u8> {
    let rows = [
        "`2024-05-20 10:15:33,`4200002101,`1230000109202405201000000001,`交易,`交易,`收入,`100.00,`1100.00,`system,`,`ORD1".to_owned(),
        "`2024-05-20 10:15:34,`4200002101,`1230000109202405201000000002,`交易,`扣除交易手续费,`支出,`0.60,`1099.40,`system,`,`ORD1".to_owned(),
        "`2024-05-20 15:40:12,`5030090801,`1230000109202405201000000003,`退款,`退款,`支出,`30.00,`1069.40,`system,`会员退订,`RF1".to_owned(),
        "`2024-05-20 18:00:00,`1230000109,`1230000109202405201000000004,`提现,`提现,`支出,`1000.00,`69.40,`员工账号@1230000109,`,`".to_owned(),
    ];
    bill(
        header,
        &rows,
        "资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额",
        summary,
    )
}

#[test]
fn fund_flow_kinds_signs_and_summary() {
    let raw = fund_bill(FUND_HEADER, "`4.0,`1.0,`100.00,`3.0,`1030.60");
    let r: Vec<StatementRecord> = FundFlowBillParser::new()
        .records(&raw)
        .collect::<Result<_>>()
        .unwrap();
    assert_eq!(
        r.iter().map(|r| r.kind).collect::<Vec<_>>(),
        [
            RecordKind::Payment,
            RecordKind::Fee,
            RecordKind::Refund,
            RecordKind::Transfer
        ]
    );
    assert_eq!((r[0].gross, r[0].net), (amt("100.00"), amt("100.00")));
    assert_eq!(r[0].merchant_order_no.as_deref(), Some("ORD1"));
    assert_eq!(r[0].channel_trade_no.as_deref(), Some("4200002101"));
    assert_eq!(
        (r[1].gross, r[1].fee, r[1].net),
        (ExactAmount::ZERO, amt("-0.60"), amt("-0.60"))
    );
    assert_eq!(r[1].channel_kind, "扣除交易手续费");
    assert_eq!((r[2].gross, r[2].net), (amt("-30.00"), amt("-30.00")));
    assert_eq!(r[2].merchant_refund_no.as_deref(), Some("RF1"));
    assert_eq!(r[2].channel_refund_no.as_deref(), Some("5030090801"));
    assert_eq!(r[3].net, amt("-1000.00"));
    let s = FundFlowBillParser::new().check_summary(&raw).unwrap();
    assert_eq!(s.record_count, 4);
    assert_eq!(s.computed("支出金额"), Some(amt("1030.60")));
    // Full-width parentheses (WxJava-era header) parse the same.
    let wide = fund_bill(
        &FUND_HEADER.replace('(', "（").replace(')', "）"),
        "`4.0,`1.0,`100.00,`3.0,`1030.60",
    );
    assert_eq!(FundFlowBillParser::new().records(&wide).count(), 4);
    assert!(FundFlowBillParser::new().check_summary(&wide).is_ok());
    // Disagreeing totals.
    let bad = fund_bill(FUND_HEADER, "`4.0,`2.0,`100.00,`2.0,`1030.60");
    let e = FundFlowBillParser::new().check_summary(&bad).unwrap_err();
    assert!(e.to_string().contains("收入笔数"), "{e}");
    let bad = fund_bill(FUND_HEADER, "`4.0,`1.0,`100.00,`3.0,`1030.61");
    assert!(FundFlowBillParser::new().check_summary(&bad).is_err());
}

#[test]
fn fund_flow_rejects_bad_direction_and_negative_magnitude() {
    let raw = bill(
        FUND_HEADER,
        &[
            "`2024-05-20 10:15:33,`1,`2,`交易,`交易,`其他,`1.00,`1.00,`system,`,`".to_owned(),
            "`2024-05-20 10:15:33,`1,`2,`交易,`交易,`收入,`-1.00,`1.00,`system,`,`".to_owned(),
        ],
        "资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额",
        "`2,`0,`0.00,`0,`0.00",
    );
    let out: Vec<_> = FundFlowBillParser::new().records(&raw).collect();
    assert_eq!(out.len(), 2);
    assert!(decode_msg(out[0].as_ref().unwrap_err()).contains("收支类型"));
    assert!(decode_msg(out[1].as_ref().unwrap_err()).ends_with("line 3"));
}

/// Records and errors as comparable text.
fn shown(items: impl Iterator<Item = Result<StatementRecord>>) -> Vec<String> {
    items.map(|r| format!("{r:?}")).collect()
}

fn same_from_reader(raw: &[u8]) {
    let whole = shown(TradeBillParser::new().records(raw));
    assert_eq!(shown(TradeBillParser::new().read_records(raw)), whole);
    // Lines assembled across many small reads.
    let small = std::io::BufReader::with_capacity(5, raw);
    assert_eq!(shown(TradeBillParser::new().read_records(small)), whole);
    let whole = shown(FundFlowBillParser::new().records(raw));
    assert_eq!(shown(FundFlowBillParser::new().read_records(raw)), whole);
}

#[test]
fn a_bill_read_from_a_stream_yields_what_the_whole_file_yields() {
    let raw = sample();
    same_from_reader(&raw);
    for cut in 0..raw.len() {
        same_from_reader(&raw[..cut]);
    }
    let mut mangled = raw.clone();
    for i in (0..mangled.len()).step_by(7) {
        mangled[i] = b"`,\r\n0-.:"[i % 8];
        same_from_reader(&mangled);
    }
    let fund = fund_bill(FUND_HEADER, "`4,`1,`100.00,`3,`1030.60");
    same_from_reader(&fund);
    assert_eq!(
        TradeBillParser::new().check_summary_read(&raw[..]).unwrap(),
        TradeBillParser::new().check_summary(&raw).unwrap()
    );
    assert_eq!(
        FundFlowBillParser::new()
            .check_summary_read(&fund[..])
            .unwrap(),
        FundFlowBillParser::new().check_summary(&fund).unwrap()
    );
    // The shared vectors too, when present.
    if let Some(dir) = std::env::var_os("PAYAGG_VECTORS") {
        let dir = std::path::PathBuf::from(dir).join("wechat/bills");
        for name in [
            "wechat_trade_ALL_20240520.csv",
            "wechatpay-php_bill.ALL.csv",
        ] {
            let raw = std::fs::read(dir.join(name)).unwrap();
            assert!(TradeBillParser::new().records(&raw).all(|r| r.is_ok()));
            same_from_reader(&raw);
        }
    }
}

/// Yields `data`, then fails.
struct Failing<'a>(&'a [u8]);

impl std::io::Read for Failing<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.0.is_empty() {
            return Err(std::io::Error::other("disk gone"));
        }
        let n = buf.len().min(self.0.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

#[test]
fn a_read_error_ends_the_records_with_an_error_naming_the_line() {
    let raw = sample();
    let second_row_end = raw
        .iter()
        .enumerate()
        .filter(|&(_, &c)| c == b'\n')
        .nth(2)
        .unwrap()
        .0;
    let reader = std::io::BufReader::new(Failing(&raw[..=second_row_end]));
    let out: Vec<_> = TradeBillParser::new().read_records(reader).collect();
    assert_eq!(out.len(), 3, "{out:?}");
    assert!(out[0].is_ok() && out[1].is_ok());
    let Err(Error::Decode(d)) = &out[2] else {
        panic!("{:?}", out[2])
    };
    let msg = format!("{d}");
    assert!(
        msg.contains("cannot read") && msg.contains("line 4"),
        "{msg}"
    );
}
