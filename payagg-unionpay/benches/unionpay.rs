//! Sign a request, verify a notification (signature + signer chain + CN), parse a generated
//! 1M-record ZM file (~609 MB).
//!
//! `cargo bench -p payagg-unionpay -- --warm-up-time 1 --measurement-time 3`, 2 vCPU shared
//! with concurrent builds (noisy): sign 01 ≈ 0.36–0.55 ms, sign 11 ≈ 3.6 µs, verify signature
//! ≈ 35–40 µs, verify notification cold (x509 parse + chain + CN) ≈ 100–160 µs, with the
//! signer's chain cached ≈ 55 µs, ZM parse ≈ 450–540 MiB/s (1M records ≈ 1.1 s).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use payagg_core::statement::StatementParser;
use payagg_unionpay::bill::ZmParser;
use payagg_unionpay::qstring;
use payagg_unionpay::qstring::Fields;
use payagg_unionpay::sign::{self, SignMethod, Signer};
use payagg_unionpay::verify::{CnRule, TrustChain, Verifier, notification_fields};
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

/// A root → middle → signer chain like UnionPay's (CN per the production rule), and a
/// consume notification form body signed by the signer.
fn notification() -> (TrustChain, Vec<u8>) {
    use rcgen::{
        BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
        KeyUsagePurpose,
    };
    let key =
        || KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048).unwrap();
    let params = |cn: &str, ca: bool| {
        let mut p = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CountryName, "CN");
        dn.push(DnType::CommonName, cn);
        p.distinguished_name = dn;
        p.not_before = rcgen::date_time_ymd(2020, 1, 1);
        p.not_after = rcgen::date_time_ymd(2040, 1, 1);
        if ca {
            p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            p.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        }
        p
    };
    let (root_key, middle_key, leaf_key) = (key(), key(), key());
    let root_p = params("Bench Root", true);
    let root = root_p.self_signed(&root_key).unwrap();
    let middle_p = params("Bench Middle", true);
    let middle = middle_p
        .signed_by(&middle_key, &Issuer::from_params(&root_p, &root_key))
        .unwrap();
    let leaf = params("041@8310000000083040@中国银联股份有限公司@00016495", false)
        .signed_by(&leaf_key, &Issuer::from_params(&middle_p, &middle_key))
        .unwrap();
    let cert = |pem: &str| payagg_core::crypto::Certificate::from_pem(pem).unwrap();
    let chain = TrustChain::new(cert(&middle.pem()), cert(&root.pem())).unwrap();
    let leaf_pem = leaf
        .pem()
        .trim_end()
        .lines()
        .collect::<Vec<_>>()
        .join("\r\n");
    let mut f = fields();
    for (k, v) in [
        ("queryId", "012401051200051234567"),
        ("respCode", "00"),
        ("respMsg", "成功[0000000]"),
        ("settleAmt", "123456"),
        ("settleDate", "0105"),
        ("traceNo", "123456"),
        ("traceTime", "0105120005"),
        ("signMethod", "01"),
        ("signPubKeyCert", &leaf_pem),
    ] {
        f.insert(k.to_owned(), v.to_owned());
    }
    let key =
        payagg_core::crypto::RsaPrivateKey::from_pkcs8_der(&leaf_key.serialize_der()).unwrap();
    let sig = sign::rsa_sha256_signature(&key, &sign::string_to_sign(&f));
    f.insert("signature".to_owned(), sig);
    (chain, qstring::form_encode(&f).into_bytes())
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
    let (chain, body) = notification();
    let verifier = Verifier::rsa(chain.clone(), CnRule::Strict);
    let at = time::macros::datetime!(2024-01-05 08:00 UTC);
    verifier
        .verify(&notification_fields(&body).unwrap(), at)
        .unwrap();
    c.bench_function(
        "verify notification (01, cold: form decode + x509 parse + chain + CN + signature)",
        |b| {
            b.iter(|| {
                // A fresh verifier: no cached chain result.
                let v = Verifier::rsa(chain.clone(), CnRule::Strict);
                let f = notification_fields(&body).unwrap();
                v.verify(&f, at).unwrap()
            })
        },
    );
    c.bench_function(
        "verify notification (01, signer cached: form decode + validity + signature)",
        |b| {
            b.iter(|| {
                let f = notification_fields(&body).unwrap();
                verifier.verify(&f, at).unwrap()
            })
        },
    );
    let n = 1_000_000;
    let file = zm_file(n);
    let p = ZmParser::new(time::macros::date!(2024 - 01 - 05));
    let mut g = c.benchmark_group("zm");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(file.len() as u64));
    g.bench_function("parse 1M ZM records", |b| {
        b.iter(|| {
            let ok = p.records(&file).filter(Result::is_ok).count();
            assert_eq!(ok, n);
            ok
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
