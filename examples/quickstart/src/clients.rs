//! The three channel clients, configured only with the simulator's base URL and the keys it
//! hands out, on the simulator's clock.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use payagg::clock::Clock;
use payagg::crypto::SecretKey32;
use payagg::mock::MockServer;
use payagg::transport::{HttpTransport, ReqwestTransport};
use payagg::wechat::micropay::{MicropayClient, MicropayConfig};
use secrecy::ExposeSecret;

use crate::BoxError;

/// Where the clients ask for notifications. Nothing listens there: the simulator records
/// every delivery attempt, and the story verifies the recorded ones as a receiver would.
pub(crate) const NOTIFY_URL: &str = "http://127.0.0.1:9/payagg-quickstart/notify";

/// Where the payer's browser comes back to the merchant (Alipay `return_url`, UnionPay
/// `frontUrl`). The story reads the redirect or the auto-posting form instead of following it.
pub(crate) const RETURN_URL: &str = "http://127.0.0.1:9/payagg-quickstart/return";

/// Waits by moving the simulator's clock instead of sleeping: the payment-code flows poll
/// "every few seconds" in no real time.
#[derive(Debug)]
struct SimulatorSleeper(Arc<MockServer>);

impl SimulatorSleeper {
    async fn wait(&self, d: Duration) {
        self.0
            .advance(time::Duration::try_from(d).unwrap_or(time::Duration::ZERO));
        tokio::task::yield_now().await;
    }
}

#[async_trait]
impl payagg::wechat::micropay::Sleeper for SimulatorSleeper {
    async fn sleep(&self, d: Duration) {
        self.wait(d).await;
    }
}

#[async_trait]
impl payagg::alipay::Sleeper for SimulatorSleeper {
    async fn sleep(&self, d: Duration) {
        self.wait(d).await;
    }
}

pub(crate) fn wechat(
    server: &Arc<MockServer>,
) -> Result<payagg::wechat::WechatPayClient, BoxError> {
    let wx = server.wechat();
    let config = payagg::wechat::Config::builder()
        .mchid(wx.mchid())
        .appid(wx.appid())
        .private_key_pem(wx.merchant_key_pem().expose_secret().to_owned())
        .merchant_certificate_pem(wx.merchant_cert_pem())
        .apiv3_key(SecretKey32::from_secret(wx.apiv3_key())?)
        .wechatpay_public_key(wx.pub_key_id(), wx.pub_key_pem())
        .platform_certificates(true)
        .base_url(server.base_url())
        .notify_url(NOTIFY_URL)
        .build()?;
    let transport: Arc<dyn HttpTransport> = Arc::new(ReqwestTransport::new(Default::default())?);
    let micropay = MicropayClient::new(
        MicropayConfig::new(wx.appid(), wx.mchid(), wx.apiv2_key().clone())
            .base_url(server.base_url()),
        transport.clone(),
        transport,
    )?
    .with_sleeper(Arc::new(SimulatorSleeper(server.clone())));
    let clock: Arc<dyn Clock> = server.clock();
    Ok(payagg::wechat::WechatPayClient::new(config)?
        .with_clock(clock)
        .with_micropay(Arc::new(micropay), "127.0.0.1"))
}

pub(crate) fn alipay(server: &Arc<MockServer>) -> Result<payagg::alipay::AlipayClient, BoxError> {
    let a = server.alipay();
    let config = payagg::alipay::Config::builder()
        .app_id(a.app_id())
        .app_private_key(a.app_private_key_pem().expose_secret().to_owned())
        .certificates(a.app_cert_pem(), a.alipay_cert_pem(), a.root_cert_pem())
        .gateway_url(server.alipay_gateway_url())
        .seller_id(a.seller_id())
        .notify_url(NOTIFY_URL)
        .return_url(RETURN_URL)
        .build()?;
    let clock: Arc<dyn Clock> = server.clock();
    Ok(payagg::alipay::AlipayClient::new(config)?
        .with_clock(clock)
        .with_sleeper(Arc::new(SimulatorSleeper(server.clone()))))
}

pub(crate) fn unionpay(
    server: &Arc<MockServer>,
) -> Result<payagg::unionpay::UnionPayClient, BoxError> {
    let up = server.unionpay();
    let config = payagg::unionpay::Config::builder()
        .mer_id(up.mer_id())
        .environment(payagg::unionpay::Environment::Test)
        .signing_pfx(up.pfx().to_vec(), up.pfx_password().clone())
        .middle_cert_pem(up.middle_cert_pem())
        .root_cert_pem(up.root_cert_pem())
        .base_url(server.base_url())
        .file_base_url(server.base_url())
        .front_url(RETURN_URL)
        .back_url(NOTIFY_URL)
        .build()?;
    let clock: Arc<dyn Clock> = server.clock();
    Ok(payagg::unionpay::UnionPayClient::new(config)?.with_clock(clock))
}
