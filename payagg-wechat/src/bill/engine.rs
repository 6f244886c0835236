//! The streaming engine shared by the trade and fund-flow bills: line splitting, the
//! backtick field format, the header, the summary section and its check.

use payagg_core::clock::CHINA_OFFSET;
use payagg_core::error::{DecodeError, Error};
use payagg_core::money::ExactAmount;
use payagg_core::statement::StatementRecord;
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time};

use super::BillSummary;

/// One bill layout: how a header is understood, how a row becomes a record, and how the
/// summary is checked against what the rows added up to.
pub(crate) trait Layout: Sized {
    /// What the file is, for error messages.
    const WHAT: &'static str;
    /// Understand the header (column names, in file order).
    fn from_header(names: &[&str]) -> Result<Self, String>;
    /// The number of columns every row must have.
    fn columns(&self) -> usize;
    /// Map one row (its fields without backticks) to a record, accumulating totals.
    fn map_row(
        &mut self,
        fields: &[&str],
        line_no: u64,
        raw: &str,
    ) -> Result<StatementRecord, String>;
    /// Compare the summary section with the accumulated totals over `rows` rows.
    fn check_summary(
        &self,
        names: &[&str],
        values: &[&str],
        rows: u64,
    ) -> Result<BillSummary, String>;
}

/// Where the parser is in the file.
enum Phase {
    Header,
    Rows,
    Summary { names: Vec<String> },
    Trailing,
    Done,
}

/// The parser's state between lines: everything but the bytes, so that the same code reads
/// a borrowed file ([`BillIter`]) and a stream ([`ReadIter`]).
pub(crate) struct BillState<L> {
    line_no: u64,
    phase: Phase,
    layout: Option<L>,
    /// The field buffer, kept between lines (empty; see [`recycle`]).
    spare: Vec<&'static str>,
    rows: u64,
    row_errors: u64,
    summary: Option<BillSummary>,
}

/// The lazy record iterator over a borrowed bill.
pub(crate) struct BillIter<'a, L> {
    data: &'a [u8],
    pos: usize,
    state: BillState<L>,
}

/// The lazy record iterator over a bill read line by line from `R` (one line in memory).
pub(crate) struct ReadIter<R, L> {
    reader: R,
    buf: Vec<u8>,
    state: BillState<L>,
}

/// An empty vector of string slices of another lifetime, reusing `v`'s allocation (an
/// in-place collect of nothing): the field buffer outlives the lines it points into.
fn recycle<'y>(mut v: Vec<&str>) -> Vec<&'y str> {
    v.clear();
    v.into_iter().map(|_| "").collect()
}

pub(crate) fn decode_error(what: &str, line_no: u64, msg: impl std::fmt::Display) -> Error {
    Error::Decode(DecodeError::new(format!("{what}: {msg}")).at(format!("line {line_no}")))
}

impl<L: Layout> BillState<L> {
    fn new() -> Self {
        Self {
            line_no: 0,
            phase: Phase::Header,
            layout: None,
            spare: Vec::with_capacity(32),
            rows: 0,
            row_errors: 0,
            summary: None,
        }
    }

    fn done(&self) -> bool {
        matches!(self.phase, Phase::Done)
    }

    fn err(&self, msg: impl std::fmt::Display) -> Error {
        decode_error(L::WHAT, self.line_no, msg)
    }

    fn fail(
        &mut self,
        msg: impl std::fmt::Display,
    ) -> Option<crate::bill::Result<StatementRecord>> {
        let e = self.err(msg);
        self.phase = Phase::Done;
        Some(Err(e))
    }

    /// The end of the file: an error where a section is missing, else nothing.
    fn eof(&mut self) -> Option<crate::bill::Result<StatementRecord>> {
        match self.phase {
            Phase::Rows => {
                self.fail("the file ends without its summary section (truncated download?)")
            }
            Phase::Summary { .. } => self.fail("the summary header has no values line"),
            Phase::Header | Phase::Trailing | Phase::Done => {
                self.phase = Phase::Done;
                None
            }
        }
    }

