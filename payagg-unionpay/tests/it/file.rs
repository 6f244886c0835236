//! `fileTransfer` (`txnType=76`) on the file host: base64(zlib(ZIP)) holding the ZM file.

use std::io::Write as _;

use base64::Engine as _;
use payagg_core::statement::{RecordKind, StatementKind, StatementRequest};
use payagg_core::{Error, Gateway, GatewayErrorKind};
use payagg_unionpay::wire::zm::{FIELD_LENGTHS, idx};
use wiremock::Mock;
use wiremock::matchers::{method, path};

use super::*;

fn record(pairs: &[(usize, &[u8])]) -> Vec<u8> {
    let mut vals: Vec<Vec<u8>> = FIELD_LENGTHS.iter().map(|l| vec![b' '; *l]).collect();
    for (j, v) in pairs {
        vals[*j][..v.len()].copy_from_slice(v);
    }
    vals.join(&b' ')
}

fn zm() -> Vec<u8> {
    let (reserved, _, _) = encoding_rs::GBK.encode("退款-发票0001");
    let mut out = record(&[
        (0, b"S22"),
        (idx::TRACE_NO, b"123456"),
        (idx::TRACE_TIME, b"0104120005"),
        (idx::AMOUNT, b"000000123456"),
        (idx::QUERY_ID, b"012401041200051234567"),
        (idx::ORDER_ID, b"B2B20240104120000001"),
        (idx::MERCHANT_FEE, b"D000000000370"),
        (idx::SETTLE_AMOUNT, b"C000000123086"),
        (idx::TXN_TYPE, b"01"),
        (idx::TXN_SUB_TYPE, b"01"),
        (idx::BIZ_TYPE, b"000202"),
        (idx::MER_ID, MER_ID.as_bytes()),
        (idx::NET_AMOUNT, b"C000000123086"),
    ]);
    out.extend(b"\r\n");
    out.extend(record(&[
        (0, b"S30"),
        (idx::TRACE_NO, b"234567"),
        (idx::TRACE_TIME, b"0104150000"),
        (idx::AMOUNT, b"000000002000"),
        (idx::QUERY_ID, b"012401041500002345678"),
        (idx::ORDER_ID, b"RF20240104150000001"),
        (idx::MERCHANT_FEE, b"C000000000006"),
        (idx::SETTLE_AMOUNT, b"D000000001994"),
        (idx::TXN_TYPE, b"04"),
        (idx::TXN_SUB_TYPE, b"00"),
        (idx::ORIG_QUERY_ID, b"012401041200051234567"),
        (idx::NET_AMOUNT, b"D000000001994"),
        (idx::REQ_RESERVED, &reserved),
    ]));
    out.extend(b"\r\n");
    out
}

fn file_content() -> String {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    zip.start_file(format!("INN24010488ZME_{MER_ID}"), opts)
        .unwrap();
    zip.write_all(b"").unwrap();
    zip.start_file(format!("INN24010488ZM_{MER_ID}"), opts)
        .unwrap();
    zip.write_all(&zm()).unwrap();
    let zip = zip.finish().unwrap().into_inner();
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&zip).unwrap();
    base64::engine::general_purpose::STANDARD.encode(z.finish().unwrap())
}

fn file_answer() -> Answer {
    Answer::ok(&[
        ("respCode", "00"),
        ("respMsg", "成功[0000000]"),
        ("fileName", "777290058110048_20240104.zip"),
        ("fileType", "00"),
        ("fileContent", &file_content()),
    ])
}

async fn download(a: Answer) -> (MockServer, Result<payagg_core::statement::Statement, Error>) {
    let s = server().await;
    Mock::given(method("POST"))
        .and(path("/"))
        .and(SignedByMerchant::with(&[
            ("txnType", "76"),
            ("txnSubType", "01"),
            ("bizType", "000000"),
            ("accessType", "0"),
            ("settleDate", "0104"),
            ("fileType", "00"),
            ("txnTime", TXN_TIME),
        ]))
        .respond_with(a)
        .mount(&s)
        .await;
    let r = client(&s)
        .download_statement(&StatementRequest::new(
            time::macros::date!(2024 - 01 - 04),
            StatementKind::AllTrades,
        ))
        .await;
    (s, r)
}

#[tokio::test]
async fn success_parses_the_zm_entry() {
    let (s, r) = download(file_answer()).await;
    let st = r.unwrap();
    assert_eq!(st.date, time::macros::date!(2024 - 01 - 04));
    let recs: Vec<_> = st.records().collect::<Result<_, _>>().unwrap();
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0].kind, RecordKind::Payment);
    assert_eq!(
        recs[0].merchant_order_no.as_deref(),
        Some("B2B20240104120000001")
    );
    assert_eq!(recs[0].gross.to_string(), "1234.56");
    assert_eq!(recs[1].kind, RecordKind::Refund);
    assert_eq!(
        recs[1].channel_trade_no.as_deref(),
        Some("012401041200051234567")
    );
    assert_eq!(
        recs[1].settle_date,
        Some(time::macros::date!(2024 - 01 - 04))
    );
    let sent = received(&s, "/").await;
    assert_eq!(sent.len(), 1);
    for absent in ["channelType", "backUrl", "currencyCode"] {
        assert!(!sent[0].contains_key(absent), "{absent}");
    }
}

#[tokio::test]
async fn not_published_yet_is_not_found() {
    let (_, r) = download(Answer::code("98", "文件不存在")).await;
    let e = r.unwrap_err();
    assert_eq!(e.gateway_kind(), Some(GatewayErrorKind::NotFound));
    assert!(!e.outcome_unknown());
}

#[tokio::test]
async fn processing_unknown_and_failure() {
    for code in ["03", "04", "05", "34"] {
        let (_, r) = download(Answer::code(code, "x")).await;
        assert!(r.unwrap_err().outcome_unknown(), "{code}");
    }
    let (s, r) = download(file_answer().delay(timeout())).await;
    assert!(r.unwrap_err().outcome_unknown());
    assert_eq!(received(&s, "/").await.len(), 2, "downloads are retried");
    for code in ["99", "32", "10"] {
        let (_, r) = download(Answer::code(code, "x")).await;
        assert!(!r.unwrap_err().outcome_unknown(), "{code}");
    }
    let (_, r) = download(Answer::ok(&[
        ("respCode", "00"),
        ("fileContent", "eJzLSM3JyQcABiwCFQ=="),
    ]))
    .await;
    assert!(
        matches!(r.unwrap_err(), Error::Decode(_)),
        "a zlib body that is no ZIP"
    );
}

#[tokio::test]
async fn tampered_and_forged() {
    let (_, r) = download(file_answer().tampered("fileContent", "eJzLSM3JyQcABiwCFQ==")).await;
    assert_bad_signature(&r.unwrap_err());
    for (case, sim) in forged() {
        let (_, r) = download(file_answer().by(sim)).await;
        assert_forged(case, &r.unwrap_err());
    }
}
