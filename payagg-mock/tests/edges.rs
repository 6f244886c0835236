//! WeChat edge features against the real `WechatPayClient`: `WECHATPAY/SIGNTEST/` probes on
//! responses and notifications, platform certificate rotation mid-run, refunds that end
//! ABNORMAL or CLOSED.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use payagg_core::clock::Clock;
use payagg_core::crypto::SecretKey32;
use payagg_core::{
    CallbackEvent, CallbackRequest, Channel, Error, Gateway, MerchantOrderNo, MerchantRefundNo,
    Money, PayRequest, QueryRequest, RefundQuery, RefundRequest, Scene, TradeStatus,
};
use payagg_mock::{FaultKind, FaultRule, FaultScope, MockConfig, MockServer, RefundStatus};
use payagg_wechat::{Config, WechatPayClient};

fn client(server: &MockServer, notify_url: &str) -> WechatPayClient {
    let wx = server.wechat();
    let cfg = Config::builder()
        .mchid(wx.mchid())
        .appid(wx.appid())
        .private_key_pem(secrecy::ExposeSecret::expose_secret(wx.merchant_key_pem()).to_owned())
        .merchant_certificate_pem(wx.merchant_cert_pem())
        .apiv3_key(SecretKey32::from_secret(wx.apiv3_key()).unwrap())
        .base_url(server.base_url())
        .notify_url(notify_url)
        .platform_certificates(true)
        .build()
        .unwrap();
    let clock: Arc<dyn Clock> = server.clock();
    WechatPayClient::new(cfg).unwrap().with_clock(clock)
}

async fn server() -> MockServer {
    MockServer::start(MockConfig::generate().unwrap().with_time_scale(1000))
        .await
        .unwrap()
}

/// A notification endpoint that verifies with the real client: 204 when it verifies, 401
/// otherwise (as WeChat asks for probes).
async fn verifying_receiver(server: &MockServer) -> Arc<WechatPayClient> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/notify", listener.local_addr().unwrap());
    let client = Arc::new(client(server, &url));
    let c = client.clone();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let c = c.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(
                    move |req: hyper::Request<hyper::body::Incoming>| {
                        let c = c.clone();
                        async move {
                            let (parts, body) = req.into_parts();
                            let body = body.collect().await.unwrap().to_bytes();
                            let ok = c
                                .verify_callback(&CallbackRequest::post(parts.headers, body))
                                .await
                                .is_ok();
                            hyper::Response::builder()
                                .status(if ok { 204 } else { 401 })
                                .body(Full::new(Bytes::from(if ok {
                                    ""
                                } else {
                                    r#"{"code":"FAIL","message":"验签失败"}"#
                                })))
                        }
                    },
                );
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    client
}

