//! The simulated Alipay app (merchant side) and the simulated Alipay gateway's keys and
//! certificates, generated or loaded from the files `init` writes.

use std::path::{Path, PathBuf};

use payagg_alipay::sign::{cert_sn_from_pem, root_cert_sn_from_pem};
use payagg_core::crypto::{RsaPrivateKey, RsaPublicKey};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use time::OffsetDateTime;

use crate::error::MockError;
use crate::keys::{self, Ca};

/// One simulated Alipay app (`app_id`, seller `2088…`) and the simulated gateway's keys.
///
/// The same app key signs in both modes: public-key mode (the gateway knows the app public
/// key) and certificate mode (the request also carries `app_cert_sn` and
/// `alipay_root_cert_sn`, which must match `appCertPublicKey_<appid>.crt` and
/// `alipayRootCert.crt`). The gateway's answers are signed with the Alipay key whose public
/// half is both `alipayPublicKey_RSA2.txt` and the key of `alipayCertPublicKey_RSA2.crt`.
#[derive(Clone)]
pub struct AlipaySetup {
    app_id: String,
    seller_id: String,
    app_key_pem: SecretString,
    app_key: RsaPrivateKey,
    app_cert_pem: String,
    app_cert_sn: String,
    alipay_key_pem: SecretString,
    alipay_key: RsaPrivateKey,
    alipay_public_pem: String,
    alipay_cert_pem: String,
    alipay_cert_sn: String,
    root_cert_pem: String,
    root_cert_sn: String,
    aes_key: SecretString,
    /// Accepted skew of the request `timestamp` against the simulator clock, in seconds
    /// (default 900; 0 checks the format only). Outside it: `isv.invalid-timestamp`.
    pub timestamp_window_secs: u32,
    /// Answer protocol errors (bad signature, unknown app, …) as a signed `<method>_response`
    /// node instead of the default unsigned `error_response` (both are seen from Alipay).
    pub sign_protocol_errors: bool,
    /// The app's fee rate in parts per million (default 6000 = 0.60 %): the bill's 服务费.
    pub fee_rate_ppm: u32,
    /// When a day has no business, answer `bill_file_code=EMPTY_DATA_WITH_BILL_FILE` with an
    /// empty file instead of `isp.bill_not_exist` (default `false`).
    pub empty_bill_file: bool,
}

impl std::fmt::Debug for AlipaySetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlipaySetup")
            .field("app_id", &self.app_id)
            .field("seller_id", &self.seller_id)
            .field("app_cert_sn", &self.app_cert_sn)
            .field("alipay_cert_sn", &self.alipay_cert_sn)
            .field("root_cert_sn", &self.root_cert_sn)
            .finish_non_exhaustive()
    }
}

/// The on-disk form of [`AlipaySetup`] in `mock.json`: paths relative to that file.
#[derive(Debug, Deserialize)]
pub(crate) struct AlipayFiles {
    app_id: String,
    seller_id: String,
    app_private_key: PathBuf,
    app_certificate: PathBuf,
    alipay_private_key: PathBuf,
    alipay_certificate: PathBuf,
    root_certificate: PathBuf,
    aes_key: PathBuf,
    #[serde(default = "default_window")]
    timestamp_window_secs: u32,
    #[serde(default)]
    sign_protocol_errors: bool,
    #[serde(default = "default_fee")]
    fee_rate_ppm: u32,
    #[serde(default)]
    empty_bill_file: bool,
}

fn default_window() -> u32 {
    900
}

fn default_fee() -> u32 {
    crate::config::DEFAULT_FEE_RATE_PPM
}

fn cfg<T, E: std::error::Error + Send + Sync + 'static>(
    r: Result<T, E>,
    what: &str,
) -> Result<T, MockError> {
    r.map_err(|e| MockError::config(format!("Alipay {what}")).with_source(e))
}

/// The base64 body of a PEM block (what Alipay's key tool and console show).
fn pem_body(pem: &str) -> String {
    pem.lines()
        .filter(|l| !l.starts_with("-----"))
        .map(str::trim)
        .collect()
}

/// The bare base64 PKCS#1 `RSAPrivateKey` of a PKCS#8 PEM key: the key tool's "非Java" form,
/// which the official Python and PHP SDKs wrap as `RSA PRIVATE KEY`.
fn pkcs1_body(pkcs8_pem: &str) -> Result<String, MockError> {
    use base64::Engine as _;
    use rsa::pkcs1::EncodeRsaPrivateKey as _;
    use rsa::pkcs8::DecodePrivateKey as _;
    let key = cfg(
        rsa::RsaPrivateKey::from_pkcs8_pem(pkcs8_pem),
        "app private key PEM",
    )?;
    let der = cfg(key.to_pkcs1_der(), "app private key PKCS#1 encoding")?;
    Ok(base64::engine::general_purpose::STANDARD.encode(der.as_bytes()))
}

