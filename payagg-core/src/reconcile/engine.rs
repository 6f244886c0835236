//! The streaming matcher.

use std::collections::{BTreeMap, HashMap};

use time::{Date, OffsetDateTime};

use super::ReconcileConfig;
use super::book::{BookEntry, BookKind, ExpectedFee};
use super::report::{
    BookSide, Category, Discrepancy, Matched, Report, Rule, Side, StatementSide, Tally, Totals,
    Verdict,
};
use super::store::{BookStore, Index, Ns, WARM_BATCH};
use super::sum::{Acc, ratio_ppm, within_ppm};
use crate::channel::Channel;
use crate::error::{Error, Result};
use crate::money::{Currency, ExactAmount};
use crate::statement::{RecordKind, StatementRecord};

const OPEN: u8 = 0;
const TAKEN: u8 = 1;
const BOOK_DUPLICATE: u8 = 2;

#[derive(Debug, Default, Clone, Copy)]
struct TallyAcc {
    count: u64,
    gross: Acc,
    unresolved: Acc,
}

/// Reconciles the books against any number of statements, streaming the statements.
///
/// The books are indexed once ([`Reconciler::new`]); each statement is streamed through
/// [`Reconciler::add_statement`] without being collected (a matched line keeps 64 bytes:
/// book row, file, line, fee, gross, rule); [`Reconciler::finish`] runs the fallback rule for lines
/// without the merchant's key, sweeps the books for rows nothing matched and totals.
///
/// ```
/// use payagg_core::reconcile::{BookEntry, Category, ReconcileConfig, Reconciler};
/// use payagg_core::statement::{RecordKind, StatementRecord};
/// use payagg_core::{Channel, Currency, ExactAmount, Money};
/// use time::macros::datetime;
///
/// let at = datetime!(2024-05-20 10:00 +8);
/// let books = vec![BookEntry::payment("A1", Money::cny(1000), at)];
/// let mut line = StatementRecord::new(Channel::Wechat, RecordKind::Payment,
///     ExactAmount::parse("10.00")?, ExactAmount::parse("-0.06000")?,
///     ExactAmount::parse("9.94000")?, Currency::Cny, at);
/// line.merchant_order_no = Some("A1".into());
/// line.source_line = 2;
///
/// let mut rec = Reconciler::new(ReconcileConfig::default(), books)?;
/// rec.add_records("wechat-2024-05-20.csv", vec![line])?;
/// let report = rec.finish()?;
/// assert_eq!(report.matched_count(), 1);
/// assert!(report.discrepancies().is_empty());
/// assert!(report.closes());
/// # Ok::<(), payagg_core::Error>(())
/// ```
#[derive(Debug)]
pub struct Reconciler {
    config: ReconcileConfig,
    books: BookStore,
    state: Vec<u8>,
    merchant: Index,
    channel: Index,
    files: Vec<String>,
    matched: Vec<Matched>,
    discrepancies: Vec<Discrepancy>,
    pending: Vec<(u32, StatementRecord)>,
    last_date: Option<Date>,
    by_category: BTreeMap<(Category, Currency), TallyAcc>,
    by_channel: BTreeMap<(Option<Channel>, Category, Currency), TallyAcc>,
    gross: BTreeMap<Currency, Acc>,
    unresolved: BTreeMap<Currency, Acc>,
    skipped: BTreeMap<Channel, u64>,
    unsuccessful_absent: u64,
    /// Σ stated fee and the largest scale seen, per channel and currency.
    fees: BTreeMap<(Channel, Currency), (Acc, u8)>,
}

fn merchant_ns(kind: BookKind) -> Ns {
    match kind {
        BookKind::Payment => Ns::PaymentOrder,
        BookKind::Refund => Ns::RefundNo,
    }
}

fn channel_ns(kind: BookKind) -> Ns {
    match kind {
        BookKind::Payment => Ns::PaymentChannel,
        BookKind::Refund => Ns::RefundChannel,
    }
}

/// Round `units` at `from` decimals to `to` decimals, half away from zero.
fn round_units(units: i128, from: u8, to: u8) -> i128 {
    if to >= from {
        return units * 10i128.pow(u32::from(to - from));
    }
    let div = 10i128.pow(u32::from(from - to));
    let (q, r) = (units / div, units % div);
    if 2 * r.abs() >= div {
        q + units.signum()
    } else {
        q
    }
}

