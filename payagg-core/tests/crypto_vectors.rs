//! `payagg_core::crypto` against the shared protocol vectors.
//!
//! The vectors live outside the repository: in the directory named by `PAYAGG_VECTORS`, else
//! in `../shared/vectors` beside the workspace (see `test_util::vectors_dir`). When neither
//! exists every test here is skipped with a message; otherwise a missing file fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use payagg_core::crypto::{
    Certificate, RsaPrivateKey, RsaPublicKey, SecretKey32, SignatureInvalid, hex_upper, md5_hex,
};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

// The workspace's one rule for finding the vectors (payagg-core's `test_util`, which this
// crate's own tests cannot enable as a feature).
#[path = "../src/test_util/vectors.rs"]
#[allow(unreachable_pub, dead_code)]
mod shared_vectors;

fn vectors_dir() -> Option<PathBuf> {
    shared_vectors::vectors_dir(env!("CARGO_MANIFEST_DIR"), "the crypto vector tests")
}

struct Channel {
    dir: PathBuf,
    json: Value,
}

impl Channel {
    fn load(name: &str) -> Option<Self> {
        let dir = vectors_dir()?.join(name);
        let path = dir.join("vectors.json");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("the vector file {} is unreadable: {e}", path.display()));
        Some(Self {
            dir,
            json: serde_json::from_str(&text).unwrap(),
        })
    }

    fn cases(&self, kind: &str) -> Vec<&Value> {
        let cases: Vec<&Value> = self.json["cases"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["kind"] == kind)
            .collect();
        assert!(!cases.is_empty(), "no {kind} cases");
        cases
    }

    fn case(&self, id: &str) -> &Value {
        self.json["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .unwrap_or_else(|| panic!("no case {id}"))
    }

    fn file(&self, name: &Value) -> String {
        let name = name
            .as_str()
            .unwrap_or_else(|| panic!("not a file name: {name}"));
        let path = self.dir.join(name);
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("missing vector file {}: {e}", path.display()))
    }
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}

fn b64(v: &Value) -> Vec<u8> {
    STANDARD.decode(s(v)).unwrap()
}

fn utc(v: &Value) -> OffsetDateTime {
    OffsetDateTime::parse(s(v), &Rfc3339).unwrap()
}

fn colon_hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

#[test]
fn wechat_cert_serial() {
    let Some(ch) = Channel::load("wechat") else {
        return;
    };
    for case in ch.cases("cert_serial") {
        let (id, input, exp) = (&case["id"], &case["inputs"], &case["expected"]);
        let cert = Certificate::from_pem(&ch.file(&input["certificate_file"])).unwrap();
        assert_eq!(cert.serial_hex_upper(), s(&exp["serial_hex_upper"]), "{id}");
        assert_eq!(cert.not_before(), utc(&exp["not_before_utc"]), "{id}");
        assert_eq!(cert.not_after(), utc(&exp["not_after_utc"]), "{id}");
        assert_eq!(cert.subject_rfc4514(), s(&exp["subject_rfc4514"]), "{id}");
        assert_eq!(cert.issuer_rfc4514(), s(&exp["issuer_rfc4514"]), "{id}");
        let public = cert.public_key().unwrap();
        assert_eq!(
            Some(public.bits() as u64),
            exp["public_key_bits"].as_u64(),
            "{id}"
        );
        for (key_file, matches) in exp["public_key_matches"].as_object().unwrap() {
            let key = RsaPrivateKey::from_pem(&ch.file(&Value::from(key_file.as_str()))).unwrap();
            assert_eq!(
                key.public_key() == &public,
                matches.as_bool().unwrap(),
                "{id} {key_file}"
            );
        }
        // Self-signed test certificates verify against themselves.
        if cert.subject_rfc4514() == cert.issuer_rfc4514() {
            cert.verify_issued_by(&cert).unwrap();
        }
    }
}

