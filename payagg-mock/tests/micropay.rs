//! Payment codes over APIv2 XML, driven by the real `payagg_wechat::micropay` client.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use payagg_core::clock::ManualClock;
use payagg_core::transport::{ReqwestTransport, Timeouts};
use payagg_core::{Channel, Error, GatewayErrorKind, MerchantOrderNo, Money, TradeStatus};
use payagg_mock::{MockConfig, MockServer, OrderStatus};
use payagg_wechat::micropay::{
    MicropayClient, MicropayConfig, MicropayRequest, PollSchedule, SignType, Sleeper,
};

/// Waiting advances the simulator clock instead of real time.
#[derive(Debug)]
struct MockSleeper(Arc<ManualClock>);

#[async_trait]
impl Sleeper for MockSleeper {
    async fn sleep(&self, d: Duration) {
        self.0.advance(time::Duration::try_from(d).unwrap());
    }
}

fn client(server: &MockServer, sign_type: SignType, schedule: PollSchedule) -> MicropayClient {
    let wx = server.wechat();
    let config = MicropayConfig::new(wx.appid(), wx.mchid(), wx.apiv2_key().clone())
        .base_url(server.base_url())
        .sign_type(sign_type)
        .schedule(schedule);
    let t = Arc::new(ReqwestTransport::new(Timeouts::default()).unwrap());
    MicropayClient::new(config, t.clone(), t)
        .unwrap()
        .with_sleeper(Arc::new(MockSleeper(server.clock())))
}

fn req(no: &str, code: &str) -> MicropayRequest {
    MicropayRequest::new(
        MerchantOrderNo::new(no).unwrap(),
        Money::cny(888),
        "Coffee",
        code,
        "10.0.0.8",
    )
    .unwrap()
}

async fn server() -> MockServer {
    MockServer::start(MockConfig::generate().unwrap().with_time_scale(1000))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn immediate_success_with_md5_and_hmac() {
    let server = server().await;
    for (i, st) in [SignType::Md5, SignType::HmacSha256]
        .into_iter()
        .enumerate()
    {
        let c = client(&server, st, PollSchedule::default());
        let no = format!("MP0{i}");
        let t = c.pay(&req(&no, "134567890123456789")).await.unwrap();
        assert_eq!(t.status, TradeStatus::Success);
        assert_eq!(t.amount, Money::cny(888));
        assert!(t.channel_trade_no.is_some());
        // Paying again: ORDERPAID, then the query confirms success.
        let again = c.pay(&req(&no, "134567890123456789")).await.unwrap();
        assert_eq!(again.status, TradeStatus::Success);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_then_success_after_the_clock_moves() {
    let server = server().await;
    let c = client(&server, SignType::Md5, PollSchedule::default());
    let e = c
        .micropay(&req("MPPW1", "101100000000000001"))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Gateway(g) if g.kind() == GatewayErrorKind::UserPaying),
        "{e:?}"
    );
    let t = c.pay(&req("MPPW2", "101100000000000002")).await.unwrap();
    assert_eq!(t.status, TradeStatus::Success);
    assert_eq!(
        server.order(Channel::Wechat, "MPPW2").unwrap().status,
        OrderStatus::Success
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_held_until_a_control_call() {
    let server = server().await;
    let c = client(&server, SignType::HmacSha256, PollSchedule::default());
    let e = c
        .micropay(&req("MPHELD", "101200000000000001"))
        .await
        .unwrap_err();
    assert!(matches!(&e, Error::Gateway(g) if g.kind() == GatewayErrorKind::UserPaying));
    let http = reqwest::Client::new();
    let r = http
        .post(format!(
            "{}/__mock/orders/wechat/MPHELD/pay",
            server.base_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let t = c
        .query(&payagg_core::TradeRef::MerchantOrderNo(
            MerchantOrderNo::new("MPHELD").unwrap(),
        ))
        .await
        .unwrap();
    assert_eq!(t.status, TradeStatus::Success);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_timeout_reverses_with_recall() {
    let server = server().await;
    // Give up after 30 s, before WeChat's own 45 s auto-revoke: the client reverses.
    let schedule = PollSchedule::new(Duration::from_secs(5), Duration::from_secs(30))
        .reverse(5, Duration::from_secs(1));
    let c = client(&server, SignType::Md5, schedule);
    let t = c.pay(&req("MPREV", "101300000000000001")).await.unwrap();
    assert_eq!(t.status, TradeStatus::Revoked);
    assert_eq!(
        server.order(Channel::Wechat, "MPREV").unwrap().status,
        OrderStatus::Revoked
    );
    // With the default 45 s the simulator's auto-revoke answers the last query.
    let c = client(&server, SignType::Md5, PollSchedule::default());
    let t = c.pay(&req("MPAUTO", "101200000000000009")).await.unwrap();
    assert_eq!(t.status, TradeStatus::Revoked);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_codes_and_bad_signatures() {
    let server = server().await;
    let c = client(&server, SignType::Md5, PollSchedule::default());
    let e = c
        .pay(&req("MPEXP", "101400000000000001"))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Gateway(g) if g.code() == "AUTHCODEEXPIRE"),
        "{e:?}"
    );
    let e = c
        .pay(&req("MPPOOR", "101500000000000001"))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Gateway(g) if g.kind() == GatewayErrorKind::InsufficientFunds),
        "{e:?}"
    );
    // SYSTEMERROR while the payment went through: the client's query finds it paid.
    let t = c.pay(&req("MPSYS", "101600000000000001")).await.unwrap();
    assert_eq!(t.status, TradeStatus::Success);

    // A client with the wrong key: the simulator answers return_code=FAIL 签名错误.
    let wx = server.wechat();
    let bad = MicropayConfig::new(
        wx.appid(),
        wx.mchid(),
        secrecy::SecretString::from("x".repeat(32)),
    )
    .base_url(server.base_url());
    let t = Arc::new(ReqwestTransport::new(Timeouts::default()).unwrap());
    let bad = MicropayClient::new(bad, t.clone(), t).unwrap();
    let e = bad
        .micropay(&req("MPBAD", "134567890123456789"))
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Gateway(g) if g.code() == "FAIL" && g.to_string().contains("签名错误")),
        "{e:?}"
    );
}
