//! Merchant configuration: ids, signing credential and UnionPay's trust chain (parsed once),
//! environment, endpoints, URLs, timeouts and retries.

use std::fmt;

use payagg_core::crypto::Certificate;
use payagg_core::error::ConfigError;
use payagg_core::transport::{RetryPolicy, Timeouts, check_endpoint};
use secrecy::{ExposeSecret, SecretString};
use time::Duration;

use crate::sign::{SignMethod, Signer};
use crate::verify::{CnRule, TrustChain, Verifier};
use crate::wire::paths;

/// Test or production: selects the default hosts and the CN rule of the signer check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Environment {
    /// `gateway.test.95516.com`; the CN rule also accepts the old test signers.
    Test,
    /// `gateway.95516.com`; strict CN rule.
    Production,
}

/// A UnionPay merchant's configuration. Build with [`Config::builder`].
///
/// `Debug` prints the merchant id, `certId` and certificate serials only, never key material,
/// passwords or the secure key.
#[derive(Clone)]
pub struct Config {
    pub(crate) mer_id: String,
    pub(crate) environment: Environment,
    pub(crate) signer: Signer,
    pub(crate) verifier: Verifier,
    pub(crate) gateway_url: String,
    pub(crate) file_url: String,
    pub(crate) front_url: Option<String>,
    pub(crate) back_url: Option<String>,
    pub(crate) pay_timeout: Duration,
    pub(crate) timeouts: Timeouts,
    pub(crate) retry: RetryPolicy,
}

impl Config {
    /// A builder.
    #[must_use]
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder::default()
    }
    /// The merchant id (`merId`).
    #[must_use]
    pub fn mer_id(&self) -> &str {
        &self.mer_id
    }
    /// The environment.
    #[must_use]
    pub fn environment(&self) -> Environment {
        self.environment
    }
    /// `certId` of the signing certificate (`signMethod=01`).
    #[must_use]
    pub fn cert_id(&self) -> Option<&str> {
        self.signer.cert_id()
    }
    /// The gateway base URL.
    #[must_use]
    pub fn gateway_url(&self) -> &str {
        &self.gateway_url
    }
    /// The signer (for the simulator and tests).
    #[must_use]
    pub fn signer(&self) -> &Signer {
        &self.signer
    }
    /// The verifier of answers and notifications.
    #[must_use]
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("mer_id", &self.mer_id)
            .field("environment", &self.environment)
            .field("signer", &self.signer)
            .field("verifier", &self.verifier.method())
            .field("gateway_url", &self.gateway_url)
            .field("file_url", &self.file_url)
            .field("front_url", &self.front_url)
            .field("back_url", &self.back_url)
            .field("pay_timeout", &self.pay_timeout)
            .field("timeouts", &self.timeouts)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

enum Signing {
    Pfx(Vec<u8>, SecretString),
    Pem(SecretString, String),
    SecureKey(SignMethod, SecretString),
}

/// Builds a [`Config`]; [`ConfigBuilder::build`] validates everything and parses keys once.
#[derive(Default)]
pub struct ConfigBuilder {
    mer_id: Option<String>,
    environment: Option<Environment>,
    signing: Option<Signing>,
    middle_pem: Option<String>,
    root_pem: Option<String>,
    gateway_url: Option<String>,
    file_url: Option<String>,
    front_url: Option<String>,
    back_url: Option<String>,
    pay_timeout: Option<Duration>,
    timeouts: Option<Timeouts>,
    retry: Option<RetryPolicy>,
}

impl fmt::Debug for ConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigBuilder")
            .field("mer_id", &self.mer_id)
            .field("environment", &self.environment)
            .field(
                "signing",
                &self.signing.as_ref().map(|s| match s {
                    Signing::Pfx(..) => "pfx [REDACTED]",
                    Signing::Pem(..) => "pem [REDACTED]",
                    Signing::SecureKey(..) => "secure key [REDACTED]",
                }),
            )
            .field("gateway_url", &self.gateway_url)
            .finish_non_exhaustive()
    }
}

