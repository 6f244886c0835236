//! Money-correctness flows: `fund_change=N` refunds confirmed by the refund query, and the
//! payment-code flow when answers are unknown or unverified.

use std::time::Duration;

use payagg_alipay::sign;
use payagg_core::error::Error;
use payagg_core::trade::TradeStatus;
use payagg_core::{
    Gateway, GatewayErrorKind, MerchantOrderNo, MerchantRefundNo, Money, PayAction, PayRequest,
    RefundRequest, RefundStatus, Scene, Sensitive,
};
use serde_json::json;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::*;

fn on(m: &str) -> wiremock::MockBuilder {
    Mock::given(method("POST"))
        .and(path("/gateway.do"))
        .and(query_param("method", m))
}

fn order() -> MerchantOrderNo {
    MerchantOrderNo::new("A20240520001").unwrap()
}

async fn pk_client(
    s: &MockServer,
) -> (
    payagg_alipay::AlipayClient,
    std::sync::Arc<RecordingSleeper>,
) {
    client(
        base(&s.uri())
            .alipay_public_key(keys().1.public_pem.clone())
            .build()
            .unwrap(),
    )
}

/// An answer node without `sign` (as a forger or a broken proxy would send it).
pub fn unsigned(m: &str, node: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_string(sign::response_body(
        m,
        &node.to_string(),
        None,
        None,
    ))
}

/// A signed error node.
pub fn signed_err(m: &str, code: &str, sub_code: Option<&str>) -> ResponseTemplate {
    let mut node = json!({"code": code, "msg": "Business Failed"});
    if let Some(sub) = sub_code {
        node["sub_code"] = sub.into();
        node["sub_msg"] = "x".into();
    }
    ResponseTemplate::new(200).set_body_string(signed_body(m, &node, &keys().1.key, None))
}

fn refund_req(no: &str, fen: u64) -> RefundRequest {
    RefundRequest::new(
        order(),
        MerchantRefundNo::new(no).unwrap(),
        Money::cny(fen),
        Money::cny(1230),
    )
    .unwrap()
}

fn refund_n() -> ResponseTemplate {
    ok(
        "alipay.trade.refund",
        json!({"out_trade_no":"A20240520001","trade_no":"2024052022001","fund_change":"N","refund_fee":"1.00"}),
    )
}

async fn refund_queries(s: &MockServer) -> Vec<serde_json::Value> {
    s.received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.url.query().unwrap().contains("fastpay.refund.query"))
        .map(|r| serde_json::from_str(&form(&r)[0].1).unwrap())
        .collect()
}

#[tokio::test]
async fn refund_fund_change_n_repeat_is_confirmed_by_refund_query() {
    // The same out_request_no sent again: Alipay answers 10000 + fund_change=N (no money moved
    // in this call); the refund query shows the first call's refund succeeded.
    let s = MockServer::start().await;
    on("alipay.trade.refund")
        .respond_with(refund_n())
        .expect(1)
        .mount(&s)
        .await;
    on("alipay.trade.fastpay.refund.query")
        .respond_with(ok("alipay.trade.fastpay.refund.query", json!({"out_trade_no":"A20240520001","trade_no":"2024052022001","out_request_no":"R1","refund_amount":"1.00","total_amount":"12.30","refund_status":"REFUND_SUCCESS","gmt_refund_pay":"2024-05-20 10:05:00"})))
        .expect(1)
        .mount(&s)
        .await;
    let (c, _) = pk_client(&s).await;
    let r = c.refund(&refund_req("R1", 100)).await.unwrap();
    assert_eq!(r.status, RefundStatus::Success);
    assert_eq!(r.amount, Money::cny(100));
    assert!(
        r.raw_status.starts_with("fund_change=N"),
        "{}",
        r.raw_status
    );
    assert!(r.raw_status.contains("REFUND_SUCCESS"));
    assert!(r.succeeded_at.is_some());
    let q = refund_queries(&s).await;
    assert_eq!(q[0]["out_request_no"], "R1");
    assert_eq!(q[0]["out_trade_no"], "A20240520001");
}

