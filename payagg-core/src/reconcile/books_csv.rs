//! The books as a CSV file.

use std::io::Read;

use time::OffsetDateTime;

use super::book::{BookEntry, BookKind, BookStatus, ExpectedFee};
use crate::channel::Channel;
use crate::clock::CHINA_OFFSET;
use crate::error::{DecodeError, Error, Result};
use crate::money::{Currency, ExactAmount, Money};

/// The columns [`BooksCsv`] reads, in any order (header names exact, lowercase).
///
/// Required: `merchant_order_no`, `kind` (`payment`/`refund`), `amount` (major units,
/// `12.30`), `occurred_at` (RFC 3339, or `YYYY-MM-DD hh:mm:ss` in China time).
/// Optional: `merchant_refund_no`, `currency` (default CNY), `status` (default `success`;
/// `success`, `pending`, `failed`, `closed` and synonyms), `channel` (`wechat`, `alipay`,
/// `unionpay`), `channel_trade_no` (the channel's trade or refund number), `expected_fee`
/// (a positive charge, any precision: `0.00600`), `fee_rate` (a percentage, `0.6` = 0.6 %).
pub const BOOKS_COLUMNS: &[&str] = &[
    "merchant_order_no",
    "merchant_refund_no",
    "kind",
    "amount",
    "currency",
    "status",
    "occurred_at",
    "channel",
    "channel_trade_no",
    "expected_fee",
    "fee_rate",
];

#[derive(Debug, Default, Clone, Copy)]
struct Cols {
    order: usize,
    refund: Option<usize>,
    kind: usize,
    amount: usize,
    currency: Option<usize>,
    status: Option<usize>,
    at: usize,
    channel: Option<usize>,
    chref: Option<usize>,
    fee: Option<usize>,
    rate: Option<usize>,
}

/// Streams [`BookEntry`]s from a books CSV (UTF-8, header row first; see
/// [`BOOKS_COLUMNS`]). Errors name `source:line`.
///
/// ```
/// use payagg_core::reconcile::BooksCsv;
///
/// let csv = "merchant_order_no,merchant_refund_no,kind,amount,currency,status,occurred_at\n\
///            A1,,payment,12.30,CNY,success,2024-05-20T10:00:00+08:00\n\
///            A1,R1,refund,2.30,CNY,success,2024-05-21 09:00:00\n";
/// let books: Vec<_> = BooksCsv::new(csv.as_bytes(), "books.csv")?.collect::<Result<_, _>>()?;
/// assert_eq!(books[1].merchant_refund_no.as_deref(), Some("R1"));
/// assert_eq!(books[1].source_line, 3);
/// # Ok::<(), payagg_core::Error>(())
/// ```
#[derive(Debug)]
pub struct BooksCsv<R> {
    rdr: csv::Reader<LineTrack<R>>,
    cols: Cols,
    source: String,
    record: csv::StringRecord,
}

fn bad(source: &str, line: u64, what: impl Into<String>) -> Error {
    Error::Decode(DecodeError::new(what).at(format!("{source}:{line}")))
}

/// `YYYY-MM-DD hh:mm:ss` (China time) or RFC 3339.
fn parse_time(s: &str) -> Option<OffsetDateTime> {
    if let Some(t) = crate::clock::parse_china_datetime(s.as_bytes()) {
        return Some(t);
    }
    if let Ok(t) = OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339) {
        return Some(t);
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    time::PrimitiveDateTime::parse(s, fmt)
        .ok()
        .map(|t| t.assume_offset(CHINA_OFFSET))
}

impl<R: Read> BooksCsv<R> {
    /// Read the header of `reader`.
    ///
    /// # Errors
    /// [`Error::Decode`] at `source:1` when the header lacks a required column.
    pub fn new(reader: R, source: &str) -> Result<Self> {
        let mut rdr = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(LineTrack::new(reader));
        let header = rdr
            .headers()
            .map_err(|e| bad(source, 1, format!("books CSV header: {e}")))?
            .clone();
        let find = |n: &str| {
            header
                .iter()
                .position(|h| h.trim().trim_start_matches('\u{feff}') == n)
        };
        let need = |n: &str| {
            find(n).ok_or_else(|| {
                bad(
                    source,
                    1,
                    format!(
                        "books CSV: no {n} column (columns: {})",
                        BOOKS_COLUMNS.join(",")
                    ),
                )
            })
        };
        let cols = Cols {
            order: need("merchant_order_no")?,
            refund: find("merchant_refund_no"),
            kind: need("kind")?,
            amount: need("amount")?,
            currency: find("currency"),
            status: find("status"),
            at: need("occurred_at")?,
            channel: find("channel"),
            chref: find("channel_trade_no"),
            fee: find("expected_fee"),
            rate: find("fee_rate"),
        };
        Ok(Self {
            rdr,
            cols,
            source: source.to_owned(),
            record: csv::StringRecord::new(),
        })
    }

