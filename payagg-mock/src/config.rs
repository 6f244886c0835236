//! The simulator's configuration: listen address, clock, time scale and each channel's keys.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use payagg_core::crypto::{Certificate, RsaPrivateKey, RsaPublicKey, SecretKey32};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use time::OffsetDateTime;

use crate::error::MockError;
use crate::keys::{self, Ca};

/// Which WeChat key signs responses and notifications when the request's `Wechatpay-Serial`
/// names none the simulator owns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WechatSigner {
    /// The platform certificate (`Wechatpay-Serial` = its serial number).
    #[default]
    PlatformCertificate,
    /// The WeChat Pay public key (`Wechatpay-Serial` = `PUB_KEY_ID_…`).
    PublicKey,
}

/// One simulated WeChat Pay merchant and the simulated platform's keys.
///
/// Everything a client needs is reachable through accessors: the merchant id and app id, the
/// merchant's private key and certificate serial, the platform certificate, the WeChat Pay
/// public key and its id, and the APIv3 key.
#[derive(Clone)]
pub struct WechatSetup {
    mchid: String,
    appid: String,
    merchant_key_pem: SecretString,
    merchant_key: RsaPrivateKey,
    merchant_cert_pem: String,
    merchant_cert: Certificate,
    platform_key_pem: SecretString,
    platform_key: RsaPrivateKey,
    platform_cert_pem: String,
    platform_cert: Certificate,
    pub_key_private_pem: SecretString,
    pub_key_private: RsaPrivateKey,
    pub_key_pem: String,
    pub_key_id: String,
    apiv3_key: SecretString,
    apiv3: SecretKey32,
    ca_cert_pem: String,
    /// Which key signs when the request names none the simulator owns (and, until a request
    /// names one, notifications).
    pub default_signer: WechatSigner,
    /// Whether the merchant still has platform certificates. When `false` (a public-key-only
    /// merchant), `GET /v3/certificates` answers `404 RESOURCE_NOT_EXISTS` and everything is
    /// signed with the public key.
    pub platform_certificates: bool,
    /// The merchant's API v2 key (32 characters), for payment codes (`/pay/micropay`, ...).
    apiv2_key: SecretString,
    /// The merchant's fee rate in parts per million (default 6000 = 0.60 %): the bills'
    /// 手续费 is `amount × rate`, at 5 decimals.
    pub fee_rate_ppm: u32,
    /// The CA that issued the platform certificate, when generated in this process (a loaded
    /// setup has no CA key: rotation then issues from a fresh CA).
    ca: Option<std::sync::Arc<Ca>>,
}

impl std::fmt::Debug for WechatSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WechatSetup")
            .field("mchid", &self.mchid)
            .field("appid", &self.appid)
            .field("merchant_serial", &self.merchant_serial())
            .field("platform_serial", &self.platform_serial())
            .field("pub_key_id", &self.pub_key_id)
            .field("default_signer", &self.default_signer)
            .finish_non_exhaustive()
    }
}

/// The on-disk form of [`WechatSetup`]: file names relative to the configuration file.
#[derive(Debug, Deserialize)]
struct WechatFiles {
    mchid: String,
    appid: String,
    merchant_private_key: PathBuf,
    merchant_certificate: PathBuf,
    platform_private_key: PathBuf,
    platform_certificate: PathBuf,
    public_key_private_key: PathBuf,
    public_key: PathBuf,
    public_key_id: String,
    apiv3_key: PathBuf,
    ca_certificate: PathBuf,
    #[serde(default)]
    default_signer: WechatSigner,
    #[serde(default = "yes")]
    platform_certificates: bool,
    /// The API v2 key file; a fresh key when absent (older configuration files).
    #[serde(default)]
    apiv2_key: Option<PathBuf>,
    #[serde(default = "default_fee_rate")]
    fee_rate_ppm: u32,
}

/// 0.60 %.
pub(crate) const DEFAULT_FEE_RATE_PPM: u32 = 6000;

