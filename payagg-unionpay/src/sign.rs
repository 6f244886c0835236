//! Pure ACP 5.1.0 signing: fields in, signed fields out. No I/O, no clock.
//!
//! **Unstable: shared with `payagg-mock`.** The simulator signs its answers and checks the
//! merchants' requests with these very functions. Not part of the crate's semver promise.
//!
//! | `signMethod` | `signature` |
//! | --- | --- |
//! | `01` (5.1.0) | `base64(SHA256withRSA(key, ASCII(hex(SHA-256(S)))))`, `certId` = decimal serial |
//! | `01` (5.0.0, legacy) | `base64(SHA1withRSA(key, ASCII(hex(SHA-1(S)))))` |
//! | `11` | `hex(SHA-256(S + "&" + hex(SHA-256(secureKey))))` |
//! | `12` | `hex(SM3(S + "&" + hex(SM3(secureKey))))` |
//!
//! `S` is every field but `signature`, sorted by name in byte order, joined as `k=v&…` with raw
//! values ([`string_to_sign`]). Requests drop empty values before signing and send exactly the
//! signed set ([`sign`]); received messages are verified over every field they carry,
//! empty ones included.

use std::fmt;

use base64::Engine as _;
use payagg_core::crypto::{RsaPrivateKey, RsaPublicKey, SignatureInvalid, ct_eq, hex_lower};
use payagg_core::error::InvalidInput;
use secrecy::{ExposeSecret, SecretString};
use sha1::Digest as _;

use crate::qstring::{Fields, to_raw_string};
use crate::wire::{codes, fields as f};

/// How a message is signed (`signMethod`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignMethod {
    /// `01`: RSA with the merchant certificate (and UnionPay's certificate on answers).
    Rsa,
    /// `11`: SHA-256 with the shared secure key.
    SecureKeySha256,
    /// `12`: SM3 with the shared secure key.
    SecureKeySm3,
}

impl SignMethod {
    /// The wire code.
    #[must_use]
    pub fn code(self) -> &'static str {
        match self {
            SignMethod::Rsa => codes::SIGN_METHOD_RSA,
            SignMethod::SecureKeySha256 => codes::SIGN_METHOD_SHA256_KEY,
            SignMethod::SecureKeySm3 => codes::SIGN_METHOD_SM3_KEY,
        }
    }

    /// From the wire code.
    #[must_use]
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            codes::SIGN_METHOD_RSA => Some(SignMethod::Rsa),
            codes::SIGN_METHOD_SHA256_KEY => Some(SignMethod::SecureKeySha256),
            codes::SIGN_METHOD_SM3_KEY => Some(SignMethod::SecureKeySm3),
            _ => None,
        }
    }
}

impl fmt::Display for SignMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The merchant's signing credential, parsed once.
#[derive(Clone)]
#[non_exhaustive]
pub enum Signer {
    /// `signMethod=01` with the key of the certificate whose decimal serial is `cert_id`.
    Rsa {
        /// The private key.
        key: RsaPrivateKey,
        /// `certId`: decimal serial of the signing certificate.
        cert_id: String,
    },
    /// `signMethod=11` or `12` with the secure key.
    SecureKey {
        /// [`SignMethod::SecureKeySha256`] or [`SignMethod::SecureKeySm3`].
        method: SignMethod,
        /// The secure key configured in the merchant portal.
        key: SecretString,
    },
}

impl Signer {
    /// An RSA signer.
    #[must_use]
    pub fn rsa(key: RsaPrivateKey, cert_id: impl Into<String>) -> Self {
        Signer::Rsa {
            key,
            cert_id: cert_id.into(),
        }
    }

    /// A secure-key signer (`method` must be `11` or `12`; `01` is treated as `11`).
    #[must_use]
    pub fn secure_key(method: SignMethod, key: SecretString) -> Self {
        let method = match method {
            SignMethod::Rsa => SignMethod::SecureKeySha256,
            m => m,
        };
        Signer::SecureKey { method, key }
    }

