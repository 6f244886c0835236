//! Digests, MACs, hex and constant-time comparison.
//!
//! **Every comparison of a signature, MAC or digest received from the outside must go through
//! [`ct_eq`] or [`verify_hex_mac`]**, never `==`: a short-circuiting comparison tells an attacker
//! how many leading bytes of a forged MAC were right.

use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::SignatureInvalid;

/// SHA-256 of `data`.
///
/// ```
/// let d = payagg_core::crypto::sha256(b"abc");
/// assert_eq!(d[0], 0xba);
/// ```
#[must_use]
pub fn sha256(data: &[u8]) -> [u8; 32] {
    Sha256::digest(data).into()
}

/// SHA-256 of `data` as lowercase hex.
///
/// ```
/// assert_eq!(
///     payagg_core::crypto::sha256_hex(b"abc"),
///     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
/// );
/// ```
#[must_use]
pub fn sha256_hex(data: &[u8]) -> String {
    hex_lower(&sha256(data))
}

/// SHA-1 of `data`.
#[must_use]
pub fn sha1(data: &[u8]) -> [u8; 20] {
    Sha1::digest(data).into()
}

/// SHA-1 of `data` as lowercase hex (WeChat bill `hash_value`, UnionPay signature input).
///
/// ```
/// assert_eq!(payagg_core::crypto::sha1_hex(b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
/// ```
#[must_use]
pub fn sha1_hex(data: &[u8]) -> String {
    hex_lower(&sha1(data))
}

/// MD5 of `data` as lowercase hex (Alipay `app_cert_sn`).
///
/// ```
/// assert_eq!(payagg_core::crypto::md5_hex(b"abc"), "900150983cd24fb0d6963f7d28e17f72");
/// ```
#[must_use]
pub fn md5_hex(data: &[u8]) -> String {
    hex_lower(&Md5::digest(data))
}

/// MD5 of `data` as uppercase hex (WeChat APIv2 `sign_type=MD5`).
///
/// ```
/// assert_eq!(payagg_core::crypto::md5_hex_upper(b"abc"), "900150983CD24FB0D6963F7D28E17F72");
/// ```
#[must_use]
pub fn md5_hex_upper(data: &[u8]) -> String {
    hex_upper(&Md5::digest(data))
}

/// HMAC-SHA256 of `msg` under `key`.
#[must_use]
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key);
    let tag = aws_lc_rs::hmac::sign(&key, msg);
    let mut out = [0u8; 32];
    out.copy_from_slice(tag.as_ref());
    out
}

/// HMAC-SHA256 of `msg` under `key`, as uppercase hex (WeChat APIv2 `sign_type=HMAC-SHA256`).
///
/// ```
/// let sig = payagg_core::crypto::hmac_sha256_hex_upper(b"key", b"The quick brown fox jumps over the lazy dog");
/// assert_eq!(sig, "F7BC83F430538424B13298E6AA6FB143EF4D59A14946175997479DBC2D1A3CD8");
/// ```
#[must_use]
pub fn hmac_sha256_hex_upper(key: &[u8], msg: &[u8]) -> String {
    hex_upper(&hmac_sha256(key, msg))
}

/// Constant-time equality of two byte strings (time depends only on the lengths).
///
/// ```
/// use payagg_core::crypto::ct_eq;
/// assert!(ct_eq(b"abc", b"abc"));
/// assert!(!ct_eq(b"abc", b"abd"));
/// assert!(!ct_eq(b"abc", b"ab"));
/// ```
#[must_use]
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// Checks a hex MAC or digest received on the wire (either case) against the bytes we computed,
/// in constant time with respect to the computed value.
///
/// ```
/// use payagg_core::crypto::verify_hex_mac;
/// let computed = [0x90u8, 0x01, 0x50, 0x98];
/// assert!(verify_hex_mac("90015098", &computed).is_ok());
/// assert!(verify_hex_mac("9001509A", &computed).is_err());
/// assert!(verify_hex_mac("900150", &computed).is_err());
/// ```
///
/// # Errors
///
/// [`SignatureInvalid`] when the text is not hex of the right length or does not match.
pub fn verify_hex_mac(
    expected_hex_from_wire: &str,
    computed: &[u8],
) -> Result<(), SignatureInvalid> {
    let wire = expected_hex_from_wire.as_bytes();
    if wire.len() != computed.len() * 2 {
        return Err(SignatureInvalid);
    }
    let mut decoded = vec![0u8; computed.len()];
    let mut all_hex = true;
    for (out, pair) in decoded.iter_mut().zip(wire.chunks_exact(2)) {
        match (hex_value(pair[0]), hex_value(pair[1])) {
            (Some(hi), Some(lo)) => *out = (hi << 4) | lo,
            _ => all_hex = false,
        }
    }
    if all_hex && ct_eq(&decoded, computed) {
        Ok(())
    } else {
        Err(SignatureInvalid)
    }
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Lowercase hex of `bytes`.
#[must_use]
pub fn hex_lower(bytes: &[u8]) -> String {
    hex_with(bytes, b"0123456789abcdef")
}

/// Uppercase hex of `bytes`.
#[must_use]
pub fn hex_upper(bytes: &[u8]) -> String {
    hex_with(bytes, b"0123456789ABCDEF")
}

fn hex_with(bytes: &[u8], digits: &[u8; 16]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(digits[usize::from(b >> 4)]));
        s.push(char::from(digits[usize::from(b & 0x0f)]));
    }
    s
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn known_answers() {
        assert_eq!(sha1_hex(b""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(md5_hex_upper(b""), "D41D8CD98F00B204E9800998ECF8427E");
        // RFC 4231 test case 2.
        assert_eq!(
            hex_lower(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn hex_mac_is_case_insensitive_and_strict() {
        let mac = hmac_sha256(b"k", b"m");
        assert!(verify_hex_mac(&hex_upper(&mac), &mac).is_ok());
        assert!(verify_hex_mac(&hex_lower(&mac), &mac).is_ok());
        let mut tampered = hex_upper(&mac);
        tampered.replace_range(0..1, if tampered.starts_with('0') { "1" } else { "0" });
        assert!(verify_hex_mac(&tampered, &mac).is_err());
        let not_hex = format!("zz{}", &hex_upper(&mac)[2..]);
        assert!(verify_hex_mac(&not_hex, &mac).is_err());
        assert!(verify_hex_mac("", &mac).is_err());
        assert_eq!(SignatureInvalid.to_string(), "signature invalid");
    }
}
