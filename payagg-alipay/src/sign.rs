//! Pure signing, verification and content extraction for the classic Alipay OpenAPI gateway
//! (`gateway.do`) and the v3 REST API: no I/O, no clock, no randomness.
//!
//! **Unstable: shared with `payagg-mock`.** The simulator uses these same functions to check the
//! client's request signature and to sign its own answers and notifications.
//!
//! | what | signed content | key |
//! | --- | --- | --- |
//! | request (classic) | [`sign_content`]: every parameter but `sign`, empty values dropped, keys sorted by bytes, raw `k=v` joined by `&` | app private key |
//! | response (classic) | the raw bytes of the `<method>_response` (or `error_response`) value as received: [`extract_response`] | Alipay public key / certificate |
//! | trade notification, return URL (V1) | [`notify_sign_content`] with [`NotifyRule::V1`]: `sign` **and** `sign_type` excluded | Alipay public key / certificate |
//! | gateway message (V2) | [`notify_sign_content`] with [`NotifyRule::V2`]: only `sign` excluded | Alipay public key / certificate |
//! | v3 request | [`v3_request_message`] | app private key |
//! | v3 response | [`v3_response_message`] | Alipay public key / certificate |
//!
//! Signatures are RSASSA-PKCS1-v1_5, SHA-256 for `RSA2` and SHA-1 for `RSA`, in standard
//! base64 with padding.
//!
//! ```
//! use payagg_alipay::sign::{extract_response, sign_content};
//!
//! let content = sign_content([
//!     ("method", "alipay.trade.query"),
//!     ("app_id", "2021000122671080"),
//!     ("sign", "ignored"),
//!     ("app_auth_token", ""),
//! ]);
//! assert_eq!(content, "app_id=2021000122671080&method=alipay.trade.query");
//!
//! let body = br#"{"alipay_trade_query_response":{"code":"10000","qr":"a\/b"},"sign":"c2ln"}"#;
//! let rsp = extract_response(body, "alipay.trade.query")?;
//! assert_eq!(rsp.content, br#"{"code":"10000","qr":"a\/b"}"#);
//! assert_eq!(rsp.sign.as_deref(), Some("c2ln"));
//! # Ok::<(), payagg_alipay::sign::ExtractError>(())
//! ```

use std::fmt;
use std::ops::Range;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use payagg_core::crypto::{Certificate, RsaPrivateKey, RsaPublicKey, SignatureInvalid, md5_hex};
use payagg_core::error::ConfigError;

/// The node of an unsigned (usually) protocol error answer.
pub const ERROR_RESPONSE: &str = "error_response";

/// The `Authorization` scheme of the v3 REST API.
pub const V3_AUTH_SCHEME: &str = "ALIPAY-SHA256withRSA";

/// The request signature algorithm (`sign_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SignType {
    /// `RSA2`: SHA256withRSA. The default and the only one payagg's client sends.
    #[default]
    Rsa2,
    /// `RSA`: SHA1withRSA (legacy; accepted on notifications and by the simulator).
    Rsa,
}

impl SignType {
    /// The wire value (`RSA2` / `RSA`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rsa2 => "RSA2",
            Self::Rsa => "RSA",
        }
    }

    /// Parses the wire value (exact, upper case as Alipay sends it).
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "RSA2" => Some(Self::Rsa2),
            "RSA" => Some(Self::Rsa),
            _ => None,
        }
    }
}

impl fmt::Display for SignType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The classic request string to sign: every parameter except `sign`, empty values dropped,
/// keys sorted by byte order, `k=v` with raw (not URL-encoded) values joined by `&`.
///
/// If a key appears twice the later value wins (a merged query + form must be checked for
/// conflicting duplicates by the caller before signing or verifying).
pub fn sign_content<I, K, V>(params: I) -> String
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    content_excluding(params, &["sign"])
}

