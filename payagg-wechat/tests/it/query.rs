use payagg_core::ids::{AppId, MerchantId};
use payagg_core::{
    ChannelTradeNo, CloseRequest, Error, Gateway, GatewayErrorKind, MerchantOrderNo, QueryRequest,
    SubMerchant, TradeStatus,
};
use wiremock::Mock;
use wiremock::matchers::{body_json, method, path, query_param};

use super::*;

const TX: &str = r#"{"appid":"wxd678efh567hg6787","mchid":"1230000109","out_trade_no":"1217752501201407033233368018",
"transaction_id":"4200000001202401011234567890","trade_type":"NATIVE","trade_state":"SUCCESS","trade_state_desc":"支付成功",
"bank_type":"OTHERS","success_time":"2024-05-20T09:59:00+08:00","payer":{"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
"amount":{"total":100,"payer_total":100,"currency":"CNY","payer_currency":"CNY"}}"#;

#[tokio::test]
async fn by_out_trade_no_and_by_transaction_id() {
    let s = server().await;
    Mock::given(method("GET"))
        .and(path(
            "/v3/pay/transactions/out-trade-no/1217752501201407033233368018",
        ))
        .and(query_param("mchid", MCHID))
        .and(SignedByMerchant)
        .respond_with(Signed::ok(TX))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/v3/pay/transactions/id/4200000001202401011234567890"))
        .and(query_param("mchid", MCHID))
        .and(SignedByMerchant)
        .respond_with(Signed::ok(TX))
        .expect(1)
        .mount(&s)
        .await;
    let c = client(pubkey_config(&s).build().unwrap());
    let t = c
        .query(&QueryRequest::new(
            MerchantOrderNo::new("1217752501201407033233368018").unwrap(),
        ))
        .await
        .unwrap();
    assert_eq!(t.status, TradeStatus::Success);
    assert_eq!(t.amount, payagg_core::Money::cny(100));
    let t = c
        .query(&QueryRequest::new(
            ChannelTradeNo::new("4200000001202401011234567890").unwrap(),
        ))
        .await
        .unwrap();
    assert_eq!(t.merchant_order_no.as_str(), "1217752501201407033233368018");
}

#[tokio::test]
async fn path_params_are_percent_encoded_once_and_signed_as_sent() {
    let s = server().await;
    Mock::given(method("GET"))
        .and(SignedByMerchant)
        .and(|r: &wiremock::Request| {
            r.url.path() == "/v3/pay/transactions/out-trade-no/A-1%2A2%7C3"
        })
        .respond_with(Signed::ok(
            TX.replace("1217752501201407033233368018", "A-1*2|3"),
        ))
        .expect(1)
        .mount(&s)
        .await;
    let c = client(pubkey_config(&s).build().unwrap());
    let t = c
        .query(&QueryRequest::new(MerchantOrderNo::new("A-1*2|3").unwrap()))
        .await
        .unwrap();
    assert_eq!(t.merchant_order_no.as_str(), "A-1*2|3");
}

#[tokio::test]
async fn partner_query_uses_sp_and_sub_mchid() {
    let s = server().await;
    Mock::given(method("GET"))
        .and(path("/v3/pay/partner/transactions/out-trade-no/1217752501201407033233368018"))
        .and(query_param("sp_mchid", MCHID))
        .and(query_param("sub_mchid", "1900000109"))
        .and(SignedByMerchant)
        .respond_with(Signed::ok(
            r#"{"sp_appid":"wxd678efh567hg6787","sp_mchid":"1230000109","sub_mchid":"1900000109","out_trade_no":"1217752501201407033233368018","trade_state":"NOTPAY","amount":{"total":100,"currency":"CNY"}}"#,
        ))
        .expect(1)
        .mount(&s)
        .await;
    let config = pubkey_config(&s).partner(MCHID, APPID).build().unwrap();
    assert!(config.is_partner());
    let c = client(config);
    let sub = SubMerchant::new(MerchantId::new("1900000109").unwrap())
        .with_app_id(AppId::new("wx0000000000000001").unwrap());
    let t = c
        .query(
            &QueryRequest::new(MerchantOrderNo::new("1217752501201407033233368018").unwrap())
                .sub_merchant(sub),
        )
        .await
        .unwrap();
    assert_eq!(t.status, TradeStatus::NotPaid);
    assert_eq!(t.merchant_id.unwrap().as_str(), "1900000109");
    // Partner mode without a sub-merchant is refused before sending.
    let e = c
        .query(&QueryRequest::new(
            MerchantOrderNo::new("1217752501201407033233368018").unwrap(),
        ))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::InvalidInput(_)), "{e}");
}