async fn create_and_pay(server: &MockServer, client: &WechatPayClient, no: &str, fen: u64) {
    let no = MerchantOrderNo::new(no).unwrap();
    client
        .pay(&PayRequest::new(no.clone(), Money::cny(fen), "Tea", Scene::MerchantQr).unwrap())
        .await
        .unwrap();
    server.pay(Channel::Wechat, no.as_str(), None).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signtest_probes_on_responses_and_notifications() {
    let server = server().await;
    let client = verifying_receiver(&server).await;
    server.probe_wechat_notifications(1);
    create_and_pay(&server, &client, "PROBE0001", 100).await;

    // The probe is rejected (401), the retry with a real signature acknowledged.
    assert!(
        server
            .notifier()
            .wait_until(Duration::from_secs(10), |d| d
                .iter()
                .any(|d| d.acknowledged))
            .await
    );
    let d = server.notifications();
    assert!(
        d[0].header("Wechatpay-Signature")
            .unwrap()
            .starts_with("WECHATPAY/SIGNTEST/")
    );
    assert_eq!(d[0].status, Some(401));
    assert!(
        !d[1]
            .header("Wechatpay-Signature")
            .unwrap()
            .starts_with("WECHATPAY/")
    );
    assert!(d[1].acknowledged);

    // A probed response fails verification; the next one is fine.
    server
        .faults()
        .add(FaultRule::new(FaultKind::SignTest, FaultScope::Next(1)).endpoint("wechat.query"));
    let q = QueryRequest::new(MerchantOrderNo::new("PROBE0001").unwrap());
    let e = client.query(&q).await.unwrap_err();
    assert!(matches!(e, Error::Verification(_)), "{e:?}");
    assert_eq!(client.query(&q).await.unwrap().status, TradeStatus::Success);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn platform_certificate_rotation_mid_run() {
    let server = server().await;
    let client = verifying_receiver(&server).await;
    create_and_pay(&server, &client, "ROT00001", 100).await;
    let q = QueryRequest::new(MerchantOrderNo::new("ROT00001").unwrap());
    client.query(&q).await.unwrap();

    let old = server.wechat_platform_serial();
    // Through the control API: the old certificate stays listed for 10 minutes.
    let r = reqwest::Client::new()
        .post(format!(
            "{}/__mock/wechat/rotate-certificate",
            server.base_url()
        ))
        .body(r#"{"overlap_seconds":600}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let new = server.wechat_platform_serial();
    assert_ne!(old, new);

    // Responses are now signed with the new certificate: the client fetches it.
    assert_eq!(client.query(&q).await.unwrap().status, TradeStatus::Success);
    // Notifications too, and after the old one is gone.
    server.advance(time::Duration::minutes(11));
    create_and_pay(&server, &client, "ROT00002", 100).await;
    assert!(
        server
            .notifier()
            .wait_until(Duration::from_secs(10), |d| d
                .iter()
                .filter(|d| d.acknowledged)
                .count()
                == 2)
            .await
    );
    let last = server.notifications().pop().unwrap();
    assert_eq!(last.header("Wechatpay-Serial"), Some(new.as_str()));
    client.query(&q).await.unwrap();

    // The library call rotates again.
    let third = server
        .rotate_wechat_platform_certificate(time::Duration::minutes(5))
        .unwrap();
    assert_ne!(third, new);
    client.query(&q).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refunds_that_end_abnormal_or_closed() {
    let server = server().await;
    let client = verifying_receiver(&server).await;
    create_and_pay(&server, &client, "RFX00001", 1000).await;
    let refund = |no: &str, fen: u64| {
        RefundRequest::new(
            MerchantOrderNo::new("RFX00001").unwrap(),
            MerchantRefundNo::new(no).unwrap(),
            Money::cny(fen),
            Money::cny(1000),
        )
        .unwrap()
    };

    server.set_wechat_refund_outcome(RefundStatus::Abnormal);
    client.refund(&refund("RFXA", 100)).await.unwrap();
    let r = client
        .query_refund(&RefundQuery::new(MerchantRefundNo::new("RFXA").unwrap()))
        .await
        .unwrap();
    assert_eq!(r.status, payagg_core::RefundStatus::Abnormal);
    assert!(
        server
            .notifier()
            .wait_until(Duration::from_secs(10), |d| d
                .iter()
                .any(|d| d.event_type == "REFUND.ABNORMAL" && d.acknowledged))
            .await
    );
    let d = server
        .notifications()
        .into_iter()
        .find(|d| d.event_type == "REFUND.ABNORMAL")
        .unwrap();
    let mut headers = http::HeaderMap::new();
    for (k, v) in &d.headers {
        headers.insert(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    let v = client
        .verify_callback(&CallbackRequest::post(headers, d.body.clone()))
        .await
        .unwrap();
    assert!(
        matches!(&v.event, CallbackEvent::Refund(r) if r.status == payagg_core::RefundStatus::Abnormal),
        "{:?}",
        v.event
    );

    // Held in PROCESSING, then closed through the control API.
    server.set_wechat_refund_outcome(RefundStatus::Processing);
    client.refund(&refund("RFXC", 200)).await.unwrap();
    let q = RefundQuery::new(MerchantRefundNo::new("RFXC").unwrap());
    assert_eq!(
        client.query_refund(&q).await.unwrap().status,
        payagg_core::RefundStatus::Processing
    );
    let r = reqwest::Client::new()
        .post(format!(
            "{}/__mock/refunds/wechat/RFXC/closed",
            server.base_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        client.query_refund(&q).await.unwrap().status,
        payagg_core::RefundStatus::Closed
    );
    assert!(
        server
            .notifier()
            .wait_until(Duration::from_secs(10), |d| d
                .iter()
                .any(|d| d.event_type == "REFUND.CLOSED" && d.acknowledged))
            .await
    );
    // Neither counted against the order: the full 10.00 can still be refunded.
    server.set_wechat_refund_outcome(RefundStatus::Success);
    client.refund(&refund("RFXS", 1000)).await.unwrap();
}
