use payagg_core::ids::MerchantRefundNo;
use payagg_core::{
    Gateway, GatewayErrorKind, MerchantOrderNo, Money, RefundQuery, RefundRequest, RefundStatus,
};
use wiremock::Mock;
use wiremock::matchers::{body_partial_json, method, path};

use super::*;

fn refund_json(status: &str) -> String {
    format!(
        r#"{{"refund_id":"50000000382019052709732678859","out_refund_no":"R20240520001","transaction_id":"4200000001202401011234567890",
        "out_trade_no":"1217752501201407033233368018","channel":"ORIGINAL","user_received_account":"招商银行信用卡0403",
        "success_time":"2024-05-20T10:01:00+08:00","create_time":"2024-05-20T10:00:00+08:00","status":"{status}",
        "funds_account":"AVAILABLE","amount":{{"total":100,"refund":40,"payer_total":100,"payer_refund":40,
        "settlement_refund":40,"settlement_total":100,"discount_refund":0,"currency":"CNY"}}}}"#
    )
}

#[tokio::test]
async fn create_and_query_map_every_status() {
    let s = server().await;
    Mock::given(method("POST"))
        .and(path("/v3/refund/domestic/refunds"))
        .and(SignedByMerchant)
        .and(body_partial_json(serde_json::json!({
            "out_trade_no": "1217752501201407033233368018", "out_refund_no": "R20240520001",
            "amount": {"refund": 40, "total": 100, "currency": "CNY"}
        })))
        .respond_with(Signed::ok(refund_json("PROCESSING")))
        .expect(1)
        .mount(&s)
        .await;
    for (i, (raw, st)) in [
        ("SUCCESS", RefundStatus::Success),
        ("CLOSED", RefundStatus::Closed),
        ("ABNORMAL", RefundStatus::Abnormal),
        ("PROCESSING", RefundStatus::Processing),
    ]
    .into_iter()
    .enumerate()
    {
        Mock::given(method("GET"))
            .and(path(format!("/v3/refund/domestic/refunds/R{i}")))
            .and(SignedByMerchant)
            .respond_with(Signed::ok(
                refund_json(raw).replace("R20240520001", &format!("R{i}")),
            ))
            .expect(1)
            .mount(&s)
            .await;
        let _ = st;
    }
    let c = client(pubkey_config(&s).build().unwrap());
    let req = RefundRequest::new(
        MerchantOrderNo::new("1217752501201407033233368018").unwrap(),
        MerchantRefundNo::new("R20240520001").unwrap(),
        Money::cny(40),
        Money::cny(100),
    )
    .unwrap();
    let r = c.refund(&req).await.unwrap();
    assert_eq!(r.status, RefundStatus::Processing);
    assert_eq!(r.amount, Money::cny(40));
    assert_eq!(
        r.channel_refund_no.unwrap().as_str(),
        "50000000382019052709732678859"
    );
    for (i, st) in [
        RefundStatus::Success,
        RefundStatus::Closed,
        RefundStatus::Abnormal,
        RefundStatus::Processing,
    ]
    .into_iter()
    .enumerate()
    {
        let r = c
            .query_refund(&RefundQuery::new(
                MerchantRefundNo::new(format!("R{i}")).unwrap(),
            ))
            .await
            .unwrap();
        assert_eq!(r.status, st);
    }
}

#[tokio::test]
async fn refund_errors_are_typed_and_never_retried() {
    let s = server().await;
    Mock::given(method("POST"))
        .and(path("/v3/refund/domestic/refunds"))
        .respond_with(error_body(403, "NOT_ENOUGH", "余额不足"))
        .expect(1)
        .mount(&s)
        .await;
    let c = client(pubkey_config(&s).build().unwrap());
    let req = RefundRequest::new(
        MerchantOrderNo::new("1217752501201407033233368018").unwrap(),
        MerchantRefundNo::new("R1").unwrap(),
        Money::cny(40),
        Money::cny(100),
    )
    .unwrap();
    let e = c.refund(&req).await.unwrap_err();
    assert_eq!(e.gateway_kind(), Some(GatewayErrorKind::InsufficientFunds));
}

#[tokio::test]
async fn refund_timeout_is_outcome_unknown() {
    let s = server().await;
    Mock::given(method("POST"))
        .and(path("/v3/refund/domestic/refunds"))
        .respond_with(Signed::ok(refund_json("PROCESSING")).delay(StdDuration::from_secs(3)))
        .expect(1)
        .mount(&s)
        .await;
    let c = client(pubkey_config(&s).build().unwrap());
    let req = RefundRequest::new(
        MerchantOrderNo::new("1217752501201407033233368018").unwrap(),
        MerchantRefundNo::new("R1").unwrap(),
        Money::cny(40),
        Money::cny(100),
    )
    .unwrap();
    let e = c.refund(&req).await.unwrap_err();
    assert!(e.outcome_unknown(), "{e}");
}

#[tokio::test]
async fn partner_refund_and_query_name_the_sub_merchant() {
    use payagg_core::SubMerchant;
    use payagg_core::ids::MerchantId;
    use wiremock::matchers::query_param;
    let s = server().await;
    Mock::given(method("POST"))
        .and(path("/v3/refund/domestic/refunds"))
        .and(SignedByMerchant)
        .and(body_partial_json(serde_json::json!({
            "sub_mchid": "1900000109", "out_trade_no": "1217752501201407033233368018",
            "out_refund_no": "R20240520001"
        })))
        .respond_with(Signed::ok(refund_json("PROCESSING")))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/v3/refund/domestic/refunds/R20240520001"))
        .and(query_param("sub_mchid", "1900000109"))
        .and(SignedByMerchant)
        .respond_with(Signed::ok(refund_json("SUCCESS")))
        .expect(1)
        .mount(&s)
        .await;
    let c = client(pubkey_config(&s).partner(MCHID, APPID).build().unwrap());
    let sub = SubMerchant::new(MerchantId::new("1900000109").unwrap());
    let req = RefundRequest::new(
        MerchantOrderNo::new("1217752501201407033233368018").unwrap(),
        MerchantRefundNo::new("R20240520001").unwrap(),
        Money::cny(40),
        Money::cny(100),
    )
    .unwrap();
    let e = c.refund(&req).await.unwrap_err();
    assert!(matches!(e, payagg_core::Error::InvalidInput(_)), "{e}");
    let r = c.refund(&req.sub_merchant(sub.clone())).await.unwrap();
    assert_eq!(r.status, RefundStatus::Processing);
    let q = c
        .query_refund(
            &RefundQuery::new(MerchantRefundNo::new("R20240520001").unwrap()).sub_merchant(sub),
        )
        .await
        .unwrap();
    assert_eq!(q.status, RefundStatus::Success);
}
