//! `alipay.trade.query`, `alipay.trade.close`, `alipay.trade.cancel` (brief §4.4-4.6).

use serde::{Deserialize, Serialize};

use super::{ResponseStatus, lenient};

/// `biz_content` of `alipay.trade.query` (`trade_no` wins when both are given).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TradeQueryContent {
    /// The merchant's order number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_trade_no: Option<String>,
    /// Alipay's trade number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trade_no: Option<String>,
    /// Extra response parts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub query_options: Vec<String>,
}

/// One funding source of a trade.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FundBill {
    /// Channel (`ALIPAYACCOUNT`, `PCREDIT`, …). Notifications spell the key `fundChannel`.
    #[serde(alias = "fundChannel", default)]
    pub fund_channel: String,
    /// Amount.
    #[serde(default, deserialize_with = "lenient::string")]
    pub amount: String,
    /// Real amount.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub real_amount: Option<String>,
}

/// `alipay_trade_query_response`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TradeQueryResponse {
    /// Status fields.
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
    /// `WAIT_BUYER_PAY`, `TRADE_CLOSED`, `TRADE_SUCCESS`, `TRADE_FINISHED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trade_status: Option<String>,
    /// Trade amount.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub total_amount: Option<String>,
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
    /// Amount received by the merchant.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub receipt_amount: Option<String>,
    /// When the money went to the seller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_pay_date: Option<String>,
    /// Buyer user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_user_id: Option<String>,
    /// Buyer open id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_open_id: Option<String>,
    /// Store id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_id: Option<String>,
    /// Funding sources.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fund_bill_list: Vec<FundBill>,
    /// Pass-back data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passback_params: Option<String>,
}

/// `biz_content` of `alipay.trade.close`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TradeCloseContent {
    /// The merchant's order number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_trade_no: Option<String>,
    /// Alipay's trade number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trade_no: Option<String>,
    /// Operator id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator_id: Option<String>,
}

/// `alipay_trade_close_response`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TradeCloseResponse {
    /// Status fields.
    #[serde(flatten)]
    pub status: ResponseStatus,
    /// Alipay's trade number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trade_no: Option<String>,
    /// The merchant's order number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_trade_no: Option<String>,
}

/// `biz_content` of `alipay.trade.cancel`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TradeCancelContent {
    /// The merchant's order number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_trade_no: Option<String>,
    /// Alipay's trade number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trade_no: Option<String>,
}

/// `alipay_trade_cancel_response`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TradeCancelResponse {
    /// Status fields.
    #[serde(flatten)]
    pub status: ResponseStatus,
    /// Alipay's trade number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trade_no: Option<String>,
    /// The merchant's order number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_trade_no: Option<String>,
    /// `Y`: call cancel again; `N`: done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_flag: Option<String>,
    /// `close` (was unpaid) or `refund` (was paid).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
}
