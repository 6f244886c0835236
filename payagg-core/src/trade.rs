//! Trades (orders at a channel), their normalized status, and queries.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::channel::Channel;
use crate::error::{VerificationError, VerificationKind};
use crate::ids::{AppId, ChannelTradeNo, MerchantId, MerchantOrderNo};
use crate::money::Money;
use crate::sensitive::Sensitive;

/// The normalized state of a trade. The channel's own word is kept in [`Trade::raw_status`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TradeStatus {
    /// Created, not paid yet (WeChat `NOTPAY`, Alipay `WAIT_BUYER_PAY`).
    NotPaid,
    /// The payer is confirming (password entry on a payment code).
    UserPaying,
    /// Paid.
    Success,
    /// Paid, then refunded in full.
    Refunded,
    /// Paid, then refunded in part.
    PartiallyRefunded,
    /// Closed without payment (or Alipay `TRADE_CLOSED` after a full refund).
    Closed,
    /// Reversed / cancelled by the merchant (payment-code flows).
    Revoked,
    /// Payment failed.
    Failed,
    /// Paid and final: no more refunds possible (Alipay `TRADE_FINISHED`).
    Finished,
}

impl TradeStatus {
    /// Money was received (possibly refunded since).
    #[must_use]
    pub fn is_paid(self) -> bool {
        matches!(
            self,
            TradeStatus::Success
                | TradeStatus::Refunded
                | TradeStatus::PartiallyRefunded
                | TradeStatus::Finished
        )
    }

    /// No further payment can happen on this order.
    #[must_use]
    pub fn is_final(self) -> bool {
        !matches!(self, TradeStatus::NotPaid | TradeStatus::UserPaying)
    }
}

impl fmt::Display for TradeStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TradeStatus::NotPaid => "not_paid",
            TradeStatus::UserPaying => "user_paying",
            TradeStatus::Success => "success",
            TradeStatus::Refunded => "refunded",
            TradeStatus::PartiallyRefunded => "partially_refunded",
            TradeStatus::Closed => "closed",
            TradeStatus::Revoked => "revoked",
            TradeStatus::Failed => "failed",
            TradeStatus::Finished => "finished",
        })
    }
}

/// A trade as the channel reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Trade {
    /// The channel.
    pub channel: Channel,
    /// The merchant's order number.
    pub merchant_order_no: MerchantOrderNo,
    /// The channel's trade number, once it assigned one.
    pub channel_trade_no: Option<ChannelTradeNo>,
    /// Normalized status.
    pub status: TradeStatus,
    /// The channel's status word, verbatim (`SUCCESS`, `TRADE_SUCCESS`, `00`...).
    pub raw_status: String,
    /// The order total.
    pub amount: Money,
    /// What the payer paid, when the channel says (differs from `amount` with discounts).
    pub payer_amount: Option<Money>,
    /// When the payment succeeded.
    #[serde(with = "time::serde::rfc3339::option")]
    pub paid_at: Option<OffsetDateTime>,
    /// The payer's id at the channel (openid, buyer id). Personal data.
    pub payer: Option<Sensitive<String>>,
    /// The application id the order was created under.
    pub app_id: Option<AppId>,
    /// The merchant id the order was created under (seller id).
    pub merchant_id: Option<MerchantId>,
    /// The merchant's pass-back data (WeChat `attach`, Alipay `passback_params`).
    pub attach: Option<String>,
}

impl Trade {
    /// A trade with the required fields; optional ones start empty.
    #[must_use]
    pub fn new(
        channel: Channel,
        merchant_order_no: MerchantOrderNo,
        status: TradeStatus,
        raw_status: impl Into<String>,
        amount: Money,
    ) -> Self {
        Self {
            channel,
            merchant_order_no,
            channel_trade_no: None,
            status,
            raw_status: raw_status.into(),
            amount,
            payer_amount: None,
            paid_at: None,
            payer: None,
            app_id: None,
            merchant_id: None,
            attach: None,
        }
    }

    /// Check a (callback or query) trade against the caller's own order before booking it:
    /// order number, amount and currency, and when given the app id and merchant id.
    ///
    /// # Errors
    /// [`VerificationError`] of kind `BusinessMismatch` listing every field that differs,
    /// with the expected and presented values.
    pub fn check_matches(&self, expected: &ExpectedOrder) -> Result<(), VerificationError> {
        let mut exp = Vec::new();
        let mut got = Vec::new();
        let mut fields = Vec::new();
        if self.merchant_order_no != expected.merchant_order_no {
            fields.push("merchant_order_no");
            exp.push(format!("merchant_order_no={}", expected.merchant_order_no));
            got.push(format!("merchant_order_no={}", self.merchant_order_no));
        }
        if self.amount != expected.amount {
            fields.push("amount");
            exp.push(format!("amount={}", expected.amount));
            got.push(format!("amount={}", self.amount));
        }
        if let Some(app_id) = &expected.app_id
            && self.app_id.as_ref() != Some(app_id)
        {
            fields.push("app_id");
            exp.push(format!("app_id={app_id}"));
            got.push(format!(
                "app_id={}",
                self.app_id.as_ref().map_or("(none)", AppId::as_str)
            ));
        }
        if let Some(mch) = &expected.merchant_id
            && self.merchant_id.as_ref() != Some(mch)
        {
            fields.push("merchant_id");
            exp.push(format!("merchant_id={mch}"));
            got.push(format!(
                "merchant_id={}",
                self.merchant_id
                    .as_ref()
                    .map_or("(none)", MerchantId::as_str)
            ));
        }
        if fields.is_empty() {
            return Ok(());
        }
        Err(VerificationError::new(
            self.channel,
            VerificationKind::BusinessMismatch,
            format!(
                "trade does not match the order on file ({})",
                fields.join(", ")
            ),
        )
        .expected(exp.join(" "))
        .presented(got.join(" ")))
    }
}

