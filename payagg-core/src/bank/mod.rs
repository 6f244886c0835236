//! Bank account statements: ISO 20022 camt.053, SWIFT MT940 and the CSV exports of Chinese
//! banks, checked to balance and turned into unified [`StatementRecord`]s.
//!
//! Every parser returns [`BankStatement`]s (a file may hold several statements) whose
//! opening balance plus the booked entries equals the closing balance; a file that does
//! not balance is rejected with [`crate::Error::Decode`] located at `file:line` and naming
//! the three numbers, with an [`UnbalancedStatement`] as its
//! [`source`](std::error::Error::source) for callers who want them typed.
//!
//! | format | function | notes |
//! | --- | --- | --- |
//! | camt.053 (any `camt.053.001.xx`) | [`parse_camt053`] | `OPBD`/`PRCD` opening, `CLBD` closing; booked entries only |
//! | MT940 | [`parse_mt940`] | `:20:` `:25:` `:28C:` `:60F/M:` `:61:` `:86:` `:62F/M:`; SWIFT envelope optional |
//! | bank CSV | [`BankCsvProfile::parse`] | header aliases, signed / two-column / indicator amounts, GBK or UTF-8 |
//!
//! MT940 is parsed by hand rather than with the `mt940` crate: that crate's non-optional
//! dependencies (clap for its command-line tool, chrono, rust_decimal, pest, serde_with,
//! strum) would enter this transport-free core crate, its errors carry no file line, and its
//! decimals would be converted to [`ExactAmount`] anyway. The subset banks send for account
//! statements is small and fixed.
//!
//! Records ([`BankStatement::records`]) have channel [`Channel::Bank`], kind
//! [`RecordKind::Transfer`], gross = net = the signed amount (credits positive), fee zero,
//! `settle_date` the booking day, `occurred_at` the entry's time or booking day 00:00
//! +08:00, `channel_trade_no` the bank's reference, `merchant_order_no` the customer
//! reference (end-to-end id), `channel_kind` the memo / remittance information and
//! counterparty, `raw` the source text of the entry.

mod camt053;
mod csv;
mod mt940;

use std::fmt;

use serde::Serialize;
use time::{Date, OffsetDateTime};

pub use self::camt053::parse_camt053;
pub use self::csv::{BankCsvProfile, CsvEncoding, DebitCredit};
pub use self::mt940::parse_mt940;
use crate::channel::Channel;
use crate::clock::CHINA_OFFSET;
use crate::error::{DecodeError, Error, Result};
use crate::money::{Currency, ExactAmount};
use crate::reconcile::sum::Acc;
use crate::statement::{RecordKind, StatementRecord};

/// A bank statement format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum BankFormat {
    /// ISO 20022 `camt.053` XML.
    Camt053,
    /// SWIFT MT940.
    Mt940,
    /// A bank's CSV export.
    Csv,
}

/// Guess the format from the content: camt.053 XML, MT940 (a `:20:` tag near the start,
/// optionally inside a SWIFT `{1:` envelope), else `None` (CSV needs a profile).
#[must_use]
pub fn detect(raw: &[u8]) -> Option<BankFormat> {
    let head = &raw[..raw.len().min(4096)];
    let text = String::from_utf8_lossy(head);
    let t = text.trim_start_matches('\u{feff}').trim_start();
    if t.starts_with('<') && text.contains("camt.053") {
        return Some(BankFormat::Camt053);
    }
    if (t.starts_with("{1:") || t.starts_with(":20:")) && text.contains(":25:") {
        return Some(BankFormat::Mt940);
    }
    None
}

/// One booked entry of a bank statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct BankEntry {
    /// The booking day.
    pub booking_date: Date,
    /// The value day, when given.
    pub value_date: Option<Date>,
    /// The time, when the bank gives one.
    #[serde(with = "time::serde::rfc3339::option")]
    pub time: Option<OffsetDateTime>,
    /// Signed from the account holder's view: credits positive, debits negative.
    pub amount: ExactAmount,
    /// The currency.
    pub currency: Currency,
    /// The bank's reference.
    pub reference: Option<String>,
    /// The customer's reference (end-to-end id), when not `NONREF`.
    pub customer_reference: Option<String>,
    /// The other party's name (and account).
    pub counterparty: Option<String>,
    /// Memo, purpose, remittance information.
    pub memo: Option<String>,
    /// The bank's transaction code.
    pub code: Option<String>,
    /// The running balance after the entry, when the file states it.
    pub balance: Option<ExactAmount>,
    /// The 1-based line where the entry starts.
    pub source_line: u64,
    /// The entry's source text.
    pub raw: String,
}

