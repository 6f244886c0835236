use std::io::Write;

use payagg_core::{Error, Gateway, StatementKind, StatementRequest};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, ResponseTemplate};

use super::*;

const BILL: &str = "\u{feff}交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注\r\n\
`2024-05-19 10:15:32,`wxd678efh567hg6787,`1230000109,`0,`,`4200002101202405190000000001,`A20240519001,`oUpF8uMuAJO,`NATIVE,`SUCCESS,`OTHERS,`CNY,`100.00,`0.00,`0,`0,`0.00,`0.00,`,`,`Tea,`,`0.60000,`0.60%,`100.00,`0.00,`\r\n\
总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n\
`1,`100.00,`0.00,`0.00,`0.60000,`100.00,`0.00\r\n";

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn sha1_hex(data: &[u8]) -> String {
    payagg_core::crypto::sha1_hex(data)
}

async fn mount_bill(s: &wiremock::MockServer, hash: &str, file: Vec<u8>) {
    Mock::given(method("GET"))
        .and(path("/v3/bill/tradebill"))
        .and(query_param("bill_date", "2024-05-19"))
        .and(query_param("bill_type", "ALL"))
        .and(query_param("tar_type", "GZIP"))
        .and(SignedByMerchant)
        .respond_with(Signed::ok(format!(
            r#"{{"hash_type":"SHA1","hash_value":"{hash}","download_url":"{}/v3/billdownload/file?token=6XIv5TUPto7pByrTQKhd6kwvyKLG2uY2wMMR8cNXqaA_Cv_isgaUtBzp4QtiozLO&tartype=gzip"}}"#,
            s.uri()
        )))
        .expect(1)
        .mount(s)
        .await;
    Mock::given(method("GET"))
        .and(path("/v3/billdownload/file"))
        .and(SignedByMerchant)
        .respond_with(ResponseTemplate::new(200).set_body_raw(file, "application/octet-stream"))
        .expect(1)
        .mount(s)
        .await;
}

fn request() -> StatementRequest {
    StatementRequest::new(
        time::macros::date!(2024 - 05 - 19),
        StatementKind::AllTrades,
    )
}

#[tokio::test]
async fn downloads_gunzips_checks_sha1_and_parses() {
    let s = server().await;
    mount_bill(&s, &sha1_hex(BILL.as_bytes()), gz(BILL.as_bytes())).await;
    let c = client(pubkey_config(&s).build().unwrap());
    let st = c.download_statement(&request()).await.unwrap();
    assert_eq!(&st.raw[..], BILL.as_bytes());
    let recs: Vec<_> = st.records().collect::<Result<_, _>>().unwrap();
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].merchant_order_no.as_deref(), Some("A20240519001"));
}

#[tokio::test]
async fn digest_mismatch_is_a_verification_error() {
    let s = server().await;
    mount_bill(&s, &sha1_hex(b"something else"), gz(BILL.as_bytes())).await;
    let c = client(pubkey_config(&s).build().unwrap());
    let e = c.download_statement(&request()).await.unwrap_err();
    assert!(
        matches!(&e, Error::Verification(v) if v.kind() == &payagg_core::error::VerificationKind::Digest),
        "{e}"
    );
}

#[tokio::test]
async fn no_statement_is_an_empty_statement() {
    let s = server().await;
    Mock::given(method("GET"))
        .and(path("/v3/bill/fundflowbill"))
        .and(query_param("account_type", "BASIC"))
        .respond_with(error_body(
            400,
            "NO_STATEMENT_EXIST",
            "请求的账单文件不存在",
        ))
        .expect(1)
        .mount(&s)
        .await;
    let c = client(pubkey_config(&s).build().unwrap());
    let st = c
        .download_statement(&StatementRequest::new(
            time::macros::date!(2024 - 05 - 19),
            StatementKind::FundFlow,
        ))
        .await
        .unwrap();
    assert!(st.raw.is_empty());
    assert_eq!(st.records().count(), 0);
}

#[tokio::test]
async fn download_url_on_another_host_is_refused() {
    let s = server().await;
    Mock::given(method("GET"))
        .and(path("/v3/bill/tradebill"))
        .respond_with(Signed::ok(
            r#"{"hash_type":"SHA1","hash_value":"00","download_url":"https://evil.example/v3/billdownload/file?token=x"}"#,
        ))
        .mount(&s)
        .await;
    let c = client(pubkey_config(&s).build().unwrap());
    let e = c.download_statement(&request()).await.unwrap_err();
    assert!(matches!(e, Error::Verification(_)), "{e}");
}
