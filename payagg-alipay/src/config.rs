//! [`Config`] and [`ConfigBuilder`]: one Alipay app (keys parsed once, secrets redacted).
//!
//! Two key modes, exclusive per app (brief §10):
//!
//! | mode | files | what payagg derives |
//! | --- | --- | --- |
//! | public key | app private key + Alipay public key (bare base64 SPKI or PEM) | verify key |
//! | certificate | app private key + `appCertPublicKey_<appid>.crt` + `alipayCertPublicKey_RSA2.crt` + `alipayRootCert.crt` | `app_cert_sn`, `alipay_root_cert_sn`, `alipay_cert_sn` → verify key, root bundle for rotated certificates |
//!
//! Two transports ([`Transport`]): the classic gateway and the v3 REST API.
//!
//! The app private key may be bare base64 (PKCS#1 "非Java" or PKCS#8 "Java", as Alipay's key
//! tool writes it) or PEM. Partner (ISV) mode: set [`ConfigBuilder::app_auth_token`]; core's
//! `SubMerchant` is not used by Alipay (the token, not a merchant id, selects the merchant),
//! so requests carrying one are refused with `Unsupported` — use one client per token.

use std::fmt;
use std::time::Duration;

use payagg_core::crypto::{Certificate, RsaPrivateKey, RsaPublicKey};
use payagg_core::error::{ConfigError, Error};
use payagg_core::transport::{Timeouts, check_endpoint};
use secrecy::{ExposeSecret, SecretString};

use crate::aes::AesKey;
use crate::sign::{cert_sn, root_cert_sn};

/// Which Alipay API the client's server calls use ([`ConfigBuilder::transport`]).
///
/// Two transports, the same operations behind [`payagg_core::Gateway`] ([`Transport`]):
///
/// | transport | endpoint | request signature | response signature |
/// | --- | --- | --- | --- |
/// | [`Transport::Classic`] (default) | `POST {gateway_url}` (`gateway.do`) | `sign` parameter over the sorted parameters | `sign` over the raw `<method>_response` node |
/// | [`Transport::V3`] | `POST`/`GET {v3_base_url}/v3/alipay/…` (REST, JSON) | `Authorization: ALIPAY-SHA256withRSA …` | `alipay-signature` header over `{alipay-timestamp}\n{alipay-nonce}\n{body}\n` |
///
/// Page / WAP / App payments and notifications do not call the server (or come from Alipay)
/// and are classic on both transports; the v3 choice applies to precreate, payment code,
/// query, close, cancel, refund, refund query, transfer, transfer query and the bill URL.
/// Choose v3 when the app is configured for it on the open platform ("v3 接口"); both use
/// the same keys and certificates. In certificate mode v3 selects the Alipay certificate by
/// the `alipay-sn` response header; an unknown SN is a rotation handled as on the classic
/// gateway (downloaded with `alipay.open.app.alipaycert.download`, which has no v3 endpoint,
/// and accepted only if it chains to the configured root), where the official Java v3 SDK
/// fails; [`crate::AlipayClient::add_alipay_certificate`] adds one without a download.
///
/// v3 specifics: every 2xx answer must carry the signature headers; a non-2xx is verified
/// when signed (as the official PHP SDK) and otherwise reported as an unverified gateway
/// error (never good news); `{code, message, links}` maps through the classic sub-code table
/// (then 401 → auth, 403 → permission, 429 → rate limit, 5xx → system error), the
/// [`payagg_core::error::GatewayError`] carrying `code` = `sub_code` = the v3 code, the HTTP
/// status and `alipay-trace-id`. A payment-code answer without `gmt_payment` is treated like
/// the classic `10003` (the query / cancel flow decides). The trade query is sent as `POST`
/// (current official docs; older Java v3 docs list `GET`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Transport {
    /// The classic OpenAPI gateway (`gateway.do`, `sign` parameter). The default.
    #[default]
    Classic,
    /// The v3 REST API (`/v3/alipay/…`, `Authorization: ALIPAY-SHA256withRSA`, response
    /// signature headers).
    V3,
}

/// Production v3 REST base URL.
pub const PRODUCTION_V3_BASE: &str = "https://openapi.alipay.com";
/// Sandbox v3 REST base URL.
pub const SANDBOX_V3_BASE: &str = "https://openapi-sandbox.dl.alipaydev.com";

/// Production gateway.
pub const PRODUCTION_GATEWAY: &str = "https://openapi.alipay.com/gateway.do";
/// Sandbox gateway.
pub const SANDBOX_GATEWAY: &str = "https://openapi-sandbox.dl.alipaydev.com/gateway.do";