#[test]
fn wechat_rsa_sha256_sign() {
    let Some(ch) = Channel::load("wechat") else {
        return;
    };
    for case in ch.cases("rsa_sha256_sign") {
        let (id, input, exp) = (&case["id"], &case["inputs"], &case["expected"]);
        let key = RsaPrivateKey::from_pem(&ch.file(&input["private_key_file"])).unwrap();
        let message = s(&input["message"]).as_bytes();
        let expected = b64(&exp["signature_b64"]);
        assert_eq!(key.sign_sha256(message), expected, "{id}");
        let cert_key = Certificate::from_pem(&ch.file(&input["certificate_file"]))
            .unwrap()
            .public_key()
            .unwrap();
        if let Some(over) = exp["verify_same_signature_over"].as_object() {
            for (msg, ok) in over {
                assert_eq!(
                    cert_key.verify_sha256(msg.as_bytes(), &expected).is_ok(),
                    ok.as_bool().unwrap(),
                    "{id} over {msg:?}"
                );
            }
        }
        if let Some(ok) = exp["verify_with_certificate"].as_bool() {
            assert_eq!(
                cert_key.verify_sha256(message, &expected).is_ok(),
                ok,
                "{id}"
            );
        }
        if let Some(ok) = exp["verify_with_wrong_public_key"].as_bool() {
            let wrong = RsaPublicKey::from_pem(&ch.file(&input["wrong_public_key_file"])).unwrap();
            assert_eq!(wrong.verify_sha256(message, &expected).is_ok(), ok, "{id}");
        }
    }
}

#[test]
fn wechat_aes_gcm() {
    let Some(ch) = Channel::load("wechat") else {
        return;
    };
    for case in ch.cases("aes_gcm") {
        let (id, input, exp) = (&case["id"], &case["inputs"], &case["expected"]);
        let key_bytes = s(&input["key"]).as_bytes();
        let nonce = s(&input["nonce"]).as_bytes();
        let aad = s(&input["associated_data"]).as_bytes();
        let key = SecretKey32::from_bytes(key_bytes);
        if key_bytes.len() != 32 {
            // We support AES-256 only (real APIv3 keys are 32 bytes). The Go vectors' 16-byte
            // "APIv3 keys" must be refused with a key-length error, whatever the expectation.
            let err = key.unwrap_err();
            assert!(err.reason().contains("32 bytes"), "{id}: {err}");
            continue;
        }
        let key = key.unwrap();
        if let Some(error) = exp["error"].as_str() {
            match error {
                "invalid_base64" => assert!(
                    STANDARD.decode(s(&input["ciphertext_b64"])).is_err(),
                    "{id}"
                ),
                "auth_tag_mismatch" => {
                    let ct = b64(&input["ciphertext_b64"]);
                    assert!(key.decrypt(nonce, aad, &ct).is_err(), "{id}");
                    assert!(
                        payagg_core::crypto::aes_256_gcm_decrypt(
                            key.expose_secret(),
                            nonce,
                            aad,
                            &ct
                        )
                        .is_err()
                    );
                }
                other => panic!("{id}: unexpected error category {other}"),
            }
            continue;
        }
        assert_eq!(exp["key_bits"].as_u64(), Some(256), "{id}");
        let nonce12: &[u8; 12] = nonce.try_into().unwrap();
        if let Some(plaintext) = input["plaintext"].as_str() {
            let ct = key.encrypt(nonce12, aad, plaintext.as_bytes());
            assert_eq!(ct, b64(&exp["ciphertext_b64"]), "{id}");
            assert_eq!(
                payagg_core::crypto::aes_256_gcm_encrypt(
                    key.expose_secret(),
                    nonce12,
                    aad,
                    plaintext.as_bytes()
                ),
                ct
            );
            assert_eq!(
                key.decrypt(nonce, aad, &ct).unwrap(),
                plaintext.as_bytes(),
                "{id}"
            );
        } else {
            let ct = b64(&input["ciphertext_b64"]);
            assert_eq!(
                key.decrypt(nonce, aad, &ct).unwrap(),
                s(&exp["plaintext"]).as_bytes(),
                "{id}"
            );
        }
    }
}

#[test]
fn wechat_rsa_pkcs1v15_decrypt() {
    let Some(ch) = Channel::load("wechat") else {
        return;
    };
    for case in ch.cases("rsa_pkcs1v15_decrypt") {
        let (id, input, exp) = (&case["id"], &case["inputs"], &case["expected"]);
        assert_eq!(s(&input["padding"]), "PKCS1v15");
        let key = RsaPrivateKey::from_pem(&ch.file(&input["private_key_file"])).unwrap();
        let plaintext = key
            .pkcs1v15_decrypt(&b64(&input["ciphertext_b64"]))
            .unwrap();
        assert_eq!(plaintext, s(&exp["plaintext"]).as_bytes(), "{id}");
        // The notes: "MTIzNA==" must fail.
        assert!(
            key.pkcs1v15_decrypt(&STANDARD.decode("MTIzNA==").unwrap())
                .is_err(),
            "{id}"
        );
        // And OAEP round-trips through the same key.
        let ct = key.public_key().oaep_sha1_encrypt(b"plaintext").unwrap();
        assert_eq!(key.oaep_sha1_decrypt(&ct).unwrap(), b"plaintext");
    }
}

