//! Sign a request, verify a notification, parse a generated ZM file.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use payagg_core::statement::StatementParser;
use payagg_unionpay::bill::ZmParser;
use payagg_unionpay::qstring::Fields;
use payagg_unionpay::sign::{self, SignMethod, Signer};
use payagg_unionpay::wire::zm::{FIELD_LENGTHS, idx};

fn fields() -> Fields {
    [
        ("version", "5.1.0"),
        ("encoding", "UTF-8"),
        ("txnType", "01"),
        ("txnSubType", "01"),
        ("bizType", "000202"),
        ("channelType", "07"),
        ("accessType", "0"),
        ("merId", "777290058110048"),
        ("orderId", "B2B20240105120000001"),
        ("txnTime", "20240105120000"),
        ("txnAmt", "123456"),
        ("currencyCode", "156"),
        ("backUrl", "https://merchant.example.com/unionpay/notify"),
        ("frontUrl", "https://merchant.example.com/unionpay/front"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect()
}

fn zm_file(n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n * 609);
    for i in 0..n {
        let mut vals: Vec<Vec<u8>> = FIELD_LENGTHS.iter().map(|l| vec![b' '; *l]).collect();
        let mut put = |j: usize, v: &[u8]| vals[j][..v.len()].copy_from_slice(v);
        put(0, b"S22");
        put(4, b"0105120005");
        put(6, format!("{:012}", 100 + i % 1000).as_bytes());
        put(idx::QUERY_ID, format!("01240105120005{i:07}").as_bytes());
        put(idx::ORDER_ID, format!("ORD{i:012}").as_bytes());
        put(idx::MERCHANT_FEE, b"D000000000001");
        put(idx::SETTLE_AMOUNT, b"C000000000099");
        put(idx::NET_AMOUNT, b"C000000000099");
        put(idx::TXN_TYPE, if i % 10 == 0 { b"04" } else { b"01" });
        out.extend(vals.join(&b' '));
        out.extend(b"\r\n");
    }
    out
}

fn bench(c: &mut Criterion) {
    let key = payagg_core::crypto::RsaPrivateKey::generate(2048).unwrap();
    let rsa = Signer::rsa(key.clone(), "69903319369");
    c.bench_function("sign request (01, RSA-2048)", |b| {
        b.iter(|| sign::sign(fields(), &rsa).unwrap())
    });
    let sk = Signer::secure_key(SignMethod::SecureKeySha256, "88888888".to_owned().into());
    c.bench_function("sign request (11)", |b| {
        b.iter(|| sign::sign(fields(), &sk).unwrap())
    });
    let signed = sign::sign(fields(), &rsa).unwrap();
    c.bench_function("verify signature (01, no chain)", |b| {
        b.iter(|| sign::verify_rsa_sha256(&signed, key.public_key()).unwrap())
    });
    let file = zm_file(100_000);
    let p = ZmParser::new(time::macros::date!(2024 - 01 - 05));
    let mut g = c.benchmark_group("zm");
    g.sample_size(10);
    g.bench_function("parse 100k ZM records", |b| {
        b.iter(|| p.records(&file).filter(Result::is_ok).count())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