#[tokio::test]
async fn refund_fund_change_n_unconfirmed_is_processing() {
    // fund_change=N and the query has no refund_status (not received / not done yet).
    let s = MockServer::start().await;
    on("alipay.trade.refund")
        .respond_with(refund_n())
        .mount(&s)
        .await;
    on("alipay.trade.fastpay.refund.query")
        .respond_with(ok(
            "alipay.trade.fastpay.refund.query",
            json!({"out_trade_no":"A20240520001","out_request_no":"R1"}),
        ))
        .mount(&s)
        .await;
    let (c, _) = pk_client(&s).await;
    let r = c.refund(&refund_req("R1", 100)).await.unwrap();
    assert_eq!(r.status, RefundStatus::Processing);
    assert_eq!(r.amount, Money::cny(100));
    assert_eq!(r.raw_status, "fund_change=N");

    // fund_change=N and the query fails (5xx), or answers unsigned good news: still processing.
    for answer in [
        ResponseTemplate::new(502),
        unsigned(
            "alipay.trade.fastpay.refund.query",
            json!({"code":"10000","msg":"Success","out_request_no":"R1","refund_amount":"1.00","refund_status":"REFUND_SUCCESS"}),
        ),
    ] {
        let s = MockServer::start().await;
        on("alipay.trade.refund")
            .respond_with(refund_n())
            .mount(&s)
            .await;
        on("alipay.trade.fastpay.refund.query")
            .respond_with(answer)
            .expect(1)
            .mount(&s)
            .await;
        let (c, _) = pk_client(&s).await;
        let r = c.refund(&refund_req("R1", 100)).await.unwrap();
        assert_eq!(r.status, RefundStatus::Processing);
    }

    // fund_change absent: no proof either.
    let s = MockServer::start().await;
    on("alipay.trade.refund")
        .respond_with(ok(
            "alipay.trade.refund",
            json!({"out_trade_no":"A20240520001"}),
        ))
        .mount(&s)
        .await;
    let (c, _) = pk_client(&s).await;
    let r = c.refund(&refund_req("R1", 100)).await.unwrap();
    assert_eq!(r.status, RefundStatus::Processing);
    assert_eq!(r.raw_status, "fund_change=");
}

#[tokio::test]
async fn refund_fund_change_y_needs_no_query() {
    let s = MockServer::start().await;
    on("alipay.trade.refund")
        .respond_with(ok(
            "alipay.trade.refund",
            json!({"out_trade_no":"A20240520001","fund_change":"Y","refund_fee":"3.00"}),
        ))
        .mount(&s)
        .await;
    on("alipay.trade.fastpay.refund.query")
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&s)
        .await;
    let (c, _) = pk_client(&s).await;
    let r = c.refund(&refund_req("R2", 200)).await.unwrap();
    assert_eq!(r.status, RefundStatus::Success);
    // This refund's amount, not the cumulative refund_fee.
    assert_eq!(r.amount, Money::cny(200));
}

fn code_req() -> PayRequest {
    PayRequest::new(
        order(),
        Money::cny(1230),
        "Tea",
        Scene::PaymentCode {
            auth_code: Sensitive::new("280000000000000001".to_owned()),
        },
    )
    .unwrap()
}

fn trade_node(status: &str) -> serde_json::Value {
    json!({"trade_no":"2024052022001","out_trade_no":"A20240520001","trade_status":status,
           "total_amount":"12.30"})
}

fn cancelled() -> ResponseTemplate {
    ok(
        "alipay.trade.cancel",
        json!({"out_trade_no":"A20240520001","trade_no":"2024052022001","retry_flag":"N","action":"close"}),
    )
}

#[tokio::test]
async fn bar_code_unknown_first_answer_queries_once_then_cancels() {
    for first in [
        signed_err("alipay.trade.pay", "20000", Some("isp.unknow-error")),
        ResponseTemplate::new(200).set_delay(Duration::from_secs(3)),
        // An unsigned "declined" proves nothing.
        unsigned(
            "alipay.trade.pay",
            json!({"code":"40004","msg":"Business Failed","sub_code":"ACQ.PAYMENT_AUTH_CODE_INVALID"}),
        ),
    ] {
        let s = MockServer::start().await;
        on("alipay.trade.pay")
            .respond_with(first)
            .expect(1)
            .mount(&s)
            .await;
        on("alipay.trade.query")
            .respond_with(ok("alipay.trade.query", trade_node("WAIT_BUYER_PAY")))
            .expect(1)
            .mount(&s)
            .await;
        on("alipay.trade.cancel")
            .respond_with(cancelled())
            .expect(1)
            .mount(&s)
            .await;
        let (c, sleeper) = pk_client(&s).await;
        let PayAction::Pending(t) = c.pay(&code_req()).await.unwrap().action else {
            panic!()
        };
        assert_eq!(t.status, TradeStatus::Revoked);
        assert_eq!(t.raw_status, "CANCELLED:close");
        assert_eq!(*sleeper.0.lock().unwrap(), vec![Duration::from_secs(3)]);
    }
}