    /// The next line, without its line ending: a record, an error, or nothing to yield.
    fn line(&mut self, line: &[u8]) -> Option<crate::bill::Result<StatementRecord>> {
        self.line_no += 1;
        match &self.phase {
            Phase::Done => None,
            Phase::Header => {
                if is_blank(line) {
                    return None;
                }
                let Ok(text) = std::str::from_utf8(line) else {
                    return self.fail("the header is not UTF-8");
                };
                if is_no_bill_answer(text) {
                    self.phase = Phase::Done;
                    return None;
                }
                let names: Vec<&str> = text.split(',').map(str::trim).collect();
                match L::from_header(&names) {
                    Ok(l) => {
                        self.layout = Some(l);
                        self.phase = Phase::Rows;
                        None
                    }
                    Err(e) => self.fail(e),
                }
            }
            Phase::Rows => {
                if line.is_empty() || is_blank(line) {
                    return None;
                }
                // SIMD validation: the rows are most of the file.
                let Ok(text) = simdutf8::basic::from_utf8(line) else {
                    self.row_errors += 1;
                    return Some(Err(self.err("the line is not UTF-8")));
                };
                if !text.starts_with('`') {
                    let names = text.split(',').map(|n| n.trim().to_owned()).collect();
                    self.phase = Phase::Summary { names };
                    return None;
                }
                let line_no = self.line_no;
                let mut fields = recycle(std::mem::take(&mut self.spare));
                split_backticked(text, &mut fields);
                let result = match self.layout.as_mut() {
                    None => Err("no header".to_owned()),
                    Some(layout) if fields.len() != layout.columns() => Err(format!(
                        "{} fields where the header has {} columns",
                        fields.len(),
                        layout.columns()
                    )),
                    Some(layout) => layout.map_row(&fields, line_no, text),
                };
                self.spare = recycle(fields);
                self.rows += 1;
                Some(result.map_err(|e| {
                    self.row_errors += 1;
                    self.err(e)
                }))
            }
            Phase::Summary { names } => {
                if is_blank(line) {
                    return None;
                }
                let names = names.clone();
                let Ok(text) = std::str::from_utf8(line) else {
                    return self.fail("the summary line is not UTF-8");
                };
                if !text.starts_with('`') {
                    return self.fail("the summary values line does not start with a backtick");
                }
                let mut values = Vec::with_capacity(names.len());
                split_backticked(text, &mut values);
                if values.len() != names.len() {
                    return self.fail(format!(
                        "the summary has {} values for {} names",
                        values.len(),
                        names.len()
                    ));
                }
                self.phase = Phase::Trailing;
                if self.row_errors > 0 {
                    // The totals cannot agree; the row errors were reported already.
                    return None;
                }
                let names: Vec<&str> = names.iter().map(String::as_str).collect();
                let checked = match &self.layout {
                    Some(l) => l.check_summary(&names, &values, self.rows),
                    None => Err("no header".to_owned()),
                };
                match checked {
                    Ok(s) => {
                        self.summary = Some(s);
                        None
                    }
                    Err(e) => self.fail(format!("summary check failed: {e}")),
                }
            }
            Phase::Trailing => {
                if is_blank(line) {
                    None
                } else {
                    self.fail("unexpected content after the summary line")
                }
            }
        }
    }
}

/// `line` without its `\n` and then `\r` ending.
fn trim_line_end(mut line: &[u8]) -> &[u8] {
    if let [head @ .., b'\n'] = line {
        line = head;
    }
    if let [head @ .., b'\r'] = line {
        line = head;
    }
    line
}

impl<'a, L: Layout> BillIter<'a, L> {
    pub(crate) fn new(raw: &'a [u8]) -> Self {
        let pos = if raw.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        };
        Self {
            data: raw,
            pos,
            state: BillState::new(),
        }
    }

    /// The summary once the iterator has run to the end and it checked out; `None` for an
    /// empty bill or when the file had errors.
    pub(crate) fn into_summary(self) -> Option<BillSummary> {
        self.state.summary
    }

    /// The next line without its line ending.
    fn next_line(&mut self) -> Option<&'a [u8]> {
        let data: &'a [u8] = self.data;
        if self.pos >= data.len() {
            return None;
        }
        let rest = &data[self.pos..];
        let (line, advance) = match memchr::memchr(b'\n', rest) {
            Some(i) => (&rest[..i], i + 1),
            None => (rest, rest.len()),
        };
        self.pos += advance;
        Some(trim_line_end(line))
    }
}

