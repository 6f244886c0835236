//! wiremock flows per operation: success, business error, unsigned error_response, tampered
//! body, missing signature, timeout and 5xx, certificate mode, payment-code polling.

use std::time::Duration;

use payagg_alipay::sign::{self, SignType};
use payagg_core::error::{Error, VerificationKind};
use payagg_core::ids::MerchantTransferNo;
use payagg_core::trade::{CloseRequest, QueryRequest, TradeRef, TradeStatus};
use payagg_core::{
    Gateway, GatewayErrorKind, MerchantOrderNo, MerchantRefundNo, Money, PayAction, PayRequest,
    Payee, RefundQuery, RefundRequest, RefundStatus, Scene, Sensitive, TransferRequest,
    TransferStatus,
};
use serde_json::json;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::common::*;

async fn server() -> MockServer {
    MockServer::start().await
}

fn on(m: &str) -> wiremock::MockBuilder {
    Mock::given(method("POST"))
        .and(path("/gateway.do"))
        .and(query_param("method", m))
}

fn order() -> MerchantOrderNo {
    MerchantOrderNo::new("A20240520001").unwrap()
}

fn query_req() -> QueryRequest {
    QueryRequest::new(TradeRef::MerchantOrderNo(order()))
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

fn trade_node(status: &str) -> serde_json::Value {
    json!({"trade_no":"2024052022001","out_trade_no":"A20240520001","trade_status":status,
           "total_amount":"12.30","buyer_pay_amount":"12.30","buyer_user_id":"2088102",
           "send_pay_date":"2024-05-20 10:01:02"})
}

#[tokio::test]
async fn query_success_request_layout_and_signature() {
    let s = server().await;
    on("alipay.trade.query")
        .respond_with(ok("alipay.trade.query", trade_node("TRADE_SUCCESS")))
        .expect(1)
        .mount(&s)
        .await;
    let (c, _) = pk_client(&s).await;
    let t = c.query(&query_req()).await.unwrap();
    assert_eq!(t.status, TradeStatus::Success);
    assert_eq!(t.amount, Money::cny(1230));
    assert_eq!(t.channel_trade_no.unwrap().as_str(), "2024052022001");

    // The request: protocol params in the query, biz_content in the body, signed over both.
    let req = &s.received_requests().await.unwrap()[0];
    let q = url_pairs(req.url.query().unwrap());
    let body = form(req);
    let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    assert_eq!(get("timestamp").as_deref(), Some("2024-05-20 10:00:00"));
    assert_eq!(get("sign_type").as_deref(), Some("RSA2"));
    assert_eq!(get("charset").as_deref(), Some("utf-8"));
    assert_eq!(body[0].0, "biz_content");
    assert_eq!(body[0].1, r#"{"out_trade_no":"A20240520001"}"#);
    let mut all = q.clone();
    all.extend(body);
    payagg_core::crypto::RsaPublicKey::from_pem(&keys().0.public_pem)
        .map(|k| {
            sign::verify_request_params(&k, &all).unwrap();
        })
        .unwrap();
}

#[tokio::test]
async fn business_error_is_mapped() {
    let s = server().await;
    let node = json!({"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_NOT_EXIST","sub_msg":"交易不存在"});
    on("alipay.trade.query")
        .respond_with(ResponseTemplate::new(200).set_body_string(signed_body(
            "alipay.trade.query",
            &node,
            &keys().1.key,
            None,
        )))
        .mount(&s)
        .await;
    let (c, _) = pk_client(&s).await;
    let e = c.query(&query_req()).await.unwrap_err();
    assert_eq!(e.gateway_kind(), Some(GatewayErrorKind::NotFound));
    assert_eq!(e.gateway_code(), Some("40004"));
    assert!(!e.outcome_unknown());
}

#[tokio::test]
async fn system_error_is_retryable_unknown() {
    let s = server().await;
    let node = json!({"code":"20000","msg":"Service Currently Unavailable","sub_code":"isp.unknow-error","sub_msg":"系统繁忙"});
    on("alipay.trade.refund")
        .respond_with(ResponseTemplate::new(200).set_body_string(signed_body(
            "alipay.trade.refund",
            &node,
            &keys().1.key,
            None,
        )))
        .mount(&s)
        .await;
    let (c, _) = pk_client(&s).await;
    let req = RefundRequest::new(
        order(),
        MerchantRefundNo::new("R1").unwrap(),
        Money::cny(100),
        Money::cny(1230),
    )
    .unwrap();
    let e = c.refund(&req).await.unwrap_err();
    assert!(e.is_retryable());
    assert!(e.outcome_unknown());
}

#[tokio::test]
async fn unsigned_error_response_is_unverified_error() {
    let s = server().await;
    on("alipay.trade.query")
        .respond_with(ResponseTemplate::new(200).set_body_string(
            r#"{"error_response":{"code":"40002","msg":"Invalid Arguments","sub_code":"isv.invalid-signature","sub_msg":"验签出错"}}"#,
        ))
        .mount(&s)
        .await;
    let (c, _) = pk_client(&s).await;
    let e = c.query(&query_req()).await.unwrap_err();
    let Error::Gateway(g) = &e else {
        panic!("{e:?}")
    };
    // Nothing proves Alipay said it: no definite kind, the raw codes are kept.
    assert_eq!(g.kind(), GatewayErrorKind::Unknown);
    assert_eq!(g.sub_code(), Some("isv.invalid-signature"));
    assert!(g.message().contains("unverified"));
}

#[tokio::test]
async fn unsigned_success_and_tampered_bodies_fail_verification() {
    let s = server().await;
    let good = signed_body(
        "alipay.trade.query",
        &{
            let mut n = trade_node("TRADE_SUCCESS");
            n["code"] = "10000".into();
            n["msg"] = "Success".into();
            n
        },
        &keys().1.key,
        None,
    );
    let tampered = good.replace("12.30", "12.31");
    let unsigned = good[..good.find(",\"sign\"").unwrap()].to_owned() + "}";
    let wrong_key = signed_body(
        "alipay.trade.query",
        &json!({"code":"10000","msg":"Success"}),
        &keys().2.key,
        None,
    );
    on("alipay.trade.query")
        .respond_with(Seq::new(vec![
            ResponseTemplate::new(200).set_body_string(tampered),
            ResponseTemplate::new(200).set_body_string(unsigned),
            ResponseTemplate::new(200).set_body_string(wrong_key),
            ResponseTemplate::new(200).set_body_string("<html>busy</html>"),
        ]))
        .mount(&s)
        .await;
    let (c, _) = pk_client(&s).await;
    for want in [
        VerificationKind::BadSignature,
        VerificationKind::MissingSignature,
        VerificationKind::BadSignature,
    ] {
        match c.query(&query_req()).await.unwrap_err() {
            Error::Verification(v) => assert_eq!(v.kind(), &want),
            e => panic!("{e:?}"),
        }
    }
    let e = c.query(&query_req()).await.unwrap_err();
    assert!(matches!(e, Error::Decode(_)), "{e:?}");
    assert!(e.outcome_unknown());
}

#[tokio::test]
async fn timeout_and_5xx_are_outcome_unknown() {
    let s = server().await;
    on("alipay.trade.refund")
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
        .mount(&s)
        .await;
    on("alipay.trade.close")
        .respond_with(ResponseTemplate::new(502))
        .mount(&s)
        .await;
    let (c, _) = pk_client(&s).await;
    let req = RefundRequest::new(
        order(),
        MerchantRefundNo::new("R1").unwrap(),
        Money::cny(100),
        Money::cny(1230),
    )
    .unwrap();
    let e = c.refund(&req).await.unwrap_err();
    assert!(e.outcome_unknown(), "{e:?}");
    let e = c.close(&CloseRequest::new(order())).await.unwrap_err();
    assert!(e.outcome_unknown(), "{e:?}");
}

#[tokio::test]
async fn precreate_close_cancel_refund_refund_query() {
    let s = server().await;
    on("alipay.trade.precreate")
        .respond_with(ok(
            "alipay.trade.precreate",
            json!({"out_trade_no":"A20240520001","qr_code":"https://qr.alipay.com/bax0001"}),
        ))
        .mount(&s)
        .await;
    on("alipay.trade.close")
        .respond_with(ok(
            "alipay.trade.close",
            json!({"out_trade_no":"A20240520001"}),
        ))
        .mount(&s)
        .await;
    on("alipay.trade.cancel")
        .respond_with(ok(
            "alipay.trade.cancel",
            json!({"out_trade_no":"A20240520001","retry_flag":"N","action":"close"}),
        ))
        .mount(&s)
        .await;
    on("alipay.trade.refund")
        .respond_with(ok("alipay.trade.refund", json!({"out_trade_no":"A20240520001","trade_no":"2024052022001","fund_change":"Y","refund_fee":"1.00","gmt_refund_pay":"2024-05-20 10:05:00"})))
        .mount(&s)
        .await;
    on("alipay.trade.fastpay.refund.query")
        .respond_with(ok("alipay.trade.fastpay.refund.query", json!({"out_trade_no":"A20240520001","out_request_no":"R1","refund_amount":"1.00","total_amount":"12.30","refund_status":"REFUND_SUCCESS"})))
        .mount(&s)
        .await;
    let (c, _) = pk_client(&s).await;
    let req = PayRequest::new(order(), Money::cny(1230), "Tea", Scene::MerchantQr).unwrap();
    let PayAction::ShowQrCode { code_url } = c.pay(&req).await.unwrap().action else {
        panic!()
    };
    assert_eq!(code_url, "https://qr.alipay.com/bax0001");
    c.close(&CloseRequest::new(order())).await.unwrap();
    let cancel = c.cancel(&order()).await.unwrap();
    assert!(!cancel.retry);
    assert_eq!(cancel.action.as_deref(), Some("close"));
    let r = c
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
        .unwrap();
    assert_eq!(r.status, RefundStatus::Success);
    assert_eq!(r.raw_status, "fund_change=Y");
    let refund_req = s
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.url.query().unwrap().contains("trade.refund"))
        .unwrap();
    let biz: serde_json::Value = serde_json::from_str(&form(&refund_req)[0].1).unwrap();
    assert_eq!(biz["out_request_no"], "R1");
    assert_eq!(biz["refund_amount"], "1.00");
    let q = c
        .query_refund(&RefundQuery::new(MerchantRefundNo::new("R1").unwrap()).trade(order()))
        .await
        .unwrap();
    assert_eq!(q.status, RefundStatus::Success);
    assert_eq!(q.amount, Money::cny(100));
}

#[tokio::test]
async fn transfer_and_query() {
    let s = server().await;
    on("alipay.fund.trans.uni.transfer")
        .respond_with(ok("alipay.fund.trans.uni.transfer", json!({"out_biz_no":"T1","order_id":"20210523110070000006860066337636","status":"SUCCESS","trans_date":"2021-05-23 12:00:57"})))
        .mount(&s)
        .await;
    on("alipay.fund.trans.common.query")
        .respond_with(ok("alipay.fund.trans.common.query", json!({"out_biz_no":"T1","order_id":"2021","status":"FAIL","trans_amount":"1.00","fail_reason":"PAYEE_NOT_EXIST"})))
        .mount(&s)
        .await;
    let (c, _) = pk_client(&s).await;
    let req = TransferRequest::new(
        MerchantTransferNo::new("T1").unwrap(),
        Payee::AlipayUserId(Sensitive::new("2088123".to_owned())),
        Money::cny(100),
        "commission",
    )
    .unwrap();
    let t = c.transfer(&req).await.unwrap();
    assert_eq!(t.status, TransferStatus::Success);
    let q = c
        .query_transfer(&MerchantTransferNo::new("T1").unwrap())
        .await
        .unwrap();
    assert_eq!(q.status, TransferStatus::Failed);
    assert_eq!(q.fail_reason.as_deref(), Some("PAYEE_NOT_EXIST"));
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

fn paying() -> ResponseTemplate {
    let node =
        json!({"code":"10003","msg":" order success pay inprocess","out_trade_no":"A20240520001"});
    ResponseTemplate::new(200).set_body_string(signed_body(
        "alipay.trade.pay",
        &node,
        &keys().1.key,
        None,
    ))
}

#[tokio::test]
async fn bar_code_paid_immediately() {
    let s = server().await;
    on("alipay.trade.pay")
        .respond_with(ok("alipay.trade.pay", json!({"trade_no":"2024","out_trade_no":"A20240520001","total_amount":"12.30","gmt_payment":"2024-05-20 10:00:01"})))
        .mount(&s)
        .await;
    let (c, sleeper) = pk_client(&s).await;
    let PayAction::Completed(t) = c.pay(&code_req()).await.unwrap().action else {
        panic!()
    };
    assert_eq!(t.status, TradeStatus::Success);
    assert!(sleeper.0.lock().unwrap().is_empty());
    let biz: serde_json::Value =
        serde_json::from_str(&form(&s.received_requests().await.unwrap()[0])[0].1).unwrap();
    assert_eq!(biz["scene"], "bar_code");
}

#[tokio::test]
async fn bar_code_polls_to_success() {
    let s = server().await;
    on("alipay.trade.pay")
        .respond_with(paying())
        .mount(&s)
        .await;
    on("alipay.trade.query")
        .respond_with(Seq::new(vec![
            ok("alipay.trade.query", trade_node("WAIT_BUYER_PAY")),
            ok("alipay.trade.query", trade_node("TRADE_SUCCESS")),
        ]))
        .mount(&s)
        .await;
    on("alipay.trade.cancel")
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&s)
        .await;
    let (c, sleeper) = pk_client(&s).await;
    let PayAction::Completed(t) = c.pay(&code_req()).await.unwrap().action else {
        panic!()
    };
    assert_eq!(t.status, TradeStatus::Success);
    assert_eq!(*sleeper.0.lock().unwrap(), vec![Duration::from_secs(3); 2]);
}

#[tokio::test]
async fn bar_code_polls_then_cancels() {
    let s = server().await;
    on("alipay.trade.pay")
        .respond_with(paying())
        .mount(&s)
        .await;
    on("alipay.trade.query")
        .respond_with(ok("alipay.trade.query", trade_node("WAIT_BUYER_PAY")))
        .expect(3)
        .mount(&s)
        .await;
    on("alipay.trade.cancel")
        .respond_with(Seq::new(vec![
            ok(
                "alipay.trade.cancel",
                json!({"out_trade_no":"A20240520001","retry_flag":"Y"}),
            ),
            ok(
                "alipay.trade.cancel",
                json!({"out_trade_no":"A20240520001","retry_flag":"N","action":"close"}),
            ),
        ]))
        .expect(2)
        .mount(&s)
        .await;
    let (c, sleeper) = pk_client(&s).await;
    let PayAction::Pending(t) = c.pay(&code_req()).await.unwrap().action else {
        panic!()
    };
    assert_eq!(t.status, TradeStatus::Revoked);
    // 3 polls of 3 s (9 s budget), then cancel at once, one retry 2 s later.
    assert_eq!(
        *sleeper.0.lock().unwrap(),
        vec![
            Duration::from_secs(3),
            Duration::from_secs(3),
            Duration::from_secs(3),
            Duration::from_secs(2)
        ]
    );
}

#[tokio::test]
async fn bar_code_declined_is_definite_error() {
    let s = server().await;
    let node = json!({"code":"40004","msg":"Business Failed","sub_code":"ACQ.PAYMENT_AUTH_CODE_INVALID","sub_msg":"支付失败"});
    on("alipay.trade.pay")
        .respond_with(ResponseTemplate::new(200).set_body_string(signed_body(
            "alipay.trade.pay",
            &node,
            &keys().1.key,
            None,
        )))
        .mount(&s)
        .await;
    let (c, _) = pk_client(&s).await;
    let e = c.pay(&code_req()).await.unwrap_err();
    assert_eq!(e.gateway_kind(), Some(GatewayErrorKind::InvalidParam));
}

#[tokio::test]
async fn page_wap_app_need_no_call() {
    let s = server().await;
    let (c, _) = pk_client(&s).await;
    let app_pub = payagg_core::crypto::RsaPublicKey::from_pem(&keys().0.public_pem).unwrap();
    let req = PayRequest::new(order(), Money::cny(1230), "T恤 / tea", Scene::PcWeb)
        .unwrap()
        .return_url("https://shop.example/return");
    let PayAction::SubmitForm(f) = c.pay(&req).await.unwrap().action else {
        panic!()
    };
    assert_eq!(f.method, "POST");
    let mut all = url_pairs(f.action.split_once('?').unwrap().1);
    all.extend(f.fields.clone());
    sign::verify_request_params(&app_pub, &all).unwrap();
    assert!(
        all.iter()
            .any(|(k, v)| k == "method" && v == "alipay.trade.page.pay")
    );
    assert!(
        all.iter()
            .any(|(k, v)| k == "return_url" && v == "https://shop.example/return")
    );

    let PayAction::Redirect { url } = payagg_alipay::AlipayClient::pay_redirect(&c, &req)
        .unwrap()
        .action
    else {
        panic!()
    };
    sign::verify_request_params(&app_pub, &url_pairs(url.split_once('?').unwrap().1)).unwrap();

    let wap = PayRequest::new(
        order(),
        Money::cny(1230),
        "tea",
        Scene::H5 {
            payer_client_ip: None,
        },
    )
    .unwrap();
    let PayAction::SubmitForm(f) = c.pay(&wap).await.unwrap().action else {
        panic!()
    };
    assert!(f.fields[0].1.contains("QUICK_WAP_WAY"));

    let app = PayRequest::new(order(), Money::cny(1230), "tea", Scene::App).unwrap();
    let PayAction::AppOrderString(o) = c.pay(&app).await.unwrap().action else {
        panic!()
    };
    assert!(!o.contains('+'));
    sign::verify_request_params(&app_pub, &url_pairs(&o)).unwrap();
    assert!(s.received_requests().await.unwrap().is_empty());
}

// ----- certificate mode -----

async fn cert_client(s: &MockServer) -> payagg_alipay::AlipayClient {
    let c = certs();
    client(
        base(&s.uri())
            .certificates(c.app_pem.clone(), c.alipay_pem.clone(), c.root_pem.clone())
            .build()
            .unwrap(),
    )
    .0
}

#[tokio::test]
async fn cert_mode_selects_key_by_sn_and_downloads_rotated_cert() {
    let s = server().await;
    let c = certs();
    let sn1 = sign::cert_sn_from_pem(&c.alipay_pem).unwrap();
    let sn2 = sign::cert_sn_from_pem(&c.rotated_pem).unwrap();
    let mut node = trade_node("TRADE_SUCCESS");
    node["code"] = "10000".into();
    node["msg"] = "Success".into();
    on("alipay.trade.query")
        .respond_with(Seq::new(vec![
            ResponseTemplate::new(200).set_body_string(signed_body(
                "alipay.trade.query",
                &node,
                &keys().1.key,
                Some(&sn1),
            )),
            // Signed by the old key but naming the new SN: must fail.
            ResponseTemplate::new(200).set_body_string(signed_body(
                "alipay.trade.query",
                &node,
                &keys().1.key,
                Some(&sn2),
            )),
            ResponseTemplate::new(200).set_body_string(signed_body(
                "alipay.trade.query",
                &node,
                &keys().2.key,
                Some(&sn2),
            )),
            // Success without alipay_cert_sn in cert mode: refused.
            ResponseTemplate::new(200).set_body_string(signed_body(
                "alipay.trade.query",
                &node,
                &keys().1.key,
                None,
            )),
        ]))
        .mount(&s)
        .await;
    let b64 = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        c.rotated_pem.as_bytes(),
    );
    on("alipay.open.app.alipaycert.download")
        .respond_with(ResponseTemplate::new(200).set_body_string(signed_body(
            "alipay.open.app.alipaycert.download",
            &json!({"code":"10000","msg":"Success","alipay_cert_content":b64}),
            &keys().1.key,
            Some(&sn1),
        )))
        .expect(1)
        .mount(&s)
        .await;
    let client = cert_client(&s).await;
    assert_eq!(client.config().alipay_cert_sn(), Some(sn1.as_str()));
    client.query(&query_req()).await.unwrap();
    let e = client.query(&query_req()).await.unwrap_err();
    assert!(matches!(e, Error::Verification(_)), "{e:?}");
    client.query(&query_req()).await.unwrap();
    assert_eq!(client.alipay_cert_sns().len(), 2);
    let e = client.query(&query_req()).await.unwrap_err();
    assert!(matches!(e, Error::Verification(_)), "{e:?}");

    // Requests carry the app and root SNs.
    let req = &s.received_requests().await.unwrap()[0];
    let q = url_pairs(req.url.query().unwrap());
    let app_sn = sign::cert_sn_from_pem(&c.app_pem).unwrap();
    let root_sn = sign::root_cert_sn_from_pem(&c.root_pem).unwrap();
    assert!(q.contains(&("app_cert_sn".to_owned(), app_sn)));
    assert!(q.contains(&("alipay_root_cert_sn".to_owned(), root_sn)));
}

