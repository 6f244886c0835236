//! The per-method matrix the issue asks for, table-driven: every method that talks to
//! Alipay (query, close, cancel, refund, refund query, transfer, transfer query, bill URL,
//! bill file, precreate, payment-code pay, certificate download) against success with an
//! escaped-slash body, each error class (signed business failure, `20000`, `ACQ.SYSTEM_ERROR`
//! / `AQC.SYSTEM_ERROR`, permission, unsigned `error_response`, unsigned good news), a bad or
//! missing signature, 5xx and a timeout.
//!
//! Not in the matrix, by nature: the page / WAP / App builders make no call (their signed
//! output is checked in `flows::page_wap_app_need_no_call` and the vectors); the bill file is
//! not signed (only its URL, which comes from a verified answer), so only success, 5xx,
//! timeout and a corrupt file apply to it. The certificate download is reached as Alipay
//! triggers it: a certificate-mode query answered under an unknown `alipay_cert_sn`.

use std::time::Duration;

use payagg_alipay::sign;
use payagg_core::error::{Error, GatewayErrorKind, VerificationKind};
use payagg_core::ids::MerchantTransferNo;
use payagg_core::statement::StatementRequest;
use payagg_core::trade::{CloseRequest, QueryRequest, TradeRef};
use payagg_core::{
    Gateway, MerchantOrderNo, MerchantRefundNo, Money, PayRequest, Payee, RefundQuery,
    RefundRequest, Scene, Sensitive, StatementKind, TransferRequest,
};
use serde_json::json;
use time::macros::date;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Query,
    Close,
    Cancel,
    Refund,
    RefundQuery,
    Transfer,
    TransferQuery,
    BillUrl,
    BillFile,
    Precreate,
    PayCode,
    CertDownload,
}

const ALL: [Op; 12] = [
    Op::Query,
    Op::Close,
    Op::Cancel,
    Op::Refund,
    Op::RefundQuery,
    Op::Transfer,
    Op::TransferQuery,
    Op::BillUrl,
    Op::BillFile,
    Op::Precreate,
    Op::PayCode,
    Op::CertDownload,
];

/// The methods whose answer is a signed gateway response.
fn signed_ops() -> impl Iterator<Item = Op> {
    ALL.into_iter().filter(|op| *op != Op::BillFile)
}

fn order() -> MerchantOrderNo {
    MerchantOrderNo::new("A20240520001").unwrap()
}

const CERT_DOWNLOAD: &str = "alipay.open.app.alipaycert.download";
const BILL_URL: &str = "alipay.data.dataservice.bill.downloadurl.query";

