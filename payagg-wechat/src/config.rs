//! Merchant configuration: ids, keys (parsed once), the verification mode, endpoint,
//! timeouts and retries.

use std::fmt;
use std::path::{Path, PathBuf};

use payagg_core::crypto::{Certificate, RsaPrivateKey, RsaPublicKey, SecretKey32};
use payagg_core::error::ConfigError;
use payagg_core::ids::{AppId, MerchantId};
use payagg_core::transport::{RetryPolicy, Timeouts, check_endpoint};
use time::Duration;

use crate::transfer::SceneReportInfo;
use crate::verify::{DEFAULT_WINDOW, PUBLIC_KEY_ID_PREFIX};

/// See [`ConfigBuilder::certificate_refresh_margin`].
pub const DEFAULT_REFRESH_MARGIN: Duration = Duration::hours(24);

/// The production endpoint.
pub const DEFAULT_BASE_URL: &str = "https://api.mch.weixin.qq.com";

/// The transfer scene used unless configured: `1000` (现金营销, cash marketing). The scene
/// must be one the merchant has activated in the merchant portal, and each scene requires its
/// own report items (for `1000`: `活动名称` and `奖励说明`), set with
/// [`ConfigBuilder::transfer_scene_report_info`] or per call.
pub const DEFAULT_TRANSFER_SCENE_ID: &str = "1000";

/// How responses and callbacks are verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerificationMode {
    /// Platform certificates downloaded from `/v3/certificates` (and any configured).
    PlatformCertificates,
    /// The WeChat Pay public key (`PUB_KEY_ID_…`).
    PublicKey,
    /// Both, during a migration: `PUB_KEY_ID_…` serials use the public key, others the
    /// platform certificates.
    Both,
}

/// A WeChat Pay merchant's configuration. Build with [`Config::builder`].
///
/// `Debug` prints ids, serials and key fingerprints only, never key material.
#[derive(Clone)]
pub struct Config {
    pub(crate) mchid: MerchantId,
    pub(crate) appid: AppId,
    pub(crate) partner: bool,
    pub(crate) signing_key: RsaPrivateKey,
    pub(crate) merchant_serial: String,
    pub(crate) apiv3_key: SecretKey32,
    pub(crate) public_key: Option<(String, RsaPublicKey)>,
    pub(crate) platform_certificates: Option<Vec<Certificate>>,
    pub(crate) base_url: String,
    pub(crate) notify_url: Option<String>,
    pub(crate) refund_notify_url: Option<String>,
    pub(crate) transfer_notify_url: Option<String>,
    pub(crate) transfer_scene_id: String,
    pub(crate) transfer_scene_report_infos: Vec<SceneReportInfo>,
    pub(crate) timeouts: Timeouts,
    pub(crate) retry: RetryPolicy,
    pub(crate) window: Duration,
    pub(crate) refresh_margin: Duration,
    pub(crate) user_agent: String,
}

