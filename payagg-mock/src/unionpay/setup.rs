//! The simulated UnionPay merchant and the simulator's own UnionPay PKI: a root, a middle
//! (both CA, SHA-256 signed by rcgen where the real CFCA chain is SHA-1) and a signing
//! certificate whose CN follows the production rule `041@<16 digits>@中国银联股份有限公司@<8
//! digits>`; the merchant's signing key and certificate (`certId` = decimal serial) issued by
//! the same middle, written as a PKCS#12 file with a password, as UnionPay issues it.

use std::path::{Path, PathBuf};

use payagg_core::crypto::{Certificate, RsaPrivateKey};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyUsagePurpose,
    SerialNumber,
};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use time::{Duration, OffsetDateTime};

use crate::error::MockError;
use crate::keys;

/// The owner part (third `@` element) of a production UnionPay signer CN.
pub(crate) const UNIONPAY_CN_OWNER: &str = "中国银联股份有限公司";

/// The default merchant id: the official kits' test merchant.
pub(crate) const DEFAULT_MER_ID: &str = "777290058110048";

/// The default PFX password (UnionPay's test PFX files use `000000`).
pub(crate) const DEFAULT_PFX_PASSWORD: &str = "000000";

/// One simulated UnionPay merchant and the simulated gateway's signing chain.
#[derive(Clone)]
pub struct UnionpaySetup {
    mer_id: String,
    merchant_key_pem: SecretString,
    merchant_key: RsaPrivateKey,
    merchant_cert_pem: String,
    merchant_cert: Certificate,
    pfx: Vec<u8>,
    pfx_password: SecretString,
    secure_key: SecretString,
    signer_key_pem: SecretString,
    signer_key: RsaPrivateKey,
    /// PEM with CR LF line ends and no trailing newline, exactly as sent in `signPubKeyCert`.
    signer_cert_pem: String,
    signer_cert: Certificate,
    middle_cert_pem: String,
    root_cert_pem: String,
    /// The merchant's fee rate in parts per million (default 3000 = 0.30 %): the ZM file's
    /// 商户手续费, rounded half up to the fen.
    pub fee_rate_ppm: u32,
}

impl std::fmt::Debug for UnionpaySetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnionpaySetup")
            .field("mer_id", &self.mer_id)
            .field("cert_id", &self.cert_id())
            .field("signer_serial", &self.signer_cert.serial_decimal())
            .finish_non_exhaustive()
    }
}

fn cfg<T, E: std::error::Error + Send + Sync + 'static>(
    r: Result<T, E>,
    what: &str,
) -> Result<T, MockError> {
    r.map_err(|e| MockError::config(format!("UnionPay {what}")).with_source(e))
}

/// A positive serial with `digits` decimal digits (UnionPay certIds are 11-digit decimals).
fn decimal_serial(digits: u32) -> SerialNumber {
    let lo = 10u64.pow(digits - 1);
    let n = lo + u64::from_be_bytes(keys::random_bytes::<8>()) % (9 * lo);
    let bytes = n.to_be_bytes();
    let first = bytes.iter().position(|b| *b != 0).unwrap_or(7);
    SerialNumber::from_slice(&bytes[first..])
}

fn dn(entries: &[(DnType, &str)]) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    for (t, v) in entries {
        dn.push(t.clone(), *v);
    }
    dn
}

fn params(
    name: DistinguishedName,
    serial: SerialNumber,
    now: OffsetDateTime,
    years: i64,
) -> Result<CertificateParams, MockError> {
    let mut p = CertificateParams::new(Vec::<String>::new())
        .map_err(|e| MockError::config("certificate parameters").with_source(e))?;
    p.distinguished_name = name;
    // ≥ 1 day in the past: PHP kits compare validity at day granularity.
    p.not_before = now - Duration::days(2);
    p.not_after = now + Duration::days(365 * years);
    p.serial_number = Some(serial);
    Ok(p)
}

/// `-----BEGIN CERTIFICATE-----\r\n`, 64-column lines each ending `\r\n`, and
/// `-----END CERTIFICATE-----` without a trailing newline: UnionPay's `signPubKeyCert`.
pub(crate) fn crlf_pem(der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\r\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push_str("\r\n");
    }
    out.push_str("-----END CERTIFICATE-----");
    out
}

