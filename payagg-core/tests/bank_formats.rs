//! Bank statements: camt.053, MT940, CSV (UTF-8 and GBK), and unbalanced files rejected.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::error::Error as _;

use payagg_core::bank::{
    BankCsvProfile, BankFormat, CsvEncoding, DebitCredit, UnbalancedStatement, detect,
    parse_camt053, parse_mt940,
};
use payagg_core::reconcile::{SettlementConfig, match_settlements};
use payagg_core::statement::RecordKind;
use payagg_core::{Channel, Currency, Error};
use time::macros::date;

const CAMT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>ICBC20240521001</MsgId><CreDtTm>2024-05-21T06:00:00+08:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>STMT-20240521</Id>
      <Acct><Id><Othr><Id>0200001234567890123</Id></Othr></Id><Ccy>CNY</Ccy></Acct>
      <Bal>
        <Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp>
        <Amt Ccy="CNY">10000.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>
        <Dt><Dt>2024-05-21</Dt></Dt>
      </Bal>
      <Bal>
        <Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp>
        <Amt Ccy="CNY">10070.67</Amt><CdtDbtInd>CRDT</CdtDbtInd>
        <Dt><Dt>2024-05-21</Dt></Dt>
      </Bal>
      <Ntry>
        <NtryRef>1</NtryRef>
        <Amt Ccy="CNY">81.67</Amt><CdtDbtInd>CRDT</CdtDbtInd>
        <Sts><Cd>BOOK</Cd></Sts>
        <BookgDt><Dt>2024-05-21</Dt></BookgDt><ValDt><Dt>2024-05-21</Dt></ValDt>
        <AcctSvcrRef>ICBC-REF-0001</AcctSvcrRef>
        <BkTxCd><Prtry><Cd>NTRF</Cd></Prtry></BkTxCd>
        <NtryDtls><TxDtls>
          <Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>
          <RltdPties><Dbtr><Nm>财付通支付科技有限公司</Nm></Dbtr></RltdPties>
          <RmtInf><Ustrd>微信支付结算 1900000109 &amp; 20240520</Ustrd></RmtInf>
        </TxDtls></NtryDtls>
      </Ntry>
      <Ntry>
        <Amt Ccy="CNY">11.00</Amt><CdtDbtInd>DBIT</CdtDbtInd>
        <Sts><Cd>BOOK</Cd></Sts>
        <BookgDt><DtTm>2024-05-21T10:15:00+08:00</DtTm></BookgDt>
        <AcctSvcrRef>ICBC-REF-0002</AcctSvcrRef>
        <NtryDtls><TxDtls>
          <Refs><EndToEndId>PAYROLL-0521</EndToEndId></Refs>
          <RltdPties><Cdtr><Nm>某某物业</Nm></Cdtr></RltdPties>
          <RmtInf><Ustrd>物业费</Ustrd></RmtInf>
        </TxDtls></NtryDtls>
      </Ntry>
      <Ntry>
        <Amt Ccy="CNY">999.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>
        <Sts><Cd>PDNG</Cd></Sts>
        <BookgDt><Dt>2024-05-21</Dt></BookgDt>
      </Ntry>
    </Stmt>
  </BkToCstmrStmt>
</Document>
"#;

#[test]
fn camt053_parses_and_balances() {
    assert_eq!(detect(CAMT.as_bytes()), Some(BankFormat::Camt053));
    let sts = parse_camt053(CAMT.as_bytes(), "icbc.xml").unwrap();
    assert_eq!(sts.len(), 1);
    let s = &sts[0];
    assert_eq!(s.statement_id.as_deref(), Some("STMT-20240521"));
    assert_eq!(s.account.as_deref(), Some("0200001234567890123"));
    assert_eq!(
        (s.opening.to_string(), s.closing.to_string()),
        ("10000.00".into(), "10070.67".into())
    );
    assert_eq!(s.entries.len(), 2, "pending entry left out");
    let e = &s.entries[0];
    assert_eq!(e.amount.to_string(), "81.67");
    assert_eq!(e.reference.as_deref(), Some("ICBC-REF-0001"));
    assert_eq!(e.customer_reference, None);
    assert_eq!(e.counterparty.as_deref(), Some("财付通支付科技有限公司"));
    assert_eq!(
        e.memo.as_deref(),
        Some("微信支付结算 1900000109 & 20240520")
    );
    assert_eq!(e.source_line, 18);
    assert_eq!(s.entries[1].amount.to_string(), "-11.00");
    assert_eq!(
        s.entries[1].customer_reference.as_deref(),
        Some("PAYROLL-0521")
    );
    let recs: Vec<_> = s.records().collect();
    assert_eq!(recs[0].channel, Channel::Bank);
    assert_eq!(recs[0].kind, RecordKind::Transfer);
    assert_eq!(recs[0].gross, recs[0].net);
    assert_eq!(recs[0].settle_date, Some(date!(2024 - 05 - 21)));
    assert_eq!(recs[1].occurred_at.hour(), 10);
}

