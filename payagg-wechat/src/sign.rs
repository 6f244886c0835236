//! Pure APIv3 signing and signature-message construction: no I/O, no clock, no randomness.
//!
//! **Unstable: shared with `payagg-mock`.** The simulator uses these same functions to check
//! the client's `Authorization` header and to sign its own answers and callbacks.
//!
//! | what | message (every line ends in `\n`) | key |
//! | --- | --- | --- |
//! | request (`Authorization`) | `METHOD`, canonical URL (path + `?query` as sent), timestamp, nonce, body | merchant private key |
//! | response / callback | `Wechatpay-Timestamp`, `Wechatpay-Nonce`, raw body | WeChat Pay public key or platform certificate |
//! | JSAPI / mini program `paySign` | appId, timeStamp, nonceStr, `prepay_id=…` | merchant private key |
//! | App `sign` | appid, timestamp, noncestr, bare prepay id | merchant private key |
//!
//! Signatures are RSASSA-PKCS1-v1_5 with SHA-256, in standard base64 with padding.
//!
//! ```
//! use payagg_wechat::sign::{request_message, AuthorizationHeader};
//!
//! let msg = request_message("GET", "/v3/certificates", "1554208460", "593BEC0C930BF1AFEB40B4A08C8FB242", b"");
//! assert_eq!(msg, b"GET\n/v3/certificates\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n\n");
//!
//! let h = AuthorizationHeader::parse(
//!     r#"WECHATPAY2-SHA256-RSA2048 serial_no="F5765756002FDD77",mchid="1230000109",nonce_str="n",timestamp="1554208460",signature="c2ln""#,
//! )?;
//! assert_eq!(h.mchid, "1230000109");
//! assert_eq!(h.serial_no, "F5765756002FDD77");
//! # Ok::<(), payagg_wechat::sign::AuthorizationParseError>(())
//! ```

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use payagg_core::crypto::{RsaPrivateKey, RsaPublicKey, SignatureInvalid};

/// The `Authorization` scheme and the value of `Wechatpay-Signature-Type`.
pub const AUTH_SCHEME: &str = "WECHATPAY2-SHA256-RSA2048";

/// Every probe signature WeChat sends to test that merchants verify starts with this.
pub const PROBE_SIGNATURE_PREFIX: &str = "WECHATPAY/SIGNTEST/";

/// Header names used by APIv3.
pub mod headers {
    /// The request signature.
    pub const AUTHORIZATION: &str = "Authorization";
    /// Which WeChat key the client verifies with (request) / which key signed (response).
    pub const SERIAL: &str = "Wechatpay-Serial";
    /// The response / callback signature.
    pub const SIGNATURE: &str = "Wechatpay-Signature";
    /// The response / callback timestamp (Unix seconds).
    pub const TIMESTAMP: &str = "Wechatpay-Timestamp";
    /// The response / callback nonce.
    pub const NONCE: &str = "Wechatpay-Nonce";
    /// The signature algorithm (`WECHATPAY2-SHA256-RSA2048`).
    pub const SIGNATURE_TYPE: &str = "Wechatpay-Signature-Type";
    /// WeChat's request id.
    pub const REQUEST_ID: &str = "Request-ID";
}

fn five_lines(parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(parts.iter().map(|p| p.len() + 1).sum());
    for p in parts {
        out.extend_from_slice(p);
        out.push(b'\n');
    }
    out
}

/// The request signature message: `METHOD\nURL\nTIMESTAMP\nNONCE\nBODY\n`.
///
/// `canonical_url` is the path plus `?` and the raw query when there is one, byte for byte as
/// sent (see [`canonical_url`]). `body` is the exact bytes sent (empty for GET).
#[must_use]
pub fn request_message(
    method: &str,
    canonical_url: &str,
    timestamp: &str,
    nonce: &str,
    body: &[u8],
) -> Vec<u8> {
    five_lines(&[
        method.as_bytes(),
        canonical_url.as_bytes(),
        timestamp.as_bytes(),
        nonce.as_bytes(),
        body,
    ])
}

/// The response / callback signature message: `TIMESTAMP\nNONCE\nBODY\n` (an empty body,
/// as in a 204, gives an empty last line).
#[must_use]
pub fn response_message(timestamp: &str, nonce: &str, body: &[u8]) -> Vec<u8> {
    five_lines(&[timestamp.as_bytes(), nonce.as_bytes(), body])
}