fn pkcs8_der(pem: &str) -> Result<Vec<u8>, MockError> {
    use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey};
    let k = cfg(rsa::RsaPrivateKey::from_pkcs8_pem(pem), "private key PEM")?;
    Ok(cfg(k.to_pkcs8_der(), "PKCS#8 encoding")?
        .as_bytes()
        .to_vec())
}

/// The merchant's PKCS#12: key + [leaf, middle, root], 3DES bags, HMAC-SHA1 MAC (2000
/// iterations), as UnionPay's 2021 test PFX.
fn write_pfx(key_pem: &str, chain_der: &[&[u8]], password: &str) -> Result<Vec<u8>, MockError> {
    use p12_keystore::{
        EncryptionAlgorithm, KeyStore, KeyStoreEntry, MacAlgorithm, PrivateKey, PrivateKeyChain,
    };
    let key = cfg(PrivateKey::from_der(&pkcs8_der(key_pem)?), "PFX key")?;
    let mut certs = Vec::new();
    for der in chain_der {
        certs.push(cfg(
            p12_keystore::Certificate::from_der(der),
            "PFX certificate",
        )?);
    }
    let mut ks = KeyStore::new();
    ks.add_entry(
        "1",
        KeyStoreEntry::PrivateKeyChain(PrivateKeyChain::new(vec![1u8, 0, 0, 0], key, certs)),
    );
    cfg(
        ks.writer(password)
            .encryption_algorithm(EncryptionAlgorithm::PbeWithShaAnd3KeyTripleDesCbc)
            .encryption_iterations(2000)
            .mac_algorithm(MacAlgorithm::HmacSha1)
            .mac_iterations(2000)
            .write(),
        "PFX writing",
    )
}

/// The on-disk form of [`UnionpaySetup`]: file names relative to the configuration file.
#[derive(Debug, Deserialize)]
pub(crate) struct UnionpayFiles {
    mer_id: String,
    merchant_private_key: PathBuf,
    merchant_certificate: PathBuf,
    signing_pfx: PathBuf,
    pfx_password: PathBuf,
    secure_key: PathBuf,
    signer_private_key: PathBuf,
    signer_certificate: PathBuf,
    middle_certificate: PathBuf,
    root_certificate: PathBuf,
    #[serde(default = "default_fee_rate")]
    fee_rate_ppm: u32,
}

fn default_fee_rate() -> u32 {
    3000
}

impl UnionpaySetup {
    /// Generate merchant `777290058110048`, a root, a middle and a signer
    /// (`041@8310000000083040@中国银联股份有限公司@000…`), the merchant's signing certificate
    /// and PFX (password `000000`) and a secure key.
    ///
    /// # Errors
    /// [`MockError`] if key or certificate generation fails.
    pub fn generate(now: OffsetDateTime) -> Result<Self, MockError> {
        let root_key = keys::generate_rsa()?;
        let middle_key = keys::generate_rsa()?;
        let signer = keys::generate_rsa()?;
        let merchant = keys::generate_rsa()?;
        let root_kp = keys::rcgen_key(root_key.pem.expose_secret())?;
        let middle_kp = keys::rcgen_key(middle_key.pem.expose_secret())?;

        let mut rp = params(
            dn(&[
                (DnType::CountryName, "CN"),
                (DnType::OrganizationName, "payagg-mock CFCA TEST"),
                (DnType::CommonName, "payagg-mock CFCA TEST CS CA"),
            ]),
            decimal_serial(10),
            now,
            20,
        )?;
        rp.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        rp.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let root = cfg(rp.self_signed(&root_kp), "root certificate")?;
        let root_issuer = Issuer::new(rp, root_kp);

        let mut mp = params(
            dn(&[
                (DnType::CountryName, "CN"),
                (DnType::OrganizationName, "payagg-mock CFCA TEST"),
                (DnType::CommonName, "payagg-mock CFCA TEST OCA1"),
            ]),
            decimal_serial(10),
            now,
            15,
        )?;
        mp.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        mp.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let middle = cfg(mp.signed_by(&middle_kp, &root_issuer), "middle certificate")?;
        let middle_issuer = Issuer::new(mp, middle_kp);

        let leaf = |key: &keys::GeneratedKey, cn: &str, ou: &str| {
            let mut p = params(
                dn(&[
                    (DnType::CountryName, "CN"),
                    (DnType::OrganizationName, "payagg-mock CFCA TEST OCA1"),
                    (DnType::OrganizationalUnitName, ou),
                    (DnType::CommonName, cn),
                ]),
                decimal_serial(11),
                now,
                5,
            )?;
            p.key_usages = vec![
                KeyUsagePurpose::DigitalSignature,
                KeyUsagePurpose::ContentCommitment,
                KeyUsagePurpose::KeyEncipherment,
            ];
            let kp = keys::rcgen_key(key.pem.expose_secret())?;
            cfg(p.signed_by(&kp, &middle_issuer), "leaf certificate")
        };
        let signer_cn = format!(
            "041@8310000000083040@{UNIONPAY_CN_OWNER}@{}",
            keys::random_digits(8)
        );
        let signer_cert = leaf(&signer, &signer_cn, "Enterprises")?;
        let mer_id = DEFAULT_MER_ID.to_owned();
        let merchant_cn = format!("041@Z{mer_id}@payagg-mock merchant@00000001");
        let merchant_cert = leaf(&merchant, &merchant_cn, "Local RA")?;

        let password = SecretString::from(DEFAULT_PFX_PASSWORD.to_owned());
        let pfx = write_pfx(
            merchant.pem.expose_secret(),
            &[merchant_cert.der(), middle.der(), root.der()],
            password.expose_secret(),
        )?;
        let signer_cert_pem = crlf_pem(signer_cert.der());
        let merchant_cert_pem = merchant_cert.pem();
        Ok(Self {
            mer_id,
            merchant_key_pem: merchant.pem,
            merchant_key: merchant.key,
            merchant_cert: cfg(
                Certificate::from_pem(&merchant_cert_pem),
                "merchant certificate",
            )?,
            merchant_cert_pem,
            pfx,
            pfx_password: password,
            secure_key: SecretString::from(keys::random_alnum(32)),
            signer_key_pem: signer.pem,
            signer_key: signer.key,
            signer_cert: cfg(
                Certificate::from_pem(&signer_cert_pem),
                "signer certificate",
            )?,
            signer_cert_pem,
            middle_cert_pem: middle.pem(),
            root_cert_pem: root.pem(),
            fee_rate_ppm: default_fee_rate(),
        })
    }