/// Which parameters a notification or return-URL signature excludes (brief §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotifyRule {
    /// Trade notifications (`notify_type=trade_status_sync`) and return URLs: `sign` and
    /// `sign_type` are excluded (JAVA `rsaCheckV1`).
    V1,
    /// Gateway messages (service market, life account, `msg_method` messages): only `sign` is
    /// excluded (JAVA `rsaCheckV2`).
    V2,
}

impl NotifyRule {
    /// The rules to try, in order, for a notification with these parameters: `[V1]` for trade
    /// notifications and return URLs, `[V2, V1]` for anything else (both contents are signed
    /// by Alipay's key, so trying both is safe).
    #[must_use]
    pub fn candidates(notify_type: Option<&str>, method: Option<&str>) -> &'static [NotifyRule] {
        let is_return = method.is_some_and(|m| m.ends_with(".return"));
        if notify_type == Some("trade_status_sync") || is_return {
            &[NotifyRule::V1]
        } else {
            &[NotifyRule::V2, NotifyRule::V1]
        }
    }
}

/// The string to verify for a notification or return-URL form under `rule` (values are the
/// form values decoded exactly once).
pub fn notify_sign_content<I, K, V>(params: I, rule: NotifyRule) -> String
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    match rule {
        NotifyRule::V1 => content_excluding(params, &["sign", "sign_type"]),
        NotifyRule::V2 => content_excluding(params, &["sign"]),
    }
}

fn content_excluding<I, K, V>(params: I, exclude: &[&str]) -> String
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    let mut kept: Vec<(K, V)> = params
        .into_iter()
        .filter(|(k, v)| {
            let (k, v) = (k.as_ref(), v.as_ref());
            !k.is_empty() && !v.is_empty() && !exclude.contains(&k)
        })
        .collect();
    // Stable sort, then keep the last of equal keys.
    kept.sort_by(|a, b| a.0.as_ref().as_bytes().cmp(b.0.as_ref().as_bytes()));
    let mut out = String::with_capacity(
        kept.iter()
            .map(|(k, v)| k.as_ref().len() + v.as_ref().len() + 2)
            .sum(),
    );
    for (i, (k, v)) in kept.iter().enumerate() {
        if kept
            .get(i + 1)
            .is_some_and(|(next, _)| next.as_ref() == k.as_ref())
        {
            continue;
        }
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(k.as_ref());
        out.push('=');
        out.push_str(v.as_ref());
    }
    out
}

/// Signs `content` (UTF-8 bytes) and returns standard base64.
#[must_use]
pub fn sign(key: &RsaPrivateKey, sign_type: SignType, content: &[u8]) -> String {
    let sig = match sign_type {
        SignType::Rsa2 => key.sign_sha256(content),
        SignType::Rsa => key.sign_sha1(content),
    };
    B64.encode(sig)
}

/// Signs a parameter set: [`sign`] over [`sign_content`].
#[must_use]
pub fn sign_params<I, K, V>(key: &RsaPrivateKey, sign_type: SignType, params: I) -> String
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    sign(key, sign_type, sign_content(params).as_bytes())
}

/// Verifies a base64 `signature` over `content`.
///
/// # Errors
///
/// [`SignatureInvalid`] if the signature is not base64 or does not verify.
pub fn verify(
    key: &RsaPublicKey,
    sign_type: SignType,
    content: &[u8],
    signature_b64: &str,
) -> Result<(), SignatureInvalid> {
    let sig = B64
        .decode(signature_b64.trim())
        .map_err(|_| SignatureInvalid)?;
    match sign_type {
        SignType::Rsa2 => key.verify_sha256(content, &sig),
        SignType::Rsa => key.verify_sha1(content, &sig),
    }
}

