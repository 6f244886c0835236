//! Alipay trade bills (`bill_type=trade`, brief §7): the ZIP of GBK CSVs, the detail file
//! parsed by header name (both known layouts), the `#` header/footer lines skipped, the
//! detail totals checked against the footer and the summary file's `合计` row, and the
//! unified [`StatementRecord`] mapping.
//!
//! Record mapping: `gross` = `订单金额` signed from the merchant's view (refunds negative,
//! whatever sign the file used, from `业务类型`), `fee` = `服务费` as Alipay states it
//! (negative when charged, positive when returned on a refund), `net` = `商家实收` (signed
//! like `gross`) + `服务费`, time = `完成时间` (+08:00), `merchant_refund_no` =
//! `退款批次号/请求号` (our `out_request_no`).

use std::borrow::Cow;
use std::io::{Cursor, Read};

use payagg_core::clock::CHINA_OFFSET;
use payagg_core::error::{DecodeError, Error, Result, VerificationError, VerificationKind};
use payagg_core::money::{Currency, ExactAmount};
use payagg_core::statement::{RecordKind, Records, StatementParser, StatementRecord};
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::CHANNEL;

/// The two CSVs of a trade bill ZIP, decoded from GBK to UTF-8 once.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BillFiles {
    /// `…_业务明细.csv`.
    pub detail: String,
    /// `…_业务明细(汇总).csv`, when present.
    pub summary: Option<String>,
}

fn decode_err(what: impl Into<String>) -> Error {
    Error::Decode(DecodeError::new(what))
}

/// Decodes GBK bytes (UTF-8 input passes through unchanged when it is valid UTF-8 without a
/// GBK reading, i.e. pure ASCII).
#[must_use]
pub fn decode_gbk(bytes: &[u8]) -> String {
    encoding_rs::GBK
        .decode_without_bom_handling(bytes)
        .0
        .into_owned()
}

/// The two CSVs of a trade bill ZIP with the detail **as Alipay ships it (GBK)**: what the
/// client keeps, so no decoded copy of the whole detail file is ever held (parse it with
/// [`GbkTradeBillParser`] / [`TradeBillParser::records_gbk`]). The summary is a few lines
/// and is decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RawBillFiles {
    /// `…_业务明细.csv`, GBK bytes.
    pub detail: Vec<u8>,
    /// `…_业务明细(汇总).csv` decoded, when present.
    pub summary: Option<String>,
}

/// Opens the bill ZIP and returns its detail and summary CSVs decoded to UTF-8 (entry names
/// are GBK with the UTF-8 flag clear; both readings are tried). Prefer [`unzip_bill_raw`]
/// for big bills.
///
/// # Errors
///
/// [`Error::Decode`] if the bytes are not a ZIP or hold no `_业务明细.csv` entry.
pub fn unzip_bill(zip_bytes: &[u8]) -> Result<BillFiles> {
    let raw = unzip_bill_raw(zip_bytes)?;
    Ok(BillFiles {
        detail: decode_gbk(&raw.detail),
        summary: raw.summary,
    })
}

/// Opens the bill ZIP and returns the detail CSV's GBK bytes (inflated, not decoded) and the
/// decoded summary.
///
/// # Errors
///
/// [`Error::Decode`] if the bytes are not a ZIP or hold no `_业务明细.csv` entry.
pub fn unzip_bill_raw(zip_bytes: &[u8]) -> Result<RawBillFiles> {
    let mut zip = zip::ZipArchive::new(Cursor::new(zip_bytes))
        .map_err(|e| Error::Decode(DecodeError::new("Alipay bill: not a ZIP").with_source(e)))?;
    let mut detail = None;
    let mut summary = None;
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).map_err(|e| {
            Error::Decode(DecodeError::new("Alipay bill: ZIP entry").with_source(e))
        })?;
        let raw_name = f.name_raw().to_vec();
        let name = match std::str::from_utf8(&raw_name) {
            Ok(s) if s.contains("业务明细") => s.to_owned(),
            _ => decode_gbk(&raw_name),
        };
        let is_summary = name.ends_with("_业务明细(汇总).csv");
        let is_detail = name.ends_with("_业务明细.csv");
        if !is_summary && !is_detail {
            continue;
        }
        let mut buf = Vec::with_capacity(usize::try_from(f.size()).unwrap_or(0).min(1 << 30));
        f.read_to_end(&mut buf).map_err(|e| {
            Error::Decode(DecodeError::new(format!("Alipay bill: inflating {name}")).with_source(e))
        })?;
        if is_summary {
            summary = Some(decode_gbk(&buf));
        } else {
            detail = Some(buf);
        }
    }
    Ok(RawBillFiles {
        detail: detail
            .ok_or_else(|| decode_err("Alipay bill: no _业务明细.csv entry in the ZIP"))?,
        summary,
    })
}

