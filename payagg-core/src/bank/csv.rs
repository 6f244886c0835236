//! CSV exports of Chinese banks through a column-mapping profile.

use serde::{Deserialize, Serialize};
use time::{Date, Month, OffsetDateTime, Time};

use super::{
    BankEntry, BankFormat, BankStatement, UnbalancedStatement, decode_at, parse_bank_amount,
};
use crate::clock::CHINA_OFFSET;
use crate::error::Result;
use crate::money::{Currency, ExactAmount};
use crate::reconcile::sum::Acc;

/// The text encoding of a CSV export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CsvEncoding {
    /// UTF-8 when the bytes are valid UTF-8 (a BOM is skipped), else GBK (GB18030).
    #[default]
    Auto,
    /// UTF-8.
    Utf8,
    /// GBK, decoded as its superset GB18030 (what Chinese banks' "ANSI" exports are).
    Gbk,
}

/// How the export says which way money moved.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DebitCredit {
    /// Two columns if the header has a debit and a credit column, else an indicator column
    /// if it has one, else one signed amount column.
    #[default]
    Auto,
    /// One amount column, credits positive, debits negative.
    Signed,
    /// A debit (借方/支出) and a credit (贷方/收入) column, both unsigned; one is empty or zero.
    TwoColumns,
    /// An unsigned amount column and a direction column whose values are listed here.
    Indicator {
        /// Values meaning money in (`贷`, `收入`, `C`, `CR`).
        credit: Vec<String>,
        /// Values meaning money out (`借`, `支出`, `D`, `DR`).
        debit: Vec<String>,
    },
}

fn v(xs: &[&str]) -> Vec<String> {
    xs.iter().map(|s| (*s).to_owned()).collect()
}

/// A column-mapping profile for one bank's CSV export. Header names are matched exactly
/// after trimming (and case-insensitively for ASCII); the first alias found wins.
///
/// The default covers the usual headers of ICBC, CCB, ABC, BOC, CMB and other Chinese
/// banks' corporate exports. A profile is `Deserialize`, so tools can load one from a file
/// and override only some fields.
///
/// ```
/// use payagg_core::bank::BankCsvProfile;
///
/// let csv = "账号,6222000011112222\n期初余额,1000.00\n\
///            交易日期,摘要,借方发生额,贷方发生额,余额,对方户名,流水号\n\
///            2024-05-21,微信支付结算,,9.94,1009.94,财付通支付科技有限公司,T001\n\
///            2024-05-21,手续费,1.00,,1008.94,,T002\n\
///            期末余额,1008.94\n";
/// let st = BankCsvProfile::default().parse(csv.as_bytes(), "bank.csv")?;
/// assert_eq!(st.entries.len(), 2);
/// assert_eq!(st.entries[0].amount.to_string(), "9.94");
/// assert_eq!(st.entries[1].amount.to_string(), "-1.00");
/// # Ok::<(), payagg_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct BankCsvProfile {
    /// The profile's name, for messages.
    pub name: String,
    /// Booking date (optionally with a time) header aliases.
    pub date: Vec<String>,
    /// Signed or unsigned amount header aliases.
    pub amount: Vec<String>,
    /// Debit (money out) header aliases.
    pub debit: Vec<String>,
    /// Credit (money in) header aliases.
    pub credit: Vec<String>,
    /// Direction (借/贷) header aliases.
    pub direction: Vec<String>,
    /// Running balance header aliases.
    pub balance: Vec<String>,
    /// Counterparty name header aliases.
    pub counterparty: Vec<String>,
    /// The bank's reference (serial number) header aliases.
    pub reference: Vec<String>,
    /// Memo (摘要, 用途, 附言) header aliases.
    pub memo: Vec<String>,
    /// Currency header aliases (else [`BankCsvProfile::currency`]).
    pub currency_column: Vec<String>,
    /// The currency when no column says.
    pub currency: String,
    /// How direction is expressed.
    pub convention: DebitCredit,
    /// Date patterns tried in order: `YYYY`, `MM`, `DD` and literal characters (`MM` and
    /// `DD` accept one or two digits); a time `hh:mm[:ss]` may follow after a space or `T`.
    pub date_formats: Vec<String>,
    /// The encoding.
    pub encoding: CsvEncoding,
    /// The field delimiter.
    pub delimiter: char,
    /// Labels of an opening balance cell outside the table (value in the next cell or
    /// after a colon).
    pub opening_labels: Vec<String>,
    /// Labels of a closing balance cell.
    pub closing_labels: Vec<String>,
    /// Rows are newest first (the running balance is checked in that order).
    pub newest_first: bool,
    /// Reject a file that states no balance at all (default `true`).
    pub require_balance: bool,
}

