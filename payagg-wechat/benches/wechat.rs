//! Criterion benches: APIv3 request signing and callback verification + decryption.
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
use payagg_core::crypto::{RsaPrivateKey, SecretKey32};
use payagg_core::test_util::FakeTransport;
use payagg_core::{CallbackRequest, Gateway};
use payagg_wechat::doc_support::{TEST_KEY_PEM, TEST_PUBLIC_KEY_PEM};
use payagg_wechat::sign::{self, AuthorizationHeader};
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

criterion_group!(benches, bench_sign, bench_callback);
criterion_main!(benches);
