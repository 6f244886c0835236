//! Criterion benches: APIv3 request signing, response verification, and callback
//! verification + decryption.
//!
//! Run: `cargo bench -p payagg-wechat -- --warm-up-time 1 --measurement-time 3`, then
//! `openssl speed -seconds 3 rsa2048` in the same session for the ratios.
//!
//! Recorded 2026-11-21 (AMD EPYC, 2 vCPU shared with other builds; OpenSSL 3.0.19; one
//! core; medians):
//!
//! | bench | time | per second | vs `openssl speed rsa2048` |
//! |---|---|---|---|
//! | `wechat/sign_request` | 256.3 µs | 3,900 | sign 4,008/s (249 µs): 0.97× |
//! | `wechat/verify_response` | 18.27 µs | 54,700 | verify 55,449/s (18.0 µs): 0.99× |
//! | `wechat/verify_callback_and_decrypt` | 23.52 µs | 42,500 (target ≥ 10,000: 4.3×) | 0.77× of a bare verify |
//!
//! Signing and verifying are the RSA operation itself (aws-lc); a callback adds ≈ 5 µs for
//! AES-256-GCM, JSON and the conversion to core's types.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::missing_panics_doc
)]

use std::hint::black_box;
use std::sync::Arc;

use base64::Engine as _;
use criterion::{Criterion, criterion_group, criterion_main};
use payagg_core::clock::ManualClock;
use payagg_core::crypto::{RsaPrivateKey, RsaPublicKey, SecretKey32};
use payagg_core::test_util::FakeTransport;
use payagg_core::{CallbackRequest, Gateway};
use payagg_wechat::doc_support::{TEST_KEY_PEM, TEST_PUBLIC_KEY_PEM};
use payagg_wechat::sign::{self, AuthorizationHeader};
use payagg_wechat::verify::{DEFAULT_WINDOW, SignatureHeaders, verify_signed};
use payagg_wechat::wire::{EncryptedResource, NotifyEnvelope};
use payagg_wechat::{Config, WechatPayClient};
use time::OffsetDateTime;

const BODY: &str = r#"{"appid":"wxd678efh567hg6787","mchid":"1230000109","description":"Image形象店-深圳腾大-QQ公仔","out_trade_no":"1217752501201407033233368018","notify_url":"https://www.weixin.qq.com/wxpay/pay.php","amount":{"total":100,"currency":"CNY"},"payer":{"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}}"#;
const TX: &str = r#"{"mchid":"1230000109","appid":"wxd678efh567hg6787","out_trade_no":"1217752501201407033233368018","transaction_id":"4200000001202401011234567890","trade_type":"JSAPI","trade_state":"SUCCESS","trade_state_desc":"支付成功","bank_type":"OTHERS","attach":"","success_time":"2024-01-01T12:00:05+08:00","payer":{"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},"amount":{"total":100,"payer_total":100,"currency":"CNY","payer_currency":"CNY"}}"#;
const APIV3: &str = "a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb";
const TS: i64 = 1_704_081_606;

fn bench_sign(c: &mut Criterion) {
    let key = RsaPrivateKey::from_pem(TEST_KEY_PEM).unwrap();
    c.bench_function("wechat/sign_request", |b| {
        b.iter(|| {
            let h = AuthorizationHeader::sign(
                &key,
                "1230000109",
                "F5765756002FDD77",
                "POST",
                black_box("/v3/pay/transactions/jsapi"),
                "1700000000",
                "UaJ6TbPzV0XQ1vr3o8AD1b2ZRN1xUCjc",
                black_box(BODY.as_bytes()),
            );
            black_box(h.to_header_value())
        });
    });
}

/// A signed query answer: the headers WeChat sends and the body they sign.
fn signed_answer() -> (http::HeaderMap, Vec<u8>) {
    let platform = RsaPrivateKey::from_pem(TEST_KEY_PEM).unwrap();
    let ts = TS.to_string();
    let nonce = "Fyd2ygUHLnrWvN2y8KIdRdYDh5WnMmOh";
    let sig = sign::sign_response(&platform, &ts, nonce, TX.as_bytes());
    let mut h = http::HeaderMap::new();
    h.insert("Wechatpay-Timestamp", ts.parse().unwrap());
    h.insert("Wechatpay-Nonce", nonce.parse().unwrap());
    h.insert("Wechatpay-Serial", "PUB_KEY_ID_01".parse().unwrap());
    h.insert("Wechatpay-Signature", sig.parse().unwrap());
    h.insert(
        "Wechatpay-Signature-Type",
        "WECHATPAY2-SHA256-RSA2048".parse().unwrap(),
    );
    h.insert(
        "Request-ID",
        "08F5B8C2B506102C18FDDFEEA30620BE821E28EDC405-0"
            .parse()
            .unwrap(),
    );
    (h, TX.as_bytes().to_vec())
}

