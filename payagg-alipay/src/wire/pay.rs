//! Payment creation: `alipay.trade.page.pay` / `wap.pay` / `app.pay` (no server call),
//! `alipay.trade.precreate` (QR code) and `alipay.trade.pay` (payment code), brief §4.1-4.3.

use serde::{Deserialize, Serialize};

use super::{FundBill, ResponseStatus, lenient};

/// `biz_content` of `alipay.trade.page.pay` (`product_code=FAST_INSTANT_TRADE_PAY`),
/// `alipay.trade.wap.pay` (`QUICK_WAP_WAY`) and `alipay.trade.app.pay`
/// (`QUICK_MSECURITY_PAY`). Field order is the serialization order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PagePayContent {
    /// The merchant's order number (≤64, letters, digits, underscore).
    pub out_trade_no: String,
    /// Amount in yuan, two decimals.
    #[serde(deserialize_with = "lenient::string")]
    pub total_amount: String,
    /// What is bought (no `/ = &`).
    pub subject: String,
    /// The product code of the scene.
    pub product_code: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Absolute expiry, `yyyy-MM-dd HH:mm:ss` Beijing time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_expire: Option<String>,
    /// Relative expiry (`1m`–`15d`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_express: Option<String>,
    /// Pass-back data echoed in the notification (URL-encoded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passback_params: Option<String>,
    /// WAP: where the cashier's "back" button goes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quit_url: Option<String>,
    /// PC: QR display mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qr_pay_mode: Option<String>,
}

/// `biz_content` of `alipay.trade.wap.pay` (same fields as [`PagePayContent`]).
pub type WapPayContent = PagePayContent;
/// `biz_content` of `alipay.trade.app.pay` (same fields as [`PagePayContent`]).
pub type AppPayContent = PagePayContent;

/// `biz_content` of `alipay.trade.precreate`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrecreateContent {
    /// The merchant's order number.
    pub out_trade_no: String,
    /// Amount in yuan.
    #[serde(deserialize_with = "lenient::string")]
    pub total_amount: String,
    /// What is bought.
    pub subject: String,
    /// `FACE_TO_FACE_PAYMENT` (default when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_code: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Store id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_id: Option<String>,
    /// Operator id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator_id: Option<String>,
    /// Terminal id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminal_id: Option<String>,
    /// Absolute expiry (wins over `timeout_express`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_expire: Option<String>,
    /// Relative expiry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_express: Option<String>,
}

/// `alipay_trade_precreate_response`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrecreateResponse {
    /// Status fields.
    #[serde(flatten)]
    pub status: ResponseStatus,
    /// The merchant's order number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_trade_no: Option<String>,
    /// The QR code content (valid 2 hours).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qr_code: Option<String>,
    /// Share code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_code: Option<String>,
}

/// `biz_content` of `alipay.trade.pay` (payment code).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TradePayContent {
    /// The merchant's order number.
    pub out_trade_no: String,
    /// `bar_code` (default) or `security_code` (face).
    pub scene: String,
    /// The buyer's payment code.
    pub auth_code: String,
    /// Amount in yuan.
    #[serde(deserialize_with = "lenient::string")]
    pub total_amount: String,
    /// What is bought.
    pub subject: String,
    /// `FACE_TO_FACE_PAYMENT` (default when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_code: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Store id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_id: Option<String>,
    /// Operator id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator_id: Option<String>,
    /// Terminal id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminal_id: Option<String>,
    /// Relative expiry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_express: Option<String>,
    /// Extra response parts (`fund_bill_list`, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub query_options: Vec<String>,
}

/// `alipay_trade_pay_response`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TradePayResponse {
    /// Status fields (`10000` paid, `10003` buyer must confirm).
    #[serde(flatten)]
    pub status: ResponseStatus,
    /// Alipay's trade number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trade_no: Option<String>,
    /// The merchant's order number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_trade_no: Option<String>,
    /// Masked buyer account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_logon_id: Option<String>,
    /// Buyer user id (2088…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_user_id: Option<String>,
    /// Buyer open id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_open_id: Option<String>,
    /// Trade amount.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub total_amount: Option<String>,
    /// Amount received by the merchant.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub receipt_amount: Option<String>,
    /// Amount paid by the buyer.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub buyer_pay_amount: Option<String>,
    /// Paid with points.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub point_amount: Option<String>,
    /// Invoiceable amount.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub invoice_amount: Option<String>,
    /// Payment time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gmt_payment: Option<String>,
    /// Funding sources.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fund_bill_list: Vec<FundBill>,
    /// Store name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_name: Option<String>,
}