impl Reconciler {
    /// Index `books` (held once, compactly; the iterator is consumed, not kept).
    ///
    /// Book rows repeating a merchant key (the order number of a payment, the refund number
    /// of a refund) are reported as [`Category::Duplicate`] on the books side right away;
    /// the first row with the key is the one statements match.
    ///
    /// # Errors
    /// [`Error::Decode`] only past 4 billion rows or 4 GiB of identifiers.
    pub fn new(
        config: ReconcileConfig,
        books: impl IntoIterator<Item = BookEntry>,
    ) -> Result<Self> {
        let books = books.into_iter();
        let cap = books.size_hint().0;
        let mut r = Self {
            config,
            books: BookStore::default(),
            state: Vec::with_capacity(cap),
            merchant: Index::with_capacity(cap),
            channel: Index::with_capacity(0),
            files: Vec::new(),
            matched: Vec::with_capacity(cap),
            discrepancies: Vec::new(),
            pending: Vec::new(),
            last_date: None,
            by_category: BTreeMap::new(),
            by_channel: BTreeMap::new(),
            gross: BTreeMap::new(),
            unresolved: BTreeMap::new(),
            skipped: BTreeMap::new(),
            unsuccessful_absent: 0,
            fees: BTreeMap::new(),
        };
        // In batches whose index slots are warmed together (see `Index::warm`).
        let mut batch = Vec::with_capacity(WARM_BATCH);
        for e in books {
            batch.push(e);
            if batch.len() == WARM_BATCH {
                r.add_books(&mut batch)?;
            }
        }
        r.add_books(&mut batch)?;
        r.books.shrink();
        Ok(r)
    }

    fn add_books(&mut self, batch: &mut Vec<BookEntry>) -> Result<()> {
        std::hint::black_box(self.merchant.warm(batch.iter().map(BookStore::entry_key)));
        for e in batch.drain(..) {
            self.add_book(e)?;
        }
        Ok(())
    }

    fn add_book(&mut self, e: BookEntry) -> Result<()> {
        let id = self.books.push(e)?;
        let books = &self.books;
        let kind = books.row(id).kind;
        let key_of = |i: u32| Some(books.merchant_key(i));
        let (ns, key) = books.merchant_key(id);
        let dup = if ns == Ns::RefundOrder {
            // Partial refunds booked without their own number share the order number:
            // not duplicates; statement lines pick them by order number and amount.
            self.merchant.push(id, ns, key);
            None
        } else {
            self.merchant.insert(id, ns, key, key_of)
        };
        let mut state = OPEN;
        if let Some(first) = dup {
            state = BOOK_DUPLICATE;
            self.book_duplicate(id, first);
        } else if let Some(c) = books.channel_ref(id) {
            let key_of = |i: u32| {
                books
                    .channel_ref(i)
                    .map(|s| (channel_ns(books.row(i).kind), s))
            };
            let _ = self.channel.insert(id, channel_ns(kind), c, key_of);
        }
        self.state.push(state);
        Ok(())
    }

    /// The first open refund booked without a refund number on the statement line's order
    /// whose amount and currency equal the line's (`any_amount`: of any amount).
    fn refund_by_order(&self, r: &StatementRecord, any_amount: bool) -> Option<u32> {
        let order = r.merchant_order_no.as_deref()?;
        let minor = r
            .gross
            .checked_abs()
            .and_then(|a| a.to_minor_exact(r.currency.minor_unit_exponent()))
            .and_then(|m| u64::try_from(m).ok());
        let books = &self.books;
        let key_of = |i: u32| Some(books.merchant_key(i));
        self.merchant
            .find_first(Ns::RefundOrder, order, key_of, |b| {
                let row = books.row(b);
                self.state[b as usize] == OPEN
                    && row.kind == BookKind::Refund
                    && (any_amount
                        || (row.amount.currency() == r.currency
                            && Some(row.amount.minor_units()) == minor))
            })
    }

