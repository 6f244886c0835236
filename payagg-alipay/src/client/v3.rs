//! The v3 REST transport (brief §9): the same operations as the classic gateway, signed with
//! `Authorization: ALIPAY-SHA256withRSA …` and verified from the `alipay-signature` headers.
//!
//! Request: `{authString}\n{METHOD}\n{path?query}\n{body}\n[{app_auth_token}\n]` signed with
//! the app key; `authString` = `app_id=…[,app_cert_sn=…],nonce=…,timestamp=<ms>`.
//! Response: `{alipay-timestamp}\n{alipay-nonce}\n{raw body}\n` verified with the Alipay key
//! (certificate mode: the certificate named by `alipay-sn`). Every 2xx must be signed; a
//! non-2xx is verified when it carries a signature (the official PHP SDK) and otherwise
//! reported as an unverified error. Success bodies are the classic node fields without
//! `code`/`msg`; error bodies are `{code, message, links}` with the classic sub codes.

use bytes::Bytes;
use payagg_core::error::{
    DecodeError, Error, GatewayError, GatewayErrorKind, InvalidInput, Result, TransportError,
    VerificationKind,
};
use serde::de::DeserializeOwned;

use super::{AlipayClient, decode, verification};
use crate::CHANNEL;
use crate::config::KeyMode;
use crate::error::kind_of;
use crate::form;
use crate::sign::{self, SignType};
use crate::wire::{V3ErrorBody, methods};

/// Response headers of the v3 API.
pub(crate) const H_SIGNATURE: &str = "alipay-signature";
pub(crate) const H_TIMESTAMP: &str = "alipay-timestamp";
pub(crate) const H_NONCE: &str = "alipay-nonce";
pub(crate) const H_SN: &str = "alipay-sn";
const H_TRACE: &str = "alipay-trace-id";

/// The HTTP method and path of a classic method on the v3 API (brief §9.3), `None` for the
/// methods without a v3 endpoint (client-side scenes, the certificate download).
pub(crate) fn endpoint(method: &str) -> Option<(http::Method, &'static str)> {
    use http::Method as M;
    Some(match method {
        methods::PAY => (M::POST, "/v3/alipay/trade/pay"),
        methods::PRECREATE => (M::POST, "/v3/alipay/trade/precreate"),
        methods::QUERY => (M::POST, "/v3/alipay/trade/query"),
        methods::CLOSE => (M::POST, "/v3/alipay/trade/close"),
        methods::CANCEL => (M::POST, "/v3/alipay/trade/cancel"),
        methods::REFUND => (M::POST, "/v3/alipay/trade/refund"),
        methods::REFUND_QUERY => (M::POST, "/v3/alipay/trade/fastpay/refund/query"),
        methods::TRANSFER => (M::POST, "/v3/alipay/fund/trans/uni/transfer"),
        methods::TRANSFER_QUERY => (M::GET, "/v3/alipay/fund/trans/common/query"),
        methods::BILL_URL => (M::GET, "/v3/alipay/data/dataservice/bill/downloadurl/query"),
        _ => return None,
    })
}

/// The kind of a v3 error: the classic sub-code table first, then the HTTP status.
#[must_use]
pub(crate) fn v3_kind(status: u16, code: &str) -> GatewayErrorKind {
    match kind_of("", Some(code)) {
        GatewayErrorKind::Unknown => match status {
            401 => GatewayErrorKind::AuthFailed,
            403 => GatewayErrorKind::NoPermission,
            429 => GatewayErrorKind::RateLimited,
            500..=599 => GatewayErrorKind::SystemError,
            _ => GatewayErrorKind::Unknown,
        },
        k => k,
    }
}

/// Whether `method` writes (its answer failing verification leaves the outcome unknown).
fn is_write(method: &str) -> bool {
    matches!(
        method,
        methods::PAY
            | methods::PRECREATE
            | methods::CLOSE
            | methods::CANCEL
            | methods::REFUND
            | methods::TRANSFER
    )
}

/// A verification failure on the answer to a write is an unknown outcome (core semantics).
fn after_write(method: &str, e: Error) -> Error {
    match e {
        Error::Verification(v) if is_write(method) => Error::Verification(v.after_write()),
        e => e,
    }
}

fn header<'a>(h: &'a http::HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty() && *v != "null")
}

/// The top-level fields of a JSON object as query parameters (strings raw, anything else as
/// its JSON text), RFC 3986-encoded.
fn query_of(biz: &str) -> Result<String> {
    let v: serde_json::Value = serde_json::from_str(biz)
        .map_err(|e| InvalidInput::new("biz_content", format!("not JSON: {e}")))?;
    let serde_json::Value::Object(map) = v else {
        return Err(InvalidInput::new("biz_content", "not a JSON object").into());
    };
    let mut pairs: Vec<(String, String)> = map
        .into_iter()
        .map(|(k, v)| match v {
            serde_json::Value::String(s) => (k, s),
            other => (k, other.to_string()),
        })
        .collect();
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(form::encode_pairs(&pairs, false))
}