/// Column positions of the detail header (layout A, 25 columns, or layout B, 29).
#[derive(Debug, Clone)]
struct Columns {
    trade_no: usize,
    order_no: usize,
    kind: usize,
    created: Option<usize>,
    finished: usize,
    order_amount: usize,
    receipt: Option<usize>,
    refund_no: Option<usize>,
    fee: Option<usize>,
    width: usize,
}

impl Columns {
    fn from_header(header: &[&str]) -> Option<Self> {
        let find = |names: &[&str]| header.iter().position(|h| names.contains(h));
        Some(Self {
            trade_no: find(&["支付宝交易号"])?,
            order_no: find(&["商户订单号"])?,
            kind: find(&["业务类型"])?,
            created: find(&["创建时间"]),
            finished: find(&["完成时间"])?,
            order_amount: find(&["订单金额（元）", "订单金额(元)"])?,
            receipt: find(&["商家实收（元）", "商家实收(元)"]),
            refund_no: find(&["退款批次号/请求号", "退款批次号"]),
            fee: find(&["服务费（元）", "服务费(元)"]),
            width: header.len(),
        })
    }
}

fn amount(s: &str, what: &str, line: u64) -> Result<ExactAmount> {
    let s = if s.is_empty() { "0.00" } else { s };
    ExactAmount::parse(s).map_err(|e| {
        Error::Decode(
            DecodeError::new(format!("Alipay bill: {what} = {s:?}"))
                .at(format!("line {line}"))
                .with_source(e),
        )
    })
}

fn time_of(s: &str, line: u64) -> Result<OffsetDateTime> {
    if let Some(t) = payagg_core::clock::parse_china_datetime(s.as_bytes()) {
        return Ok(t);
    }
    let fmt = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    PrimitiveDateTime::parse(s, &fmt)
        .map(|p| p.assume_offset(CHINA_OFFSET))
        .map_err(|e| {
            Error::Decode(
                DecodeError::new(format!("Alipay bill: time {s:?}"))
                    .at(format!("line {line}"))
                    .with_source(e),
            )
        })
}

fn neg(a: ExactAmount) -> ExactAmount {
    a.checked_neg().unwrap_or(a)
}

fn abs(a: ExactAmount) -> ExactAmount {
    a.checked_abs().unwrap_or(a)
}

fn add(a: ExactAmount, b: ExactAmount, line: u64) -> Result<ExactAmount> {
    a.checked_add(b).ok_or_else(|| {
        Error::Decode(DecodeError::new("Alipay bill: amount overflow").at(format!("line {line}")))
    })
}

/// The cells of one line (split on `,`, `\t`/space trimmed).
///
/// Quoting: Alipay's trade-bill description documents no quoting, the protocol notes (§6)
/// say "plain `,` separators, no quoting", and every merchant-bill sample and reader we found
/// (the official-format vector, Java readers doing `readLine()` + `split(",")`) splits on bare
/// commas; free-text cells (`商品名称`, `备注`, `券名称`) are where a comma could appear. So:
/// a line without a `"` byte takes the fast path (byte ranges into the line, no allocation);
/// a line holding a `"` is read as RFC 4180 (a cell that starts with `"` runs to the closing
/// quote, `""` is a literal quote, commas inside are data), unescaped into a reused buffer;
/// and a line with more cells than the header (an unquoted comma in a field; even when the
/// extra cell is empty, since `备注` usually is) is an [`Error::Decode`] naming the line,
/// never a silent shift of the columns after it.
/// `"` (0x22) and `,` never occur inside a GBK multi-byte character, so this holds for the
/// GBK path too.
#[derive(Debug, Default)]
struct Cells {
    ranges: Vec<(usize, usize)>,
    /// Unescaped cells of a line with quotes; `ranges` then index into this buffer.
    unquoted: String,
    quoted: bool,
}

