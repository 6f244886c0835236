//! Key and certificate generation for the simulated merchants and gateways.

use payagg_core::crypto::{Certificate, RsaPrivateKey};
use rand_core::{OsRng, RngCore};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PKCS_RSA_SHA256, SerialNumber,
};
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use secrecy::SecretString;
use time::{Duration, OffsetDateTime};

use crate::error::MockError;

/// An RSA key as PEM (PKCS#8) plus its parsed form.
#[derive(Clone)]
pub(crate) struct GeneratedKey {
    pub(crate) pem: SecretString,
    pub(crate) public_pem: String,
    pub(crate) key: RsaPrivateKey,
}

impl std::fmt::Debug for GeneratedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GeneratedKey")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

pub(crate) fn generate_rsa() -> Result<GeneratedKey, MockError> {
    let key = rsa::RsaPrivateKey::new(&mut OsRng, 2048)
        .map_err(|e| MockError::config("RSA key generation failed").with_source(e))?;
    let pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| MockError::config("PKCS#8 encoding failed").with_source(e))?;
    let public_pem = key
        .to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| MockError::config("SPKI encoding failed").with_source(e))?;
    let parsed = RsaPrivateKey::from_pem(&pem)
        .map_err(|e| MockError::config("generated key did not parse").with_source(e))?;
    Ok(GeneratedKey {
        pem: SecretString::from(pem.to_string()),
        public_pem,
        key: parsed,
    })
}

pub(crate) fn rcgen_key(pem: &str) -> Result<KeyPair, MockError> {
    KeyPair::from_pkcs8_pem_and_sign_algo(pem, &PKCS_RSA_SHA256)
        .map_err(|e| MockError::config("rcgen could not load the RSA key").with_source(e))
}

/// Random bytes from the OS.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    OsRng.fill_bytes(&mut b);
    b
}

/// A random string of `len` characters from `[0-9A-Za-z]`.
pub(crate) fn random_alnum(len: usize) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for b in random_bytes::<32>() {
            // 62 * 4 = 248: reject the top values so every character is equally likely.
            if b < 248 && out.len() < len {
                out.push(char::from(ALPHABET[usize::from(b % 62)]));
            }
        }
    }
    out
}

/// A random string of `len` decimal digits.
pub(crate) fn random_digits(len: usize) -> String {
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for b in random_bytes::<32>() {
            if b < 250 && out.len() < len {
                out.push(char::from(b'0' + b % 10));
            }
        }
    }
    out
}

/// A certificate authority that issues the simulator's certificates.
pub(crate) struct Ca {
    issuer: Issuer<'static, KeyPair>,
    pub(crate) cert_pem: String,
}

impl std::fmt::Debug for Ca {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ca").finish_non_exhaustive()
    }
}

fn params(
    cn: &str,
    ou: Option<&str>,
    now: OffsetDateTime,
    years: i64,
) -> Result<CertificateParams, MockError> {
    let mut p = CertificateParams::new(Vec::<String>::new())
        .map_err(|e| MockError::config("certificate parameters").with_source(e))?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "CN");
    dn.push(DnType::OrganizationName, "payagg-mock");
    if let Some(ou) = ou {
        dn.push(DnType::OrganizationalUnitName, ou);
    }
    dn.push(DnType::CommonName, cn);
    p.distinguished_name = dn;
    p.not_before = now - Duration::days(1);
    p.not_after = now + Duration::days(365 * years);
    let mut serial = random_bytes::<20>();
    serial[0] = (serial[0] & 0x7f) | 0x10; // positive, and exactly 20 bytes long
    p.serial_number = Some(SerialNumber::from_slice(&serial));
    Ok(p)
}

impl Ca {
    /// A fresh self-signed CA named `cn`.
    pub(crate) fn generate(cn: &str, now: OffsetDateTime) -> Result<Self, MockError> {
        let key = generate_rsa()?;
        let kp = rcgen_key(secrecy::ExposeSecret::expose_secret(&key.pem))?;
        let mut p = params(cn, None, now, 20)?;
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let cert = p
            .self_signed(&kp)
            .map_err(|e| MockError::config("CA certificate").with_source(e))?;
        Ok(Self {
            issuer: Issuer::new(p, kp),
            cert_pem: cert.pem(),
        })
    }

    /// Issue a leaf certificate for `key` (PKCS#8 PEM).
    pub(crate) fn issue(
        &self,
        key_pem: &str,
        cn: &str,
        ou: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<(String, Certificate), MockError> {
        let kp = rcgen_key(key_pem)?;
        let mut p = params(cn, ou, now, 5)?;
        p.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        let cert = p
            .signed_by(&kp, &self.issuer)
            .map_err(|e| MockError::config("leaf certificate").with_source(e))?;
        let pem = cert.pem();
        let parsed = Certificate::from_pem(&pem)
            .map_err(|e| MockError::config("generated certificate did not parse").with_source(e))?;
        Ok((pem, parsed))
    }
}