#[test]
fn unionpay_cert_serial() {
    let Some(ch) = Channel::load("unionpay") else {
        return;
    };
    let mut checked = 0;
    for case in ch.cases("cert_serial") {
        let (id, input, exp) = (s(&case["id"]), &case["inputs"], &case["expected"]);
        // These two read the signing certificate out of a PKCS#12 (.pfx) file; PKCS#12 support
        // is not in payagg-core yet.
        if matches!(id, "up-pfx-ys-certid" | "up-pfx-phpdemo-certid") {
            assert!(input["pkcs12_file"].is_string(), "{id}");
            continue;
        }
        let cert = Certificate::from_pem(&ch.file(&input["certificate_file"])).unwrap();
        assert_eq!(cert.serial_decimal(), s(&exp["serial_decimal"]), "{id}");
        assert_eq!(cert.subject_rfc4514(), s(&exp["subject_rfc4514"]), "{id}");
        assert_eq!(cert.issuer_rfc4514(), s(&exp["issuer_rfc4514"]), "{id}");
        assert_eq!(
            colon_hex(&cert.fingerprint_sha256()),
            s(&exp["sha256_fingerprint"]),
            "{id}"
        );
        assert_eq!(cert.not_after(), utc(&exp["not_after_utc"]), "{id}");
        checked += 1;
    }
    assert_eq!(checked, 4);
}

#[test]
fn unionpay_sha1_chain() {
    let Some(ch) = Channel::load("unionpay") else {
        return;
    };
    let case = ch.case("up-signer-chain-test");
    let (input, exp) = (&case["inputs"], &case["expected"]);
    let leaf = Certificate::from_pem(&ch.file(&input["leaf_file"])).unwrap();
    let middle = Certificate::from_pem(&ch.file(&input["intermediate_file"])).unwrap();
    let root = Certificate::from_pem(&ch.file(&input["root_file"])).unwrap();
    let at =
        OffsetDateTime::from_unix_timestamp(input["verify_at_unix"].as_i64().unwrap()).unwrap();
    assert_eq!(
        leaf.signature_algorithm_oid(),
        payagg_core::crypto::OID_SHA1_WITH_RSA
    );
    leaf.verify_issued_by(&middle).unwrap();
    middle.verify_issued_by(&root).unwrap();
    root.verify_issued_by(&root).unwrap();
    assert_eq!(leaf.verify_issued_by(&root), Err(SignatureInvalid));
    assert_eq!(leaf.issuer_rfc4514(), middle.subject_rfc4514());
    assert!([&leaf, &middle, &root].iter().all(|c| c.is_valid_at(at)));
    assert!(!leaf.is_valid_at(utc(&Value::from("2025-07-31T01:19:17+00:00"))));
    assert_eq!(leaf.serial_decimal(), s(&exp["serial_decimal"]));
    assert_eq!(leaf.subject_common_name(), Some(s(&exp["cn"])));
    assert_eq!(
        colon_hex(&leaf.fingerprint_sha256()),
        s(&exp["sha256_fingerprint"])
    );
    assert_eq!(leaf.not_before(), utc(&exp["not_before_utc"]));
    assert_eq!(leaf.not_after(), utc(&exp["not_after_utc"]));
    // Production anchors chain the same way.
    let prod_middle =
        Certificate::from_pem(&ch.file(&Value::from("phpdemo_acp_prod_middle.cer"))).unwrap();
    let prod_root =
        Certificate::from_pem(&ch.file(&Value::from("phpdemo_acp_prod_root.cer"))).unwrap();
    prod_middle.verify_issued_by(&prod_root).unwrap();
    assert!(prod_middle.verify_issued_by(&root).is_err());
}