    /// The open refund booked without a refund number on the line's order, in the line's
    /// currency, whose amount is nearest the line's (the earliest booked on a tie). For a
    /// line no equal amount took, so that a wrong amount is reported against its closest
    /// counterpart whatever order the lines come in. Cold path: the fallback pass only.
    fn nearest_refund_by_order(&self, r: &StatementRecord) -> Option<u32> {
        let order = r.merchant_order_no.as_deref()?;
        let want = Acc::of(r.gross).0.abs();
        let books = &self.books;
        let key_of = |i: u32| Some(books.merchant_key(i));
        let mut best: Option<(i128, u32)> = None;
        let _ = self
            .merchant
            .find_first(Ns::RefundOrder, order, key_of, |b| {
                let row = books.row(b);
                if self.state[b as usize] == OPEN
                    && row.kind == BookKind::Refund
                    && row.amount.currency() == r.currency
                {
                    let d = (Acc::of(self.book_signed(b)).0.abs() - want).abs();
                    if best.is_none_or(|x| (d, b) < x) {
                        best = Some((d, b));
                    }
                }
                false
            });
        best.map(|(_, b)| b)
    }

    /// Stream one statement (its records in file order) against the books. `name` is how
    /// reports refer to the file; returns its index ([`StatementSide::file`]).
    ///
    /// Lines recording fees on their own, transfers and settlements are counted in
    /// [`Totals::skipped`] and otherwise ignored (see `reconcile::match_settlements` for
    /// settlements). Payments and adjustments match payment rows; refunds match refund rows.
    ///
    /// # Errors
    /// The first error the records yield (a parse error naming the file and line), as is.
    pub fn add_statement<I>(&mut self, name: impl Into<String>, records: I) -> Result<usize>
    where
        I: IntoIterator<Item = Result<StatementRecord>>,
    {
        let file = self.new_file(name.into())?;
        // In batches whose index slots are warmed together (see `Index::warm`); the lines
        // before an error are processed before it is returned, as one by one.
        let mut batch = Vec::with_capacity(WARM_BATCH);
        for r in records {
            match r {
                Ok(r) => {
                    batch.push(r);
                    if batch.len() == WARM_BATCH {
                        self.process_batch(file, &mut batch);
                    }
                }
                Err(e) => {
                    self.process_batch(file, &mut batch);
                    return Err(e);
                }
            }
        }
        self.process_batch(file, &mut batch);
        Ok(file as usize)
    }

    fn process_batch(&mut self, file: u32, batch: &mut Vec<StatementRecord>) {
        let keys = batch.iter().filter_map(|r| match r.kind {
            RecordKind::Payment | RecordKind::Adjustment => r
                .merchant_order_no
                .as_deref()
                .map(|k| (Ns::PaymentOrder, k)),
            RecordKind::Refund => r.merchant_refund_no.as_deref().map(|k| (Ns::RefundNo, k)),
            _ => None,
        });
        std::hint::black_box(self.merchant.warm(keys));
        for r in batch.drain(..) {
            self.process(file, r);
        }
    }

    /// [`Reconciler::add_statement`] for records that cannot fail.
    ///
    /// # Errors
    /// Only past 4 billion files.
    pub fn add_records<I>(&mut self, name: impl Into<String>, records: I) -> Result<usize>
    where
        I: IntoIterator<Item = StatementRecord>,
    {
        self.add_statement(name, records.into_iter().map(Ok))
    }

    fn new_file(&mut self, name: String) -> Result<u32> {
        let i = u32::try_from(self.files.len())
            .map_err(|_| Error::decode("more than 4 billion statements"))?;
        self.files.push(name);
        Ok(i)
    }

    fn date_of(&self, t: OffsetDateTime) -> Date {
        t.to_offset(self.config.offset).date()
    }

