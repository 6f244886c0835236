//! AES-256-GCM, as WeChat Pay APIv3 uses it for callback resources, downloaded platform
//! certificates and bill download envelopes.
//!
//! WeChat's nonces are 12 ASCII characters and its ciphertexts carry the 16-byte tag at the end
//! (`ciphertext || tag`, then base64). Base64 decoding is the caller's job; these functions work
//! on raw bytes.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use super::DecryptError;
use crate::error::ConfigError;

/// Length of an AES-GCM nonce in bytes (96 bits, the only length WeChat uses).
pub const GCM_NONCE_LEN: usize = 12;
/// Length of the AES-GCM authentication tag appended to every ciphertext.
pub const GCM_TAG_LEN: usize = 16;

/// Decrypts and authenticates `ciphertext_with_tag` (ciphertext followed by the 16-byte tag).
///
/// Prefer [`SecretKey32::decrypt`] when the same key is used more than once: it keeps the key
/// schedule.
///
/// ```
/// use payagg_core::crypto::{aes_256_gcm_decrypt, aes_256_gcm_encrypt};
/// let key = [7u8; 32];
/// let ct = aes_256_gcm_encrypt(&key, b"0123456789ab", b"certificate", b"hello");
/// assert_eq!(aes_256_gcm_decrypt(&key, b"0123456789ab", b"certificate", &ct).unwrap(), b"hello");
/// assert!(aes_256_gcm_decrypt(&key, b"0123456789ab", b"transaction", &ct).is_err());
/// ```
///
/// # Errors
///
/// [`DecryptError`] if the nonce is not 12 bytes, or if the key, nonce, associated data or
/// ciphertext do not match (the tag check failed). No partial plaintext is ever returned.
pub fn aes_256_gcm_decrypt(
    key: &[u8; 32],
    nonce: &[u8],
    aad: &[u8],
    ciphertext_with_tag: &[u8],
) -> Result<Vec<u8>, DecryptError> {
    let cipher = cipher_for(key).ok_or_else(DecryptError::failed)?;
    decrypt_with(&cipher, nonce, aad, ciphertext_with_tag)
}

/// Encrypts `plaintext` and appends the 16-byte tag (the simulator's side of WeChat's callback
/// encryption). Never reuse a nonce with the same key.
///
/// # Panics
///
/// Only if `plaintext` is longer than AES-GCM's limit of 2³⁶ − 32 bytes (64 GiB).
#[must_use]
pub fn aes_256_gcm_encrypt(
    key: &[u8; 32],
    nonce: &[u8; GCM_NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
) -> Vec<u8> {
    match cipher_for(key) {
        Some(cipher) => encrypt_with(&cipher, nonce, aad, plaintext),
        None => key_rejected(),
    }
}

/// `aws-lc-rs` (AWS-LC's AES-NI/VAES and CLMUL/VPCLMULQDQ code) runs several times faster than
/// the pure-Rust `aes-gcm` crate on 1 KiB messages. It rejects only keys of the wrong length,
/// which the `[u8; 32]` type rules out.
fn cipher_for(key: &[u8; 32]) -> Option<LessSafeKey> {
    UnboundKey::new(&AES_256_GCM, key)
        .ok()
        .map(LessSafeKey::new)
}

#[cold]
fn key_rejected() -> ! {
    panic!("aws-lc-rs rejected a 32-byte AES-256-GCM key")
}

fn decrypt_with(
    cipher: &LessSafeKey,
    nonce: &[u8],
    aad: &[u8],
    ciphertext_with_tag: &[u8],
) -> Result<Vec<u8>, DecryptError> {
    let nonce: [u8; GCM_NONCE_LEN] = nonce.try_into().map_err(|_| DecryptError::nonce_length())?;
    if ciphertext_with_tag.len() < GCM_TAG_LEN {
        return Err(DecryptError::failed());
    }
    let mut buf = ciphertext_with_tag.to_vec();
    let plaintext_len = cipher
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad),
            &mut buf,
        )
        .map_err(|aws_lc_rs::error::Unspecified| DecryptError::failed())?
        .len();
    buf.truncate(plaintext_len);
    Ok(buf)
}

fn encrypt_with(
    cipher: &LessSafeKey,
    nonce: &[u8; GCM_NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
) -> Vec<u8> {
    let mut buf = Vec::with_capacity(plaintext.len() + GCM_TAG_LEN);
    buf.extend_from_slice(plaintext);
    match cipher.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(*nonce),
        Aad::from(aad),
        &mut buf,
    ) {
        Ok(()) => buf,
        // GCM fails only above its length limit (about 64 GiB of plaintext).
        Err(aws_lc_rs::error::Unspecified) => panic!("AES-GCM plaintext exceeds 2^36 - 32 bytes"),
    }
}

