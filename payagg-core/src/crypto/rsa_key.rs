//! RSA keys: PKCS#1 v1.5 signing and verification, RSA-OAEP and PKCS#1 v1.5 encryption.
//!
//! Keys are parsed once. Signing and verification run on `aws-lc-rs` (AWS-LC: constant-time,
//! blinded, fault-checked, with an AVX512-IFMA path on CPUs that have it); the `rsa` crate
//! parses key formats, does OAEP and PKCS#1 v1.5 encryption, and signs (blinded) where
//! `aws-lc-rs` cannot: keys below 2048 bits and legacy `SHA1withRSA` signatures (`aws-lc-rs`
//! verifies SHA-1 signatures but offers no PKCS#1 v1.5 SHA-1 signing encoding).

use std::fmt;
use std::sync::{Arc, OnceLock};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    self as lc, ParsedPublicKey, RsaEncoding, RsaKeyPair, RsaParameters, UnparsedPublicKey,
};
use rand_core::OsRng;
use rsa::pkcs1::{
    DecodeRsaPrivateKey, DecodeRsaPublicKey, EncodeRsaPrivateKey, EncodeRsaPublicKey,
};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePublicKey};
use rsa::traits::PublicKeyParts;
use rsa::{Oaep, Pkcs1v15Encrypt, Pkcs1v15Sign};
use sha1::Sha1;
use sha2::Sha256;

use super::digest::{hex_lower, sha1, sha256};
use super::pem::{self, PemError};
use super::{DecryptError, EncryptError, SignatureInvalid};
use crate::error::ConfigError;

/// Smallest modulus accepted, in bits. Smaller keys are trivially factorable.
pub const MIN_RSA_BITS: usize = 1024;

/// DER `DigestInfo` prefix for SHA-1 (RFC 8017 §9.2, note 1).
const SHA1_DIGEST_INFO_PREFIX: [u8; 15] = [
    0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14,
];

const SELF_TEST_MESSAGE: &[u8] = b"payagg RSA key self-test";

const PRIVATE_KEY: &str = "RSA private key";
const PUBLIC_KEY: &str = "RSA public key";

/// A DER parser that names its format on failure.
type DerParser<K> = fn(&[u8]) -> Result<K, (&'static str, String)>;

#[derive(Clone, Copy)]
enum SigHash {
    Sha1,
    Sha256,
}

impl SigHash {
    /// `aws-lc-rs` signs PKCS#1 v1.5 with SHA-256/384/512 only; SHA-1 is verify-only there.
    fn lc_encoding(self) -> Option<&'static dyn RsaEncoding> {
        match self {
            SigHash::Sha1 => None,
            SigHash::Sha256 => Some(&lc::RSA_PKCS1_SHA256),
        }
    }
}

/// An RSA private key, parsed once, for PKCS#1 v1.5 signatures (WeChat APIv3 `SHA256-RSA2048`,
/// Alipay `RSA2`/`RSA`, UnionPay 5.1.0) and, in the simulator, for decryption.
///
/// # Key material
///
/// The key is held twice: as an `rsa::RsaPrivateKey`, which zeroizes its private exponent,
/// primes and CRT values on drop, and (for 2048- to 8192-bit keys) as an
/// `aws_lc_rs::signature::RsaKeyPair` used for signing, which lives in AWS-LC's heap; AWS-LC
/// frees its bignums with `BN_free` through an allocator that overwrites every allocation
/// before releasing it. Temporaries inside the `rsa` crate's arithmetic (OAEP decryption, SHA-1
/// and small-key signing) are not all wiped. Cloning shares one copy (`Arc`), so key material
/// is never duplicated by clones. `Debug` prints only the size and a public-key fingerprint.
///
/// ```
/// use payagg_core::crypto::RsaPrivateKey;
///
/// // Normally `RsaPrivateKey::from_pem(&pem)?` with the merchant's key, once, at startup.
/// let key = RsaPrivateKey::generate(2048)?;
/// let message = b"GET\n/v3/certificates\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n\n";
/// let signature = key.sign_sha256(message);
/// assert!(key.public_key().verify_sha256(message, &signature).is_ok());
/// assert!(key.public_key().verify_sha256(b"tampered", &signature).is_err());
/// assert!(format!("{key:?}").starts_with("RsaPrivateKey { bits: 2048, public_fingerprint: "));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct RsaPrivateKey {
    inner: Arc<PrivateInner>,
}

struct PrivateInner {
    key: rsa::RsaPrivateKey,
    /// `aws-lc-rs`'s copy, for SHA-256 signing of 2048- to 8192-bit keys.
    lc: Option<RsaKeyPair>,
    public: RsaPublicKey,
}

