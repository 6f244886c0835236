//! Spans and events never carry secrets or personal data: run a WeChat life cycle against
//! the simulator with every span and event captured at TRACE level, then search the capture
//! for the payer's openid, the payment code, and the merchant's keys.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::io::Write;
use std::sync::{Arc, Mutex};

use payagg::clock::Clock;
use payagg::crypto::SecretKey32;
use payagg::mock::{MockConfig, MockServer};
use payagg::wechat::{Config, WechatPayClient};
use payagg::{
    Channel, Gateway, MerchantOrderNo, MerchantRefundNo, Money, PayRequest, QueryRequest,
    RefundRequest, Scene, Sensitive,
};
use secrecy::ExposeSecret;

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

const OPENID: &str = "oSECRETopenid1234567890";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spans_and_events_carry_no_secrets_or_personal_data() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start(MockConfig::generate().unwrap().with_time_scale(1000))
        .await
        .unwrap();
    let wx = server.wechat();
    let key_pem = wx.merchant_key_pem().expose_secret().to_owned();
    let apiv3 = wx.apiv3_key().expose_secret().to_owned();
    let config = Config::builder()
        .mchid(wx.mchid())
        .appid(wx.appid())
        .private_key_pem(key_pem.clone())
        .merchant_certificate_pem(wx.merchant_cert_pem())
        .apiv3_key(SecretKey32::from_secret(wx.apiv3_key()).unwrap())
        .platform_certificates(true)
        .base_url(server.base_url())
        .notify_url("http://127.0.0.1:9/notify")
        .build()
        .unwrap();
    // The config's own Debug must not show the keys either; log it on purpose.
    tracing::info!(config = ?config, "configured");
    let clock: Arc<dyn Clock> = server.clock();
    let client = WechatPayClient::new(config).unwrap().with_clock(clock);

    let no = MerchantOrderNo::new("TRACE0001").unwrap();
    let req = PayRequest::new(
        no.clone(),
        Money::cny(100),
        "Tea",
        Scene::Jsapi {
            payer_id: Sensitive::new(OPENID.to_owned()),
        },
    )
    .unwrap();
    tracing::info!(request = ?req, "paying");
    client.pay(&req).await.unwrap();
    server
        .pay(Channel::Wechat, no.as_str(), Some(OPENID))
        .unwrap();
    let trade = client.query(&QueryRequest::new(no.clone())).await.unwrap();
    tracing::info!(trade = ?trade, "queried");
    let refund = RefundRequest::new(
        no.clone(),
        MerchantRefundNo::new("TRACER1").unwrap(),
        Money::cny(10),
        Money::cny(100),
    )
    .unwrap();
    client.refund(&refund).await.unwrap();

    let log = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    // The capture is real: the operations left spans with their channel and order number.
    assert!(
        log.contains("TRACE0001"),
        "no span carried the order number:\n{log}"
    );
    assert!(log.contains("wechat"), "no span named the channel:\n{log}");
    // Nothing secret or personal.
    assert!(!log.contains(OPENID), "the payer's openid leaked:\n{log}");
    let key_body: String = key_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .join("");
    for chunk in key_body
        .as_bytes()
        .chunks(24)
        .map(|c| std::str::from_utf8(c).unwrap())
    {
        assert!(!log.contains(chunk), "private key material leaked");
    }
    assert!(!log.contains(&apiv3), "the APIv3 key leaked");
    assert!(
        !log.contains("WECHATPAY2-SHA256-RSA2048 mchid"),
        "an Authorization header leaked"
    );
}