    /// The `signMethod` this signer produces.
    #[must_use]
    pub fn method(&self) -> SignMethod {
        match self {
            Signer::Rsa { .. } => SignMethod::Rsa,
            Signer::SecureKey { method, .. } => *method,
        }
    }

    /// `certId`, for RSA signers.
    #[must_use]
    pub fn cert_id(&self) -> Option<&str> {
        match self {
            Signer::Rsa { cert_id, .. } => Some(cert_id),
            Signer::SecureKey { .. } => None,
        }
    }
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Signer::Rsa { key, cert_id } => f
                .debug_struct("Signer::Rsa")
                .field("cert_id", cert_id)
                .field("key", key)
                .finish(),
            Signer::SecureKey { method, .. } => f
                .debug_struct("Signer::SecureKey")
                .field("method", method)
                .field("key", &"[REDACTED]")
                .finish(),
        }
    }
}

/// `S`: every field except `signature`, in byte order of the names, `k=v` joined by `&`,
/// raw values, empty values kept as `k=`.
#[must_use]
pub fn string_to_sign(fields: &Fields) -> String {
    to_raw_string(fields.iter().filter(|(k, _)| k.as_str() != f::SIGNATURE))
}

/// The request rule: drop empty values (the official Java SDK's `filterBlank`), reject values
/// with leading or trailing whitespace (Java would trim them silently; payagg refuses rather
/// than send something else than the caller built), drop any `signature`.
///
/// # Errors
/// [`InvalidInput`] naming the field with surrounding whitespace.
pub fn request_fields(fields: Fields) -> Result<Fields, InvalidInput> {
    let mut out = Fields::new();
    for (k, v) in fields {
        if v.is_empty() || k == f::SIGNATURE {
            continue;
        }
        if v.trim() != v {
            return Err(InvalidInput::new(
                "unionpay field",
                format!("{k} has leading or trailing whitespace"),
            ));
        }
        out.insert(k, v);
    }
    Ok(out)
}

/// `base64(SHA256withRSA(key, ASCII(lowercase_hex(SHA-256(s)))))` (5.1.0, `signMethod=01`).
#[must_use]
pub fn rsa_sha256_signature(key: &RsaPrivateKey, s: &str) -> String {
    let d = hex_lower(&sha2::Sha256::digest(s.as_bytes()));
    base64::engine::general_purpose::STANDARD.encode(key.sign_sha256(d.as_bytes()))
}

/// `base64(SHA1withRSA(key, ASCII(lowercase_hex(SHA-1(s)))))` (legacy 5.0.0).
#[must_use]
pub fn rsa_sha1_signature(key: &RsaPrivateKey, s: &str) -> String {
    let d = hex_lower(&sha1::Sha1::digest(s.as_bytes()));
    base64::engine::general_purpose::STANDARD.encode(key.sign_sha1(d.as_bytes()))
}

/// `lowercase_hex(SHA-256(s + "&" + lowercase_hex(SHA-256(secure_key))))` (`signMethod=11`).
#[must_use]
pub fn secure_key_sha256_signature(s: &str, secure_key: &str) -> String {
    let k = hex_lower(&sha2::Sha256::digest(secure_key.as_bytes()));
    let mut h = sha2::Sha256::new();
    h.update(s.as_bytes());
    h.update(b"&");
    h.update(k.as_bytes());
    hex_lower(&h.finalize())
}

/// `lowercase_hex(SM3(s + "&" + lowercase_hex(SM3(secure_key))))` (`signMethod=12`).
#[must_use]
pub fn secure_key_sm3_signature(s: &str, secure_key: &str) -> String {
    let k = hex_lower(&sm3::Sm3::digest(secure_key.as_bytes()));
    let mut h = sm3::Sm3::new();
    h.update(s.as_bytes());
    h.update(b"&");
    h.update(k.as_bytes());
    hex_lower(&h.finalize())
}