impl Config {
    /// A builder.
    #[must_use]
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder::default()
    }

    /// The merchant id that signs requests (`sp_mchid` in partner mode).
    #[must_use]
    pub fn mchid(&self) -> &MerchantId {
        &self.mchid
    }

    /// The app id (`sp_appid` in partner mode).
    #[must_use]
    pub fn appid(&self) -> &AppId {
        &self.appid
    }

    /// Whether this is a service provider (partner) configuration.
    #[must_use]
    pub fn is_partner(&self) -> bool {
        self.partner
    }

    /// The merchant API certificate serial sent in `Authorization`.
    #[must_use]
    pub fn merchant_serial(&self) -> &str {
        &self.merchant_serial
    }

    /// How responses and callbacks are verified.
    #[must_use]
    pub fn verification_mode(&self) -> VerificationMode {
        match (&self.public_key, &self.platform_certificates) {
            (Some(_), Some(_)) => VerificationMode::Both,
            (Some(_), None) => VerificationMode::PublicKey,
            (None, _) => VerificationMode::PlatformCertificates,
        }
    }

    /// The endpoint.
    #[must_use]
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The default transfer scene id (default [`DEFAULT_TRANSFER_SCENE_ID`]).
    #[must_use]
    pub fn transfer_scene_id(&self) -> &str {
        &self.transfer_scene_id
    }

    /// The default transfer scene report items.
    #[must_use]
    pub fn transfer_scene_report_infos(&self) -> &[SceneReportInfo] {
        &self.transfer_scene_report_infos
    }

    /// The signing key (for the simulator and tests that need the public half).
    #[must_use]
    pub fn merchant_public_key(&self) -> &RsaPublicKey {
        self.signing_key.public_key()
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("mchid", &self.mchid)
            .field("appid", &self.appid)
            .field("partner", &self.partner)
            .field("signing_key", &self.signing_key)
            .field("merchant_serial", &self.merchant_serial)
            .field("apiv3_key", &self.apiv3_key)
            .field("public_key_id", &self.public_key.as_ref().map(|(id, _)| id))
            .field(
                "platform_certificates",
                &self.platform_certificates.as_ref().map(|c| {
                    c.iter()
                        .map(Certificate::serial_hex_upper)
                        .collect::<Vec<_>>()
                }),
            )
            .field("base_url", &self.base_url)
            .field("notify_url", &self.notify_url)
            .field("refund_notify_url", &self.refund_notify_url)
            .field("transfer_notify_url", &self.transfer_notify_url)
            .field("transfer_scene_id", &self.transfer_scene_id)
            .field("timeouts", &self.timeouts)
            .field("retry", &self.retry)
            .field("window", &self.window)
            .field("refresh_margin", &self.refresh_margin)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Config`]; [`ConfigBuilder::build`] validates everything and parses keys once.
///
/// ```
/// # let key_pem = payagg_wechat::doc_support::TEST_KEY_PEM;
/// # let pub_pem = payagg_wechat::doc_support::TEST_PUBLIC_KEY_PEM;
/// use payagg_wechat::Config;
///
/// let config = Config::builder()
///     .mchid("1230000109")
///     .appid("wxd678efh567hg6787")
///     .private_key_pem(key_pem)
///     .merchant_serial_no("F5765756002FDD77")
///     .apiv3_key("a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb".parse()?)
///     .wechatpay_public_key("PUB_KEY_ID_0000000000000024101100397200000006", pub_pem)
///     .notify_url("https://shop.example/notify/wechat")
///     .build()?;
/// assert!(!format!("{config:?}").contains("a7cde1"));
/// # Ok::<(), payagg_core::Error>(())
/// ```
#[derive(Default)]
pub struct ConfigBuilder {
    mchid: Option<String>,
    appid: Option<String>,
    partner: bool,
    private_key_pem: Option<secrecy::SecretString>,
    merchant_serial: Option<String>,
    merchant_cert_pem: Option<String>,
    apiv3_key: Option<SecretKey32>,
    public_key: Option<(String, String)>,
    platform_certificates: bool,
    platform_cert_pems: Vec<String>,
    base_url: Option<String>,
    notify_url: Option<String>,
    refund_notify_url: Option<String>,
    transfer_notify_url: Option<String>,
    transfer_scene_id: Option<String>,
    transfer_scene_report_infos: Vec<SceneReportInfo>,
    timeouts: Option<Timeouts>,
    retry: Option<RetryPolicy>,
    window: Option<Duration>,
    refresh_margin: Option<Duration>,
    /// Where each key or certificate was read from, to name it in parse errors.
    sources: Vec<(&'static str, PathBuf)>,
    /// The first file that could not be read; reported by [`ConfigBuilder::build`].
    file_error: Option<ConfigError>,
    user_agent: Option<String>,
}

impl fmt::Debug for ConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigBuilder")
            .field("mchid", &self.mchid)
            .field("appid", &self.appid)
            .field("partner", &self.partner)
            .field(
                "private_key_pem",
                &self.private_key_pem.as_ref().map(|_| "[REDACTED]"),
            )
            .field("merchant_serial", &self.merchant_serial)
            .field("apiv3_key", &self.apiv3_key)
            .field("public_key_id", &self.public_key.as_ref().map(|(id, _)| id))
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl ConfigBuilder {
    /// The merchant id (direct mode).
    #[must_use]
    pub fn mchid(mut self, mchid: impl Into<String>) -> Self {
        self.mchid = Some(mchid.into());
        self
    }

    /// The app id bound to the merchant (direct mode).
    #[must_use]
    pub fn appid(mut self, appid: impl Into<String>) -> Self {
        self.appid = Some(appid.into());
        self
    }

    /// Service provider (partner) mode: requests are signed as `sp_mchid` and each request
    /// names its [`payagg_core::SubMerchant`].
    #[must_use]
    pub fn partner(mut self, sp_mchid: impl Into<String>, sp_appid: impl Into<String>) -> Self {
        self.partner = true;
        self.mchid = Some(sp_mchid.into());
        self.appid = Some(sp_appid.into());
        self
    }

    /// The merchant API private key (`apiclient_key.pem`), PKCS#8 or PKCS#1.
    #[must_use]
    pub fn private_key_pem(mut self, pem: impl Into<String>) -> Self {
        self.private_key_pem = Some(secrecy::SecretString::from(pem.into()));
        self
    }

    /// Reads `path` as text for the setting `what`; a failure is kept for `build`.
    fn read_file(&mut self, what: &'static str, path: &Path) -> Option<String> {
        self.sources.retain(|(w, _)| *w != what);
        self.sources.push((what, path.to_owned()));
        match std::fs::read_to_string(path) {
            Ok(text) => Some(text),
            Err(e) => {
                if self.file_error.is_none() {
                    self.file_error = Some(
                        ConfigError::new(what, format!("cannot read {}: {e}", path.display()))
                            .with_source(e),
                    );
                }
                None
            }
        }
    }

    /// The merchant API private key read from `path` (`apiclient_key.pem`, as WeChat
    /// issues it). A file that cannot be read or parsed fails [`ConfigBuilder::build`] with a
    /// [`ConfigError`] naming `private_key_file` and the path.
    #[must_use]
    pub fn private_key_file(mut self, path: impl AsRef<Path>) -> Self {
        if let Some(pem) = self.read_file("private_key_file", path.as_ref()) {
            self.private_key_pem = Some(secrecy::SecretString::from(pem));
        }
        self
    }

    /// The merchant API certificate read from `path` (`apiclient_cert.pem`), to derive the
    /// serial from; errors name `merchant_certificate_file` and the path.
    #[must_use]
    pub fn merchant_certificate_file(mut self, path: impl AsRef<Path>) -> Self {
        if let Some(pem) = self.read_file("merchant_certificate_file", path.as_ref()) {
            self.merchant_cert_pem = Some(pem);
        }
        self
    }

    /// The WeChat Pay public key `id` (`PUB_KEY_ID_…`) read from `path` (`pub_key.pem`);
    /// errors name `wechatpay_public_key_file` and the path.
    #[must_use]
    pub fn wechatpay_public_key_file(
        mut self,
        id: impl Into<String>,
        path: impl AsRef<Path>,
    ) -> Self {
        if let Some(pem) = self.read_file("wechatpay_public_key_file", path.as_ref()) {
            self.public_key = Some((id.into(), pem));
        }
        self
    }

    /// The APIv3 key read from `path`: the file's text with surrounding whitespace (a
    /// trailing newline) trimmed, which must be 32 bytes. Errors name `apiv3_key_file` and
    /// the path, never the content.
    #[must_use]
    pub fn apiv3_key_file(mut self, path: impl AsRef<Path>) -> Self {
        use secrecy::ExposeSecret;
        let path = path.as_ref();
        if let Some(text) = self.read_file("apiv3_key_file", path) {
            let text = secrecy::SecretString::from(text);
            match text.expose_secret().trim().parse::<SecretKey32>() {
                Ok(k) => self.apiv3_key = Some(k),
                Err(e) => {
                    if self.file_error.is_none() {
                        self.file_error = Some(in_file(&self.sources, "apiv3_key_file", e));
                    }
                }
            }
        }
        self
    }

    /// A platform certificate read from `path`, seeding the cache (as
    /// [`ConfigBuilder::platform_certificate_pem`]); errors name the path.
    #[must_use]
    pub fn platform_certificate_file(mut self, path: impl AsRef<Path>) -> Self {
        if let Some(pem) = self.read_file("platform_certificate_file", path.as_ref()) {
            self = self.platform_certificate_pem(pem);
        }
        self
    }

    /// The merchant API certificate serial (upper-case hex).
    #[must_use]
    pub fn merchant_serial_no(mut self, serial: impl Into<String>) -> Self {
        self.merchant_serial = Some(serial.into());
        self
    }

    /// The merchant API certificate (`apiclient_cert.pem`), to derive the serial from.
    #[must_use]
    pub fn merchant_certificate_pem(mut self, pem: impl Into<String>) -> Self {
        self.merchant_cert_pem = Some(pem.into());
        self
    }

    /// The APIv3 key.
    #[must_use]
    pub fn apiv3_key(mut self, key: SecretKey32) -> Self {
        self.apiv3_key = Some(key);
        self
    }

    /// Verify with the WeChat Pay public key `id` (`PUB_KEY_ID_…`) given as SPKI PEM.
    #[must_use]
    pub fn wechatpay_public_key(mut self, id: impl Into<String>, pem: impl Into<String>) -> Self {
        self.public_key = Some((id.into(), pem.into()));
        self
    }

    /// Verify with platform certificates downloaded from `/v3/certificates` (the default
    /// when no public key is configured; with a public key, enables both).
    #[must_use]
    pub fn platform_certificates(mut self, enabled: bool) -> Self {
        self.platform_certificates = enabled;
        self
    }

    /// Seed the platform certificate cache (implies [`ConfigBuilder::platform_certificates`]).
    #[must_use]
    pub fn platform_certificate_pem(mut self, pem: impl Into<String>) -> Self {
        self.platform_certificates = true;
        self.platform_cert_pems.push(pem.into());
        self
    }

    /// The endpoint (default [`DEFAULT_BASE_URL`]; `http://127.0.0.1:port` for the simulator).
    #[must_use]
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The default payment notification URL.
    #[must_use]
    pub fn notify_url(mut self, url: impl Into<String>) -> Self {
        self.notify_url = Some(url.into());
        self
    }

    /// The default refund notification URL (optional; WeChat falls back on the portal's).
    #[must_use]
    pub fn refund_notify_url(mut self, url: impl Into<String>) -> Self {
        self.refund_notify_url = Some(url.into());
        self
    }

    /// The default transfer notification URL (`MCHTRANSFER.*` callbacks; optional).
    #[must_use]
    pub fn transfer_notify_url(mut self, url: impl Into<String>) -> Self {
        self.transfer_notify_url = Some(url.into());
        self
    }

    /// The transfer scene id sent when a call does not choose one (default
    /// [`DEFAULT_TRANSFER_SCENE_ID`], `1000` 现金营销; `1005` 佣金报酬, `1006` 企业报销, …).
    #[must_use]
    pub fn transfer_scene_id(mut self, id: impl Into<String>) -> Self {
        self.transfer_scene_id = Some(id.into());
        self
    }

    /// Add a report item sent with transfers that do not bring their own (the scene decides
    /// which are required).
    #[must_use]
    pub fn transfer_scene_report_info(
        mut self,
        info_type: impl Into<String>,
        info_content: impl Into<String>,
    ) -> Self {
        self.transfer_scene_report_infos
            .push(SceneReportInfo::new(info_type, info_content));
        self
    }

    /// Timeouts of the default transport.
    #[must_use]
    pub fn timeouts(mut self, t: Timeouts) -> Self {
        self.timeouts = Some(t);
        self
    }

    /// Retry policy for idempotent operations (queries, close, statements).
    #[must_use]
    pub fn retry_policy(mut self, r: RetryPolicy) -> Self {
        self.retry = Some(r);
        self
    }

    /// The replay window for response and callback timestamps (default 5 minutes).
    #[must_use]
    pub fn timestamp_window(mut self, w: Duration) -> Self {
        self.window = Some(w);
        self
    }

    /// Refresh the platform certificates ahead of expiry: once the certificate that expires
    /// last has less than `margin` left, the next call downloads `/v3/certificates` first
    /// (at most once an hour while that lasts; a failed download is logged and the call goes
    /// on with the certificates held). Default: 24 hours, the period at which the official Go
    /// SDK re-downloads (`downloader_mgr.go`), so a replacement WeChat publishes ahead of time
    /// is picked up at least a day before the old certificate ends. Unused in public-key mode.
    #[must_use]
    pub fn certificate_refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = Some(margin);
        self
    }

    /// A custom `User-Agent`.
    #[must_use]
    pub fn user_agent(mut self, ua: impl Into<String>) -> Self {
        self.user_agent = Some(ua.into());
        self
    }

    /// Validates the settings and parses every key and certificate.
    ///
    /// # Errors
    /// [`payagg_core::Error::Config`] naming the missing or unusable setting;
    /// [`payagg_core::Error::InvalidInput`] for a malformed id or URL.
    pub fn build(mut self) -> payagg_core::Result<Config> {
        use secrecy::ExposeSecret;
        if let Some(e) = self.file_error.take() {
            return Err(e.into());
        }
        let sources = std::mem::take(&mut self.sources);
        let named = |what: &str, e: ConfigError| in_file(&sources, what, e);
        let need =
            |v: Option<String>, what: &str| v.ok_or_else(|| ConfigError::new(what, "is required"));
        let mchid = MerchantId::new(need(self.mchid, "mchid")?)?;
        let appid = AppId::new(need(self.appid, "appid")?)?;
        let pem = self
            .private_key_pem
            .ok_or_else(|| ConfigError::new("private_key_pem", "is required"))?;
        let signing_key = RsaPrivateKey::from_pem(pem.expose_secret())
            .map_err(|e| named("private_key_file", e))?;
        let merchant_serial = match (self.merchant_serial, self.merchant_cert_pem) {
            (Some(s), _) => s.trim().to_ascii_uppercase(),
            (None, Some(pem)) => {
                let cert = Certificate::from_pem(&pem)
                    .map_err(|e| named("merchant_certificate_file", e))?;
                let pk = cert
                    .public_key()
                    .map_err(|e| named("merchant_certificate_file", e))?;
                if &pk != signing_key.public_key() {
                    return Err(named(
                        "merchant_certificate_file",
                        ConfigError::new(
                            "merchant_certificate_pem",
                            "the certificate does not belong to the private key",
                        ),
                    )
                    .into());
                }
                cert.serial_hex_upper()
            }
            (None, None) => {
                return Err(ConfigError::new(
                    "merchant_serial_no",
                    "set the serial or the merchant certificate",
                )
                .into());
            }
        };
        if merchant_serial.is_empty() || !merchant_serial.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ConfigError::new("merchant_serial_no", "must be hexadecimal").into());
        }
        let apiv3_key = self
            .apiv3_key
            .ok_or_else(|| ConfigError::new("apiv3_key", "is required"))?;
        let public_key = match self.public_key {
            Some((id, pem)) => {
                if !id.starts_with(PUBLIC_KEY_ID_PREFIX) {
                    return Err(ConfigError::new(
                        "wechatpay_public_key",
                        "the id must start with PUB_KEY_ID_",
                    )
                    .into());
                }
                let key = RsaPublicKey::from_pem(&pem)
                    .map_err(|e| named("wechatpay_public_key_file", e))?;
                Some((id, key))
            }
            None => None,
        };
        let platform_certificates = if self.platform_certificates || public_key.is_none() {
            let certs = self
                .platform_cert_pems
                .iter()
                .map(|p| Certificate::from_pem(p))
                .collect::<Result<Vec<_>, _>>()?;
            Some(certs)
        } else {
            None
        };
        let base_url = self
            .base_url
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_owned())
            .trim_end_matches('/')
            .to_owned();
        check_endpoint(&base_url)?;
        let transfer_scene_id = self
            .transfer_scene_id
            .unwrap_or_else(|| DEFAULT_TRANSFER_SCENE_ID.to_owned());
        check_scene_id(&transfer_scene_id).map_err(|r| ConfigError::new("transfer_scene_id", r))?;
        Ok(Config {
            mchid,
            appid,
            partner: self.partner,
            signing_key,
            merchant_serial,
            apiv3_key,
            public_key,
            platform_certificates,
            base_url,
            notify_url: self.notify_url,
            refund_notify_url: self.refund_notify_url,
            transfer_notify_url: self.transfer_notify_url,
            transfer_scene_id,
            transfer_scene_report_infos: self.transfer_scene_report_infos,
            timeouts: self.timeouts.unwrap_or_default(),
            retry: self.retry.unwrap_or_default(),
            window: self.window.unwrap_or(DEFAULT_WINDOW),
            refresh_margin: self.refresh_margin.unwrap_or(DEFAULT_REFRESH_MARGIN),
            user_agent: self.user_agent.unwrap_or_else(|| {
                concat!("payagg-wechat/", env!("CARGO_PKG_VERSION"), " (rust)").to_owned()
            }),
        })
    }
}

