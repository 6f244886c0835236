//! Reconciliation: the merchant's books against channel and bank statements.
//!
//! On the 1st of the month finance pulls every channel's statements; [`reconcile`] (or a
//! [`Reconciler`] fed file by file) matches them against the books entry by entry, ticks
//! what matches, lists every discrepancy with the rule that decided it, totals per category
//! and channel, and says whether the month closes.
//!
//! # Matching
//! Payment rows of the books match statement lines of kind payment (and adjustment, for
//! revoked or closed trades); refund rows match refund lines. For each statement line:
//!
//! 1. [`Rule::MerchantKey`]: the merchant's refund number (refunds) or order number
//!    (payments) is looked up.
//! 2. [`Rule::ChannelKey`]: else the channel's trade number (refund number for refunds),
//!    against [`BookEntry::channel_ref`].
//! 3. [`Rule::RefundByOrder`]: else a refund line matches a refund the books recorded
//!    **without** a refund number by order number and exact amount (the first still open
//!    in books order, so several partial refunds of one order booked that way are neither
//!    duplicates nor confused; each line and row is used once). If only refunds of that
//!    order with other amounts are open, the line waits until every statement has streamed
//!    and then takes the one whose amount is nearest its own in the same currency (the
//!    earliest booked on a tie; an amount mismatch of the smallest difference). Two identical
//!    unnumbered refunds in the books are two refunds, matched by two lines; if the channel
//!    shows only one, the other is missing in the channel (or timing).
//! 4. [`Rule::AmountInWindow`] (fallback, [`ReconcileConfig::fallback`]): a line that
//!    carries no merchant key at all is held back until every statement has streamed, then
//!    matched to a still-open successful books row of the same kind, currency and exact
//!    amount dated within [`ReconcileConfig::date_window_days`], the nearest in time.
//!
//! A key match is then classified: [`Category::StatusMismatch`] when one side says money
//! moved and the other does not (books not successful, or an adjustment line such as
//! `REVOKED`); [`Category::AmountMismatch`] when the gross (payments positive, refunds
//! negative, exact) or the currency differs; [`Category::FeeDifference`] when the books
//! carry an [`ExpectedFee`] and the stated fee differs (compared at the precision the
//! channel stated, the difference kept exact to 5 decimals or more);
//! [`Category::Matched`] otherwise. A line whose key was already taken is a
//! [`Category::Duplicate`] (statement side); a books row repeating a key is a duplicate on
//! the books side. A line without any counterpart is [`Category::MissingInBooks`] (a lost
//! callback). After the statements, a successful books row nothing took is
//! [`Category::Timing`] when its date lies within the window of the last statement day
//! (its line may be in the next day's file; passing that file in resolves it into a
//! match with [`MatchedRow::days_apart`] 1), else [`Category::MissingInChannel`].
//!
//! # The discrepancy ratio and the refund rule
//! Per currency, in exact integers ([`Verdict`]):
//!
//! - **gross** = Σ |amount| of the books' successful payments **plus** Σ |amount| of their
//!   successful refunds (refunds count by absolute value, they do not net against payments:
//!   a 100.00 payment and a 30.00 refund make a gross of 130.00), plus Σ |gross| of
//!   statement lines the books lack or hold as unsuccessful;
//! - **unresolved** = Σ over discrepancies: the absolute difference for amount and fee
//!   mismatches, the whole absolute amount for status mismatches, missing rows and
//!   duplicates; timing rows count zero unless [`ReconcileConfig::count_timing`];
//! - the month **closes** when `unresolved × 1 000 000 ≤ threshold_ppm × gross` (exactly at
//!   the threshold closes); the default threshold is 0.1 % = 10 bp = 1000 ppm.
//!
//! # Memory
//! The books are held once, interned ([`Reconciler::new`]: identifiers in one arena, about
//! 100 bytes per row plus 36 to 68 bytes of index); statements are streamed and a matched line
//! keeps only (book row, file index, source line, fee, rule, days apart). Only
//! discrepancies keep owned values.
//!
//! # Settlements
//! [`match_settlements`] matches a channel's net per settlement day to bank credits.

mod book;
mod books_csv;
mod engine;
mod report;
mod settlement;
mod store;
pub(crate) mod sum;

use time::{Date, UtcOffset};

pub use book::{BookEntry, BookKind, BookStatus, ExpectedFee};
pub use books_csv::{BOOKS_COLUMNS, BooksCsv};
pub use engine::Reconciler;
pub use report::{
    BookSide, Category, Discrepancy, MatchedRow, Report, Rule, Side, StatementSide, Tally, Totals,
    Verdict,
};
pub use settlement::{
    SettlementConfig, SettlementGroup, SettlementMatch, SettlementReport, SettlementRule,
    match_settlements,
};

use crate::clock::CHINA_OFFSET;
use crate::error::{InvalidInput, Result};
use crate::statement::StatementRecord;

/// How to reconcile.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReconcileConfig {
    /// Days a counterpart may lie apart for the fallback rule and the timing category
    /// (cross-day settlement). Default 1.
    pub date_window_days: u32,
    /// The month closes when the discrepancy ratio is at most this, in parts per million.
    /// Default 1000 (0.1 % = 10 bp).
    pub close_threshold_ppm: u32,
    /// The offset that decides calendar days. Default +08:00 (China).
    pub offset: UtcOffset,
    /// The last day the statements passed in cover. Default: the latest date of any
    /// statement line.
    pub period_end: Option<Date>,
    /// Count timing rows as unresolved in the ratio. Default `false`: they are expected to
    /// resolve with the next file.
    pub count_timing: bool,
    /// Use the amount-in-window fallback for lines without a merchant key. Default `true`.
    pub fallback: bool,
}

