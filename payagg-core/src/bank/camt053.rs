//! ISO 20022 camt.053 (Bank-to-Customer Statement), any `camt.053.001.xx` version.

use quick_xml::Reader;
use quick_xml::events::Event;

use super::{
    BankEntry, BankFormat, BankStatement, LineCounter, decode_at, parse_iso_date,
    parse_iso_datetime,
};
use crate::error::Result;
use crate::money::{Currency, ExactAmount};

#[derive(Default)]
struct Bal {
    code: String,
    amount: Option<ExactAmount>,
    debit: bool,
    date: Option<time::Date>,
    line: u64,
}

#[derive(Default)]
struct Ntry {
    amount: Option<ExactAmount>,
    currency: Option<String>,
    debit: bool,
    status: String,
    booking: Option<time::Date>,
    booking_time: Option<time::OffsetDateTime>,
    value: Option<time::Date>,
    reference: Option<String>,
    e2e: Option<String>,
    names: Vec<String>,
    memo: Vec<String>,
    code: Option<String>,
    line: u64,
    start: usize,
}

#[derive(Default)]
struct Stmt {
    id: Option<String>,
    account: Option<String>,
    currency: Option<String>,
    bals: Vec<Bal>,
    entries: Vec<BankEntry>,
    line: u64,
}

fn ends(path: &[String], tail: &[&str]) -> bool {
    path.len() >= tail.len()
        && path[path.len() - tail.len()..]
            .iter()
            .zip(tail)
            .all(|(a, b)| a == b)
}

fn within(path: &[String], name: &str) -> bool {
    path.iter().any(|p| p == name)
}