/// `biz` with `notify_url` added at top level (v3 carries it in the body).
fn with_notify_url(biz: &str, notify_url: Option<&str>) -> Result<String> {
    let Some(url) = notify_url.filter(|u| !u.is_empty()) else {
        return Ok(biz.to_owned());
    };
    let mut v: serde_json::Value = serde_json::from_str(biz)
        .map_err(|e| InvalidInput::new("biz_content", format!("not JSON: {e}")))?;
    if let Some(map) = v.as_object_mut() {
        map.insert("notify_url".into(), url.into());
    }
    Ok(v.to_string())
}

impl AlipayClient {
    /// Sends `method` over the v3 REST API and returns the verified response object with the
    /// classic status fields added (`code` `10000`, or `10003` for a payment-code answer that
    /// does not show the payment yet), so the classic models and flows apply unchanged.
    pub(super) async fn call_v3<R: DeserializeOwned>(
        &self,
        method: &str,
        biz: &str,
        notify_url: Option<&str>,
    ) -> Result<R> {
        let (verb, path) = endpoint(method).ok_or_else(|| {
            payagg_core::error::Unsupported::new(CHANNEL, format!("{method} on the v3 API"))
        })?;
        let cfg = &self.config;
        let (path_and_query, body) = if verb == http::Method::GET {
            let q = query_of(biz)?;
            let pq = if q.is_empty() {
                path.to_owned()
            } else {
                format!("{path}?{q}")
            };
            (pq, Vec::new())
        } else {
            let json = with_notify_url(biz, notify_url)?;
            let body = match &cfg.aes_key {
                Some(key) => key.encrypt_b64(json.as_bytes()).into_bytes(),
                None => json.into_bytes(),
            };
            (path.to_owned(), body)
        };
        let app_cert_sn = match &cfg.keys {
            KeyMode::Cert { app_cert_sn, .. } => Some(app_cert_sn.as_str()),
            KeyMode::PublicKey(_) => None,
        };
        let nonce = self.nonce.nonce();
        let ts_ms =
            i64::try_from(self.clock.now().unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX);
        let auth = sign::v3_auth_string(&cfg.app_id, app_cert_sn, &nonce, ts_ms);
        let token = cfg
            .app_auth_token
            .as_ref()
            .map(|t| secrecy::ExposeSecret::expose_secret(t).to_owned());
        let message = sign::v3_request_message(
            &auth,
            verb.as_str(),
            &path_and_query,
            &body,
            token.as_deref(),
        );
        let signature = sign::sign(&cfg.private_key, SignType::Rsa2, &message);
        let mut b = http::Request::builder()
            .method(verb.clone())
            .uri(format!("{}{path_and_query}", cfg.v3_base_url))
            .header(
                http::header::AUTHORIZATION,
                sign::v3_authorization(&auth, &signature),
            )
            .header("alipay-request-id", self.nonce.nonce())
            .header(http::header::ACCEPT, "application/json");
        if verb == http::Method::POST {
            if cfg.aes_key.is_some() {
                b = b
                    .header(http::header::CONTENT_TYPE, "text/plain")
                    .header("alipay-encrypt-type", "AES");
            } else {
                b = b.header(http::header::CONTENT_TYPE, "application/json");
            }
        }
        if let Some(t) = &token {
            b = b.header("alipay-app-auth-token", t.as_str());
        }
        if let KeyMode::Cert { root_cert_sn, .. } = &cfg.keys {
            b = b.header("alipay-root-cert-sn", root_cert_sn.as_str());
        }
        let req = b.body(Bytes::from(body)).map_err(|e| {
            Error::InvalidInput(InvalidInput::new(
                "v3_base_url",
                format!("bad request: {e}"),
            ))
        })?;
        let resp = self.transport.send(req).await?;
        let status = resp.status().as_u16();
        let headers = resp.headers();
        let raw = resp.body();
        let trace = header(headers, H_TRACE).map(str::to_owned);
        let signed = header(headers, H_SIGNATURE).is_some();
        if resp.status().is_success() || signed {
            self.verify_v3(method, status, headers, raw)
                .await
                .map_err(|e| after_write(method, e))?;
        }
        if !resp.status().is_success() {
            return Err(v3_error(method, status, raw, signed, trace));
        }
        let plain = if cfg.aes_key.is_some() && !raw.trim_ascii_start().starts_with(b"{") {
            let key = cfg.aes_key.as_ref().ok_or_else(|| decode("unreachable"))?;
            let text = std::str::from_utf8(raw.trim_ascii())
                .map_err(|_| decode(format!("{method}: v3 ciphertext is not text")))?;
            key.decrypt_b64(text).map_err(|_| {
                after_write(
                    method,
                    verification(
                        VerificationKind::Decryption,
                        format!("{method}: v3 response does not decrypt"),
                    ),
                )
            })?
        } else {
            raw.to_vec()
        };
        let mut v: serde_json::Value = serde_json::from_slice(&plain).map_err(|e| {
            Error::Decode(DecodeError::new(format!("{method}: v3 response body")).with_source(e))
        })?;
        let obj = v
            .as_object_mut()
            .ok_or_else(|| decode(format!("{method}: v3 response is not an object")))?;
        // A payment-code answer proves the payment only with its payment time; otherwise poll.
        let code = if method == methods::PAY
            && obj
                .get("gmt_payment")
                .and_then(serde_json::Value::as_str)
                .is_none_or(str::is_empty)
        {
            "10003"
        } else {
            "10000"
        };
        obj.insert("code".into(), code.into());
        obj.insert("msg".into(), "Success".into());
        obj.remove("sub_code");
        serde_json::from_value(v).map_err(|e| {
            Error::Decode(DecodeError::new(format!("{method}: v3 response")).with_source(e))
        })
    }

