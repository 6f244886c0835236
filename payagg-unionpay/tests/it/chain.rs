//! The chain and CN rules across environments, and the middle's CA flags at build time.

use payagg_core::callback::CallbackRequest;
use payagg_core::{Error, Gateway};
use payagg_unionpay::Environment;

use super::*;

fn consume() -> Fields {
    [
        ("accessType", "0"),
        ("bizType", "000201"),
        ("currencyCode", "156"),
        ("encoding", "UTF-8"),
        ("merId", MER_ID),
        ("orderId", "B2C20240105160000001"),
        ("queryId", QUERY_ID),
        ("respCode", "00"),
        ("respMsg", "成功[0000000]"),
        ("txnAmt", "1"),
        ("txnSubType", "01"),
        ("txnTime", TXN_TIME),
        ("txnType", "01"),
        ("version", "5.1.0"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect()
}

async fn verify_in(env: Environment, sim: &Sim) -> Result<(), Error> {
    let s = server().await;
    let c = client_with(base_config(&s).environment(env).build().unwrap());
    let b = qstring::form_encode(&sim.sign(consume()));
    c.verify_callback(&CallbackRequest::post(http::HeaderMap::new(), b))
        .await
        .map(|_| ())
}

#[tokio::test]
async fn company_cn_passes_in_both_environments() {
    verify_in(Environment::Test, &pki().good).await.unwrap();
    verify_in(Environment::Production, &pki().good)
        .await
        .unwrap();
}

#[tokio::test]
async fn old_test_owner_only_in_test_mode() {
    verify_in(Environment::Test, &pki().test_owner)
        .await
        .unwrap();
    let e = verify_in(Environment::Production, &pki().test_owner)
        .await
        .unwrap_err();
    assert_forged("00040000:SIGN in production", &e);
}

#[tokio::test]
async fn forged_in_production_too() {
    for (case, sim) in forged() {
        assert_forged(
            case,
            &verify_in(Environment::Production, sim).await.unwrap_err(),
        );
    }
}

#[tokio::test]
async fn middle_without_ca_flags_is_a_config_error() {
    let s = server().await;
    let e = base_config(&s)
        .middle_cert_pem(pki().non_ca_middle_pem.clone())
        .build()
        .unwrap_err();
    assert!(matches!(e, Error::Config(_)), "{e:?}");
    assert!(e.to_string().contains("CA"), "{e}");
    // The middle and root swapped, or the root as its own middle, do not chain either.
    let e = base_config(&s)
        .middle_cert_pem(pki().root.pem.clone())
        .root_cert_pem(pki().middle.pem.clone())
        .build()
        .unwrap_err();
    assert!(matches!(e, Error::Config(_)), "{e:?}");
}

#[test]
fn the_simulator_chain_is_what_the_client_pins() {
    let middle = payagg_core::crypto::Certificate::from_pem(&pki().middle.pem).unwrap();
    let root = payagg_core::crypto::Certificate::from_pem(&pki().root.pem).unwrap();
    let leaf = payagg_core::crypto::Certificate::from_pem(&pki().good.pem).unwrap();
    assert!(middle.is_ca() && root.is_ca() && !leaf.is_ca());
    assert_eq!(leaf.subject_common_name(), Some(SIGNER_CN));
    assert_eq!(leaf.serial_decimal(), SIGNER_SERIAL.to_string());
    assert!(pki().good.pem.contains("\r\n") && !pki().good.pem.ends_with('\n'));
    leaf.verify_issued_by(&middle).unwrap();
    let other = payagg_core::crypto::Certificate::from_pem(&pki().other_middle.pem).unwrap();
    assert_eq!(
        other.issuer_rfc4514(),
        middle.subject_rfc4514(),
        "same name, other key"
    );
    assert!(other.verify_issued_by(&middle).is_err());
}

#[tokio::test]
async fn accepted_signer_is_cached_but_validity_is_rechecked_every_time() {
    let s = server().await;
    let clock = Arc::new(ManualClock::new(now()));
    let c = UnionPayClient::new(base_config(&s).build().unwrap())
        .unwrap()
        .with_clock(clock.clone());
    let cb = |sim: &Sim| {
        CallbackRequest::post(
            http::HeaderMap::new(),
            qstring::form_encode(&sim.sign(consume())),
        )
    };
    c.verify_callback(&cb(&pki().good)).await.unwrap();
    c.verify_callback(&cb(&pki().good)).await.unwrap();
    // Another PEM is checked in full, the cache notwithstanding.
    for (case, sim) in forged() {
        assert_forged(case, &c.verify_callback(&cb(sim)).await.unwrap_err());
    }
    c.verify_callback(&cb(&pki().good)).await.unwrap();
    // A tampered message with the cached certificate still fails on the signature.
    let mut f = pki().good.sign(consume());
    f.insert("txnAmt".into(), "2".into());
    let e = c
        .verify_callback(&CallbackRequest::post(
            http::HeaderMap::new(),
            qstring::form_encode(&f),
        ))
        .await
        .unwrap_err();
    assert_bad_signature(&e);
    // The signer expires (2026-01-01): refused although its chain was cached.
    clock.set(time::macros::datetime!(2026-01-02 00:00 UTC));
    assert_forged(
        "cached, then expired",
        &c.verify_callback(&cb(&pki().good)).await.unwrap_err(),
    );
}