    pub(crate) fn load(dir: &Path, f: UnionpayFiles) -> Result<Self, MockError> {
        let read = |p: &Path| -> Result<String, MockError> {
            let full = dir.join(p);
            std::fs::read_to_string(&full)
                .map_err(|e| MockError::io(format!("reading {}", full.display()), e))
        };
        let pfx_path = dir.join(&f.signing_pfx);
        let pfx = std::fs::read(&pfx_path)
            .map_err(|e| MockError::io(format!("reading {}", pfx_path.display()), e))?;
        let merchant_key_pem = read(&f.merchant_private_key)?;
        let merchant_cert_pem = read(&f.merchant_certificate)?;
        let signer_key_pem = read(&f.signer_private_key)?;
        let signer_cert = cfg(
            Certificate::from_pem(&read(&f.signer_certificate)?),
            "signer certificate",
        )?;
        Ok(Self {
            mer_id: f.mer_id,
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
            pfx,
            pfx_password: SecretString::from(read(&f.pfx_password)?.trim().to_owned()),
            secure_key: SecretString::from(read(&f.secure_key)?.trim().to_owned()),
            signer_key: cfg(
                RsaPrivateKey::from_pem(&signer_key_pem),
                "signer private key",
            )?,
            signer_key_pem: SecretString::from(signer_key_pem),
            signer_cert_pem: crlf_pem(signer_cert.der()),
            signer_cert,
            middle_cert_pem: read(&f.middle_certificate)?,
            root_cert_pem: read(&f.root_certificate)?,
            fee_rate_ppm: f.fee_rate_ppm,
        })
    }

