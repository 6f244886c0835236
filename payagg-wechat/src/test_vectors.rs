//! Loads the shared conformance vectors (unit tests only), found by the workspace's one rule
//! ([`payagg_core::test_util::vectors_dir`]: `PAYAGG_VECTORS`, else `../shared/vectors`
//! beside the workspace).
//!
//! Neither there: the caller skips with a message. A missing file: a test failure.

use std::path::PathBuf;

/// The WeChat vector folder, or `None` (after saying why) when there are no vectors.
pub(crate) fn dir(test: &str) -> Option<PathBuf> {
    payagg_core::test_util::vectors_dir(env!("CARGO_MANIFEST_DIR"), test).map(|d| d.join("wechat"))
}

/// Every case of `kind`.
#[allow(clippy::expect_used)]
pub(crate) fn cases(test: &str, kind: &str) -> Option<(PathBuf, Vec<serde_json::Value>)> {
    let dir = dir(test)?;
    let path = dir.join("vectors.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let all: serde_json::Value = serde_json::from_str(&text).expect("vectors.json is JSON");
    let cases: Vec<serde_json::Value> = all["cases"]
        .as_array()
        .expect("cases array")
        .iter()
        .filter(|c| c["kind"] == kind)
        .cloned()
        .collect();
    assert!(!cases.is_empty(), "no {kind} cases in {}", path.display());
    Some((dir, cases))
}

/// A file of the vector folder as text.
pub(crate) fn file(dir: &std::path::Path, name: &str) -> String {
    let p = dir.join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A string field.
#[allow(clippy::expect_used)]
pub(crate) fn s<'a>(v: &'a serde_json::Value, path: &str) -> &'a str {
    path.split('.')
        .fold(v, |v, k| &v[k])
        .as_str()
        .unwrap_or_else(|| panic!("{path} missing"))
}

/// AES-128-GCM, only for the wechatpay-go vectors and their 16-byte "APIv3 keys".
#[allow(clippy::unwrap_used)]
pub(crate) fn aes128(
    key: &str,
    r: &crate::wire::EncryptedResource,
) -> Result<Vec<u8>, payagg_core::error::VerificationError> {
    use aes_gcm::aead::{Aead, KeyInit, Payload};
    use base64::Engine as _;
    let cipher = aes_gcm::Aes128Gcm::new_from_slice(key.as_bytes()).unwrap();
    let ct = base64::engine::general_purpose::STANDARD
        .decode(&r.ciphertext)
        .unwrap();
    cipher
        .decrypt(
            aes_gcm::Nonce::from_slice(r.nonce.as_bytes()),
            Payload {
                msg: &ct,
                aad: r.associated_data.as_bytes(),
            },
        )
        .map_err(|_| {
            payagg_core::error::VerificationError::new(
                payagg_core::Channel::Wechat,
                payagg_core::error::VerificationKind::Decryption,
                "aes-128-gcm",
            )
        })
}