    fn process(&mut self, file: u32, r: StatementRecord) {
        let kind = match r.kind {
            RecordKind::Payment | RecordKind::Adjustment => BookKind::Payment,
            RecordKind::Refund => BookKind::Refund,
            _ => {
                *self.skipped.entry(r.channel).or_default() += 1;
                return;
            }
        };
        let fee = self.fees.entry((r.channel, r.currency)).or_default();
        fee.0.add(r.fee);
        fee.1 = fee.1.max(r.fee.scale());
        let d = self.date_of(r.occurred_at);
        if self.last_date.is_none_or(|l| d > l) {
            self.last_date = Some(d);
        }
        let (mkey, ckey) = match kind {
            BookKind::Payment => (
                r.merchant_order_no.as_deref(),
                r.channel_trade_no.as_deref(),
            ),
            BookKind::Refund => (
                r.merchant_refund_no.as_deref(),
                r.channel_refund_no.as_deref(),
            ),
        };
        let books = &self.books;
        let mkey_of = |i: u32| Some(books.merchant_key(i));
        let ckey_of = |i: u32| {
            books
                .channel_ref(i)
                .map(|s| (channel_ns(books.row(i).kind), s))
        };
        let mut found = mkey
            .and_then(|k| self.merchant.find(merchant_ns(kind), k, mkey_of))
            .map(|b| (b, Rule::MerchantKey));
        if found.is_none() {
            found = ckey
                .and_then(|k| self.channel.find(channel_ns(kind), k, ckey_of))
                .map(|b| (b, Rule::ChannelKey));
        }
        if found.is_none() && kind == BookKind::Refund {
            // Books may record refunds without their own number: by order number and amount.
            found = self
                .refund_by_order(&r, false)
                .map(|b| (b, Rule::RefundByOrder));
            if found.is_none() && self.refund_by_order(&r, true).is_some() {
                // An open refund of the order with another amount: decided after every
                // line had its chance at an equal amount.
                let mut r = r;
                r.raw = String::new();
                self.pending.push((file, r));
                return;
            }
        }
        let no_merchant_key = mkey.is_none();
        match found {
            Some((b, _)) if self.state[b as usize] != OPEN => {
                self.statement_only(file, r, Category::Duplicate, Rule::RepeatedKey, Some(b));
            }
            Some((b, rule)) => self.decide(b, file, r, rule),
            None if no_merchant_key && self.config.fallback => {
                // Held until the fallback pass: without the raw line, which no report uses.
                let mut r = r;
                r.raw = String::new();
                self.pending.push((file, r));
            }
            None => {
                self.statement_only(file, r, Category::MissingInBooks, Rule::NoCounterpart, None)
            }
        }
    }

    fn tally(
        &mut self,
        cat: Category,
        channel: Option<Channel>,
        cur: Currency,
        gross: Acc,
        unresolved: Acc,
    ) {
        let t = self.by_category.entry((cat, cur)).or_default();
        t.count += 1;
        t.gross = t.gross.plus(gross);
        t.unresolved = t.unresolved.plus(unresolved);
        let t = self.by_channel.entry((channel, cat, cur)).or_default();
        t.count += 1;
        t.gross = t.gross.plus(gross);
        t.unresolved = t.unresolved.plus(unresolved);
        if unresolved.0 != 0 {
            let u = self.unresolved.entry(cur).or_default();
            *u = u.plus(unresolved);
        }
    }

    fn book_signed(&self, b: u32) -> ExactAmount {
        let row = self.books.row(b);
        let exp = row.amount.currency().minor_unit_exponent();
        let units = i64::try_from(row.amount.minor_units()).unwrap_or(i64::MAX);
        let units = match row.kind {
            BookKind::Payment => units,
            BookKind::Refund => -units,
        };
        ExactAmount::from_minor(units, exp)
    }

    /// The expected fee, signed like a statement's (charged on payments: negative; returned
    /// on refunds: positive), exact, as (units at `scale`, scale).
    fn expected_fee(&self, b: u32) -> Option<(i128, u8)> {
        let row = self.books.row(b);
        let sign: i128 = match row.kind {
            BookKind::Payment => -1,
            BookKind::Refund => 1,
        };
        match row.expected_fee? {
            ExpectedFee::Amount(a) => Some((sign * i128::from(a.units()).abs(), a.scale())),
            ExpectedFee::RatePpm(ppm) => {
                let exp = row.amount.currency().minor_unit_exponent();
                Some((
                    sign * i128::from(row.amount.minor_units()) * i128::from(ppm),
                    exp + 6,
                ))
            }
        }
    }

    fn book_side(&self, b: u32) -> BookSide {
        let row = self.books.row(b);
        let expected_fee = self.expected_fee(b).and_then(|(u, s)| {
            let (mut u, mut s) = (u, s);
            while s > 2 && u % 10 == 0 {
                u /= 10;
                s -= 1;
            }
            ExactAmount::new(i64::try_from(u).ok()?, s.min(crate::money::MAX_SCALE)).ok()
        });
        BookSide {
            index: b as usize,
            line: row.source_line,
            kind: row.kind,
            amount: self.book_signed(b),
            currency: row.amount.currency(),
            status: row.status,
            occurred_at: row.occurred_at,
            expected_fee,
        }
    }