fn unbalanced(e: &Error) -> &UnbalancedStatement {
    e.source()
        .and_then(|s| s.downcast_ref::<UnbalancedStatement>())
        .expect("typed source")
}

#[test]
fn camt053_unbalanced_is_rejected_with_the_three_numbers() {
    let bad = CAMT.replace("10070.67", "10070.76");
    let e = parse_camt053(bad.as_bytes(), "icbc.xml").unwrap_err();
    let Error::Decode(d) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(d.location(), Some("icbc.xml:13"));
    let msg = e.to_string();
    assert!(
        msg.contains("opening 10000.00 + entries 70.67 = 10070.67"),
        "{msg}"
    );
    assert!(msg.contains("10070.76"), "{msg}");
    let u = unbalanced(&e);
    assert_eq!(
        (
            u.opening().to_string(),
            u.entries().to_string(),
            u.closing().to_string()
        ),
        ("10000.00".into(), "70.67".into(), "10070.76".into())
    );
}

#[test]
fn camt053_garbage_names_the_line() {
    let e = parse_camt053(b"<Document><BkToCstmrStmt><Stmt>\n<Bal></Stmt>", "x.xml").unwrap_err();
    assert!(matches!(e, Error::Decode(_)), "{e:?}");
    let e = parse_camt053(b"<a/>", "y.xml").unwrap_err();
    assert!(e.to_string().contains("BkToCstmrStmt"), "{e}");
}

const MT940: &str =
    "{1:F01ICBKCNBJAXXX0000000000}{2:O9400000240521ICBKCNBJAXXX00000000002405210600N}{4:\r
:20:STMT240521\r
:25:ICBKCNBJ/0200001234567890123\r
:28C:141/1\r
:60F:C240520CNY10000,00\r
:61:2405210521C81,67NTRFNONREF//ICBC-REF-0001\r
WECHAT SETTLEMENT\r
:86:TENPAY 1900000109 20240520 微信支付结算\r
:61:2405210521D11,NMSCPAYROLL0521//ICBC-REF-0002\r
:86:物业费\r
:61:2405210521RD0,50NCHGNONREF\r
:62F:C240521CNY10071,17\r
-}\r
";

#[test]
fn mt940_parses_and_balances() {
    assert_eq!(detect(MT940.as_bytes()), Some(BankFormat::Mt940));
    let sts = parse_mt940(MT940.as_bytes(), "icbc.sta").unwrap();
    assert_eq!(sts.len(), 1);
    let s = &sts[0];
    assert_eq!(s.account.as_deref(), Some("ICBKCNBJ/0200001234567890123"));
    assert_eq!(s.currency, Currency::Cny);
    assert_eq!(s.opening_date, Some(date!(2024 - 05 - 20)));
    let e: Vec<_> = s
        .entries
        .iter()
        .map(|e| (e.amount.to_string(), e.reference.clone(), e.source_line))
        .collect();
    assert_eq!(
        e,
        vec![
            ("81.67".into(), Some("ICBC-REF-0001".into()), 6),
            ("-11".into(), Some("ICBC-REF-0002".into()), 9),
            ("0.50".into(), None, 11),
        ]
    );
    assert_eq!(
        s.entries[0].memo.as_deref(),
        Some("TENPAY 1900000109 20240520 微信支付结算 WECHAT SETTLEMENT")
    );
    assert_eq!(
        s.entries[1].customer_reference.as_deref(),
        Some("PAYROLL0521")
    );
    assert_eq!(s.entries[0].booking_date, date!(2024 - 05 - 21));
}

#[test]
fn mt940_unbalanced_and_truncated() {
    let bad = MT940.replace(":62F:C240521CNY10071,17", ":62F:C240521CNY10071,18");
    let e = parse_mt940(bad.as_bytes(), "icbc.sta").unwrap_err();
    let Error::Decode(d) = &e else { panic!() };
    assert_eq!(d.location(), Some("icbc.sta:12"));
    let u = unbalanced(&e);
    assert_eq!(u.computed().to_string(), "10071.17");
    assert_eq!(u.closing().to_string(), "10071.18");
    let cut: String = MT940.lines().take(9).collect::<Vec<_>>().join("\n");
    let e = parse_mt940(cut.as_bytes(), "cut.sta").unwrap_err();
    assert!(e.to_string().contains("truncated"), "{e}");
    let e = parse_mt940(
        MT940
            .replace(":61:2405210521D11,", ":61:24052X0521D11,")
            .as_bytes(),
        "b.sta",
    )
    .unwrap_err();
    let Error::Decode(d) = &e else { panic!() };
    assert_eq!(d.location(), Some("b.sta:9"));
}

