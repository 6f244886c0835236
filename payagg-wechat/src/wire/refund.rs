//! Refunds: `POST /v3/refund/domestic/refunds`, `GET …/refunds/{out_refund_no}` (brief §3.4).

use serde::{Deserialize, Serialize};

/// The body of a refund request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundCreateRequest {
    /// Partner: the sub-merchant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_mchid: Option<String>,
    /// WeChat's transaction id (one of this and `out_trade_no`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    /// The merchant's order number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_trade_no: Option<String>,
    /// The merchant's refund number (idempotency key).
    pub out_refund_no: String,
    /// Reason shown to the payer (≤80 chars).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Where the refund notification goes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_url: Option<String>,
    /// `AVAILABLE` (or `UNSETTLED`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub funds_account: Option<String>,
    /// The amounts.
    pub amount: RefundCreateAmount,
}

/// `amount` of a refund request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundCreateAmount {
    /// How much to refund, fen.
    pub refund: i64,
    /// Funding sources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Vec<RefundAmountFrom>>,
    /// The original order total, fen.
    pub total: i64,
    /// `CNY`.
    pub currency: String,
}

/// One funding source of a refund.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundAmountFrom {
    /// `AVAILABLE` or `UNAVAILABLE`.
    pub account: String,
    /// Fen.
    pub amount: i64,
}

/// A refund, as returned by create and query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundResponse {
    /// WeChat's refund id.
    pub refund_id: String,
    /// The merchant's refund number.
    pub out_refund_no: String,
    /// WeChat's transaction id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    /// The merchant's order number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_trade_no: Option<String>,
    /// `ORIGINAL`, `BALANCE`, `OTHER_BALANCE`, `OTHER_BANKCARD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// Where the money goes back to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_received_account: Option<String>,
    /// When the refund succeeded, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_time: Option<String>,
    /// When it was created, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_time: Option<String>,
    /// `SUCCESS`, `CLOSED`, `PROCESSING`, `ABNORMAL`.
    pub status: String,
    /// Funds account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub funds_account: Option<String>,
    /// The amounts.
    pub amount: RefundAmount,
}

/// `amount` of a refund answer or refund notification.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefundAmount {
    /// The order total, fen.
    #[serde(default)]
    pub total: i64,
    /// The refund, fen.
    pub refund: i64,
    /// Funding sources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Vec<RefundAmountFrom>>,
    /// What the payer paid, fen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_total: Option<i64>,
    /// What the payer gets back, fen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_refund: Option<i64>,
    /// Settlement refund, fen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settlement_refund: Option<i64>,
    /// Settlement total, fen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settlement_total: Option<i64>,
    /// Discount refunded, fen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount_refund: Option<i64>,
    /// `CNY`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Fee refunded, fen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_fee: Option<i64>,
}
