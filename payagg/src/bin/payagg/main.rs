//! `payagg`: the command for finance.
//!
//! ```text
//! payagg statement unify FILE... [-o OUT] [--format csv|json|xlsx] [--profile PROFILE]
//! payagg reconcile --books BOOKS.csv --statement FILE... [--date-window DAYS]
//!                  [--close-threshold PCT] [-o report.xlsx|report.html|report.csv|report.json]
//! ```
//!
//! Exit codes: 0 done (the month closes), 1 discrepancy over the close threshold, 2 unusable
//! input. Run `payagg --help` for the whole text.
#![forbid(unsafe_code)]

mod detect;
mod error;
mod output;
mod progress;
mod reconcile;
mod unify;

use std::path::PathBuf;
use std::process::ExitCode;

use lexopt::prelude::*;

use crate::error::{CliError, EXIT_OK};
use crate::output::OutputFormat;
use crate::reconcile::ReconcileArgs;
use crate::unify::UnifyArgs;

const HELP: &str = "\
payagg: unified statements and reconciliation for WeChat Pay, Alipay, UnionPay and bank files

USAGE:
    payagg statement unify FILE... [-o OUT] [--format csv|json|xlsx] [--profile PROFILE]
                                   [--settle-date YYYY-MM-DD]
    payagg reconcile --books BOOKS.csv --statement FILE... [--date-window DAYS]
                     [--close-threshold PCT] [-o report.xlsx|report.html|report.csv|report.json]
    payagg --help | --version

STATEMENT FILES are recognised by their content, not their name:
    WeChat Pay trade or fund-flow bill (plain or gzip), Alipay trade bill ZIP (or its detail
    CSV), UnionPay reconciliation ZIP, ZM file or raw fileContent (base64), ISO 20022 camt.053,
    SWIFT MT940, and bank CSV exports with --profile PROFILE.toml|json.

statement unify
    Writes one unified statement, CSV columns in this order:
        channel,kind,merchant_order_no,channel_trade_no,merchant_refund_no,channel_refund_no,
        gross,fee,net,currency,occurred_at,settle_date,source_file,source_line
    Amounts are decimal yuan, signed from the merchant's view (refunds and fees negative); fees
    keep the precision the channel gave (WeChat: 5 decimals). Times are RFC 3339 with offset.
    -o OUT              output file (default: standard output; xlsx needs a file)
    --format FMT        csv, json or xlsx (default: from the extension of OUT, else csv)
    --profile FILE      column mapping for bank CSV exports
    --settle-date DATE  the settlement day of a UnionPay ZM file not named INN<yyMMdd>88ZM_...

reconcile
    Matches the books against the statements entry by entry and prints a summary per category
    and channel. BOOKS.csv has a header row with these columns (any order, extra ignored):
        merchant_order_no   the order number (required)
        merchant_refund_no  the refund number, empty for payments
        kind                payment or refund (required)
        amount              decimal yuan, positive: 12.30 (required)
        currency            CNY, USD, ... (empty: CNY)
        status              success, pending, failed, closed (and paid, refunded, revoked, ...)
        occurred_at         RFC 3339 (2024-05-20T10:15:32+08:00) or 'YYYY-MM-DD hh:mm:ss' China time (required)
        channel             optional: wechat, alipay or unionpay
        channel_trade_no    optional: the channel's trade (refund) number
        expected_fee        optional: the fee expected, a positive charge (0.00600)
        fee_rate            optional: the fee rate in percent (0.6)
    UTF-8 or GBK.
    --books FILE           the books CSV
    --statement FILE...    one or more statement files (as for statement unify)
    --date-window DAYS     how many days apart a cross-day settlement may be matched (default 1):
                           a line without the order number and its books row by amount, a
                           books row still awaiting its line (timing), a bank credit after
                           the settlement day
    --close-threshold PCT  unresolved discrepancy allowed, in percent of gross (default 0.1)
    -o REPORT              xlsx or html (every discrepancy in red, matched rows ticked), csv or json;
                           with bank statements, the settlements too (settled, unsettled,
                           unexplained_credit)
    --format FMT           xlsx, html, csv or json (default: from the extension of REPORT)
    --profile, --settle-date  as for statement unify

EXIT STATUS:
    0  done; for reconcile: the month closes
    1  reconcile: unresolved discrepancy over the close threshold
    2  unusable input: bad arguments, unreadable, truncated or malformed file (the message names
       the file and line), unknown layout, unbalanced bank statement, unsupported format
";

fn main() -> ExitCode {
    match run() {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            if !e.is_silent() {
                eprintln!("payagg: {e}");
            }
            ExitCode::from(e.code())
        }
    }
}

fn arg_err(e: lexopt::Error) -> CliError {
    CliError::input(format!("{e} (see payagg --help)"))
}