const CSV_CCB: &str = "中国建设银行 账户明细\n\
账号,44050100000000001234\n\
户名,某某商贸有限公司\n\
\n\
期初余额,\"1,000.00\"\n\
交易时间,借方发生额,贷方发生额,余额,币种,对方户名,对方账号,摘要,交易流水号\n\
2024-05-21 09:02:11,,81.67,\"1,081.67\",人民币,财付通支付科技有限公司,1234,微信支付结算 1900000109,T0001\n\
2024-05-21 10:15:00,11.00,,\"1,070.67\",人民币,某某物业,5678,物业费,T0002\n\
2024-05-22 09:00:00,,120.50,\"1,191.17\",人民币,支付宝（中国）网络技术有限公司,9999,支付宝结算 2088000000000001,T0003\n\
合计,11.00,202.17,,,,,,\n\
期末余额,\"1,191.17\"\n";

#[test]
fn csv_utf8_two_columns() {
    let st = BankCsvProfile::default()
        .parse(CSV_CCB.as_bytes(), "ccb.csv")
        .unwrap();
    assert_eq!(st.account.as_deref(), Some("44050100000000001234"));
    assert_eq!(
        (st.opening.to_string(), st.closing.to_string()),
        ("1000.00".into(), "1191.17".into())
    );
    let e: Vec<_> = st
        .entries
        .iter()
        .map(|e| (e.amount.to_string(), e.source_line, e.reference.clone()))
        .collect();
    assert_eq!(e[0], ("81.67".into(), 7, Some("T0001".into())));
    assert_eq!(e[1].0, "-11.00");
    assert_eq!(st.entries[0].time.unwrap().hour(), 9);
    assert_eq!(
        st.entries[2].counterparty.as_deref(),
        Some("支付宝（中国）网络技术有限公司")
    );
    assert!(st.entries[0].raw.contains("T0001"));
}

#[test]
fn csv_gbk_signed_and_indicator() {
    let (gbk, _, _) = encoding_rs::GBK.encode(CSV_CCB);
    assert!(std::str::from_utf8(&gbk).is_err());
    let st = BankCsvProfile::default()
        .parse(&gbk, "ccb-gbk.csv")
        .unwrap();
    assert_eq!(st.entries.len(), 3);
    assert_eq!(
        st.entries[0].memo.as_deref(),
        Some("微信支付结算 1900000109")
    );
    // Explicit GBK works too; UTF-8 forced on GBK bytes is a wrong encoding at the line of
    // the first byte that is not UTF-8.
    let mut p = BankCsvProfile::default();
    p.encoding = CsvEncoding::Gbk;
    assert_eq!(p.parse(&gbk, "ccb-gbk.csv").unwrap().entries.len(), 3);
    let mut p = BankCsvProfile::default();
    p.encoding = CsvEncoding::Utf8;
    let e = p.parse(&gbk, "ccb-gbk.csv").unwrap_err();
    let Error::Decode(d) = &e else { panic!("{e}") };
    let first_bad = std::str::from_utf8(&gbk).unwrap_err().valid_up_to();
    let line = 1 + gbk[..first_bad].iter().filter(|&&b| b == b'\n').count();
    assert_eq!(d.location(), Some(format!("ccb-gbk.csv:{line}").as_str()));
    assert!(e.to_string().contains("wrong encoding"), "{e}");
    // ASCII first lines, GBK later: the line of the first GBK byte.
    let mut mixed = b"Account,6222\nOpening,1000.00\n".to_vec();
    mixed.extend_from_slice(&gbk);
    let e = p.parse(&mixed, "mixed.csv").unwrap_err();
    let Error::Decode(d) = &e else { panic!("{e}") };
    assert_eq!(
        d.location(),
        Some(format!("mixed.csv:{}", line + 2).as_str())
    );

    // ICBC-style: amount + 借贷标志, dates YYYYMMDD, no labels (running balance only).
    let icbc = "交易日期,借贷标志,发生额,余额,对方户名,用途\n\
                20240521,贷,81.67,1081.67,财付通,微信结算\n\
                20240521,借,11.00,1070.67,物业,物业费\n";
    let st = BankCsvProfile::default()
        .parse(icbc.as_bytes(), "icbc.csv")
        .unwrap();
    assert_eq!(st.opening.to_string(), "1000.00");
    assert_eq!(st.entries[1].amount.to_string(), "-11.00");

    // Signed amounts, newest first, custom format and delimiter.
    let cmb =
        "Date;Amount;Balance;Memo\n2024/5/22;-1.00;1080.67;fee\n2024/5/21;81.67;1081.67;settle\n";
    let mut p = BankCsvProfile::default();
    p.delimiter = ';';
    p.newest_first = true;
    p.convention = DebitCredit::Signed;
    p.date_formats = vec!["YYYY/MM/DD".into()];
    let st = p.parse(cmb.as_bytes(), "cmb.csv").unwrap();
    assert_eq!(st.entries[0].booking_date, date!(2024 - 05 - 21));
    assert_eq!(st.closing.to_string(), "1080.67");
}

