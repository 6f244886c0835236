//! The client-certificate transport (WeChat APIv2 reversal and refunds need mutual TLS):
//! a generated certificate and key build a transport; garbage is a typed config error that
//! does not echo the key.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use payagg_core::transport::{ClientIdentity, ReqwestTransport, Timeouts};

#[test]
fn a_generated_identity_builds_a_transport() {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["1900000109".to_owned()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let id = ClientIdentity::from_pem(&cert.pem(), &key.serialize_pem());
    assert_eq!(format!("{id:?}"), "ClientIdentity(***)");
    ReqwestTransport::with_identity(Timeouts::default(), &id).expect("identity accepted");
}

#[test]
fn a_broken_identity_is_a_config_error_without_key_material() {
    let key = rcgen::KeyPair::generate().unwrap();
    let key_pem = key.serialize_pem();
    // A key without its certificate cannot be an identity.
    let id = ClientIdentity::from_pem("", &key_pem);
    let err = ReqwestTransport::with_identity(Timeouts::default(), &id).unwrap_err();
    assert_eq!(err.what(), "client identity");
    let body: String = key_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let shown = format!("{err} {err:?}");
    assert!(
        !shown.contains(&body[..32]),
        "the key leaked into the error"
    );
}
