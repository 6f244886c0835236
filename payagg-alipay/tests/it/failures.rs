//! Failure paths per method: a bad signature, a missing signature, 5xx and a timeout for
//! cancel, refund query, transfer, transfer query, bill URL, precreate and payment-code pay.

use std::time::Duration;

use payagg_alipay::sign;
use payagg_core::error::{Error, VerificationKind};
use payagg_core::ids::MerchantTransferNo;
use payagg_core::statement::StatementRequest;
use payagg_core::{
    Gateway, MerchantOrderNo, MerchantRefundNo, Money, PayRequest, Payee, RefundQuery, Scene,
    Sensitive, StatementKind, TransferRequest,
};
use serde_json::json;
use time::macros::date;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Cancel,
    RefundQuery,
    Transfer,
    TransferQuery,
    BillUrl,
    Precreate,
    PayCode,
}

const ALL: [Op; 7] = [
    Op::Cancel,
    Op::RefundQuery,
    Op::Transfer,
    Op::TransferQuery,
    Op::BillUrl,
    Op::Precreate,
    Op::PayCode,
];

fn order() -> MerchantOrderNo {
    MerchantOrderNo::new("A20240520001").unwrap()
}

impl Op {
    fn method(self) -> &'static str {
        match self {
            Op::Cancel => "alipay.trade.cancel",
            Op::RefundQuery => "alipay.trade.fastpay.refund.query",
            Op::Transfer => "alipay.fund.trans.uni.transfer",
            Op::TransferQuery => "alipay.fund.trans.common.query",
            Op::BillUrl => "alipay.data.dataservice.bill.downloadurl.query",
            Op::Precreate => "alipay.trade.precreate",
            Op::PayCode => "alipay.trade.pay",
        }
    }

    /// Writes: an answer that cannot be trusted leaves the outcome unknown.
    fn is_write(self) -> bool {
        matches!(
            self,
            Op::Cancel | Op::Transfer | Op::Precreate | Op::PayCode
        )
    }

    fn success_node(self) -> serde_json::Value {
        let mut n = match self {
            Op::Cancel => {
                json!({"out_trade_no":"A20240520001","retry_flag":"N","action":"close"})
            }
            Op::RefundQuery => {
                json!({"out_request_no":"R1","refund_amount":"1.00","refund_status":"REFUND_SUCCESS"})
            }
            Op::Transfer => json!({"out_biz_no":"T1","order_id":"2021","status":"SUCCESS"}),
            Op::TransferQuery => {
                json!({"out_biz_no":"T1","order_id":"2021","status":"SUCCESS","trans_amount":"1.00"})
            }
            Op::BillUrl => json!({"bill_download_url":"https://dwbillcenter.alipay.com/x"}),
            Op::Precreate => {
                json!({"out_trade_no":"A20240520001","qr_code":"https://qr.alipay.com/bax1"})
            }
            Op::PayCode => {
                json!({"trade_no":"2024","out_trade_no":"A20240520001","total_amount":"12.30"})
            }
        };
        n["code"] = "10000".into();
        n["msg"] = "Success".into();
        n
    }

    async fn run(self, c: &payagg_alipay::AlipayClient) -> Result<(), Error> {
        match self {
            Op::Cancel => c.cancel(&order()).await.map(drop),
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
            Op::BillUrl => c
                .download_statement(&StatementRequest::new(
                    date!(2024 - 05 - 19),
                    StatementKind::AllTrades,
                ))
                .await
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

async fn setup(op: Op, answer: ResponseTemplate) -> (MockServer, payagg_alipay::AlipayClient) {
    let s = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/gateway.do"))
        .and(query_param("method", op.method()))
        .respond_with(answer)
        .expect(1)
        .mount(&s)
        .await;
    let c = client(
        base(&s.uri())
            .alipay_public_key(keys().1.public_pem.clone())
            .build()
            .unwrap(),
    )
    .0;
    (s, c)
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
async fn every_method_rejects_a_bad_signature() {
    for op in ALL {
        let other_key = &keys().2.key;
        let body = signed_body(op.method(), &op.success_node(), other_key, None);
        let (_s, c) = setup(op, ResponseTemplate::new(200).set_body_string(body)).await;
        let e = op.run(&c).await.unwrap_err();
        assert_verification(op, &e, &VerificationKind::BadSignature);
    }
}

#[tokio::test]
async fn every_method_rejects_a_missing_signature() {
    for op in ALL {
        let body = sign::response_body(op.method(), &op.success_node().to_string(), None, None);
        let (_s, c) = setup(op, ResponseTemplate::new(200).set_body_string(body)).await;
        let e = op.run(&c).await.unwrap_err();
        assert_verification(op, &e, &VerificationKind::MissingSignature);
    }
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
        let slow = ResponseTemplate::new(200)
            .set_body_string(signed_body(
                op.method(),
                &op.success_node(),
                &keys().1.key,
                None,
            ))
            .set_delay(Duration::from_secs(3));
        let (_s, c) = setup(op, slow).await;
        let e = op.run(&c).await.unwrap_err();
        assert!(matches!(e, Error::Timeout(_)), "{op:?}: {e:?}");
        assert!(e.outcome_unknown(), "{op:?}");
    }
}