impl RsaPrivateKey {
    /// Parses a PEM private key: PKCS#8 (`PRIVATE KEY`) or PKCS#1 (`RSA PRIVATE KEY`), LF or CRLF.
    /// Text without PEM armour is read as a bare base64 body of PKCS#8 or PKCS#1 DER, the form
    /// Alipay's key tool produces. Other blocks in the text (certificates) are skipped.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] if the text holds no usable key, the key is encrypted, not RSA, smaller
    /// than [`MIN_RSA_BITS`], or inconsistent (fails the signing self-test).
    pub fn from_pem(pem: &str) -> Result<Self, ConfigError> {
        if !pem::is_armoured(pem) {
            let der = pem::decode_bare(pem).map_err(|e| pem_error(PRIVATE_KEY, e))?;
            return Self::from_der_either(&der, true);
        }
        let blocks = pem::parse_blocks(pem).map_err(|e| pem_error(PRIVATE_KEY, e))?;
        for block in &blocks {
            match block.label.as_str() {
                // Key tools sometimes put PKCS#8 under the PKCS#1 label and vice versa: the
                // label only decides which format is tried first.
                "PRIVATE KEY" => return Self::from_der_either(&block.der, true),
                "RSA PRIVATE KEY" => return Self::from_der_either(&block.der, false),
                "ENCRYPTED PRIVATE KEY" => {
                    return Err(ConfigError::new(
                        PRIVATE_KEY,
                        "encrypted PKCS#8 is not supported; decrypt the key first",
                    ));
                }
                _ => {}
            }
        }
        Err(ConfigError::new(
            PRIVATE_KEY,
            format!(
                "no PRIVATE KEY or RSA PRIVATE KEY block (found: {})",
                labels(&blocks)
            ),
        ))
    }

