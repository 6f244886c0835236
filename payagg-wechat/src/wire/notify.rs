//! Callback (notification) envelope and the decrypted refund resource (brief §5.2).
//! The decrypted transaction resource is [`super::Transaction`].

use serde::{Deserialize, Serialize};

use super::refund::RefundAmount;

/// The JSON body WeChat posts to `notify_url`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifyEnvelope {
    /// The notification id (for de-duplication).
    pub id: String,
    /// RFC 3339.
    #[serde(default)]
    pub create_time: String,
    /// `encrypt-resource`.
    #[serde(default)]
    pub resource_type: String,
    /// `TRANSACTION.SUCCESS`, `REFUND.SUCCESS`, …
    pub event_type: String,
    /// Human-readable summary.
    #[serde(default)]
    pub summary: String,
    /// The encrypted payload.
    pub resource: EncryptedResource,
}

/// An AEAD_AES_256_GCM-encrypted resource (callbacks, platform certificates).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncryptedResource {
    /// `transaction`, `refund`, `mch_payment`… (absent in certificate downloads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_type: Option<String>,
    /// `AEAD_AES_256_GCM`.
    pub algorithm: String,
    /// base64(ciphertext ‖ 16-byte tag).
    pub ciphertext: String,
    /// The AAD, ASCII; may be empty.
    #[serde(default)]
    pub associated_data: String,
    /// The 12-character nonce, ASCII.
    pub nonce: String,
}

/// The decrypted resource of a `REFUND.*` notification. Note `refund_status`, not `status`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundNotification {
    /// Direct: the merchant id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mchid: Option<String>,
    /// Partner: the service provider's merchant id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sp_mchid: Option<String>,
    /// Partner: the sub-merchant's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_mchid: Option<String>,
    /// The merchant's order number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_trade_no: Option<String>,
    /// WeChat's transaction id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    /// The merchant's refund number.
    pub out_refund_no: String,
    /// WeChat's refund id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_id: Option<String>,
    /// `SUCCESS`, `CLOSED`, `ABNORMAL`.
    pub refund_status: String,
    /// RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_time: Option<String>,
    /// Where the money went back to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_received_account: Option<String>,
    /// The amounts.
    pub amount: RefundAmount,
}