impl<'a, L: Layout> Iterator for BillIter<'a, L> {
    type Item = crate::bill::Result<StatementRecord>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.state.done() {
            let item = match self.next_line() {
                Some(line) => self.state.line(line),
                None => return self.state.eof(),
            };
            if item.is_some() {
                return item;
            }
        }
        None
    }
}

impl<R: std::io::BufRead, L: Layout> ReadIter<R, L> {
    pub(crate) fn new(reader: R) -> Self {
        Self {
            reader,
            buf: Vec::with_capacity(1024),
            state: BillState::new(),
        }
    }

    /// The summary once the iterator has run to the end and it checked out.
    pub(crate) fn into_summary(self) -> Option<BillSummary> {
        self.state.summary
    }
}

impl<R: std::io::BufRead, L: Layout> Iterator for ReadIter<R, L> {
    type Item = crate::bill::Result<StatementRecord>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.state.done() {
            self.buf.clear();
            let item = match self.reader.read_until(b'\n', &mut self.buf) {
                Ok(0) => return self.state.eof(),
                Ok(_) => {
                    let mut line = trim_line_end(&self.buf);
                    if self.state.line_no == 0 {
                        line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
                    }
                    self.state.line(line)
                }
                Err(e) => {
                    self.state.line_no += 1;
                    let e = Error::Decode(
                        DecodeError::new(format!("{}: cannot read the file", L::WHAT))
                            .at(format!("line {}", self.state.line_no))
                            .with_source(e),
                    );
                    self.state.phase = Phase::Done;
                    return Some(Err(e));
                }
            };
            if item.is_some() {
                return item;
            }
        }
        None
    }
}

fn is_blank(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}

/// Whether the "file" is in fact WeChat's answer that there is no bill for the day
/// (APIv2 `No Bill Exist` / `NO_BILL_EXIST`, APIv3 `NO_STATEMENT_EXIST`).
fn is_no_bill_answer(line: &str) -> bool {
    let t = line.trim_start();
    (t.starts_with('<') || t.starts_with('{'))
        && (t.contains("No Bill Exist")
            || t.contains("NO_BILL_EXIST")
            || t.contains("NO_STATEMENT_EXIST")
            || t.contains("20002"))
}

/// Split a backticked line (`` `a,`b,`` ``) into its fields.
///
/// A field boundary is a backtick right after a comma (a comma or backtick elsewhere is
/// part of the value). The backticks are found eight bytes at a time (SWAR: a word whose
/// bytes equal `` ` `` gets their high bit set), which beats a `memchr` call per field on
/// these short fields.
pub(crate) fn split_backticked<'a>(line: &'a str, out: &mut Vec<&'a str>) {
    out.clear();
    let b = line.as_bytes();
    let mut start = 1;
    let mut boundary = |j: usize, out: &mut Vec<&'a str>| {
        if j > start && b[j - 1] == b',' {
            out.push(line.get(start..j - 1).unwrap_or_default());
            start = j + 1;
        }
    };
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const TICKS: u64 = ONES * (b'`' as u64);
    let mut base = 1;
    let mut words = b.get(1..).unwrap_or_default().chunks_exact(8);
    for w in &mut words {
        let mut word = [0u8; 8];
        word.copy_from_slice(w);
        let x = u64::from_le_bytes(word) ^ TICKS;
        // Exact zero-byte mask: high bit set only in bytes of `x` that are zero.
        let mut m = !(((x & !HIGH) + !HIGH) | x | !HIGH);
        while m != 0 {
            boundary(base + (m.trailing_zeros() / 8) as usize, out);
            m &= m - 1;
        }
        base += 8;
    }
    for (k, &c) in words.remainder().iter().enumerate() {
        if c == b'`' {
            boundary(base + k, out);
        }
    }
    out.push(line.get(start..).unwrap_or_default());
}