fn trim_start(b: &[u8], mut s: usize, e: usize) -> usize {
    while s < e && matches!(b[s], b'\t' | b' ') {
        s += 1;
    }
    s
}

fn trim_end(b: &[u8], s: usize, mut e: usize) -> usize {
    while e > s && matches!(b[e - 1], b'\t' | b' ') {
        e -= 1;
    }
    e
}

impl Cells {
    /// Splits `line`; `Err` names what is malformed in a quoted line.
    fn split(&mut self, line: &str) -> std::result::Result<(), &'static str> {
        self.ranges.clear();
        self.quoted = false;
        let b = line.as_bytes();
        if memchr::memchr(b'"', b).is_some() {
            return self.split_quoted(line);
        }
        let mut start = 0;
        loop {
            let end = memchr::memchr(b',', &b[start..]).map_or(b.len(), |p| start + p);
            let s = trim_start(b, start, end);
            self.ranges.push((s, trim_end(b, s, end)));
            if end == b.len() {
                return Ok(());
            }
            start = end + 1;
        }
    }

    /// The RFC 4180 slow path (only lines holding a `"`).
    fn split_quoted(&mut self, line: &str) -> std::result::Result<(), &'static str> {
        self.quoted = true;
        self.unquoted.clear();
        let b = line.as_bytes();
        let mut pos = 0;
        loop {
            let s = trim_start(b, pos, b.len());
            let begin = self.unquoted.len();
            let next;
            if b.get(s) == Some(&b'"') {
                let mut p = s + 1;
                loop {
                    let q = memchr::memchr(b'"', &b[p..])
                        .map(|i| p + i)
                        .ok_or("unterminated quoted cell")?;
                    // All split points are ASCII, so these slices are on char boundaries.
                    self.unquoted.push_str(line.get(p..q).unwrap_or(""));
                    if b.get(q + 1) == Some(&b'"') {
                        self.unquoted.push('"');
                        p = q + 2;
                    } else {
                        p = q + 1;
                        break;
                    }
                }
                let after = trim_start(b, p, b.len());
                match b.get(after) {
                    None => next = None,
                    Some(b',') => next = Some(after),
                    Some(_) => return Err("text after a closing quote"),
                }
            } else {
                let end = memchr::memchr(b',', &b[s..]).map(|i| s + i);
                let e = trim_end(b, s, end.unwrap_or(b.len()));
                self.unquoted.push_str(line.get(s..e).unwrap_or(""));
                next = end;
            }
            self.ranges.push((begin, self.unquoted.len()));
            match next {
                Some(comma) => pos = comma + 1,
                None => return Ok(()),
            }
        }
    }

    fn len(&self) -> usize {
        self.ranges.len()
    }

    /// Cell `i` of `line` (the line [`Cells::split`] saw; `,`, `"`, TAB and space are ASCII,
    /// so every range lies on character boundaries).
    fn get<'s>(&'s self, line: &'s str, i: usize) -> &'s str {
        let src = if self.quoted { &self.unquoted } else { line };
        self.ranges
            .get(i)
            .and_then(|&(s, e)| src.get(s..e))
            .unwrap_or("")
    }
}

fn record(
    cols: &Columns,
    cells: &Cells,
    line_no: u64,
    line: Cow<'_, str>,
) -> Result<StatementRecord> {
    let get = |i: usize| cells.get(&line, i);
    let kind_word = get(cols.kind);
    let refund = match kind_word {
        "交易" => false,
        "退款" => true,
        other => {
            return Err(Error::Decode(
                DecodeError::new(format!("Alipay bill: unknown 业务类型 {other:?}"))
                    .at(format!("line {line_no}")),
            ));
        }
    };
    let sign = |a: ExactAmount| if refund { neg(abs(a)) } else { abs(a) };
    let gross = sign(amount(get(cols.order_amount), "订单金额", line_no)?);
    let receipt = match cols.receipt {
        Some(i) => sign(amount(get(i), "商家实收", line_no)?),
        None => gross,
    };
    let fee = match cols.fee {
        Some(i) => amount(get(i), "服务费", line_no)?,
        None => amount("", "服务费", line_no)?,
    };
    let net = add(receipt, fee, line_no)?;
    let kind = if refund {
        RecordKind::Refund
    } else {
        RecordKind::Payment
    };
    let mut r = StatementRecord::new(
        CHANNEL,
        kind,
        gross,
        fee,
        net,
        Currency::Cny,
        time_of(get(cols.finished), line_no)?,
    );
    let opt = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    r.channel_trade_no = opt(get(cols.trade_no));
    r.merchant_order_no = opt(get(cols.order_no));
    r.merchant_refund_no = cols.refund_no.and_then(|i| opt(get(i))).filter(|_| refund);
    r.channel_kind = kind_word.to_owned();
    r.source_line = line_no;
    let _ = cols.created;
    // The line (already trimmed of `\r`) becomes the raw field: moved when decoding owned it.
    r.raw = line.into_owned();
    Ok(r)
}

