use payagg_core::{
    Error, Gateway, GatewayErrorKind, MerchantOrderNo, Money, PayAction, PayRequest, Scene,
    Sensitive,
};
use payagg_wechat::sign;
use wiremock::Mock;
use wiremock::matchers::{body_partial_json, header, method, path};

use super::*;

fn req(scene: Scene) -> PayRequest {
    PayRequest::new(
        MerchantOrderNo::new("1217752501201407033233368018").unwrap(),
        Money::cny(100),
        "Image形象店-深圳腾大-QQ公仔",
        scene,
    )
    .unwrap()
}

#[tokio::test]
async fn native_returns_code_url() {
    let s = server().await;
    Mock::given(method("POST"))
        .and(path("/v3/pay/transactions/native"))
        .and(SignedByMerchant)
        .and(header("Wechatpay-Serial", PUB_KEY_ID))
        .and(header("content-type", "application/json"))
        .and(header("accept", "application/json"))
        .and(body_partial_json(serde_json::json!({
            "appid": APPID, "mchid": MCHID, "out_trade_no": "1217752501201407033233368018",
            "notify_url": "https://shop.example/notify/wechat", "amount": {"total": 100, "currency": "CNY"}
        })))
        .respond_with(Signed::ok(r#"{"code_url":"weixin://wxpay/bizpayurl?pr=p4lpSuKzz"}"#))
        .expect(1)
        .mount(&s)
        .await;
    let c = client(pubkey_config(&s).build().unwrap());
    let r = c.pay(&req(Scene::MerchantQr)).await.unwrap();
    assert_eq!(
        r.action,
        PayAction::ShowQrCode {
            code_url: "weixin://wxpay/bizpayurl?pr=p4lpSuKzz".into()
        }
    );
}

#[tokio::test]
async fn jsapi_returns_signed_client_params() {
    let s = server().await;
    Mock::given(method("POST"))
        .and(path("/v3/pay/transactions/jsapi"))
        .and(SignedByMerchant)
        .and(body_partial_json(
            serde_json::json!({"payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}}),
        ))
        .respond_with(Signed::ok(
            r#"{"prepay_id":"wx26112221580621e9b071c00d9e093b0000"}"#,
        ))
        .expect(2)
        .mount(&s)
        .await;
    let c = client(pubkey_config(&s).build().unwrap());
    for scene in [
        Scene::Jsapi {
            payer_id: Sensitive::new("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o".into()),
        },
        Scene::MiniProgram {
            payer_id: Sensitive::new("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o".into()),
        },
    ] {
        let r = c.pay(&req(scene)).await.unwrap();
        assert_eq!(
            r.channel_ref.as_deref(),
            Some("wx26112221580621e9b071c00d9e093b0000")
        );
        let PayAction::Jsapi(p) = r.action else {
            panic!("{:?}", r.action)
        };
        let names: Vec<&str> = p.pairs().iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "appId",
                "timeStamp",
                "nonceStr",
                "package",
                "signType",
                "paySign"
            ]
        );
        assert_eq!(p.get("appId"), Some(APPID));
        assert_eq!(p.get("timeStamp"), Some(NOW.to_string().as_str()));
        assert_eq!(
            p.get("package"),
            Some("prepay_id=wx26112221580621e9b071c00d9e093b0000")
        );
        assert_eq!(p.get("signType"), Some("RSA"));
        let msg = sign::jsapi_pay_message(
            APPID,
            &NOW.to_string(),
            p.get("nonceStr").unwrap(),
            p.get("package").unwrap(),
        );
        sign::verify_base64(&merchant_public(), &msg, p.get("paySign").unwrap()).unwrap();
    }
}

#[tokio::test]
async fn app_returns_signed_params() {
    let s = server().await;
    Mock::given(method("POST"))
        .and(path("/v3/pay/transactions/app"))
        .and(SignedByMerchant)
        .respond_with(Signed::ok(
            r#"{"prepay_id":"wx201410272009395522657a690389285100"}"#,
        ))
        .mount(&s)
        .await;
    let c = client(pubkey_config(&s).build().unwrap());
    let r = c.pay(&req(Scene::App)).await.unwrap();
    let PayAction::App(p) = r.action else {
        panic!()
    };
    assert_eq!(p.get("partnerid"), Some(MCHID));
    assert_eq!(p.get("package"), Some("Sign=WXPay"));
    let msg = sign::app_pay_message(
        APPID,
        p.get("timestamp").unwrap(),
        p.get("noncestr").unwrap(),
        "wx201410272009395522657a690389285100",
    );
    sign::verify_base64(&merchant_public(), &msg, p.get("sign").unwrap()).unwrap();
}

#[tokio::test]
async fn h5_sends_scene_info_and_redirects() {
    let s = server().await;
    Mock::given(method("POST"))
        .and(path("/v3/pay/transactions/h5"))
        .and(SignedByMerchant)
        .and(body_partial_json(serde_json::json!({"scene_info": {"payer_client_ip": "14.23.150.211", "h5_info": {"type": "Wap"}}})))
        .respond_with(Signed::ok(r#"{"h5_url":"https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx1&package=2"}"#))
        .mount(&s)
        .await;
    let c = client(pubkey_config(&s).build().unwrap());
    let r = c
        .pay(
            &req(Scene::H5 {
                payer_client_ip: Some("14.23.150.211".into()),
            })
            .return_url("https://shop.example/done?o=1"),
        )
        .await
        .unwrap();
    let PayAction::Redirect { url } = r.action else {
        panic!()
    };
    assert!(
        url.ends_with("&redirect_url=https%3A%2F%2Fshop.example%2Fdone%3Fo%3D1"),
        "{url}"
    );
    // H5 without the payer's IP is refused before sending.
    let e = c
        .pay(&req(Scene::H5 {
            payer_client_ip: None,
        }))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::InvalidInput(_)), "{e}");
}

#[tokio::test]
async fn payment_code_and_pc_web_are_unsupported() {
    let s = server().await;
    let c = client(pubkey_config(&s).build().unwrap());
    let e = c
        .pay(&req(Scene::PaymentCode {
            auth_code: Sensitive::new("134567890123456789".into()),
        }))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Unsupported(_)), "{e}");
    let e = c.pay(&req(Scene::PcWeb)).await.unwrap_err();
    assert!(matches!(e, Error::Unsupported(_)), "{e}");
    assert!(!c.supports(payagg_core::SceneKind::PaymentCode));
    assert!(c.supports(payagg_core::SceneKind::H5));
}