    /// Parses PKCS#8 `PrivateKeyInfo` DER.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] if the DER is not an RSA PKCS#8 key or the key is unusable (see
    /// [`RsaPrivateKey::from_pem`]).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, ConfigError> {
        let key = rsa::RsaPrivateKey::from_pkcs8_der(der).map_err(|e| {
            ConfigError::new(PRIVATE_KEY, "not a PKCS#8 RSA private key").with_source(e)
        })?;
        Self::from_rsa(key)
    }

    /// Parses PKCS#1 `RSAPrivateKey` DER.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] if the DER is not a PKCS#1 RSA key or the key is unusable (see
    /// [`RsaPrivateKey::from_pem`]).
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self, ConfigError> {
        let key = rsa::RsaPrivateKey::from_pkcs1_der(der).map_err(|e| {
            ConfigError::new(PRIVATE_KEY, "not a PKCS#1 RSA private key").with_source(e)
        })?;
        Self::from_rsa(key)
    }

    /// Generates a fresh key (for the simulator and tests; merchants' keys come from the
    /// channels' key tools).
    ///
    /// # Errors
    ///
    /// [`ConfigError`] if `bits` is below [`MIN_RSA_BITS`] or generation fails.
    pub fn generate(bits: usize) -> Result<Self, ConfigError> {
        if bits < MIN_RSA_BITS {
            return Err(too_small(PRIVATE_KEY, bits));
        }
        let key = rsa::RsaPrivateKey::new(&mut OsRng, bits)
            .map_err(|e| ConfigError::new(PRIVATE_KEY, "key generation failed").with_source(e))?;
        Self::from_rsa(key)
    }

    fn from_der_either(der: &[u8], pkcs8_first: bool) -> Result<Self, ConfigError> {
        let a: DerParser<rsa::RsaPrivateKey> =
            |d| rsa::RsaPrivateKey::from_pkcs8_der(d).map_err(|e| ("PKCS#8", e.to_string()));
        let b: DerParser<rsa::RsaPrivateKey> =
            |d| rsa::RsaPrivateKey::from_pkcs1_der(d).map_err(|e| ("PKCS#1", e.to_string()));
        let (first, second) = if pkcs8_first { (a, b) } else { (b, a) };
        let first = first(der);
        match first.or_else(|first_err| second(der).map_err(|_| first_err)) {
            Ok(key) => Self::from_rsa(key),
            Err((format, reason)) => Err(ConfigError::new(
                PRIVATE_KEY,
                format!("neither PKCS#8 nor PKCS#1 RSA private key DER ({format}: {reason})"),
            )),
        }
    }

    fn from_rsa(key: rsa::RsaPrivateKey) -> Result<Self, ConfigError> {
        let bits = key.n().bits();
        if bits < MIN_RSA_BITS {
            return Err(too_small(PRIVATE_KEY, bits));
        }
        let public = RsaPublicKey::from_rsa(key.to_public_key())?;
        // aws-lc-rs takes 2048..=8192-bit keys (and checks their consistency); anything else
        // signs through the `rsa` crate. The intermediate DER is a zeroizing `SecretDocument`.
        let lc = key
            .to_pkcs1_der()
            .ok()
            .and_then(|der| RsaKeyPair::from_der(der.as_bytes()).ok());
        let mut this = Self {
            inner: Arc::new(PrivateInner { key, lc, public }),
        };
        this.self_test()?;
        Ok(this)
    }

    /// Signs and verifies a fixed message once, so an inconsistent key fails at configuration
    /// time rather than at the first request. Drops the `aws-lc-rs` copy if only it misbehaves.
    fn self_test(&mut self) -> Result<(), ConfigError> {
        let has_lc = self.inner.lc.is_some();
        let lc_ok = self.inner.lc.as_ref().is_some_and(|kp| {
            let mut sig = vec![0u8; kp.public_modulus_len()];
            kp.sign(
                &lc::RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                SELF_TEST_MESSAGE,
                &mut sig,
            )
            .is_ok()
                && self
                    .inner
                    .public
                    .verify_sha256(SELF_TEST_MESSAGE, &sig)
                    .is_ok()
        });
        if has_lc
            && !lc_ok
            && let Some(inner) = Arc::get_mut(&mut self.inner)
        {
            inner.lc = None;
        }
        // The `rsa` crate signs SHA-1 always, and SHA-256 when aws-lc-rs is absent: test it too.
        match self.sign_rustcrypto(SigHash::Sha256, SELF_TEST_MESSAGE) {
            Ok(sig)
                if self
                    .inner
                    .public
                    .verify_sha256(SELF_TEST_MESSAGE, &sig)
                    .is_ok() =>
            {
                Ok(())
            }
            Ok(_) => Err(ConfigError::new(
                PRIVATE_KEY,
                "key failed the signing self-test",
            )),
            Err(e) => Err(
                ConfigError::new(PRIVATE_KEY, "key failed the signing self-test").with_source(e),
            ),
        }
    }

    /// `SHA256withRSA` (RSASSA-PKCS1-v1_5 with SHA-256) over `msg`. Deterministic.
    ///
    /// # Panics
    ///
    /// Only on a hardware fault: both backends check every signature against the public key
    /// before releasing it (a faulty RSA-CRT signature would reveal the private key). If
    /// `aws-lc-rs` and then the `rsa` crate both produce a wrong result, this panics rather than
    /// return it.
    #[must_use]
    pub fn sign_sha256(&self, msg: &[u8]) -> Vec<u8> {
        self.sign(SigHash::Sha256, msg)
    }

    /// `SHA1withRSA` over `msg`: legacy Alipay `sign_type=RSA` and UnionPay 5.0.0 only. Signed
    /// by the `rsa` crate with blinding (`aws-lc-rs` has no SHA-1 signing encoding), so the
    /// RUSTSEC-2023-0071
    /// timing caveat of [`RsaPrivateKey::oaep_sha1_decrypt`] applies here too; it is acceptable
    /// only because the SDK signs messages it builds itself.
    ///
    /// # Panics
    ///
    /// Only on a hardware fault; see [`RsaPrivateKey::sign_sha256`].
    #[must_use]
    pub fn sign_sha1(&self, msg: &[u8]) -> Vec<u8> {
        self.sign(SigHash::Sha1, msg)
    }

    fn sign(&self, hash: SigHash, msg: &[u8]) -> Vec<u8> {
        if let (Some(kp), Some(encoding)) = (&self.inner.lc, hash.lc_encoding()) {
            let mut sig = vec![0u8; kp.public_modulus_len()];
            // Fails only if AWS-LC's fault check (re-verification) fails. The RNG argument is
            // ignored: AWS-LC blinds with its own.
            if kp
                .sign(encoding, &SystemRandom::new(), msg, &mut sig)
                .is_ok()
            {
                return sig;
            }
        }
        match self.sign_rustcrypto(hash, msg) {
            Ok(sig) => sig,
            Err(_) => fault_detected(),
        }
    }

    /// Blinded signing with the `rsa` crate. The key size was checked at construction, so this
    /// fails only when the CRT fault check fails.
    fn sign_rustcrypto(&self, hash: SigHash, msg: &[u8]) -> Result<Vec<u8>, rsa::Error> {
        match hash {
            SigHash::Sha256 => self.inner.key.sign_with_rng(
                &mut OsRng,
                Pkcs1v15Sign::new::<Sha256>(),
                &sha256(msg),
            ),
            SigHash::Sha1 => {
                let scheme = Pkcs1v15Sign {
                    hash_len: Some(20),
                    prefix: Box::new(SHA1_DIGEST_INFO_PREFIX),
                };
                self.inner.key.sign_with_rng(&mut OsRng, scheme, &sha1(msg))
            }
        }
    }

    /// The public half.
    #[must_use]
    pub fn public_key(&self) -> &RsaPublicKey {
        &self.inner.public
    }

    /// Modulus size in bits.
    #[must_use]
    pub fn bits(&self) -> usize {
        self.inner.public.bits()
    }

    /// RSA-OAEP decryption with SHA-1 and MGF1-SHA-1 (`RSA/ECB/OAEPWithSHA-1AndMGF1Padding`):
    /// WeChat's sensitive-field encryption, decrypted by the simulator. Blinded.
    ///
    /// **Security:** RSA decryption with the `rsa` crate is exposed to the Marvin timing attack
    /// (RUSTSEC-2023-0071). Do not decrypt attacker-chosen ciphertexts with a production key
    /// where the attacker can time the answer; the SDK itself never does.
    ///
    /// # Errors
    ///
    /// An opaque [`DecryptError`] for any failure (it never says which padding check failed).
    pub fn oaep_sha1_decrypt(&self, ciphertext: &[u8]) -> Result<Vec<u8>, DecryptError> {
        self.inner
            .key
            .decrypt_blinded(&mut OsRng, Oaep::new::<Sha1>(), ciphertext)
            .map_err(|_| DecryptError::failed())
    }

    /// RSAES-PKCS1-v1_5 decryption (`RSA/ECB/PKCS1Padding`, WeChat's legacy sensitive-field
    /// variant). Blinded. Same security caveat as [`RsaPrivateKey::oaep_sha1_decrypt`], and
    /// PKCS#1 v1.5 encryption is additionally open to padding-oracle attacks: never report
    /// *why* a decryption failed to the sender.
    ///
    /// # Errors
    ///
    /// An opaque [`DecryptError`] for any failure.
    pub fn pkcs1v15_decrypt(&self, ciphertext: &[u8]) -> Result<Vec<u8>, DecryptError> {
        self.inner
            .key
            .decrypt_blinded(&mut OsRng, Pkcs1v15Encrypt, ciphertext)
            .map_err(|_| DecryptError::failed())
    }

    #[cfg(test)]
    pub(crate) fn signs_with_aws_lc(&self) -> bool {
        self.inner.lc.is_some()
    }
}