impl Default for ReconcileConfig {
    fn default() -> Self {
        Self {
            date_window_days: 1,
            close_threshold_ppm: 1000,
            offset: CHINA_OFFSET,
            period_end: None,
            count_timing: false,
            fallback: true,
        }
    }
}

impl ReconcileConfig {
    /// Set the date window in days.
    #[must_use]
    pub fn date_window(mut self, days: u32) -> Self {
        self.date_window_days = days;
        self
    }

    /// Set the close threshold in parts per million.
    #[must_use]
    pub fn close_threshold_ppm(mut self, ppm: u32) -> Self {
        self.close_threshold_ppm = ppm;
        self
    }

    /// Set the close threshold in basis points (10 bp = 0.1 %).
    #[must_use]
    pub fn close_threshold_bp(mut self, bp: u32) -> Self {
        self.close_threshold_ppm = bp.saturating_mul(100);
        self
    }

    /// Set the close threshold from a percentage string: `"0.1"` (or `"0.1%"`) is 1000 ppm.
    /// At most 4 decimals; no floating point involved.
    ///
    /// # Errors
    /// [`InvalidInput`] (`close_threshold`) for anything but a non-negative decimal of at
    /// most 4 decimals up to 100.
    pub fn close_threshold_percent(self, pct: &str) -> Result<Self, InvalidInput> {
        let ppm = parse_percent_ppm(pct)?;
        Ok(self.close_threshold_ppm(ppm))
    }

    /// Set the offset that decides calendar days.
    #[must_use]
    pub fn offset(mut self, offset: UtcOffset) -> Self {
        self.offset = offset;
        self
    }

    /// Set the last day the statements cover.
    #[must_use]
    pub fn period_end(mut self, date: Date) -> Self {
        self.period_end = Some(date);
        self
    }

    /// Count timing rows in the ratio.
    #[must_use]
    pub fn count_timing(mut self, yes: bool) -> Self {
        self.count_timing = yes;
        self
    }

    /// Enable or disable the amount-in-window fallback.
    #[must_use]
    pub fn fallback(mut self, yes: bool) -> Self {
        self.fallback = yes;
        self
    }
}

/// `"0.1"` / `"0.1%"` → 1000 ppm.
fn parse_percent_ppm(s: &str) -> Result<u32, InvalidInput> {
    let bad = || {
        InvalidInput::new(
            "close_threshold",
            format!("{s:?} is not a percentage like 0.1 (at most 4 decimals, at most 100)"),
        )
    };
    let t = s.trim().trim_end_matches('%').trim();
    let a = crate::money::ExactAmount::parse(t).map_err(|_| bad())?;
    if a.is_negative() || a.scale() > 4 {
        return Err(bad());
    }
    // percent × 10 000 = ppm
    let units = a.rescale(4).ok_or_else(bad)?.units();
    u32::try_from(units)
        .ok()
        .filter(|&u| u <= 1_000_000)
        .ok_or_else(bad)
}

/// Reconcile `books` against `statements` (name, records) in one call.
///
/// ```
/// use payagg_core::reconcile::{reconcile, BookEntry, Category, ReconcileConfig};
/// use payagg_core::Money;
/// use time::macros::datetime;
///
/// let books = vec![BookEntry::payment("A1", Money::cny(100), datetime!(2024-05-20 10:00 +8))];
/// let no_lines: Vec<payagg_core::Result<payagg_core::StatementRecord>> = Vec::new();
/// let report = reconcile(ReconcileConfig::default().period_end(time::macros::date!(2024-05-31)),
///                        books, [("empty.csv", no_lines)])?;
/// assert_eq!(report.discrepancies()[0].category, Category::MissingInChannel);
/// assert!(!report.closes());
/// # Ok::<(), payagg_core::Error>(())
/// ```
///
/// # Errors
/// The first error a statement's records yield.
pub fn reconcile<N, I>(
    config: ReconcileConfig,
    books: impl IntoIterator<Item = BookEntry>,
    statements: impl IntoIterator<Item = (N, I)>,
) -> Result<Report>
where
    N: Into<String>,
    I: IntoIterator<Item = Result<StatementRecord>>,
{
    let mut r = Reconciler::new(config, books)?;
    for (name, records) in statements {
        r.add_statement(name, records)?;
    }
    r.finish()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn percent_parses_exactly() {
        assert_eq!(parse_percent_ppm("0.1").unwrap(), 1000);
        assert_eq!(parse_percent_ppm("0.1%").unwrap(), 1000);
        assert_eq!(parse_percent_ppm("1").unwrap(), 10_000);
        assert_eq!(parse_percent_ppm("0.0001").unwrap(), 1);
        assert!(parse_percent_ppm("0.00001").is_err());
        assert!(parse_percent_ppm("-1").is_err());
        assert!(parse_percent_ppm("101").is_err());
        assert!(parse_percent_ppm("abc").is_err());
    }
}