/// Streams the records of a UTF-8 detail CSV (what [`unzip_bill`] returns; the client's
/// statements hold GBK and use [`GbkTradeBillParser`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct TradeBillParser;

impl StatementParser for TradeBillParser {
    fn records<'a>(&self, raw: &'a [u8]) -> Records<'a> {
        let text = match std::str::from_utf8(raw) {
            Ok(t) => t,
            Err(e) => {
                return Box::new(std::iter::once(Err(Error::Decode(
                    DecodeError::new("Alipay bill: detail is not UTF-8").with_source(e),
                ))));
            }
        };
        let mut p = LineParser::default();
        Box::new(text.lines().enumerate().filter_map(move |(i, line)| {
            let line_no = u64::try_from(i).unwrap_or(u64::MAX).saturating_add(1);
            p.line(line_no, Cow::Borrowed(line))
        }))
    }
}

impl TradeBillParser {
    /// Streams the records of the detail CSV **as Alipay ships it (GBK)**, decoding line by
    /// line: no decoded copy of the whole file, ASCII lines borrowed as they are, each
    /// decoded line moved into its record's `raw`. Same records, errors and line numbers as
    /// [`decode_gbk`] followed by [`StatementParser::records`] (`\n` and `,` never occur
    /// inside a GBK / GB18030 multi-byte character, so splitting the bytes first is exact).
    #[must_use]
    pub fn records_gbk<'a>(&self, raw: &'a [u8]) -> Records<'a> {
        let mut p = LineParser::default();
        let mut pos = 0usize;
        let mut line_no = 0u64;
        Box::new(std::iter::from_fn(move || {
            while pos < raw.len() && !p.failed {
                let end = memchr::memchr(b'\n', &raw[pos..]).map_or(raw.len(), |i| pos + i);
                let bytes = &raw[pos..end];
                pos = end + 1;
                line_no = line_no.saturating_add(1);
                let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
                // Skip comment and blank lines before decoding (`#`, space, TAB are ASCII).
                if bytes.first() == Some(&b'#') || bytes.trim_ascii().is_empty() {
                    continue;
                }
                let (line, _) = encoding_rs::GBK.decode_without_bom_handling(bytes);
                if let Some(r) = p.line(line_no, line) {
                    return Some(r);
                }
            }
            None
        }))
    }
}

/// [`TradeBillParser::records_gbk`] as a [`StatementParser`]: what the client's
/// [`payagg_core::Statement`] holds, over the detail CSV's GBK bytes as Alipay ships them.
#[derive(Debug, Clone, Copy, Default)]
pub struct GbkTradeBillParser;

impl StatementParser for GbkTradeBillParser {
    fn records<'a>(&self, raw: &'a [u8]) -> Records<'a> {
        TradeBillParser.records_gbk(raw)
    }
}

/// The line-by-line state shared by the UTF-8 and GBK entry points.
#[derive(Debug, Default)]
struct LineParser {
    cols: Option<Columns>,
    failed: bool,
    cells: Cells,
}