#[cold]
fn fault_detected() -> ! {
    panic!(
        "RSA signing failed its fault check in both aws-lc-rs and the rsa crate; refusing to release a possibly faulty signature"
    )
}

impl fmt::Debug for RsaPrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RsaPrivateKey")
            .field("bits", &self.bits())
            .field(
                "public_fingerprint",
                &format_args!("{}", self.inner.public.short_fingerprint()),
            )
            .finish()
    }
}

/// An RSA public key, parsed once, for verifying channel signatures and for RSA-OAEP encryption
/// of WeChat sensitive fields.
///
/// Equality compares the canonical `SubjectPublicKeyInfo` DER (public data; `==` is fine here).
#[derive(Clone)]
pub struct RsaPublicKey {
    inner: Arc<PublicInner>,
}

struct PublicInner {
    key: rsa::RsaPublicKey,
    /// Canonical SubjectPublicKeyInfo DER.
    spki: Vec<u8>,
    /// PKCS#1 `RSAPublicKey` DER.
    pkcs1: Vec<u8>,
    bits: usize,
    fingerprint: [u8; 32],
    /// The key parsed once by `aws-lc-rs` for `SHA256withRSA`, the hot path (`None` only if
    /// AWS-LC rejects a key the `rsa` crate accepted; verification then always fails).
    sha256: Option<ParsedPublicKey>,
    /// The same for legacy `SHA1withRSA`, parsed on first use.
    sha1: OnceLock<Option<ParsedPublicKey>>,
}

impl RsaPublicKey {
    /// Parses a PEM public key: `PUBLIC KEY` (SubjectPublicKeyInfo) or `RSA PUBLIC KEY`
    /// (PKCS#1), LF or CRLF. Text without armour is read as bare base64 of SPKI or PKCS#1 DER
    /// (Alipay's "public key mode" string).
    ///
    /// # Errors
    ///
    /// [`ConfigError`] if no RSA public key is found, or it is smaller than [`MIN_RSA_BITS`] or
    /// larger than 4096 bits.
    pub fn from_pem(pem: &str) -> Result<Self, ConfigError> {
        if !pem::is_armoured(pem) {
            let der = pem::decode_bare(pem).map_err(|e| pem_error(PUBLIC_KEY, e))?;
            return Self::from_der_either(&der, true);
        }
        let blocks = pem::parse_blocks(pem).map_err(|e| pem_error(PUBLIC_KEY, e))?;
        for block in &blocks {
            match block.label.as_str() {
                "PUBLIC KEY" => return Self::from_der_either(&block.der, true),
                "RSA PUBLIC KEY" => return Self::from_der_either(&block.der, false),
                _ => {}
            }
        }
        let hint = if blocks.iter().any(|b| b.label == "CERTIFICATE") {
            "; for a certificate use Certificate::from_pem(..)?.public_key()"
        } else {
            ""
        };
        Err(ConfigError::new(
            PUBLIC_KEY,
            format!(
                "no PUBLIC KEY or RSA PUBLIC KEY block (found: {}){hint}",
                labels(&blocks)
            ),
        ))
    }