impl Default for BankCsvProfile {
    fn default() -> Self {
        Self {
            name: "chinese-bank-csv".into(),
            date: v(&[
                "交易日期",
                "记账日期",
                "入账日期",
                "交易时间",
                "日期",
                "Date",
                "Transaction Date",
                "Booking Date",
            ]),
            amount: v(&["交易金额", "发生额", "金额", "Amount"]),
            debit: v(&[
                "借方发生额",
                "借方金额",
                "支出金额",
                "支出",
                "付款金额",
                "借方",
                "Debit",
            ]),
            credit: v(&[
                "贷方发生额",
                "贷方金额",
                "收入金额",
                "收入",
                "收款金额",
                "贷方",
                "Credit",
            ]),
            direction: v(&[
                "借贷标志",
                "借贷方向",
                "收支方向",
                "借贷",
                "收支",
                "Dr/Cr",
                "Direction",
            ]),
            balance: v(&[
                "余额",
                "账户余额",
                "交易后余额",
                "当前余额",
                "联机余额",
                "Balance",
            ]),
            counterparty: v(&[
                "对方户名",
                "对方账户名称",
                "对方名称",
                "对方单位",
                "收/付方名称",
                "对方账户名",
                "Counterparty",
            ]),
            reference: v(&[
                "流水号",
                "交易流水号",
                "凭证号",
                "交易参考号",
                "业务参考号",
                "柜员流水号",
                "Reference",
            ]),
            memo: v(&[
                "摘要",
                "用途",
                "附言",
                "交易附言",
                "备注",
                "Memo",
                "Description",
            ]),
            currency_column: v(&["币种", "货币", "Currency"]),
            currency: "CNY".into(),
            convention: DebitCredit::Auto,
            date_formats: v(&[
                "YYYY-MM-DD",
                "YYYYMMDD",
                "YYYY/MM/DD",
                "YYYY.MM.DD",
                "YYYY年MM月DD日",
            ]),
            encoding: CsvEncoding::Auto,
            delimiter: ',',
            opening_labels: v(&["期初余额", "上日余额", "起始余额", "Opening Balance"]),
            closing_labels: v(&["期末余额", "本日余额", "截止余额", "Closing Balance"]),
            newest_first: false,
            require_balance: true,
        }
    }
}

const CREDIT_WORDS: &[&str] = &["贷", "贷方", "收", "收入", "来账", "C", "CR", "CREDIT"];
const DEBIT_WORDS: &[&str] = &["借", "借方", "支", "支出", "往账", "D", "DR", "DEBIT"];

fn find(header: &[String], aliases: &[String]) -> Option<usize> {
    aliases.iter().find_map(|a| {
        header
            .iter()
            .position(|h| h == a || h.eq_ignore_ascii_case(a))
    })
}

fn digits(b: &[u8], at: &mut usize, min: usize, max: usize) -> Option<u32> {
    let n = b[*at..]
        .iter()
        .take(max)
        .take_while(|c| c.is_ascii_digit())
        .count();
    if n < min {
        return None;
    }
    let s = std::str::from_utf8(&b[*at..*at + n]).ok()?;
    *at += n;
    s.parse().ok()
}