fn default_fee_rate() -> u32 {
    DEFAULT_FEE_RATE_PPM
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
struct ConfigFile {
    #[serde(default)]
    listen: Option<SocketAddr>,
    #[serde(default)]
    time_scale: Option<u32>,
    wechat: WechatFiles,
    /// Absent in older files: a fresh UnionPay setup is generated.
    #[serde(default)]
    unionpay: Option<crate::unionpay::UnionpayFiles>,
    /// Absent in older files: a fresh Alipay setup is generated.
    #[serde(default)]
    alipay: Option<crate::alipay::AlipayFiles>,
}

fn cfg<T, E: std::error::Error + Send + Sync + 'static>(
    r: Result<T, E>,
    what: &str,
) -> Result<T, MockError> {
    r.map_err(|e| MockError::config(format!("WeChat {what}")).with_source(e))
}

impl WechatSetup {
    /// Generate a fresh merchant (`1900000001`, app `wxd678efh567hg6787`), a CA, a platform
    /// certificate, a WeChat Pay public key with a `PUB_KEY_ID_…` id and an APIv3 key.
    ///
    /// # Errors
    /// [`MockError`] if key or certificate generation fails.
    pub fn generate(now: OffsetDateTime) -> Result<Self, MockError> {
        let ca = Ca::generate("payagg-mock Tenpay.com Root CA", now)?;
        let merchant = keys::generate_rsa()?;
        let platform = keys::generate_rsa()?;
        let public = keys::generate_rsa()?;
        let mchid = "1900000001".to_owned();
        let (merchant_cert_pem, merchant_cert) = ca.issue(
            merchant.pem.expose_secret(),
            "payagg-mock merchant",
            Some(&mchid),
            now,
        )?;
        let (platform_cert_pem, platform_cert) = ca.issue(
            platform.pem.expose_secret(),
            "Tenpay.com sign",
            Some("Tenpay.com CA Center"),
            now,
        )?;
        let apiv3_key = SecretString::from(keys::random_alnum(32));
        let apiv3 = cfg(SecretKey32::from_secret(&apiv3_key), "APIv3 key")?;
        Ok(Self {
            mchid,
            appid: "wxd678efh567hg6787".to_owned(),
            merchant_key_pem: merchant.pem,
            merchant_key: merchant.key,
            merchant_cert_pem,
            merchant_cert,
            platform_key_pem: platform.pem,
            platform_key: platform.key,
            platform_cert_pem,
            platform_cert,
            pub_key_private_pem: public.pem,
            pub_key_private: public.key,
            pub_key_pem: public.public_pem,
            pub_key_id: format!("PUB_KEY_ID_01{}", keys::random_digits(32)),
            apiv3_key,
            apiv3,
            ca_cert_pem: ca.cert_pem.clone(),
            default_signer: WechatSigner::default(),
            platform_certificates: true,
            apiv2_key: SecretString::from(keys::random_alnum(32)),
            fee_rate_ppm: DEFAULT_FEE_RATE_PPM,
            ca: Some(std::sync::Arc::new(ca)),
        })
    }

    fn load(dir: &Path, f: WechatFiles) -> Result<Self, MockError> {
        let read = |p: &Path| -> Result<String, MockError> {
            let full = dir.join(p);
            std::fs::read_to_string(&full)
                .map_err(|e| MockError::io(format!("reading {}", full.display()), e))
        };
        let merchant_key_pem = read(&f.merchant_private_key)?;
        let platform_key_pem = read(&f.platform_private_key)?;
        let pub_key_private_pem = read(&f.public_key_private_key)?;
        let merchant_cert_pem = read(&f.merchant_certificate)?;
        let platform_cert_pem = read(&f.platform_certificate)?;
        let pub_key_pem = read(&f.public_key)?;
        let apiv3_key = SecretString::from(read(&f.apiv3_key)?.trim().to_owned());
        let pub_key_private = cfg(
            RsaPrivateKey::from_pem(&pub_key_private_pem),
            "public-key private key",
        )?;
        let published = cfg(RsaPublicKey::from_pem(&pub_key_pem), "pub_key.pem")?;
        if published != *pub_key_private.public_key() {
            return Err(MockError::config(
                "pub_key.pem does not match the public-key private key",
            ));
        }
        if !f.public_key_id.starts_with("PUB_KEY_ID_") {
            return Err(MockError::config(
                "the WeChat Pay public key id must start with PUB_KEY_ID_",
            ));
        }
        Ok(Self {
            mchid: f.mchid,
            appid: f.appid,
            merchant_key: cfg(
                RsaPrivateKey::from_pem(&merchant_key_pem),
                "merchant private key",
            )?,
            merchant_key_pem: SecretString::from(merchant_key_pem),
            merchant_cert: cfg(
                Certificate::from_pem(&merchant_cert_pem),
                "merchant certificate",
            )?,
            merchant_cert_pem,
            platform_key: cfg(
                RsaPrivateKey::from_pem(&platform_key_pem),
                "platform private key",
            )?,
            platform_key_pem: SecretString::from(platform_key_pem),
            platform_cert: cfg(
                Certificate::from_pem(&platform_cert_pem),
                "platform certificate",
            )?,
            platform_cert_pem,
            pub_key_private,
            pub_key_private_pem: SecretString::from(pub_key_private_pem),
            pub_key_pem,
            pub_key_id: f.public_key_id,
            apiv3: cfg(SecretKey32::from_secret(&apiv3_key), "APIv3 key")?,
            apiv3_key,
            ca_cert_pem: read(&f.ca_certificate)?,
            default_signer: f.default_signer,
            platform_certificates: f.platform_certificates,
            apiv2_key: match &f.apiv2_key {
                Some(p) => SecretString::from(read(p)?.trim().to_owned()),
                None => SecretString::from(keys::random_alnum(32)),
            },
            fee_rate_ppm: f.fee_rate_ppm,
            ca: None,
        })
    }