    fn statement_side(file: u32, r: StatementRecord) -> StatementSide {
        StatementSide {
            file: file as usize,
            line: r.source_line,
            channel: r.channel,
            kind: r.kind,
            gross: r.gross,
            fee: r.fee,
            net: r.net,
            currency: r.currency,
            occurred_at: r.occurred_at,
            channel_kind: r.channel_kind,
        }
    }

    fn days_apart(&self, b: u32, t: OffsetDateTime) -> i32 {
        let bd = self.date_of(self.books.row(b).occurred_at);
        let sd = self.date_of(t);
        i32::try_from((sd - bd).whole_days()).unwrap_or(i32::MAX)
    }

    fn decide(&mut self, b: u32, file: u32, r: StatementRecord, rule: Rule) {
        self.state[b as usize] = TAKEN;
        let row = self.books.row(b);
        let book_moved = row.status.is_success();
        let record_moved = r.kind != RecordKind::Adjustment;
        let book_cur = row.amount.currency();
        let book_amount = self.book_signed(b);
        let days = self.days_apart(b, r.occurred_at);
        let channel = Some(r.channel);
        let (cat, unresolved, cur) = if book_moved != record_moved {
            if book_moved {
                (
                    Category::StatusMismatch,
                    Acc::of(book_amount).0.abs(),
                    book_cur,
                )
            } else {
                // The statement's money is not in the books' gross: add it.
                let g = Acc(Acc::of(r.gross).0.abs());
                let e = self.gross.entry(r.currency).or_default();
                *e = e.plus(g);
                (Category::StatusMismatch, g.0, r.currency)
            }
        } else if !book_moved {
            (Category::Matched, 0, book_cur)
        } else if r.currency != book_cur {
            (
                Category::AmountMismatch,
                Acc::of(book_amount).0.abs(),
                book_cur,
            )
        } else if r.gross != book_amount {
            let d = Acc::of(r.gross).0 - Acc::of(book_amount).0;
            (Category::AmountMismatch, d.abs(), book_cur)
        } else if let Some((units, scale)) = self.expected_fee(b) {
            let stated_scale = r.fee.scale();
            let stated = i128::from(r.fee.units());
            if round_units(units, scale, stated_scale) == stated {
                (Category::Matched, 0, book_cur)
            } else {
                let exact = Acc(round_units(units, scale, crate::money::MAX_SCALE));
                (
                    Category::FeeDifference,
                    (Acc::of(r.fee).0 - exact.0).abs(),
                    book_cur,
                )
            }
        } else {
            (Category::Matched, 0, book_cur)
        };
        let gross = Acc(Acc::of(book_amount).0.abs());
        self.tally(cat, channel.or(row.channel), cur, gross, Acc(unresolved));
        if cat == Category::Matched {
            self.matched.push(Matched {
                book: b,
                file,
                line: r.source_line,
                fee: r.fee,
                gross: r.gross,
                rule,
                days_apart: days,
                channel: r.channel,
            });
            return;
        }
        let d = Discrepancy {
            category: cat,
            rule,
            side: None,
            channel,
            merchant_order_no: Some(self.books.order_no(b).to_owned()),
            merchant_refund_no: self
                .books
                .refund_no(b)
                .map(str::to_owned)
                .or_else(|| r.merchant_refund_no.clone()),
            channel_ref: match r.kind {
                RecordKind::Refund => r.channel_refund_no.clone(),
                _ => r.channel_trade_no.clone(),
            }
            .or_else(|| self.books.channel_ref(b).map(str::to_owned)),
            book: Some(self.book_side(b)),
            statement: None,
            days_apart: Some(days),
            unresolved: Acc(unresolved).to_amount(2).unwrap_or(ExactAmount::ZERO),
            currency: cur,
        };
        let st = Self::statement_side(file, r);
        self.discrepancies.push(Discrepancy {
            statement: Some(st),
            ..d
        });
    }

