//! Loads the shared conformance vectors (unit tests only), found by the workspace's one rule
//! ([`payagg_core::test_util::vectors_dir`]: `PAYAGG_VECTORS`, else `../shared/vectors`
//! beside the workspace).
//!
//! Neither there: the caller skips with a message. A missing file: a test failure.

use std::path::PathBuf;

/// The UnionPay vector folder, or `None` (after saying why) when there are no vectors.
pub(crate) fn dir(test: &str) -> Option<PathBuf> {
    payagg_core::test_util::vectors_dir(env!("CARGO_MANIFEST_DIR"), test)
        .map(|d| d.join("unionpay"))
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
#[allow(dead_code)]
pub(crate) fn file(dir: &std::path::Path, name: &str) -> String {
    let p = dir.join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// A string field by dotted path.
pub(crate) fn s<'a>(v: &'a serde_json::Value, path: &str) -> &'a str {
    path.split('.')
        .fold(v, |v, k| &v[k])
        .as_str()
        .unwrap_or_else(|| panic!("{path} missing"))
}