/// Match `s` against a `YYYY-MM-DD`-style pattern, then an optional time.
fn parse_with(pattern: &str, s: &str) -> Option<(Date, Option<Time>)> {
    let b = s.as_bytes();
    let p = pattern.as_bytes();
    let (mut i, mut j) = (0usize, 0usize);
    let (mut y, mut m, mut d) = (None, None, None);
    while j < p.len() {
        if p[j..].starts_with(b"YYYY") {
            y = Some(digits(b, &mut i, 4, 4)?);
            j += 4;
        } else if p[j..].starts_with(b"MM") {
            let max = 2;
            let min = if pattern.len() == 8 { 2 } else { 1 };
            m = Some(digits(b, &mut i, min, max)?);
            j += 2;
        } else if p[j..].starts_with(b"DD") {
            let min = if pattern.len() == 8 { 2 } else { 1 };
            d = Some(digits(b, &mut i, min, 2)?);
            j += 2;
        } else {
            // A literal (possibly multi-byte) character.
            let c = pattern[j..].chars().next()?;
            let cl = c.len_utf8();
            if b.get(i..i + cl)? != &p[j..j + cl] {
                return None;
            }
            i += cl;
            j += cl;
        }
    }
    let date = Date::from_calendar_date(
        i32::try_from(y?).ok()?,
        Month::try_from(u8::try_from(m?).ok()?).ok()?,
        u8::try_from(d?).ok()?,
    )
    .ok()?;
    let rest = s[i..].trim_start_matches([' ', 'T']);
    if rest.is_empty() {
        return Some((date, None));
    }
    let rb = rest.as_bytes();
    let mut k = 0;
    let h = digits(rb, &mut k, 1, 2)?;
    if rb.get(k) != Some(&b':') {
        return None;
    }
    k += 1;
    let mi = digits(rb, &mut k, 2, 2)?;
    let mut se = 0;
    if rb.get(k) == Some(&b':') {
        k += 1;
        se = digits(rb, &mut k, 2, 2)?;
    }
    if k != rb.len() {
        return None;
    }
    let t = Time::from_hms(
        u8::try_from(h).ok()?,
        u8::try_from(mi).ok()?,
        u8::try_from(se).ok()?,
    )
    .ok()?;
    Some((date, Some(t)))
}

fn line_of(text: &[u8], byte: u64) -> u64 {
    let mut end = usize::try_from(byte).unwrap_or(usize::MAX).min(text.len());
    // The position may point at blank lines the csv crate skipped before the record.
    while text.get(end).is_some_and(|b| matches!(b, b'\r' | b'\n')) {
        end += 1;
    }
    1 + text[..end].iter().filter(|&&b| b == b'\n').count() as u64
}

struct Row {
    line: u64,
    date: Date,
    time: Option<OffsetDateTime>,
    amount: ExactAmount,
    balance: Option<ExactAmount>,
    currency: Currency,
    reference: Option<String>,
    counterparty: Option<String>,
    memo: Option<String>,
    raw: String,
}

