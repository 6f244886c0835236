//! The merchant's own books: what reconciliation checks the statements against.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::channel::Channel;
use crate::error::InvalidInput;
use crate::money::{Currency, ExactAmount, Money};

/// Whether a book entry records money in (a payment) or out (a refund).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookKind {
    /// A payment received.
    Payment,
    /// A refund paid back.
    Refund,
}

impl BookKind {
    /// `payment` or `refund`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            BookKind::Payment => "payment",
            BookKind::Refund => "refund",
        }
    }
}

impl fmt::Display for BookKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for BookKind {
    type Err = InvalidInput;
    /// `payment` (`pay`, `paid`, `支付`, `收款`) or `refund` (`退款`), case-insensitive.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // The usual spellings without lowercasing a copy (books files hold millions).
        match s.trim() {
            "payment" => return Ok(BookKind::Payment),
            "refund" => return Ok(BookKind::Refund),
            _ => {}
        }
        match s.trim().to_ascii_lowercase().as_str() {
            "payment" | "pay" | "paid" | "支付" | "收款" => Ok(BookKind::Payment),
            "refund" | "退款" => Ok(BookKind::Refund),
            other => Err(InvalidInput::new(
                "kind",
                format!("{other:?} is neither payment nor refund"),
            )),
        }
    }
}

/// What the books say happened to a payment or refund.
///
/// Only [`BookStatus::Success`] entries are expected on a channel statement; the others are
/// expected *not* to be there, and a statement line for one is a
/// [`Category::StatusMismatch`](super::Category::StatusMismatch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum BookStatus {
    /// The money moved (paid, refunded).
    Success,
    /// Still in progress (not paid yet, refund processing).
    Pending,
    /// Failed.
    Failed,
    /// Closed or revoked without money moving.
    Closed,
}

impl BookStatus {
    /// `success`, `pending`, `failed` or `closed`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            BookStatus::Success => "success",
            BookStatus::Pending => "pending",
            BookStatus::Failed => "failed",
            BookStatus::Closed => "closed",
        }
    }

    /// `true` for [`BookStatus::Success`].
    #[must_use]
    pub fn is_success(self) -> bool {
        self == BookStatus::Success
    }
}

impl fmt::Display for BookStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for BookStatus {
    type Err = InvalidInput;
    /// Case-insensitive: `success` (`succeeded`, `paid`, `refunded`, `SUCCESS`, `成功`),
    /// `pending` (`processing`, `not_paid`, `user_paying`, `处理中`), `failed` (`fail`, `失败`),
    /// `closed` (`revoked`, `cancelled`, `关闭`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.trim() == "success" {
            return Ok(BookStatus::Success);
        }
        match s.trim().to_ascii_lowercase().as_str() {
            "success" | "succeeded" | "paid" | "refunded" | "finished" | "成功" => {
                Ok(BookStatus::Success)
            }
            "pending" | "processing" | "not_paid" | "notpay" | "user_paying" | "处理中" => {
                Ok(BookStatus::Pending)
            }
            "failed" | "fail" | "失败" => Ok(BookStatus::Failed),
            "closed" | "revoked" | "cancelled" | "canceled" | "关闭" => Ok(BookStatus::Closed),
            other => Err(InvalidInput::new(
                "status",
                format!("{other:?} is not success, pending, failed or closed"),
            )),
        }
    }
}

/// The fee the merchant expects the channel to charge on an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ExpectedFee {
    /// A fixed fee in major units, written as a positive charge (`0.00600`).
    Amount(ExactAmount),
    /// A rate in parts per million of the gross (0.6 % = `6000`). The exact product is
    /// compared with the stated fee at the precision the channel stated it (the channel's
    /// rounding, half away from zero); the difference reported is exact.
    RatePpm(u32),
}

/// One entry of the merchant's books.
///
/// ```
/// use payagg_core::reconcile::{BookEntry, BookStatus};
/// use payagg_core::Money;
/// use time::macros::datetime;
///
/// let pay = BookEntry::payment("A1", Money::cny(1000), datetime!(2024-05-20 10:00 +8));
/// let refund = BookEntry::refund("A1", "R1", Money::cny(300), datetime!(2024-05-21 09:00 +8))
///     .with_status(BookStatus::Pending);
/// assert_eq!(refund.key(), "R1");
/// # let _ = pay;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BookEntry {
    /// The merchant's order number.
    pub merchant_order_no: String,
    /// The merchant's refund number (refunds).
    pub merchant_refund_no: Option<String>,
    /// The channel's trade number (payments) or refund number (refunds), when the books
    /// recorded it from the callback or query.
    pub channel_ref: Option<String>,
    /// Payment or refund.
    pub kind: BookKind,
    /// The amount, always positive; the kind says which way it moved.
    pub amount: Money,
    /// What the books say happened.
    pub status: BookStatus,
    /// When it happened.
    pub occurred_at: OffsetDateTime,
    /// The channel, if the books know it.
    pub channel: Option<Channel>,
    /// The fee the merchant expects, if the books carry one.
    pub expected_fee: Option<ExpectedFee>,
    /// The line in the books file (1-based), for reports; 0 when unknown.
    pub source_line: u64,
}

impl BookEntry {
    /// A successful payment of `amount` on order `merchant_order_no`.
    #[must_use]
    pub fn payment(
        merchant_order_no: impl Into<String>,
        amount: Money,
        occurred_at: OffsetDateTime,
    ) -> Self {
        Self {
            merchant_order_no: merchant_order_no.into(),
            merchant_refund_no: None,
            channel_ref: None,
            kind: BookKind::Payment,
            amount,
            status: BookStatus::Success,
            occurred_at,
            channel: None,
            expected_fee: None,
            source_line: 0,
        }
    }

    /// A successful refund `merchant_refund_no` of `amount` on order `merchant_order_no`.
    #[must_use]
    pub fn refund(
        merchant_order_no: impl Into<String>,
        merchant_refund_no: impl Into<String>,
        amount: Money,
        occurred_at: OffsetDateTime,
    ) -> Self {
        Self {
            merchant_refund_no: Some(merchant_refund_no.into()),
            kind: BookKind::Refund,
            ..Self::payment(merchant_order_no, amount, occurred_at)
        }
    }

    /// Set the status.
    #[must_use]
    pub fn with_status(mut self, status: BookStatus) -> Self {
        self.status = status;
        self
    }

    /// Set the channel.
    #[must_use]
    pub fn with_channel(mut self, channel: Channel) -> Self {
        self.channel = Some(channel);
        self
    }

    /// Set the channel's trade (or refund) number.
    #[must_use]
    pub fn with_channel_ref(mut self, channel_ref: impl Into<String>) -> Self {
        self.channel_ref = Some(channel_ref.into());
        self
    }

    /// Set the expected fee.
    #[must_use]
    pub fn with_expected_fee(mut self, fee: ExpectedFee) -> Self {
        self.expected_fee = Some(fee);
        self
    }

    /// Set the line in the books file.
    #[must_use]
    pub fn with_source_line(mut self, line: u64) -> Self {
        self.source_line = line;
        self
    }

    /// The currency.
    #[must_use]
    pub fn currency(&self) -> Currency {
        self.amount.currency()
    }

    /// The key matched first: the refund number for refunds (the order number when a refund
    /// has none), else the order number.
    #[must_use]
    pub fn key(&self) -> &str {
        match self.kind {
            BookKind::Refund => self
                .merchant_refund_no
                .as_deref()
                .unwrap_or(&self.merchant_order_no),
            BookKind::Payment => &self.merchant_order_no,
        }
    }
}
