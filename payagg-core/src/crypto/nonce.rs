//! Nonce strings for request signing (WeChat `nonce_str`, the APIv3 `Authorization` nonce).

use std::fmt;

use rand_core::{OsRng, RngCore};

/// A source of nonce strings. Inject a [`FixedNonce`] to make signatures reproducible in tests.
pub trait NonceSource: Send + Sync + fmt::Debug {
    /// A fresh nonce.
    fn nonce(&self) -> String;
}

/// 32 characters drawn uniformly from `[0-9A-Z]` using the operating system's CSPRNG
/// (about 165 bits of entropy).
///
/// ```
/// use payagg_core::crypto::{NonceSource, RandomNonce};
/// let n = RandomNonce.nonce();
/// assert_eq!(n.len(), 32);
/// assert!(n.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomNonce;

const ALPHABET: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const NONCE_LEN: usize = 32;
/// Largest multiple of 36 that fits a byte: bytes at or above it are rejected, so every
/// character is equally likely.
const REJECT_FROM: u8 = 252;

impl NonceSource for RandomNonce {
    /// # Panics
    ///
    /// Only if the operating system's random source fails (`getrandom` errors), as
    /// [`rand_core::OsRng`] does.
    fn nonce(&self) -> String {
        let mut out = String::with_capacity(NONCE_LEN);
        let mut buf = [0u8; 48];
        while out.len() < NONCE_LEN {
            OsRng.fill_bytes(&mut buf);
            for &b in buf.iter().filter(|&&b| b < REJECT_FROM) {
                if out.len() == NONCE_LEN {
                    break;
                }
                out.push(char::from(ALPHABET[usize::from(b % 36)]));
            }
        }
        out
    }
}

/// Always the same nonce: for tests, doc examples and reproducible vectors.
///
/// ```
/// use payagg_core::crypto::{FixedNonce, NonceSource};
/// assert_eq!(FixedNonce("5K8264ILTKCH16CQ2502SI8ZNMTM67VS".into()).nonce(), "5K8264ILTKCH16CQ2502SI8ZNMTM67VS");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixedNonce(pub String);

impl NonceSource for FixedNonce {
    fn nonce(&self) -> String {
        self.0.clone()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn random_nonces_differ_and_cover_the_alphabet() {
        let nonces: Vec<String> = (0..200).map(|_| RandomNonce.nonce()).collect();
        let distinct: HashSet<&String> = nonces.iter().collect();
        assert_eq!(distinct.len(), nonces.len());
        let chars: HashSet<char> = nonces.iter().flat_map(|n| n.chars()).collect();
        assert_eq!(chars.len(), 36);
        assert!(nonces.iter().all(|n| n.len() == 32));
    }

    #[test]
    fn trait_objects_work() {
        let sources: Vec<Box<dyn NonceSource>> =
            vec![Box::new(RandomNonce), Box::new(FixedNonce("abc".into()))];
        assert_eq!(sources[1].nonce(), "abc");
        assert_eq!(sources[0].nonce().len(), 32);
    }
}