impl ConfigBuilder {
    /// The 15-digit merchant id (`merId`).
    #[must_use]
    pub fn mer_id(mut self, mer_id: impl Into<String>) -> Self {
        self.mer_id = Some(mer_id.into());
        self
    }
    /// Test or production (required): default hosts and CN rule.
    #[must_use]
    pub fn environment(mut self, env: Environment) -> Self {
        self.environment = Some(env);
        self
    }
    /// Sign with `signMethod=01` using the PKCS#12 file UnionPay issued and its password.
    #[must_use]
    pub fn signing_pfx(mut self, pfx: impl Into<Vec<u8>>, password: SecretString) -> Self {
        self.signing = Some(Signing::Pfx(pfx.into(), password));
        self
    }
    /// Sign with `signMethod=01` using a PEM private key (PKCS#8 or PKCS#1) and its
    /// certificate (`openssl pkcs12 -legacy -in x.pfx -nodes`).
    #[must_use]
    pub fn signing_pem(mut self, key_pem: SecretString, cert_pem: impl Into<String>) -> Self {
        self.signing = Some(Signing::Pem(key_pem, cert_pem.into()));
        self
    }
    /// Sign (and verify) with the secure key: `signMethod=11` (SHA-256) or `12` (SM3).
    #[must_use]
    pub fn secure_key(mut self, method: SignMethod, key: SecretString) -> Self {
        self.signing = Some(Signing::SecureKey(method, key));
        self
    }
    /// UnionPay's middle certificate (`acp_*_middle.cer`), required for `signMethod=01`.
    #[must_use]
    pub fn middle_cert_pem(mut self, pem: impl Into<String>) -> Self {
        self.middle_pem = Some(pem.into());
        self
    }
    /// UnionPay's root certificate (`acp_*_root.cer`), required for `signMethod=01`.
    #[must_use]
    pub fn root_cert_pem(mut self, pem: impl Into<String>) -> Self {
        self.root_pem = Some(pem.into());
        self
    }
    /// The gateway base URL (default by environment; `http://127.0.0.1:port` for the
    /// simulator).
    #[must_use]
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.gateway_url = Some(url.into());
        self
    }
    /// The file host base URL (default by environment; the simulator's URL for tests).
    #[must_use]
    pub fn file_base_url(mut self, url: impl Into<String>) -> Self {
        self.file_url = Some(url.into());
        self
    }
    /// Where the payer's browser returns (`frontUrl`); a request's `return_url` overrides it.
    #[must_use]
    pub fn front_url(mut self, url: impl Into<String>) -> Self {
        self.front_url = Some(url.into());
        self
    }
    /// Where UnionPay posts notifications (`backUrl`); a request's `notify_url` overrides it.
    #[must_use]
    pub fn back_url(mut self, url: impl Into<String>) -> Self {
        self.back_url = Some(url.into());
        self
    }
    /// `payTimeout` of front and app consumes when the request sets no expiry (default 15 min).
    #[must_use]
    pub fn pay_timeout(mut self, d: Duration) -> Self {
        self.pay_timeout = Some(d);
        self
    }
    /// Timeouts of the default transport.
    #[must_use]
    pub fn timeouts(mut self, t: Timeouts) -> Self {
        self.timeouts = Some(t);
        self
    }
    /// Retry policy for queries and file downloads (pay and refund are never retried).
    #[must_use]
    pub fn retry_policy(mut self, r: RetryPolicy) -> Self {
        self.retry = Some(r);
        self
    }

    /// Validates the settings, reads the PFX or PEM and pins the chain.
    ///
    /// # Errors
    /// [`payagg_core::Error::Config`] naming the missing or unusable setting;
    /// [`payagg_core::Error::InvalidInput`] for a malformed URL.
    pub fn build(self) -> payagg_core::Result<Config> {
        let mer_id = self
            .mer_id
            .ok_or_else(|| ConfigError::new("mer_id", "is required"))?;
        if mer_id.len() != 15 || !mer_id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ConfigError::new("mer_id", format!("{mer_id:?} is not 15 digits")).into());
        }
        let environment = self
            .environment
            .ok_or_else(|| ConfigError::new("environment", "is required (test or production)"))?;
        let rule = match environment {
            Environment::Test => CnRule::Test,
            Environment::Production => CnRule::Strict,
        };
        let chain = || -> payagg_core::Result<TrustChain> {
            let need = |v: &Option<String>, what: &str| {
                v.clone().ok_or_else(|| {
                    ConfigError::new(what, "is required for signMethod=01 (certificates)")
                })
            };
            let middle = Certificate::from_pem(&need(&self.middle_pem, "middle_cert_pem")?)?;
            let root = Certificate::from_pem(&need(&self.root_pem, "root_cert_pem")?)?;
            Ok(TrustChain::new(middle, root)?)
        };
        let (signer, verifier) = match self.signing {
            None => {
                return Err(ConfigError::new(
                    "signing",
                    "a PFX, a PEM key and certificate, or a secure key is required",
                )
                .into());
            }
            Some(Signing::Pfx(pfx, pw)) => {
                let (key, cert) = crate::keys::load_pkcs12(&pfx, pw.expose_secret())?;
                (
                    Signer::rsa(key, cert.serial_decimal()),
                    Verifier::rsa(chain()?, rule),
                )
            }
            Some(Signing::Pem(key, cert)) => {
                let (key, cert) = crate::keys::load_pem(key.expose_secret(), &cert)?;
                (
                    Signer::rsa(key, cert.serial_decimal()),
                    Verifier::rsa(chain()?, rule),
                )
            }
            Some(Signing::SecureKey(method, key)) => {
                if method == SignMethod::Rsa || key.expose_secret().is_empty() {
                    return Err(ConfigError::new(
                        "secure_key",
                        "needs signMethod 11 or 12 and a non-empty key",
                    )
                    .into());
                }
                (
                    Signer::secure_key(method, key.clone()),
                    Verifier::secure_key(method, key),
                )
            }
        };
        let (gw, file) = match environment {
            Environment::Test => (paths::TEST_GATEWAY, paths::TEST_FILE_HOST),
            Environment::Production => (paths::PROD_GATEWAY, paths::PROD_FILE_HOST),
        };
        let gateway_url = self.gateway_url.unwrap_or_else(|| gw.to_owned());
        let file_url = self.file_url.unwrap_or_else(|| file.to_owned());
        check_endpoint(&gateway_url)?;
        check_endpoint(&file_url)?;
        Ok(Config {
            mer_id,
            environment,
            signer,
            verifier,
            gateway_url: gateway_url.trim_end_matches('/').to_owned(),
            file_url: file_url.trim_end_matches('/').to_owned(),
            front_url: self.front_url,
            back_url: self.back_url,
            pay_timeout: self.pay_timeout.unwrap_or(Duration::minutes(15)),
            timeouts: self.timeouts.unwrap_or_default(),
            retry: self.retry.unwrap_or_default(),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_and_validates() {
        let c = Config::builder()
            .mer_id("777290058110048")
            .environment(Environment::Test)
            .secure_key(
                SignMethod::SecureKeySha256,
                "s3cr3t-88888888".to_owned().into(),
            )
            .build()
            .unwrap();
        let d = format!("{c:?}");
        assert!(!d.contains("s3cr3t"), "{d}");
        assert!(d.contains("777290058110048"));
        assert_eq!(c.gateway_url(), paths::TEST_GATEWAY);
        let b = Config::builder().signing_pfx(vec![1, 2], "pw-123456".to_owned().into());
        assert!(!format!("{b:?}").contains("pw-123456"));
        assert!(Config::builder().mer_id("123").build().is_err());
        assert!(
            Config::builder()
                .mer_id("777290058110048")
                .environment(Environment::Production)
                .build()
                .is_err()
        );
        assert!(
            Config::builder()
                .mer_id("777290058110048")
                .environment(Environment::Production)
                .secure_key(SignMethod::SecureKeySha256, "k".to_owned().into())
                .base_url("http://example.com")
                .build()
                .is_err(),
            "plain http only to loopback"
        );
    }
}