/// The JSAPI / mini-program `paySign` message; `package` is `prepay_id=…`.
#[must_use]
pub fn jsapi_pay_message(app_id: &str, timestamp: &str, nonce: &str, package: &str) -> Vec<u8> {
    five_lines(&[
        app_id.as_bytes(),
        timestamp.as_bytes(),
        nonce.as_bytes(),
        package.as_bytes(),
    ])
}

/// The App `sign` message; the last line is the **bare** prepay id.
#[must_use]
pub fn app_pay_message(app_id: &str, timestamp: &str, nonce: &str, prepay_id: &str) -> Vec<u8> {
    five_lines(&[
        app_id.as_bytes(),
        timestamp.as_bytes(),
        nonce.as_bytes(),
        prepay_id.as_bytes(),
    ])
}

/// `SHA256withRSA` over `message`, standard base64.
#[must_use]
pub fn sign_base64(key: &RsaPrivateKey, message: &[u8]) -> String {
    B64.encode(key.sign_sha256(message))
}

/// Verifies a base64 `SHA256withRSA` signature. Signatures that are not base64 (for example
/// `WECHATPAY/SIGNTEST/` probes) simply fail.
///
/// # Errors
/// [`SignatureInvalid`] when the signature does not decode or does not verify.
pub fn verify_base64(
    key: &RsaPublicKey,
    message: &[u8],
    signature_b64: &str,
) -> Result<(), SignatureInvalid> {
    let sig = B64
        .decode(signature_b64.trim())
        .map_err(|_| SignatureInvalid)?;
    key.verify_sha256(message, &sig)
}

/// Signs a response or callback (the simulator's side): the value of `Wechatpay-Signature`.
#[must_use]
pub fn sign_response(key: &RsaPrivateKey, timestamp: &str, nonce: &str, body: &[u8]) -> String {
    sign_base64(key, &response_message(timestamp, nonce, body))
}

/// Verifies a response or callback signature over the raw body. Does not check the timestamp
/// window or probe prefix (see [`crate::verify`]).
///
/// # Errors
/// [`SignatureInvalid`] when it does not verify.
pub fn verify_response(
    key: &RsaPublicKey,
    timestamp: &str,
    nonce: &str,
    body: &[u8],
    signature_b64: &str,
) -> Result<(), SignatureInvalid> {
    verify_base64(
        key,
        &response_message(timestamp, nonce, body),
        signature_b64,
    )
}

/// The JSAPI / mini-program `paySign`.
#[must_use]
pub fn jsapi_pay_sign(
    key: &RsaPrivateKey,
    app_id: &str,
    timestamp: &str,
    nonce: &str,
    package: &str,
) -> String {
    sign_base64(key, &jsapi_pay_message(app_id, timestamp, nonce, package))
}

/// The App `sign`.
#[must_use]
pub fn app_pay_sign(
    key: &RsaPrivateKey,
    app_id: &str,
    timestamp: &str,
    nonce: &str,
    prepay_id: &str,
) -> String {
    sign_base64(key, &app_pay_message(app_id, timestamp, nonce, prepay_id))
}

/// The five parts of an `Authorization: WECHATPAY2-SHA256-RSA2048 …` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationHeader {
    /// The requesting merchant (`sp_mchid` in partner mode).
    pub mchid: String,
    /// The nonce.
    pub nonce_str: String,
    /// Unix seconds, as sent.
    pub timestamp: String,
    /// The merchant API certificate serial (upper-case hex).
    pub serial_no: String,
    /// base64 signature.
    pub signature: String,
}

impl AuthorizationHeader {
    /// Signs a request and returns the header parts.
    #[allow(clippy::too_many_arguments)]
    #[must_use]
    pub fn sign(
        key: &RsaPrivateKey,
        mchid: &str,
        serial_no: &str,
        method: &str,
        canonical_url: &str,
        timestamp: &str,
        nonce: &str,
        body: &[u8],
    ) -> Self {
        let signature = sign_base64(
            key,
            &request_message(method, canonical_url, timestamp, nonce, body),
        );
        Self {
            mchid: mchid.to_owned(),
            nonce_str: nonce.to_owned(),
            timestamp: timestamp.to_owned(),
            serial_no: serial_no.to_owned(),
            signature,
        }
    }

    /// The header value, pairs in wechatpay-go order
    /// (`mchid,nonce_str,timestamp,serial_no,signature`).
    #[must_use]
    pub fn to_header_value(&self) -> String {
        format!(
            "{AUTH_SCHEME} mchid=\"{}\",nonce_str=\"{}\",timestamp=\"{}\",serial_no=\"{}\",signature=\"{}\"",
            self.mchid, self.nonce_str, self.timestamp, self.serial_no, self.signature
        )
    }