    fn from_der_either(der: &[u8], spki_first: bool) -> Result<Self, ConfigError> {
        let a: DerParser<rsa::RsaPublicKey> =
            |d| rsa::RsaPublicKey::from_public_key_der(d).map_err(|e| ("SPKI", e.to_string()));
        let b: DerParser<rsa::RsaPublicKey> =
            |d| rsa::RsaPublicKey::from_pkcs1_der(d).map_err(|e| ("PKCS#1", e.to_string()));
        let (first, second) = if spki_first { (a, b) } else { (b, a) };
        let first = first(der);
        match first.or_else(|first_err| second(der).map_err(|_| first_err)) {
            Ok(key) => Self::from_rsa(key),
            Err((format, reason)) => Err(ConfigError::new(
                PUBLIC_KEY,
                format!("neither SPKI nor PKCS#1 RSA public key DER ({format}: {reason})"),
            )),
        }
    }

    /// Parses SubjectPublicKeyInfo DER (algorithm `rsaEncryption`).
    ///
    /// # Errors
    ///
    /// [`ConfigError`] if the DER is not an RSA SPKI or the size is out of range.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, ConfigError> {
        let key = rsa::RsaPublicKey::from_public_key_der(der).map_err(|e| {
            ConfigError::new(PUBLIC_KEY, "not an RSA SubjectPublicKeyInfo").with_source(e)
        })?;
        Self::from_rsa(key)
    }

    /// Parses PKCS#1 `RSAPublicKey` DER.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] if the DER is not a PKCS#1 public key or the size is out of range.
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self, ConfigError> {
        let key = rsa::RsaPublicKey::from_pkcs1_der(der).map_err(|e| {
            ConfigError::new(PUBLIC_KEY, "not a PKCS#1 RSA public key").with_source(e)
        })?;
        Self::from_rsa(key)
    }

    /// Parses the bare base64 SubjectPublicKeyInfo that Alipay shows in its console ("public key
    /// mode"); whitespace and line breaks are ignored.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] if the text is not base64 of an RSA SPKI.
    pub fn from_base64_spki(b64: &str) -> Result<Self, ConfigError> {
        let der = pem::decode_bare(b64).map_err(|e| pem_error(PUBLIC_KEY, e))?;
        Self::from_spki_der(&der)
    }

    pub(crate) fn from_rsa(key: rsa::RsaPublicKey) -> Result<Self, ConfigError> {
        let bits = key.n().bits();
        if bits < MIN_RSA_BITS {
            return Err(too_small(PUBLIC_KEY, bits));
        }
        let spki = key
            .to_public_key_der()
            .map_err(|e| ConfigError::new(PUBLIC_KEY, "cannot encode SPKI").with_source(e))?
            .into_vec();
        let pkcs1 = key
            .to_pkcs1_der()
            .map_err(|e| ConfigError::new(PUBLIC_KEY, "cannot encode PKCS#1").with_source(e))?
            .into_vec();
        let fingerprint = sha256(&spki);
        let sha256 = ParsedPublicKey::new(sha256_params(bits), &pkcs1).ok();
        Ok(Self {
            inner: Arc::new(PublicInner {
                key,
                spki,
                pkcs1,
                bits,
                fingerprint,
                sha256,
                sha1: OnceLock::new(),
            }),
        })
    }

    /// Verifies a `SHA256withRSA` (PKCS#1 v1.5) signature over `msg`.
    ///
    /// # Errors
    ///
    /// [`SignatureInvalid`] if the signature does not verify (opaque by design).
    pub fn verify_sha256(&self, msg: &[u8], signature: &[u8]) -> Result<(), SignatureInvalid> {
        verify_parsed(self.inner.sha256.as_ref(), msg, signature)
    }

    /// Verifies a `SHA1withRSA` signature: legacy Alipay `RSA`, UnionPay 5.0.0 and SHA-1-signed
    /// certificates only.
    ///
    /// # Errors
    ///
    /// [`SignatureInvalid`] if the signature does not verify.
    pub fn verify_sha1(&self, msg: &[u8], signature: &[u8]) -> Result<(), SignatureInvalid> {
        let parsed = self.inner.sha1.get_or_init(|| {
            let alg = if self.inner.bits >= 2048 {
                &lc::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY
            } else {
                &lc::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY
            };
            ParsedPublicKey::new(alg, &self.inner.pkcs1).ok()
        });
        verify_parsed(parsed.as_ref(), msg, signature)
    }

    /// `SHA384withRSA` (certificates only; needs a 2048-bit key or larger).
    pub(crate) fn verify_sha384(
        &self,
        msg: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureInvalid> {
        self.verify_with(&lc::RSA_PKCS1_2048_8192_SHA384, msg, signature)
    }

    /// `SHA512withRSA` (certificates only).
    pub(crate) fn verify_sha512(
        &self,
        msg: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureInvalid> {
        let alg = if self.inner.bits >= 2048 {
            &lc::RSA_PKCS1_2048_8192_SHA512
        } else {
            &lc::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY
        };
        self.verify_with(alg, msg, signature)
    }

    /// Certificate-only algorithms: the key is parsed per call (rare).
    fn verify_with(
        &self,
        alg: &'static RsaParameters,
        msg: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureInvalid> {
        UnparsedPublicKey::new(alg, &self.inner.pkcs1[..])
            .verify(msg, signature)
            .map_err(|aws_lc_rs::error::Unspecified| SignatureInvalid)
    }

    /// RSA-OAEP encryption with SHA-1 and MGF1-SHA-1 (WeChat APIv3 sensitive fields such as
    /// `user_name`, encrypted with the platform public key). Randomized: two calls give
    /// different ciphertexts.
    ///
    /// # Errors
    ///
    /// [`EncryptError`] if `plaintext` is longer than the key allows (modulus bytes − 42;
    /// 214 bytes for a 2048-bit key).
    pub fn oaep_sha1_encrypt(&self, plaintext: &[u8]) -> Result<Vec<u8>, EncryptError> {
        self.inner
            .key
            .encrypt(&mut OsRng, Oaep::new::<Sha1>(), plaintext)
            .map_err(|_| EncryptError {
                max_len: self.inner.key.size().saturating_sub(42),
            })
    }

    /// RSAES-PKCS1-v1_5 encryption (WeChat's legacy sensitive-field variant; also what the
    /// simulator uses to produce test ciphertexts).
    ///
    /// # Errors
    ///
    /// [`EncryptError`] if `plaintext` is longer than modulus bytes − 11.
    pub fn pkcs1v15_encrypt(&self, plaintext: &[u8]) -> Result<Vec<u8>, EncryptError> {
        self.inner
            .key
            .encrypt(&mut OsRng, Pkcs1v15Encrypt, plaintext)
            .map_err(|_| EncryptError {
                max_len: self.inner.key.size().saturating_sub(11),
            })
    }

    /// Canonical SubjectPublicKeyInfo DER (base64 of this is Alipay's "public key mode" string).
    #[must_use]
    pub fn spki_der(&self) -> &[u8] {
        &self.inner.spki
    }

    /// PKCS#1 `RSAPublicKey` DER.
    #[must_use]
    pub fn pkcs1_der(&self) -> &[u8] {
        &self.inner.pkcs1
    }

    /// SHA-256 of [`RsaPublicKey::spki_der`]: a stable identifier for logs and key pinning.
    #[must_use]
    pub fn fingerprint(&self) -> [u8; 32] {
        self.inner.fingerprint
    }

    /// Modulus size in bits.
    #[must_use]
    pub fn bits(&self) -> usize {
        self.inner.bits
    }

    fn short_fingerprint(&self) -> String {
        hex_lower(&self.inner.fingerprint[..8])
    }
}

impl PartialEq for RsaPublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.inner.spki == other.inner.spki
    }
}

