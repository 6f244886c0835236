//! Golden tests against the shared WeChat bill vectors (`$PAYAGG_VECTORS/wechat/...`, else
//! `../shared/vectors/wechat/...` beside the workspace: `payagg_core::test_util::vectors_dir`).
//!
//! Skipped (with a note on stderr) when neither exists; otherwise a missing file fails the
//! test. The vector files are read in place, never copied into the repository.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use bytes::Bytes;
use payagg_core::error::VerificationKind;
use payagg_core::statement::{RecordKind, StatementParser};
use payagg_core::{Error, ExactAmount, StatementRecord};
use payagg_wechat::bill::{TradeBillParser, decode_download};
use serde_json::Value;

fn vectors_dir() -> Option<PathBuf> {
    payagg_core::test_util::vectors_dir(env!("CARGO_MANIFEST_DIR"), "the WeChat bill golden tests")
        .map(|d| d.join("wechat"))
}

fn read(dir: &std::path::Path, rel: &str) -> Vec<u8> {
    let p = dir.join(rel);
    std::fs::read(&p)
        .unwrap_or_else(|e| panic!("the vector file {} cannot be read: {e}", p.display()))
}

fn case(dir: &std::path::Path, id: &str) -> Value {
    let v: Value = serde_json::from_slice(&read(dir, "vectors.json")).unwrap();
    v["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no case {id}"))
        .clone()
}

fn fen(a: ExactAmount) -> i64 {
    a.to_minor_exact(2)
        .unwrap_or_else(|| panic!("{a} is not whole fen"))
}

