//! Shared set-up of the contract tests: the simulator, and each channel's REAL client
//! configured only with the simulator's base URL and the keys and files it hands out.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use payagg::clock::Clock;
use payagg::mock::{AlipayKeyMode, Delivery, MockConfig, MockServer};
use payagg::transport::{HttpTransport, ReqwestTransport, RetryPolicy, Timeouts};
use payagg::{CallbackRequest, Error};

/// Where the clients send notifications: nothing listens, the simulator records each attempt.
pub const NOTIFY: &str = "http://127.0.0.1:9/contract/notify";

/// A simulator with notifications 1000× faster than real time and a short `Timeout` fault.
pub async fn start() -> Arc<MockServer> {
    let mut cfg = MockConfig::generate().unwrap().with_time_scale(1000);
    // The `Timeout` fault holds a request this long; the clients give up after `SHORT`.
    cfg.hang_for = Duration::from_secs(3);
    Arc::new(MockServer::start(cfg).await.unwrap())
}

/// The clients' whole-exchange timeout in these tests (below the simulator's `hang_for`).
pub const SHORT: Duration = Duration::from_millis(1500);

pub fn timeouts() -> Timeouts {
    Timeouts::new(Duration::from_secs(2), SHORT)
}

/// Quick retries so the retry tests run in milliseconds.
pub fn retries() -> RetryPolicy {
    let mut r = RetryPolicy::attempts(3);
    r.initial_backoff = Duration::from_millis(10);
    r.max_backoff = Duration::from_millis(20);
    r
}

// ----- WeChat Pay -----

/// The WeChat client (APIv3 trusting both the platform certificates and the WeChat Pay public
/// key, as `MockServer::wechat_config` sets it up, and the APIv2 payment-code client
/// whose sleeper advances the simulator clock).
pub fn wechat(server: &Arc<MockServer>) -> payagg::wechat::WechatPayClient {
    use payagg::wechat::micropay::MicropayClient;
    let config = server
        .wechat_config()
        .notify_url(NOTIFY)
        .transfer_notify_url(NOTIFY)
        .transfer_scene_id("1000")
        .transfer_scene_report_info("活动名称", "新会员有礼")
        .transfer_scene_report_info("奖励说明", "注册奖励")
        .timeouts(timeouts())
        .retry_policy(retries())
        .build()
        .unwrap();
    let transport: Arc<dyn HttpTransport> = Arc::new(ReqwestTransport::new(timeouts()).unwrap());
    let micropay = MicropayClient::new(
        server.wechat_micropay_config(),
        transport.clone(),
        transport,
    )
    .unwrap()
    .with_sleeper(Arc::new(server.sleeper()));
    let clock: Arc<dyn Clock> = server.clock();
    payagg::wechat::WechatPayClient::new(config)
        .unwrap()
        .with_clock(clock)
        .with_micropay(Arc::new(micropay), "127.0.0.1")
}

// ----- Alipay -----

/// The Alipay client in public-key mode (`cert = false`) or certificate mode.
pub fn alipay(server: &Arc<MockServer>, cert: bool) -> payagg::alipay::AlipayClient {
    let mode = if cert {
        AlipayKeyMode::Certificate
    } else {
        AlipayKeyMode::PublicKey
    };
    let b = server
        .alipay_config(mode)
        .notify_url(NOTIFY)
        .timeouts(timeouts());
    let clock: Arc<dyn Clock> = server.clock();
    payagg::alipay::AlipayClient::new(b.build().unwrap())
        .unwrap()
        .with_clock(clock)
        .with_sleeper(Arc::new(server.sleeper()))
}

// ----- UnionPay -----

/// The UnionPay client signing with the PFX the simulator issued, trusting its middle and
/// root certificates.
pub fn unionpay(server: &Arc<MockServer>) -> payagg::unionpay::UnionPayClient {
    let config = server
        .unionpay_config()
        .front_url("http://127.0.0.1:9/contract/front")
        .back_url(NOTIFY)
        .timeouts(timeouts())
        .retry_policy(retries())
        .build()
        .unwrap();
    let clock: Arc<dyn Clock> = server.clock();
    payagg::unionpay::UnionPayClient::new(config)
        .unwrap()
        .with_clock(clock)
}

// ----- notifications -----

/// The recorded delivery as the merchant's endpoint received it.
pub fn callback(d: &Delivery) -> CallbackRequest {
    let mut headers = http::HeaderMap::new();
    for (k, v) in &d.headers {
        headers.append(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    CallbackRequest::post(headers, d.body.clone())
}

/// Waits for the first delivery matching `pred` (the simulator records every attempt).
pub async fn delivery(server: &MockServer, pred: impl Fn(&Delivery) -> bool) -> Delivery {
    assert!(
        server
            .notifier()
            .wait_until(Duration::from_secs(10), |ds| ds.iter().any(&pred))
            .await,
        "no matching notification; sent: {:?}",
        server
            .notifications()
            .iter()
            .map(|d| (&d.channel, &d.event_type))
            .collect::<Vec<_>>()
    );
    server
        .notifications()
        .into_iter()
        .find(|d| pred(d))
        .unwrap()
}

/// The China-time date of the simulator's now.
pub fn today(server: &MockServer) -> time::Date {
    server.now().to_offset(payagg::clock::CHINA_OFFSET).date()
}

/// What a fault looks like to the caller.
pub fn describe(e: &Error) -> String {
    format!(
        "{e} [retryable={} unknown={}]",
        e.is_retryable(),
        e.outcome_unknown()
    )
}
