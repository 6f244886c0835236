//! Integration tests: `WechatPayClient` against wiremock over real HTTP (reqwest transport).
//!
//! A fake WeChat signs its answers with a test platform key; every request's
//! `Authorization` is checked against the merchant key; a catch-all answers unexpected
//! requests with 599 so they fail loudly.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::missing_panics_doc,
    missing_docs,
    unreachable_pub
)]

mod callback;
mod config_files;
mod errors;
mod pay;
mod query;
mod refund;
mod statement;
mod text;
mod transfer;
mod verification;

use std::sync::{Arc, OnceLock};
use std::time::Duration as StdDuration;

use base64::Engine as _;
use payagg_core::clock::ManualClock;
use payagg_core::crypto::{FixedNonce, RsaPrivateKey, RsaPublicKey, SecretKey32};
use payagg_core::transport::{RetryPolicy, Timeouts};
use payagg_wechat::doc_support::{TEST_CERT_PEM, TEST_CERT_SERIAL, TEST_KEY_PEM};
use payagg_wechat::sign::{self, AuthorizationHeader};
use payagg_wechat::wire::{CertificateItem, CertificatesResponse, EncryptedResource};
use payagg_wechat::{Config, ConfigBuilder, WechatPayClient};
use time::OffsetDateTime;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub const MCHID: &str = "1230000109";
pub const APPID: &str = "wxd678efh567hg6787";
pub const MERCHANT_SERIAL: &str = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1";
pub const PUB_KEY_ID: &str = "PUB_KEY_ID_0000000000000024101100397200000006";
pub const APIV3: &str = "a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb";
/// The `Request-ID` every fake answer carries.
pub const REQUEST_ID: &str = "08F5B8C2B506102C18FDDFEEA30620BE821E28EDC405-0";
pub const NOW: i64 = 1_716_170_400; // 2024-05-20T10:00:00+08:00

/// The merchant's key: generated once per test binary.
pub fn merchant_key_pem() -> &'static str {
    static K: OnceLock<String> = OnceLock::new();
    K.get_or_init(|| {
        use rsa::pkcs8::EncodePrivateKey;
        let k = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
        k.to_pkcs8_pem(rsa::pkcs8::LineEnding::LF)
            .unwrap()
            .to_string()
    })
}

pub fn merchant_public() -> RsaPublicKey {
    RsaPrivateKey::from_pem(merchant_key_pem())
        .unwrap()
        .public_key()
        .clone()
}

/// The fake WeChat's signing key (the doc-support test key).
pub fn platform_key() -> RsaPrivateKey {
    RsaPrivateKey::from_pem(TEST_KEY_PEM).unwrap()
}

/// A second platform certificate for the same key, with another serial (rotation).
pub fn rotated_cert_pem(serial: u64) -> String {
    let kp = rcgen::KeyPair::from_pem_and_sign_algo(TEST_KEY_PEM, &rcgen::PKCS_RSA_SHA256).unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["wechatpay-test".to_owned()]).unwrap();
    params.serial_number = Some(rcgen::SerialNumber::from(serial));
    params.not_before = rcgen::date_time_ymd(2020, 1, 1);
    params.not_after = rcgen::date_time_ymd(2040, 1, 1);
    params.self_signed(&kp).unwrap().pem()
}

pub fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(NOW).unwrap()
}

pub fn apiv3() -> SecretKey32 {
    APIV3.parse().unwrap()
}

pub fn base_config(server: &MockServer) -> ConfigBuilder {
    Config::builder()
        .mchid(MCHID)
        .appid(APPID)
        .private_key_pem(merchant_key_pem())
        .merchant_serial_no(MERCHANT_SERIAL)
        .apiv3_key(apiv3())
        .base_url(server.uri())
        .notify_url("https://shop.example/notify/wechat")
        .timeouts(Timeouts::new(
            StdDuration::from_secs(2),
            StdDuration::from_millis(1500),
        ))
        .retry_policy({
            let mut r = RetryPolicy::attempts(3);
            r.initial_backoff = StdDuration::from_millis(1);
            r
        })
}

/// Public-key mode: the platform public key is the doc-support key.
pub fn pubkey_config(server: &MockServer) -> ConfigBuilder {
    base_config(server)
        .wechatpay_public_key(PUB_KEY_ID, payagg_wechat::doc_support::TEST_PUBLIC_KEY_PEM)
}

pub fn client(config: Config) -> WechatPayClient {
    WechatPayClient::new(config)
        .unwrap()
        .with_clock(Arc::new(ManualClock::new(now())))
        .with_nonce_source(Arc::new(FixedNonce(
            "5K8264ILTKCH16CQ2502SI8ZNMTM67VS".into(),
        )))
}

pub async fn server() -> MockServer {
    let s = MockServer::start().await;
    // Catch-all: anything unexpected fails loudly.
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(599).set_body_string("unexpected request"))
        .with_priority(u8::MAX)
        .mount(&s)
        .await;
    s
}

