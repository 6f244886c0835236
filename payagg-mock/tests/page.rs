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
    // The Pay form carries a wallet select (WeChat: no 花呗).
    let pay_form = html.split(&format!("action=\"{action}\"")).nth(1).unwrap();
    let pay_form = &pay_form[..pay_form.find("</form>").unwrap()];
    assert!(pay_form.contains("<select name=\"wallet\""), "{pay_form}");
    for code in ["BALANCE", "CMB_DEBIT", "ICBC_CREDIT"] {
        assert!(
            pay_form.contains(&format!("<option value=\"{code}\">")),
            "{code}"
        );
    }
    assert!(!pay_form.contains("PCREDIT"));

    // A browser's form post (the chosen wallet, or an empty body), 303 back to the page.
    for (no, what, body) in [
        ("PAGE-A1", "pay", "wallet=ICBC_CREDIT"),
        ("PAGE-B2", "fail", ""),
        ("PAGE-C3", "expire", ""),
    ] {
        let r = http
            .post(format!(
                "{}/__mock/orders/wechat/{no}/{what}?return=/",
                server.base_url()
            ))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 303, "{no} {what}");
        assert_eq!(r.headers()["location"], "/");
    }
    let order = |no| server.order(Channel::Wechat, no).unwrap().status;
    assert_eq!(order("PAGE-A1"), OrderStatus::Success);
    assert_eq!(
        server.order(Channel::Wechat, "PAGE-A1").unwrap().wallet,
        payagg_mock::Wallet::credit("ICBC")
    );
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

fn wechat_client(server: &MockServer) -> WechatPayClient {
    let wx = server.wechat();
    let cfg = Config::builder()
        .mchid(wx.mchid())
        .appid(wx.appid())
        .private_key_pem(secrecy::ExposeSecret::expose_secret(wx.merchant_key_pem()).to_owned())
        .merchant_certificate_pem(wx.merchant_cert_pem())
        .apiv3_key(SecretKey32::from_secret(wx.apiv3_key()).unwrap())
        .base_url(server.base_url())
        .notify_url("http://127.0.0.1:9/notify")
        .platform_certificates(true)
        .build()
        .unwrap();
    let clock: Arc<dyn Clock> = server.clock();
    WechatPayClient::new(cfg).unwrap().with_clock(clock)
}

/// WeChat Native `code_url`s scanned by the library call, the control API and the page's form.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scan_pays_native_code_urls_by_library_control_api_and_page() {
    let server = MockServer::start(MockConfig::generate().unwrap().with_time_scale(1000))
        .await
        .unwrap();
    let client = wechat_client(&server);
    let mut codes = Vec::new();
    for no in ["SCAN-W1", "SCAN-W2", "SCAN-W3"] {
        let req = PayRequest::new(
            MerchantOrderNo::new(no).unwrap(),
            Money::cny(990),
            "Tea",
            Scene::MerchantQr,
        )
        .unwrap();
        client.pay(&req).await.unwrap();
        let order = server.order(Channel::Wechat, no).unwrap();
        let code = order.prepay["code_url"].as_str().unwrap().to_owned();
        assert!(code.starts_with("weixin://wxpay/bizpayurl?pr="), "{code}");
        codes.push(code);
    }

    // Library call.
    let paid = server.scan(&codes[0], Some("oScanLibrary")).unwrap();
    assert_eq!(paid.out_trade_no, "SCAN-W1");
    assert_eq!(paid.status, OrderStatus::Success);
    assert_eq!(paid.payer.as_deref(), Some("oScanLibrary"));

    // Control API (JSON).
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let scan_url = format!("{}/__mock/scan", server.base_url());
    let r = http
        .post(&scan_url)
        .header("Content-Type", "application/json")
        .body(serde_json::json!({"code_url": codes[1], "payer": "oScanControl"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let body: serde_json::Value = serde_json::from_str(&r.text().await.unwrap()).unwrap();
    assert_eq!(body["out_trade_no"], "SCAN-W2");
    let w2 = server.order(Channel::Wechat, "SCAN-W2").unwrap();
    assert_eq!(w2.status, OrderStatus::Success);
    assert_eq!(w2.payer.as_deref(), Some("oScanControl"));

    // The page: a Scan button on the open Native order and a free scan form.
    let html = http
        .get(format!("{}/", server.base_url()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(&format!(
            "<input type=\"hidden\" name=\"code_url\" value=\"{}\">",
            codes[2]
        )),
        "{html}"
    );
    assert!(html.contains("action=\"/__mock/scan?return=/\""));
    assert!(html.contains("name=\"payer\""));
    // A browser's form post, 303 back to the page.
    let form = format!(
        "code_url={}&payer=oScanPage",
        codes[2]
            .replace(':', "%3A")
            .replace('/', "%2F")
            .replace('?', "%3F")
            .replace('=', "%3D")
    );
    let r = http
        .post(format!("{scan_url}?return=/"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(r.headers()["location"], "/");
    let w3 = server.order(Channel::Wechat, "SCAN-W3").unwrap();
    assert_eq!(w3.status, OrderStatus::Success);
    assert_eq!(w3.payer.as_deref(), Some("oScanPage"));
    assert!(
        server
            .notifications()
            .iter()
            .any(|d| d.event_type == "TRANSACTION.SUCCESS"),
        "payment notifications are sent"
    );

    // Scanned again: 409, shown rather than redirected. Unknown code: 404.
    let r = http
        .post(format!("{scan_url}?return=/"))
        .header("Content-Type", "application/json")
        .body(serde_json::json!({"code_url": codes[0]}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 409);
    let r = http
        .post(&scan_url)
        .header("Content-Type", "application/json")
        .body(r#"{"code_url":"weixin://wxpay/bizpayurl?pr=NOSUCH1"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let err = server
        .scan("weixin://wxpay/bizpayurl?pr=NOSUCH1", None)
        .unwrap_err();
    assert_eq!(err.kind(), payagg_mock::MockErrorKind::NotFound);
}
