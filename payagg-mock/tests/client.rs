//! The real `WechatPayClient`, configured only with the simulator's base URL and keys.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;
use std::time::Duration;

use payagg_core::clock::Clock;
use payagg_core::crypto::SecretKey32;
use payagg_core::{
    CallbackEvent, CallbackRequest, Channel, Gateway, MerchantOrderNo, MerchantRefundNo, Money,
    PayRequest, QueryRequest, RefundRequest, Scene, TradeStatus,
};
use payagg_mock::{MockConfig, MockServer};
use payagg_wechat::{Config, WechatPayClient};

fn client(server: &MockServer, public_key: bool) -> WechatPayClient {
    let wx = server.wechat();
    let mut b = Config::builder()
        .mchid(wx.mchid())
        .appid(wx.appid())
        .private_key_pem(secrecy::ExposeSecret::expose_secret(wx.merchant_key_pem()).to_owned())
        .merchant_certificate_pem(wx.merchant_cert_pem())
        .apiv3_key(SecretKey32::from_secret(wx.apiv3_key()).unwrap())
        .base_url(server.base_url())
        .notify_url("http://127.0.0.1:9/notify");
    b = if public_key {
        b.wechatpay_public_key(wx.pub_key_id(), wx.pub_key_pem())
            .platform_certificates(false)
    } else {
        b.platform_certificates(true)
    };
    let clock: Arc<dyn Clock> = server.clock();
    WechatPayClient::new(b.build().unwrap())
        .unwrap()
        .with_clock(clock)
}

async fn lifecycle(public_key: bool) {
    let mut cfg = MockConfig::generate().unwrap().with_time_scale(1000);
    // A public-key-only merchant: no platform certificates at all.
    cfg.wechat.platform_certificates = !public_key;
    let server = MockServer::start(cfg).await.unwrap();
    let client = client(&server, public_key);
    let no = MerchantOrderNo::new(if public_key {
        "CLIENTPK01"
    } else {
        "CLIENTPC01"
    })
    .unwrap();

    let pay = PayRequest::new(no.clone(), Money::cny(1000), "Tea", Scene::MerchantQr).unwrap();
    client
        .pay(&pay)
        .await
        .expect("prepay through the real client");
    let t = client.query(&QueryRequest::new(no.clone())).await.unwrap();
    assert_eq!(t.status, TradeStatus::NotPaid);

    server
        .pay(Channel::Wechat, no.as_str(), Some("oClient"))
        .unwrap();
    let t = client.query(&QueryRequest::new(no.clone())).await.unwrap();
    assert_eq!(t.status, TradeStatus::Success);

    let refund = RefundRequest::new(
        no.clone(),
        MerchantRefundNo::new("RC1").unwrap(),
        Money::cny(300),
        Money::cny(1000),
    )
    .unwrap();
    client.refund(&refund).await.expect("partial refund");

    // The notification the simulator sent verifies and decrypts with the real client.
    assert!(
        server
            .notifier()
            .wait_until(Duration::from_secs(10), |d| !d.is_empty())
            .await
    );
    let d = server
        .notifications()
        .into_iter()
        .find(|d| d.event_type == "TRANSACTION.SUCCESS")
        .unwrap();
    let mut headers = http::HeaderMap::new();
    for (k, v) in &d.headers {
        headers.insert(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    let verified = client
        .verify_callback(&CallbackRequest::post(headers, d.body.clone()))
        .await
        .unwrap();
    assert!(
        matches!(verified.event, CallbackEvent::Payment(_)),
        "{:?}",
        verified.event
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_client_with_platform_certificates() {
    lifecycle(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_client_with_public_key() {
    lifecycle(true).await;
}