    /// A statement line without a (free) book row: missing in books, or a duplicate of the
    /// line that took book row `first`.
    fn statement_only(
        &mut self,
        file: u32,
        r: StatementRecord,
        cat: Category,
        rule: Rule,
        first: Option<u32>,
    ) {
        let g = Acc(Acc::of(r.gross).0.abs());
        let e = self.gross.entry(r.currency).or_default();
        *e = e.plus(g);
        self.tally(cat, Some(r.channel), r.currency, g, g);
        let days_apart = first.map(|b| self.days_apart(b, r.occurred_at));
        let book = first.map(|b| self.book_side(b));
        self.discrepancies.push(Discrepancy {
            category: cat,
            rule,
            side: Some(Side::Statement),
            channel: Some(r.channel),
            merchant_order_no: r.merchant_order_no.clone(),
            merchant_refund_no: r.merchant_refund_no.clone(),
            channel_ref: match r.kind {
                RecordKind::Refund => r.channel_refund_no.clone(),
                _ => r.channel_trade_no.clone(),
            },
            book,
            days_apart,
            unresolved: g.to_amount(2).unwrap_or(ExactAmount::ZERO),
            currency: r.currency,
            statement: Some(Self::statement_side(file, r)),
        });
    }

    fn book_duplicate(&mut self, id: u32, _first: u32) {
        let row = self.books.row(id);
        let amount = Acc(Acc::of(self.book_signed(id)).0.abs());
        let unresolved = if row.status.is_success() {
            amount
        } else {
            Acc(0)
        };
        let (channel, cur) = (row.channel, row.amount.currency());
        self.tally(Category::Duplicate, channel, cur, amount, unresolved);
        self.discrepancies.push(Discrepancy {
            category: Category::Duplicate,
            rule: Rule::RepeatedKey,
            side: Some(Side::Books),
            channel,
            merchant_order_no: Some(self.books.order_no(id).to_owned()),
            merchant_refund_no: self.books.refund_no(id).map(str::to_owned),
            channel_ref: self.books.channel_ref(id).map(str::to_owned),
            book: Some(self.book_side(id)),
            statement: None,
            days_apart: None,
            unresolved: unresolved.to_amount(2).unwrap_or(ExactAmount::ZERO),
            currency: cur,
        });
    }

    fn fallback(&mut self) {
        let pending = std::mem::take(&mut self.pending);
        if pending.is_empty() {
            return;
        }
        // (kind, currency, minor units) → open successful rows.
        let mut by_amount: HashMap<(BookKind, Currency, u64), Vec<u32>> = HashMap::new();
        for (i, &s) in self.state.iter().enumerate() {
            let Ok(id) = u32::try_from(i) else { break };
            let row = self.books.row(id);
            if s == OPEN && row.status.is_success() {
                by_amount
                    .entry((row.kind, row.amount.currency(), row.amount.minor_units()))
                    .or_default()
                    .push(id);
            }
        }
        let window = i64::from(self.config.date_window_days);
        for (file, r) in pending {
            if r.kind == RecordKind::Refund
                && let Some(b) = self
                    .refund_by_order(&r, false)
                    .or_else(|| self.nearest_refund_by_order(&r))
                    .or_else(|| self.refund_by_order(&r, true))
            {
                self.decide(b, file, r, Rule::RefundByOrder);
                continue;
            }
            if !self.config.fallback {
                self.statement_only(file, r, Category::MissingInBooks, Rule::NoCounterpart, None);
                continue;
            }
            let kind = if r.kind == RecordKind::Refund {
                BookKind::Refund
            } else {
                BookKind::Payment
            };
            let minor = r
                .gross
                .checked_abs()
                .and_then(|a| a.to_minor_exact(r.currency.minor_unit_exponent()))
                .and_then(|m| u64::try_from(m).ok());
            let best = minor.and_then(|m| {
                by_amount
                    .get(&(kind, r.currency, m))?
                    .iter()
                    .copied()
                    .filter(|&b| self.state[b as usize] == OPEN)
                    .filter(|&b| i64::from(self.days_apart(b, r.occurred_at)).abs() <= window)
                    .filter(|&b| {
                        r.merchant_order_no
                            .as_deref()
                            .is_none_or(|o| o == self.books.order_no(b))
                    })
                    .min_by_key(|&b| (self.books.row(b).occurred_at - r.occurred_at).abs())
            });
            match best {
                Some(b) => self.decide(b, file, r, Rule::AmountInWindow),
                None => self.statement_only(
                    file,
                    r,
                    Category::MissingInBooks,
                    Rule::NoCounterpart,
                    None,
                ),
            }
        }
    }

