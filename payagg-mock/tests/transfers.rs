//! Transfer bills driven by the real `WechatPayClient`: create with an encrypted payee name,
//! payee confirmation, NOT_ENOUGH, name mismatch, cancel, and `MCHTRANSFER.BILL.FINISHED`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use payagg_core::clock::Clock;
use payagg_core::crypto::SecretKey32;
use payagg_core::ids::MerchantTransferNo;
use payagg_core::{
    CallbackEvent, CallbackRequest, Error, Gateway, GatewayErrorKind, Money, Payee, Sensitive,
    TransferRequest, TransferStatus,
};
use payagg_mock::{MockConfig, MockServer};
use payagg_wechat::{Config, WechatPayClient};

fn client(server: &MockServer, notify_url: &str, public_key: bool) -> WechatPayClient {
    let wx = server.wechat();
    let mut b = Config::builder()
        .mchid(wx.mchid())
        .appid(wx.appid())
        .private_key_pem(secrecy::ExposeSecret::expose_secret(wx.merchant_key_pem()).to_owned())
        .merchant_certificate_pem(wx.merchant_cert_pem())
        .apiv3_key(SecretKey32::from_secret(wx.apiv3_key()).unwrap())
        .base_url(server.base_url())
        .notify_url("http://127.0.0.1:9/notify")
        .transfer_notify_url(notify_url)
        .transfer_scene_id("1000")
        .transfer_scene_report_info("活动名称", "新会员有礼")
        .transfer_scene_report_info("奖励说明", "注册奖励");
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

/// A transfer notification endpoint verifying with the real client (204, or 401).
async fn receiver(server: &MockServer, public_key: bool) -> Arc<WechatPayClient> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/transfer-notify", listener.local_addr().unwrap());
    let client = Arc::new(client(server, &url, public_key));
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
                                .body(Full::new(Bytes::new()))
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

fn transfer(no: &str, fen: u64, name: Option<&str>) -> TransferRequest {
    let t = TransferRequest::new(
        MerchantTransferNo::new(no).unwrap(),
        Payee::WechatOpenId(Sensitive::new("oPayeeZhang".to_owned())),
        Money::cny(fen),
        "注册奖励",
    )
    .unwrap();
    match name {
        Some(n) => t.payee_name(n),
        None => t,
    }
}

async fn lifecycle(public_key: bool) {
    let server = MockServer::start(MockConfig::generate().unwrap().with_time_scale(1000))
        .await
        .unwrap();
    let client = receiver(&server, public_key).await;
    server.set_wechat_balance(Some(300_000));
    server.set_wechat_payee_name("oPayeeZhang", "张三");

    // Created with the encrypted name, waiting for the payee.
    let t = client
        .transfer(&transfer("TB0001", 1000, Some("张三")))
        .await
        .unwrap();
    assert_eq!(t.status, TransferStatus::WaitingForPayee);
    assert!(t.client_package.is_some());
    assert_eq!(server.transfers()[0].user_name.as_deref(), Some("张三"));

    // The payee confirms: SUCCESS, and the notification verifies with the client.
    server.confirm_transfer("TB0001").unwrap();
    let no = MerchantTransferNo::new("TB0001").unwrap();
    assert_eq!(
        client.query_transfer(&no).await.unwrap().status,
        TransferStatus::Success
    );
    assert!(
        server
            .notifier()
            .wait_until(Duration::from_secs(10), |d| d.iter().any(|d| d.event_type
                == "MCHTRANSFER.BILL.FINISHED"
                && d.acknowledged))
            .await
    );
    let d = server.notifications().pop().unwrap();
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
        matches!(&v.event, CallbackEvent::Transfer(t) if t.status == TransferStatus::Success),
        "{:?}",
        v.event
    );

    // Someone else's name: the bill fails at once.
    let t = client
        .transfer(&transfer("TB0002", 1000, Some("李四")))
        .await
        .unwrap();
    assert_eq!(t.status, TransferStatus::Failed);
    assert_eq!(t.fail_reason.as_deref(), Some("NAME_NOT_CORRECT"));

    // Balance left: 3,000.00 − 10.00 = 2,990.00; 2,995.00 is too much.
    let e = client
        .transfer(&transfer("TB0003", 299_500, Some("张三")))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Gateway(g) if g.kind() == GatewayErrorKind::InsufficientFunds),
        "{e:?}"
    );
    // From 2,000 yuan the name is required.
    let e = client
        .transfer(&transfer("TB0004", 200_000, None))
        .await
        .unwrap_err();
    assert!(format!("{e:?}").contains("PARAM_ERROR"), "{e:?}");

    // Cancel a waiting bill; the payee can no longer confirm it.
    client
        .transfer(&transfer("TB0005", 500, None))
        .await
        .unwrap();
    let c = client
        .cancel_transfer_bill(&MerchantTransferNo::new("TB0005").unwrap())
        .await
        .unwrap();
    assert_eq!(c.status, TransferStatus::Cancelling);
    assert_eq!(
        client
            .query_transfer(&MerchantTransferNo::new("TB0005").unwrap())
            .await
            .unwrap()
            .status,
        TransferStatus::Cancelled
    );
    assert!(server.confirm_transfer("TB0005").is_err());

    // Failed through the control API.
    client
        .transfer(&transfer("TB0006", 500, None))
        .await
        .unwrap();
    let r = reqwest::Client::new()
        .post(format!(
            "{}/__mock/transfers/wechat/TB0006/fail",
            server.base_url()
        ))
        .body(r#"{"reason":"PAYEE_ACCOUNT_ABNORMAL"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let t = client
        .query_transfer(&MerchantTransferNo::new("TB0006").unwrap())
        .await
        .unwrap();
    assert_eq!(t.status, TransferStatus::Failed);
    assert!(
        server
            .notifier()
            .wait_until(Duration::from_secs(10), |d| d
                .iter()
                .filter(|d| d.event_type == "MCHTRANSFER.BILL.FINISHED" && d.acknowledged)
                .count()
                == 4)
            .await,
        "SUCCESS, FAIL (name), CANCELLED, FAIL: one acknowledged notification each"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfer_bills_with_platform_certificates() {
    lifecycle(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfer_bills_with_the_public_key() {
    lifecycle(true).await;
}