/// WeChat's rule for `transfer_scene_id`: 1 to 36 ASCII digits and letters.
/// Names the file `what` was read from (if it was read from one) in the parse error `e`.
fn in_file(sources: &[(&'static str, PathBuf)], what: &str, e: ConfigError) -> ConfigError {
    match sources.iter().find(|(w, _)| *w == what) {
        Some((w, p)) => {
            let reason = format!("{}: {}: {}", p.display(), e.what(), e.reason());
            ConfigError::new(*w, reason).with_source(e)
        }
        None => e,
    }
}

pub(crate) fn check_scene_id(id: &str) -> Result<(), &'static str> {
    if id.is_empty() || id.len() > 36 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err("must be 1 to 36 ASCII letters or digits");
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::doc_support::{TEST_KEY_PEM, TEST_PUBLIC_KEY_PEM};

    const APIV3: &str = "a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb";

    fn base() -> ConfigBuilder {
        Config::builder()
            .mchid("1230000109")
            .appid("wxd678efh567hg6787")
            .private_key_pem(TEST_KEY_PEM)
            .merchant_serial_no("f5765756002fdd77")
            .apiv3_key(APIV3.parse().unwrap())
    }

    #[test]
    fn debug_redacts_secrets() {
        let c = base()
            .wechatpay_public_key("PUB_KEY_ID_01", TEST_PUBLIC_KEY_PEM)
            .build()
            .unwrap();
        let d = format!("{c:?}");
        assert!(!d.contains(APIV3) && !d.contains("a7cde1"), "{d}");
        assert!(!d.contains("MII"), "{d}");
        assert!(
            d.contains("F5765756002FDD77") && d.contains("PUB_KEY_ID_01"),
            "{d}"
        );
        let b = format!("{:?}", base());
        assert!(!b.contains("MII") && !b.contains("a7cde1"), "{b}");
    }

    #[test]
    fn modes() {
        assert_eq!(
            base().build().unwrap().verification_mode(),
            VerificationMode::PlatformCertificates
        );
        let pk = base().wechatpay_public_key("PUB_KEY_ID_01", TEST_PUBLIC_KEY_PEM);
        assert_eq!(
            pk.build().unwrap().verification_mode(),
            VerificationMode::PublicKey
        );
        let both = base()
            .wechatpay_public_key("PUB_KEY_ID_01", TEST_PUBLIC_KEY_PEM)
            .platform_certificates(true);
        assert_eq!(
            both.build().unwrap().verification_mode(),
            VerificationMode::Both
        );
    }

    #[test]
    fn rejects_bad_settings() {
        assert!(Config::builder().build().is_err());
        assert!(base().base_url("http://example.com").build().is_err());
        assert!(base().base_url("http://127.0.0.1:9").build().is_ok());
        assert!(
            base()
                .wechatpay_public_key("KEY1", TEST_PUBLIC_KEY_PEM)
                .build()
                .is_err()
        );
        assert!(base().merchant_serial_no("not hex").build().is_err());
        assert!(base().transfer_scene_id("").build().is_err());
        assert!(base().transfer_scene_id("10 05").build().is_err());
        let c = base()
            .transfer_scene_id("1005")
            .transfer_scene_report_info("岗位类型", "推广员")
            .build()
            .unwrap();
        assert_eq!(c.transfer_scene_id(), "1005");
        assert_eq!(c.transfer_scene_report_infos().len(), 1);
        assert_eq!(
            base().build().unwrap().transfer_scene_id(),
            DEFAULT_TRANSFER_SCENE_ID
        );
        assert!(base().private_key_pem("junk").build().is_err());
        let e = base()
            .private_key_pem(TEST_KEY_PEM.replace("PRIVATE", "PUBLIC"))
            .build()
            .unwrap_err();
        assert!(matches!(e, payagg_core::Error::Config(_)), "{e}");
    }
}