#[test]
fn csv_unbalanced_and_bad_rows_name_the_line() {
    let bad = CSV_CCB.replace("\"1,070.67\"", "\"1,070.76\"");
    let e = BankCsvProfile::default()
        .parse(bad.as_bytes(), "ccb.csv")
        .unwrap_err();
    let Error::Decode(d) = &e else { panic!() };
    assert_eq!(d.location(), Some("ccb.csv:8"));
    let u = unbalanced(&e);
    assert_eq!(
        (
            u.opening().to_string(),
            u.entries().to_string(),
            u.closing().to_string()
        ),
        ("1081.67".into(), "-11.00".into(), "1070.76".into())
    );
    // Labels disagree with the rows.
    let bad = CSV_CCB.replace("期末余额,\"1,191.17\"", "期末余额,\"1,191.18\"");
    let e = BankCsvProfile::default()
        .parse(bad.as_bytes(), "ccb.csv")
        .unwrap_err();
    assert_eq!(unbalanced(&e).line(), 11);
    // A malformed date.
    let bad = CSV_CCB.replace("2024-05-21 10:15:00", "2024-13-21 10:15:00");
    let e = BankCsvProfile::default()
        .parse(bad.as_bytes(), "ccb.csv")
        .unwrap_err();
    let Error::Decode(d) = &e else { panic!() };
    assert_eq!(d.location(), Some("ccb.csv:8"));
    // Both debit and credit.
    let bad = CSV_CCB.replace(",,81.67,", ",1.00,81.67,");
    assert!(
        BankCsvProfile::default()
            .parse(bad.as_bytes(), "ccb.csv")
            .is_err()
    );
    // No balance anywhere.
    let nob = "交易日期,金额\n2024-05-21,1.00\n";
    let e = BankCsvProfile::default()
        .parse(nob.as_bytes(), "n.csv")
        .unwrap_err();
    assert!(e.to_string().contains("cannot be checked"), "{e}");
    let mut p = BankCsvProfile::default();
    p.require_balance = false;
    assert_eq!(p.parse(nob.as_bytes(), "n.csv").unwrap().entries.len(), 1);
    // No header.
    assert!(
        BankCsvProfile::default()
            .parse(b"a,b\n1,2\n", "h.csv")
            .is_err()
    );
}

#[test]
fn bank_credits_settle_channel_days() {
    use payagg_core::ExactAmount;
    use payagg_core::statement::StatementRecord;
    let st = BankCsvProfile::default()
        .parse(CSV_CCB.as_bytes(), "ccb.csv")
        .unwrap();
    let bank: Vec<_> = st.records().collect();
    let mk = |ch: Channel, net: &str, day: time::Date| {
        let n = ExactAmount::parse(net).unwrap();
        let mut r = StatementRecord::new(
            ch,
            RecordKind::Payment,
            n,
            ExactAmount::ZERO,
            n,
            Currency::Cny,
            day.midnight()
                .assume_offset(payagg_core::clock::CHINA_OFFSET),
        );
        r.settle_date = Some(day);
        r
    };
    let channel = vec![
        mk(Channel::Wechat, "50.00", date!(2024 - 05 - 20)),
        mk(Channel::Wechat, "31.67", date!(2024 - 05 - 20)),
        mk(Channel::Alipay, "120.50", date!(2024 - 05 - 21)),
        mk(Channel::Alipay, "5.00", date!(2024 - 05 - 18)),
    ];
    let rep = match_settlements(&channel, &bank, &SettlementConfig::default()).unwrap();
    let m: Vec<_> = rep
        .matched
        .iter()
        .map(|m| (m.group.channel, m.group.rows, m.bank_line))
        .collect();
    assert_eq!(m, vec![(Channel::Wechat, 2, 7), (Channel::Alipay, 1, 9)]);
    assert_eq!(rep.unmatched_groups.len(), 1);
    assert_eq!(rep.unmatched_credits, Vec::<usize>::new());
}
