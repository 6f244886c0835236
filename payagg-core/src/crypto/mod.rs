//! The cryptography shared by the channel crates and the simulator.
//!
//! | need | use |
//! | --- | --- |
//! | sign a request (WeChat APIv3, Alipay `RSA2`, UnionPay 5.1.0) | [`RsaPrivateKey::sign_sha256`] |
//! | verify a response or callback | [`RsaPublicKey::verify_sha256`] |
//! | legacy `SHA1withRSA` (Alipay `RSA`, UnionPay 5.0.0) | [`RsaPrivateKey::sign_sha1`], [`RsaPublicKey::verify_sha1`] |
//! | WeChat sensitive fields | [`RsaPublicKey::oaep_sha1_encrypt`] (and the simulator's [`RsaPrivateKey::oaep_sha1_decrypt`]) |
//! | WeChat callback resources, platform certificates | [`SecretKey32::decrypt`], [`aes_256_gcm_decrypt`] |
//! | certificate serials, names, validity, chains | [`Certificate`] |
//! | WeChat APIv2 MD5/HMAC signs, bill digests | [`md5_hex_upper`], [`hmac_sha256_hex_upper`], [`sha1_hex`] |
//! | comparing any signature, MAC or digest | [`ct_eq`], [`verify_hex_mac`] |
//! | nonces | [`NonceSource`], [`RandomNonce`], [`FixedNonce`] |
//!
//! # Security
//!
//! - Keys are parsed once (at configuration time) and never re-parsed per request. Key loading
//!   failures are [`ConfigError`](crate::error::ConfigError)s; they never include key bytes.
//! - Signing and verification, AES-256-GCM and HMAC use `aws-lc-rs` (AWS-LC: constant time,
//!   blinded and fault-checked RSA, AVX512-IFMA and VAES code paths), the same backend rustls
//!   uses under the default transport. `rsa` parses key formats, performs OAEP and PKCS#1 v1.5
//!   encryption, and signs (blinded) only where `aws-lc-rs` cannot: keys below 2048 bits and
//!   legacy `SHA1withRSA` (aws-lc-rs verifies SHA-1 signatures but does not make them).
//! - **Every comparison of a signature, MAC or digest goes through [`ct_eq`] or
//!   [`verify_hex_mac`]** (or a verify function here). Never compare them with `==`.
//! - Crypto errors are opaque ([`SignatureInvalid`], [`DecryptError`]): they say *that* a check
//!   failed, never *why* in a way that depends on secrets.
//! - RSA private-key decryption ([`RsaPrivateKey::oaep_sha1_decrypt`],
//!   [`RsaPrivateKey::pkcs1v15_decrypt`]) runs on the `rsa` crate, which is subject to the Marvin
//!   timing advisory RUSTSEC-2023-0071. It is blinded, and the SDK only uses it in the simulator
//!   and tests; do not expose it as a decryption oracle on a production key.
//! - Secrets are wiped on drop: [`SecretKey32`]'s bytes (`Zeroizing`) and the `rsa` crate's
//!   private key (its own `Zeroize`); AWS-LC's copies (the RSA signing key, the AES key
//!   schedule) through AWS-LC's allocator, which overwrites every allocation when it frees it.
//!   Not wiped: temporaries inside the `rsa` crate's big-integer arithmetic, plaintexts this
//!   module returns (the caller owns them), and copies the OS makes (swap, core dumps).

mod aead;
mod cert;
mod digest;
mod nonce;
mod pem;
mod rsa_key;

use std::fmt;

pub use aead::{GCM_NONCE_LEN, GCM_TAG_LEN, SecretKey32, aes_256_gcm_decrypt, aes_256_gcm_encrypt};
pub use cert::{
    Certificate, OID_SHA1_WITH_RSA, OID_SHA256_WITH_RSA, OID_SHA384_WITH_RSA, OID_SHA512_WITH_RSA,
};
pub use digest::{
    ct_eq, hex_lower, hex_upper, hmac_sha256, hmac_sha256_hex_upper, md5_hex, md5_hex_upper, sha1,
    sha1_hex, sha256, sha256_hex, verify_hex_mac,
};
pub use nonce::{FixedNonce, NonceSource, RandomNonce};
pub use rsa_key::{MIN_RSA_BITS, RsaPrivateKey, RsaPublicKey};

/// A signature or MAC did not verify. Deliberately carries no detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SignatureInvalid;

impl fmt::Display for SignatureInvalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("signature invalid")
    }
}

impl std::error::Error for SignatureInvalid {}

/// Decryption failed: wrong key, tampered data, wrong associated data or nonce. Opaque: it never
/// tells which check failed (that would be a padding oracle). The one exception is a nonce of
/// the wrong length, which depends on no secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DecryptError {
    bad_nonce_length: bool,
}

impl DecryptError {
    pub(crate) fn failed() -> Self {
        Self {
            bad_nonce_length: false,
        }
    }

    pub(crate) fn nonce_length() -> Self {
        Self {
            bad_nonce_length: true,
        }
    }
}

impl fmt::Display for DecryptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.bad_nonce_length {
            f.write_str("decryption failed: the nonce must be 12 bytes")
        } else {
            f.write_str("decryption failed")
        }
    }
}

impl std::error::Error for DecryptError {}

/// RSA encryption failed because the plaintext is too long for the key and padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EncryptError {
    max_len: usize,
}

impl EncryptError {
    /// The longest plaintext this key and padding accept, in bytes.
    #[must_use]
    pub fn max_len(&self) -> usize {
        self.max_len
    }
}

impl fmt::Display for EncryptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "encryption failed: plaintext longer than {} bytes",
            self.max_len
        )
    }
}

impl std::error::Error for EncryptError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync + 'static>() {}

    #[test]
    fn public_types_are_thread_safe() {
        assert_send_sync::<RsaPrivateKey>();
        assert_send_sync::<RsaPublicKey>();
        assert_send_sync::<Certificate>();
        assert_send_sync::<SecretKey32>();
        assert_send_sync::<Box<dyn NonceSource>>();
        assert_send_sync::<SignatureInvalid>();
        assert_send_sync::<DecryptError>();
        assert_send_sync::<EncryptError>();
    }

    #[test]
    fn errors_are_opaque() {
        assert_eq!(SignatureInvalid.to_string(), "signature invalid");
        assert_eq!(DecryptError::failed().to_string(), "decryption failed");
        assert!(
            DecryptError::nonce_length()
                .to_string()
                .contains("12 bytes")
        );
        assert_eq!(EncryptError { max_len: 214 }.max_len(), 214);
    }
}