/// How Alipay's signatures are verified.
#[derive(Clone)]
pub(crate) enum KeyMode {
    PublicKey(RsaPublicKey),
    Cert {
        app_cert_sn: String,
        root_cert_sn: String,
        alipay_cert_sn: String,
        alipay_key: RsaPublicKey,
        /// The root bundle and any intermediates shipped with the Alipay certificate: trust
        /// anchors for rotated certificates.
        anchors: Vec<Certificate>,
    },
}

/// The payment-code (`bar_code`) wait: query every `interval` until `timeout`, then cancel up
/// to `cancel_attempts` times `cancel_interval` apart (brief §4.3: 3–6 s, about 60 s).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollSchedule {
    /// Between queries.
    pub interval: Duration,
    /// Total query time.
    pub timeout: Duration,
    /// Cancel calls at most (while `retry_flag=Y` or unknown).
    pub cancel_attempts: u32,
    /// Between cancel calls.
    pub cancel_interval: Duration,
}

impl Default for PollSchedule {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(3),
            timeout: Duration::from_secs(60),
            cancel_attempts: 4,
            cancel_interval: Duration::from_secs(2),
        }
    }
}

/// One Alipay app's configuration. Build with [`Config::builder`].
#[derive(Clone)]
pub struct Config {
    pub(crate) app_id: String,
    pub(crate) private_key: RsaPrivateKey,
    pub(crate) keys: KeyMode,
    pub(crate) gateway_url: String,
    pub(crate) transport: Transport,
    pub(crate) v3_base_url: String,
    pub(crate) notify_url: Option<String>,
    pub(crate) return_url: Option<String>,
    pub(crate) app_auth_token: Option<SecretString>,
    pub(crate) seller_id: Option<String>,
    pub(crate) aes_key: Option<AesKey>,
    pub(crate) timeouts: Timeouts,
    pub(crate) poll: PollSchedule,
}

impl Config {
    /// A builder.
    #[must_use]
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder::default()
    }

    /// The app id.
    #[must_use]
    pub fn app_id(&self) -> &str {
        &self.app_id
    }

    /// The gateway URL.
    #[must_use]
    pub fn gateway_url(&self) -> &str {
        &self.gateway_url
    }

    /// The transport of server calls ([`Transport::Classic`] unless chosen).
    #[must_use]
    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// The v3 REST base URL (scheme and host, no trailing slash).
    #[must_use]
    pub fn v3_base_url(&self) -> &str {
        &self.v3_base_url
    }

    /// Whether certificate mode is configured.
    #[must_use]
    pub fn is_cert_mode(&self) -> bool {
        matches!(self.keys, KeyMode::Cert { .. })
    }

    /// `app_cert_sn` (certificate mode).
    #[must_use]
    pub fn app_cert_sn(&self) -> Option<&str> {
        match &self.keys {
            KeyMode::Cert { app_cert_sn, .. } => Some(app_cert_sn),
            KeyMode::PublicKey(_) => None,
        }
    }

    /// `alipay_root_cert_sn` (certificate mode).
    #[must_use]
    pub fn alipay_root_cert_sn(&self) -> Option<&str> {
        match &self.keys {
            KeyMode::Cert { root_cert_sn, .. } => Some(root_cert_sn),
            KeyMode::PublicKey(_) => None,
        }
    }

    /// The SN of the configured Alipay certificate (certificate mode).
    #[must_use]
    pub fn alipay_cert_sn(&self) -> Option<&str> {
        match &self.keys {
            KeyMode::Cert { alipay_cert_sn, .. } => Some(alipay_cert_sn),
            KeyMode::PublicKey(_) => None,
        }
    }

    /// The seller (merchant) id used by the notification cross-check.
    #[must_use]
    pub fn seller_id(&self) -> Option<&str> {
        self.seller_id.as_deref()
    }

    /// Whether `biz_content` is AES-encrypted.
    #[must_use]
    pub fn encrypts_content(&self) -> bool {
        self.aes_key.is_some()
    }

    /// The payment-code wait schedule.
    #[must_use]
    pub fn poll_schedule(&self) -> PollSchedule {
        self.poll
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Config");
        d.field("app_id", &self.app_id)
            .field("private_key", &"<redacted>")
            .field("gateway_url", &self.gateway_url)
            .field("transport", &self.transport)
            .field("v3_base_url", &self.v3_base_url);
        match &self.keys {
            KeyMode::PublicKey(_) => d.field("mode", &"public key"),
            KeyMode::Cert {
                app_cert_sn,
                root_cert_sn,
                alipay_cert_sn,
                ..
            } => d
                .field("mode", &"certificate")
                .field("app_cert_sn", app_cert_sn)
                .field("alipay_root_cert_sn", root_cert_sn)
                .field("alipay_cert_sn", alipay_cert_sn),
        };
        d.field("notify_url", &self.notify_url)
            .field("return_url", &self.return_url)
            .field(
                "app_auth_token",
                &self.app_auth_token.as_ref().map(|_| "<redacted>"),
            )
            .field("seller_id", &self.seller_id)
            .field("aes_key", &self.aes_key.as_ref().map(|_| "<redacted>"))
            .field("poll", &self.poll)
            .finish()
    }
}

