//! APIv2 signatures: `MD5` and `HMAC-SHA256` over the sorted, non-empty parameters.

use std::collections::BTreeMap;

use payagg_core::Channel;
use payagg_core::crypto::{ct_eq, hmac_sha256_hex_upper, md5_hex_upper};
use payagg_core::error::{VerificationError, VerificationKind};
use secrecy::{ExposeSecret, SecretString};

/// The APIv2 signature algorithm (`sign_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum SignType {
    /// `MD5`, the default when `sign_type` is absent.
    #[default]
    Md5,
    /// `HMAC-SHA256`, keyed with the APIv2 key.
    HmacSha256,
}

impl SignType {
    /// The `sign_type` value on the wire.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            SignType::Md5 => "MD5",
            SignType::HmacSha256 => "HMAC-SHA256",
        }
    }
}

/// The string WeChat signs (`stringA`): every parameter except `sign` whose value is not
/// empty, sorted by name in byte order, joined as `k=v&k=v` without URL-encoding.
///
/// ```
/// use std::collections::BTreeMap;
/// let p = BTreeMap::from([("b".to_owned(), "2".to_owned()), ("a".to_owned(), "1".to_owned()),
///                         ("c".to_owned(), String::new()), ("sign".to_owned(), "X".to_owned())]);
/// assert_eq!(payagg_wechat::micropay::string_to_sign(&p), "a=1&b=2");
/// ```
#[must_use]
pub fn string_to_sign(params: &BTreeMap<String, String>) -> String {
    let mut s = String::with_capacity(params.iter().map(|(k, v)| k.len() + v.len() + 2).sum());
    for (k, v) in params {
        if k == "sign" || v.is_empty() {
            continue;
        }
        if !s.is_empty() {
            s.push('&');
        }
        s.push_str(k);
        s.push('=');
        s.push_str(v);
    }
    s
}

/// The APIv2 `sign` of `params`: `stringA&key=<API v2 key>`, hashed with MD5 or
/// HMAC-SHA256 (keyed with the API v2 key), in upper-case hex.
///
/// ```
/// use std::collections::BTreeMap;
/// use payagg_wechat::micropay::{SignType, sign};
/// let p: BTreeMap<String, String> = [("appid", "wxd930ea5d5a258f4f"), ("mch_id", "10000100"),
///     ("device_info", "1000"), ("body", "test"), ("nonce_str", "ibuaiVcKdpRxkhJA")]
///     .into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
/// let key = secrecy::SecretString::from("192006250b4c09247ec02edce69f6a2d");
/// assert_eq!(sign(&p, &key, SignType::Md5), "9A0A8659F005D6984697E2CA0A9CF3B7");
/// ```
#[must_use]
pub fn sign(params: &BTreeMap<String, String>, key: &SecretString, sign_type: SignType) -> String {
    // The temporary string holds the key: keep it in a secret so it is wiped on drop.
    let mut temp = string_to_sign(params);
    temp.push_str("&key=");
    temp.push_str(key.expose_secret());
    let temp = SecretString::from(temp);
    let msg = temp.expose_secret().as_bytes();
    match sign_type {
        SignType::Md5 => md5_hex_upper(msg),
        SignType::HmacSha256 => hmac_sha256_hex_upper(key.expose_secret().as_bytes(), msg),
    }
}

/// Verify the `sign` of a response (or notification) in constant time. Every field but
/// `sign` counts, including ones this crate does not know.
///
/// # Errors
/// [`VerificationError`] of kind `MissingSignature` without a `sign`, `BadSignature` when it
/// does not match.
pub fn verify(
    params: &BTreeMap<String, String>,
    key: &SecretString,
    sign_type: SignType,
) -> Result<(), VerificationError> {
    let Some(presented) = params.get("sign").filter(|s| !s.is_empty()) else {
        return Err(VerificationError::new(
            Channel::Wechat,
            VerificationKind::MissingSignature,
            "APIv2 response has no sign",
        )
        .expected(sign_type.as_str()));
    };
    let computed = sign(params, key, sign_type);
    if ct_eq(
        presented.to_ascii_uppercase().as_bytes(),
        computed.as_bytes(),
    ) {
        Ok(())
    } else {
        Err(VerificationError::new(
            Channel::Wechat,
            VerificationKind::BadSignature,
            format!(
                "APIv2 {} sign does not match the API v2 key",
                sign_type.as_str()
            ),
        )
        .presented(presented.clone()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn verify_round_trip_and_tamper() {
        let key = SecretString::from("192006250b4c09247ec02edce69f6a2d");
        for t in [SignType::Md5, SignType::HmacSha256] {
            let mut p = params(&[("return_code", "SUCCESS"), ("new_field", "x")]);
            p.insert("sign".into(), sign(&p, &key, t).to_lowercase());
            assert!(verify(&p, &key, t).is_ok());
            p.insert("new_field".into(), "y".into());
            let e = verify(&p, &key, t).unwrap_err();
            assert_eq!(e.kind(), &VerificationKind::BadSignature);
        }
        let e = verify(&params(&[("a", "1")]), &key, SignType::Md5).unwrap_err();
        assert_eq!(e.kind(), &VerificationKind::MissingSignature);
    }
}
