//! `alipay.fund.trans.uni.transfer` and `alipay.fund.trans.common.query` (brief §4.9-4.10).

use serde::{Deserialize, Serialize};

use super::{ResponseStatus, lenient};

/// The payee of a transfer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayeeInfo {
    /// The identity (user id, logon id, open id).
    pub identity: String,
    /// `ALIPAY_USER_ID`, `ALIPAY_LOGON_ID` (then `name` is required), `ALIPAY_OPEN_ID`, …
    pub identity_type: String,
    /// Real name (checked when present).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// `biz_content` of `alipay.fund.trans.uni.transfer`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferContent {
    /// The merchant's unique transfer number (keep it on retry).
    pub out_biz_no: String,
    /// Amount in yuan (`[0.1, 100000000]` for `TRANS_ACCOUNT_NO_PWD`).
    #[serde(deserialize_with = "lenient::string")]
    pub trans_amount: String,
    /// `TRANS_ACCOUNT_NO_PWD`.
    pub product_code: String,
    /// `DIRECT_TRANSFER`.
    pub biz_scene: String,
    /// Title shown to the payee.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_title: Option<String>,
    /// The payee.
    pub payee_info: PayeeInfo,
    /// Remark.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remark: Option<String>,
    /// JSON string of business parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_params: Option<String>,
}

/// `alipay_fund_trans_uni_transfer_response`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferResponse {
    /// Status fields.
    #[serde(flatten)]
    pub status: ResponseStatus,
    /// The merchant's transfer number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_biz_no: Option<String>,
    /// Alipay's transfer order id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    /// Alipay's fund order id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pay_fund_order_id: Option<String>,
    /// `SUCCESS`, `FAIL`, `DEALING`, `REFUND` (the last two only for bank cards).
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "status")]
    pub trans_status: Option<String>,
    /// Transfer time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trans_date: Option<String>,
}

/// `biz_content` of `alipay.fund.trans.common.query`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferQueryContent {
    /// `TRANS_ACCOUNT_NO_PWD` (required with `out_biz_no`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_code: Option<String>,
    /// `DIRECT_TRANSFER` (required with `out_biz_no`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub biz_scene: Option<String>,
    /// The merchant's transfer number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_biz_no: Option<String>,
    /// Alipay's transfer order id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    /// Alipay's fund order id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pay_fund_order_id: Option<String>,
}

/// `alipay_fund_trans_common_query_response`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransferQueryResponse {
    /// Status fields.
    #[serde(flatten)]
    pub status: ResponseStatus,
    /// Alipay's transfer order id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    /// Alipay's fund order id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pay_fund_order_id: Option<String>,
    /// The merchant's transfer number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_biz_no: Option<String>,
    /// Amount (only when `SUCCESS`).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub trans_amount: Option<String>,
    /// `SUCCESS`, `WAIT_PAY`, `CLOSED`, `FAIL`, `DEALING`, `REFUND`.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "status")]
    pub trans_status: Option<String>,
    /// Payment time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pay_date: Option<String>,
    /// Failure code (`FAIL`/`REFUND`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// Failure reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_reason: Option<String>,
}
