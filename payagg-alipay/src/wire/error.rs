//! The common status fields of every response node and the v3 error body.

use serde::{Deserialize, Serialize};

/// `code`, `msg`, `sub_code`, `sub_msg`: present in every classic response node (and the
/// whole of an `error_response`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseStatus {
    /// Gateway code: `10000` success, `10003` in progress, `20000` unknown, `40004` business
    /// failure, …
    #[serde(default)]
    pub code: String,
    /// Gateway message (`Success`, `Business Failed`, …).
    #[serde(default)]
    pub msg: String,
    /// Business error code (`ACQ.TRADE_NOT_EXIST`, …). Empty means success to the official SDKs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_code: Option<String>,
    /// Business error message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_msg: Option<String>,
}

impl ResponseStatus {
    /// `10000` / `Success`.
    #[must_use]
    pub fn success() -> Self {
        Self {
            code: "10000".into(),
            msg: "Success".into(),
            ..Self::default()
        }
    }

    /// A failure with a code, message and sub code.
    #[must_use]
    pub fn failure(code: &str, msg: &str, sub_code: &str, sub_msg: &str) -> Self {
        Self {
            code: code.into(),
            msg: msg.into(),
            sub_code: Some(sub_code.into()),
            sub_msg: Some(sub_msg.into()),
        }
    }

    /// `40004` / `Business Failed` with a sub code.
    #[must_use]
    pub fn business_failed(sub_code: &str, sub_msg: &str) -> Self {
        Self::failure("40004", "Business Failed", sub_code, sub_msg)
    }

    /// Whether the official SDKs call this a success: `sub_code` empty (so `10003` counts).
    #[must_use]
    pub fn is_success(&self) -> bool {
        self.sub_code.as_deref().is_none_or(str::is_empty)
    }
}

/// A v3 REST error body: `{"code":"ACQ.TRADE_NOT_EXIST","message":"交易不存在","links":[…]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct V3ErrorBody {
    /// The error code.
    #[serde(default)]
    pub code: String,
    /// The message.
    #[serde(default)]
    pub message: String,
    /// Help links.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "links"
    )]
    pub links: Vec<V3ErrorLink>,
}

/// One help link of a v3 error body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct V3ErrorLink {
    /// URL.
    #[serde(default)]
    pub link: String,
    /// Description.
    #[serde(default)]
    pub desc: String,
}

fn links<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<V3ErrorLink>, D::Error> {
    // Some SDKs type `links` as a string: accept anything, keep what parses.
    let v = serde_json::Value::deserialize(d)?;
    Ok(serde_json::from_value(v).unwrap_or_default())
}