    /// The APIv3 key, ready for AES-GCM (what a client's config takes).
    pub(crate) fn apiv3_secret(&self) -> &SecretKey32 {
        &self.apiv3
    }

    /// The merchant id (`mchid`).
    #[must_use]
    pub fn mchid(&self) -> &str {
        &self.mchid
    }
    /// The app id bound to the merchant.
    #[must_use]
    pub fn appid(&self) -> &str {
        &self.appid
    }
    /// The merchant's API private key as PKCS#8 PEM (`apiclient_key.pem`).
    #[must_use]
    pub fn merchant_key_pem(&self) -> &SecretString {
        &self.merchant_key_pem
    }
    /// The merchant's API private key, parsed.
    #[must_use]
    pub fn merchant_key(&self) -> &RsaPrivateKey {
        &self.merchant_key
    }
    /// The merchant's API certificate as PEM (`apiclient_cert.pem`).
    #[must_use]
    pub fn merchant_cert_pem(&self) -> &str {
        &self.merchant_cert_pem
    }
    /// The merchant certificate serial, upper-case hex: the `serial_no` of `Authorization`.
    #[must_use]
    pub fn merchant_serial(&self) -> String {
        self.merchant_cert.serial_hex_upper()
    }
    /// The platform certificate as PEM.
    #[must_use]
    pub fn platform_cert_pem(&self) -> &str {
        &self.platform_cert_pem
    }
    /// The platform certificate, parsed.
    #[must_use]
    pub fn platform_cert(&self) -> &Certificate {
        &self.platform_cert
    }
    /// The platform certificate serial, upper-case hex.
    #[must_use]
    pub fn platform_serial(&self) -> String {
        self.platform_cert.serial_hex_upper()
    }
    /// The WeChat Pay public key as SPKI PEM (`pub_key.pem`).
    #[must_use]
    pub fn pub_key_pem(&self) -> &str {
        &self.pub_key_pem
    }
    /// The WeChat Pay public key, parsed.
    #[must_use]
    pub fn pub_key(&self) -> &RsaPublicKey {
        self.pub_key_private.public_key()
    }
    /// The WeChat Pay public key id, `PUB_KEY_ID_…`.
    #[must_use]
    pub fn pub_key_id(&self) -> &str {
        &self.pub_key_id
    }
    /// The merchant's APIv3 key (32 ASCII characters).
    #[must_use]
    pub fn apiv3_key(&self) -> &SecretString {
        &self.apiv3_key
    }
    /// The merchant's API v2 key (`apiv2_key.txt`): signs payment-code requests and answers.
    #[must_use]
    pub fn apiv2_key(&self) -> &SecretString {
        &self.apiv2_key
    }
    /// The CA that issued the merchant and platform certificates, as PEM.
    #[must_use]
    pub fn ca_cert_pem(&self) -> &str {
        &self.ca_cert_pem
    }

