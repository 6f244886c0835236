//! Response and callback signature verification (brief §2): headers, probe rejection, the
//! replay window against an injected clock, key selection by `Wechatpay-Serial`.

use http::HeaderMap;
use payagg_core::Channel;
use payagg_core::clock::within_window;
use payagg_core::crypto::RsaPublicKey;
use payagg_core::error::{VerificationError, VerificationKind};
use time::{Duration, OffsetDateTime};

use crate::sign::{self, AUTH_SCHEME, PROBE_SIGNATURE_PREFIX, headers};

/// The default replay window: 5 minutes either way.
pub const DEFAULT_WINDOW: Duration = Duration::minutes(5);

/// The prefix of WeChat Pay public key ids.
pub const PUBLIC_KEY_ID_PREFIX: &str = "PUB_KEY_ID_";

fn err(kind: VerificationKind, detail: impl Into<String>) -> VerificationError {
    VerificationError::new(Channel::Wechat, kind, detail)
}

fn header<'a>(h: &'a HeaderMap, name: &'static str) -> Result<&'a str, VerificationError> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            err(
                VerificationKind::MissingSignature,
                format!("header {name} is missing"),
            )
        })
}

/// The signature headers of a response or callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeaders<'a> {
    /// `Wechatpay-Timestamp`.
    pub timestamp: &'a str,
    /// `Wechatpay-Nonce`.
    pub nonce: &'a str,
    /// `Wechatpay-Serial`: a platform certificate serial or a `PUB_KEY_ID_…`.
    pub serial: &'a str,
    /// `Wechatpay-Signature`.
    pub signature: &'a str,
}

impl<'a> SignatureHeaders<'a> {
    /// Reads the four headers (names are case-insensitive). A `Wechatpay-Signature-Type`
    /// other than `WECHATPAY2-SHA256-RSA2048` is rejected; a missing one defaults to it.
    ///
    /// # Errors
    /// [`VerificationError`] of kind `MissingSignature` naming the missing header, or
    /// `BadSignature` for another signature type.
    pub fn from_headers(h: &'a HeaderMap) -> Result<Self, VerificationError> {
        if let Some(t) = h.get(headers::SIGNATURE_TYPE) {
            let t = t.to_str().unwrap_or("");
            if t != AUTH_SCHEME {
                return Err(err(
                    VerificationKind::BadSignature,
                    "unsupported Wechatpay-Signature-Type",
                )
                .expected(AUTH_SCHEME)
                .presented(t.to_owned()));
            }
        }
        Ok(Self {
            timestamp: header(h, headers::TIMESTAMP)?,
            nonce: header(h, headers::NONCE)?,
            serial: header(h, headers::SERIAL)?,
            signature: header(h, headers::SIGNATURE)?,
        })
    }
}