impl Eq for RsaPublicKey {}

impl std::hash::Hash for RsaPublicKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.inner.spki.hash(state);
    }
}

impl fmt::Debug for RsaPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RsaPublicKey")
            .field("bits", &self.inner.bits)
            .field("fingerprint", &format_args!("{}", self.short_fingerprint()))
            .finish()
    }
}

/// `SHA256withRSA` parameters for a modulus of `bits` (1024-bit keys are legacy-only).
fn sha256_params(bits: usize) -> &'static RsaParameters {
    if bits >= 2048 {
        &lc::RSA_PKCS1_2048_8192_SHA256
    } else {
        &lc::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY
    }
}

fn verify_parsed(
    key: Option<&ParsedPublicKey>,
    msg: &[u8],
    signature: &[u8],
) -> Result<(), SignatureInvalid> {
    key.ok_or(SignatureInvalid)?
        .verify_sig(msg, signature)
        .map_err(|aws_lc_rs::error::Unspecified| SignatureInvalid)
}

fn pem_error(what: &str, e: PemError) -> ConfigError {
    ConfigError::new(what, e.to_string()).with_source(e)
}

fn too_small(what: &str, bits: usize) -> ConfigError {
    ConfigError::new(
        what,
        format!("{bits}-bit RSA keys are not accepted (minimum {MIN_RSA_BITS})"),
    )
}

