//! The error body of every non-2xx answer (brief §3.8).

use serde::{Deserialize, Serialize};

/// `{"code": "...", "message": "...", "detail"?: {...}}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error code (`PARAM_ERROR`, `SYSTEM_ERROR`, …).
    pub code: String,
    /// The message (may vary for one code; dispatch on status and code only).
    #[serde(default)]
    pub message: String,
    /// Optional detail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<ErrorDetail>,
}

/// `detail` of an error body. Extra members (`sign_information`) are kept as JSON.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// JSON pointer or parameter name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The offending value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<serde_json::Value>,
    /// What is wrong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue: Option<String>,
    /// `body`, `query`, `path`, `authorization`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Anything else.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}