/// Signs a request: applies [`request_fields`], sets `signMethod` (and `certId` for RSA)
/// **before** building the string, then adds `signature`. `version=5.0.0` selects the legacy
/// SHA-1 formula for RSA; anything else signs 5.1.0. Send exactly the returned fields.
///
/// ```
/// use payagg_unionpay::qstring::Fields;
/// use payagg_unionpay::sign::{sign, SignMethod, Signer};
///
/// let mut f = Fields::new();
/// f.insert("version".into(), "5.1.0".into());
/// f.insert("merId".into(), "777290058110048".into());
/// f.insert("riskRateInfo".into(), "".into()); // dropped
/// let signer = Signer::secure_key(SignMethod::SecureKeySha256, "88888888".to_owned().into());
/// let signed = sign(f, &signer)?;
/// assert_eq!(signed["signMethod"], "11");
/// assert!(!signed.contains_key("riskRateInfo"));
/// assert_eq!(signed["signature"].len(), 64);
/// # Ok::<(), payagg_core::error::InvalidInput>(())
/// ```
///
/// # Errors
/// [`InvalidInput`] from [`request_fields`].
pub fn sign(fields: Fields, signer: &Signer) -> Result<Fields, InvalidInput> {
    let mut fields = request_fields(fields)?;
    fields.insert(f::SIGN_METHOD.to_owned(), signer.method().code().to_owned());
    let signature = match signer {
        Signer::Rsa { key, cert_id } => {
            fields.insert(f::CERT_ID.to_owned(), cert_id.clone());
            let s = string_to_sign(&fields);
            if fields.get(f::VERSION).map(String::as_str) == Some(codes::VERSION_5_0_0) {
                rsa_sha1_signature(key, &s)
            } else {
                rsa_sha256_signature(key, &s)
            }
        }
        Signer::SecureKey { method, key } => {
            fields.remove(f::CERT_ID);
            let s = string_to_sign(&fields);
            match method {
                SignMethod::SecureKeySm3 => secure_key_sm3_signature(&s, key.expose_secret()),
                _ => secure_key_sha256_signature(&s, key.expose_secret()),
            }
        }
    };
    fields.insert(f::SIGNATURE.to_owned(), signature);
    Ok(fields)
}

/// Checks a 5.1.0 `signMethod=01` signature over every field but `signature` with `key`
/// (the key of the already chain-checked `signPubKeyCert`).
///
/// # Errors
/// [`SignatureInvalid`] when `signature` is missing, not base64, or does not verify.
pub fn verify_rsa_sha256(fields: &Fields, key: &RsaPublicKey) -> Result<(), SignatureInvalid> {
    let sig = fields.get(f::SIGNATURE).ok_or(SignatureInvalid)?;
    let sig = base64::engine::general_purpose::STANDARD
        .decode(sig)
        .map_err(|_| SignatureInvalid)?;
    let d = hex_lower(&sha2::Sha256::digest(string_to_sign(fields).as_bytes()));
    key.verify_sha256(d.as_bytes(), &sig)
}