/// What the merchant's own books say about an order, for [`Trade::check_matches`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExpectedOrder {
    /// The order number.
    pub merchant_order_no: MerchantOrderNo,
    /// The total the order was created with.
    pub amount: Money,
    /// The app id it was created under, if it should be checked.
    pub app_id: Option<AppId>,
    /// The merchant (or seller) id, if it should be checked.
    pub merchant_id: Option<MerchantId>,
}

impl ExpectedOrder {
    /// Expect `merchant_order_no` for `amount`.
    #[must_use]
    pub fn new(merchant_order_no: MerchantOrderNo, amount: Money) -> Self {
        Self {
            merchant_order_no,
            amount,
            app_id: None,
            merchant_id: None,
        }
    }
    /// Also check the app id.
    #[must_use]
    pub fn app_id(mut self, app_id: AppId) -> Self {
        self.app_id = Some(app_id);
        self
    }
    /// Also check the merchant (seller) id.
    #[must_use]
    pub fn merchant_id(mut self, merchant_id: MerchantId) -> Self {
        self.merchant_id = Some(merchant_id);
        self
    }
}

/// Which trade: by the merchant's number or by the channel's.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TradeRef {
    /// By the merchant's order number.
    MerchantOrderNo(MerchantOrderNo),
    /// By the channel's trade number.
    ChannelTradeNo(ChannelTradeNo),
}

impl From<MerchantOrderNo> for TradeRef {
    fn from(n: MerchantOrderNo) -> Self {
        TradeRef::MerchantOrderNo(n)
    }
}

impl From<ChannelTradeNo> for TradeRef {
    fn from(n: ChannelTradeNo) -> Self {
        TradeRef::ChannelTradeNo(n)
    }
}

/// A sub-merchant, for service-provider (partner) mode: WeChat `sub_mchid`/`sub_appid`,
/// Alipay `app_auth_token` holders.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SubMerchant {
    /// The sub-merchant's id.
    pub merchant_id: MerchantId,
    /// The sub-merchant's own app id, when the payer is identified under it.
    pub app_id: Option<AppId>,
}

impl SubMerchant {
    /// A sub-merchant without its own app id.
    #[must_use]
    pub fn new(merchant_id: MerchantId) -> Self {
        Self {
            merchant_id,
            app_id: None,
        }
    }
    /// With its own app id.
    #[must_use]
    pub fn with_app_id(mut self, app_id: AppId) -> Self {
        self.app_id = Some(app_id);
        self
    }
}

/// Query one trade.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct QueryRequest {
    /// Which trade.
    pub trade: TradeRef,
    /// The sub-merchant, in partner mode.
    pub sub_merchant: Option<SubMerchant>,
}

impl QueryRequest {
    /// Query `trade`.
    #[must_use]
    pub fn new(trade: impl Into<TradeRef>) -> Self {
        Self {
            trade: trade.into(),
            sub_merchant: None,
        }
    }
    /// In partner mode, for this sub-merchant.
    #[must_use]
    pub fn sub_merchant(mut self, sub: SubMerchant) -> Self {
        self.sub_merchant = Some(sub);
        self
    }
}

/// Close an unpaid order.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CloseRequest {
    /// The order.
    pub merchant_order_no: MerchantOrderNo,
    /// The sub-merchant, in partner mode.
    pub sub_merchant: Option<SubMerchant>,
}

impl CloseRequest {
    /// Close `merchant_order_no`.
    #[must_use]
    pub fn new(merchant_order_no: MerchantOrderNo) -> Self {
        Self {
            merchant_order_no,
            sub_merchant: None,
        }
    }
    /// In partner mode, for this sub-merchant.
    #[must_use]
    pub fn sub_merchant(mut self, sub: SubMerchant) -> Self {
        self.sub_merchant = Some(sub);
        self
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn trade() -> Trade {
        let mut t = Trade::new(
            Channel::Wechat,
            MerchantOrderNo::new("A1").unwrap(),
            TradeStatus::Success,
            "SUCCESS",
            Money::cny(100),
        );
        t.app_id = Some(AppId::new("wx1").unwrap());
        t.merchant_id = Some(MerchantId::new("190").unwrap());
        t
    }

    #[test]
    fn cross_check_passes_and_fails() {
        let t = trade();
        let ok = ExpectedOrder::new(MerchantOrderNo::new("A1").unwrap(), Money::cny(100))
            .app_id(AppId::new("wx1").unwrap())
            .merchant_id(MerchantId::new("190").unwrap());
        assert!(t.check_matches(&ok).is_ok());
        let bad = ExpectedOrder::new(MerchantOrderNo::new("A1").unwrap(), Money::cny(1))
            .app_id(AppId::new("wx2").unwrap());
        let e = t.check_matches(&bad).unwrap_err();
        assert_eq!(e.kind(), &VerificationKind::BusinessMismatch);
        assert_eq!(e.expected_value(), Some("amount=0.01 CNY app_id=wx2"));
        assert_eq!(e.presented_value(), Some("amount=1.00 CNY app_id=wx1"));
    }

    #[test]
    fn status_predicates() {
        assert!(TradeStatus::PartiallyRefunded.is_paid());
        assert!(!TradeStatus::Closed.is_paid());
        assert!(!TradeStatus::UserPaying.is_final());
        assert!(TradeStatus::Revoked.is_final());
    }
}