/// A response check alone: read the four headers, window, key lookup, RSA verification of
/// `ts\nnonce\nbody\n` (what every APIv3 answer costs on top of the HTTP round trip).
fn bench_verify_response(c: &mut Criterion) {
    let key = RsaPublicKey::from_pem(TEST_PUBLIC_KEY_PEM).unwrap();
    let now = OffsetDateTime::from_unix_timestamp(TS).unwrap();
    let (headers, body) = signed_answer();
    let check = |h: &http::HeaderMap, body: &[u8]| {
        let sh = SignatureHeaders::from_headers(h)?;
        verify_signed(
            &sh,
            body,
            now,
            DEFAULT_WINDOW,
            |s| (s == "PUB_KEY_ID_01").then(|| key.clone()),
            || vec!["PUB_KEY_ID_01".to_owned()],
        )
    };
    check(&headers, &body).unwrap();
    let mut tampered = body.clone();
    tampered[10] ^= 1;
    assert!(check(&headers, &tampered).is_err());
    c.bench_function("wechat/verify_response", |b| {
        b.iter(|| check(black_box(&headers), black_box(&body)).unwrap());
    });
}

fn callback() -> CallbackRequest {
    let key: SecretKey32 = APIV3.parse().unwrap();
    let ct = key.encrypt(b"fdasflkja484", b"transaction", TX.as_bytes());
    let env = NotifyEnvelope {
        id: "EV-2018022511223320873".into(),
        create_time: "2024-01-01T12:00:06+08:00".into(),
        resource_type: "encrypt-resource".into(),
        event_type: "TRANSACTION.SUCCESS".into(),
        summary: "支付成功".into(),
        resource: EncryptedResource {
            original_type: Some("transaction".into()),
            algorithm: "AEAD_AES_256_GCM".into(),
            ciphertext: base64::engine::general_purpose::STANDARD.encode(ct),
            associated_data: "transaction".into(),
            nonce: "fdasflkja484".into(),
        },
    };
    let body = serde_json::to_string(&env).unwrap();
    let platform = RsaPrivateKey::from_pem(TEST_KEY_PEM).unwrap();
    let sig = sign::sign_response(&platform, &TS.to_string(), "nonce", body.as_bytes());
    let mut h = http::HeaderMap::new();
    h.insert("Wechatpay-Timestamp", TS.to_string().parse().unwrap());
    h.insert("Wechatpay-Nonce", "nonce".parse().unwrap());
    h.insert("Wechatpay-Serial", "PUB_KEY_ID_01".parse().unwrap());
    h.insert("Wechatpay-Signature", sig.parse().unwrap());
    CallbackRequest::post(h, body)
}

fn bench_callback(c: &mut Criterion) {
    let config = Config::builder()
        .mchid("1230000109")
        .appid("wxd678efh567hg6787")
        .private_key_pem(TEST_KEY_PEM)
        .merchant_serial_no("F5765756002FDD77")
        .apiv3_key(APIV3.parse().unwrap())
        .wechatpay_public_key("PUB_KEY_ID_01", TEST_PUBLIC_KEY_PEM)
        .build()
        .unwrap();
    let client = WechatPayClient::with_transport(config, Arc::new(FakeTransport::new()))
        .unwrap()
        .with_clock(Arc::new(ManualClock::new(
            OffsetDateTime::from_unix_timestamp(TS).unwrap(),
        )));
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let req = callback();
    assert!(rt.block_on(client.verify_callback(&req)).is_ok());
    c.bench_function("wechat/verify_callback_and_decrypt", |b| {
        b.iter(|| {
            black_box(
                rt.block_on(client.verify_callback(black_box(&req)))
                    .unwrap(),
            )
        });
    });
}

criterion_group!(benches, bench_sign, bench_verify_response, bench_callback);
criterion_main!(benches);