/// A 32-byte symmetric secret, such as the WeChat Pay APIv3 key (also the shape of the APIv2
/// key). The AES-256-GCM key schedule is computed once at construction.
///
/// The raw bytes sit in a [`Zeroizing`] buffer and are wiped on drop. The AES key schedule
/// lives in AWS-LC's heap (through `aws-lc-rs`), whose allocator overwrites every allocation
/// when it is freed. Clones share one key schedule. `Debug` prints `SecretKey32([REDACTED])`.
///
/// ```
/// use payagg_core::crypto::SecretKey32;
/// let key: SecretKey32 = "a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb".parse().unwrap();
/// assert_eq!(format!("{key:?}"), "SecretKey32([REDACTED])");
/// assert!("too short".parse::<SecretKey32>().is_err());
/// ```
#[derive(Clone)]
pub struct SecretKey32 {
    bytes: Zeroizing<[u8; 32]>,
    /// `aws-lc-rs` keys are deliberately not `Clone`: clones share this one.
    cipher: Arc<LessSafeKey>,
}

impl SecretKey32 {
    /// Wraps exactly 32 bytes.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] if `bytes` is not 32 bytes long (the message gives the length, never
    /// the bytes).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ConfigError> {
        if bytes.len() != 32 {
            return Err(ConfigError::new(
                "32-byte secret key",
                format!("must be exactly 32 bytes, got {}", bytes.len()),
            ));
        }
        // Copy straight into the zeroizing buffer: no stray copy on the stack.
        let mut key = Zeroizing::new([0u8; 32]);
        key.copy_from_slice(bytes);
        let bytes = key;
        let cipher = cipher_for(&bytes)
            .ok_or_else(|| ConfigError::new("32-byte secret key", "rejected as an AES-256 key"))?;
        Ok(Self {
            bytes,
            cipher: Arc::new(cipher),
        })
    }

    /// Wraps a key held as a [`SecretString`] (its UTF-8 bytes must be 32 bytes long, as WeChat's
    /// 32-character APIv3 key is).
    ///
    /// # Errors
    ///
    /// [`ConfigError`] if the string is not 32 bytes long.
    pub fn from_secret(secret: &SecretString) -> Result<Self, ConfigError> {
        Self::from_bytes(secret.expose_secret().as_bytes())
    }

    /// The raw key: the one grep-able way to reach the secret (for HMAC or MD5 signing with a
    /// WeChat APIv2 key).
    #[must_use]
    pub fn expose_secret(&self) -> &[u8; 32] {
        &self.bytes
    }

    /// AES-256-GCM decryption with this key; see [`aes_256_gcm_decrypt`].
    ///
    /// # Errors
    ///
    /// [`DecryptError`] if the nonce is not 12 bytes or authentication fails.
    pub fn decrypt(
        &self,
        nonce: &[u8],
        aad: &[u8],
        ciphertext_with_tag: &[u8],
    ) -> Result<Vec<u8>, DecryptError> {
        decrypt_with(&self.cipher, nonce, aad, ciphertext_with_tag)
    }

    /// AES-256-GCM encryption with this key; see [`aes_256_gcm_encrypt`].
    ///
    /// # Panics
    ///
    /// Only if `plaintext` is longer than AES-GCM's limit of 2³⁶ − 32 bytes (64 GiB).
    #[must_use]
    pub fn encrypt(&self, nonce: &[u8; GCM_NONCE_LEN], aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        encrypt_with(&self.cipher, nonce, aad, plaintext)
    }
}

impl FromStr for SecretKey32 {
    type Err = ConfigError;

    /// The UTF-8 bytes of `s`, which must be 32 bytes long.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_bytes(s.as_bytes())
    }
}

impl fmt::Debug for SecretKey32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey32([REDACTED])")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const KEY: &str = "a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb";

    #[test]
    fn round_trip_and_tamper() {
        let key: SecretKey32 = KEY.parse().unwrap();
        let ct = key.encrypt(b"uluk4a9R25RW", b"aad", b"message");
        assert_eq!(ct.len(), 7 + GCM_TAG_LEN);
        assert_eq!(
            key.decrypt(b"uluk4a9R25RW", b"aad", &ct).unwrap(),
            b"message"
        );
        assert_eq!(
            aes_256_gcm_decrypt(key.expose_secret(), b"uluk4a9R25RW", b"aad", &ct).unwrap(),
            b"message"
        );
        let mut bad = ct.clone();
        bad[0] ^= 1;
        assert!(key.decrypt(b"uluk4a9R25RW", b"aad", &bad).is_err());
        assert!(key.decrypt(b"uluk4a9R25RW", b"aad", &ct[..10]).is_err());
        assert!(key.decrypt(b"uluk4a9R25RW", b"aad", &[]).is_err());
    }

    #[test]
    fn wrong_nonce_length_is_rejected() {
        let key: SecretKey32 = KEY.parse().unwrap();
        let ct = key.encrypt(b"uluk4a9R25RW", b"", b"x");
        let err = key.decrypt(b"short", b"", &ct).unwrap_err();
        assert!(err.to_string().contains("12"), "{err}");
        assert!(key.decrypt(b"uluk4a9R25RW-", b"", &ct).is_err());
    }

    #[test]
    fn key_length_and_redaction() {
        let err = SecretKey32::from_bytes(b"testAPIv3Key0000").unwrap_err();
        assert!(err.to_string().contains("got 16"), "{err}");
        let key = SecretKey32::from_secret(&SecretString::from(KEY)).unwrap();
        let dbg = format!("{key:?}");
        assert!(!dbg.contains(KEY) && !dbg.contains("a7cd"), "{dbg}");
    }
}
