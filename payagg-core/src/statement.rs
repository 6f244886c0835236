//! Channel statements (bills) and the unified statement record.
//!
//! Every channel's bill parser turns its file into [`StatementRecord`]s, the common currency
//! of reconciliation. Amounts are signed from the merchant's point of view: money in is
//! positive (a payment's gross), money out is negative (a refund's gross, a fee). `net` is
//! `gross - |fee|` for payments and what actually moved for every other kind. Parsers keep
//! the precision the file gave (WeChat fees carry 5 decimals).

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::channel::Channel;
use crate::error::Result;
use crate::money::{Currency, ExactAmount};
use crate::trade::SubMerchant;

/// Which statement to download.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum StatementKind {
    /// Every trade and refund of the day (WeChat `ALL`, Alipay `trade`, UnionPay ZM).
    AllTrades,
    /// Successful payments only (WeChat `SUCCESS`).
    SuccessfulTrades,
    /// Refunds only (WeChat `REFUND`).
    Refunds,
    /// Movements of the merchant's channel balance (WeChat fund flow, Alipay `signcustomer`).
    FundFlow,
}

/// Download the statement of one business day.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StatementRequest {
    /// The business day, in the channel's time zone (China time).
    pub date: Date,
    /// Which statement.
    pub kind: StatementKind,
    /// The sub-merchant, in partner mode.
    pub sub_merchant: Option<SubMerchant>,
}

impl StatementRequest {
    /// The statement of `kind` for `date`.
    #[must_use]
    pub fn new(date: Date, kind: StatementKind) -> Self {
        Self {
            date,
            kind,
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

/// What a statement line records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RecordKind {
    /// A payment received.
    Payment,
    /// A refund paid back.
    Refund,
    /// A fee charged on its own line.
    Fee,
    /// A payout, or a settlement to the bank account.
    Transfer,
    /// Anything else that moved money (adjustments, reversals, unknown transaction codes).
    Adjustment,
}

impl RecordKind {
    /// The lowercase name used in unified files.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Payment => "payment",
            RecordKind::Refund => "refund",
            RecordKind::Fee => "fee",
            RecordKind::Transfer => "transfer",
            RecordKind::Adjustment => "adjustment",
        }
    }
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// One line of a unified statement.
///
/// Identifiers are kept as the file wrote them (trimmed of the channel's quoting) rather
/// than validated, so that no line is ever dropped for an odd order number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StatementRecord {
    /// The channel the file came from.
    pub channel: Channel,
    /// What the line records.
    pub kind: RecordKind,
    /// The merchant's order number.
    pub merchant_order_no: Option<String>,
    /// The channel's trade number.
    pub channel_trade_no: Option<String>,
    /// The merchant's refund number.
    pub merchant_refund_no: Option<String>,
    /// The channel's refund number.
    pub channel_refund_no: Option<String>,
    /// The gross amount, signed from the merchant's view (refunds negative).
    pub gross: ExactAmount,
    /// The fee, as the channel stated it (negative when charged, positive when returned).
    pub fee: ExactAmount,
    /// What moved after the fee.
    pub net: ExactAmount,
    /// The currency.
    pub currency: Currency,
    /// When it happened, with the channel's UTC offset (+08:00 for the Chinese channels).
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
    /// The day it settles, when the file says.
    pub settle_date: Option<Date>,
    /// The channel's own word for the line (transaction type, status, code).
    pub channel_kind: String,
    /// 1-based line number in the source file.
    pub source_line: u64,
    /// The raw line, for audit.
    pub raw: String,
}

impl StatementRecord {
    /// A record with the amounts and time; identifiers, settlement date and raw line start
    /// empty and are set field by field (the struct is `#[non_exhaustive]`, its fields public).
    #[must_use]
    pub fn new(
        channel: Channel,
        kind: RecordKind,
        gross: ExactAmount,
        fee: ExactAmount,
        net: ExactAmount,
        currency: Currency,
        occurred_at: OffsetDateTime,
    ) -> Self {
        Self {
            channel,
            kind,
            merchant_order_no: None,
            channel_trade_no: None,
            merchant_refund_no: None,
            channel_refund_no: None,
            gross,
            fee,
            net,
            currency,
            occurred_at,
            settle_date: None,
            channel_kind: String::new(),
            source_line: 0,
            raw: String::new(),
        }
    }

    /// The key reconciliation matches on first: the refund number for refunds, else the
    /// order number, else the channel's number.
    #[must_use]
    pub fn primary_key(&self) -> Option<&str> {
        match self.kind {
            RecordKind::Refund => self
                .merchant_refund_no
                .as_deref()
                .or(self.channel_refund_no.as_deref()),
            _ => self
                .merchant_order_no
                .as_deref()
                .or(self.channel_trade_no.as_deref()),
        }
    }
}

/// A streaming iterator of unified records.
pub type Records<'a> = Box<dyn Iterator<Item = Result<StatementRecord>> + 'a>;

/// Turns one channel's statement file into unified records, lazily.
pub trait StatementParser: Send + Sync + fmt::Debug {
    /// The records of `raw`, in file order. Errors name the line.
    fn records<'a>(&self, raw: &'a [u8]) -> Records<'a>;
}

/// A downloaded, verified statement: the raw file held once, parsed on demand.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Statement {
    /// The channel.
    pub channel: Channel,
    /// The business day.
    pub date: Date,
    /// Which statement.
    pub kind: StatementKind,
    /// The file's bytes after transport decoding (gunzipped, inflated), verified by digest
    /// or signature where the channel provides one. Empty for a day without business.
    pub raw: Bytes,
    parser: Arc<dyn StatementParser>,
}

impl Statement {
    /// A statement whose `raw` bytes `parser` understands.
    #[must_use]
    pub fn new(
        channel: Channel,
        date: Date,
        kind: StatementKind,
        raw: Bytes,
        parser: Arc<dyn StatementParser>,
    ) -> Self {
        Self {
            channel,
            date,
            kind,
            raw,
            parser,
        }
    }

    /// Stream the unified records without copying the file.
    #[must_use]
    pub fn records(&self) -> Records<'_> {
        self.parser.records(&self.raw)
    }
}