impl Op {
    /// The gateway method whose answer the matrix varies.
    fn method(self) -> &'static str {
        match self {
            Op::Query => "alipay.trade.query",
            Op::Close => "alipay.trade.close",
            Op::Cancel => "alipay.trade.cancel",
            Op::Refund => "alipay.trade.refund",
            Op::RefundQuery => "alipay.trade.fastpay.refund.query",
            Op::Transfer => "alipay.fund.trans.uni.transfer",
            Op::TransferQuery => "alipay.fund.trans.common.query",
            Op::BillUrl | Op::BillFile => BILL_URL,
            Op::Precreate => "alipay.trade.precreate",
            Op::PayCode => "alipay.trade.pay",
            Op::CertDownload => CERT_DOWNLOAD,
        }
    }

    /// Writes: an answer that cannot be trusted leaves the outcome unknown.
    fn is_write(self) -> bool {
        matches!(
            self,
            Op::Close | Op::Cancel | Op::Refund | Op::Transfer | Op::Precreate | Op::PayCode
        )
    }

    /// A success node; every one holds a `/` (so the signed body holds `\/`).
    fn success_node(self, uri: &str) -> serde_json::Value {
        let mut n = match self {
            Op::Query => json!({"trade_no":"2024052022001","out_trade_no":"A20240520001",
                "trade_status":"TRADE_SUCCESS","total_amount":"12.30","buyer_pay_amount":"12.30",
                "send_pay_date":"2024-05-20 10:01:02","store_name":"一号店/东门"}),
            Op::Close => {
                json!({"out_trade_no":"A20240520001","trade_no":"2024052022001","note":"a/b"})
            }
            Op::Cancel => {
                json!({"out_trade_no":"A20240520001","retry_flag":"N","action":"close","note":"a/b"})
            }
            Op::Refund => json!({"out_trade_no":"A20240520001","trade_no":"2024052022001",
                "fund_change":"Y","refund_fee":"1.00","gmt_refund_pay":"2024-05-20 10:05:00",
                "store_name":"一号店/东门"}),
            Op::RefundQuery => json!({"out_trade_no":"A20240520001","out_request_no":"R1",
                "refund_amount":"1.00","total_amount":"12.30","refund_status":"REFUND_SUCCESS",
                "refund_reason":"size/colour"}),
            Op::Transfer => json!({"out_biz_no":"T1","order_id":"2021","pay_fund_order_id":"20/21",
                "status":"SUCCESS","trans_date":"2024-05-20 10:00:00"}),
            Op::TransferQuery => json!({"out_biz_no":"T1","order_id":"2021","status":"SUCCESS",
                "trans_amount":"1.00","pay_date":"2024-05-20 10:00:00","remark":"a/b"}),
            Op::BillUrl | Op::BillFile => {
                json!({"bill_download_url": format!("{uri}/bill.zip?x=1/2")})
            }
            Op::Precreate => {
                json!({"out_trade_no":"A20240520001","qr_code":"https://qr.alipay.com/bax1"})
            }
            Op::PayCode => json!({"trade_no":"2024","out_trade_no":"A20240520001",
                "total_amount":"12.30","gmt_payment":"2024-05-20 10:00:01","buyer_logon_id":"a/b"}),
            Op::CertDownload => json!({"alipay_cert_content": base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                certs().rotated_pem.as_bytes(),
            ), "note": "a/b"}),
        };
        n["code"] = "10000".into();
        n["msg"] = "Success".into();
        n
    }

    /// A realistic signed business failure for the method, and the kind it must map to.
    fn business_failure(self) -> (&'static str, &'static str, GatewayErrorKind) {
        use GatewayErrorKind as K;
        match self {
            Op::Query => ("40004", "ACQ.TRADE_NOT_EXIST", K::NotFound),
            Op::Close => ("40004", "ACQ.TRADE_STATUS_ERROR", K::OrderClosed),
            Op::Cancel => ("40004", "ACQ.TRADE_CANCEL_TIME_OUT", K::OrderClosed),
            Op::Refund => (
                "40004",
                "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL",
                K::RefundExceedsPaid,
            ),
            Op::RefundQuery => ("40004", "TRADE_NOT_EXIST", K::NotFound),
            Op::Transfer => ("40004", "PAYER_BALANCE_NOT_ENOUGH", K::InsufficientFunds),
            Op::TransferQuery => ("40004", "ORDER_NOT_EXIST", K::NotFound),
            Op::BillUrl | Op::BillFile => ("40004", "TYPE_NOT_SUPPORTED", K::InvalidParam),
            // Normalized: the order is already paid.
            Op::Precreate => ("40004", "ACQ.TRADE_HAS_SUCCESS", K::OrderPaid),
            Op::PayCode => ("40004", "ACQ.PAYMENT_AUTH_CODE_INVALID", K::InvalidParam),
            Op::CertDownload => ("40006", "isv.insufficient-isv-permissions", K::NoPermission),
        }
    }

    async fn run(self, c: &payagg_alipay::AlipayClient) -> Result<(), Error> {
        match self {
            Op::Query | Op::CertDownload => c
                .query(&QueryRequest::new(TradeRef::MerchantOrderNo(order())))
                .await
                .map(drop),
            Op::Close => c.close(&CloseRequest::new(order())).await,
            Op::Cancel => c.cancel(&order()).await.map(drop),
            Op::Refund => c
                .refund(
                    &RefundRequest::new(
                        order(),
                        MerchantRefundNo::new("R1").unwrap(),
                        Money::cny(100),
                        Money::cny(1230),
                    )
                    .unwrap(),
                )
                .await
                .map(drop),
            Op::RefundQuery => c
                .query_refund(
                    &RefundQuery::new(MerchantRefundNo::new("R1").unwrap()).trade(order()),
                )
                .await
                .map(drop),
            Op::Transfer => c
                .transfer(
                    &TransferRequest::new(
                        MerchantTransferNo::new("T1").unwrap(),
                        Payee::AlipayUserId(Sensitive::new("2088123".to_owned())),
                        Money::cny(100),
                        "commission",
                    )
                    .unwrap(),
                )
                .await
                .map(drop),
            Op::TransferQuery => c
                .query_transfer(&MerchantTransferNo::new("T1").unwrap())
                .await
                .map(drop),
            Op::BillUrl | Op::BillFile => c
                .download_statement(&StatementRequest::new(
                    date!(2024 - 05 - 19),
                    StatementKind::AllTrades,
                ))
                .await
                .and_then(|st| st.records().collect::<Result<Vec<_>, _>>())
                .map(drop),
            Op::Precreate => c
                .pay(&PayRequest::new(order(), Money::cny(1230), "Tea", Scene::MerchantQr).unwrap())
                .await
                .map(drop),
            Op::PayCode => c
                .pay(
                    &PayRequest::new(
                        order(),
                        Money::cny(1230),
                        "Tea",
                        Scene::PaymentCode {
                            auth_code: Sensitive::new("280000000000000001".to_owned()),
                        },
                    )
                    .unwrap(),
                )
                .await
                .map(drop),
        }
    }
}

