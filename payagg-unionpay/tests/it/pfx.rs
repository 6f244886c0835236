//! The signing PFX: a merchant key and certificate generated with rcgen (issued by the
//! simulator's middle), written as PKCS#12 with `p12-keystore` the way UnionPay's 2021 test
//! file is (key + [leaf, middle, root], 3DES bags, HMAC-SHA1 MAC, 2000 iterations), loaded
//! through `ConfigBuilder::signing_pfx`.

use payagg_core::crypto::Certificate;
use payagg_core::error::ConfigError;
use payagg_core::{Error, TradeStatus};
use secrecy::SecretString;
use wiremock::matchers::{method, path};

use super::*;

const PASSWORD: &str = "pfx-pass-7411";
/// Above 2^32, eight DER bytes (first byte 0x7A, no sign padding): the decimal conversion
/// must use the whole serial.
const PFX_SERIAL: u64 = 8_845_612_391_043_217_509;
const PATH: &str = "/gateway/api/queryTrans.do";
const ORDER: &str = "pfx20240105160000";

/// A merchant signing certificate for `key` issued by the simulator's middle CA.
fn merchant_cert(key: &KeyPair) -> Certificate {
    let p = params(
        name("041@Z2021@777290058110048@00000002", "CFCA TEST OCA1"),
        PFX_SERIAL,
        false,
    );
    Certificate::from_pem(&pki().middle.issue(&p, key)).unwrap()
}

/// PKCS#12 holding `key` and `certs` (first = the leaf, linked by localKeyID).
fn write_pfx(key: &KeyPair, certs: &[&Certificate], password: &str) -> Vec<u8> {
    use p12_keystore::{
        EncryptionAlgorithm, KeyStore, KeyStoreEntry, MacAlgorithm, PrivateKey, PrivateKeyChain,
    };
    let key = PrivateKey::from_der(&key.serialize_der()).unwrap();
    let certs = certs
        .iter()
        .map(|c| p12_keystore::Certificate::from_der(c.der()).unwrap());
    let mut ks = KeyStore::new();
    ks.add_entry(
        "1",
        KeyStoreEntry::PrivateKeyChain(PrivateKeyChain::new(vec![1u8, 0, 0, 0], key, certs)),
    );
    ks.writer(password)
        .encryption_algorithm(EncryptionAlgorithm::PbeWithShaAnd3KeyTripleDesCbc)
        .encryption_iterations(2000)
        .mac_algorithm(MacAlgorithm::HmacSha1)
        .mac_iterations(2000)
        .write()
        .unwrap()
}

fn chain_certs() -> (Certificate, Certificate) {
    let p = pki();
    (
        Certificate::from_pem(&p.middle.pem).unwrap(),
        Certificate::from_pem(&p.root.pem).unwrap(),
    )
}

fn pfx_config(s: &MockServer, pfx: Vec<u8>, password: &str) -> payagg_core::Result<Config> {
    base_config(s)
        .signing_pfx(pfx, SecretString::from(password.to_owned()))
        .build()
}

/// The error, its `Debug` and every source in the chain as text.
fn all_text(e: &Error) -> String {
    let mut out = format!("{e} {e:?}");
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        out.push_str(&format!(" {s} {s:?}"));
        src = s.source();
    }
    out
}

fn config_error(e: &Error) -> &ConfigError {
    match e {
        Error::Config(c) => c,
        other => panic!("expected a configuration error, got {other:?}"),
    }
}