/// Builds a [`Config`]; [`ConfigBuilder::build`] validates and parses every key once.
#[derive(Default)]
pub struct ConfigBuilder {
    app_id: Option<String>,
    private_key: Option<SecretString>,
    alipay_public_key: Option<String>,
    app_cert: Option<String>,
    alipay_cert: Option<String>,
    root_cert: Option<String>,
    gateway_url: Option<String>,
    transport: Transport,
    v3_base_url: Option<String>,
    notify_url: Option<String>,
    return_url: Option<String>,
    app_auth_token: Option<SecretString>,
    seller_id: Option<String>,
    aes_key: Option<SecretString>,
    timeouts: Option<Timeouts>,
    poll: Option<PollSchedule>,
}

impl fmt::Debug for ConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigBuilder")
            .field("app_id", &self.app_id)
            .field("gateway_url", &self.gateway_url)
            .finish_non_exhaustive()
    }
}

impl ConfigBuilder {
    /// The app id (required).
    #[must_use]
    pub fn app_id(mut self, app_id: impl Into<String>) -> Self {
        self.app_id = Some(app_id.into());
        self
    }

    /// The app private key: bare base64 PKCS#1/PKCS#8 (Alipay key tool) or PEM (required).
    #[must_use]
    pub fn app_private_key(mut self, key: impl Into<String>) -> Self {
        self.private_key = Some(SecretString::from(key.into()));
        self
    }

    /// Public-key mode: the Alipay public key (bare base64 SPKI from the console, or PEM).
    #[must_use]
    pub fn alipay_public_key(mut self, key: impl Into<String>) -> Self {
        self.alipay_public_key = Some(key.into());
        self
    }

    /// Certificate mode: the text of `appCertPublicKey_<appid>.crt`,
    /// `alipayCertPublicKey_RSA2.crt` and `alipayRootCert.crt`.
    #[must_use]
    pub fn certificates(
        mut self,
        app_cert_pem: impl Into<String>,
        alipay_cert_pem: impl Into<String>,
        root_cert_pem: impl Into<String>,
    ) -> Self {
        self.app_cert = Some(app_cert_pem.into());
        self.alipay_cert = Some(alipay_cert_pem.into());
        self.root_cert = Some(root_cert_pem.into());
        self
    }

    /// The gateway URL (default production; the simulator's
    /// `http://127.0.0.1:<port>/gateway.do` is allowed, plain HTTP only on loopback).
    #[must_use]
    pub fn gateway_url(mut self, url: impl Into<String>) -> Self {
        self.gateway_url = Some(url.into());
        self
    }

    /// Use the sandbox gateway.
    #[must_use]
    pub fn sandbox(self) -> Self {
        self.gateway_url(SANDBOX_GATEWAY)
    }

    /// The transport of server calls (default [`Transport::Classic`]); see the module docs.
    #[must_use]
    pub fn transport(mut self, transport: Transport) -> Self {
        self.transport = transport;
        self
    }

    /// Shorthand: `true` = [`Transport::V3`], `false` = [`Transport::Classic`].
    #[must_use]
    pub fn api_v3(self, on: bool) -> Self {
        self.transport(if on {
            Transport::V3
        } else {
            Transport::Classic
        })
    }

    /// The v3 REST base URL. Default: the gateway URL without its `/gateway.do` path
    /// (`https://openapi.alipay.com`, the sandbox host after [`ConfigBuilder::sandbox`], the
    /// simulator's `http://127.0.0.1:<port>`).
    #[must_use]
    pub fn v3_base_url(mut self, url: impl Into<String>) -> Self {
        self.v3_base_url = Some(url.into());
        self
    }

    /// Default `notify_url` (a request's own URL wins).
    #[must_use]
    pub fn notify_url(mut self, url: impl Into<String>) -> Self {
        self.notify_url = Some(url.into());
        self
    }

    /// Default `return_url` for page/wap pay (a request's own URL wins).
    #[must_use]
    pub fn return_url(mut self, url: impl Into<String>) -> Self {
        self.return_url = Some(url.into());
        self
    }

    /// Partner (ISV) mode: the merchant's `app_auth_token`.
    #[must_use]
    pub fn app_auth_token(mut self, token: impl Into<String>) -> Self {
        self.app_auth_token = Some(SecretString::from(token.into()));
        self
    }

    /// The merchant's seller id (2088…), checked against notifications.
    #[must_use]
    pub fn seller_id(mut self, id: impl Into<String>) -> Self {
        self.seller_id = Some(id.into());
        self
    }

