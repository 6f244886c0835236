//! The streaming engine shared by the trade and fund-flow bills: line splitting, the
//! backtick field format, the header, the summary section and its check.

use payagg_core::clock::CHINA_OFFSET;
use payagg_core::error::{DecodeError, Error};
use payagg_core::money::ExactAmount;
use payagg_core::statement::StatementRecord;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

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

/// Where the iterator is in the file.
enum Phase<'a> {
    Header,
    Rows,
    Summary { names: Vec<&'a str> },
    Trailing,
    Done,
}

/// The lazy record iterator over a borrowed bill.
pub(crate) struct BillIter<'a, L> {
    data: &'a [u8],
    pos: usize,
    line_no: u64,
    phase: Phase<'a>,
    layout: Option<L>,
    fields: Vec<&'a str>,
    rows: u64,
    row_errors: u64,
    summary: Option<BillSummary>,
}

pub(crate) fn decode_error(what: &str, line_no: u64, msg: impl std::fmt::Display) -> Error {
    Error::Decode(DecodeError::new(format!("{what}: {msg}")).at(format!("line {line_no}")))
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
            line_no: 0,
            phase: Phase::Header,
            layout: None,
            fields: Vec::with_capacity(32),
            rows: 0,
            row_errors: 0,
            summary: None,
        }
    }

    /// The summary once the iterator has run to the end and it checked out; `None` for an
    /// empty bill or when the file had errors.
    pub(crate) fn into_summary(self) -> Option<BillSummary> {
        self.summary
    }

    /// The next line without its line ending, and its 1-based number.
    fn next_line(&mut self) -> Option<&'a [u8]> {
        let data: &'a [u8] = self.data;
        if self.pos >= data.len() {
            return None;
        }
        let rest = &data[self.pos..];
        let (mut line, advance) = match memchr::memchr(b'\n', rest) {
            Some(i) => (&rest[..i], i + 1),
            None => (rest, rest.len()),
        };
        if let [head @ .., b'\r'] = line {
            line = head;
        }
        self.pos += advance;
        self.line_no += 1;
        Some(line)
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
pub(crate) fn split_backticked<'a>(line: &'a str, out: &mut Vec<&'a str>) {
    out.clear();
    let b = line.as_bytes();
    let mut start = 1;
    for j in memchr::memchr_iter(b'`', b.get(1..).unwrap_or_default()).map(|j| j + 1) {
        if j > start && b[j - 1] == b',' {
            out.push(&line[start..j - 1]);
            start = j + 1;
        }
    }
    out.push(line.get(start..).unwrap_or_default());
}

impl<'a, L: Layout> Iterator for BillIter<'a, L> {
    type Item = crate::bill::Result<StatementRecord>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match &self.phase {
                Phase::Done => return None,
                Phase::Header => {
                    let Some(line) = self.next_line() else {
                        self.phase = Phase::Done;
                        return None;
                    };
                    if is_blank(line) {
                        continue;
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
                        }
                        Err(e) => return self.fail(e),
                    }
                }
                Phase::Rows => {
                    let Some(line) = self.next_line() else {
                        return self.fail(
                            "the file ends without its summary section (truncated download?)",
                        );
                    };
                    if line.is_empty() || is_blank(line) {
                        continue;
                    }
                    let Ok(text) = std::str::from_utf8(line) else {
                        self.row_errors += 1;
                        return Some(Err(self.err("the line is not UTF-8")));
                    };
                    if !text.starts_with('`') {
                        let names: Vec<&'a str> = text.split(',').map(str::trim).collect();
                        self.phase = Phase::Summary { names };
                        continue;
                    }
                    let line_no = self.line_no;
                    let mut fields = std::mem::take(&mut self.fields);
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
                    self.fields = fields;
                    self.rows += 1;
                    return Some(result.map_err(|e| {
                        self.row_errors += 1;
                        self.err(e)
                    }));
                }
                Phase::Summary { names } => {
                    let names = names.clone();
                    let line = loop {
                        match self.next_line() {
                            None => return self.fail("the summary header has no values line"),
                            Some(l) if is_blank(l) => {}
                            Some(l) => break l,
                        }
                    };
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
                        continue;
                    }
                    let checked = match &self.layout {
                        Some(l) => l.check_summary(&names, &values, self.rows),
                        None => Err("no header".to_owned()),
                    };
                    match checked {
                        Ok(s) => self.summary = Some(s),
                        Err(e) => return self.fail(format!("summary check failed: {e}")),
                    }
                }
                Phase::Trailing => match self.next_line() {
                    None => {
                        self.phase = Phase::Done;
                        return None;
                    }
                    Some(l) if is_blank(l) => {}
                    Some(_) => return self.fail("unexpected content after the summary line"),
                },
            }
        }
    }
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

/// Parse `YYYY-MM-DD hh:mm:ss` in China time.
pub(crate) fn parse_china_time(s: &str) -> Result<OffsetDateTime, String> {
    let b = s.as_bytes();
    let bad = || format!("time {s:?} is not YYYY-MM-DD hh:mm:ss");
    if b.len() != 19
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b' '
        || b[13] != b':'
        || b[16] != b':'
    {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| -> Result<u16, String> {
        let mut v: u16 = 0;
        for &c in &b[r] {
            if !c.is_ascii_digit() {
                return Err(bad());
            }
            v = v * 10 + u16::from(c - b'0');
        }
        Ok(v)
    };
    let year = i32::from(num(0..4)?);
    let month = Month::try_from(u8::try_from(num(5..7)?).map_err(|_| bad())?).map_err(|_| bad())?;
    let small = |r| -> Result<u8, String> { u8::try_from(num(r)?).map_err(|_| bad()) };
    let date = Date::from_calendar_date(year, month, small(8..10)?).map_err(|_| bad())?;
    let time = Time::from_hms(small(11..13)?, small(14..16)?, small(17..19)?).map_err(|_| bad())?;
    Ok(PrimitiveDateTime::new(date, time).assume_offset(CHINA_OFFSET))
}

/// Parse a bill amount; an empty field is zero.
pub(crate) fn parse_amount(s: &str, column: &str) -> Result<ExactAmount, String> {
    // Most amount fields of a row are empty or "0.00" (refund columns of payments and the
    // reverse): skip the parser for them.
    if s.is_empty() || s == "0.00" {
        return Ok(ExactAmount::ZERO);
    }
    ExactAmount::parse(s).map_err(|e| format!("{column}: {e}"))
}

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
