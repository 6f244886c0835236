//! What reconciliation found: every discrepancy, the matched rows, totals and the verdict.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use time::OffsetDateTime;

use super::book::{BookKind, BookStatus};
use super::store::BookStore;
use crate::channel::Channel;
use crate::money::{Currency, ExactAmount, Money};
use crate::statement::RecordKind;

/// The category of a reconciliation decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Category {
    /// Key, amount, currency, status (and fee, when the books carry one) agree.
    Matched,
    /// Same key, different amount or currency.
    AmountMismatch,
    /// Same key, but one side says the money moved and the other says it did not.
    StatusMismatch,
    /// In the books as successful, on no statement passed in.
    MissingInChannel,
    /// On a statement, not in the books (for example a lost callback).
    MissingInBooks,
    /// Matched, but the fee differs from the one the books expect.
    FeeDifference,
    /// In the books, not on a statement yet, but dated so close to the end of the statements
    /// passed in that its line may be in the next day's file (within the date window).
    /// Passing that file in resolves it.
    Timing,
    /// The same key twice on one side; the second occurrence is reported.
    Duplicate,
}

impl Category {
    /// Every category, in report order.
    pub const ALL: [Category; 8] = [
        Category::Matched,
        Category::AmountMismatch,
        Category::StatusMismatch,
        Category::MissingInChannel,
        Category::MissingInBooks,
        Category::FeeDifference,
        Category::Timing,
        Category::Duplicate,
    ];

    /// The snake_case name used in reports.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Matched => "matched",
            Category::AmountMismatch => "amount_mismatch",
            Category::StatusMismatch => "status_mismatch",
            Category::MissingInChannel => "missing_in_channel",
            Category::MissingInBooks => "missing_in_books",
            Category::FeeDifference => "fee_difference",
            Category::Timing => "timing",
            Category::Duplicate => "duplicate",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// Which rule made a decision, so that every line of a report can be explained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Rule {
    /// The merchant's refund number (refunds) or order number (payments, adjustments) is
    /// equal on both sides.
    MerchantKey,
    /// The channel's trade number (refund number for refunds) is equal on both sides.
    ChannelKey,
    /// A refund booked without a refund number: the statement's refund line has the same
    /// order number and amount (the first open such refund in books order; each row and
    /// each line used once). When no amount is equal, an open refund of the order with
    /// another amount is taken after every line has been seen (an amount mismatch).
    RefundByOrder,
    /// Fallback for a statement line without the merchant's key: same kind, currency and
    /// amount, dated within the date window (the nearest in time wins, and the order number
    /// must agree when the line has one).
    AmountInWindow,
    /// Nothing on the other side matched by any rule.
    NoCounterpart,
    /// Nothing matched yet, but the counterpart may be in a statement dated within the
    /// window after the last one passed in.
    AwaitingLaterStatement,
    /// The key was already taken by an earlier row on the same side.
    RepeatedKey,
}

impl Rule {
    /// The snake_case name used in reports.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::MerchantKey => "merchant_key",
            Rule::ChannelKey => "channel_key",
            Rule::RefundByOrder => "refund_by_order",
            Rule::AmountInWindow => "amount_in_window",
            Rule::NoCounterpart => "no_counterpart",
            Rule::AwaitingLaterStatement => "awaiting_later_statement",
            Rule::RepeatedKey => "repeated_key",
        }
    }

    /// One sentence for humans.
    #[must_use]
    pub fn explain(self) -> &'static str {
        match self {
            Rule::MerchantKey => "merchant order/refund number equal",
            Rule::ChannelKey => "channel trade/refund number equal",
            Rule::RefundByOrder => {
                "refund booked without a refund number; same order number and amount"
            }
            Rule::AmountInWindow => {
                "no merchant key on the statement line; same kind, currency and amount within the date window"
            }
            Rule::NoCounterpart => "no counterpart by key, channel number or amount in window",
            Rule::AwaitingLaterStatement => {
                "no counterpart yet; dated within the window before the end of the statements"
            }
            Rule::RepeatedKey => "the same key appeared earlier on the same side",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// Which side a row comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The merchant's books.
    Books,
    /// A channel statement.
    Statement,
}

/// The books' side of a discrepancy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct BookSide {
    /// 0-based position in the books as passed in.
    pub index: usize,
    /// The line in the books file ([`super::BookEntry::source_line`]), 0 when unknown.
    pub line: u64,
    /// Payment or refund.
    pub kind: BookKind,
    /// The amount signed like a statement's gross: payments positive, refunds negative.
    pub amount: ExactAmount,
    /// The currency.
    pub currency: Currency,
    /// The status in the books.
    pub status: BookStatus,
    /// When it happened.
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
    /// The fee the books expect, as a negative charge like a statement's fee, when known.
    pub expected_fee: Option<ExactAmount>,
}