    /// Parses a header value; pairs may come in any order.
    ///
    /// # Errors
    /// [`AuthorizationParseError`] for another scheme, a malformed or duplicated pair, or a
    /// missing one of the five.
    pub fn parse(value: &str) -> Result<Self, AuthorizationParseError> {
        let rest = value
            .strip_prefix(AUTH_SCHEME)
            .and_then(|r| r.strip_prefix(' '))
            .ok_or_else(|| {
                AuthorizationParseError::new("the scheme is not WECHATPAY2-SHA256-RSA2048")
            })?;
        let mut fields: [Option<String>; 5] = Default::default();
        const NAMES: [&str; 5] = ["mchid", "nonce_str", "timestamp", "serial_no", "signature"];
        let mut s = rest;
        loop {
            let eq = s
                .find('=')
                .ok_or_else(|| AuthorizationParseError::new("a pair has no '='"))?;
            let name = &s[..eq];
            let after = s[eq + 1..].strip_prefix('"').ok_or_else(|| {
                AuthorizationParseError::new(format!("the value of {name} is not quoted"))
            })?;
            let close = after.find('"').ok_or_else(|| {
                AuthorizationParseError::new(format!("the value of {name} is not terminated"))
            })?;
            let val = &after[..close];
            let idx = NAMES.iter().position(|n| *n == name).ok_or_else(|| {
                AuthorizationParseError::new(format!("unknown parameter {name:?}"))
            })?;
            if fields[idx].replace(val.to_owned()).is_some() {
                return Err(AuthorizationParseError::new(format!(
                    "parameter {name} appears twice"
                )));
            }
            s = &after[close + 1..];
            if s.is_empty() {
                break;
            }
            s = s
                .strip_prefix(',')
                .ok_or_else(|| AuthorizationParseError::new("pairs must be joined by ','"))?;
        }
        let [mchid, nonce_str, timestamp, serial_no, signature] = fields;
        let need = |v: Option<String>, n: &str| {
            v.ok_or_else(|| AuthorizationParseError::new(format!("missing {n}")))
        };
        Ok(Self {
            mchid: need(mchid, "mchid")?,
            nonce_str: need(nonce_str, "nonce_str")?,
            timestamp: need(timestamp, "timestamp")?,
            serial_no: need(serial_no, "serial_no")?,
            signature: need(signature, "signature")?,
        })
    }

    /// Verifies the signature of a request with the merchant's public key (the simulator's
    /// side). The timestamp window and serial lookup are the caller's business.
    ///
    /// # Errors
    /// [`SignatureInvalid`] when it does not verify.
    pub fn verify(
        &self,
        key: &RsaPublicKey,
        method: &str,
        canonical_url: &str,
        body: &[u8],
    ) -> Result<(), SignatureInvalid> {
        verify_base64(
            key,
            &request_message(
                method,
                canonical_url,
                &self.timestamp,
                &self.nonce_str,
                body,
            ),
            &self.signature,
        )
    }
}

impl fmt::Display for AuthorizationHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_header_value())
    }
}

/// An `Authorization` header that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationParseError {
    reason: String,
}

impl AuthorizationParseError {
    fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
        }
    }
    /// Why.
    #[must_use]
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for AuthorizationParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "malformed Authorization header: {}", self.reason)
    }
}

impl std::error::Error for AuthorizationParseError {}

/// The canonical URL of a request: the path plus `?` and the raw query when the URI has one.
/// Scheme and authority are never signed. An absolute-form target is reduced the same way.
#[must_use]
pub fn canonical_url(uri: &http::Uri) -> String {
    let path = if uri.path().is_empty() {
        "/"
    } else {
        uri.path()
    };
    match uri.query() {
        Some(q) => format!("{path}?{q}"),
        None => path.to_owned(),
    }
}

/// Percent-encodes one path segment like Go's `url.PathEscape`: unreserved characters and
/// `$&+=:@` stay, everything else (including `/`, `*`, `|`, space) becomes `%XX`.
/// Encode once and sign the encoded form.
#[must_use]
pub fn encode_path_segment(segment: &str) -> String {
    encode(segment, |b| {
        b.is_ascii_alphanumeric() || b"-._~$&+=:@".contains(&b)
    })
}

