//! Refund (`txnType=04`) on `backTransReq.do`: sync `00` = accepted only.

use payagg_core::{
    ChannelTradeNo, Error, Gateway, GatewayErrorKind, MerchantOrderNo, MerchantRefundNo, Money,
    PayRequest, RefundQuery, RefundRequest, RefundStatus, Scene,
};
use wiremock::Mock;
use wiremock::matchers::{method, path};

use super::*;

pub const PATH: &str = "/gateway/api/backTransReq.do";

fn accepted() -> Answer {
    Answer::ok(&[
        ("respCode", "00"),
        ("respMsg", "成功[0000000]"),
        ("queryId", REFUND_QUERY_ID),
    ])
}

fn req(no: &str, fen: u64) -> RefundRequest {
    RefundRequest::new(
        ChannelTradeNo::new(QUERY_ID).unwrap(),
        MerchantRefundNo::new(no).unwrap(),
        Money::cny(fen),
        Money::cny(1000),
    )
    .unwrap()
}

async fn refund(a: Answer) -> Result<payagg_core::Refund, Error> {
    let s = server().await;
    Mock::given(method("POST"))
        .and(path(PATH))
        .and(SignedByMerchant::with(&[("txnType", "04")]))
        .respond_with(a)
        .mount(&s)
        .await;
    client(&s).refund(&req("refund20240105165842", 300)).await
}

#[tokio::test]
async fn accepted_partial_and_repeated() {
    let s = server().await;
    Mock::given(method("POST"))
        .and(path(PATH))
        .and(SignedByMerchant::with(&[
            ("txnType", "04"),
            ("txnSubType", "00"),
            ("bizType", "000201"),
            ("accessType", "0"),
            ("channelType", "07"),
            ("origQryId", QUERY_ID),
            ("txnTime", TXN_TIME),
            ("backUrl", "https://shop.example/unionpay/notify"),
        ]))
        .respond_with(accepted())
        .expect(2)
        .mount(&s)
        .await;
    let c = client(&s);
    for (no, fen) in [("refund20240105000001", 300), ("refund20240105000002", 700)] {
        let r = c.refund(&req(no, fen)).await.unwrap();
        assert_eq!(
            r.status,
            RefundStatus::Processing,
            "sync 00 is accepted only"
        );
        assert_eq!(r.amount, Money::cny(fen));
        assert_eq!(r.merchant_refund_no.as_str(), no);
        assert_eq!(r.channel_refund_no.unwrap().as_str(), REFUND_QUERY_ID);
        assert_eq!(r.channel_trade_no.unwrap().as_str(), QUERY_ID);
    }
    let sent = received(&s, PATH).await;
    assert_eq!(sent[0]["orderId"], "refund20240105000001");
    assert_eq!(sent[0]["txnAmt"], "300");
    assert_eq!(sent[1]["txnAmt"], "700");
    assert!(!sent[0].contains_key("currencyCode") || sent[0]["currencyCode"] == "156");
}

#[tokio::test]
async fn processing_05_is_processing() {
    let r = refund(Answer::code("05", "交易已受理，请稍后查询交易结果"))
        .await
        .unwrap();
    assert_eq!(r.status, RefundStatus::Processing);
    assert_eq!(r.raw_status, "05");
}

#[tokio::test]
async fn resp_03_04_34_and_unlisted_are_unknown() {
    for code in ["03", "04", "34", "12", "06", "83"] {
        let e = refund(Answer::code(code, "x")).await.unwrap_err();
        assert!(e.outcome_unknown(), "{code}: {e}");
    }
}

#[tokio::test]
async fn timeout_is_unknown_and_never_resent() {
    let s = server().await;
    Mock::given(method("POST"))
        .and(path(PATH))
        .respond_with(accepted().delay(timeout()))
        .expect(1)
        .mount(&s)
        .await;
    let e = client(&s)
        .refund(&req("refund20240105165842", 300))
        .await
        .unwrap_err();
    assert!(e.outcome_unknown(), "{e}");
    let e = refund(accepted().status(502)).await.unwrap_err();
    assert!(e.outcome_unknown(), "{e}");
}

#[tokio::test]
async fn failures_map_to_kinds() {
    for (code, kind) in [
        ("35", GatewayErrorKind::NotFound),
        ("36", GatewayErrorKind::InvalidParam),
        ("45", GatewayErrorKind::RefundExceedsPaid),
        ("11", GatewayErrorKind::AuthFailed),
    ] {
        let e = refund(Answer::code(code, "x")).await.unwrap_err();
        assert!(!e.outcome_unknown(), "{code}");
        assert_eq!(e.gateway_kind(), Some(kind), "{code}");
        assert_eq!(e.gateway_code(), Some(code));
    }
}

#[tokio::test]
async fn tampered_and_forged_answers_are_refused() {
    let e = refund(
        accepted()
            .tampered("respCode", "00")
            .tampered("txnAmt", "1"),
    )
    .await
    .unwrap_err();
    assert_bad_signature(&e);
    for (case, sim) in forged() {
        let e = refund(accepted().by(sim)).await.unwrap_err();
        assert_forged(case, &e);
    }
}

#[tokio::test]
async fn by_order_no_queries_first_and_query_refund() {
    let s = server().await;
    Mock::given(method("POST"))
        .and(path("/gateway/api/queryTrans.do"))
        .and(SignedByMerchant::with(&[(
            "orderId",
            "B2C20240105160000002",
        )]))
        .respond_with(Answer::ok(&[
            ("respCode", "00"),
            ("origRespCode", "00"),
            ("queryId", QUERY_ID),
            ("txnAmt", "1000"),
        ]))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .and(path(PATH))
        .and(SignedByMerchant::with(&[("origQryId", QUERY_ID)]))
        .respond_with(accepted())
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .and(path("/gateway/api/queryTrans.do"))
        .and(SignedByMerchant::with(&[(
            "orderId",
            "refund20240105000003",
        )]))
        .respond_with(Answer::ok(&[
            ("respCode", "00"),
            ("origRespCode", "00"),
            ("txnType", "04"),
            ("queryId", REFUND_QUERY_ID),
            ("txnAmt", "500"),
        ]))
        .expect(1)
        .mount(&s)
        .await;
    let c = client(&s);
    let order = MerchantOrderNo::new("B2C20240105160000002").unwrap();
    c.pay(&PayRequest::new(order.clone(), Money::cny(1000), "t", Scene::UnionpayB2c).unwrap())
        .await
        .unwrap();
    let no = MerchantRefundNo::new("refund20240105000003").unwrap();
    let r = c
        .refund(
            &RefundRequest::new(order.clone(), no.clone(), Money::cny(500), Money::cny(1000))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(r.merchant_order_no.as_ref(), Some(&order));
    assert_eq!(r.status, RefundStatus::Processing);
    let q = c.query_refund(&RefundQuery::new(no)).await.unwrap();
    assert_eq!(q.status, RefundStatus::Success);
    assert_eq!(q.amount, Money::cny(500));
    assert_eq!(q.channel_refund_no.unwrap().as_str(), REFUND_QUERY_ID);
}