fn parse(raw: &[u8]) -> Vec<StatementRecord> {
    TradeBillParser::new()
        .records(raw)
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

#[test]
fn synthetic_all_bill_matches_expected_records() {
    let Some(dir) = vectors_dir() else { return };
    let c = case(&dir, "wx-bill-synthetic-all");
    let raw = read(&dir, c["inputs"]["file"].as_str().unwrap());
    assert_eq!(
        raw.len() as u64,
        c["inputs"]["size_bytes"].as_u64().unwrap()
    );
    let records = parse(&raw);
    let expected = c["expected"]["records"].as_array().unwrap();
    assert_eq!(records.len(), expected.len());
    for (r, e) in records.iter().zip(expected) {
        assert_eq!(
            r.merchant_order_no.as_deref(),
            e["merchant_order_no"].as_str()
        );
        assert_eq!(
            r.channel_trade_no.as_deref(),
            e["channel_trade_no"].as_str()
        );
        let kind = match e["type"].as_str().unwrap() {
            "payment" => RecordKind::Payment,
            "refund" => RecordKind::Refund,
            other => panic!("{other}"),
        };
        assert_eq!(r.kind, kind);
        assert_eq!(fen(r.gross).abs(), e["amount_fen"].as_i64().unwrap());
        // The vector states the fee as charged (positive) / returned (negative); records carry it
        // signed from the merchant's view, so the signs flip.
        assert_eq!(-fen(r.fee), e["fee_fen"].as_i64().unwrap());
        assert_eq!(r.fee.scale(), 5, "fees keep their 5 decimals");
        let t = time::OffsetDateTime::parse(
            e["time"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
        assert_eq!(r.occurred_at, t);
        assert_eq!(r.occurred_at.offset().whole_hours(), 8);
        assert_eq!(
            r.merchant_refund_no.as_deref(),
            e["merchant_refund_no"].as_str()
        );
        assert_eq!(
            r.channel_refund_no.as_deref(),
            e["channel_refund_no"].as_str()
        );
        assert!(r.raw.starts_with('`') && !r.raw.ends_with('\r'));
        assert_eq!(r.net, r.gross.checked_add(r.fee).unwrap());
    }
    assert_eq!(
        records.iter().map(|r| r.source_line).collect::<Vec<_>>(),
        [2, 3, 4]
    );
    let totals = &c["expected"]["totals"];
    let pay: i64 = records
        .iter()
        .filter(|r| r.kind == RecordKind::Payment)
        .map(|r| fen(r.gross))
        .sum();
    let refund: i64 = records
        .iter()
        .filter(|r| r.kind == RecordKind::Refund)
        .map(|r| -fen(r.gross))
        .sum();
    let fee: i64 = records.iter().map(|r| -fen(r.fee)).sum();
    let net: i64 = records.iter().map(|r| fen(r.net)).sum();
    assert_eq!(pay, totals["payment_amount_fen"].as_i64().unwrap());
    assert_eq!(refund, totals["refund_amount_fen"].as_i64().unwrap());
    assert_eq!(fee, totals["fee_fen"].as_i64().unwrap());
    assert_eq!(net, totals["net_settled_fen"].as_i64().unwrap());

    let summary = TradeBillParser::new().check_summary(&raw).unwrap();
    assert_eq!(
        summary.record_count,
        totals["record_count"].as_u64().unwrap()
    );
    for (name, value) in c["expected"]["summary"].as_object().unwrap() {
        if name == "总交易单数" {
            continue;
        }
        assert_eq!(
            summary.stated(name),
            Some(ExactAmount::parse(value.as_str().unwrap()).unwrap()),
            "{name}"
        );
    }
    assert_eq!(
        summary.computed("手续费总金额").unwrap().to_string(),
        "0.77000"
    );
}

#[test]
fn real_php_bill_parses_and_its_summary_checks() {
    let Some(dir) = vectors_dir() else { return };
    let c = case(&dir, "wx-bill-php-all-real");
    let raw = read(&dir, c["inputs"]["file"].as_str().unwrap());
    assert_eq!(
        payagg_core::crypto::sha1_hex(&raw),
        c["inputs"]["sha1"].as_str().unwrap()
    );
    let records = parse(&raw);
    let exp = &c["expected"];
    assert_eq!(records.len() as u64, exp["data_rows"].as_u64().unwrap());
    assert_eq!(
        records
            .iter()
            .filter(|r| r.kind == RecordKind::Refund)
            .count() as u64,
        exp["refund_rows"].as_u64().unwrap()
    );
    let summary = TradeBillParser::new().check_summary(&raw).unwrap();
    assert_eq!(summary.record_count, 45);
    let names: Vec<&str> = summary.totals.iter().map(|t| t.name.as_str()).collect();
    let want: Vec<&str> = exp["summary_header"].as_array().unwrap()[1..]
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(names, want);
    for (col, sum) in exp["column_sums_fen"].as_object().unwrap() {
        let name = match col.as_str() {
            "应结订单金额" => "应结订单总金额",
            "退款金额" => "退款总金额",
            "订单金额" => "订单总金额",
            "申请退款金额" => "申请退款总金额",
            other => panic!("{other}"),
        };
        assert_eq!(
            fen(summary.computed(name).unwrap()),
            sum.as_i64().unwrap(),
            "{col}"
        );
    }
    let fee = summary.computed("手续费总金额").unwrap();
    assert_eq!(fee.to_string(), exp["fee_sum_yuan_exact"].as_str().unwrap());
    assert_eq!(summary.stated("手续费总金额").unwrap().to_string(), "0.08");
    // Refund rows: 应结订单金额 0.00, gross from 退款金额.
    let refund = records
        .iter()
        .find(|r| r.kind == RecordKind::Refund)
        .unwrap();
    assert_eq!(refund.gross.to_string(), "-0.01");
    assert!(
        refund
            .merchant_refund_no
            .as_deref()
            .unwrap()
            .starts_with("REF")
    );
    // Payment rows have no refund numbers (the file writes `0`).
    assert!(
        records
            .iter()
            .filter(|r| r.kind == RecordKind::Payment)
            .all(|r| r.merchant_refund_no.is_none())
    );
}

#[test]
fn gzip_download_is_checked_against_the_decompressed_sha1() {
    let Some(dir) = vectors_dir() else { return };
    let c = case(&dir, "wx-bill-synthetic-all");
    let csv = read(&dir, "bills/wechat_trade_ALL_20240520.csv");
    let gz = Bytes::from(read(&dir, "bills/wechat_trade_ALL_20240520.csv.gz"));
    let csv_sha1 =
        String::from_utf8(read(&dir, "bills/wechat_trade_ALL_20240520.csv.sha1")).unwrap();
    let gz_sha1 =
        String::from_utf8(read(&dir, "bills/wechat_trade_ALL_20240520.csv.gz.sha1")).unwrap();
    let hash_value = c["inputs"]["download_response"]["hash_value"]
        .as_str()
        .unwrap();
    assert_eq!(
        csv_sha1.trim(),
        hash_value,
        "WeChat's hash_value is the digest of the decompressed file"
    );

    let out = decode_download(gz.clone(), hash_value, true).unwrap();
    assert_eq!(&out[..], &csv[..]);
    let plain = decode_download(Bytes::from(csv.clone()), csv_sha1.trim(), false).unwrap();
    assert_eq!(&plain[..], &csv[..]);

    // The digest of the compressed bytes is not what WeChat sends; it must not verify.
    let e = decode_download(gz, gz_sha1.trim(), true).unwrap_err();
    let Error::Verification(v) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(v.kind(), &VerificationKind::Digest);
    assert_eq!(v.expected_value(), Some(gz_sha1.trim()));
    assert_eq!(v.presented_value(), Some(hash_value));
    assert!(e.to_string().contains(hash_value), "{e}");
}