#[test]
fn alipay_cert_public_key() {
    let Some(ch) = Channel::load("alipay") else {
        return;
    };
    for case in ch.cases("cert_public_key") {
        let (id, input, exp) = (&case["id"], &case["inputs"], &case["expected"]);
        let cert = Certificate::from_pem(&ch.file(&input["certificate_file"])).unwrap();
        let key = cert.public_key().unwrap();
        assert_eq!(
            STANDARD.encode(key.spki_der()),
            s(&exp["public_key_spki_b64"]),
            "{id}"
        );
        let reparsed = RsaPublicKey::from_base64_spki(s(&exp["public_key_spki_b64"])).unwrap();
        assert_eq!(reparsed, key, "{id}");
    }
}

/// The building blocks of Alipay's `app_cert_sn`/`alipay_root_cert_sn`: the issuer string and
/// the decimal serial (the MD5 joining itself belongs to payagg-alipay).
#[test]
fn alipay_cert_sn_building_blocks() {
    let Some(ch) = Channel::load("alipay") else {
        return;
    };
    for case in ch.cases("cert_sn") {
        let (id, input, exp) = (&case["id"], &case["inputs"], &case["expected"]);
        if let Some(file) = input.get("certificate_file") {
            let cert = Certificate::from_pem(&ch.file(file)).unwrap();
            assert_eq!(cert.serial_decimal(), s(&exp["serial_decimal"]), "{id}");
            let md5_input = format!("{}{}", cert.issuer_rfc4514(), cert.serial_decimal());
            assert_eq!(md5_input, s(&exp["md5_input"]), "{id}");
            assert_eq!(md5_hex(md5_input.as_bytes()), s(&exp["cert_sn"]), "{id}");
            assert_eq!(cert.not_after(), utc(&exp["not_after_utc"]), "{id}");
        } else {
            let bundle = Certificate::pem_bundle(&ch.file(&input["root_bundle_file"])).unwrap();
            let expected = exp["certificates"].as_array().unwrap();
            assert_eq!(bundle.len(), expected.len(), "{id}");
            for (cert, e) in bundle.iter().zip(expected) {
                assert_eq!(
                    cert.signature_algorithm_oid(),
                    s(&e["signature_algorithm_oid"]),
                    "{id}"
                );
                assert_eq!(cert.serial_decimal(), s(&e["serial_decimal"]), "{id}");
                let md5_input = format!("{}{}", cert.issuer_rfc4514(), cert.serial_decimal());
                assert_eq!(md5_input, s(&e["md5_input"]), "{id}");
                assert_eq!(md5_hex(md5_input.as_bytes()), s(&e["md5"]), "{id}");
            }
        }
    }
}

/// Alipay's bare base64 keys: the PKCS#1 app private key signs exactly as the vectors say and
/// matches its certificate; bare SPKI public keys verify.
#[test]
fn alipay_bare_base64_keys() {
    let Some(ch) = Channel::load("alipay") else {
        return;
    };
    let case = ch.case("ali-v3-1-post");
    let key = RsaPrivateKey::from_pem(&ch.file(&case["inputs"]["private_key_file"])).unwrap();
    let string_to_sign = s(&case["expected"]["string_to_sign"]).as_bytes();
    let expected = b64(&case["expected"]["sign"]);
    assert_eq!(key.sign_sha256(string_to_sign), expected);
    let app_cert = Certificate::from_pem(&ch.file(&Value::from("ys_appPublicCert.crt"))).unwrap();
    assert_eq!(&app_cert.public_key().unwrap(), key.public_key());
    app_cert
        .public_key()
        .unwrap()
        .verify_sha256(string_to_sign, &expected)
        .unwrap();

    let case = ch.case("ali-rsp-gopay-nested");
    let public = RsaPublicKey::from_pem(&ch.file(&case["inputs"]["public_key_file"])).unwrap();
    let content = s(&case["inputs"]["signed_content"]).as_bytes();
    let sig = b64(&case["inputs"]["sign"]);
    assert_eq!(
        public.verify_sha256(content, &sig).is_ok(),
        case["expected"]["signature_valid"].as_bool().unwrap()
    );
    let mut tampered = content.to_vec();
    tampered[10] ^= 1;
    assert_eq!(public.verify_sha256(&tampered, &sig), Err(SignatureInvalid));
    assert!(!hex_upper(&public.fingerprint()).is_empty());
}
