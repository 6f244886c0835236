//! APIv2 `sign` pinned to the shared `v2_sign` vectors (`$PAYAGG_VECTORS/wechat/vectors.json`),
//! plus the official example inline so the pin holds without the vectors too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use payagg_core::crypto::md5_hex_upper;
use payagg_wechat::micropay::{SignType, sign, string_to_sign, verify};
use secrecy::SecretString;
use serde_json::Value;

fn map(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect()
}

#[test]
fn official_example_inline() {
    let p: BTreeMap<String, String> = [
        ("appid", "wxd930ea5d5a258f4f"),
        ("mch_id", "10000100"),
        ("device_info", "1000"),
        ("body", "test"),
        ("nonce_str", "ibuaiVcKdpRxkhJA"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let key = SecretString::from("192006250b4c09247ec02edce69f6a2d");
    assert_eq!(
        sign(&p, &key, SignType::Md5),
        "9A0A8659F005D6984697E2CA0A9CF3B7"
    );
    assert_eq!(
        sign(&p, &key, SignType::HmacSha256),
        "6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6"
    );
}

#[test]
fn v2_sign_vectors() {
    let Some(dir) =
        payagg_core::test_util::vectors_dir(env!("CARGO_MANIFEST_DIR"), "the v2_sign vectors")
    else {
        return;
    };
    let path = dir.join("wechat/vectors.json");
    let raw = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("the vector file {} cannot be read: {e}", path.display()));
    let v: Value = serde_json::from_slice(&raw).unwrap();
    let cases: Vec<&Value> = v["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "v2_sign")
        .collect();
    assert!(
        cases.len() >= 5,
        "expected the v2_sign cases, found {}",
        cases.len()
    );
    for c in cases {
        let id = c["id"].as_str().unwrap();
        let exp = &c["expected"];
        if let Some(params) = c["inputs"].get("params") {
            let mut p = map(params);
            let key = SecretString::from(c["inputs"]["key"].as_str().unwrap().to_owned());
            assert_eq!(
                string_to_sign(&p),
                exp["string_a"].as_str().unwrap(),
                "{id}"
            );
            let md5 = sign(&p, &key, SignType::Md5);
            assert_eq!(md5, exp["md5_upper"].as_str().unwrap(), "{id}");
            let hmac = sign(&p, &key, SignType::HmacSha256);
            assert_eq!(hmac, exp["hmac_sha256_upper"].as_str().unwrap(), "{id}");
            // The same value verifies as a response sign, in either case; a flipped one does not.
            p.insert("sign".into(), md5.to_lowercase());
            verify(&p, &key, SignType::Md5).unwrap();
            assert!(verify(&p, &key, SignType::HmacSha256).is_err(), "{id}");
            p.insert("sign".into(), hmac);
            verify(&p, &key, SignType::HmacSha256).unwrap();
            let first = p["appid"].clone();
            p.insert("appid".into(), format!("{first}x"));
            assert!(verify(&p, &key, SignType::HmacSha256).is_err(), "{id}");
        } else {
            // String-only cases pin the MD5 of the assembled string (empty params → "&key=...").
            let s = c["inputs"]["string_sign_temp"].as_str().unwrap();
            assert_eq!(
                md5_hex_upper(s.as_bytes()),
                exp["md5_upper"].as_str().unwrap(),
                "{id}"
            );
            if let Some(key) = s.strip_prefix("&key=") {
                let empty = BTreeMap::new();
                assert_eq!(
                    sign(&empty, &SecretString::from(key.to_owned()), SignType::Md5),
                    exp["md5_upper"].as_str().unwrap(),
                    "{id}"
                );
            }
        }
    }
}