#[tokio::test]
async fn bar_code_unknown_then_query_paid_needs_no_cancel() {
    let s = MockServer::start().await;
    on("alipay.trade.pay")
        .respond_with(signed_err("alipay.trade.pay", "20000", None))
        .mount(&s)
        .await;
    on("alipay.trade.query")
        .respond_with(ok("alipay.trade.query", trade_node("TRADE_SUCCESS")))
        .expect(1)
        .mount(&s)
        .await;
    on("alipay.trade.cancel")
        .respond_with(cancelled())
        .expect(0)
        .mount(&s)
        .await;
    let (c, _) = pk_client(&s).await;
    let PayAction::Completed(t) = c.pay(&code_req()).await.unwrap().action else {
        panic!()
    };
    assert_eq!(t.status, TradeStatus::Success);
}

#[tokio::test]
async fn bar_code_query_trade_closed_is_definite_without_cancel() {
    let s = MockServer::start().await;
    on("alipay.trade.pay")
        .respond_with(signed_err("alipay.trade.pay", "20000", None))
        .mount(&s)
        .await;
    on("alipay.trade.query")
        .respond_with(ok("alipay.trade.query", trade_node("TRADE_CLOSED")))
        .expect(1)
        .mount(&s)
        .await;
    on("alipay.trade.cancel")
        .respond_with(cancelled())
        .expect(0)
        .mount(&s)
        .await;
    let (c, _) = pk_client(&s).await;
    let PayAction::Pending(t) = c.pay(&code_req()).await.unwrap().action else {
        panic!()
    };
    assert_eq!(t.status, TradeStatus::Closed);
    assert_eq!(t.raw_status, "TRADE_CLOSED");
    assert!(!t.status.is_paid());
}

#[tokio::test]
async fn bar_code_cancel_never_confirmed_is_timeout_outcome_unknown() {
    for cancel in [
        // Alipay keeps asking for a retry.
        ok(
            "alipay.trade.cancel",
            json!({"out_trade_no":"A20240520001","retry_flag":"Y"}),
        ),
        // A forged "no such trade" must not become a definite failure.
        unsigned(
            "alipay.trade.cancel",
            json!({"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_NOT_EXIST","sub_msg":"交易不存在"}),
        ),
        ResponseTemplate::new(503),
    ] {
        let s = MockServer::start().await;
        on("alipay.trade.pay")
            .respond_with(signed_err("alipay.trade.pay", "20000", None))
            .mount(&s)
            .await;
        // The query cannot decide either (unsigned "not exist").
        on("alipay.trade.query")
            .respond_with(unsigned(
                "alipay.trade.query",
                json!({"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_NOT_EXIST"}),
            ))
            .expect(1)
            .mount(&s)
            .await;
        on("alipay.trade.cancel")
            .respond_with(cancel)
            .expect(3)
            .mount(&s)
            .await;
        let (c, sleeper) = pk_client(&s).await;
        let e = c.pay(&code_req()).await.unwrap_err();
        assert!(matches!(e, Error::Timeout(_)), "{e:?}");
        assert!(e.outcome_unknown());
        assert_eq!(
            *sleeper.0.lock().unwrap(),
            vec![
                Duration::from_secs(3),
                Duration::from_secs(2),
                Duration::from_secs(2)
            ]
        );
    }
}

#[tokio::test]
async fn bar_code_verified_trade_not_exist_on_cancel_is_failed() {
    let s = MockServer::start().await;
    on("alipay.trade.pay")
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
        .mount(&s)
        .await;
    on("alipay.trade.query")
        .respond_with(signed_err(
            "alipay.trade.query",
            "40004",
            Some("ACQ.TRADE_NOT_EXIST"),
        ))
        .mount(&s)
        .await;
    on("alipay.trade.cancel")
        .respond_with(signed_err(
            "alipay.trade.cancel",
            "40004",
            Some("ACQ.TRADE_NOT_EXIST"),
        ))
        .expect(1)
        .mount(&s)
        .await;
    let (c, _) = pk_client(&s).await;
    let PayAction::Pending(t) = c.pay(&code_req()).await.unwrap().action else {
        panic!()
    };
    assert_eq!(t.status, TradeStatus::Failed);
}

#[tokio::test]
async fn unsigned_definite_errors_are_unknown() {
    let s = MockServer::start().await;
    on("alipay.trade.query")
        .respond_with(unsigned(
            "alipay.trade.query",
            json!({"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_NOT_EXIST"}),
        ))
        .mount(&s)
        .await;
    let (c, _) = pk_client(&s).await;
    let e = c
        .query(&payagg_core::trade::QueryRequest::new(
            payagg_core::trade::TradeRef::MerchantOrderNo(order()),
        ))
        .await
        .unwrap_err();
    assert_eq!(e.gateway_kind(), Some(GatewayErrorKind::Unknown));
    let Error::Gateway(g) = &e else { panic!() };
    assert_eq!(g.sub_code(), Some("ACQ.TRADE_NOT_EXIST"));
    assert!(payagg_alipay::error::is_unverified(&e));
}