/// Percent-encodes a query value: only unreserved characters stay.
#[must_use]
pub fn encode_query_value(value: &str) -> String {
    encode(value, |b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

fn encode(s: &str, keep: impl Fn(u8) -> bool) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if keep(b) {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
    }
    out
}

/// Percent-decodes a path segment (the simulator's lookup side).
///
/// # Errors
/// `None` when a `%` is not followed by two hex digits or the result is not UTF-8.
#[must_use]
pub fn decode_percent(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hi = char::from(hex[0]).to_digit(16)?;
            let lo = char::from(hex[1]).to_digit(16)?;
            out.push(u8::try_from(hi * 16 + lo).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn messages() {
        assert_eq!(response_message("1", "n", b""), b"1\nn\n\n");
        assert_eq!(app_pay_message("a", "1", "n", "p"), b"a\n1\nn\np\n");
        assert_eq!(
            jsapi_pay_message("a", "1", "n", "prepay_id=p"),
            b"a\n1\nn\nprepay_id=p\n"
        );
    }

    #[test]
    fn authorization_round_trip_any_order() {
        let h = AuthorizationHeader {
            mchid: "1".into(),
            nonce_str: "n".into(),
            timestamp: "2".into(),
            serial_no: "S".into(),
            signature: "c2ln".into(),
        };
        let v = h.to_header_value();
        assert_eq!(
            v,
            "WECHATPAY2-SHA256-RSA2048 mchid=\"1\",nonce_str=\"n\",timestamp=\"2\",serial_no=\"S\",signature=\"c2ln\""
        );
        assert_eq!(AuthorizationHeader::parse(&v).unwrap(), h);
        let php = "WECHATPAY2-SHA256-RSA2048 mchid=\"1\",serial_no=\"S\",timestamp=\"2\",nonce_str=\"n\",signature=\"c2ln\"";
        assert_eq!(AuthorizationHeader::parse(php).unwrap(), h);
    }

    #[test]
    fn authorization_rejects_malformed() {
        for bad in [
            "Bearer x",
            "WECHATPAY2-SHA256-RSA2048 mchid=\"1\"",
            "WECHATPAY2-SHA256-RSA2048 mchid=1,nonce_str=\"n\",timestamp=\"2\",serial_no=\"S\",signature=\"x\"",
            "WECHATPAY2-SHA256-RSA2048 mchid=\"1\",mchid=\"1\",nonce_str=\"n\",timestamp=\"2\",serial_no=\"S\",signature=\"x\"",
            "WECHATPAY2-SHA256-RSA2048 mchid=\"1\" nonce_str=\"n\",timestamp=\"2\",serial_no=\"S\",signature=\"x\"",
            "WECHATPAY2-SHA256-RSA2048 mchid=\"1\",nonce_str=\"n\",timestamp=\"2\",serial_no=\"S\",signature=\"x\",foo=\"y\"",
        ] {
            assert!(AuthorizationHeader::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sign_and_verify_round_trip() {
        let key = RsaPrivateKey::generate(2048).unwrap();
        let h = AuthorizationHeader::sign(
            &key,
            "1",
            "S",
            "POST",
            "/v3/x?a=1",
            "1700000000",
            "n",
            b"{}",
        );
        h.verify(key.public_key(), "POST", "/v3/x?a=1", b"{}")
            .unwrap();
        assert!(
            h.verify(key.public_key(), "POST", "/v3/x?a=2", b"{}")
                .is_err()
        );
        let s = sign_response(&key, "1", "n", b"");
        verify_response(key.public_key(), "1", "n", b"", &s).unwrap();
        assert!(verify_response(key.public_key(), "1", "n", b" ", &s).is_err());
        assert!(
            verify_response(key.public_key(), "1", "n", b"", "WECHATPAY/SIGNTEST/abc").is_err()
        );
    }

    #[test]
    fn path_encoding_like_go() {
        assert_eq!(
            encode_path_segment("A|B*C-_.~ x/y"),
            "A%7CB%2AC-_.~%20x%2Fy"
        );
        assert_eq!(decode_percent("A%7CB%2AC").unwrap(), "A|B*C");
        assert!(decode_percent("%G1").is_none());
        assert_eq!(encode_query_value("a&b=c"), "a%26b%3Dc");
        let uri: http::Uri = "https://api.mch.weixin.qq.com/v3/pay/transactions/id/42?mchid=1"
            .parse()
            .unwrap();
        assert_eq!(canonical_url(&uri), "/v3/pay/transactions/id/42?mchid=1");
        let uri: http::Uri = "http://127.0.0.1:1/v3/certificates".parse().unwrap();
        assert_eq!(canonical_url(&uri), "/v3/certificates");
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod vector_tests {
    use super::*;
    use crate::test_vectors::{cases, file, s};
    use payagg_core::crypto::Certificate;

    #[test]
    fn request_sign_vectors() {
        let Some((dir, cases)) = cases("request_sign_vectors", "request_sign") else {
            return;
        };
        for c in &cases {
            let key =
                RsaPrivateKey::from_pem(&file(&dir, s(c, "inputs.private_key_file"))).unwrap();
            let i = &c["inputs"];
            let msg = request_message(
                s(i, "method"),
                s(i, "canonical_url"),
                s(i, "timestamp"),
                s(i, "nonce_str"),
                s(i, "body").as_bytes(),
            );
            assert_eq!(
                msg,
                s(c, "expected.signed_message").as_bytes(),
                "{}",
                c["id"]
            );
            let h = AuthorizationHeader::sign(
                &key,
                s(i, "mchid"),
                s(i, "merchant_serial_no"),
                s(i, "method"),
                s(i, "canonical_url"),
                s(i, "timestamp"),
                s(i, "nonce_str"),
                s(i, "body").as_bytes(),
            );
            assert_eq!(h.signature, s(c, "expected.signature_b64"), "{}", c["id"]);
            assert_eq!(
                h.to_header_value(),
                s(c, "expected.authorization"),
                "{}",
                c["id"]
            );
            let parsed = AuthorizationHeader::parse(s(c, "expected.authorization")).unwrap();
            assert_eq!(parsed, h);
            let cert = Certificate::from_pem(&file(&dir, s(c, "inputs.certificate_file"))).unwrap();
            parsed
                .verify(
                    &cert.public_key().unwrap(),
                    s(i, "method"),
                    s(i, "canonical_url"),
                    s(i, "body").as_bytes(),
                )
                .unwrap();
        }
    }

    fn pay_sign(kind: &str, app: bool) {
        let Some((dir, cases)) = cases(kind, kind) else {
            return;
        };
        for c in &cases {
            let key =
                RsaPrivateKey::from_pem(&file(&dir, s(c, "inputs.private_key_file"))).unwrap();
            let i = &c["inputs"];
            let (a, t, n, p) = (
                s(i, "appid"),
                s(i, "timestamp"),
                s(i, "nonce_str"),
                s(i, "package_or_prepay_id"),
            );
            let (msg, sig) = if app {
                (app_pay_message(a, t, n, p), app_pay_sign(&key, a, t, n, p))
            } else {
                (
                    jsapi_pay_message(a, t, n, p),
                    jsapi_pay_sign(&key, a, t, n, p),
                )
            };
            assert_eq!(
                msg,
                s(c, "expected.signed_message").as_bytes(),
                "{}",
                c["id"]
            );
            assert_eq!(sig, s(c, "expected.signature_b64"), "{}", c["id"]);
        }
    }

    #[test]
    fn jsapi_pay_sign_vectors() {
        pay_sign("jsapi_pay_sign", false);
    }

    #[test]
    fn app_pay_sign_vectors() {
        pay_sign("app_pay_sign", true);
    }

    #[test]
    fn response_verify_vectors() {
        let Some((dir, cases)) = cases("response_verify_vectors", "response_verify") else {
            return;
        };
        for c in &cases {
            let cert = Certificate::from_pem(&file(&dir, s(c, "inputs.certificate_file"))).unwrap();
            let pk = cert.public_key().unwrap();
            let h = &c["inputs"]["headers"];
            let (ts, nonce, sig) = (
                s(h, "Wechatpay-Timestamp"),
                s(h, "Wechatpay-Nonce"),
                s(h, "Wechatpay-Signature"),
            );
            let body = s(c, "inputs.body").as_bytes();
            assert_eq!(
                response_message(ts, nonce, body),
                s(c, "expected.signed_message").as_bytes()
            );
            verify_response(&pk, ts, nonce, body, sig).unwrap();
            assert_eq!(cert.serial_hex_upper(), s(h, "Wechatpay-Serial"));
            let key =
                RsaPrivateKey::from_pem(&file(&dir, s(c, "inputs.private_key_file"))).unwrap();
            assert_eq!(sign_response(&key, ts, nonce, body), sig);
            let mut tampered = body.to_vec();
            tampered.push(b' ');
            assert!(verify_response(&pk, ts, nonce, &tampered, sig).is_err());
        }
    }
}