/// Parse a camt.053 file (one or more `<Stmt>`), checking each statement balances:
/// the opening balance (`OPBD`, else `PRCD`) plus the booked entries (`Sts` `BOOK`; pending
/// and information-only entries are left out) must equal the closing balance (`CLBD`).
///
/// # Errors
/// [`crate::Error::Decode`] at `source:line` for malformed XML, a missing or unparsable
/// amount, date or balance, or an unbalanced statement ([`super::UnbalancedStatement`]).
pub fn parse_camt053(raw: &[u8], source: &str) -> Result<Vec<BankStatement>> {
    let mut reader = Reader::from_reader(raw);
    reader.config_mut().trim_text(false);
    let mut lines = LineCounter::new(raw);
    let mut path: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut out = Vec::new();
    let mut stmt: Option<Stmt> = None;
    let mut bal: Option<Bal> = None;
    let mut ntry: Option<Ntry> = None;
    let mut amt_ccy: Option<String> = None;
    let mut saw_root = false;
    loop {
        let pos = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let skip_ws = raw.get(pos..).map_or(0, |r| {
            r.iter().take_while(|b| b.is_ascii_whitespace()).count()
        });
        let line = lines.line_at(pos + skip_ws);
        let ev = reader
            .read_event()
            .map_err(|e| decode_at(source, line, format!("camt.053 XML: {e}")))?;
        match ev {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                text.clear();
                match name.as_str() {
                    "BkToCstmrStmt" => saw_root = true,
                    "Stmt" => {
                        stmt = Some(Stmt {
                            line,
                            ..Stmt::default()
                        })
                    }
                    "Bal" => {
                        bal = Some(Bal {
                            line,
                            ..Bal::default()
                        })
                    }
                    "Ntry" => {
                        ntry = Some(Ntry {
                            line,
                            start: pos + skip_ws,
                            ..Ntry::default()
                        })
                    }
                    "Amt" => {
                        amt_ccy = e
                            .try_get_attribute("Ccy")
                            .ok()
                            .flatten()
                            .and_then(|a| a.unescape_value().ok().map(|v| v.into_owned()));
                    }
                    _ => {}
                }
                path.push(name);
            }
            Event::Text(t) => {
                let s = t
                    .xml_content()
                    .map_err(|e| decode_at(source, line, format!("camt.053 text: {e}")))?;
                text.push_str(&s);
            }
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref().ok().flatten() {
                    Some(c) => Some(c),
                    None => match r.as_ref() {
                        b"amp" => Some('&'),
                        b"lt" => Some('<'),
                        b"gt" => Some('>'),
                        b"quot" => Some('"'),
                        b"apos" => Some('\''),
                        _ => None,
                    },
                };
                if let Some(c) = c {
                    text.push(c);
                }
            }
            Event::CData(t) => text.push_str(&String::from_utf8_lossy(&t)),
            Event::End(_) => {
                let value = std::mem::take(&mut text);
                let v = value.trim();
                let amount = |v: &str| {
                    ExactAmount::parse(v)
                        .map_err(|e| decode_at(source, line, format!("camt.053 amount {v:?}: {e}")))
                };
                let date = |v: &str| {
                    parse_iso_date(v)
                        .ok_or_else(|| decode_at(source, line, format!("camt.053 date {v:?}")))
                };
                if let Some(n) = ntry.as_mut() {
                    if ends(&path, &["Ntry", "Amt"]) {
                        n.amount = Some(amount(v)?);
                        n.currency = amt_ccy.take();
                    } else if ends(&path, &["Ntry", "CdtDbtInd"]) {
                        n.debit = v == "DBIT";
                    } else if ends(&path, &["Ntry", "Sts"]) || ends(&path, &["Ntry", "Sts", "Cd"]) {
                        if !v.is_empty() {
                            n.status = v.to_owned();
                        }
                    } else if ends(&path, &["BookgDt", "Dt"]) {
                        n.booking = Some(date(v)?);
                    } else if ends(&path, &["BookgDt", "DtTm"]) {
                        let t = parse_iso_datetime(v).ok_or_else(|| {
                            decode_at(source, line, format!("camt.053 date-time {v:?}"))
                        })?;
                        n.booking = Some(t.to_offset(crate::clock::CHINA_OFFSET).date());
                        n.booking_time = Some(t);
                    } else if ends(&path, &["ValDt", "Dt"]) {
                        n.value = Some(date(v)?);
                    } else if ends(&path, &["Ntry", "AcctSvcrRef"]) {
                        n.reference = Some(v.to_owned());
                    } else if ends(&path, &["TxDtls", "Refs", "AcctSvcrRef"]) {
                        n.reference.get_or_insert_with(|| v.to_owned());
                    } else if ends(&path, &["Refs", "EndToEndId"]) {
                        if v != "NOTPROVIDED" && v != "NONREF" {
                            n.e2e = Some(v.to_owned());
                        }
                    } else if within(&path, "RltdPties") && ends(&path, &["Nm"]) {
                        n.names.push(v.to_owned());
                    } else if ends(&path, &["RmtInf", "Ustrd"])
                        || ends(&path, &["Ntry", "AddtlNtryInf"])
                    {
                        n.memo.push(v.to_owned());
                    } else if ends(&path, &["BkTxCd", "Prtry", "Cd"]) || ends(&path, &["SubFmlyCd"])
                    {
                        n.code.get_or_insert_with(|| v.to_owned());
                    }
                } else if let Some(b) = bal.as_mut() {
                    if ends(&path, &["CdOrPrtry", "Cd"]) {
                        b.code = v.to_owned();
                    } else if ends(&path, &["Bal", "Amt"]) {
                        b.amount = Some(amount(v)?);
                    } else if ends(&path, &["Bal", "CdtDbtInd"]) {
                        b.debit = v == "DBIT";
                    } else if ends(&path, &["Bal", "Dt", "Dt"]) {
                        b.date = Some(date(v)?);
                    } else if ends(&path, &["Bal", "Dt", "DtTm"]) {
                        b.date = parse_iso_datetime(v).map(|t| t.date());
                    }
                } else if let Some(s) = stmt.as_mut() {
                    if ends(&path, &["Stmt", "Id"]) {
                        s.id = Some(v.to_owned());
                    } else if ends(&path, &["Acct", "Id", "IBAN"])
                        || ends(&path, &["Acct", "Id", "Othr", "Id"])
                    {
                        s.account = Some(v.to_owned());
                    } else if ends(&path, &["Acct", "Ccy"]) {
                        s.currency = Some(v.to_owned());
                    }
                }
                let closing = path.pop().unwrap_or_default();
                match closing.as_str() {
                    "Ntry" => {
                        if let (Some(n), Some(s)) = (ntry.take(), stmt.as_mut()) {
                            let end =
                                usize::try_from(reader.buffer_position()).unwrap_or(raw.len());
                            let raw_text =
                                String::from_utf8_lossy(raw.get(n.start..end).unwrap_or(&[]))
                                    .into_owned();
                            if let Some(e) = finish_entry(n, s, source, raw_text)? {
                                s.entries.push(e);
                            }
                        }
                    }
                    "Bal" => {
                        if let (Some(b), Some(s)) = (bal.take(), stmt.as_mut()) {
                            s.bals.push(b);
                        }
                    }
                    "Stmt" => {
                        if let Some(s) = stmt.take() {
                            out.push(finish_stmt(s, source, line)?);
                        }
                    }
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !saw_root {
        return Err(decode_at(
            source,
            1,
            "not a camt.053 statement: no BkToCstmrStmt element",
        ));
    }
    Ok(out)
}

fn finish_entry(n: Ntry, s: &Stmt, source: &str, raw: String) -> Result<Option<BankEntry>> {
    if !(n.status.is_empty() || n.status == "BOOK") {
        return Ok(None);
    }
    let amount = n
        .amount
        .ok_or_else(|| decode_at(source, n.line, "camt.053 entry without Amt"))?;
    let amount = if n.debit {
        amount.checked_neg().unwrap_or(amount)
    } else {
        amount
    };
    let booking = n
        .booking
        .or(n.value)
        .ok_or_else(|| decode_at(source, n.line, "camt.053 entry without BookgDt"))?;
    let ccy = n
        .currency
        .as_deref()
        .or(s.currency.as_deref())
        .unwrap_or("CNY");
    let currency = Currency::from_code(ccy).map_err(|e| decode_at(source, n.line, e))?;
    Ok(Some(BankEntry {
        booking_date: booking,
        value_date: n.value,
        time: n.booking_time,
        amount,
        currency,
        reference: n.reference,
        customer_reference: n.e2e,
        counterparty: (!n.names.is_empty()).then(|| n.names.join(" / ")),
        memo: (!n.memo.is_empty()).then(|| n.memo.join(" ")),
        code: n.code,
        balance: None,
        source_line: n.line,
        raw,
    }))
}

fn finish_stmt(s: Stmt, source: &str, end_line: u64) -> Result<BankStatement> {
    let signed = |b: &Bal| {
        b.amount.map(|a| {
            if b.debit {
                a.checked_neg().unwrap_or(a)
            } else {
                a
            }
        })
    };
    let open = s
        .bals
        .iter()
        .find(|b| b.code == "OPBD")
        .or_else(|| s.bals.iter().find(|b| b.code == "PRCD"))
        .ok_or_else(|| {
            decode_at(
                source,
                s.line,
                "camt.053 statement without an opening balance (OPBD/PRCD)",
            )
        })?;
    let close = s.bals.iter().find(|b| b.code == "CLBD").ok_or_else(|| {
        decode_at(
            source,
            end_line,
            "camt.053 statement without a closing balance (CLBD)",
        )
    })?;
    let opening =
        signed(open).ok_or_else(|| decode_at(source, open.line, "balance without Amt"))?;
    let closing =
        signed(close).ok_or_else(|| decode_at(source, close.line, "balance without Amt"))?;
    let ccy = s
        .currency
        .as_deref()
        .or_else(|| s.entries.first().map(|e| e.currency.code()))
        .unwrap_or("CNY");
    let currency = Currency::from_code(ccy).map_err(|e| decode_at(source, s.line, e))?;
    let st = BankStatement {
        format: BankFormat::Camt053,
        source: source.to_owned(),
        statement_id: s.id,
        account: s.account,
        currency,
        opening,
        closing,
        opening_date: open.date,
        closing_date: close.date,
        entries: s.entries,
    };
    st.check_balance(close.line)?;
    Ok(st)
}
