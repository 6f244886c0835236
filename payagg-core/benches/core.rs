//! Criterion benches for payagg-core.
//!
//! Run: `cargo bench -p payagg-core --bench core`. With `PAYAGG_VECTORS` set, the RSA benches
//! use the WeChat Go test key (2048-bit); otherwise a fresh 2048-bit key is generated.
//!
//! Each bench is a function registered in `criterion_group!` at the bottom; add new groups of
//! benches in their own section.
// Benches are test code: panicking on a broken fixture is the right behaviour.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::sync::OnceLock;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use payagg_core::crypto::{RsaPrivateKey, SecretKey32};
use payagg_core::{Currency, ExactAmount, Money};

// ---------------------------------------------------------------------------------------------
// Crypto: signing, verification and callback decryption (the per-request costs).
// ---------------------------------------------------------------------------------------------

/// A WeChat APIv3 request-signing message of typical size.
const SIGN_MESSAGE: &str = "POST\n/v3/pay/transactions/native\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n\
{\"appid\":\"wxd678efh567hg6787\",\"mchid\":\"1230000109\",\"description\":\"Image形象店-深圳腾大-QQ公仔\",\
\"out_trade_no\":\"1217752501201407033233368018\",\"notify_url\":\"https://www.weixin.qq.com/wxpay/pay.php\",\
\"amount\":{\"total\":100,\"currency\":\"CNY\"}}\n";

fn rsa_key() -> &'static RsaPrivateKey {
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| match std::env::var_os("PAYAGG_VECTORS") {
        Some(dir) => {
            let path = std::path::Path::new(&dir).join("wechat/go_test_key.pem");
            let pem = std::fs::read_to_string(&path).unwrap_or_else(|e| {
                panic!(
                    "PAYAGG_VECTORS is set but {} is unreadable: {e}",
                    path.display()
                )
            });
            RsaPrivateKey::from_pem(&pem).unwrap()
        }
        None => RsaPrivateKey::generate(2048).unwrap(),
    })
}

fn rsa2048_sign_sha256(c: &mut Criterion) {
    let key = rsa_key();
    assert_eq!(key.bits(), 2048);
    c.bench_function("rsa2048_sign_sha256", |b| {
        b.iter(|| key.sign_sha256(black_box(SIGN_MESSAGE.as_bytes())))
    });
}

fn rsa2048_verify_sha256(c: &mut Criterion) {
    let key = rsa_key();
    let public = key.public_key().clone();
    let signature = key.sign_sha256(SIGN_MESSAGE.as_bytes());
    c.bench_function("rsa2048_verify_sha256", |b| {
        b.iter(|| {
            public
                .verify_sha256(black_box(SIGN_MESSAGE.as_bytes()), black_box(&signature))
                .unwrap()
        });
    });
}

fn aes256gcm_decrypt_1k(c: &mut Criterion) {
    let key: SecretKey32 = "a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb".parse().unwrap();
    let nonce = b"uluk4a9R25RW";
    let aad = b"transaction";
    let plaintext = vec![b'x'; 1024];
    let ciphertext = key.encrypt(nonce, aad, &plaintext);
    let mut group = c.benchmark_group("aes256gcm");
    group.throughput(Throughput::Bytes(1024));
    group.bench_function("aes256gcm_decrypt_1k", |b| {
        b.iter(|| {
            key.decrypt(black_box(nonce), black_box(aad), black_box(&ciphertext))
                .unwrap()
        });
    });
    group.finish();
}

// ---------------------------------------------------------------------------------------------
// Money: parsing and formatting.
// ---------------------------------------------------------------------------------------------

const AMOUNTS: [&str; 8] = [
    "0.01",
    "12.30",
    "12.3",
    "100",
    "99999.99",
    "123456789.05",
    "0",
    "7.7",
];

fn money_parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("money");
    g.throughput(Throughput::Elements(AMOUNTS.len() as u64));
    g.bench_function("money_parse", |b| {
        b.iter(|| {
            for s in AMOUNTS {
                black_box(Money::parse_major(black_box(s), Currency::Cny).unwrap());
            }
        })
    });
    g.bench_function("exact_parse_5dp", |b| {
        b.iter(|| black_box(ExactAmount::parse(black_box("-0.00600")).unwrap()))
    });
    g.finish();
}

fn money_format(c: &mut Criterion) {
    let values: Vec<Money> = AMOUNTS
        .iter()
        .map(|s| Money::parse_major(s, Currency::Cny).unwrap())
        .collect();
    let mut g = c.benchmark_group("money");
    g.throughput(Throughput::Elements(values.len() as u64));
    g.bench_function("money_format", |b| {
        b.iter(|| {
            for m in &values {
                black_box(black_box(m).to_major_string());
            }
        })
    });
    g.finish();
}

criterion_group!(
    benches,
    // crypto
    rsa2048_sign_sha256,
    rsa2048_verify_sha256,
    aes256gcm_decrypt_1k,
    // money
    money_parse,
    money_format,
);
criterion_main!(benches);