    /// Turn on content encryption with the console's base64 AES key.
    #[must_use]
    pub fn aes_key(mut self, key_b64: impl Into<String>) -> Self {
        self.aes_key = Some(SecretString::from(key_b64.into()));
        self
    }

    /// Transport timeouts.
    #[must_use]
    pub fn timeouts(mut self, t: Timeouts) -> Self {
        self.timeouts = Some(t);
        self
    }

    /// The payment-code wait schedule.
    #[must_use]
    pub fn poll_schedule(mut self, p: PollSchedule) -> Self {
        self.poll = Some(p);
        self
    }

    /// Validates and parses everything.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] for a missing app id or key, an unparsable key or certificate, both
    /// or neither key mode, a bad AES key; [`Error::InvalidInput`] for a non-HTTPS gateway.
    pub fn build(self) -> Result<Config, Error> {
        let app_id = self
            .app_id
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| ConfigError::new("Alipay app_id", "missing"))?;
        let private_key = self
            .private_key
            .ok_or_else(|| ConfigError::new("Alipay app private key", "missing"))?;
        let private_key = RsaPrivateKey::from_pem(private_key.expose_secret())?;
        let keys = match (
            self.alipay_public_key,
            self.app_cert,
            self.alipay_cert,
            self.root_cert,
        ) {
            (Some(pk), None, None, None) => KeyMode::PublicKey(RsaPublicKey::from_pem(&pk)?),
            (None, Some(app), Some(alipay), Some(root)) => {
                let app_cert = Certificate::from_pem(&app)?;
                let alipay_chain = Certificate::pem_bundle(&alipay)?;
                let alipay_leaf = alipay_chain
                    .first()
                    .cloned()
                    .ok_or_else(|| ConfigError::new("alipayCertPublicKey_RSA2.crt", "empty"))?;
                let roots = Certificate::pem_bundle(&root)?;
                let root_cert_sn = root_cert_sn(&roots);
                if root_cert_sn.is_empty() {
                    return Err(ConfigError::new(
                        "alipayRootCert.crt",
                        "no RSA-signed certificate in the bundle",
                    )
                    .into());
                }
                let mut anchors = roots;
                anchors.extend(alipay_chain.into_iter().skip(1));
                KeyMode::Cert {
                    app_cert_sn: cert_sn(&app_cert),
                    root_cert_sn,
                    alipay_cert_sn: cert_sn(&alipay_leaf),
                    alipay_key: alipay_leaf.public_key()?,
                    anchors,
                }
            }
            (None, None, None, None) => {
                return Err(ConfigError::new(
                    "Alipay verification key",
                    "set alipay_public_key (public-key mode) or certificates (certificate mode)",
                )
                .into());
            }
            _ => {
                return Err(ConfigError::new(
                    "Alipay verification key",
                    "public-key mode and certificate mode are exclusive; certificate mode needs all three files",
                )
                .into());
            }
        };
        let gateway_url = self
            .gateway_url
            .unwrap_or_else(|| PRODUCTION_GATEWAY.to_owned());
        check_endpoint(&gateway_url)?;
        let v3_base_url = match self.v3_base_url {
            Some(u) => u.trim_end_matches('/').to_owned(),
            None => default_v3_base(&gateway_url),
        };
        check_endpoint(&v3_base_url)?;
        let aes_key = match self.aes_key {
            Some(k) => Some(AesKey::from_base64(k.expose_secret())?),
            None => None,
        };
        Ok(Config {
            app_id,
            private_key,
            keys,
            gateway_url,
            transport: self.transport,
            v3_base_url,
            notify_url: self.notify_url,
            return_url: self.return_url,
            app_auth_token: self.app_auth_token,
            seller_id: self.seller_id,
            aes_key,
            timeouts: self.timeouts.unwrap_or_default(),
            poll: self.poll.unwrap_or_default(),
        })
    }
}

/// `https://host[:port]/…/gateway.do?x` → `https://host[:port]` (the v3 paths are absolute).
fn default_v3_base(gateway_url: &str) -> String {
    let no_query = gateway_url.split(['?', '#']).next().unwrap_or(gateway_url);
    let after_scheme = no_query.find("://").map_or(0, |i| i + 3);
    match no_query[after_scheme..].find('/') {
        Some(i) => no_query[..after_scheme + i].to_owned(),
        None => no_query.trim_end_matches('/').to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v3_base_from_gateway() {
        assert_eq!(default_v3_base(PRODUCTION_GATEWAY), PRODUCTION_V3_BASE);
        assert_eq!(default_v3_base(SANDBOX_GATEWAY), SANDBOX_V3_BASE);
        assert_eq!(
            default_v3_base("http://127.0.0.1:8080/gateway.do?charset=utf-8"),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            default_v3_base("http://127.0.0.1:8080"),
            "http://127.0.0.1:8080"
        );
    }
}
