//! Ready client configurations: each channel client's builder filled in with the simulator's
//! base URL and the merchant credentials it issued, and a [`MockSleeper`] that waits on the
//! simulator clock. Add what is the merchant's own choice (notify and return URLs, timeouts)
//! and build.
//!
//! ```
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use payagg_mock::{AlipayKeyMode, MockConfig, MockServer};
//! let server = MockServer::start(MockConfig::generate()?).await?;
//! let notify = "http://127.0.0.1:9/notify";
//! let wechat = server.wechat_config().notify_url(notify).build()?;
//! let alipay = server.alipay_config(AlipayKeyMode::Certificate).notify_url(notify).build()?;
//! let unionpay = server.unionpay_config().back_url(notify).build()?;
//! let alipay = payagg_alipay::AlipayClient::new(alipay)?.with_sleeper(std::sync::Arc::new(server.sleeper()));
//! # let _ = (wechat, alipay, unionpay);
//! # Ok(())
//! # }
//! ```

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::ExposeSecret;

use crate::server::{MockServer, Shared};

/// Which verification keys the Alipay client is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlipayKeyMode {
    /// The Alipay public key (`alipayPublicKey_RSA2.txt`).
    PublicKey,
    /// Public-key certificate mode: the app certificate, the Alipay certificate and the root.
    Certificate,
}

impl MockServer {
    /// The WeChat Pay client's configuration: merchant id, appid, the merchant key and
    /// certificate, the APIv3 key, and both verification sources the simulator offers
    /// (platform certificates, downloaded from it, and the WeChat Pay public key with its
    /// id), pointed at the simulator.
    #[must_use]
    pub fn wechat_config(&self) -> payagg_wechat::ConfigBuilder {
        let wx = self.wechat();
        payagg_wechat::Config::builder()
            .mchid(wx.mchid())
            .appid(wx.appid())
            .private_key_pem(wx.merchant_key_pem().expose_secret().to_owned())
            .merchant_certificate_pem(wx.merchant_cert_pem())
            .apiv3_key(wx.apiv3_secret().clone())
            .wechatpay_public_key(wx.pub_key_id(), wx.pub_key_pem())
            .platform_certificates(true)
            .base_url(self.base_url())
    }

    /// The APIv2 payment-code client's configuration (appid, mch_id, the APIv2 key),
    /// pointed at the simulator.
    #[must_use]
    pub fn wechat_micropay_config(&self) -> payagg_wechat::micropay::MicropayConfig {
        let wx = self.wechat();
        payagg_wechat::micropay::MicropayConfig::new(wx.appid(), wx.mchid(), wx.apiv2_key().clone())
            .base_url(self.base_url())
    }

    /// The Alipay client's configuration in `mode`: app id, the app private key, seller id
    /// and the verification keys, with the simulator's `gateway.do` as the gateway.
    #[must_use]
    pub fn alipay_config(&self, mode: AlipayKeyMode) -> payagg_alipay::ConfigBuilder {
        let a = self.alipay();
        let b = payagg_alipay::Config::builder()
            .app_id(a.app_id())
            .app_private_key(a.app_private_key_pem().expose_secret().to_owned())
            .gateway_url(self.alipay_gateway_url())
            .seller_id(a.seller_id());
        match mode {
            AlipayKeyMode::PublicKey => b.alipay_public_key(a.alipay_public_key_pem()),
            AlipayKeyMode::Certificate => {
                b.certificates(a.app_cert_pem(), a.alipay_cert_pem(), a.root_cert_pem())
            }
        }
    }

    /// The UnionPay client's configuration: merchant id, the signing PFX and its password,
    /// the simulator's middle and root certificates, test environment, with the simulator as
    /// both the gateway and the file-transfer host.
    #[must_use]
    pub fn unionpay_config(&self) -> payagg_unionpay::ConfigBuilder {
        let up = self.unionpay();
        payagg_unionpay::Config::builder()
            .mer_id(up.mer_id())
            .environment(payagg_unionpay::Environment::Test)
            .signing_pfx(up.pfx().to_vec(), up.pfx_password().clone())
            .middle_cert_pem(up.middle_cert_pem())
            .root_cert_pem(up.root_cert_pem())
            .base_url(self.base_url())
            .file_base_url(self.base_url())
    }

    /// A sleeper for the clients' poll loops (payment codes, query schedules) that moves
    /// the simulator clock instead of sleeping, closing orders that expire on the way.
    #[must_use]
    pub fn sleeper(&self) -> MockSleeper {
        MockSleeper(self.shared_arc())
    }
}

/// Waits by advancing the simulator clock (see [`MockServer::sleeper`]); implements each
/// channel client's `Sleeper`.
#[derive(Clone)]
pub struct MockSleeper(Arc<Shared>);

impl std::fmt::Debug for MockSleeper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MockSleeper")
    }
}

impl MockSleeper {
    async fn wait(&self, d: Duration) {
        self.0
            .clock
            .advance(time::Duration::try_from(d).unwrap_or(time::Duration::ZERO));
        self.0.store.expire(self.0.now());
        tokio::task::yield_now().await;
    }
}

#[async_trait]
impl payagg_wechat::micropay::Sleeper for MockSleeper {
    async fn sleep(&self, d: Duration) {
        self.wait(d).await;
    }
}

#[async_trait]
impl payagg_alipay::Sleeper for MockSleeper {
    async fn sleep(&self, d: Duration) {
        self.wait(d).await;
    }
}

#[async_trait]
impl payagg_unionpay::Sleeper for MockSleeper {
    async fn sleep(&self, d: Duration) {
        self.wait(d).await;
    }
}
