//! Alipay content encryption (`encrypt_type=AES`, brief §8): AES-CBC with a zero IV and
//! PKCS#7 padding, base64 in and out. The key is the console's base64 key (16 bytes; 24 and 32
//! are accepted as the Java SDK does).
//!
//! **Unstable: shared with `payagg-mock`.**
//!
//! ```
//! use payagg_alipay::aes::AesKey;
//!
//! let key = AesKey::from_base64("aa4BtZ4tspm2wnXLb1ThQA==")?;
//! assert_eq!(key.encrypt_b64(b"test1234567"), "ILpoMowjIQjfYMR847rnFQ==");
//! assert_eq!(key.decrypt_b64("ILpoMowjIQjfYMR847rnFQ==")?, b"test1234567");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

use aes_gcm::aes::cipher::generic_array::GenericArray;
use aes_gcm::aes::cipher::{BlockDecrypt, BlockEncrypt, KeyInit};
use aes_gcm::aes::{Aes128, Aes192, Aes256};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use payagg_core::error::ConfigError;
use zeroize::Zeroizing;

/// An Alipay AES content-encryption key. `Debug` prints only the key length.
#[derive(Clone)]
pub struct AesKey {
    key: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for AesKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AesKey(AES-{}, redacted)", self.key.len() * 8)
    }
}

/// AES decryption failed: not base64, or bad padding (wrong key or tampered data). Opaque.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct AesDecryptError;

impl fmt::Display for AesDecryptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AES content decryption failed")
    }
}

impl std::error::Error for AesDecryptError {}

const ZERO_IV: [u8; 16] = [0; 16];

impl AesKey {
    /// Parses the console's base64 key.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] if it is not base64 of 16, 24 or 32 bytes.
    pub fn from_base64(b64: &str) -> Result<Self, ConfigError> {
        let key = Zeroizing::new(
            B64.decode(b64.trim())
                .map_err(|_| ConfigError::new("Alipay AES key", "not base64"))?,
        );
        Self::from_bytes(&key)
    }

    /// Uses raw key bytes.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] if the length is not 16, 24 or 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ConfigError> {
        if !matches!(bytes.len(), 16 | 24 | 32) {
            return Err(ConfigError::new(
                "Alipay AES key",
                format!("{} bytes; expected 16 (or 24, 32)", bytes.len()),
            ));
        }
        Ok(Self {
            key: Zeroizing::new(bytes.to_vec()),
        })
    }

    fn encrypt_blocks(&self, blocks: &mut [[u8; 16]]) {
        fn run<C: BlockEncrypt>(c: &C, blocks: &mut [[u8; 16]]) {
            let mut prev = ZERO_IV;
            for block in blocks {
                for (b, p) in block.iter_mut().zip(prev) {
                    *b ^= p;
                }
                c.encrypt_block(GenericArray::from_mut_slice(block));
                prev = *block;
            }
        }
        match self.key.len() {
            16 => run(&Aes128::new(GenericArray::from_slice(&self.key)), blocks),
            24 => run(&Aes192::new(GenericArray::from_slice(&self.key)), blocks),
            _ => run(&Aes256::new(GenericArray::from_slice(&self.key)), blocks),
        }
    }

    fn decrypt_blocks(&self, blocks: &mut [[u8; 16]]) {
        fn run<C: BlockDecrypt>(c: &C, blocks: &mut [[u8; 16]]) {
            let mut prev = ZERO_IV;
            for block in blocks {
                let cipher_block = *block;
                c.decrypt_block(GenericArray::from_mut_slice(block));
                for (b, p) in block.iter_mut().zip(prev) {
                    *b ^= p;
                }
                prev = cipher_block;
            }
        }
        match self.key.len() {
            16 => run(&Aes128::new(GenericArray::from_slice(&self.key)), blocks),
            24 => run(&Aes192::new(GenericArray::from_slice(&self.key)), blocks),
            _ => run(&Aes256::new(GenericArray::from_slice(&self.key)), blocks),
        }
    }

    /// Encrypts `plaintext` and returns standard base64.
    #[must_use]
    pub fn encrypt_b64(&self, plaintext: &[u8]) -> String {
        let pad = 16 - plaintext.len() % 16;
        let mut blocks: Vec<[u8; 16]> = Vec::with_capacity(plaintext.len() / 16 + 1);
        let mut chunks = plaintext.chunks_exact(16);
        for c in chunks.by_ref() {
            let mut b = [0u8; 16];
            b.copy_from_slice(c);
            blocks.push(b);
        }
        let rest = chunks.remainder();
        let mut last = [u8::try_from(pad).unwrap_or(16); 16];
        last[..rest.len()].copy_from_slice(rest);
        blocks.push(last);
        self.encrypt_blocks(&mut blocks);
        B64.encode(blocks.concat())
    }

    /// Decrypts standard base64 ciphertext.
    ///
    /// # Errors
    ///
    /// [`AesDecryptError`] if the text is not base64, not whole blocks, or the PKCS#7 padding
    /// is wrong (wrong key or tampered data). Callers verify the signature first, so this is
    /// no padding oracle.
    pub fn decrypt_b64(&self, ciphertext_b64: &str) -> Result<Vec<u8>, AesDecryptError> {
        let raw = B64
            .decode(ciphertext_b64.trim())
            .map_err(|_| AesDecryptError)?;
        if raw.is_empty() || raw.len() % 16 != 0 {
            return Err(AesDecryptError);
        }
        let mut blocks: Vec<[u8; 16]> = raw
            .chunks_exact(16)
            .map(|c| {
                let mut b = [0u8; 16];
                b.copy_from_slice(c);
                b
            })
            .collect();
        self.decrypt_blocks(&mut blocks);
        let mut out = blocks.concat();
        let pad = usize::from(*out.last().ok_or(AesDecryptError)?);
        if pad == 0
            || pad > 16
            || out[out.len() - pad..]
                .iter()
                .any(|&b| usize::from(b) != pad)
        {
            return Err(AesDecryptError);
        }
        out.truncate(out.len() - pad);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_errors() {
        let key = AesKey::from_base64("aYA0GP8JEW+D7/UFaskCWA==").unwrap();
        let c = key.encrypt_b64(br#"{"out_trade_no":"20150320010101001"}"#);
        assert_eq!(
            c,
            "HJjZXDcVHUcOrByocVgEmi4JxHzS7t5uQ7RGgvntf1kZEhOdP+agsp7Yl6yV/5CY"
        );
        assert_eq!(
            key.decrypt_b64(&c).unwrap(),
            br#"{"out_trade_no":"20150320010101001"}"#
        );
        assert!(key.decrypt_b64("%%").is_err());
        let other = AesKey::from_bytes(&[7; 16]).unwrap();
        // Wrong key: padding check fails (or, rarely, garbage; never the plaintext).
        assert_ne!(
            other.decrypt_b64(&c).ok().as_deref(),
            Some(&b"{\"out_trade_no\":\"20150320010101001\"}"[..])
        );
        assert!(AesKey::from_bytes(&[0; 15]).is_err());
        assert!(AesKey::from_base64("***").is_err());
        assert!(!format!("{key:?}").contains("aYA0"));
        assert!(
            AesKey::from_bytes(&[1; 32])
                .unwrap()
                .decrypt_b64(&AesKey::from_bytes(&[1; 32]).unwrap().encrypt_b64(b""))
                .unwrap()
                .is_empty()
        );
    }
}