fn gateway(m: &str) -> wiremock::MockBuilder {
    Mock::given(method("POST"))
        .and(path("/gateway.do"))
        .and(query_param("method", m))
}

/// A server answering `op`'s method with `answer` (exactly once) and a client for it.
///
/// `BillFile`: the URL query answers with a URL on this server, `answer` serves the file.
/// `CertDownload`: certificate mode; the query is answered (signed by the rotated key) under
/// the rotated certificate's SN, so the client must download it; `answer` is the download's.
async fn setup(op: Op, answer: ResponseTemplate) -> (MockServer, payagg_alipay::AlipayClient) {
    setup_with(op, move |_| answer).await
}

/// [`setup`] with the answer built from the server's URI.
async fn setup_with(
    op: Op,
    answer: impl FnOnce(&str) -> ResponseTemplate,
) -> (MockServer, payagg_alipay::AlipayClient) {
    let s = MockServer::start().await;
    let answer = answer(&s.uri());
    let c = certs();
    let builder = base(&s.uri());
    let builder = match op {
        Op::CertDownload => {
            builder.certificates(c.app_pem.clone(), c.alipay_pem.clone(), c.root_pem.clone())
        }
        _ => builder.alipay_public_key(keys().1.public_pem.clone()),
    };
    match op {
        Op::BillFile => {
            gateway(BILL_URL)
                .respond_with(ok(BILL_URL, Op::BillFile.success_node(&s.uri())))
                .mount(&s)
                .await;
            Mock::given(method("GET"))
                .and(path("/bill.zip"))
                .respond_with(answer)
                .expect(1)
                .mount(&s)
                .await;
        }
        Op::CertDownload => {
            let sn2 = sign::cert_sn_from_pem(&c.rotated_pem).unwrap();
            gateway("alipay.trade.query")
                .respond_with(ResponseTemplate::new(200).set_body_string(signed_body(
                    "alipay.trade.query",
                    &Op::Query.success_node(""),
                    &keys().2.key,
                    Some(&sn2),
                )))
                .mount(&s)
                .await;
            gateway(CERT_DOWNLOAD)
                .respond_with(answer)
                .expect(1)
                .mount(&s)
                .await;
        }
        _ => {
            gateway(op.method())
                .respond_with(answer)
                .expect(1)
                .mount(&s)
                .await;
            if op == Op::BillUrl {
                Mock::given(method("GET"))
                    .and(path("/bill.zip"))
                    .respond_with(
                        ResponseTemplate::new(200).set_body_bytes(crate::notify::bill_zip()),
                    )
                    .mount(&s)
                    .await;
            }
        }
    }
    let client = client(builder.build().unwrap()).0;
    (s, client)
}