    fn entry(&self, line: u64) -> Result<BookEntry> {
        let r = &self.record;
        let c = self.cols;
        let src = self.source.as_str();
        let get = |i: usize| r.get(i).map_or("", str::trim);
        let opt = |i: Option<usize>| i.map(get).filter(|s| !s.is_empty());
        let order = get(c.order);
        if order.is_empty() {
            return Err(bad(src, line, "empty merchant_order_no"));
        }
        let kind: BookKind = get(c.kind)
            .parse()
            .map_err(|e| bad(src, line, format!("{e}")))?;
        let currency = match opt(c.currency) {
            Some(code) => Currency::from_code(code).map_err(|e| bad(src, line, e.to_string()))?,
            None => Currency::Cny,
        };
        let amount = Money::parse_major(get(c.amount), currency)
            .map_err(|e| bad(src, line, e.to_string()))?;
        let at = parse_time(get(c.at)).ok_or_else(|| {
            bad(
                src,
                line,
                format!(
                    "occurred_at {:?} is neither RFC 3339 nor YYYY-MM-DD hh:mm:ss",
                    get(c.at)
                ),
            )
        })?;
        let mut e = match (kind, opt(c.refund)) {
            (BookKind::Refund, Some(rn)) => BookEntry::refund(order, rn, amount, at),
            (BookKind::Refund, None) => {
                let mut e = BookEntry::payment(order, amount, at);
                e.kind = BookKind::Refund;
                e
            }
            (BookKind::Payment, _) => BookEntry::payment(order, amount, at),
        };
        if let Some(s) = opt(c.status) {
            e.status = s
                .parse::<BookStatus>()
                .map_err(|x| bad(src, line, x.to_string()))?;
        }
        if let Some(ch) = opt(c.channel) {
            e.channel = Some(
                Channel::from_name(ch)
                    .or_else(|| Channel::from_name(&ch.to_ascii_lowercase()))
                    .ok_or_else(|| bad(src, line, format!("unknown channel {ch:?}")))?,
            );
        }
        e.channel_ref = opt(c.chref).map(str::to_owned);
        if let Some(f) = opt(c.fee) {
            let a =
                ExactAmount::parse(f).map_err(|x| bad(src, line, format!("expected_fee: {x}")))?;
            e.expected_fee = Some(ExpectedFee::Amount(a.checked_abs().unwrap_or(a)));
        } else if let Some(p) = opt(c.rate) {
            let a = ExactAmount::parse(p.trim_end_matches('%'))
                .map_err(|x| bad(src, line, format!("fee_rate: {x}")))?;
            // percent × 10 000 = ppm
            let ppm = a
                .rescale(4)
                .filter(|_| !a.is_negative())
                .and_then(|a| u32::try_from(a.units()).ok())
                .ok_or_else(|| {
                    bad(
                        src,
                        line,
                        format!("fee_rate {p:?} is not a percentage with at most 4 decimals"),
                    )
                })?;
            e.expected_fee = Some(ExpectedFee::RatePpm(ppm));
        }
        e.source_line = line;
        Ok(e)
    }
}

impl<R: Read> Iterator for BooksCsv<R> {
    type Item = Result<BookEntry>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.rdr.read_record(&mut self.record) {
                Ok(false) => return None,
                Ok(true) => {
                    // The csv crate does not count blank lines; count them from byte offsets.
                    let byte = self.record.position().map_or(0, csv::Position::byte);
                    let line = self.rdr.get_mut().line_at(byte);
                    if self.record.iter().all(|f| f.trim().is_empty()) {
                        continue;
                    }
                    return Some(self.entry(line));
                }
                Err(e) => {
                    let byte = e.position().map_or(0, csv::Position::byte);
                    let line = self.rdr.get_mut().line_at(byte);
                    return Some(Err(bad(&self.source, line, format!("books CSV: {e}"))));
                }
            }
        }
    }
}

/// A reader that remembers where the newlines it passed on are, just long enough to turn a
/// record's byte offset into its 1-based line (memory: one read-ahead buffer's newlines).
#[derive(Debug)]
pub(crate) struct LineTrack<R> {
    inner: R,
    consumed: u64,
    pending: std::collections::VecDeque<u64>,
    lines_before: u64,
}

impl<R> LineTrack<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            consumed: 0,
            pending: std::collections::VecDeque::new(),
            lines_before: 0,
        }
    }

    /// The line of byte offset `byte`; offsets must not decrease between calls.
    /// A record's position may point at blank lines the csv crate skipped before it; they
    /// are stepped over.
    fn line_at(&mut self, mut byte: u64) -> u64 {
        while let Some(&nl) = self.pending.front() {
            if nl > byte {
                break;
            }
            if nl == byte {
                byte += 1;
            }
            self.pending.pop_front();
            self.lines_before += 1;
        }
        self.lines_before + 1
    }
}

impl<R: Read> Read for LineTrack<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let base = self.consumed;
        self.pending
            .extend(memchr::memchr_iter(b'\n', &buf[..n]).map(|i| base + i as u64));
        self.consumed += n as u64;
        Ok(n)
    }
}
