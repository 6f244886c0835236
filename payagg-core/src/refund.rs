//! Refunds.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::channel::Channel;
use crate::error::InvalidInput;
use crate::ids::{ChannelRefundNo, ChannelTradeNo, MerchantOrderNo, MerchantRefundNo};
use crate::money::Money;
use crate::trade::{SubMerchant, TradeRef};

/// Refund part or all of a paid trade.
///
/// Refunds are never retried automatically: on an unknown outcome, query the refund by its
/// [`MerchantRefundNo`] and send the *same* number again only if the channel has no record.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RefundRequest {
    /// The trade to refund.
    pub trade: TradeRef,
    /// The merchant's refund number; reusing it makes the request idempotent.
    pub merchant_refund_no: MerchantRefundNo,
    /// How much to refund.
    pub amount: Money,
    /// The original order total (WeChat requires it).
    pub order_total: Money,
    /// A reason shown to the payer.
    pub reason: Option<String>,
    /// Where the channel posts the refund notification.
    pub notify_url: Option<String>,
    /// The sub-merchant, in partner mode.
    pub sub_merchant: Option<SubMerchant>,
}

impl RefundRequest {
    /// Refund `amount` of a trade whose total was `order_total`.
    ///
    /// # Errors
    /// [`InvalidInput`] when the amount is zero, in another currency than the order, or larger
    /// than the order total.
    pub fn new(
        trade: impl Into<TradeRef>,
        merchant_refund_no: MerchantRefundNo,
        amount: Money,
        order_total: Money,
    ) -> Result<Self, InvalidInput> {
        Money::check_refundable(order_total, Money::zero(order_total.currency()), amount)?;
        Ok(Self {
            trade: trade.into(),
            merchant_refund_no,
            amount,
            order_total,
            reason: None,
            notify_url: None,
            sub_merchant: None,
        })
    }
    /// Set the reason.
    #[must_use]
    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }
    /// Set the notification URL.
    #[must_use]
    pub fn notify_url(mut self, url: impl Into<String>) -> Self {
        self.notify_url = Some(url.into());
        self
    }
    /// In partner mode, for this sub-merchant.
    #[must_use]
    pub fn sub_merchant(mut self, sub: SubMerchant) -> Self {
        self.sub_merchant = Some(sub);
        self
    }
}

/// Query one refund.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RefundQuery {
    /// The merchant's refund number.
    pub merchant_refund_no: MerchantRefundNo,
    /// The trade it belongs to (Alipay requires it; WeChat ignores it).
    pub trade: Option<TradeRef>,
    /// The sub-merchant, in partner mode.
    pub sub_merchant: Option<SubMerchant>,
}

impl RefundQuery {
    /// Query by refund number.
    #[must_use]
    pub fn new(merchant_refund_no: MerchantRefundNo) -> Self {
        Self {
            merchant_refund_no,
            trade: None,
            sub_merchant: None,
        }
    }
    /// Name the trade too.
    #[must_use]
    pub fn trade(mut self, trade: impl Into<TradeRef>) -> Self {
        self.trade = Some(trade.into());
        self
    }
    /// In partner mode, for this sub-merchant.
    #[must_use]
    pub fn sub_merchant(mut self, sub: SubMerchant) -> Self {
        self.sub_merchant = Some(sub);
        self
    }
}

/// The normalized state of a refund.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RefundStatus {
    /// Accepted, money not yet returned.
    Processing,
    /// Money returned.
    Success,
    /// Closed without refunding.
    Closed,
    /// Stuck (for example the payer's card was cancelled); needs manual handling.
    Abnormal,
    /// Refused.
    Failed,
}

impl fmt::Display for RefundStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RefundStatus::Processing => "processing",
            RefundStatus::Success => "success",
            RefundStatus::Closed => "closed",
            RefundStatus::Abnormal => "abnormal",
            RefundStatus::Failed => "failed",
        })
    }
}

/// A refund as the channel reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Refund {
    /// The channel.
    pub channel: Channel,
    /// The merchant's refund number.
    pub merchant_refund_no: MerchantRefundNo,
    /// The channel's refund number.
    pub channel_refund_no: Option<ChannelRefundNo>,
    /// The merchant's order number.
    pub merchant_order_no: Option<MerchantOrderNo>,
    /// The channel's trade number.
    pub channel_trade_no: Option<ChannelTradeNo>,
    /// The refunded amount.
    pub amount: Money,
    /// Normalized status.
    pub status: RefundStatus,
    /// The channel's status word, verbatim.
    pub raw_status: String,
    /// When the money was returned.
    #[serde(with = "time::serde::rfc3339::option")]
    pub succeeded_at: Option<OffsetDateTime>,
}

impl Refund {
    /// A refund with the required fields.
    #[must_use]
    pub fn new(
        channel: Channel,
        merchant_refund_no: MerchantRefundNo,
        amount: Money,
        status: RefundStatus,
        raw_status: impl Into<String>,
    ) -> Self {
        Self {
            channel,
            merchant_refund_no,
            channel_refund_no: None,
            merchant_order_no: None,
            channel_trade_no: None,
            amount,
            status,
            raw_status: raw_status.into(),
            succeeded_at: None,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn refund_larger_than_total_is_rejected() {
        let t = MerchantOrderNo::new("A1").unwrap();
        let r = MerchantRefundNo::new("R1").unwrap();
        assert!(RefundRequest::new(t.clone(), r.clone(), Money::cny(50), Money::cny(100)).is_ok());
        let e = RefundRequest::new(t, r, Money::cny(101), Money::cny(100)).unwrap_err();
        assert_eq!(e.field(), "refund_amount");
    }
}