fn signed(
    op: Op,
    node: &serde_json::Value,
    key: &payagg_core::crypto::RsaPrivateKey,
) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_string(signed_body(op.method(), node, key, None))
}

/// Payment code: an answer that decides nothing starts query → cancel; both are unmounted
/// here (404: still unknown), so the flow ends in a timeout with the outcome unknown.
fn assert_pay_code_unknown(e: &Error) {
    assert!(matches!(e, Error::Timeout(_)), "{e:?}");
    assert!(e.outcome_unknown());
}

fn assert_verification(op: Op, e: &Error, want: &VerificationKind) {
    if op == Op::PayCode {
        return assert_pay_code_unknown(e);
    }
    let Error::Verification(v) = e else {
        panic!("{op:?}: {e:?}")
    };
    assert_eq!(v.kind(), want, "{op:?}");
    assert_eq!(e.outcome_unknown(), op.is_write(), "{op:?}: {e:?}");
}

#[tokio::test]
async fn every_method_succeeds_on_an_escaped_slash_body() {
    for op in ALL {
        let (_s, c) = setup_with(op, |uri| {
            if op == Op::BillFile {
                return ResponseTemplate::new(200).set_body_bytes(crate::notify::bill_zip());
            }
            let body = signed_body(op.method(), &op.success_node(uri), &keys().1.key, None);
            assert!(body.contains("\\/"), "{op:?}: {body}");
            ResponseTemplate::new(200).set_body_string(body)
        })
        .await;
        op.run(&c).await.unwrap_or_else(|e| panic!("{op:?}: {e:?}"));
        if op == Op::CertDownload {
            assert_eq!(c.alipay_cert_sns().len(), 2);
        }
    }
}

#[tokio::test]
async fn every_method_maps_a_signed_business_failure() {
    for op in signed_ops() {
        let (code, sub, kind) = op.business_failure();
        let node = json!({"code":code,"msg":"Business Failed","sub_code":sub,"sub_msg":"x/y"});
        let (_s, c) = setup(op, signed(op, &node, &keys().1.key)).await;
        let e = op.run(&c).await.unwrap_err();
        let Error::Gateway(g) = &e else {
            panic!("{op:?}: {e:?}")
        };
        assert_eq!(g.kind(), kind, "{op:?}");
        assert_eq!(g.sub_code(), Some(sub), "{op:?}");
        assert!(!payagg_alipay::error::is_unverified(&e), "{op:?}");
        assert!(!e.is_retryable(), "{op:?}");
        assert!(!e.outcome_unknown(), "{op:?}");
    }
}

/// `20000` and the system-error sub codes (with the official `AQC.` misspelling) are
/// retryable and leave a write's outcome unknown.
#[tokio::test]
async fn every_method_treats_system_errors_as_retryable() {
    for (code, sub) in [
        ("20000", "isp.unknow-error"),
        ("40004", "ACQ.SYSTEM_ERROR"),
        ("40004", "AQC.SYSTEM_ERROR"),
    ] {
        for op in signed_ops() {
            let node = json!({"code":code,"msg":"x","sub_code":sub,"sub_msg":"系统繁忙"});
            let (_s, c) = setup(op, signed(op, &node, &keys().1.key)).await;
            let e = op.run(&c).await.unwrap_err();
            if op == Op::PayCode {
                // Not a decline: the flow queries, then cancels.
                assert_pay_code_unknown(&e);
                continue;
            }
            assert_eq!(
                e.gateway_kind(),
                Some(GatewayErrorKind::SystemError),
                "{op:?} {sub}"
            );
            assert!(e.is_retryable(), "{op:?} {sub}");
            assert!(e.outcome_unknown(), "{op:?} {sub}");
        }
    }
}