#[tokio::test]
async fn cert_mode_rejects_untrusted_certificate() {
    let s = server().await;
    let client = cert_client(&s).await;
    // Self-signed by an unknown key: does not chain.
    let kp = rcgen::KeyPair::from_pkcs8_pem_and_sign_algo(&keys().2.pem, &rcgen::PKCS_RSA_SHA256)
        .unwrap();
    let rogue = rcgen::CertificateParams::new(Vec::<String>::new())
        .unwrap()
        .self_signed(&kp)
        .unwrap()
        .pem();
    assert!(client.add_alipay_certificate(&rogue).is_err());
    assert!(client.add_alipay_certificate(&certs().rotated_pem).is_ok());
}

#[tokio::test]
async fn aes_content_encryption_round_trip() {
    let s = server().await;
    let key = payagg_alipay::aes::AesKey::from_base64("aa4BtZ4tspm2wnXLb1ThQA==").unwrap();
    let mut node = trade_node("TRADE_SUCCESS");
    node["code"] = "10000".into();
    node["msg"] = "Success".into();
    let ct = format!("\"{}\"", key.encrypt_b64(node.to_string().as_bytes()));
    let sig = sign::sign(&keys().1.key, SignType::Rsa2, ct.as_bytes());
    on("alipay.trade.query")
        .respond_with(
            ResponseTemplate::new(200).set_body_string(sign::response_body(
                "alipay.trade.query",
                &ct,
                None,
                Some(&sig),
            )),
        )
        .mount(&s)
        .await;
    let (c, _) = client(
        base(&s.uri())
            .alipay_public_key(keys().1.public_pem.clone())
            .aes_key("aa4BtZ4tspm2wnXLb1ThQA==")
            .build()
            .unwrap(),
    );
    let t = c.query(&query_req()).await.unwrap();
    assert_eq!(t.status, TradeStatus::Success);
    let req = &s.received_requests().await.unwrap()[0];
    assert!(req.url.query().unwrap().contains("encrypt_type=AES"));
    let biz = &form(req)[0].1;
    assert_eq!(
        key.decrypt_b64(biz).unwrap(),
        br#"{"out_trade_no":"A20240520001"}"#
    );
}