/// A blank record to fill in. `StatementRecord` is `#[non_exhaustive]` without a constructor
/// in core, so one is deserialized once per file and cloned per row (cloning its empty
/// strings does not allocate).
pub(crate) fn record_template() -> Result<StatementRecord, String> {
    serde_json::from_value(serde_json::json!({
        "channel": "wechat", "kind": "adjustment", "merchant_order_no": null, "channel_trade_no": null,
        "merchant_refund_no": null, "channel_refund_no": null, "gross": "0.00", "fee": "0.00",
        "net": "0.00", "currency": "CNY", "occurred_at": "2000-01-01T00:00:00+08:00",
        "settle_date": null, "channel_kind": "", "source_line": 0, "raw": "",
    }))
    .map_err(|e| format!("internal: cannot build a statement record: {e}"))
}

/// [`parse_china_time`] remembering the last date: a bill covers one day, so the date part
/// of nearly every row equals the previous row's and only the time is read.
#[derive(Debug, Default)]
pub(crate) struct TimeCache {
    last: Option<([u8; 10], Date)>,
}

impl TimeCache {
    pub(crate) fn parse(&mut self, s: &str) -> Result<OffsetDateTime, String> {
        let b = s.as_bytes();
        if let (Some((key, date)), Some(head), 19) = (&self.last, b.get(..10), b.len())
            && head == key
            && b[10] == b' '
            && b[13] == b':'
            && b[16] == b':'
        {
            let two = |i: usize| {
                let (h, l) = (b[i].wrapping_sub(b'0'), b[i + 1].wrapping_sub(b'0'));
                (h <= 9 && l <= 9).then_some(h * 10 + l)
            };
            if let (Some(h), Some(m), Some(sec)) = (two(11), two(14), two(17))
                && let Ok(t) = Time::from_hms(h, m, sec)
            {
                return Ok(PrimitiveDateTime::new(*date, t).assume_offset(CHINA_OFFSET));
            }
        }
        let t = parse_china_time(s)?;
        if let Some(head) = b.get(..10).and_then(|h| <[u8; 10]>::try_from(h).ok()) {
            self.last = Some((head, t.date()));
        }
        Ok(t)
    }
}

/// Parse `YYYY-MM-DD hh:mm:ss` in China time.
pub(crate) fn parse_china_time(s: &str) -> Result<OffsetDateTime, String> {
    payagg_core::clock::parse_china_datetime(s.as_bytes())
        .ok_or_else(|| format!("time {s:?} is not YYYY-MM-DD hh:mm:ss"))
}

/// Parse a bill amount; an empty field is zero.
pub(crate) fn parse_amount(s: &str, column: &str) -> Result<ExactAmount, String> {
    // Most amount fields of a row are empty or "0.00" (refund columns of payments and the
    // reverse): skip the parser for them.
    if s.is_empty() || s == "0.00" {
        return Ok(ExactAmount::ZERO);
    }
    if let Some(a) = parse_plain_amount(s.as_bytes()) {
        return Ok(a);
    }
    ExactAmount::parse(s).map_err(|e| format!("{column}: {e}"))
}

/// The common shape of a bill amount, `-?(0|[1-9][0-9]*)\.[0-9]{1,9}` of at most 18 digits,
/// read straight from the bytes; `None` for anything else, which [`ExactAmount::parse`]
/// then accepts or rejects with its own message (so both agree on every input).
fn parse_plain_amount(b: &[u8]) -> Option<ExactAmount> {
    let (neg, body) = match b.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, b),
    };
    let dot = body.iter().position(|&c| c == b'.')?;
    let (int, frac) = (&body[..dot], &body[dot + 1..]);
    if int.is_empty()
        || frac.is_empty()
        || frac.len() > usize::from(payagg_core::money::MAX_SCALE)
        || int.len() + frac.len() > 18
        || (int.len() > 1 && int[0] == b'0')
    {
        return None;
    }
    let mut units: i64 = 0;
    for &c in int.iter().chain(frac) {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        units = units * 10 + i64::from(d);
    }
    let scale = u8::try_from(frac.len()).ok()?;
    ExactAmount::new(if neg { -units } else { units }, scale).ok()
}

