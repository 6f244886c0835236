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

const SUCCESS_BILL: &str = "\u{feff}交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,商品名称,商户数据包,手续费,费率,订单金额,费率备注\r\n\
`2024-05-19 10:15:32,`wx1,`1230000109,`0,`,`4200001,`A1,`oU1,`MICROPAY,`SUCCESS,`CMB_DEBIT,`CNY,`12.30,`0.00,`tea,`,`0.07000,`0.60%,`12.30,`\r\n\
总交易单数,应结订单总金额,手续费总金额,订单总金额\r\n\
`1,`12.30,`0.07,`12.30\r\n";

const REFUND_BILL: &str = "\u{feff}交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,退款申请时间,退款成功时间,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注\r\n\
`2024-05-18 09:00:00,`wx1,`1230000109,`0,`,`4200001,`A1,`oU1,`JSAPI,`REFUND,`OTHERS,`CNY,`0.00,`0.00,`2024-05-19 08:00:00,`2024-05-19 08:00:05,`5030001,`R1,`10.00,`0.00,`ORIGINAL,`SUCCESS,`tea,`,`-0.06000,`0.60%,`0.00,`10.00,`\r\n\
总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n\
`1,`0.00,`10.00,`0.00,`-0.06,`0.00,`10.00\r\n";

const FUND_BILL: &str = "\u{feff}记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额(元),账户结余(元),资金变更提交申请人,备注,业务凭证号\r\n\
`2024-05-19 10:15:33,`4200002101,`1230000109202405191000000001,`交易,`交易,`收入,`100.00,`1100.00,`system,`,`ORD1\r\n\
`2024-05-19 10:15:34,`4200002101,`1230000109202405191000000002,`交易,`扣除交易手续费,`支出,`0.60,`1099.40,`system,`,`ORD1\r\n\
资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额\r\n\
`2.0,`1.0,`100.00,`1.0,`0.60\r\n";

/// Mounts the apply call at `apply_path` (with `params`) and the file download.
async fn mount_apply(
    s: &wiremock::MockServer,
    apply_path: &str,
    params: &[(&str, &str)],
    hash: &str,
    file: Vec<u8>,
) {
    let mut m = Mock::given(method("GET"))
        .and(path(apply_path))
        .and(SignedByMerchant);
    for (k, v) in params {
        m = m.and(query_param(*k, *v));
    }
    m.respond_with(Signed::ok(format!(
        r#"{{"hash_type":"SHA1","hash_value":"{hash}","download_url":"{}/v3/billdownload/file?token=t1"}}"#,
        s.uri()
    )))
    .expect(1)
    .mount(s)
    .await;
    Mock::given(method("GET"))
        .and(path("/v3/billdownload/file"))
        .and(query_param("token", "t1"))
        .and(SignedByMerchant)
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("Request-ID", REQUEST_ID)
                .set_body_raw(file, "application/octet-stream"),
        )
        .expect(1)
        .mount(s)
        .await;
}

#[tokio::test]
async fn success_refund_and_fund_flow_bills_over_http() {
    use payagg_core::statement::RecordKind;
    for (kind, apply_path, params, bill, want) in [
        (
            StatementKind::SuccessfulTrades,
            "/v3/bill/tradebill",
            &[("bill_type", "SUCCESS"), ("tar_type", "GZIP")][..],
            SUCCESS_BILL,
            &[RecordKind::Payment][..],
        ),
        (
            StatementKind::Refunds,
            "/v3/bill/tradebill",
            &[("bill_type", "REFUND"), ("tar_type", "GZIP")][..],
            REFUND_BILL,
            &[RecordKind::Refund][..],
        ),
        (
            StatementKind::FundFlow,
            "/v3/bill/fundflowbill",
            &[("account_type", "BASIC"), ("tar_type", "GZIP")][..],
            FUND_BILL,
            &[RecordKind::Payment, RecordKind::Fee][..],
        ),
    ] {
        let s = server().await;
        let mut p = params.to_vec();
        p.push(("bill_date", "2024-05-19"));
        mount_apply(
            &s,
            apply_path,
            &p,
            &sha1_hex(bill.as_bytes()),
            gz(bill.as_bytes()),
        )
        .await;
        let c = client(pubkey_config(&s).build().unwrap());
        let st = c
            .download_statement(&StatementRequest::new(
                time::macros::date!(2024 - 05 - 19),
                kind,
            ))
            .await
            .unwrap();
        assert_eq!(&st.raw[..], bill.as_bytes(), "{kind:?}");
        let recs: Vec<_> = st.records().collect::<Result<_, _>>().unwrap();
        assert_eq!(
            recs.iter().map(|r| r.kind).collect::<Vec<_>>(),
            want,
            "{kind:?}"
        );
    }
}

#[tokio::test]
async fn a_plain_file_is_accepted_and_its_sha1_checked() {
    // Asked for GZIP, served plain: the gzip magic decides.
    let s = server().await;
    mount_bill(&s, &sha1_hex(BILL.as_bytes()), BILL.as_bytes().to_vec()).await;
    let c = client(pubkey_config(&s).build().unwrap());
    let st = c.download_statement(&request()).await.unwrap();
    assert_eq!(&st.raw[..], BILL.as_bytes());
    assert_eq!(st.records().count(), 1);

    // A plain file that does not match the digest is refused, naming the Request-ID.
    let s = server().await;
    mount_apply(
        &s,
        "/v3/bill/tradebill",
        &[("bill_type", "ALL")],
        &sha1_hex(b"another file"),
        BILL.as_bytes().to_vec(),
    )
    .await;
    let c = client(pubkey_config(&s).build().unwrap());
    let e = c.download_statement(&request()).await.unwrap_err();
    assert!(
        matches!(&e, Error::Verification(v) if v.kind() == &payagg_core::error::VerificationKind::Digest),
        "{e}"
    );
    assert!(e.to_string().contains(REQUEST_ID), "{e}");
}

#[tokio::test]
async fn partner_bills_name_the_sub_merchant() {
    use payagg_core::SubMerchant;
    use payagg_core::ids::MerchantId;
    let s = server().await;
    mount_apply(
        &s,
        "/v3/bill/tradebill",
        &[
            ("bill_date", "2024-05-19"),
            ("sub_mchid", "1900000109"),
            ("bill_type", "ALL"),
        ],
        &sha1_hex(BILL.as_bytes()),
        gz(BILL.as_bytes()),
    )
    .await;
    let c = client(pubkey_config(&s).partner(MCHID, APPID).build().unwrap());
    let sub = SubMerchant::new(MerchantId::new("1900000109").unwrap());
    let st = c
        .download_statement(&request().sub_merchant(sub.clone()))
        .await
        .unwrap();
    assert_eq!(st.records().count(), 1);
    // Fund-flow bills are the service provider's own: refused for a sub-merchant, unsent.
    let e = c
        .download_statement(
            &StatementRequest::new(time::macros::date!(2024 - 05 - 19), StatementKind::FundFlow)
                .sub_merchant(sub),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Unsupported(_)), "{e}");
    // Without a sub-merchant, partner mode refuses before sending.
    let e = c.download_statement(&request()).await.unwrap_err();
    assert!(matches!(e, Error::InvalidInput(_)), "{e}");
}