    /// Issue a platform certificate for `key` (rotation).
    pub(crate) fn issue_platform(
        &self,
        key: &keys::GeneratedKey,
        now: OffsetDateTime,
    ) -> Result<(String, Certificate), MockError> {
        let fresh;
        let ca = match &self.ca {
            Some(ca) => ca.as_ref(),
            None => {
                fresh = Ca::generate("payagg-mock Tenpay.com Root CA", now)?;
                &fresh
            }
        };
        ca.issue(
            key.pem.expose_secret(),
            "Tenpay.com sign",
            Some("Tenpay.com CA Center"),
            now,
        )
    }

    pub(crate) fn merchant_public(&self) -> &RsaPublicKey {
        self.merchant_key.public_key()
    }
    pub(crate) fn platform_key(&self) -> &RsaPrivateKey {
        &self.platform_key
    }
    pub(crate) fn pub_key_private(&self) -> &RsaPrivateKey {
        &self.pub_key_private
    }
    pub(crate) fn apiv3(&self) -> &SecretKey32 {
        &self.apiv3
    }

    fn write(&self, dir: &Path) -> Result<Vec<(PathBuf, &'static str)>, MockError> {
        let sim = dir.join("simulator");
        std::fs::create_dir_all(&sim)
            .map_err(|e| MockError::io(format!("creating {}", sim.display()), e))?;
        let files: [(&str, &str, &'static str); 10] = [
            (
                "apiclient_key.pem",
                self.merchant_key_pem.expose_secret(),
                "WeChat merchant API private key",
            ),
            (
                "apiclient_cert.pem",
                &self.merchant_cert_pem,
                "WeChat merchant API certificate",
            ),
            (
                "wechatpay_platform_cert.pem",
                &self.platform_cert_pem,
                "WeChat Pay platform certificate",
            ),
            ("pub_key.pem", &self.pub_key_pem, "WeChat Pay public key"),
            (
                "pub_key_id.txt",
                &self.pub_key_id,
                "WeChat Pay public key id",
            ),
            (
                "apiv3_key.txt",
                self.apiv3_key.expose_secret(),
                "WeChat APIv3 key",
            ),
            (
                "apiv2_key.txt",
                self.apiv2_key.expose_secret(),
                "WeChat API v2 key (payment codes)",
            ),
            (
                "simulator/wechatpay_platform_key.pem",
                self.platform_key_pem.expose_secret(),
                "simulator: platform private key",
            ),
            (
                "simulator/pub_key_private.pem",
                self.pub_key_private_pem.expose_secret(),
                "simulator: public-key private key",
            ),
            (
                "simulator/ca_cert.pem",
                &self.ca_cert_pem,
                "simulator: CA certificate",
            ),
        ];
        let mut out = Vec::new();
        for (name, content, what) in files {
            let path = dir.join("wechat").join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| MockError::io(format!("creating {}", parent.display()), e))?;
            }
            std::fs::write(&path, content)
                .map_err(|e| MockError::io(format!("writing {}", path.display()), e))?;
            out.push((path, what));
        }
        Ok(out)
    }

    fn config_json(&self) -> serde_json::Value {
        serde_json::json!({
            "mchid": self.mchid,
            "appid": self.appid,
            "merchant_private_key": "wechat/apiclient_key.pem",
            "merchant_certificate": "wechat/apiclient_cert.pem",
            "platform_private_key": "wechat/simulator/wechatpay_platform_key.pem",
            "platform_certificate": "wechat/wechatpay_platform_cert.pem",
            "public_key_private_key": "wechat/simulator/pub_key_private.pem",
            "public_key": "wechat/pub_key.pem",
            "public_key_id": self.pub_key_id,
            "apiv3_key": "wechat/apiv3_key.txt",
            "ca_certificate": "wechat/simulator/ca_cert.pem",
            "default_signer": match self.default_signer {
                WechatSigner::PlatformCertificate => "platform_certificate",
                WechatSigner::PublicKey => "public_key",
            },
            "platform_certificates": self.platform_certificates,
            "apiv2_key": "wechat/apiv2_key.txt",
            "fee_rate_ppm": self.fee_rate_ppm,
        })
    }
}