/// An exact running total of amounts of any scale up to [`MAX_SCALE`]: the units at scale
/// 9 in an `i128` (no rescaling per row, no overflow in practice) and the largest scale
/// added, which [`RunningSum::total`] turns back into the [`ExactAmount`] that adding the
/// rows one by one with [`ExactAmount::checked_add`] from [`ExactAmount::ZERO`] gives.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RunningSum {
    units: i128,
    scale: u8,
}

const MAX_SCALE: u8 = payagg_core::money::MAX_SCALE;

impl RunningSum {
    pub(crate) const ZERO: RunningSum = RunningSum { units: 0, scale: 2 };

    pub(crate) fn add(&mut self, a: ExactAmount) {
        let s = a.scale().min(MAX_SCALE);
        self.units += i128::from(a.units()) * POW10[usize::from(MAX_SCALE - s)];
        self.scale = self.scale.max(s);
    }

    /// The total at the largest scale added, or an overflow message.
    pub(crate) fn total(self) -> Result<ExactAmount, String> {
        let units = self.units / POW10[usize::from(MAX_SCALE - self.scale)];
        i64::try_from(units)
            .ok()
            .and_then(|u| ExactAmount::new(u, self.scale).ok())
            .ok_or_else(|| "amount overflow".to_owned())
    }
}

const POW10: [i128; 10] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
    1_000_000_000,
];

/// `a + b`, or an overflow message.
pub(crate) fn add(a: ExactAmount, b: ExactAmount) -> Result<ExactAmount, String> {
    a.checked_add(b).ok_or_else(|| "amount overflow".to_owned())
}

/// A count as the summary writes it (`45` or `45.0`).
pub(crate) fn parse_count(s: &str, name: &str) -> Result<u64, String> {
    let v = ExactAmount::parse(s).map_err(|e| format!("{name}: {e}"))?;
    v.to_minor_exact(0)
        .and_then(|n| u64::try_from(n).ok())
        .ok_or_else(|| format!("{name}: {s:?} is not a whole count"))
}

/// Round half away from zero to `scale` decimals.
pub(crate) fn round_to(x: ExactAmount, scale: u8) -> ExactAmount {
    if x.scale() <= scale {
        return x;
    }
    let f = 10i64.pow(u32::from(x.scale() - scale));
    let (q, r) = (x.units() / f, x.units() % f);
    let q = if r.unsigned_abs() * 2 >= f.unsigned_abs() {
        q + x.units().signum()
    } else {
        q
    };
    ExactAmount::new(q, scale).unwrap_or(x)
}