impl LineParser {
    fn line(&mut self, line_no: u64, line: Cow<'_, str>) -> Option<Result<StatementRecord>> {
        if self.failed {
            return None;
        }
        let line = match line {
            Cow::Borrowed(l) => Cow::Borrowed(l.trim_end_matches('\r')),
            Cow::Owned(mut l) => {
                let n = l.trim_end_matches('\r').len();
                l.truncate(n);
                Cow::Owned(l)
            }
        };
        if line.trim().is_empty() || line.starts_with('#') {
            return None;
        }
        if let Err(what) = self.cells.split(&line) {
            return Some(Err(Error::Decode(
                DecodeError::new(format!("Alipay bill: {what}")).at(format!("line {line_no}")),
            )));
        }
        match &self.cols {
            None => {
                let header: Vec<&str> = (0..self.cells.len())
                    .map(|i| self.cells.get(&line, i))
                    .collect();
                match Columns::from_header(&header) {
                    Some(found) => {
                        self.cols = Some(found);
                        None
                    }
                    None => {
                        self.failed = true;
                        Some(Err(Error::Decode(
                            DecodeError::new("Alipay bill: header lacks a required column (支付宝交易号, 商户订单号, 业务类型, 完成时间, 订单金额（元）)")
                                .at(format!("line {line_no}")),
                        )))
                    }
                }
            }
            Some(cols) => {
                if self.cells.len() + 1 < cols.width {
                    return Some(Err(Error::Decode(
                        DecodeError::new(format!(
                            "Alipay bill: {} cells, header has {}",
                            self.cells.len(),
                            cols.width
                        ))
                        .at(format!("line {line_no}")),
                    )));
                }
                if self.cells.len() > cols.width {
                    return Some(Err(Error::Decode(
                        DecodeError::new(format!(
                            "Alipay bill: {} cells, header has {}: a `,` inside an unquoted \
                             field (商品名称, 备注 …)? refusing to shift the columns after it",
                            self.cells.len(),
                            cols.width
                        ))
                        .at(format!("line {line_no}")),
                    )));
                }
                Some(record(cols, &self.cells, line_no, line))
            }
        }
    }
}

/// Totals of a detail file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Totals {
    trade_count: u64,
    refund_count: u64,
    trade_receipt: ExactAmount,
    refund_receipt: ExactAmount,
    fee: ExactAmount,
}

fn numbers_after(s: &str) -> (Option<u64>, Vec<ExactAmount>) {
    let count = s.split('笔').next().and_then(|head| {
        let digits: String = head
            .chars()
            .rev()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.chars().rev().collect::<String>().parse().ok()
    });
    let mut amounts = Vec::new();
    for part in s.split('元') {
        let tail: String = part
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == '-')
            .collect();
        let num: String = tail.chars().rev().collect();
        if let Ok(a) = ExactAmount::parse(num.trim_start_matches('-')) {
            amounts.push(if num.starts_with('-') { neg(a) } else { a });
        }
    }
    (count, amounts)
}

fn mismatch(what: &str, expected: impl ToString, presented: impl ToString) -> Error {
    VerificationError::new(
        CHANNEL,
        VerificationKind::BusinessMismatch,
        format!("Alipay bill: {what}"),
    )
    .expected(expected.to_string())
    .presented(presented.to_string())
    .into()
}

/// Sums the detail records (stops at the first error).
fn totals(records: impl Iterator<Item = Result<StatementRecord>>) -> Result<Totals> {
    let zero = amount("", "", 0)?;
    let mut t = Totals {
        trade_count: 0,
        refund_count: 0,
        trade_receipt: zero,
        refund_receipt: zero,
        fee: zero,
    };
    for r in records {
        let r = r?;
        let receipt = add(r.net, neg(r.fee), r.source_line)?;
        match r.kind {
            RecordKind::Refund => {
                t.refund_count += 1;
                t.refund_receipt = add(t.refund_receipt, receipt, r.source_line)?;
            }
            _ => {
                t.trade_count += 1;
                t.trade_receipt = add(t.trade_receipt, receipt, r.source_line)?;
            }
        }
        t.fee = add(t.fee, r.fee, r.source_line)?;
    }
    Ok(t)
}