#[tokio::test]
async fn error_body_is_a_typed_gateway_error_and_pay_is_not_retried() {
    let s = server().await;
    Mock::given(method("POST"))
        .and(path("/v3/pay/transactions/native"))
        .respond_with(error_body(403, "OUT_TRADE_NO_USED", "商户订单号重复"))
        .expect(1)
        .mount(&s)
        .await;
    let c = client(pubkey_config(&s).build().unwrap());
    let e = c.pay(&req(Scene::MerchantQr)).await.unwrap_err();
    assert_eq!(e.gateway_code(), Some("OUT_TRADE_NO_USED"));
    assert_eq!(e.gateway_kind(), Some(GatewayErrorKind::DuplicateRequest));
    assert!(!e.outcome_unknown());
}

#[tokio::test]
async fn system_error_is_retryable_outcome_unknown_never_retried_for_pay() {
    let s = server().await;
    Mock::given(method("POST"))
        .and(path("/v3/pay/transactions/native"))
        .respond_with(error_body(500, "SYSTEM_ERROR", "系统异常，请稍后重试"))
        .expect(1)
        .mount(&s)
        .await;
    let c = client(pubkey_config(&s).build().unwrap());
    let e = c.pay(&req(Scene::MerchantQr)).await.unwrap_err();
    assert!(e.is_retryable() && e.outcome_unknown(), "{e}");
    let Error::Gateway(g) = &e else {
        panic!("{e:?}")
    };
    assert_eq!(g.request_id(), Some(REQUEST_ID));
    assert!(e.to_string().contains(REQUEST_ID), "{e}");
}

#[tokio::test]
async fn timeout_is_outcome_unknown() {
    let s = server().await;
    Mock::given(method("POST"))
        .and(path("/v3/pay/transactions/native"))
        .respond_with(Signed::ok(r#"{"code_url":"weixin://x"}"#).delay(StdDuration::from_secs(3)))
        .expect(1)
        .mount(&s)
        .await;
    let c = client(pubkey_config(&s).build().unwrap());
    let e = c.pay(&req(Scene::MerchantQr)).await.unwrap_err();
    assert!(matches!(e, Error::Timeout(_)), "{e}");
    assert!(e.outcome_unknown());
}

#[tokio::test]
async fn rejects_invalid_input_before_sending() {
    let s = server().await;
    let c = client(pubkey_config(&s).build().unwrap());
    let short = PayRequest::new(
        MerchantOrderNo::new("A1").unwrap(),
        Money::cny(1),
        "x",
        Scene::MerchantQr,
    )
    .unwrap();
    assert!(matches!(
        c.pay(&short).await.unwrap_err(),
        Error::InvalidInput(_)
    ));
    let usd = PayRequest::new(
        MerchantOrderNo::new("A1234567").unwrap(),
        Money::from_minor(1, payagg_core::Currency::Usd),
        "x",
        Scene::MerchantQr,
    )
    .unwrap();
    assert!(matches!(
        c.pay(&usd).await.unwrap_err(),
        Error::InvalidInput(_)
    ));
}

#[tokio::test]
async fn partner_jsapi_uses_sp_and_sub_fields() {
    use payagg_core::ids::{AppId, MerchantId};
    let s = server().await;
    Mock::given(method("POST"))
        .and(path("/v3/pay/partner/transactions/jsapi"))
        .and(SignedByMerchant)
        .and(body_partial_json(serde_json::json!({
            "sp_appid": APPID, "sp_mchid": MCHID, "sub_mchid": "1900000109", "sub_appid": "wx0000000000000001",
            "payer": {"sub_openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}
        })))
        .respond_with(Signed::ok(r#"{"prepay_id":"wx26112221580621e9b071c00d9e093b0000"}"#))
        .expect(1)
        .mount(&s)
        .await;
    let c = client(pubkey_config(&s).partner(MCHID, APPID).build().unwrap());
    let sub = payagg_core::SubMerchant::new(MerchantId::new("1900000109").unwrap())
        .with_app_id(AppId::new("wx0000000000000001").unwrap());
    let r = c
        .pay(
            &req(Scene::Jsapi {
                payer_id: Sensitive::new("oUpF8uMuAJO_M2pxb1Q9zNjWeS6o".into()),
            })
            .sub_merchant(sub),
        )
        .await
        .unwrap();
    let PayAction::Jsapi(p) = r.action else {
        panic!()
    };
    assert_eq!(p.get("appId"), Some("wx0000000000000001"));
}