/// Checks the request's `Authorization` against the merchant key and the headers WeChat
/// requires.
#[derive(Debug)]
pub struct SignedByMerchant;

impl wiremock::Match for SignedByMerchant {
    fn matches(&self, req: &Request) -> bool {
        let Some(auth) = req
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
        else {
            return false;
        };
        let Ok(h) = AuthorizationHeader::parse(auth) else {
            return false;
        };
        let canonical = match req.url.query() {
            Some(q) => format!("{}?{q}", req.url.path()),
            None => req.url.path().to_owned(),
        };
        h.mchid == MCHID
            && h.serial_no == MERCHANT_SERIAL
            && h.timestamp == NOW.to_string()
            && req.headers.get("accept").is_some()
            && req.headers.get("user-agent").is_some()
            && h.verify(
                &merchant_public(),
                req.method.as_str(),
                &canonical,
                &req.body,
            )
            .is_ok()
    }
}

/// A signed answer from the fake WeChat.
#[derive(Clone, Debug)]
pub struct Signed {
    pub status: u16,
    pub body: String,
    pub serial: String,
    pub timestamp: i64,
    pub tamper: bool,
    pub delay: Option<StdDuration>,
}

impl Signed {
    pub fn ok(body: impl Into<String>) -> Self {
        Self {
            status: 200,
            body: body.into(),
            serial: PUB_KEY_ID.into(),
            timestamp: NOW,
            tamper: false,
            delay: None,
        }
    }
    pub fn status(mut self, s: u16) -> Self {
        self.status = s;
        self
    }
    pub fn serial(mut self, s: impl Into<String>) -> Self {
        self.serial = s.into();
        self
    }
    pub fn timestamp(mut self, t: i64) -> Self {
        self.timestamp = t;
        self
    }
    pub fn tampered(mut self) -> Self {
        self.tamper = true;
        self
    }
    pub fn delay(mut self, d: StdDuration) -> Self {
        self.delay = Some(d);
        self
    }
}

impl Respond for Signed {
    fn respond(&self, _req: &Request) -> ResponseTemplate {
        let ts = self.timestamp.to_string();
        let nonce = "Fyd2ygUHLnrWvN2y8KIdRdYDh5WnMmOh";
        let sig = sign::sign_response(&platform_key(), &ts, nonce, self.body.as_bytes());
        let body = if self.tamper {
            format!("{} ", self.body)
        } else {
            self.body.clone()
        };
        let mut t = ResponseTemplate::new(self.status)
            .insert_header("Wechatpay-Timestamp", ts.as_str())
            .insert_header("Wechatpay-Nonce", nonce)
            .insert_header("Wechatpay-Serial", self.serial.as_str())
            .insert_header("Wechatpay-Signature", sig.as_str())
            .insert_header("Wechatpay-Signature-Type", "WECHATPAY2-SHA256-RSA2048")
            .insert_header("Request-ID", REQUEST_ID);
        if !body.is_empty() {
            t = t.set_body_raw(body.into_bytes(), "application/json; charset=utf-8");
        }
        if let Some(d) = self.delay {
            t = t.set_delay(d);
        }
        t
    }
}

/// An unsigned error answer, with a `Request-ID` as WeChat sends.
pub fn error_body(status: u16, code: &str, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("Request-ID", REQUEST_ID)
        .set_body_raw(
            format!(r#"{{"code":"{code}","message":"{message}"}}"#).into_bytes(),
            "application/json",
        )
}

/// Encrypts `plaintext` with the APIv3 key as a WeChat resource.
pub fn encrypt(plaintext: &str, aad: &str, original_type: Option<&str>) -> EncryptedResource {
    let nonce = b"fdasflkja484";
    let ct = apiv3().encrypt(nonce, aad.as_bytes(), plaintext.as_bytes());
    EncryptedResource {
        original_type: original_type.map(str::to_owned),
        algorithm: "AEAD_AES_256_GCM".into(),
        ciphertext: base64::engine::general_purpose::STANDARD.encode(ct),
        associated_data: aad.into(),
        nonce: String::from_utf8(nonce.to_vec()).unwrap(),
    }
}

/// A `/v3/certificates` body holding `pems` (serials taken from the certificates).
pub fn certificates_body(pems: &[String]) -> String {
    let data = pems
        .iter()
        .map(|pem| {
            let cert = payagg_core::crypto::Certificate::from_pem(pem).unwrap();
            CertificateItem {
                serial_no: cert.serial_hex_upper(),
                effective_time: "2020-01-01T00:00:00+08:00".into(),
                expire_time: "2040-01-01T00:00:00+08:00".into(),
                encrypt_certificate: encrypt(pem, "certificate", None),
            }
        })
        .collect();
    serde_json::to_string(&CertificatesResponse { data }).unwrap()
}

pub fn doc_cert() -> (String, &'static str) {
    (TEST_CERT_PEM.to_owned(), TEST_CERT_SERIAL)
}