    /// The merchant id (`merId`, 15 digits).
    #[must_use]
    pub fn mer_id(&self) -> &str {
        &self.mer_id
    }
    /// `certId`: the decimal serial of the merchant's signing certificate.
    #[must_use]
    pub fn cert_id(&self) -> String {
        self.merchant_cert.serial_decimal()
    }
    /// The merchant's signing key as PKCS#8 PEM (the PEM alternative to the PFX).
    #[must_use]
    pub fn merchant_key_pem(&self) -> &SecretString {
        &self.merchant_key_pem
    }
    /// The merchant's signing key, parsed.
    #[must_use]
    pub fn merchant_key(&self) -> &RsaPrivateKey {
        &self.merchant_key
    }
    /// The merchant's signing certificate as PEM.
    #[must_use]
    pub fn merchant_cert_pem(&self) -> &str {
        &self.merchant_cert_pem
    }
    /// The merchant's signing PFX (PKCS#12: key, leaf, middle, root; 3DES, HMAC-SHA1).
    #[must_use]
    pub fn pfx(&self) -> &[u8] {
        &self.pfx
    }
    /// The PFX password (`000000`).
    #[must_use]
    pub fn pfx_password(&self) -> &SecretString {
        &self.pfx_password
    }
    /// The merchant's secure key (`signMethod` 11 and 12).
    #[must_use]
    pub fn secure_key(&self) -> &SecretString {
        &self.secure_key
    }
    /// UnionPay's signing certificate exactly as sent in `signPubKeyCert` (CR LF, no
    /// trailing newline).
    #[must_use]
    pub fn signer_cert_pem(&self) -> &str {
        &self.signer_cert_pem
    }
    /// The signing certificate's subject CN (`041@…@中国银联股份有限公司@…`).
    #[must_use]
    pub fn signer_cn(&self) -> Option<&str> {
        self.signer_cert.subject_common_name()
    }
    /// The middle certificate (`acp_test_middle.cer`), PEM.
    #[must_use]
    pub fn middle_cert_pem(&self) -> &str {
        &self.middle_cert_pem
    }
    /// The root certificate (`acp_test_root.cer`), PEM.
    #[must_use]
    pub fn root_cert_pem(&self) -> &str {
        &self.root_cert_pem
    }
    pub(crate) fn signer_key(&self) -> &RsaPrivateKey {
        &self.signer_key
    }

    pub(crate) fn write(&self, dir: &Path) -> Result<Vec<(PathBuf, &'static str)>, MockError> {
        let files: [(&str, &[u8], &'static str); 10] = [
            (
                "acp_test_sign.pfx",
                &self.pfx,
                "UnionPay merchant signing PFX (password in acp_test_sign.pfx.password.txt)",
            ),
            (
                "acp_test_sign.pfx.password.txt",
                self.pfx_password.expose_secret().as_bytes(),
                "UnionPay PFX password",
            ),
            (
                "acp_test_sign_key.pem",
                self.merchant_key_pem.expose_secret().as_bytes(),
                "UnionPay merchant signing key (PEM alternative to the PFX)",
            ),
            (
                "acp_test_sign_cert.pem",
                self.merchant_cert_pem.as_bytes(),
                "UnionPay merchant signing certificate (certId = its decimal serial)",
            ),
            (
                "acp_test_middle.cer",
                self.middle_cert_pem.as_bytes(),
                "UnionPay middle certificate",
            ),
            (
                "acp_test_root.cer",
                self.root_cert_pem.as_bytes(),
                "UnionPay root certificate",
            ),
            (
                "secure_key.txt",
                self.secure_key.expose_secret().as_bytes(),
                "UnionPay secure key (signMethod 11/12)",
            ),
            (
                "simulator/acp_sign_key.pem",
                self.signer_key_pem.expose_secret().as_bytes(),
                "simulator: UnionPay signer private key",
            ),
            (
                "simulator/acp_sign_cert.cer",
                self.signer_cert_pem.as_bytes(),
                "simulator: UnionPay signer certificate (signPubKeyCert)",
            ),
            (
                "mer_id.txt",
                self.mer_id.as_bytes(),
                "UnionPay merchant id (merId)",
            ),
        ];
        let mut out = Vec::new();
        for (name, content, what) in files {
            let path = dir.join("unionpay").join(name);
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
            "mer_id": self.mer_id,
            "merchant_private_key": "unionpay/acp_test_sign_key.pem",
            "merchant_certificate": "unionpay/acp_test_sign_cert.pem",
            "signing_pfx": "unionpay/acp_test_sign.pfx",
            "pfx_password": "unionpay/acp_test_sign.pfx.password.txt",
            "secure_key": "unionpay/secure_key.txt",
            "signer_private_key": "unionpay/simulator/acp_sign_key.pem",
            "signer_certificate": "unionpay/simulator/acp_sign_cert.cer",
            "middle_certificate": "unionpay/acp_test_middle.cer",
            "root_certificate": "unionpay/acp_test_root.cer",
            "fee_rate_ppm": self.fee_rate_ppm,
        })
    }
}
