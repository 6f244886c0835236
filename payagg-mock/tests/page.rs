//! The payer's web page: list open orders, pay / fail / expire them with form posts.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;

use payagg_core::clock::Clock;
use payagg_core::crypto::SecretKey32;
use payagg_core::{Channel, Gateway, MerchantOrderNo, Money, PayRequest, Scene};
use payagg_mock::{MockConfig, MockServer, OrderStatus};
use payagg_wechat::{Config, WechatPayClient};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payer_page_lists_and_acts() {
    let server = MockServer::start(MockConfig::generate().unwrap().with_time_scale(1000))
        .await
        .unwrap();
    let wx = server.wechat();
    let cfg = Config::builder()
        .mchid(wx.mchid())
        .appid(wx.appid())
        .private_key_pem(secrecy::ExposeSecret::expose_secret(wx.merchant_key_pem()).to_owned())
        .merchant_certificate_pem(wx.merchant_cert_pem())
        .apiv3_key(SecretKey32::from_secret(wx.apiv3_key()).unwrap())
        .base_url(server.base_url())
        .notify_url("http://127.0.0.1:9/notify")
        .transfer_scene_report_info("活动名称", "开业")
        .transfer_scene_report_info("奖励说明", "红包")
        .platform_certificates(true)
        .build()
        .unwrap();
    let clock: Arc<dyn Clock> = server.clock();
    let client = WechatPayClient::new(cfg).unwrap().with_clock(clock);
    for (no, what) in [
        ("PAGE-A1", "Green <tea>"),
        ("PAGE-B2", "Cake"),
        ("PAGE-C3", "Milk"),
    ] {
        let req = PayRequest::new(
            MerchantOrderNo::new(no).unwrap(),
            Money::cny(1200),
            what,
            Scene::MerchantQr,
        )
        .unwrap();
        client.pay(&req).await.unwrap();
    }

    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = http
        .get(format!("{}/", server.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = page.text().await.unwrap();
    for no in ["PAGE-A1", "PAGE-B2", "PAGE-C3"] {
        assert!(html.contains(no), "{no} listed");
    }
    assert!(html.contains("Green &lt;tea&gt;"), "escaped");
    let action = "/__mock/orders/wechat/PAGE-A1/pay?return=/";
    assert!(html.contains(&format!("action=\"{action}\"")), "{html}");

    // A browser's form post: empty urlencoded body, 303 back to the page.
    for (no, what) in [
        ("PAGE-A1", "pay"),
        ("PAGE-B2", "fail"),
        ("PAGE-C3", "expire"),
    ] {
        let r = http
            .post(format!(
                "{}/__mock/orders/wechat/{no}/{what}?return=/",
                server.base_url()
            ))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body("")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 303, "{no} {what}");
        assert_eq!(r.headers()["location"], "/");
    }
    let order = |no| server.order(Channel::Wechat, no).unwrap().status;
    assert_eq!(order("PAGE-A1"), OrderStatus::Success);
    assert_eq!(order("PAGE-B2"), OrderStatus::PayError);
    assert_eq!(order("PAGE-C3"), OrderStatus::Closed);

    let html = http
        .get(format!("{}/", server.base_url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!html.contains("PAGE-A1") && html.contains("No open orders"));

    // A transfer bill waiting for the payee gets Confirm / Fail buttons.
    let t = payagg_core::TransferRequest::new(
        payagg_core::ids::MerchantTransferNo::new("PAGET1").unwrap(),
        payagg_core::Payee::WechatOpenId(payagg_core::Sensitive::new("oPagePayee".to_owned())),
        Money::cny(300),
        "红包",
    )
    .unwrap();
    client.transfer(&t).await.unwrap();
    let html = http
        .get(format!("{}/", server.base_url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("action=\"/__mock/transfers/wechat/PAGET1/confirm?return=/\""));
    let r = http
        .post(format!(
            "{}/__mock/transfers/wechat/PAGET1/confirm?return=/",
            server.base_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(server.transfers()[0].state, "SUCCESS");

    // A refused transition is not redirected: the error shows.
    let r = http
        .post(format!(
            "{}/__mock/orders/wechat/PAGE-A1/pay?return=/",
            server.base_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 409);
}