impl BankCsvProfile {
    /// Decode `raw` in the profile's encoding; a file declared UTF-8 that is not fails at
    /// the line of its first invalid byte (a GBK export under the wrong profile).
    fn decode<'a>(&self, raw: &'a [u8], source: &str) -> Result<std::borrow::Cow<'a, str>> {
        let raw = raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw);
        Ok(match self.encoding {
            CsvEncoding::Utf8 => match std::str::from_utf8(raw) {
                Ok(s) => std::borrow::Cow::Borrowed(s),
                Err(e) => {
                    let at = e.valid_up_to();
                    return Err(decode_at(
                        source,
                        line_of(raw, u64::try_from(at).unwrap_or(u64::MAX)),
                        format!(
                            "bank CSV ({}): wrong encoding: not UTF-8 at byte {at} as the profile \
                             says (a GBK export? set encoding = \"gbk\" or \"auto\")",
                            self.name
                        ),
                    ));
                }
            },
            CsvEncoding::Gbk => encoding_rs::GB18030.decode_without_bom_handling(raw).0,
            CsvEncoding::Auto => match std::str::from_utf8(raw) {
                Ok(s) => std::borrow::Cow::Borrowed(s),
                Err(_) => encoding_rs::GB18030.decode_without_bom_handling(raw).0,
            },
        })
    }

    fn parse_date(&self, s: &str) -> Option<(Date, Option<Time>)> {
        let s = s.trim();
        self.date_formats.iter().find_map(|p| parse_with(p, s))
    }

    /// Parse one export into a balanced statement.
    ///
    /// The header row is the first row naming a date column and an amount (or debit and
    /// credit) column; rows above it and below the last dated row may hold the account, the
    /// opening and closing balance (by label) and totals. The statement must balance: with
    /// a balance column every row's balance must equal the previous balance plus its
    /// amount (the opening balance is the labelled one, else the first row's balance minus
    /// its amount); with labelled opening and closing balances their difference must be Σ
    /// amounts.
    ///
    /// # Errors
    /// [`crate::Error::Decode`] at `source:line`: undecodable CSV, no header row, a bad
    /// date or amount, a row with both or neither debit and credit, no balance to check
    /// (unless [`BankCsvProfile::require_balance`] is off), or a statement that does not
    /// balance ([`super::UnbalancedStatement`], naming the three numbers).
    pub fn parse(&self, raw: &[u8], source: &str) -> Result<BankStatement> {
        let text = self.decode(raw, source)?;
        let mut delim = [0u8; 4];
        let delim = self
            .delimiter
            .encode_utf8(&mut delim)
            .as_bytes()
            .first()
            .copied()
            .unwrap_or(b',');
        let mut rdr = ::csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delim)
            .from_reader(text.as_bytes());
        let mut header: Option<(Vec<String>, u64)> = None;
        let mut cols = Cols::default();
        let mut rows: Vec<Row> = Vec::new();
        let mut opening: Option<(ExactAmount, u64)> = None;
        let mut closing: Option<(ExactAmount, u64)> = None;
        let mut account = None;
        let mut ended = false;
        let mut last_line = 1;
        let lines: Vec<&str> = text.lines().collect();
        for rec in rdr.records() {
            let rec = rec.map_err(|e| {
                let line = e
                    .position()
                    .map_or(last_line, |p| line_of(text.as_bytes(), p.byte()));
                decode_at(source, line, format!("bank CSV ({}): {e}", self.name))
            })?;
            // The csv crate does not count blank lines; count them from byte offsets.
            let line = rec
                .position()
                .map_or(last_line, |p| line_of(text.as_bytes(), p.byte()));
            last_line = line;
            let cells: Vec<String> = rec
                .iter()
                .map(|c| c.trim().trim_matches(['\t', '=', '"']).trim().to_owned())
                .collect();
            if cells.iter().all(String::is_empty) {
                continue;
            }
            let Some((_, _)) = header.as_ref() else {
                if find(&cells, &self.date).is_some()
                    && (find(&cells, &self.amount).is_some()
                        || (find(&cells, &self.debit).is_some()
                            && find(&cells, &self.credit).is_some()))
                {
                    cols = self.columns(&cells, source, line)?;
                    header = Some((cells, line));
                } else {
                    self.labels(&cells, source, line, &mut opening, &mut closing)?;
                    if account.is_none()
                        && cells
                            .first()
                            .is_some_and(|c| c.contains("账号") || c.contains("账户"))
                    {
                        account = cells.get(1).filter(|s| !s.is_empty()).cloned();
                    }
                }
                continue;
            };
            let date_cell = cells.get(cols.date).map_or("", String::as_str);
            if ended || date_cell.is_empty() || !date_cell.as_bytes()[0].is_ascii_digit() {
                ended = true;
                self.labels(&cells, source, line, &mut opening, &mut closing)?;
                continue;
            }
            let raw_line = usize::try_from(line)
                .ok()
                .and_then(|l| lines.get(l.saturating_sub(1)))
                .map_or_else(String::new, |s| (*s).to_owned());
            rows.push(self.row(&cells, &cols, source, line, raw_line)?);
        }
        let Some((_, header_line)) = header else {
            return Err(decode_at(
                source,
                1,
                format!(
                    "bank CSV ({}): no header row with a date and an amount (or debit and credit) column",
                    self.name
                ),
            ));
        };
        if self.newest_first {
            rows.reverse();
        }
        let currency = rows.first().map_or_else(
            || Currency::from_code(&self.currency).unwrap_or(Currency::Cny),
            |r| r.currency,
        );
        // Opening balance: labelled, else derived from the first row's balance.
        let derived_opening = rows.first().and_then(|r| r.balance?.checked_sub(r.amount));
        let open = opening.map(|o| o.0).or(derived_opening);
        let has_balance_col = cols.balance.is_some();
        if has_balance_col {
            let mut prev = open;
            for r in &rows {
                if let (Some(p), Some(b)) = (prev, r.balance) {
                    let computed = Acc::of(p).plus(Acc::of(r.amount));
                    if computed != Acc::of(b) {
                        return Err(UnbalancedStatement {
                            file: source.to_owned(),
                            line: r.line,
                            opening: p,
                            entries: r.amount,
                            computed: computed.to_amount(2)?,
                            closing: b,
                        }
                        .into());
                    }
                }
                prev = r.balance.or(prev);
            }
        }
        let last_balance = rows
            .iter()
            .rev()
            .find_map(|r| r.balance.map(|b| (b, r.line)));
        let close = closing.or(last_balance);
        let (opening, closing, close_line) = match (open, close) {
            (Some(o), Some((c, l))) => (o, c, l),
            _ if !self.require_balance => {
                let mut acc = Acc::default();
                for r in &rows {
                    acc.add(r.amount);
                }
                (ExactAmount::ZERO, acc.to_amount(2)?, last_line)
            }
            _ => {
                return Err(decode_at(
                    source,
                    header_line,
                    format!(
                        "bank CSV ({}): no balance column and no opening/closing balance labels; the statement cannot be checked",
                        self.name
                    ),
                ));
            }
        };
        let st = BankStatement {
            format: BankFormat::Csv,
            source: source.to_owned(),
            statement_id: None,
            account,
            currency,
            opening,
            closing,
            opening_date: rows.first().map(|r| r.date),
            closing_date: rows.last().map(|r| r.date),
            entries: rows
                .into_iter()
                .map(|r| BankEntry {
                    booking_date: r.date,
                    value_date: None,
                    time: r.time,
                    amount: r.amount,
                    currency: r.currency,
                    reference: r.reference,
                    customer_reference: None,
                    counterparty: r.counterparty,
                    memo: r.memo,
                    code: None,
                    balance: r.balance,
                    source_line: r.line,
                    raw: r.raw,
                })
                .collect(),
        };
        st.check_balance(close_line)?;
        Ok(st)
    }

    fn labels(
        &self,
        cells: &[String],
        source: &str,
        line: u64,
        opening: &mut Option<(ExactAmount, u64)>,
        closing: &mut Option<(ExactAmount, u64)>,
    ) -> Result<()> {
        for (i, c) in cells.iter().enumerate() {
            for (labels, slot) in [
                (&self.opening_labels, &mut *opening),
                (&self.closing_labels, &mut *closing),
            ] {
                let Some(label) = labels.iter().find(|l| c.starts_with(l.as_str())) else {
                    continue;
                };
                let after = c[label.len()..].trim_start_matches([':', '：', ' ']).trim();
                let value = if after.is_empty() {
                    cells[i + 1..]
                        .iter()
                        .find(|s| !s.is_empty())
                        .map_or("", String::as_str)
                } else {
                    after
                };
                let a = parse_bank_amount(value)
                    .map_err(|e| decode_at(source, line, format!("{label}: {e}")))?
                    .ok_or_else(|| decode_at(source, line, format!("{label} without a value")))?;
                *slot = Some((a, line));
            }
        }
        Ok(())
    }

    fn columns(&self, header: &[String], source: &str, line: u64) -> Result<Cols> {
        let date = find(header, &self.date).unwrap_or(0);
        let amount = find(header, &self.amount);
        let debit = find(header, &self.debit);
        let credit = find(header, &self.credit);
        let direction = find(header, &self.direction);
        let mode = match &self.convention {
            DebitCredit::Auto => match (debit, credit, direction, amount) {
                (Some(d), Some(c), _, _) => Mode::Two(d, c),
                (_, _, Some(dir), Some(a)) => Mode::Flag(a, dir, v(CREDIT_WORDS), v(DEBIT_WORDS)),
                (_, _, _, Some(a)) => Mode::Signed(a),
                _ => return Err(decode_at(source, line, "bank CSV: no amount column")),
            },
            DebitCredit::Signed => Mode::Signed(
                amount.ok_or_else(|| decode_at(source, line, "bank CSV: no amount column"))?,
            ),
            DebitCredit::TwoColumns => match (debit, credit) {
                (Some(d), Some(c)) => Mode::Two(d, c),
                _ => {
                    return Err(decode_at(
                        source,
                        line,
                        "bank CSV: no debit and credit columns",
                    ));
                }
            },
            DebitCredit::Indicator { credit, debit } => match (amount, direction) {
                (Some(a), Some(dir)) => Mode::Flag(a, dir, credit.clone(), debit.clone()),
                _ => {
                    return Err(decode_at(
                        source,
                        line,
                        "bank CSV: no amount and direction columns",
                    ));
                }
            },
        };
        Ok(Cols {
            date,
            mode,
            balance: find(header, &self.balance),
            counterparty: find(header, &self.counterparty),
            reference: find(header, &self.reference),
            memo: find(header, &self.memo),
            currency: find(header, &self.currency_column),
        })
    }

    fn row(
        &self,
        cells: &[String],
        cols: &Cols,
        source: &str,
        line: u64,
        raw: String,
    ) -> Result<Row> {
        let cell = |i: usize| cells.get(i).map_or("", String::as_str);
        let opt = |i: Option<usize>| i.map(cell).filter(|s| !s.is_empty()).map(str::to_owned);
        let bad =
            |what: String| decode_at(source, line, format!("bank CSV ({}): {what}", self.name));
        let (date, time) = self.parse_date(cell(cols.date)).ok_or_else(|| {
            bad(format!(
                "date {:?} matches none of {:?}",
                cell(cols.date),
                self.date_formats
            ))
        })?;
        let amt = |i: usize| parse_bank_amount(cell(i)).map_err(&bad);
        let amount = match &cols.mode {
            Mode::None => return Err(bad("no amount column".into())),
            Mode::Signed(a) => amt(*a)?.ok_or_else(|| bad("empty amount".into()))?,
            Mode::Two(d, c) => {
                let d = amt(*d)?.filter(|x| !x.is_zero());
                let c = amt(*c)?.filter(|x| !x.is_zero());
                match (d, c) {
                    (Some(d), None) => d
                        .checked_abs()
                        .and_then(ExactAmount::checked_neg)
                        .ok_or_else(|| bad("amount overflows".into()))?,
                    (None, Some(c)) => c
                        .checked_abs()
                        .ok_or_else(|| bad("amount overflows".into()))?,
                    (None, None) => return Err(bad("neither debit nor credit amount".into())),
                    (Some(_), Some(_)) => {
                        return Err(bad("both a debit and a credit amount".into()));
                    }
                }
            }
            Mode::Flag(a, dir, credit, debit) => {
                let x = amt(*a)?
                    .ok_or_else(|| bad("empty amount".into()))?
                    .checked_abs()
                    .ok_or_else(|| bad("amount overflows".into()))?;
                let f = cell(*dir);
                if credit.iter().any(|w| w.eq_ignore_ascii_case(f)) {
                    x
                } else if debit.iter().any(|w| w.eq_ignore_ascii_case(f)) {
                    x.checked_neg()
                        .ok_or_else(|| bad("amount overflows".into()))?
                } else {
                    return Err(bad(format!(
                        "direction {f:?} is neither credit {credit:?} nor debit {debit:?}"
                    )));
                }
            }
        };
        let balance = match cols.balance {
            Some(i) => amt(i)?,
            None => None,
        };
        let ccy =
            cols.currency
                .map(cell)
                .filter(|s| !s.is_empty())
                .map_or(self.currency.as_str(), |c| match c {
                    "人民币" | "RMB" | "本币" => "CNY",
                    "美元" => "USD",
                    "港币" | "港元" => "HKD",
                    other => other,
                });
        let currency = Currency::from_code(ccy).map_err(|e| bad(e.to_string()))?;
        Ok(Row {
            line,
            date,
            time: time.map(|t| date.with_time(t).assume_offset(CHINA_OFFSET)),
            amount,
            balance,
            currency,
            reference: opt(cols.reference),
            counterparty: opt(cols.counterparty),
            memo: opt(cols.memo),
            raw,
        })
    }
}

#[derive(Debug, Default)]
enum Mode {
    #[default]
    None,
    Signed(usize),
    Two(usize, usize),
    Flag(usize, usize, Vec<String>, Vec<String>),
}

#[derive(Debug, Default)]
struct Cols {
    date: usize,
    mode: Mode,
    balance: Option<usize>,
    counterparty: Option<usize>,
    reference: Option<usize>,
    memo: Option<usize>,
    currency: Option<usize>,
}
