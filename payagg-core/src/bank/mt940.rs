//! SWIFT MT940 (customer statement message), the tags account statements use.

use time::{Date, Month};

use super::{BankEntry, BankFormat, BankStatement, decode_at};
use crate::error::Result;
use crate::money::{Currency, ExactAmount};

/// A tag and its value (continuation lines joined with `\n`), at its first line.
struct Field {
    tag: String,
    value: String,
    line: u64,
}

fn fields(text: &str) -> Vec<Field> {
    let mut out: Vec<Field> = Vec::new();
    for (i, l) in text.lines().enumerate() {
        let line = i as u64 + 1;
        let l = l.trim_end_matches('\r');
        let t = l.trim_start();
        // SWIFT envelope blocks and the end-of-message marker.
        if t.starts_with("{1:")
            || t.starts_with("{2:")
            || t.starts_with("{3:")
            || t == "-}"
            || t == "-"
            || t.starts_with("{5:")
        {
            if let Some(p) = t.find("{4:") {
                let rest = &t[p + 3..];
                if rest.starts_with(':') {
                    push_tag(&mut out, rest, line);
                }
            }
            continue;
        }
        if t.starts_with(':') && t[1..].find(':').is_some_and(|p| p <= 4) {
            push_tag(&mut out, t, line);
        } else if let Some(f) = out.last_mut() {
            f.value.push('\n');
            f.value.push_str(l);
        }
    }
    out
}

fn push_tag(out: &mut Vec<Field>, t: &str, line: u64) {
    let body = &t[1..];
    if let Some(p) = body.find(':') {
        out.push(Field {
            tag: body[..p].to_owned(),
            value: body[p + 1..].to_owned(),
            line,
        });
    }
}

fn yymmdd(s: &str) -> Option<Date> {
    if s.len() != 6 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let yy: i32 = s[0..2].parse().ok()?;
    let year = if yy >= 80 { 1900 + yy } else { 2000 + yy };
    let m = Month::try_from(s[2..4].parse::<u8>().ok()?).ok()?;
    Date::from_calendar_date(year, m, s[4..6].parse().ok()?).ok()
}

/// `1234,56` → ExactAmount.
fn comma_amount(s: &str) -> Option<ExactAmount> {
    let s = s.trim();
    let t = s.strip_suffix(',').unwrap_or(s).replace(',', ".");
    ExactAmount::parse(&t).ok().filter(|a| !a.is_negative())
}

/// `:60F:`-style balance: `C240520CNY1000,00`.
fn balance(v: &str) -> Option<(ExactAmount, Date, Currency)> {
    let v = v.trim();
    let (mark, rest) = v.split_at_checked(1)?;
    let date = yymmdd(rest.get(0..6)?)?;
    let ccy = Currency::from_code(rest.get(6..9)?).ok()?;
    let amount = comma_amount(rest.get(9..)?)?;
    let amount = match mark {
        "C" => amount,
        "D" => amount.checked_neg()?,
        _ => return None,
    };
    Some((amount, date, ccy))
}

struct Line61 {
    value_date: Date,
    entry_date: Option<Date>,
    amount: ExactAmount,
    code: String,
    customer_ref: Option<String>,
    bank_ref: Option<String>,
    supplementary: Option<String>,
}

/// `:61:` `YYMMDD[MMDD](C|D|RC|RD)[funds]amount(type)(customer ref)[//bank ref][\nsupplementary]`.
fn line61(v: &str) -> Option<Line61> {
    let (first, supplementary) = match v.split_once('\n') {
        Some((a, b)) => (a, Some(b.trim().to_owned()).filter(|s| !s.is_empty())),
        None => (v, None),
    };
    let s = first.trim();
    let value_date = yymmdd(s.get(0..6)?)?;
    let mut rest = &s[6..];
    let mut entry_date = None;
    if rest.len() >= 4 && rest.as_bytes()[..4].iter().all(u8::is_ascii_digit) {
        let mm: u8 = rest[0..2].parse().ok()?;
        let dd: u8 = rest[2..4].parse().ok()?;
        let mut y = value_date.year();
        // An entry date in January for a December value date belongs to the next year.
        if mm == 1 && value_date.month() == Month::December {
            y += 1;
        } else if mm == 12 && value_date.month() == Month::January {
            y -= 1;
        }
        entry_date = Date::from_calendar_date(y, Month::try_from(mm).ok()?, dd).ok();
        rest = &rest[4..];
    }
    let (credit, n) = if rest.starts_with("RC") {
        (false, 2) // reversal of credit: money out
    } else if rest.starts_with("RD") {
        (true, 2)
    } else if rest.starts_with('C') {
        (true, 1)
    } else if rest.starts_with('D') {
        (false, 1)
    } else {
        return None;
    };
    rest = &rest[n..];
    if rest.as_bytes().first().is_some_and(u8::is_ascii_alphabetic) {
        rest = &rest[1..]; // funds code
    }
    let amt_len = rest
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b',')
        .count();
    let amount = comma_amount(&rest[..amt_len])?;
    let amount = if credit {
        amount
    } else {
        amount.checked_neg()?
    };
    rest = &rest[amt_len..];
    let code = rest.get(0..4)?.to_owned();
    rest = &rest[4..];
    let (cref, bref) = match rest.split_once("//") {
        Some((c, b)) => (c, Some(b.trim().to_owned()).filter(|s| !s.is_empty())),
        None => (rest, None),
    };
    let cref = cref.trim();
    Some(Line61 {
        value_date,
        entry_date,
        amount,
        code,
        customer_ref: (!cref.is_empty() && cref != "NONREF").then(|| cref.to_owned()),
        bank_ref: bref,
        supplementary,
    })
}

