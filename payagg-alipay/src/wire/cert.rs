//! `alipay.open.app.alipaycert.download` (certificate rotation, brief §3.4, §4.12).

use serde::{Deserialize, Serialize};

use super::ResponseStatus;

/// Request: which Alipay certificate to download.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertDownloadContent {
    /// The SN seen in `alipay_cert_sn`.
    pub alipay_cert_sn: String,
}

/// Response node.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertDownloadResponse {
    /// Status fields.
    #[serde(flatten)]
    pub status: ResponseStatus,
    /// base64 of the certificate's PEM text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alipay_cert_content: Option<String>,
}