/// Checks one `#` line of the detail file (only `#交易合计` / `#退款合计` say anything).
fn check_footer(t: &Totals, line: &str) -> Result<()> {
    let line = line.trim_end_matches('\r');
    if let Some(rest) = line.strip_prefix("#交易合计") {
        let (count, amounts) = numbers_after(rest);
        if count.is_some_and(|c| c != t.trade_count) {
            return Err(mismatch(
                "#交易合计 count",
                count.unwrap_or(0),
                t.trade_count,
            ));
        }
        if let Some(a) = amounts.first()
            && *a != t.trade_receipt
        {
            return Err(mismatch("#交易合计 商家实收", a, t.trade_receipt));
        }
    } else if let Some(rest) = line.strip_prefix("#退款合计") {
        let (count, amounts) = numbers_after(rest);
        if count.is_some_and(|c| c != t.refund_count) {
            return Err(mismatch(
                "#退款合计 count",
                count.unwrap_or(0),
                t.refund_count,
            ));
        }
        if let Some(a) = amounts.first()
            && *a != t.refund_receipt
            && neg(*a) != t.refund_receipt
        {
            return Err(mismatch("#退款合计 商家实收", a, t.refund_receipt));
        }
    }
    Ok(())
}

/// Checks the summary file's `合计` row against the detail totals.
fn check_summary_file(t: &Totals, summary: &str) -> Result<()> {
    let mut header: Option<Vec<String>> = None;
    let mut cells = Cells::default();
    for (i, line) in summary.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        cells.split(line).map_err(|what| {
            Error::Decode(
                DecodeError::new(format!("Alipay bill summary: {what}"))
                    .at(format!("line {}", i + 1)),
            )
        })?;
        let Some(h) = &header else {
            header = Some(
                (0..cells.len())
                    .map(|i| cells.get(line, i).to_owned())
                    .collect(),
            );
            continue;
        };
        if cells.get(line, 0) != "合计" {
            continue;
        }
        let col = |name: &str| {
            h.iter()
                .position(|x| x == name)
                .filter(|&i| i < cells.len())
                .map(|i| cells.get(line, i))
        };
        if let Some(n) = col("交易订单总笔数").and_then(|s| s.parse::<u64>().ok())
            && n != t.trade_count
        {
            return Err(mismatch("合计 交易订单总笔数", n, t.trade_count));
        }
        if let Some(n) = col("退款订单总笔数").and_then(|s| s.parse::<u64>().ok())
            && n != t.refund_count
        {
            return Err(mismatch("合计 退款订单总笔数", n, t.refund_count));
        }
        let total_receipt = add(t.trade_receipt, t.refund_receipt, 0)?;
        if let Some(s) = col("商家实收（元）") {
            let a = amount(s, "合计 商家实收", 0)?;
            if a != total_receipt {
                return Err(mismatch("合计 商家实收", a, total_receipt));
            }
        }
        if let Some(s) = col("服务费（元）") {
            let a = amount(s, "合计 服务费", 0)?;
            if a != t.fee {
                return Err(mismatch("合计 服务费", a, t.fee));
            }
        }
        return Ok(());
    }
    Err(decode_err("Alipay bill: the summary has no 合计 row"))
}

/// Checks the detail rows against the detail footer (`#交易合计` / `#退款合计`) and the
/// summary file's `合计` row (order counts, 商家实收, 服务费).
///
/// # Errors
///
/// [`Error::Decode`] for unparsable rows; [`Error::Verification`] (`BusinessMismatch`, with
/// expected and presented values) when a total differs.
pub fn check_summary(files: &BillFiles) -> Result<()> {
    let t = totals(TradeBillParser.records(files.detail.as_bytes()))?;
    for line in files.detail.lines().filter(|l| l.starts_with('#')) {
        check_footer(&t, line)?;
    }
    files
        .summary
        .as_deref()
        .map_or(Ok(()), |s| check_summary_file(&t, s))
}