    /// Run the fallback rule, sweep the books for rows nothing matched, total, and judge.
    ///
    /// A successful book row without a counterpart is [`Category::Timing`] when its date
    /// plus the window reaches past the last statement day (the configured
    /// [`ReconcileConfig::period_end`], else the latest date of any statement line), and
    /// [`Category::MissingInChannel`] otherwise. Unsuccessful rows without a counterpart
    /// are as expected and only counted.
    ///
    /// # Errors
    /// [`Error::Decode`] if a total overflows an [`ExactAmount`].
    pub fn finish(mut self) -> Result<Report> {
        self.fallback();
        let end = self.config.period_end.or(self.last_date);
        let window = i64::from(self.config.date_window_days);
        for i in 0..self.books.len() {
            let Ok(id) = u32::try_from(i) else { break };
            let row = self.books.row(id);
            if row.status.is_success() {
                let signed = self.book_signed(id);
                self.gross
                    .entry(row.amount.currency())
                    .or_default()
                    .add_abs(signed);
            }
            if self.state[i] != OPEN {
                continue;
            }
            if !row.status.is_success() {
                self.unsuccessful_absent += 1;
                continue;
            }
            let d = self.date_of(row.occurred_at);
            let timing = end.is_some_and(|end| (end - d).whole_days() < window);
            let (cat, rule) = if timing {
                (Category::Timing, Rule::AwaitingLaterStatement)
            } else {
                (Category::MissingInChannel, Rule::NoCounterpart)
            };
            let amount = Acc(Acc::of(self.book_signed(id)).0.abs());
            let unresolved = if timing && !self.config.count_timing {
                Acc(0)
            } else {
                amount
            };
            let (channel, cur) = (row.channel, row.amount.currency());
            self.tally(cat, channel, cur, amount, unresolved);
            self.discrepancies.push(Discrepancy {
                category: cat,
                rule,
                side: Some(Side::Books),
                channel,
                merchant_order_no: Some(self.books.order_no(id).to_owned()),
                merchant_refund_no: self.books.refund_no(id).map(str::to_owned),
                channel_ref: self.books.channel_ref(id).map(str::to_owned),
                book: Some(self.book_side(id)),
                statement: None,
                days_apart: None,
                unresolved: unresolved.to_amount(2)?,
                currency: cur,
            });
        }
        let conv = |t: &TallyAcc| -> Result<Tally> {
            Ok(Tally {
                count: t.count,
                gross: t.gross.to_amount(2)?,
                unresolved: t.unresolved.to_amount(2)?,
            })
        };
        let mut totals = Totals {
            skipped: self.skipped,
            unsuccessful_absent: self.unsuccessful_absent,
            ..Totals::default()
        };
        for (k, t) in &self.by_category {
            totals.by_category.insert(*k, conv(t)?);
        }
        for (k, t) in &self.by_channel {
            totals.by_channel.insert(*k, conv(t)?);
        }
        for (k, (sum, scale)) in &self.fees {
            totals.fees.insert(*k, sum.to_amount((*scale).max(2))?);
        }
        let mut currencies: Vec<Currency> = self.gross.keys().copied().collect();
        currencies.extend(self.unresolved.keys().copied());
        currencies.sort();
        currencies.dedup();
        let ppm = self.config.close_threshold_ppm;
        for cur in currencies {
            let g = self.gross.get(&cur).copied().unwrap_or_default();
            let u = self.unresolved.get(&cur).copied().unwrap_or_default();
            totals.verdicts.push(Verdict {
                currency: cur,
                gross: g.to_amount(2)?,
                unresolved: u.to_amount(2)?,
                ratio_ppm: ratio_ppm(u, g),
                threshold_ppm: ppm,
                closes: within_ppm(u, g, ppm),
            });
        }
        self.matched.shrink_to_fit();
        Ok(Report {
            files: self.files,
            discrepancies: self.discrepancies,
            matched: self.matched,
            books: self.books,
            totals,
        })
    }
}