impl BankEntry {
    /// The unified record.
    #[must_use]
    pub fn to_record(&self) -> StatementRecord {
        let at = self
            .time
            .unwrap_or_else(|| self.booking_date.midnight().assume_offset(CHINA_OFFSET));
        let fee = ExactAmount::from_minor(0, self.amount.scale());
        let mut r = StatementRecord::new(
            Channel::Bank,
            RecordKind::Transfer,
            self.amount,
            fee,
            self.amount,
            self.currency,
            at,
        );
        r.channel_trade_no = self.reference.clone();
        r.merchant_order_no = self.customer_reference.clone();
        r.settle_date = Some(self.booking_date);
        let mut kind = String::new();
        for s in [self.memo.as_deref(), self.counterparty.as_deref()]
            .into_iter()
            .flatten()
        {
            if !kind.is_empty() {
                kind.push_str(" | ");
            }
            kind.push_str(s);
        }
        r.channel_kind = kind;
        r.source_line = self.source_line;
        r.raw = self.raw.clone();
        r
    }
}

/// One checked bank statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct BankStatement {
    /// The format it came in.
    pub format: BankFormat,
    /// The file name as passed in.
    pub source: String,
    /// The statement's id (camt `Stmt/Id`, MT940 `:20:`), when any.
    pub statement_id: Option<String>,
    /// The account (IBAN, account number; MT940 `:25:`).
    pub account: Option<String>,
    /// The currency.
    pub currency: Currency,
    /// The opening balance.
    pub opening: ExactAmount,
    /// The closing balance.
    pub closing: ExactAmount,
    /// The opening balance's date, when stated.
    pub opening_date: Option<Date>,
    /// The closing balance's date, when stated.
    pub closing_date: Option<Date>,
    /// The booked entries, in file order.
    pub entries: Vec<BankEntry>,
}

impl BankStatement {
    /// The unified records, in file order.
    pub fn records(&self) -> impl ExactSizeIterator<Item = StatementRecord> + '_ {
        self.entries.iter().map(BankEntry::to_record)
    }

    /// Σ entries, exact.
    ///
    /// # Errors
    /// [`Error::Decode`] if the sum overflows.
    pub fn entries_total(&self) -> Result<ExactAmount> {
        let mut acc = Acc::default();
        for e in &self.entries {
            acc.add(e.amount);
        }
        acc.to_amount(2)
    }

    /// Check opening + Σ entries = closing.
    ///
    /// # Errors
    /// [`Error::Decode`] at `source:line` with an [`UnbalancedStatement`] source.
    pub(crate) fn check_balance(&self, line: u64) -> Result<()> {
        let mut acc = Acc::of(self.opening);
        for e in &self.entries {
            acc.add(e.amount);
        }
        if acc == Acc::of(self.closing) {
            return Ok(());
        }
        Err(UnbalancedStatement {
            file: self.source.clone(),
            line,
            opening: self.opening,
            entries: self.entries_total()?,
            computed: acc.to_amount(2)?,
            closing: self.closing,
        }
        .into())
    }
}

/// A bank statement whose opening balance plus entries is not its closing balance.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "bank statement {file} does not balance: opening {opening} + entries {entries} = {computed}, but the closing balance at line {line} is {closing}"
)]
pub struct UnbalancedStatement {
    pub(crate) file: String,
    pub(crate) line: u64,
    pub(crate) opening: ExactAmount,
    pub(crate) entries: ExactAmount,
    pub(crate) computed: ExactAmount,
    pub(crate) closing: ExactAmount,
}