#[tokio::test]
async fn config_debug_redacts_and_validates() {
    let cfg = base("https://openapi.alipay.com")
        .alipay_public_key(keys().1.public_pem.clone())
        .app_auth_token("202212BB_secret_token")
        .aes_key("aa4BtZ4tspm2wnXLb1ThQA==")
        .build()
        .unwrap();
    let d = format!("{cfg:?}");
    assert!(!d.contains("secret_token"));
    assert!(!d.contains("aa4BtZ4"));
    assert!(!d.contains("PRIVATE"));
    assert!(d.contains(APP_ID));
    assert!(
        base("http://example.com")
            .alipay_public_key(keys().1.public_pem.clone())
            .build()
            .is_err()
    );
    assert!(base("https://x").build().is_err());
    let c = certs();
    assert!(
        base("https://x")
            .alipay_public_key(keys().1.public_pem.clone())
            .certificates(c.app_pem.clone(), c.alipay_pem.clone(), c.root_pem.clone())
            .build()
            .is_err()
    );
    assert!(
        base("https://x")
            .app_private_key("not a key")
            .alipay_public_key(keys().1.public_pem.clone())
            .build()
            .is_err()
    );
}

#[tokio::test]
async fn cert_download_signed_by_unknown_sn_fails_closed() {
    let s = server().await;
    let c = certs();
    let sn2 = sign::cert_sn_from_pem(&c.rotated_pem).unwrap();
    let mut node = trade_node("TRADE_SUCCESS");
    node["code"] = "10000".into();
    node["msg"] = "Success".into();
    on("alipay.trade.query")
        .respond_with(ResponseTemplate::new(200).set_body_string(signed_body(
            "alipay.trade.query",
            &node,
            &keys().2.key,
            Some(&sn2),
        )))
        .mount(&s)
        .await;
    let b64 = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        c.rotated_pem.as_bytes(),
    );
    // The download answer itself names the unknown SN and is signed by the new key.
    on("alipay.open.app.alipaycert.download")
        .respond_with(ResponseTemplate::new(200).set_body_string(signed_body(
            "alipay.open.app.alipaycert.download",
            &json!({"code":"10000","msg":"Success","alipay_cert_content":b64}),
            &keys().2.key,
            Some(&sn2),
        )))
        .mount(&s)
        .await;
    let client = cert_client(&s).await;
    let e = tokio::time::timeout(Duration::from_secs(10), client.query(&query_req()))
        .await
        .expect("no deadlock")
        .unwrap_err();
    assert!(matches!(e, Error::Verification(_)), "{e:?}");
    assert_eq!(client.alipay_cert_sns().len(), 1);
}