#[tokio::test]
async fn not_found_is_typed_and_retried_only_when_retryable() {
    let s = server().await;
    Mock::given(method("GET"))
        .and(path("/v3/pay/transactions/out-trade-no/NOPE000001"))
        .respond_with(error_body(404, "ORDER_NOT_EXIST", "订单不存在"))
        .expect(1)
        .mount(&s)
        .await;
    Mock::given(method("GET"))
        .and(path("/v3/pay/transactions/out-trade-no/BUSY000001"))
        .respond_with(error_body(500, "SYSTEM_ERROR", "系统异常"))
        .expect(3)
        .mount(&s)
        .await;
    let c = client(pubkey_config(&s).build().unwrap());
    let e = c
        .query(&QueryRequest::new(
            MerchantOrderNo::new("NOPE000001").unwrap(),
        ))
        .await
        .unwrap_err();
    assert_eq!(e.gateway_kind(), Some(GatewayErrorKind::NotFound));
    let e = c
        .query(&QueryRequest::new(
            MerchantOrderNo::new("BUSY000001").unwrap(),
        ))
        .await
        .unwrap_err();
    assert_eq!(e.gateway_kind(), Some(GatewayErrorKind::SystemError));
}

#[tokio::test]
async fn close_accepts_a_signed_204() {
    let s = server().await;
    Mock::given(method("POST"))
        .and(path(
            "/v3/pay/transactions/out-trade-no/1217752501201407033233368018/close",
        ))
        .and(body_json(serde_json::json!({"mchid": MCHID})))
        .and(SignedByMerchant)
        .respond_with(Signed::ok("").status(204))
        .expect(1)
        .mount(&s)
        .await;
    let c = client(pubkey_config(&s).build().unwrap());
    c.close(&CloseRequest::new(
        MerchantOrderNo::new("1217752501201407033233368018").unwrap(),
    ))
    .await
    .unwrap();
}

#[tokio::test]
async fn close_rejects_an_unsigned_204() {
    let s = server().await;
    Mock::given(method("POST"))
        .and(path(
            "/v3/pay/transactions/out-trade-no/1217752501201407033233368018/close",
        ))
        .respond_with(wiremock::ResponseTemplate::new(204))
        .mount(&s)
        .await;
    let c = client(pubkey_config(&s).build().unwrap());
    let e = c
        .close(&CloseRequest::new(
            MerchantOrderNo::new("1217752501201407033233368018").unwrap(),
        ))
        .await
        .unwrap_err();
    let Error::Verification(v) = &e else {
        panic!("{e}")
    };
    assert_eq!(
        v.kind(),
        &payagg_core::error::VerificationKind::MissingSignature
    );
}

#[tokio::test]
async fn partner_close_sends_sp_and_sub_mchid() {
    let s = server().await;
    Mock::given(method("POST"))
        .and(path(
            "/v3/pay/partner/transactions/out-trade-no/1217752501201407033233368018/close",
        ))
        .and(body_json(
            serde_json::json!({"sp_mchid": MCHID, "sub_mchid": "1900000109"}),
        ))
        .and(SignedByMerchant)
        .respond_with(Signed::ok("").status(204))
        .expect(1)
        .mount(&s)
        .await;
    let c = client(pubkey_config(&s).partner(MCHID, APPID).build().unwrap());
    let close = CloseRequest::new(MerchantOrderNo::new("1217752501201407033233368018").unwrap());
    let e = c.close(&close).await.unwrap_err();
    assert!(matches!(e, Error::InvalidInput(_)), "{e}");
    c.close(&close.sub_merchant(SubMerchant::new(MerchantId::new("1900000109").unwrap())))
        .await
        .unwrap();
}