impl UnbalancedStatement {
    /// The file.
    #[must_use]
    pub fn file(&self) -> &str {
        &self.file
    }
    /// The line of the closing balance (or of the entry where a running balance broke).
    #[must_use]
    pub fn line(&self) -> u64 {
        self.line
    }
    /// The opening balance.
    #[must_use]
    pub fn opening(&self) -> ExactAmount {
        self.opening
    }
    /// Σ entries.
    #[must_use]
    pub fn entries(&self) -> ExactAmount {
        self.entries
    }
    /// The closing balance stated.
    #[must_use]
    pub fn closing(&self) -> ExactAmount {
        self.closing
    }
    /// opening + entries.
    #[must_use]
    pub fn computed(&self) -> ExactAmount {
        self.computed
    }
}

impl From<UnbalancedStatement> for Error {
    fn from(u: UnbalancedStatement) -> Self {
        let at = format!("{}:{}", u.file, u.line);
        Error::Decode(DecodeError::new(u.to_string()).at(at).with_source(u))
    }
}

/// A decode error at `source:line`.
pub(crate) fn decode_at(source: &str, line: u64, what: impl fmt::Display) -> Error {
    Error::Decode(DecodeError::new(what.to_string()).at(format!("{source}:{line}")))
}

/// Parse a signed decimal as banks write it: `1,234.56`, `+12.00`, `-5`, `¥1.00`; empty is
/// `None`.
pub(crate) fn parse_bank_amount(s: &str) -> std::result::Result<Option<ExactAmount>, String> {
    let t: String = s
        .trim()
        .chars()
        .filter(|c| !matches!(c, ',' | ' ' | '¥' | '￥' | '\u{a0}'))
        .collect();
    if t.is_empty() || t == "-" || t == "--" {
        return Ok(None);
    }
    ExactAmount::parse(&t)
        .map(Some)
        .map_err(|e| format!("amount {s:?}: {e}"))
}

/// `YYYY-MM-DD`.
pub(crate) fn parse_iso_date(s: &str) -> Option<Date> {
    let b = s.trim().as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = b.get(r)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    let y = i32::try_from(num(0..4)?).ok()?;
    let m = time::Month::try_from(u8::try_from(num(5..7)?).ok()?).ok()?;
    let d = u8::try_from(num(8..10)?).ok()?;
    Date::from_calendar_date(y, m, d).ok()
}

/// `YYYY-MM-DDThh:mm:ss[.fff][Z|±hh:mm]`; without an offset, China time.
pub(crate) fn parse_iso_datetime(s: &str) -> Option<OffsetDateTime> {
    let s = s.trim();
    let date = parse_iso_date(s)?;
    let rest = s.get(11..)?;
    let b = rest.as_bytes();
    if b.len() < 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    let h: u8 = rest.get(0..2)?.parse().ok()?;
    let mi: u8 = rest.get(3..5)?.parse().ok()?;
    let se: u8 = rest.get(6..8)?.parse().ok()?;
    let t = time::Time::from_hms(h, mi, se).ok()?;
    let mut tail = &rest[8..];
    if let Some(stripped) = tail.strip_prefix('.') {
        let n = stripped.bytes().take_while(u8::is_ascii_digit).count();
        tail = &stripped[n..];
    }
    let offset = match tail {
        "" => CHINA_OFFSET,
        "Z" => time::UtcOffset::UTC,
        _ => {
            let sign: i8 = match tail.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let oh: i8 = tail.get(1..3)?.parse().ok()?;
            let om: i8 = tail.get(4..6)?.parse().ok()?;
            time::UtcOffset::from_hms(sign * oh, sign * om, 0).ok()?
        }
    };
    Some(date.with_time(t).assume_offset(offset))
}

/// 1-based line numbers of byte offsets, for offsets visited in increasing order.
#[derive(Debug)]
pub(crate) struct LineCounter<'a> {
    raw: &'a [u8],
    off: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    pub(crate) fn new(raw: &'a [u8]) -> Self {
        Self {
            raw,
            off: 0,
            line: 1,
        }
    }

    pub(crate) fn line_at(&mut self, off: usize) -> u64 {
        let off = off.min(self.raw.len());
        if off < self.off {
            self.off = 0;
            self.line = 1;
        }
        let add = self.raw[self.off..off]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        self.line += add as u64;
        self.off = off;
        self.line
    }
}