fn string(v: std::ffi::OsString) -> Result<String, CliError> {
    v.into_string()
        .map_err(|v| CliError::input(format!("argument {v:?} is not valid UTF-8")))
}

fn run() -> Result<u8, CliError> {
    let mut p = lexopt::Parser::from_env();
    let cmd = match p.next().map_err(arg_err)? {
        Some(Short('h') | Long("help")) | None => {
            print!("{HELP}");
            return Ok(EXIT_OK);
        }
        Some(Short('V') | Long("version")) => {
            println!("payagg {}", env!("CARGO_PKG_VERSION"));
            return Ok(EXIT_OK);
        }
        Some(Value(v)) => string(v)?,
        Some(other) => return Err(arg_err(other.unexpected())),
    };
    match cmd.as_str() {
        "statement" => {
            match p.next().map_err(arg_err)? {
                Some(Value(v)) if v == "unify" => {}
                Some(Short('h') | Long("help")) => {
                    print!("{HELP}");
                    return Ok(EXIT_OK);
                }
                _ => {
                    return Err(CliError::input(
                        "expected `payagg statement unify FILE...` (see payagg --help)",
                    ));
                }
            }
            let Some(args) = unify_args(&mut p)? else {
                return Ok(EXIT_OK);
            };
            unify::run(&args)?;
            Ok(EXIT_OK)
        }
        "reconcile" => {
            let Some(args) = reconcile_args(&mut p)? else {
                return Ok(EXIT_OK);
            };
            reconcile::run(&args)
        }
        other => Err(CliError::input(format!(
            "unknown command {other:?}: expected `statement unify` or `reconcile` (see payagg --help)"
        ))),
    }
}

fn date_arg(s: &str) -> Result<time::Date, CliError> {
    time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
        .map_err(|_| CliError::input(format!("--settle-date {s:?} is not YYYY-MM-DD")))
}

/// `None` when `--help` was asked and printed.
fn unify_args(p: &mut lexopt::Parser) -> Result<Option<UnifyArgs>, CliError> {
    let mut a = UnifyArgs::default();
    while let Some(arg) = p.next().map_err(arg_err)? {
        match arg {
            Short('o') | Long("output") => {
                a.output = Some(PathBuf::from(p.value().map_err(arg_err)?));
            }
            Long("format") => {
                let v = string(p.value().map_err(arg_err)?)?;
                a.format = Some(OutputFormat::parse(&v).ok_or_else(|| {
                    CliError::input(format!("--format {v:?}: expected csv, json or xlsx"))
                })?);
            }
            Long("profile") => {
                a.detect.profile = Some(PathBuf::from(p.value().map_err(arg_err)?));
            }
            Long("settle-date") => {
                a.detect.settle_date = Some(date_arg(&string(p.value().map_err(arg_err)?)?)?);
            }
            Short('h') | Long("help") => {
                print!("{HELP}");
                return Ok(None);
            }
            Value(v) => a.files.push(PathBuf::from(v)),
            other => return Err(arg_err(other.unexpected())),
        }
    }
    Ok(Some(a))
}

/// `None` when `--help` was asked and printed.
fn reconcile_args(p: &mut lexopt::Parser) -> Result<Option<ReconcileArgs>, CliError> {
    let mut a = ReconcileArgs::default();
    while let Some(arg) = p.next().map_err(arg_err)? {
        match arg {
            Long("books") => a.books = Some(PathBuf::from(p.value().map_err(arg_err)?)),
            Long("statement") => {
                for v in p.values().map_err(arg_err)? {
                    a.statements.push(PathBuf::from(v));
                }
            }
            Long("date-window") => {
                let v = string(p.value().map_err(arg_err)?)?;
                a.date_window = Some(v.parse().map_err(|_| {
                    CliError::input(format!("--date-window {v:?}: expected a number of days"))
                })?);
            }
            Long("close-threshold") => {
                a.close_threshold = Some(string(p.value().map_err(arg_err)?)?);
            }
            Short('o') | Long("output") => {
                a.output = Some(PathBuf::from(p.value().map_err(arg_err)?));
            }
            Long("format") => {
                let v = string(p.value().map_err(arg_err)?)?;
                a.format = Some(OutputFormat::parse(&v).ok_or_else(|| {
                    CliError::input(format!("--format {v:?}: expected xlsx, html, csv or json"))
                })?);
            }
            Long("profile") => {
                a.detect.profile = Some(PathBuf::from(p.value().map_err(arg_err)?));
            }
            Long("settle-date") => {
                a.detect.settle_date = Some(date_arg(&string(p.value().map_err(arg_err)?)?)?);
            }
            Short('h') | Long("help") => {
                print!("{HELP}");
                return Ok(None);
            }
            Value(v) => {
                return Err(CliError::input(format!(
                    "reconcile: unexpected argument {v:?}; statements go after --statement"
                )));
            }
            other => return Err(arg_err(other.unexpected())),
        }
    }
    Ok(Some(a))
}
