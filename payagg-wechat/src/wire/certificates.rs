//! `GET /v3/certificates` (brief §2.8).

use serde::{Deserialize, Serialize};

use super::notify::EncryptedResource;

/// The answer: every platform certificate currently valid.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificatesResponse {
    /// The certificates.
    pub data: Vec<CertificateItem>,
}

/// One encrypted platform certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateItem {
    /// Upper-case hex serial.
    pub serial_no: String,
    /// RFC 3339.
    pub effective_time: String,
    /// RFC 3339.
    pub expire_time: String,
    /// The PEM, encrypted with the APIv3 key (AAD `certificate`).
    pub encrypt_certificate: EncryptedResource,
}