/// Verifies a classic request's parameter set (what the simulator does with the merged query
/// and form). `sign_type` is read from the parameters (missing or unknown → invalid).
///
/// # Errors
///
/// [`SignatureInvalid`] if `sign` or `sign_type` is missing or the signature does not verify.
pub fn verify_request_params(
    key: &RsaPublicKey,
    params: &[(String, String)],
) -> Result<(), SignatureInvalid> {
    let get = |name: &str| params.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v);
    let sign_type = get("sign_type")
        .and_then(|s| SignType::parse(s))
        .ok_or(SignatureInvalid)?;
    let sig = get("sign").ok_or(SignatureInvalid)?;
    verify(
        key,
        sign_type,
        sign_content(params.iter().map(|(k, v)| (k, v))).as_bytes(),
        sig,
    )
}

/// Verifies a notification or return-URL form: tries the rules of
/// [`NotifyRule::candidates`] for its `notify_type`/`method` and returns the one that matched.
/// The algorithm is the form's `sign_type` (`RSA2` when absent).
///
/// # Errors
///
/// [`SignatureInvalid`] if `sign` is missing, `sign_type` unknown, or no rule verifies.
pub fn verify_notification(
    key: &RsaPublicKey,
    params: &[(String, String)],
) -> Result<NotifyRule, SignatureInvalid> {
    let get = |name: &str| {
        params
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let sign_type = match get("sign_type") {
        None | Some("") => SignType::Rsa2,
        Some(s) => SignType::parse(s).ok_or(SignatureInvalid)?,
    };
    let sig = get("sign")
        .filter(|s| !s.is_empty())
        .ok_or(SignatureInvalid)?;
    for &rule in NotifyRule::candidates(get("notify_type"), get("method")) {
        let content = notify_sign_content(params.iter().map(|(k, v)| (k, v)), rule);
        if verify(key, sign_type, content.as_bytes(), sig).is_ok() {
            return Ok(rule);
        }
    }
    Err(SignatureInvalid)
}

/// The response node name of a method: `alipay.trade.query` → `alipay_trade_query_response`.
#[must_use]
pub fn response_node_name(method: &str) -> String {
    let mut s = method.replace('.', "_");
    s.push_str("_response");
    s
}

/// Which node of a classic response body held the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResponseNode {
    /// `<method>_response`.
    Method,
    /// `error_response` (protocol errors; usually unsigned).
    Error,
}

/// A classic response body split into its parts, borrowing the raw bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtractedResponse<'a> {
    /// Which node was found.
    pub node: ResponseNode,
    /// The node value exactly as received: a JSON object (`{…}`), or a JSON string with its
    /// quotes (`"…"`) when the content is AES-encrypted. This is what the signature covers.
    pub content: &'a [u8],
    /// The top-level `sign` sibling, unescaped (`None` when absent or empty).
    pub sign: Option<String>,
    /// The top-level `alipay_cert_sn` sibling (certificate mode), unescaped.
    pub alipay_cert_sn: Option<String>,
}

impl ExtractedResponse<'_> {
    /// Whether the node is a JSON string (AES ciphertext) rather than an object.
    #[must_use]
    pub fn is_encrypted(&self) -> bool {
        self.content.first() == Some(&b'"')
    }

    /// The ciphertext of an encrypted node (the string without its quotes), if it is one.
    #[must_use]
    pub fn ciphertext(&self) -> Option<String> {
        if self.is_encrypted() {
            serde_json::from_slice::<String>(self.content).ok()
        } else {
            None
        }
    }
}

/// Why a classic response body could not be split.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExtractError {
    /// The body is not a JSON object (or is truncated).
    Malformed {
        /// Byte offset where scanning failed.
        at: usize,
    },
    /// Neither `<method>_response` nor `error_response` is present.
    NoNode {
        /// The node looked for.
        expected: String,
    },
    /// The response node appears more than once (JAVA: "检测到响应报文中有重复的…").
    DuplicateNode {
        /// The duplicated node.
        node: String,
    },
    /// The node value is neither an object nor a string.
    UnexpectedValue {
        /// The node.
        node: String,
    },
}