/// Everything [`MockServer::start`](crate::MockServer::start) needs.
#[derive(Debug, Clone)]
pub struct MockConfig {
    /// Where to listen; `127.0.0.1:0` (loopback, any free port) by default.
    pub listen: SocketAddr,
    /// The simulator clock's starting time.
    pub start_time: OffsetDateTime,
    /// How much faster than real time notification retry schedules run (1 = real time;
    /// 1000 turns WeChat's 15 s first retry into 15 ms).
    pub time_scale: u32,
    /// How long an injected `Timeout` fault holds a request before dropping it.
    pub hang_for: std::time::Duration,
    /// The WeChat Pay merchant and platform.
    pub wechat: WechatSetup,
    /// The UnionPay merchant and the simulated gateway's signing chain.
    pub unionpay: crate::unionpay::UnionpaySetup,
    /// The Alipay app and the simulated Alipay gateway's keys and certificates.
    pub alipay: crate::alipay::AlipaySetup,
}

impl MockConfig {
    /// Fresh keys for every channel, loopback on a free port, clock at the current time.
    ///
    /// # Errors
    /// [`MockError`] if key generation fails.
    pub fn generate() -> Result<Self, MockError> {
        let now = OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .unwrap_or_else(|_| OffsetDateTime::now_utc());
        Ok(Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            start_time: now,
            time_scale: 1,
            hang_for: std::time::Duration::from_secs(30),
            wechat: WechatSetup::generate(now)?,
            unionpay: crate::unionpay::UnionpaySetup::generate(now)?,
            alipay: crate::alipay::AlipaySetup::generate(now)?,
        })
    }

    /// Set the time scale (see [`MockConfig::time_scale`]).
    #[must_use]
    pub fn with_time_scale(mut self, scale: u32) -> Self {
        self.time_scale = scale.max(1);
        self
    }

    /// Set the listen address.
    #[must_use]
    pub fn with_listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// Load a configuration written by [`MockConfig::write_setup`] (`mock.json`). Relative
    /// paths are resolved against the file's directory.
    ///
    /// # Errors
    /// [`MockError`] if the file or a key it names cannot be read or parsed.
    pub fn load(path: &Path) -> Result<Self, MockError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| MockError::io(format!("reading {}", path.display()), e))?;
        let file: ConfigFile = serde_json::from_str(&text).map_err(|e| {
            MockError::config(format!(
                "{} is not a valid mock configuration",
                path.display()
            ))
            .with_source(e)
        })?;
        let dir = path.parent().unwrap_or_else(|| Path::new("."));
        let now = OffsetDateTime::now_utc()
            .replace_nanosecond(0)
            .unwrap_or_else(|_| OffsetDateTime::now_utc());
        Ok(Self {
            listen: file
                .listen
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0))),
            start_time: now,
            time_scale: file.time_scale.unwrap_or(1).max(1),
            hang_for: std::time::Duration::from_secs(30),
            wechat: WechatSetup::load(dir, file.wechat)?,
            unionpay: match file.unionpay {
                Some(f) => crate::unionpay::UnionpaySetup::load(dir, f)?,
                None => crate::unionpay::UnionpaySetup::generate(now)?,
            },
            alipay: match file.alipay {
                Some(f) => crate::alipay::AlipaySetup::load(dir, f)?,
                None => crate::alipay::AlipaySetup::generate(now)?,
            },
        })
    }

    /// Write the complete test setup into `dir`: per channel the merchant's credentials named
    /// as the channel names them, the simulator's own keys under `simulator/`, and `mock.json`.
    /// Returns each written path with a description.
    ///
    /// # Errors
    /// [`MockError`] if a file cannot be written.
    pub fn write_setup(&self, dir: &Path) -> Result<Vec<(PathBuf, &'static str)>, MockError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| MockError::io(format!("creating {}", dir.display()), e))?;
        let mut written = self.wechat.write(dir)?;
        written.extend(self.unionpay.write(dir)?);
        written.extend(self.alipay.write(dir)?);
        let config = serde_json::json!({
            "listen": self.listen.to_string(),
            "time_scale": self.time_scale,
            "wechat": self.wechat.config_json(),
            "unionpay": self.unionpay.config_json(),
            "alipay": self.alipay.config_json(),
        });
        let path = dir.join("mock.json");
        let text = serde_json::to_string_pretty(&config)
            .map_err(|e| MockError::config("serializing mock.json").with_source(e))?;
        std::fs::write(&path, text)
            .map_err(|e| MockError::io(format!("writing {}", path.display()), e))?;
        written.push((path, "simulator configuration (payagg-mock serve --config)"));
        Ok(written)
    }
}