/// [`check_summary`] over the GBK detail as shipped: the rows are streamed through
/// [`TradeBillParser::records_gbk`] and only the `#` lines are decoded on their own, so no
/// decoded copy of the detail file is made.
///
/// # Errors
///
/// As [`check_summary`].
pub fn check_summary_gbk(files: &RawBillFiles) -> Result<()> {
    let raw = files.detail.as_slice();
    let t = totals(TradeBillParser.records_gbk(raw))?;
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', raw).chain(std::iter::once(raw.len())) {
        let line = raw.get(start..end).unwrap_or_default();
        start = end + 1;
        if line.first() == Some(&b'#') {
            check_footer(&t, &encoding_rs::GBK.decode_without_bom_handling(line).0)?;
        }
    }
    files
        .summary
        .as_deref()
        .map_or(Ok(()), |s| check_summary_file(&t, s))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注";

    fn detail(rows: &[&str], footer: &str) -> String {
        let mut s = String::from("#支付宝业务明细查询\r\n#-----业务明细列表-----\r\n");
        s.push_str(HEADER);
        s.push_str("\r\n");
        for r in rows {
            s.push_str(r);
            s.push_str("\r\n");
        }
        s.push_str("#-----业务明细列表结束-----\r\n");
        s.push_str(footer);
        s
    }

    const PAY: &str = "2024\t,A1\t,交易\t,x,2024-03-01 10:00:00,2024-03-01 10:00:05,\t,\t,\t,\t,b\t,30.00,30.00,0.00,0.00,0.00,0.00,0.00,,0.00\t,0.00,\t,-0.18,0.00,";
    const REF: &str = "2024\t,A1\t,退款\t,x,2024-03-01 10:00:00,2024-03-01 12:00:00,\t,\t,\t,\t,b\t,10.00,10.00,0.00,0.00,0.00,0.00,0.00,,0.00\t,0.00,R1\t,0.06,0.00,";

    #[test]
    fn positive_refunds_become_negative_and_footer_checks() {
        let d = detail(
            &[PAY, REF],
            "#交易合计：1笔，商家实收共30.00元\r\n#退款合计：1笔，商家实收退款共-10.00元\r\n",
        );
        let recs: Vec<_> = TradeBillParser
            .records(d.as_bytes())
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!(recs[1].gross, ExactAmount::parse("-10.00").unwrap());
        assert_eq!(recs[1].merchant_refund_no.as_deref(), Some("R1"));
        assert!(recs[0].merchant_refund_no.is_none());
        check_summary(&BillFiles {
            detail: d,
            summary: None,
        })
        .unwrap();
        let bad = detail(&[PAY], "#交易合计：2笔，商家实收共30.00元\r\n");
        assert!(
            check_summary(&BillFiles {
                detail: bad,
                summary: None
            })
            .is_err()
        );
    }

    #[test]
    fn bad_header_and_rows() {
        let d = "#x\r\nfoo,bar\r\n1,2\r\n";
        let r: Vec<_> = TradeBillParser.records(d.as_bytes()).collect();
        assert_eq!(r.len(), 1);
        assert!(r[0].is_err());
        let d = detail(
            &["2024,A1,其他,x,a,2024-03-01 10:00:05,,,,,,1.00,1.00,0,0,0,0,0,,0,0,,0,0,"],
            "",
        );
        assert!(
            TradeBillParser
                .records(d.as_bytes())
                .next()
                .unwrap()
                .is_err()
        );
        assert!(unzip_bill(b"not a zip").is_err());
    }

    #[test]
    fn gbk_streaming_equals_decode_then_parse() {
        let texts = [
            detail(
                &[PAY, "", REF, "  \t", PAY],
                "#交易合计：2笔，商家实收共60.00元\r\n",
            ),
            // LF only, no trailing newline, a short row.
            format!("#x\n{HEADER}\n{PAY}\n1,2,3\n{REF}"),
            "#x\r\nfoo,bar\r\n1,2\r\n".to_owned(),
        ];
        for text in &texts {
            let mut gbk = encoding_rs::GBK.encode(text).0.into_owned();
            let utf8: Vec<_> = TradeBillParser
                .records(decode_gbk(&gbk).as_bytes())
                .map(|r| r.map_err(|e| e.to_string()))
                .collect();
            let streamed: Vec<_> = TradeBillParser
                .records_gbk(&gbk)
                .map(|r| r.map_err(|e| e.to_string()))
                .collect();
            assert!(!utf8.is_empty());
            assert_eq!(utf8, streamed);
            // A malformed GBK byte in a cell: both replace it the same way.
            if let Some(i) = gbk.windows(2).position(|w| w == b"b\t") {
                gbk[i] = 0x81;
                let a: Vec<_> = TradeBillParser
                    .records(decode_gbk(&gbk).as_bytes())
                    .map(|r| r.map_err(|e| e.to_string()))
                    .collect();
                let b: Vec<_> = TradeBillParser
                    .records_gbk(&gbk)
                    .map(|r| r.map_err(|e| e.to_string()))
                    .collect();
                assert_eq!(a, b);
            }
        }
    }

    #[test]
    fn quoted_cells_are_read_as_rfc4180() {
        // 商品名称 and 备注 quoted, with a comma and a doubled quote inside.
        let row = PAY.replacen(",x,", ",\"茶, 大杯 \"\"特\"\"\",", 1) + "\"备注, 一\"";
        let d = detail(&[&row], "");
        let recs: Vec<_> = TradeBillParser
            .records(d.as_bytes())
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!(recs.len(), 1);
        assert_eq!(recs[0].gross, ExactAmount::parse("30.00").unwrap());
        assert_eq!(recs[0].fee, ExactAmount::parse("-0.18").unwrap());
        assert_eq!(recs[0].raw, row);
        let mut c = Cells::default();
        c.split(&row).unwrap();
        assert_eq!(c.len(), 25);
        assert_eq!(c.get(&row, 3), "茶, 大杯 \"特\"");
        assert_eq!(c.get(&row, 24), "备注, 一");
        assert_eq!(c.get(&row, 1), "A1");
        // The GBK path agrees.
        let gbk = encoding_rs::GBK.encode(&d).0.into_owned();
        let streamed: Vec<_> = TradeBillParser
            .records_gbk(&gbk)
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!(streamed, recs);
        // Malformed quoting is a Decode error naming the line.
        for bad in [
            PAY.replacen(",x,", ",\"x,", 1),
            PAY.replacen(",x,", ",\"x\"y,", 1),
        ] {
            let d = detail(&[PAY, &bad], "");
            let r: Vec<_> = TradeBillParser.records(d.as_bytes()).collect();
            let e = r[1].as_ref().unwrap_err();
            assert!(matches!(e, Error::Decode(_)), "{e:?}");
            assert!(e.to_string().contains("line 5"), "{e}");
        }
    }

    #[test]
    fn an_unquoted_comma_in_a_field_is_refused_not_shifted() {
        // "咖啡,大杯" unquoted: 26 cells, and every column after 商品名称 would move by one
        // (订单金额 would read 对方账户's neighbour). Refused, naming the line.
        let bad = PAY.replacen(",x,", ",咖啡,大杯,", 1);
        let d = detail(&[PAY, &bad], "");
        let r: Vec<_> = TradeBillParser.records(d.as_bytes()).collect();
        assert_eq!(r.len(), 2);
        assert!(r[0].is_ok());
        let e = r[1].as_ref().unwrap_err();
        assert!(matches!(e, Error::Decode(_)), "{e:?}");
        let msg = e.to_string();
        assert!(msg.contains("line 5") && msg.contains("26 cells"), "{msg}");
        let gbk = encoding_rs::GBK.encode(&d).0.into_owned();
        let r: Vec<_> = TradeBillParser
            .records_gbk(&gbk)
            .map(|r| r.map_err(|e| e.to_string()))
            .collect();
        assert_eq!(r[1].as_ref().unwrap_err(), &msg);
        // 商品名称 with a comma and an empty 备注 gives exactly one empty extra cell: still
        // refused (the columns in between have moved).
        assert!(PAY.ends_with(','));
        let d = detail(&[&PAY.replacen(",x,", ",a,b,", 1)], "");
        assert!(TradeBillParser.records(d.as_bytes()).all(|r| r.is_err()));
    }

    #[test]
    fn layout_b_by_header_name() {
        let header = "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）,卡消费金额（元）,退款批次号,服务费（元）,实收净额（元）,商户识别号,交易方式,备注,花呗分期手续费,花呗分期数";
        let row = "2024\t,A1\t,退款\t,x,2024-03-01 10:00:00,2024-03-01 12:00:00,,,,,b,5.00,5.00,0,0,0,0,0,,0,0,RB1\t,0.03,4.97,M1,手机,,0.00,0";
        let d = format!("#x\r\n{header}\r\n{row}\r\n#end\r\n");
        let recs: Vec<_> = TradeBillParser
            .records(d.as_bytes())
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!(recs.len(), 1);
        assert_eq!(recs[0].kind, RecordKind::Refund);
        assert_eq!(recs[0].gross, ExactAmount::parse("-5.00").unwrap());
        assert_eq!(recs[0].fee, ExactAmount::parse("0.03").unwrap());
        assert_eq!(recs[0].net, ExactAmount::parse("-4.97").unwrap());
        assert_eq!(recs[0].merchant_refund_no.as_deref(), Some("RB1"));
    }
}