#[tokio::test]
async fn every_method_reports_unsigned_errors_as_unverified() {
    let error_response = r#"{"error_response":{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.invalid-signature","sub_msg":"验签出错"}}"#;
    for op in signed_ops() {
        // An unsigned error_response, and unsigned "good news" in the method's own node.
        let good_news = sign::response_body(
            op.method(),
            &json!({"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_HAS_SUCCESS"})
                .to_string(),
            None,
            None,
        );
        for body in [error_response.to_owned(), good_news] {
            let (_s, c) = setup(op, ResponseTemplate::new(200).set_body_string(body.clone())).await;
            let e = op.run(&c).await.unwrap_err();
            if op == Op::PayCode {
                // Money decisions never rest on an unsigned answer.
                assert_pay_code_unknown(&e);
                continue;
            }
            let Error::Gateway(g) = &e else {
                panic!("{op:?}: {e:?}")
            };
            assert_eq!(g.kind(), GatewayErrorKind::Unknown, "{op:?} {body}");
            assert!(payagg_alipay::error::is_unverified(&e), "{op:?}");
            assert!(e.outcome_unknown(), "{op:?}");
        }
    }
}

#[tokio::test]
async fn every_method_rejects_a_bad_signature() {
    for op in signed_ops() {
        let (_s, c) = setup(op, signed(op, &op.success_node("http://x"), &keys().2.key)).await;
        let e = op.run(&c).await.unwrap_err();
        assert_verification(op, &e, &VerificationKind::BadSignature);
    }
}

#[tokio::test]
async fn every_method_rejects_a_missing_signature() {
    for op in signed_ops() {
        let body = sign::response_body(
            op.method(),
            &op.success_node("http://x").to_string(),
            None,
            None,
        );
        let (_s, c) = setup(op, ResponseTemplate::new(200).set_body_string(body)).await;
        let e = op.run(&c).await.unwrap_err();
        assert_verification(op, &e, &VerificationKind::MissingSignature);
    }
}

#[tokio::test]
async fn a_corrupt_bill_file_is_a_decode_error() {
    let (_s, c) = setup(
        Op::BillFile,
        ResponseTemplate::new(200).set_body_bytes(b"PK\x03\x04 not really".to_vec()),
    )
    .await;
    let e = Op::BillFile.run(&c).await.unwrap_err();
    assert!(matches!(e, Error::Decode(_)), "{e:?}");
}

#[tokio::test]
async fn every_method_reports_5xx_as_outcome_unknown() {
    for op in ALL {
        let (_s, c) = setup(op, ResponseTemplate::new(503)).await;
        let e = op.run(&c).await.unwrap_err();
        if op == Op::PayCode {
            assert_pay_code_unknown(&e);
            continue;
        }
        assert!(matches!(e, Error::Transport(_)), "{op:?}: {e:?}");
        assert!(e.outcome_unknown(), "{op:?}");
        assert!(e.is_retryable(), "{op:?}");
    }
}

#[tokio::test]
async fn every_method_reports_a_timeout_as_outcome_unknown() {
    for op in ALL {
        let slow = if op == Op::BillFile {
            ResponseTemplate::new(200).set_body_bytes(crate::notify::bill_zip())
        } else {
            signed(op, &op.success_node("http://x"), &keys().1.key)
        };
        let (_s, c) = setup(op, slow.set_delay(Duration::from_secs(3))).await;
        let e = op.run(&c).await.unwrap_err();
        assert!(matches!(e, Error::Timeout(_)), "{op:?}: {e:?}");
        assert!(e.outcome_unknown(), "{op:?}");
        assert!(e.is_retryable(), "{op:?}");
    }
}