/// The statement's side of a discrepancy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct StatementSide {
    /// 0-based index of the statement among those passed in ([`Report::files`]).
    pub file: usize,
    /// The 1-based line in that file.
    pub line: u64,
    /// The channel.
    pub channel: Channel,
    /// What the line records.
    pub kind: RecordKind,
    /// Gross, signed (refunds negative).
    pub gross: ExactAmount,
    /// Fee as stated (negative when charged).
    pub fee: ExactAmount,
    /// Net.
    pub net: ExactAmount,
    /// The currency.
    pub currency: Currency,
    /// When it happened.
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
    /// The channel's own word for the line (status, transaction type).
    pub channel_kind: String,
}

/// One row of the report that needs a human: everything but [`Category::Matched`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Discrepancy {
    /// What kind of discrepancy.
    pub category: Category,
    /// The rule that decided it.
    pub rule: Rule,
    /// For [`Category::Duplicate`], the side that repeated the key; otherwise the side the
    /// row exists on when only one does.
    pub side: Option<Side>,
    /// The channel (the statement's, else the books').
    pub channel: Option<Channel>,
    /// The merchant's order number, from whichever side has it.
    pub merchant_order_no: Option<String>,
    /// The merchant's refund number.
    pub merchant_refund_no: Option<String>,
    /// The channel's trade (or refund) number.
    pub channel_ref: Option<String>,
    /// The books' values, when the books have the row.
    pub book: Option<BookSide>,
    /// The statement's values, when a statement has the row.
    pub statement: Option<StatementSide>,
    /// Calendar days from the books' date to the statement's (in the configured offset).
    pub days_apart: Option<i32>,
    /// The amount this row leaves unresolved (non-negative), in `currency`: the difference
    /// for amount and fee mismatches, the whole amount otherwise; zero for
    /// [`Category::Timing`] unless configured to count.
    pub unresolved: ExactAmount,
    /// The currency of `unresolved`.
    pub currency: Currency,
}

/// Count and amounts of one category (per currency, and per channel).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Tally {
    /// Rows.
    pub count: u64,
    /// Σ |amount| of the rows (books amount where the books have the row, else the
    /// statement's gross).
    pub gross: ExactAmount,
    /// Σ unresolved amount.
    pub unresolved: ExactAmount,
}

/// Whether the period closes, for one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Verdict {
    /// The currency.
    pub currency: Currency,
    /// The denominator: Σ |amount| of successful payments **and** refunds in the books
    /// (a 100.00 payment and a 30.00 refund make 130.00), plus Σ |gross| of statement lines
    /// the books lack or hold as unsuccessful.
    pub gross: ExactAmount,
    /// The numerator: Σ unresolved over every discrepancy.
    pub unresolved: ExactAmount,
    /// `floor(unresolved × 1 000 000 / gross)` (parts per million; 1000 = 0.1 %).
    pub ratio_ppm: u64,
    /// The threshold it was held against.
    pub threshold_ppm: u32,
    /// `unresolved × 1 000 000 ≤ threshold × gross`, compared exactly (at the threshold
    /// closes). A zero gross closes only with nothing unresolved.
    pub closes: bool,
}

/// Totals of a reconciliation. (Not `Serialize`: the maps have tuple keys, which JSON
/// cannot represent; walk them instead.)
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Totals {
    /// Per category and currency.
    pub by_category: BTreeMap<(Category, Currency), Tally>,
    /// Per channel (`None`: the books did not say and no statement line had it), category
    /// and currency.
    pub by_channel: BTreeMap<(Option<Channel>, Category, Currency), Tally>,
    /// Statement lines not reconciled against the books (fees on their own line,
    /// transfers, settlements), per channel.
    pub skipped: BTreeMap<Channel, u64>,
    /// Books entries not successful and not on any statement: as expected, not reported.
    pub unsuccessful_absent: u64,
    /// One verdict per currency seen.
    pub verdicts: Vec<Verdict>,
    /// Σ stated fee (negative when charged) of every payment, refund and adjustment line
    /// streamed, matched or not, per channel and currency: summed exactly, at the largest
    /// precision any of them had (at least 2 decimals; WeChat's 5 are kept). Fee-only,
    /// transfer and settlement lines ([`Totals::skipped`]) are not in it.
    pub fees: BTreeMap<(Channel, Currency), ExactAmount>,
}

impl Totals {
    /// The tally of `category` summed over currencies' counts (amounts only per currency).
    #[must_use]
    pub fn count(&self, category: Category) -> u64 {
        self.by_category
            .iter()
            .filter(|((c, _), _)| *c == category)
            .map(|(_, t)| t.count)
            .sum()
    }
}

/// A matched row, compact; read it through [`MatchedRow`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Matched {
    pub(crate) book: u32,
    pub(crate) file: u32,
    pub(crate) line: u64,
    pub(crate) fee: ExactAmount,
    pub(crate) gross: ExactAmount,
    pub(crate) rule: Rule,
    pub(crate) days_apart: i32,
    pub(crate) channel: Channel,
}

/// A view of one matched row.
#[derive(Debug, Clone, Copy)]
pub struct MatchedRow<'a> {
    m: &'a Matched,
    books: &'a BookStore,
    files: &'a [String],
}