impl AlipaySetup {
    /// Generate a fresh app (`2021000000000001`, seller `2088000000000001`), an Alipay key,
    /// a root CA, the app and Alipay public-key certificates and an AES content key.
    ///
    /// # Errors
    /// [`MockError`] if key or certificate generation fails.
    pub fn generate(now: OffsetDateTime) -> Result<Self, MockError> {
        let ca = Ca::generate("payagg-mock Ant Financial Certification Authority R1", now)?;
        let app = keys::generate_rsa()?;
        let alipay = keys::generate_rsa()?;
        let app_id = format!("2021{}", keys::random_digits(12));
        let (app_cert_pem, _) = ca.issue(
            app.pem.expose_secret(),
            &app_id,
            Some("payagg-mock app"),
            now,
        )?;
        let (alipay_cert_pem, _) = ca.issue(
            alipay.pem.expose_secret(),
            "payagg-mock Alipay sign",
            Some("Alipay"),
            now,
        )?;
        let aes_key = {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.encode(keys::random_bytes::<16>())
        };
        Self::assemble(
            app_id,
            format!("2088{}", keys::random_digits(12)),
            app.pem,
            app_cert_pem,
            alipay.pem,
            alipay_cert_pem,
            ca.cert_pem,
            SecretString::from(aes_key),
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn assemble(
        app_id: String,
        seller_id: String,
        app_key_pem: SecretString,
        app_cert_pem: String,
        alipay_key_pem: SecretString,
        alipay_cert_pem: String,
        root_cert_pem: String,
        aes_key: SecretString,
    ) -> Result<Self, MockError> {
        let app_key = cfg(
            RsaPrivateKey::from_pem(app_key_pem.expose_secret()),
            "app private key",
        )?;
        let alipay_key = cfg(
            RsaPrivateKey::from_pem(alipay_key_pem.expose_secret()),
            "Alipay private key",
        )?;
        let app_cert_sn = cfg(cert_sn_from_pem(&app_cert_pem), "app certificate")?;
        let alipay_cert_sn = cfg(cert_sn_from_pem(&alipay_cert_pem), "Alipay certificate")?;
        let root_cert_sn = cfg(root_cert_sn_from_pem(&root_cert_pem), "root certificate")?;
        let cert_key = cfg(
            payagg_core::crypto::Certificate::from_pem(&alipay_cert_pem)
                .and_then(|c| c.public_key()),
            "Alipay certificate key",
        )?;
        if cert_key != *alipay_key.public_key() {
            return Err(MockError::config(
                "alipayCertPublicKey_RSA2.crt does not hold the Alipay private key's public key",
            ));
        }
        let alipay_public_pem = {
            use base64::Engine as _;
            let b64 = base64::engine::general_purpose::STANDARD
                .encode(alipay_key.public_key().spki_der());
            let mut pem = String::from("-----BEGIN PUBLIC KEY-----\n");
            for chunk in b64.as_bytes().chunks(64) {
                pem.push_str(std::str::from_utf8(chunk).unwrap_or_default());
                pem.push('\n');
            }
            pem.push_str("-----END PUBLIC KEY-----\n");
            pem
        };
        Ok(Self {
            app_id,
            seller_id,
            app_key_pem,
            app_key,
            app_cert_pem,
            app_cert_sn,
            alipay_key_pem,
            alipay_key,
            alipay_public_pem,
            alipay_cert_pem,
            alipay_cert_sn,
            root_cert_pem,
            root_cert_sn,
            aes_key,
            timestamp_window_secs: default_window(),
            sign_protocol_errors: false,
            fee_rate_ppm: default_fee(),
            empty_bill_file: false,
        })
    }

    pub(crate) fn load(dir: &Path, f: AlipayFiles) -> Result<Self, MockError> {
        let read = |p: &Path| -> Result<String, MockError> {
            let full = dir.join(p);
            std::fs::read_to_string(&full)
                .map_err(|e| MockError::io(format!("reading {}", full.display()), e))
        };
        let mut s = Self::assemble(
            f.app_id,
            f.seller_id,
            SecretString::from(read(&f.app_private_key)?),
            read(&f.app_certificate)?,
            SecretString::from(read(&f.alipay_private_key)?),
            read(&f.alipay_certificate)?,
            read(&f.root_certificate)?,
            SecretString::from(read(&f.aes_key)?.trim().to_owned()),
        )?;
        s.timestamp_window_secs = f.timestamp_window_secs;
        s.sign_protocol_errors = f.sign_protocol_errors;
        s.fee_rate_ppm = f.fee_rate_ppm;
        s.empty_bill_file = f.empty_bill_file;
        Ok(s)
    }

    /// The app id (16 digits, `2021…`).
    #[must_use]
    pub fn app_id(&self) -> &str {
        &self.app_id
    }
    /// The seller's user id (`2088…`, the `seller_id` of notifications; PID of the bills).
    #[must_use]
    pub fn seller_id(&self) -> &str {
        &self.seller_id
    }
    /// The app private key as PKCS#8 PEM.
    #[must_use]
    pub fn app_private_key_pem(&self) -> &SecretString {
        &self.app_key_pem
    }
    /// The app private key, parsed.
    #[must_use]
    pub fn app_private_key(&self) -> &RsaPrivateKey {
        &self.app_key
    }
    /// The app's public-key certificate (`appCertPublicKey_<appid>.crt`).
    #[must_use]
    pub fn app_cert_pem(&self) -> &str {
        &self.app_cert_pem
    }
    /// `app_cert_sn` of the app certificate.
    #[must_use]
    pub fn app_cert_sn(&self) -> &str {
        &self.app_cert_sn
    }
    /// The Alipay public key as SPKI PEM (public-key mode).
    #[must_use]
    pub fn alipay_public_key_pem(&self) -> &str {
        &self.alipay_public_pem
    }
    /// The Alipay public key, parsed.
    #[must_use]
    pub fn alipay_public_key(&self) -> &RsaPublicKey {
        self.alipay_key.public_key()
    }
    /// The Alipay public-key certificate (`alipayCertPublicKey_RSA2.crt`).
    #[must_use]
    pub fn alipay_cert_pem(&self) -> &str {
        &self.alipay_cert_pem
    }
    /// `alipay_cert_sn` of the Alipay certificate (sent with certificate-mode answers).
    #[must_use]
    pub fn alipay_cert_sn(&self) -> &str {
        &self.alipay_cert_sn
    }
    /// The root bundle (`alipayRootCert.crt`).
    #[must_use]
    pub fn root_cert_pem(&self) -> &str {
        &self.root_cert_pem
    }
    /// `alipay_root_cert_sn` of the root bundle.
    #[must_use]
    pub fn root_cert_sn(&self) -> &str {
        &self.root_cert_sn
    }
    /// The AES content key (base64 of 16 bytes) for `encrypt_type=AES`.
    #[must_use]
    pub fn aes_key(&self) -> &SecretString {
        &self.aes_key
    }
    pub(crate) fn alipay_private_key(&self) -> &RsaPrivateKey {
        &self.alipay_key
    }

    /// Write the merchant's files (named as Alipay names them) under `dir/alipay/`.
    pub(crate) fn write(&self, dir: &Path) -> Result<Vec<(PathBuf, &'static str)>, MockError> {
        let cert_name = format!("appCertPublicKey_{}.crt", self.app_id);
        let files: Vec<(String, String, &'static str)> = vec![
            (
                "app_private_key.pem".into(),
                self.app_key_pem.expose_secret().to_owned(),
                "Alipay app private key (PKCS#8 PEM)",
            ),
            (
                "app_private_key.txt".into(),
                pem_body(self.app_key_pem.expose_secret()),
                "Alipay app private key, bare base64 as the key tool gives it (应用私钥, PKCS#8, Java)",
            ),
            (
                "app_private_key_pkcs1.txt".into(),
                pkcs1_body(self.app_key_pem.expose_secret())?,
                "Alipay app private key, bare base64 PKCS#1 (应用私钥, 非Java: Python, PHP SDKs)",
            ),
            (
                "alipayPublicKey_RSA2.txt".into(),
                pem_body(&self.alipay_public_pem),
                "Alipay public key, bare base64 (public-key mode)",
            ),
            (
                "alipayCertPublicKey_RSA2.crt".into(),
                self.alipay_cert_pem.clone(),
                "Alipay public-key certificate (certificate mode)",
            ),
            (
                "alipayRootCert.crt".into(),
                self.root_cert_pem.clone(),
                "Alipay root certificate (certificate mode)",
            ),
            (
                cert_name,
                self.app_cert_pem.clone(),
                "Alipay app public-key certificate (certificate mode)",
            ),
            (
                "aes_key.txt".into(),
                self.aes_key.expose_secret().to_owned(),
                "Alipay AES content key (encrypt_type=AES)",
            ),
            (
                "simulator/alipay_private_key.pem".into(),
                self.alipay_key_pem.expose_secret().to_owned(),
                "simulator: Alipay gateway private key",
            ),
        ];
        let mut out = Vec::new();
        for (name, content, what) in files {
            let path = dir.join("alipay").join(name);
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

    pub(crate) fn config_json(&self) -> serde_json::Value {
        serde_json::json!({
            "app_id": self.app_id,
            "seller_id": self.seller_id,
            "app_private_key": "alipay/app_private_key.pem",
            "app_certificate": format!("alipay/appCertPublicKey_{}.crt", self.app_id),
            "alipay_private_key": "alipay/simulator/alipay_private_key.pem",
            "alipay_certificate": "alipay/alipayCertPublicKey_RSA2.crt",
            "root_certificate": "alipay/alipayRootCert.crt",
            "aes_key": "alipay/aes_key.txt",
            "timestamp_window_secs": self.timestamp_window_secs,
            "sign_protocol_errors": self.sign_protocol_errors,
            "fee_rate_ppm": self.fee_rate_ppm,
            "empty_bill_file": self.empty_bill_file,
        })
    }
}