    /// Verifies the v3 signature headers over the raw body.
    ///
    /// Certificate mode: the key is the certificate `alipay-sn` names. An unknown SN is a
    /// rotation, handled as on the classic gateway: the certificate is downloaded with
    /// `alipay.open.app.alipaycert.download` (there is no v3 endpoint for it in the official
    /// v3 SDKs, so it goes to the classic gateway), must chain to the configured Alipay root
    /// and carry the SN asked for, and is cached; then the response is verified with it. The
    /// official Java v3 client only looks the SN up (no download); this is the classic SDK's
    /// behaviour carried over.
    async fn verify_v3(
        &self,
        method: &str,
        status: u16,
        headers: &http::HeaderMap,
        body: &[u8],
    ) -> Result<()> {
        let (Some(sig), Some(ts), Some(nonce)) = (
            header(headers, H_SIGNATURE),
            header(headers, H_TIMESTAMP),
            header(headers, H_NONCE),
        ) else {
            return Err(verification(
                VerificationKind::MissingSignature,
                format!(
                    "{method}: v3 HTTP {status} without {H_SIGNATURE} / {H_TIMESTAMP} / {H_NONCE}"
                ),
            ));
        };
        let key = match &self.config.keys {
            KeyMode::PublicKey(k) => k.clone(),
            KeyMode::Cert { alipay_key, .. } => match header(headers, H_SN) {
                None => alipay_key.clone(),
                Some(sn) => {
                    let known = super::read(&self.alipay_keys).get(sn).cloned();
                    match known {
                        Some(k) => k,
                        // As on the classic gateway, the download's own error stands
                        // (a transport failure stays retryable, a bad chain is a
                        // Certificate error, another SN is UnknownKey).
                        None => self.fetch_alipay_cert(sn).await?,
                    }
                }
            },
        };
        let message = sign::v3_response_message(ts, nonce, body);
        sign::verify(&key, SignType::Rsa2, &message, sig).map_err(|_| {
            verification(
                VerificationKind::BadSignature,
                format!("{method}: v3 response signature does not verify"),
            )
        })
    }
}

/// A non-2xx answer as a core error: `{code, message, links}` → a gateway error (unverified
/// when unsigned), anything else → a transport error (outcome unknown).
fn v3_error(method: &str, status: u16, raw: &[u8], signed: bool, trace: Option<String>) -> Error {
    let body: Option<V3ErrorBody> = serde_json::from_slice(raw)
        .ok()
        .filter(|b: &V3ErrorBody| !b.code.is_empty());
    let Some(body) = body else {
        return TransportError::after_send(format!("{method}: v3 HTTP {status} from Alipay"))
            .into();
    };
    let mut kind = v3_kind(status, &body.code);
    let mut message = body.message.clone();
    if !signed {
        // Nothing proves Alipay said it: no definite kind (good or bad news).
        kind = crate::error::unverified_kind(kind);
        message = format!("{}v3 error: {message}", crate::error::UNVERIFIED_PREFIX);
    }
    if let Some(l) = body.links.first().filter(|l| !l.link.is_empty()) {
        message = format!("{message} ({})", l.link);
    }
    let mut e = GatewayError::new(CHANNEL, kind, body.code.clone(), message)
        .with_sub_code(body.code)
        .with_http_status(status);
    if let Some(t) = trace {
        e = e.with_request_id(t);
    }
    if !signed {
        e = e.unverified();
    }
    e.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_queries() {
        assert_eq!(
            v3_kind(400, "ACQ.TRADE_NOT_EXIST"),
            GatewayErrorKind::NotFound
        );
        assert_eq!(
            v3_kind(400, "ACQ.SYSTEM_ERROR"),
            GatewayErrorKind::SystemError
        );
        assert_eq!(
            v3_kind(401, "invalid-auth-token"),
            GatewayErrorKind::AuthFailed
        );
        assert_eq!(v3_kind(400, "NEW_CODE"), GatewayErrorKind::Unknown);
        assert_eq!(v3_kind(503, "X"), GatewayErrorKind::SystemError);
        assert_eq!(
            query_of(r#"{"bill_type":"trade","bill_date":"2024-05-19","n":1}"#).unwrap(),
            "bill_date=2024-05-19&bill_type=trade&n=1"
        );
        assert_eq!(
            with_notify_url(r#"{"a":"b"}"#, Some("https://x/n")).unwrap(),
            r#"{"a":"b","notify_url":"https://x/n"}"#
        );
        assert!(endpoint(methods::PAGE_PAY).is_none());
    }
}
