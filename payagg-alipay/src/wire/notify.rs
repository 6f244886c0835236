//! Asynchronous notifications and return-URL parameters (brief §6). Forms, not JSON: use
//! [`TradeNotification::from_params`] / [`TradeNotification::to_params`].

use serde::{Deserialize, Serialize};

/// A trade notification (`notify_type=trade_status_sync`), every field as received.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TradeNotification {
    /// Notification time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_time: Option<String>,
    /// `trade_status_sync` for trade notifications.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_type: Option<String>,
    /// Notification id (idempotency key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_id: Option<String>,
    /// Charset of the form (`utf-8`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charset: Option<String>,
    /// `1.0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// `RSA2` / `RSA`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_type: Option<String>,
    /// The signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign: Option<String>,
    /// The app the trade belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    /// The authorizing app (partner mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_app_id: Option<String>,
    /// Alipay's trade number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trade_no: Option<String>,
    /// The merchant's order number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_trade_no: Option<String>,
    /// Refund request number (refund notifications).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_biz_no: Option<String>,
    /// Buyer user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_id: Option<String>,
    /// Buyer open id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_open_id: Option<String>,
    /// Masked buyer account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_logon_id: Option<String>,
    /// Seller user id (2088…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seller_id: Option<String>,
    /// Seller account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seller_email: Option<String>,
    /// `TRADE_SUCCESS`, `TRADE_FINISHED`, `TRADE_CLOSED` (`WAIT_BUYER_PAY` not by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trade_status: Option<String>,
    /// Trade amount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_amount: Option<String>,
    /// Amount received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt_amount: Option<String>,
    /// Invoiceable amount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_amount: Option<String>,
    /// Paid by the buyer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buyer_pay_amount: Option<String>,
    /// Paid with points.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub point_amount: Option<String>,
    /// Cumulative refunded amount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_fee: Option<String>,
    /// Subject.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Creation time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gmt_create: Option<String>,
    /// Payment time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gmt_payment: Option<String>,
    /// Refund time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gmt_refund: Option<String>,
    /// Close time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gmt_close: Option<String>,
    /// Funding sources, a JSON string signed verbatim (key `fundChannel`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fund_bill_list: Option<String>,
    /// Vouchers, a JSON string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voucher_detail_list: Option<String>,
    /// Pass-back data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passback_params: Option<String>,
}

fn to_params<T: Serialize>(value: &T) -> Vec<(String, String)> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::Object(map)) => map
            .into_iter()
            .filter_map(|(k, v)| match v {
                serde_json::Value::String(s) => Some((k, s)),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn from_params<T: for<'de> Deserialize<'de> + Default>(params: &[(String, String)]) -> T {
    let map: serde_json::Map<String, serde_json::Value> = params
        .iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect();
    serde_json::from_value(serde_json::Value::Object(map)).unwrap_or_default()
}

impl TradeNotification {
    /// The form fields (names and values, sorted by name), ready to sign and URL-encode.
    #[must_use]
    pub fn to_params(&self) -> Vec<(String, String)> {
        to_params(self)
    }

    /// Reads the known fields from decoded form fields (unknown fields are ignored).
    #[must_use]
    pub fn from_params(params: &[(String, String)]) -> Self {
        from_params(params)
    }
}

/// The parameters of the browser's return-URL GET after page/wap pay (no `trade_status`:
/// display only).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnParams {
    /// `utf-8`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charset: Option<String>,
    /// `alipay.trade.page.pay.return` / `alipay.trade.wap.pay.return`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The merchant's order number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_trade_no: Option<String>,
    /// Alipay's trade number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trade_no: Option<String>,
    /// Trade amount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_amount: Option<String>,
    /// The app.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    /// The authorizing app.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_app_id: Option<String>,
    /// Seller user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seller_id: Option<String>,
    /// `1.0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// `RSA2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign_type: Option<String>,
    /// The signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sign: Option<String>,
    /// Time of the redirect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
}

impl ReturnParams {
    /// The query parameters (sorted by name), ready to sign and URL-encode.
    #[must_use]
    pub fn to_params(&self) -> Vec<(String, String)> {
        to_params(self)
    }

    /// Reads the known fields from decoded query parameters.
    #[must_use]
    pub fn from_params(params: &[(String, String)]) -> Self {
        from_params(params)
    }
}

/// The `biz_content` of the gateway message `alipay.fund.trans.order.changed` (a hint: confirm
/// with `alipay.fund.trans.common.query`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FundTransOrderChanged {
    /// The merchant's transfer number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out_biz_no: Option<String>,
    /// Alipay's transfer order id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    /// Alipay's fund order id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pay_fund_order_id: Option<String>,
    /// `SUCCESS`, `FAIL`, `DEALING`, `REFUND`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Amount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trans_amount: Option<String>,
    /// Failure code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// Failure reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_reason: Option<String>,
}