/// Parse an MT940 file: one statement per `:20:` … `:62F:`/`:62M:` message, each checked
/// to balance (`:60F:`/`:60M:` + Σ `:61:` = `:62F:`/`:62M:`). `:86:` after a `:61:` is the
/// entry's memo; reversals (`RC`, `RD`) reverse the sign. Text is UTF-8 (GBK is decoded
/// when the bytes are not valid UTF-8).
///
/// # Errors
/// [`crate::Error::Decode`] at `source:line` for a malformed tag, a missing balance, or
/// an unbalanced statement ([`super::UnbalancedStatement`]).
pub fn parse_mt940(raw: &[u8], source: &str) -> Result<Vec<BankStatement>> {
    let text = match std::str::from_utf8(raw) {
        Ok(t) => std::borrow::Cow::Borrowed(t),
        Err(_) => encoding_rs::GB18030.decode_without_bom_handling(raw).0,
    };
    let text = text.trim_start_matches('\u{feff}');
    let mut out = Vec::new();
    let mut cur: Option<BankStatement> = None;
    let mut last_is_61 = false;
    let all = fields(text);
    if !all.iter().any(|f| f.tag == "20") {
        return Err(decode_at(source, 1, "not an MT940 statement: no :20: tag"));
    }
    for f in all {
        let bad = |what: &str| {
            decode_at(
                source,
                f.line,
                format!("MT940 :{}: {what}: {:?}", f.tag, f.value),
            )
        };
        match f.tag.as_str() {
            "20" => {
                if let Some(s) = cur.take() {
                    return Err(decode_at(
                        source,
                        f.line,
                        format!(
                            "MT940 statement {:?} has no closing balance (:62F:) before the next :20:",
                            s.statement_id.unwrap_or_default()
                        ),
                    ));
                }
                cur = Some(BankStatement {
                    format: BankFormat::Mt940,
                    source: source.to_owned(),
                    statement_id: Some(f.value.trim().to_owned()),
                    account: None,
                    currency: Currency::Cny,
                    opening: ExactAmount::ZERO,
                    closing: ExactAmount::ZERO,
                    opening_date: None,
                    closing_date: None,
                    entries: Vec::new(),
                });
                last_is_61 = false;
            }
            tag => {
                let Some(s) = cur.as_mut() else {
                    return Err(bad("before any :20:"));
                };
                match tag {
                    "25" => s.account = Some(f.value.trim().to_owned()),
                    "28C" | "28" => {}
                    "60F" | "60M" => {
                        let (a, d, c) =
                            balance(&f.value).ok_or_else(|| bad("malformed opening balance"))?;
                        s.opening = a;
                        s.opening_date = Some(d);
                        s.currency = c;
                    }
                    "61" => {
                        let l = line61(&f.value).ok_or_else(|| bad("malformed statement line"))?;
                        s.entries.push(BankEntry {
                            booking_date: l.entry_date.unwrap_or(l.value_date),
                            value_date: Some(l.value_date),
                            time: None,
                            amount: l.amount,
                            currency: s.currency,
                            reference: l.bank_ref,
                            customer_reference: l.customer_ref,
                            counterparty: None,
                            memo: l.supplementary,
                            code: Some(l.code),
                            balance: None,
                            source_line: f.line,
                            raw: format!(":61:{}", f.value),
                        });
                        last_is_61 = true;
                        continue;
                    }
                    "86" => {
                        if last_is_61 && let Some(e) = s.entries.last_mut() {
                            let info = f.value.replace('\n', " ").trim().to_owned();
                            e.memo = Some(match e.memo.take() {
                                Some(m) => format!("{info} {m}"),
                                None => info,
                            });
                            e.raw.push_str("\n:86:");
                            e.raw.push_str(&f.value);
                        }
                    }
                    "62F" | "62M" => {
                        let (a, d, c) =
                            balance(&f.value).ok_or_else(|| bad("malformed closing balance"))?;
                        if c != s.currency {
                            return Err(bad(
                                "closing balance currency differs from the opening balance",
                            ));
                        }
                        s.closing = a;
                        s.closing_date = Some(d);
                        if let Some(s) = cur.take() {
                            s.check_balance(f.line)?;
                            out.push(s);
                        }
                    }
                    _ => {}
                }
                last_is_61 = false;
            }
        }
    }
    if let Some(s) = cur {
        return Err(decode_at(
            source,
            text.lines().count() as u64,
            format!(
                "MT940 statement {:?} ends without a closing balance (:62F:); truncated?",
                s.statement_id.unwrap_or_default()
            ),
        ));
    }
    Ok(out)
}