#[tokio::test]
async fn pfx_loads_cert_id_and_signs_verifiable_by_certificate() {
    let key = rsa_key();
    let cert = merchant_cert(&key);
    let (middle, root) = chain_certs();
    let pfx = write_pfx(&key, &[&cert, &middle, &root], PASSWORD);
    let cert_key = cert.public_key().unwrap();

    let s = server().await;
    let config = pfx_config(&s, pfx, PASSWORD).unwrap();
    assert_eq!(config.cert_id(), Some(PFX_SERIAL.to_string().as_str()));
    assert_eq!(config.cert_id(), Some("8845612391043217509"));
    assert!(!format!("{config:?}").contains(PASSWORD));

    // Direct: sign a request and check it with the certificate's public key.
    let signed = sign::sign(
        [
            ("version", "5.1.0"),
            ("encoding", "UTF-8"),
            ("txnType", "00"),
            ("txnSubType", "00"),
            ("bizType", "000000"),
            ("accessType", "0"),
            ("merId", MER_ID),
            ("orderId", ORDER),
            ("txnTime", TXN_TIME),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect(),
        config.signer(),
    )
    .unwrap();
    assert_eq!(signed["signMethod"], "01");
    assert_eq!(signed["certId"], PFX_SERIAL.to_string());
    sign::verify_rsa_sha256(&signed, &cert_key).unwrap();
    // Not a key that merely verifies anything: another key refuses it.
    assert!(sign::verify_rsa_sha256(&signed, merchant_public()).is_err());
    let mut tampered = signed.clone();
    tampered.insert("orderId".into(), "pfx20240105160001".into());
    assert!(sign::verify_rsa_sha256(&tampered, &cert_key).is_err());

    // Over HTTP: a query made with the PFX config carries that certId and a signature the
    // certificate verifies; the answer (signed by the simulator) verifies against the chain.
    let matcher_key = cert_key.clone();
    Mock::given(method("POST"))
        .and(path(PATH))
        .and(move |req: &Request| {
            let f = request_fields(req);
            f.get("certId") == Some(&PFX_SERIAL.to_string())
                && f.get("orderId").map(String::as_str) == Some(ORDER)
                && sign::verify_rsa_sha256(&f, &matcher_key).is_ok()
        })
        .respond_with(Answer::ok(&[
            ("respCode", "00"),
            ("respMsg", "成功[0000000]"),
            ("origRespCode", "00"),
            ("origRespMsg", "成功[0000000]"),
            ("queryId", QUERY_ID),
            ("txnAmt", "1"),
            ("settleAmt", "1"),
            ("settleCurrencyCode", "156"),
            ("settleDate", "0105"),
            ("traceNo", "784649"),
            ("traceTime", "0105160000"),
            ("currencyCode", "156"),
        ]))
        .expect(1)
        .mount(&s)
        .await;
    let t = client_with(config)
        .query_order(ORDER, TXN_TIME)
        .await
        .unwrap();
    assert_eq!(t.status, TradeStatus::Success);
    let sent = received(&s, PATH).await;
    assert_eq!(sent.len(), 1);
    sign::verify_rsa_sha256(&sent[0], &cert_key).unwrap();
}

#[tokio::test]
async fn pfx_wrong_password_is_a_config_error_without_the_password() {
    let key = rsa_key();
    let cert = merchant_cert(&key);
    let pfx = write_pfx(&key, &[&cert], PASSWORD);
    let s = server().await;
    for wrong in ["pfx-pass-7412", "", "000000"] {
        let e = pfx_config(&s, pfx.clone(), wrong).unwrap_err();
        let c = config_error(&e);
        assert!(
            c.what().contains("PKCS#12") && c.what().contains("pfx"),
            "names the PFX: {c}"
        );
        assert!(c.reason().contains("wrong password"), "{c}");
        assert!(!e.is_retryable());
        let text = all_text(&e);
        assert!(!text.contains(PASSWORD), "{text}");
        if !wrong.is_empty() {
            assert!(!text.contains(wrong), "{text}");
        }
    }
    // Not a PKCS#12 at all: the same typed error.
    let e = pfx_config(&s, b"-----BEGIN CERTIFICATE-----".to_vec(), PASSWORD).unwrap_err();
    assert!(config_error(&e).what().contains("PKCS#12"), "{e}");
    assert!(!all_text(&e).contains(PASSWORD));
    // The right password still opens it.
    pfx_config(&s, pfx, PASSWORD).unwrap();
}

#[tokio::test]
async fn pfx_certificate_of_another_key_is_refused() {
    let key = rsa_key();
    let other = rsa_key();
    // The certificate (and its chain) belongs to `other`, the key in the file does not.
    let cert = merchant_cert(&other);
    let (middle, root) = chain_certs();
    let pfx = write_pfx(&key, &[&cert, &middle, &root], PASSWORD);
    let s = server().await;
    let e = pfx_config(&s, pfx, PASSWORD).unwrap_err();
    let c = config_error(&e);
    assert!(c.what().contains("PKCS#12"), "{c}");
    assert!(c.reason().contains("matches its private key"), "{c}");
    assert!(!all_text(&e).contains(PASSWORD));

    // Key only, no certificate at all: refused too.
    let pfx = write_pfx(&key, &[], PASSWORD);
    let e = pfx_config(&s, pfx, PASSWORD).unwrap_err();
    assert!(config_error(&e).what().contains("PKCS#12"), "{e}");
}