impl<'a> MatchedRow<'a> {
    /// The merchant's order number.
    #[must_use]
    pub fn merchant_order_no(&self) -> &'a str {
        self.books.order_no(self.m.book)
    }
    /// The merchant's refund number.
    #[must_use]
    pub fn merchant_refund_no(&self) -> Option<&'a str> {
        self.books.refund_no(self.m.book)
    }
    /// The channel's number as the books have it.
    #[must_use]
    pub fn channel_ref(&self) -> Option<&'a str> {
        self.books.channel_ref(self.m.book)
    }
    /// Payment or refund.
    #[must_use]
    pub fn kind(&self) -> BookKind {
        self.books.row(self.m.book).kind
    }
    /// The amount (both sides agree).
    #[must_use]
    pub fn amount(&self) -> Money {
        self.books.row(self.m.book).amount
    }
    /// The status in the books (not successful when an adjustment line, such as a revoked
    /// trade, matched a row the books hold as closed or failed).
    #[must_use]
    pub fn status(&self) -> BookStatus {
        self.books.row(self.m.book).status
    }
    /// The statement line's own gross, signed (refunds negative), as stated.
    #[must_use]
    pub fn statement_gross(&self) -> ExactAmount {
        self.m.gross
    }
    /// The fee the statement stated (negative when charged), at its precision.
    #[must_use]
    pub fn fee(&self) -> ExactAmount {
        self.m.fee
    }
    /// The channel of the statement.
    #[must_use]
    pub fn channel(&self) -> Channel {
        self.m.channel
    }
    /// When the books say it happened.
    #[must_use]
    pub fn occurred_at(&self) -> OffsetDateTime {
        self.books.row(self.m.book).occurred_at
    }
    /// The rule that matched.
    #[must_use]
    pub fn rule(&self) -> Rule {
        self.m.rule
    }
    /// Calendar days from the books' date to the statement's.
    #[must_use]
    pub fn days_apart(&self) -> i32 {
        self.m.days_apart
    }
    /// 0-based position in the books.
    #[must_use]
    pub fn book_index(&self) -> usize {
        self.m.book as usize
    }
    /// The line in the books file, 0 when unknown.
    #[must_use]
    pub fn book_line(&self) -> u64 {
        self.books.row(self.m.book).source_line
    }
    /// 0-based index of the statement file.
    #[must_use]
    pub fn file(&self) -> usize {
        self.m.file as usize
    }
    /// The statement file's name as passed in.
    #[must_use]
    pub fn file_name(&self) -> &'a str {
        self.files
            .get(self.m.file as usize)
            .map_or("", String::as_str)
    }
    /// The 1-based line in that file.
    #[must_use]
    pub fn line(&self) -> u64 {
        self.m.line
    }
}

/// The result of a reconciliation.
#[derive(Debug)]
pub struct Report {
    pub(crate) files: Vec<String>,
    pub(crate) discrepancies: Vec<Discrepancy>,
    pub(crate) matched: Vec<Matched>,
    pub(crate) books: BookStore,
    pub(crate) totals: Totals,
}

impl Report {
    /// The statement names, in the order passed in ([`StatementSide::file`] indexes this).
    #[must_use]
    pub fn files(&self) -> &[String] {
        &self.files
    }

    /// Every discrepancy, in the order found: statement lines in file order as they were
    /// streamed, then fallback decisions, then books rows without a counterpart in books
    /// order.
    #[must_use]
    pub fn discrepancies(&self) -> &[Discrepancy] {
        &self.discrepancies
    }

    /// The discrepancies of one category.
    pub fn discrepancies_of(&self, category: Category) -> impl Iterator<Item = &Discrepancy> {
        self.discrepancies
            .iter()
            .filter(move |d| d.category == category)
    }

    /// The matched rows, in the order they were matched.
    pub fn matched(&self) -> impl ExactSizeIterator<Item = MatchedRow<'_>> {
        self.matched.iter().map(|m| MatchedRow {
            m,
            books: &self.books,
            files: &self.files,
        })
    }

    /// Number of matched rows.
    #[must_use]
    pub fn matched_count(&self) -> usize {
        self.matched.len()
    }

    /// Totals per category and channel, and the verdicts.
    #[must_use]
    pub fn totals(&self) -> &Totals {
        &self.totals
    }

    /// One verdict per currency.
    #[must_use]
    pub fn verdicts(&self) -> &[Verdict] {
        &self.totals.verdicts
    }

    /// `true` when every currency's discrepancy ratio is within the threshold.
    #[must_use]
    pub fn closes(&self) -> bool {
        self.totals.verdicts.iter().all(|v| v.closes)
    }

    /// The worst ratio over the currencies, in parts per million.
    #[must_use]
    pub fn ratio_ppm(&self) -> u64 {
        self.totals
            .verdicts
            .iter()
            .map(|v| v.ratio_ppm)
            .max()
            .unwrap_or(0)
    }
}