/// Whether a stated fee total matches the exact sum of the rows: exactly, rounded to the
/// stated precision (half a unit of its last place either way), or as the sum of the
/// per-row fees rounded to fen.
pub(crate) fn fee_total_matches(
    stated: ExactAmount,
    exact: ExactAmount,
    per_row_rounded: ExactAmount,
) -> bool {
    if stated == exact || stated == per_row_rounded {
        return true;
    }
    if stated.scale() >= exact.scale() {
        return false;
    }
    let half = ExactAmount::new(5, stated.scale() + 1).unwrap_or(ExactAmount::ZERO);
    exact
        .checked_sub(stated)
        .and_then(ExactAmount::checked_abs)
        .is_some_and(|d| d <= half)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn splits_backticks_keeping_commas_in_values() {
        let mut v = Vec::new();
        split_backticked("`a,`b,c,`,`d", &mut v);
        assert_eq!(v, ["a", "b,c", "", "d"]);
        split_backticked("`", &mut v);
        assert_eq!(v, [""]);
        split_backticked("`x`y,`z", &mut v);
        assert_eq!(v, ["x`y", "z"]);
        // Past the eight-byte words, and a boundary in every position of a word.
        let long = "`2024-05-20 10:15:32,`wxd678efh567hg6787,`,`,`a,`bb,`ccc,`dddd,`e`e,`f,g,`";
        split_backticked(long, &mut v);
        assert_eq!(
            v,
            [
                "2024-05-20 10:15:32",
                "wxd678efh567hg6787",
                "",
                "",
                "a",
                "bb",
                "ccc",
                "dddd",
                "e`e",
                "f,g",
                ""
            ]
        );
        for n in 0..20 {
            let line: String = (0..n).map(|i| format!("`{i},")).collect::<String>() + "`end";
            let mut v = Vec::new();
            split_backticked(&line, &mut v);
            let want: Vec<String> = (0..n)
                .map(|i| i.to_string())
                .chain(["end".into()])
                .collect();
            assert_eq!(v, want);
        }
    }

    #[test]
    fn plain_amounts_agree_with_the_strict_parser() {
        for s in [
            "0.60000",
            "-0.60000",
            "123.45",
            "0.01",
            "-0.00001",
            "1.123456789",
            "999999999.999999999",
            "1.1234567890",
            "01.00",
            "1.",
            ".5",
            "1",
            "-1",
            "+1.00",
            "1e3",
            " 1.00",
            "1.0a",
            "--1.0",
            "-",
            "0.0",
            "9223372036854775807",
            "92233720368.54775807",
            "-0.00",
        ] {
            let fast = parse_amount(s, "x");
            let strict = ExactAmount::parse(s).map_err(|e| format!("x: {e}"));
            assert_eq!(fast, strict, "{s}");
        }
    }

    #[test]
    fn cached_times_equal_parsed_times() {
        let mut c = TimeCache::default();
        for s in [
            "2024-05-20 10:15:32",
            "2024-05-20 23:59:59",
            "2024-05-20 00:00:00",
            "2024-05-21 00:00:01",
            "2024-05-21 24:00:00",
            "2024-05-21 1a:00:00",
            "2024-05-21T10:00:00",
            "2024-05-21 10:00:00x",
            "2024-02-30 10:00:00",
            "2024-05-21 10:60:00",
        ] {
            assert_eq!(c.parse(s), parse_china_time(s), "{s}");
        }
    }

    #[test]
    fn running_sums_equal_checked_adds() {
        let p = |s| ExactAmount::parse(s).unwrap();
        let mut sum = RunningSum::ZERO;
        let mut want = ExactAmount::ZERO;
        for a in ["1.5", "0.00600", "-3.20", "7", "0.000000001"] {
            sum.add(p(a));
            want = want.checked_add(p(a)).unwrap();
            let got = sum.total().unwrap();
            assert_eq!(
                (got.units(), got.scale()),
                (want.units(), want.scale()),
                "{a}"
            );
        }
        let mut big = RunningSum::ZERO;
        big.add(ExactAmount::new(i64::MAX, 0).unwrap());
        assert!(big.total().is_err());
    }

    #[test]
    fn times_and_counts() {
        let t = parse_china_time("2024-05-20 10:15:32").unwrap();
        assert_eq!(t.to_string(), "2024-05-20 10:15:32.0 +08:00:00");
        assert!(parse_china_time("2024-02-30 10:15:32").is_err());
        assert!(parse_china_time("2024-05-20T10:15:32").is_err());
        assert!(parse_china_time("2024-05-20 1a:15:32").is_err());
        assert_eq!(parse_count("45.0", "n").unwrap(), 45);
        assert_eq!(parse_count("12", "n").unwrap(), 12);
        assert!(parse_count("1.5", "n").is_err());
        assert!(parse_count("-1", "n").is_err());
    }

    #[test]
    fn rounding_and_fee_tolerance() {
        let p = |s| ExactAmount::parse(s).unwrap();
        assert_eq!(round_to(p("0.00500"), 2), p("0.01"));
        assert_eq!(round_to(p("-0.00500"), 2), p("-0.01"));
        assert_eq!(round_to(p("0.00499"), 2), p("0.00"));
        assert!(fee_total_matches(p("0.08"), p("0.08000"), p("0.08")));
        assert!(fee_total_matches(p("0.08"), p("0.07600"), p("0.05")));
        assert!(!fee_total_matches(p("0.08"), p("0.07400"), p("0.05")));
        assert!(fee_total_matches(p("0.05"), p("0.07400"), p("0.05")));
        assert!(!fee_total_matches(p("0.07500"), p("0.07400"), p("0.07")));
    }
}