/// Checks a `signMethod=11`/`12` signature by recomputing it, compared in constant time.
///
/// # Errors
/// [`SignatureInvalid`] when missing or different, or when `method` is [`SignMethod::Rsa`].
pub fn verify_secure_key(
    fields: &Fields,
    method: SignMethod,
    secure_key: &SecretString,
) -> Result<(), SignatureInvalid> {
    let sig = fields.get(f::SIGNATURE).ok_or(SignatureInvalid)?;
    let s = string_to_sign(fields);
    let expected = match method {
        SignMethod::SecureKeySha256 => secure_key_sha256_signature(&s, secure_key.expose_secret()),
        SignMethod::SecureKeySm3 => secure_key_sm3_signature(&s, secure_key.expose_secret()),
        SignMethod::Rsa => return Err(SignatureInvalid),
    };
    if ct_eq(expected.as_bytes(), sig.to_ascii_lowercase().as_bytes()) {
        Ok(())
    } else {
        Err(SignatureInvalid)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::test_vectors as tv;

    #[test]
    fn request_sign_vectors() {
        let Some((dir, cases)) = tv::cases("request_sign_vectors", "request_sign") else {
            return;
        };
        assert_eq!(cases.len(), 9);
        for c in &cases {
            let id = tv::s(c, "id");
            let params: Fields = c["inputs"]["params"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                .collect();
            let method = SignMethod::from_code(&params["signMethod"]).unwrap();
            let signer = match method {
                SignMethod::Rsa => {
                    let pfx = std::fs::read(dir.join(tv::s(c, "inputs.pkcs12_file"))).unwrap();
                    let (key, cert) =
                        crate::keys::load_pkcs12(&pfx, tv::s(c, "inputs.password")).unwrap();
                    assert_eq!(cert.serial_decimal(), params["certId"], "{id}");
                    Signer::rsa(key, cert.serial_decimal())
                }
                m => Signer::secure_key(m, tv::s(c, "inputs.secure_key").to_owned().into()),
            };
            let prepared = request_fields(params.clone()).unwrap();
            assert_eq!(
                string_to_sign(&prepared),
                tv::s(c, "expected.string_to_sign"),
                "{id}"
            );
            let signed = sign(params, &signer).unwrap();
            assert_eq!(signed["signature"], tv::s(c, "expected.signature"), "{id}");
            if let Some(h) = c["expected"]["sha256_hex"].as_str() {
                let d = hex_lower(&sha2::Sha256::digest(
                    tv::s(c, "expected.string_to_sign").as_bytes(),
                ));
                assert_eq!(d, h, "{id}");
            }
            if let Some(h) = c["expected"]["secure_key_sm3_hex"].as_str() {
                assert_eq!(hex_lower(&sm3::Sm3::digest(b"88888888")), h);
                assert_eq!(
                    hex_lower(&sm3::Sm3::digest(b"abc")),
                    tv::s(c, "expected.sm3_abc")
                );
            }
            if let Some(h) = c["expected"]["secure_key_sha256_hex"].as_str() {
                assert_eq!(hex_lower(&sha2::Sha256::digest(b"88888888")), h);
            }
            // Secure-key signatures verify; a tampered field does not.
            if let Signer::SecureKey { method, key } = &signer {
                assert!(verify_secure_key(&signed, *method, key).is_ok());
                let mut t = signed.clone();
                t.insert("txnAmt".into(), "1".into());
                assert!(verify_secure_key(&t, *method, key).is_err());
            }
            if let Signer::Rsa { key, .. } = &signer
                && signed["version"] == "5.1.0"
            {
                assert!(verify_rsa_sha256(&signed, key.public_key()).is_ok());
            }
        }
    }

    #[test]
    fn whitespace_is_refused_and_blank_dropped() {
        let mut f = Fields::new();
        f.insert("orderId".into(), " A1".into());
        assert!(request_fields(f).is_err());
        let mut f = Fields::new();
        f.insert("orderId".into(), "A1".into());
        f.insert("reqReserved".into(), String::new());
        f.insert("signature".into(), "old".into());
        assert_eq!(request_fields(f).unwrap().len(), 1);
    }

    #[test]
    fn signer_debug_redacts() {
        let s = Signer::secure_key(SignMethod::SecureKeySm3, "88888888".to_owned().into());
        assert!(!format!("{s:?}").contains("8888"));
        assert_eq!(s.method().code(), "12");
        assert_eq!(
            SignMethod::from_code("11"),
            Some(SignMethod::SecureKeySha256)
        );
        assert_eq!(SignMethod::from_code("02"), None);
    }
}