fn labels(blocks: &[pem::PemBlock]) -> String {
    if blocks.is_empty() {
        return "no PEM blocks".to_owned();
    }
    blocks
        .iter()
        .map(|b| b.label.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use std::sync::OnceLock;

    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use rsa::pkcs1::LineEnding;
    use rsa::pkcs8::EncodePrivateKey;
    use rsa::traits::PrivateKeyParts;

    fn key_2048() -> &'static (rsa::RsaPrivateKey, RsaPrivateKey) {
        static KEY: OnceLock<(rsa::RsaPrivateKey, RsaPrivateKey)> = OnceLock::new();
        KEY.get_or_init(|| {
            let raw = rsa::RsaPrivateKey::new(&mut OsRng, 2048).unwrap();
            let key =
                RsaPrivateKey::from_pkcs8_der(raw.to_pkcs8_der().unwrap().as_bytes()).unwrap();
            (raw, key)
        })
    }

    fn other_key() -> &'static RsaPrivateKey {
        static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
        KEY.get_or_init(|| RsaPrivateKey::generate(2048).unwrap())
    }

    #[test]
    fn sign_verify_round_trip() {
        let (_, key) = key_2048();
        assert!(key.signs_with_aws_lc());
        assert_eq!(key.bits(), 2048);
        let sig = key.sign_sha256(b"GET\n/v3/certificates\n1554208460\nNONCE\n\n");
        assert_eq!(sig.len(), 256);
        key.public_key()
            .verify_sha256(b"GET\n/v3/certificates\n1554208460\nNONCE\n\n", &sig)
            .unwrap();
        let sig1 = key.sign_sha1(b"legacy");
        key.public_key().verify_sha1(b"legacy", &sig1).unwrap();
        assert!(key.public_key().verify_sha256(b"legacy", &sig1).is_err());
    }

    #[test]
    fn tampered_message_and_signature_fail() {
        let (_, key) = key_2048();
        let sig = key.sign_sha256(b"amount=100");
        assert_eq!(
            key.public_key().verify_sha256(b"amount=101", &sig),
            Err(SignatureInvalid)
        );
        let mut bad = sig.clone();
        bad[17] ^= 0x40;
        assert!(key.public_key().verify_sha256(b"amount=100", &bad).is_err());
        assert!(
            key.public_key()
                .verify_sha256(b"amount=100", &sig[1..])
                .is_err()
        );
        assert!(key.public_key().verify_sha256(b"amount=100", &[]).is_err());
    }

    #[test]
    fn wrong_key_fails() {
        let (_, key) = key_2048();
        let sig = key.sign_sha256(b"msg");
        assert!(
            other_key()
                .public_key()
                .verify_sha256(b"msg", &sig)
                .is_err()
        );
        assert_ne!(key.public_key(), other_key().public_key());
    }

    #[test]
    fn pkcs1_pkcs8_pem_and_bare_base64_load_the_same_key() {
        let (raw, key) = key_2048();
        let pkcs8_pem = raw.to_pkcs8_pem(LineEnding::CRLF).unwrap();
        let pkcs1_pem = raw.to_pkcs1_pem(LineEnding::LF).unwrap();
        let pkcs1_bare = STANDARD.encode(raw.to_pkcs1_der().unwrap().as_bytes());
        let pkcs8_bare = STANDARD.encode(raw.to_pkcs8_der().unwrap().as_bytes());
        let wrapped: String = pkcs8_bare
            .as_bytes()
            .chunks(64)
            .map(|c| format!("{}\r\n", std::str::from_utf8(c).unwrap()))
            .collect();
        let expected = key.sign_sha256(b"same");
        for text in [
            &pkcs8_pem[..],
            &pkcs1_pem[..],
            &pkcs1_bare,
            &pkcs8_bare,
            &wrapped,
        ] {
            let k = RsaPrivateKey::from_pem(text).unwrap();
            assert_eq!(k.sign_sha256(b"same"), expected);
            assert_eq!(k.public_key(), key.public_key());
        }
    }

    #[test]
    fn public_key_formats() {
        let (raw, key) = key_2048();
        let public = raw.to_public_key();
        let spki_pem = public.to_public_key_pem(LineEnding::CRLF).unwrap();
        let pkcs1_pem = public.to_pkcs1_pem(LineEnding::LF).unwrap();
        let bare = STANDARD.encode(key.public_key().spki_der());
        let mislabelled = pkcs1_pem.replace("RSA PUBLIC KEY", "PUBLIC KEY");
        for k in [
            RsaPublicKey::from_pem(&mislabelled).unwrap(),
            RsaPublicKey::from_pem(&spki_pem).unwrap(),
            RsaPublicKey::from_pem(&pkcs1_pem).unwrap(),
            RsaPublicKey::from_pem(&bare).unwrap(),
            RsaPublicKey::from_base64_spki(&bare).unwrap(),
            RsaPublicKey::from_pkcs1_der(key.public_key().pkcs1_der()).unwrap(),
        ] {
            assert_eq!(&k, key.public_key());
            assert_eq!(k.fingerprint(), sha256(key.public_key().spki_der()));
        }
    }

    #[test]
    fn oaep_and_pkcs1v15_round_trip() {
        let (_, key) = key_2048();
        let ct1 = key
            .public_key()
            .oaep_sha1_encrypt("张三".as_bytes())
            .unwrap();
        let ct2 = key
            .public_key()
            .oaep_sha1_encrypt("张三".as_bytes())
            .unwrap();
        assert_ne!(ct1, ct2, "OAEP is randomized");
        assert_eq!(key.oaep_sha1_decrypt(&ct1).unwrap(), "张三".as_bytes());
        assert!(other_key().oaep_sha1_decrypt(&ct1).is_err());
        assert!(key.oaep_sha1_decrypt(b"MTIzNA==").is_err());
        let too_long = [0u8; 215];
        let err = key.public_key().oaep_sha1_encrypt(&too_long).unwrap_err();
        assert!(err.to_string().contains("214"), "{err}");
        let ct = key.public_key().pkcs1v15_encrypt(b"plaintext").unwrap();
        assert_eq!(key.pkcs1v15_decrypt(&ct).unwrap(), b"plaintext");
        assert!(key.pkcs1v15_decrypt(b"MTIzNA==").is_err());
    }

    #[test]
    fn debug_shows_no_key_material() {
        let (raw, key) = key_2048();
        let dbg = format!("{key:?}");
        let fp = hex_lower(&key.public_key().fingerprint()[..8]);
        assert_eq!(
            dbg,
            format!("RsaPrivateKey {{ bits: 2048, public_fingerprint: {fp} }}")
        );
        let d_hex = hex_lower(&raw.d().to_bytes_be());
        assert!(!dbg.contains(&d_hex[..16]));
        assert!(!format!("{:#?}", key).contains("BigUint"));
        let pdbg = format!("{:?}", key.public_key());
        assert_eq!(
            pdbg,
            format!("RsaPublicKey {{ bits: 2048, fingerprint: {fp} }}")
        );
    }

    #[test]
    fn small_keys_sign_through_the_rsa_crate() {
        let key = RsaPrivateKey::generate(1024).unwrap();
        assert!(!key.signs_with_aws_lc());
        let sig = key.sign_sha256(b"m");
        key.public_key().verify_sha256(b"m", &sig).unwrap();
        assert!(key.public_key().verify_sha256(b"n", &sig).is_err());
        let sig = key.sign_sha1(b"m");
        key.public_key().verify_sha1(b"m", &sig).unwrap();
        // Same bytes as aws-lc-rs would produce (PKCS#1 v1.5 is deterministic): compare with the
        // rsa crate's own verifier.
        let raw = rsa::RsaPublicKey::from_pkcs1_der(key.public_key().pkcs1_der()).unwrap();
        raw.verify(
            Pkcs1v15Sign::new::<Sha256>(),
            &sha256(b"m"),
            &key.sign_sha256(b"m"),
        )
        .unwrap();
    }

    #[test]
    fn rejects_garbage_tiny_and_encrypted_keys() {
        assert!(RsaPrivateKey::from_pem("not a key").is_err());
        assert!(RsaPrivateKey::from_pem("").is_err());
        let tiny = rsa::RsaPrivateKey::new(&mut OsRng, 512).unwrap();
        let err =
            RsaPrivateKey::from_pkcs1_der(tiny.to_pkcs1_der().unwrap().as_bytes()).unwrap_err();
        assert!(err.reason().contains("512-bit"), "{err}");
        let enc =
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n";
        assert!(
            RsaPrivateKey::from_pem(enc)
                .unwrap_err()
                .reason()
                .contains("encrypted")
        );
        let cert_only = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        let err = RsaPrivateKey::from_pem(cert_only).unwrap_err();
        assert!(err.reason().contains("CERTIFICATE"), "{err}");
        let err = RsaPublicKey::from_pem(cert_only).unwrap_err();
        assert!(err.reason().contains("public_key()"), "{err}");
        assert!(RsaPublicKey::from_base64_spki("AAAA").is_err());
    }

    #[test]
    fn error_messages_do_not_leak_key_bytes() {
        let (raw, _) = key_2048();
        let mut der = raw.to_pkcs8_der().unwrap().as_bytes().to_vec();
        let len = der.len();
        der.truncate(len - 10);
        let err = RsaPrivateKey::from_pkcs8_der(&der).unwrap_err();
        let shown = format!("{err} {err:?}");
        let d_hex = hex_lower(&raw.d().to_bytes_be());
        assert!(!shown.to_lowercase().contains(&d_hex[..12]), "{shown}");
    }
}