/// Verifies `body` against its signature headers at `now`.
///
/// Order of checks: probe prefix, timestamp window, key lookup (`key_for(serial)`), signature.
/// `known` lists the serials/key ids held, for the unknown-key error.
///
/// # Errors
/// [`VerificationError`] of kind `ProbeSignature`, `StaleTimestamp`, `UnknownKey` (naming the
/// serial presented and the serials known) or `BadSignature`.
pub fn verify_signed(
    sh: &SignatureHeaders<'_>,
    body: &[u8],
    now: OffsetDateTime,
    window: Duration,
    key_for: impl Fn(&str) -> Option<RsaPublicKey>,
    known: impl Fn() -> Vec<String>,
) -> Result<(), VerificationError> {
    if sh.signature.starts_with(PROBE_SIGNATURE_PREFIX) {
        return Err(err(
            VerificationKind::ProbeSignature,
            "WECHATPAY/SIGNTEST/ probe signature; answer 4xx/5xx",
        )
        .presented(sh.serial.to_owned()));
    }
    let ts: i64 = sh.timestamp.parse().map_err(|_| {
        err(
            VerificationKind::StaleTimestamp,
            "Wechatpay-Timestamp is not Unix seconds",
        )
        .presented(sh.timestamp.to_owned())
    })?;
    let at = OffsetDateTime::from_unix_timestamp(ts).map_err(|_| {
        err(
            VerificationKind::StaleTimestamp,
            "Wechatpay-Timestamp out of range",
        )
        .presented(sh.timestamp.to_owned())
    })?;
    if !within_window(now, at, window) {
        return Err(err(
            VerificationKind::StaleTimestamp,
            format!(
                "Wechatpay-Timestamp outside the {}s window",
                window.whole_seconds()
            ),
        )
        .expected(format!(
            "{} ± {}s",
            now.unix_timestamp(),
            window.whole_seconds()
        ))
        .presented(sh.timestamp.to_owned()));
    }
    let Some(key) = key_for(sh.serial) else {
        let k = known();
        return Err(err(
            VerificationKind::UnknownKey,
            "Wechatpay-Serial names no key this client holds",
        )
        .expected(if k.is_empty() {
            "(none)".to_owned()
        } else {
            k.join(",")
        })
        .presented(sh.serial.to_owned()));
    };
    sign::verify_response(&key, sh.timestamp, sh.nonce, body, sh.signature).map_err(|_| {
        err(
            VerificationKind::BadSignature,
            "Wechatpay-Signature does not verify",
        )
        .presented(sh.serial.to_owned())
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use payagg_core::crypto::RsaPrivateKey;
    use std::sync::OnceLock;

    fn key() -> &'static RsaPrivateKey {
        static K: OnceLock<RsaPrivateKey> = OnceLock::new();
        K.get_or_init(|| RsaPrivateKey::generate(2048).unwrap())
    }

    fn headers(ts: &str, serial: &str, sig: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("wechatpay-timestamp", ts.parse().unwrap());
        h.insert("Wechatpay-Nonce", "nonce".parse().unwrap());
        h.insert("Wechatpay-Serial", serial.parse().unwrap());
        h.insert("Wechatpay-Signature", sig.parse().unwrap());
        h
    }

    fn run(h: &HeaderMap, body: &[u8], now: i64) -> Result<(), VerificationError> {
        let sh = SignatureHeaders::from_headers(h)?;
        let pk = key().public_key().clone();
        verify_signed(
            &sh,
            body,
            OffsetDateTime::from_unix_timestamp(now).unwrap(),
            DEFAULT_WINDOW,
            |s| (s == "PUB_KEY_ID_1").then(|| pk.clone()),
            || vec!["PUB_KEY_ID_1".into()],
        )
    }

    #[test]
    fn accepts_valid_and_empty_body() {
        let sig = sign::sign_response(key(), "1700000000", "nonce", b"");
        run(
            &headers("1700000000", "PUB_KEY_ID_1", &sig),
            b"",
            1700000000 + 299,
        )
        .unwrap();
    }

    #[test]
    fn rejects_each_failure_with_its_kind() {
        let sig = sign::sign_response(key(), "1700000000", "nonce", b"{}");
        let h = headers("1700000000", "PUB_KEY_ID_1", &sig);
        assert_eq!(
            run(&h, b"{} ", 1700000000).unwrap_err().kind(),
            &VerificationKind::BadSignature
        );
        assert_eq!(
            run(&h, b"{}", 1700000000 + 301).unwrap_err().kind(),
            &VerificationKind::StaleTimestamp
        );
        assert_eq!(
            run(&h, b"{}", 1700000000 - 301).unwrap_err().kind(),
            &VerificationKind::StaleTimestamp
        );
        let e = run(&headers("1700000000", "ABC", &sig), b"{}", 1700000000).unwrap_err();
        assert_eq!(e.kind(), &VerificationKind::UnknownKey);
        assert_eq!(e.presented_value(), Some("ABC"));
        assert_eq!(e.expected_value(), Some("PUB_KEY_ID_1"));
        let e = run(
            &headers("1700000000", "PUB_KEY_ID_1", "WECHATPAY/SIGNTEST/abc"),
            b"{}",
            1700000000,
        )
        .unwrap_err();
        assert_eq!(e.kind(), &VerificationKind::ProbeSignature);
        let mut h2 = h.clone();
        h2.remove("Wechatpay-Nonce");
        let e = run(&h2, b"{}", 1700000000).unwrap_err();
        assert_eq!(e.kind(), &VerificationKind::MissingSignature);
        assert!(e.to_string().contains("Wechatpay-Nonce"));
        let mut h3 = h.clone();
        h3.insert(
            "Wechatpay-Signature-Type",
            "WECHATPAY2-SM2-WITH-SM3".parse().unwrap(),
        );
        assert_eq!(
            run(&h3, b"{}", 1700000000).unwrap_err().kind(),
            &VerificationKind::BadSignature
        );
        h3.insert("Wechatpay-Signature-Type", AUTH_SCHEME.parse().unwrap());
        run(&h3, b"{}", 1700000000).unwrap();
    }
}