impl fmt::Display for ExtractError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed { at } => write!(f, "response body is not a JSON object (byte {at})"),
            Self::NoNode { expected } => {
                write!(f, "response has neither `{expected}` nor `error_response`")
            }
            Self::DuplicateNode { node } => write!(f, "response node `{node}` appears twice"),
            Self::UnexpectedValue { node } => {
                write!(
                    f,
                    "response node `{node}` is neither an object nor a string"
                )
            }
        }
    }
}

impl std::error::Error for ExtractError {}

/// One top-level member of a JSON object: raw key bytes (between the quotes) and the value's
/// byte range.
#[derive(Debug, Clone)]
struct Member<'a> {
    key: &'a [u8],
    value: Range<usize>,
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\r' | b'\n') {
        i += 1;
    }
    i
}

/// `b[i] == '"'`; returns the index just past the closing quote.
fn scan_string(b: &[u8], i: usize) -> Result<usize, ExtractError> {
    let mut j = i + 1;
    while j < b.len() {
        match b[j] {
            b'\\' => j += 2,
            b'"' => return Ok(j + 1),
            _ => j += 1,
        }
    }
    Err(ExtractError::Malformed { at: i })
}

/// Scans one JSON value starting at `i` (no leading whitespace); returns the end index.
fn scan_value(b: &[u8], i: usize) -> Result<usize, ExtractError> {
    match b.get(i) {
        Some(b'"') => scan_string(b, i),
        Some(b'{' | b'[') => {
            let mut depth = 0usize;
            let mut j = i;
            while j < b.len() {
                match b[j] {
                    b'"' => {
                        j = scan_string(b, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            return Ok(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            Err(ExtractError::Malformed { at: i })
        }
        Some(_) => {
            let mut j = i;
            while j < b.len() && !matches!(b[j], b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n')
            {
                j += 1;
            }
            if j == i {
                Err(ExtractError::Malformed { at: i })
            } else {
                Ok(j)
            }
        }
        None => Err(ExtractError::Malformed { at: i }),
    }
}

fn top_level_members(b: &[u8]) -> Result<Vec<Member<'_>>, ExtractError> {
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return Err(ExtractError::Malformed { at: i });
    }
    i = skip_ws(b, i + 1);
    let mut out = Vec::new();
    if b.get(i) == Some(&b'}') {
        return Ok(out);
    }
    loop {
        if b.get(i) != Some(&b'"') {
            return Err(ExtractError::Malformed { at: i });
        }
        let key_end = scan_string(b, i)?;
        let key = &b[i + 1..key_end - 1];
        i = skip_ws(b, key_end);
        if b.get(i) != Some(&b':') {
            return Err(ExtractError::Malformed { at: i });
        }
        i = skip_ws(b, i + 1);
        let end = scan_value(b, i)?;
        out.push(Member { key, value: i..end });
        i = skip_ws(b, end);
        match b.get(i) {
            Some(b',') => i = skip_ws(b, i + 1),
            Some(b'}') => return Ok(out),
            _ => return Err(ExtractError::Malformed { at: i }),
        }
    }
}

fn string_member(b: &[u8], members: &[Member<'_>], name: &str) -> Option<String> {
    members
        .iter()
        .rev()
        .find(|m| m.key == name.as_bytes())
        .and_then(|m| serde_json::from_slice::<String>(&b[m.value.clone()]).ok())
        .filter(|s| !s.is_empty())
}

/// Splits a classic response body: the raw `<method>_response` value (or `error_response`
/// when the method node is absent) and its top-level `sign` / `alipay_cert_sn` siblings.
///
/// The scan is quote- and escape-aware over the raw bytes, tolerates whitespace around keys,
/// colons and values, never re-serializes (so `\/` stays as sent), and ignores a `"sign"` key
/// nested inside the node.
///
/// # Errors
///
/// [`ExtractError`] if the body is not a JSON object, has no node, repeats the node, or the
/// node is not an object or string.
pub fn extract_response<'a>(
    body: &'a [u8],
    method: &str,
) -> Result<ExtractedResponse<'a>, ExtractError> {
    let members = top_level_members(body)?;
    let node_name = response_node_name(method);
    let (node, name) = if members.iter().any(|m| m.key == node_name.as_bytes()) {
        (ResponseNode::Method, node_name.as_str())
    } else if members.iter().any(|m| m.key == ERROR_RESPONSE.as_bytes()) {
        (ResponseNode::Error, ERROR_RESPONSE)
    } else {
        return Err(ExtractError::NoNode {
            expected: node_name,
        });
    };
    let mut found = members.iter().filter(|m| m.key == name.as_bytes());
    let member = found.next().ok_or_else(|| ExtractError::NoNode {
        expected: name.to_owned(),
    })?;
    if found.next().is_some() {
        return Err(ExtractError::DuplicateNode {
            node: name.to_owned(),
        });
    }
    let content = &body[member.value.clone()];
    if !matches!(content.first(), Some(b'{' | b'"')) {
        return Err(ExtractError::UnexpectedValue {
            node: name.to_owned(),
        });
    }
    Ok(ExtractedResponse {
        node,
        content,
        sign: string_member(body, &members, "sign"),
        alipay_cert_sn: string_member(body, &members, "alipay_cert_sn"),
    })
}

/// Escapes every `/` in a compact JSON text as `\/`, as Alipay's gateway serializes (only
/// valid on JSON text: a `/` can only occur inside strings, where `\/` is equivalent).
#[must_use]
pub fn escape_slashes(json: &str) -> String {
    json.replace('/', "\\/")
}

/// Builds a classic response body around an already-serialized node (the exact bytes that
/// were signed): `{"<method>_response":<node>[,"alipay_cert_sn":"<sn>"],"sign":"<sign>"}`.
/// Pass `None` for `sign` to build an unsigned body; use [`ERROR_RESPONSE`]-style bodies via
/// [`error_response_body`].
#[must_use]
pub fn response_body(
    method: &str,
    node_json: &str,
    alipay_cert_sn: Option<&str>,
    sign: Option<&str>,
) -> String {
    let mut out = format!("{{\"{}\":{}", response_node_name(method), node_json);
    push_siblings(&mut out, alipay_cert_sn, sign);
    out
}

/// Builds an `error_response` body (unsigned when `sign` is `None`).
#[must_use]
pub fn error_response_body(
    node_json: &str,
    alipay_cert_sn: Option<&str>,
    sign: Option<&str>,
) -> String {
    let mut out = format!("{{\"{ERROR_RESPONSE}\":{node_json}");
    push_siblings(&mut out, alipay_cert_sn, sign);
    out
}

fn push_siblings(out: &mut String, alipay_cert_sn: Option<&str>, sign: Option<&str>) {
    if let Some(sn) = alipay_cert_sn {
        out.push_str(",\"alipay_cert_sn\":\"");
        out.push_str(sn);
        out.push('"');
    }
    if let Some(sign) = sign {
        out.push_str(",\"sign\":\"");
        out.push_str(sign);
        out.push('"');
    }
    out.push('}');
}

/// Alipay's SN of one certificate (`app_cert_sn`, `alipay_cert_sn`): lowercase hex
/// MD5 of the RFC 4514 issuer (RDNs reversed, `CN=…,OU=…,O=…,C=…`) followed by the decimal
/// serial.
#[must_use]
pub fn cert_sn(cert: &Certificate) -> String {
    let input = format!("{}{}", cert.issuer_rfc4514(), cert.serial_decimal());
    md5_hex(input.as_bytes())
}

/// The SN of the first certificate of a PEM file (`appCertPublicKey_<appid>.crt`,
/// `alipayCertPublicKey_RSA2.crt`; a trailing intermediate is ignored, as the official SDKs
/// do).
///
/// # Errors
///
/// [`ConfigError`] if the text holds no parsable certificate.
pub fn cert_sn_from_pem(pem: &str) -> Result<String, ConfigError> {
    Ok(cert_sn(&Certificate::from_pem(pem)?))
}

/// The `alipay_root_cert_sn` of a root bundle: the SNs of the RSA-signed certificates
/// (signature OID under `1.2.840.113549.1.1`), in bundle order, joined by `_`.
#[must_use]
pub fn root_cert_sn(bundle: &[Certificate]) -> String {
    bundle
        .iter()
        .filter(|c| {
            c.signature_algorithm_oid()
                .starts_with("1.2.840.113549.1.1")
        })
        .map(cert_sn)
        .collect::<Vec<_>>()
        .join("_")
}

/// [`root_cert_sn`] of an `alipayRootCert.crt` text (LF or CRLF).
///
/// # Errors
///
/// [`ConfigError`] if a certificate block does not parse or none is RSA-signed.
pub fn root_cert_sn_from_pem(pem: &str) -> Result<String, ConfigError> {
    let sn = root_cert_sn(&Certificate::pem_bundle(pem)?);
    if sn.is_empty() {
        return Err(ConfigError::new(
            "Alipay root certificate bundle",
            "no RSA-signed certificate in the bundle",
        ));
    }
    Ok(sn)
}

/// The v3 `authString`: `app_id=…[,app_cert_sn=…],nonce=…,timestamp=<unix ms>`.
#[must_use]
pub fn v3_auth_string(
    app_id: &str,
    app_cert_sn: Option<&str>,
    nonce: &str,
    timestamp_ms: i64,
) -> String {
    let mut s = format!("app_id={app_id}");
    if let Some(sn) = app_cert_sn {
        s.push_str(",app_cert_sn=");
        s.push_str(sn);
    }
    s.push_str(",nonce=");
    s.push_str(nonce);
    s.push_str(",timestamp=");
    s.push_str(&timestamp_ms.to_string());
    s
}

/// The v3 request string to sign:
/// `{authString}\n{METHOD}\n{path?query}\n{body}\n[{app_auth_token}\n]`.
#[must_use]
pub fn v3_request_message(
    auth_string: &str,
    http_method: &str,
    path_and_query: &str,
    body: &[u8],
    app_auth_token: Option<&str>,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(auth_string.len() + path_and_query.len() + body.len() + 16);
    for part in [
        auth_string.as_bytes(),
        http_method.as_bytes(),
        path_and_query.as_bytes(),
        body,
    ] {
        out.extend_from_slice(part);
        out.push(b'\n');
    }
    if let Some(token) = app_auth_token {
        out.extend_from_slice(token.as_bytes());
        out.push(b'\n');
    }
    out
}

/// The v3 `Authorization` header value: `ALIPAY-SHA256withRSA {authString},sign={sign}`.
#[must_use]
pub fn v3_authorization(auth_string: &str, sign_b64: &str) -> String {
    format!("{V3_AUTH_SCHEME} {auth_string},sign={sign_b64}")
}

/// The v3 response content to verify: `{alipay-timestamp}\n{alipay-nonce}\n{body}\n`.
#[must_use]
pub fn v3_response_message(timestamp: &str, nonce: &str, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(timestamp.len() + nonce.len() + body.len() + 3);
    for part in [timestamp.as_bytes(), nonce.as_bytes(), body] {
        out.extend_from_slice(part);
        out.push(b'\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_drops_empty_sign_and_sorts() {
        let c = sign_content([("b", "2"), ("a", "1"), ("sign", "x"), ("c", ""), ("A", "0")]);
        assert_eq!(c, "A=0&a=1&b=2");
    }

    #[test]
    fn content_keeps_last_duplicate() {
        assert_eq!(sign_content([("a", "1"), ("a", "2")]), "a=2");
    }

    #[test]
    fn notify_rules() {
        let p = [("sign", "s"), ("sign_type", "RSA2"), ("a", "1")];
        assert_eq!(notify_sign_content(p, NotifyRule::V1), "a=1");
        assert_eq!(notify_sign_content(p, NotifyRule::V2), "a=1&sign_type=RSA2");
        assert_eq!(
            NotifyRule::candidates(Some("trade_status_sync"), None),
            &[NotifyRule::V1]
        );
        assert_eq!(
            NotifyRule::candidates(None, Some("alipay.trade.page.pay.return")),
            &[NotifyRule::V1]
        );
        assert_eq!(NotifyRule::candidates(Some("x"), None).len(), 2);
    }

    #[test]
    fn extract_error_response_and_siblings() {
        let body = br#"{"error_response":{"code":"40002","sub_code":"isv.invalid-signature"}}"#;
        let r = extract_response(body, "alipay.trade.query").unwrap();
        assert_eq!(r.node, ResponseNode::Error);
        assert!(r.sign.is_none());
        let body = br#"{"alipay_trade_query_response":{"code":"10000"},"alipay_cert_sn":"abc","sign":"a\/b="}"#;
        let r = extract_response(body, "alipay.trade.query").unwrap();
        assert_eq!(r.alipay_cert_sn.as_deref(), Some("abc"));
        assert_eq!(r.sign.as_deref(), Some("a/b="));
    }

    #[test]
    fn extract_rejects_duplicates_and_garbage() {
        let body =
            br#"{"alipay_trade_query_response":{},"alipay_trade_query_response":{},"sign":"x"}"#;
        assert!(matches!(
            extract_response(body, "alipay.trade.query"),
            Err(ExtractError::DuplicateNode { .. })
        ));
        assert!(extract_response(b"<html>", "alipay.trade.query").is_err());
        assert!(extract_response(br#"{"a":{"b":1}"#, "alipay.trade.query").is_err());
        assert!(matches!(
            extract_response(br#"{"a":1}"#, "alipay.trade.query"),
            Err(ExtractError::NoNode { .. })
        ));
        assert!(matches!(
            extract_response(
                br#"{"alipay_trade_query_response":1}"#,
                "alipay.trade.query"
            ),
            Err(ExtractError::UnexpectedValue { .. })
        ));
    }

    #[test]
    fn sign_verify_round_trip_and_body_builder() {
        let key = RsaPrivateKey::generate(2048).unwrap();
        let node = escape_slashes(r#"{"code":"10000","qr_code":"https://qr"}"#);
        let sig = sign(&key, SignType::Rsa2, node.as_bytes());
        let body = response_body("alipay.trade.precreate", &node, Some("sn1"), Some(&sig));
        let r = extract_response(body.as_bytes(), "alipay.trade.precreate").unwrap();
        assert_eq!(r.content, node.as_bytes());
        verify(
            key.public_key(),
            SignType::Rsa2,
            r.content,
            r.sign.as_deref().unwrap(),
        )
        .unwrap();
        assert!(verify(key.public_key(), SignType::Rsa, r.content, &sig).is_err());
        assert!(verify(key.public_key(), SignType::Rsa2, b"x", &sig).is_err());
        assert!(verify(key.public_key(), SignType::Rsa2, r.content, "%%%").is_err());

        let params = vec![
            ("app_id".to_owned(), "1".to_owned()),
            ("sign_type".to_owned(), "RSA2".to_owned()),
        ];
        let s = sign_params(&key, SignType::Rsa2, params.iter().map(|(k, v)| (k, v)));
        let mut with = params.clone();
        with.push(("sign".to_owned(), s));
        verify_request_params(key.public_key(), &with).unwrap();
        with[0].1 = "2".to_owned();
        assert!(verify_request_params(key.public_key(), &with).is_err());
    }

    #[test]
    fn v3_messages() {
        let a = v3_auth_string("1", Some("sn"), "n", 5);
        assert_eq!(a, "app_id=1,app_cert_sn=sn,nonce=n,timestamp=5");
        assert_eq!(
            v3_request_message(&a, "GET", "/p?q", b"", None),
            format!("{a}\nGET\n/p?q\n\n").into_bytes()
        );
        assert_eq!(v3_response_message("1", "n", b"{}"), b"1\nn\n{}\n".to_vec());
    }
}
