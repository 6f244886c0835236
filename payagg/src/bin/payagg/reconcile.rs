//! `payagg reconcile`: the books against the statements, a summary on standard output, a
//! report file, and the month-close verdict as the exit code.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use payagg::reconcile::{
    BookKind, BooksCsv, Category, Discrepancy, MatchedRow, ReconcileConfig, Reconciler, Report,
    SettlementConfig, SettlementReport, SettlementRule, match_settlements,
};
use payagg::{Channel, ExactAmount, StatementRecord};
use rust_xlsxwriter::{Format, Workbook};

use crate::detect::DetectOptions;
use crate::error::{CliError, EXIT_OK, EXIT_OVER_THRESHOLD};
use crate::output::{self, OutputFormat, col, write_err};
use crate::progress::{Progress, ProgressRead};
use crate::unify::{amount, load_all, writer};

/// Arguments of `reconcile`.
#[derive(Debug, Default)]
pub(crate) struct ReconcileArgs {
    pub(crate) books: Option<PathBuf>,
    pub(crate) statements: Vec<PathBuf>,
    pub(crate) date_window: Option<u32>,
    pub(crate) close_threshold: Option<String>,
    pub(crate) output: Option<PathBuf>,
    pub(crate) format: Option<OutputFormat>,
    pub(crate) detect: DetectOptions,
}

/// Columns of the report (CSV, xlsx, html), one row per decision.
const REPORT_COLUMNS: [&str; 19] = [
    "result",
    "category",
    "rule",
    "explanation",
    "channel",
    "kind",
    "merchant_order_no",
    "merchant_refund_no",
    "channel_ref",
    "books_amount",
    "books_status",
    "books_line",
    "statement_gross",
    "statement_fee",
    "statement_file",
    "statement_line",
    "days_apart",
    "unresolved",
    "currency",
];

/// Amount columns of [`REPORT_COLUMNS`] (written as numbers in xlsx).
const AMOUNT_COLUMNS: [usize; 4] = [9, 12, 13, 17];

const TICK: &str = "\u{2713}";
const CROSS: &str = "\u{2717}";
/// The red of a discrepancy row (Excel's "bad" fill).
const RED: u32 = 0x00FF_C7CE;

pub(crate) fn run(args: &ReconcileArgs) -> Result<u8, CliError> {
    let books_path = args
        .books
        .as_deref()
        .ok_or_else(|| CliError::input("reconcile: --books BOOKS.csv is required"))?;
    if args.statements.is_empty() {
        return Err(CliError::input(
            "reconcile: name at least one statement file with --statement FILE...",
        ));
    }
    let format = match &args.output {
        Some(_) => Some(output::choose_format(
            args.format,
            args.output.as_deref(),
            &["csv", "json", "xlsx", "html"],
        )?),
        None => None,
    };
    let mut config = ReconcileConfig::default();
    if let Some(days) = args.date_window {
        config = config.date_window(days);
    }
    if let Some(pct) = &args.close_threshold {
        config = config
            .close_threshold_percent(pct)
            .map_err(|e| CliError::input(format!("--close-threshold: {e}")))?;
    }
    let files = load_all(&args.statements, &args.detect)?;
    let report = reconcile_all(config, books_path, &files, &Progress::bytes)?;

    let settlements = settlements(&files, args.date_window)?;
    let mut out = std::io::stdout().lock();
    let mut summary = summary(&report);
    if let Some(st) = &settlements {
        summary.push_str(&settlement_summary(&st.report));
    }
    if let Err(e) = out.write_all(summary.as_bytes()).and_then(|()| out.flush()) {
        return Err(write_err(Path::new("-"), &e));
    }
    if let (Some(path), Some(format)) = (&args.output, format) {
        let written = write_report(&report, settlements.as_ref(), format, path);
        if written.is_err() && path.as_os_str() != "-" {
            let _ = std::fs::remove_file(path);
        }
        written?;
    }
    Ok(if report.closes() {
        EXIT_OK
    } else {
        EXIT_OVER_THRESHOLD
    })
}

/// The books, then every statement, each with a progress bar from `bar` (over its bytes;
/// [`Progress::bytes`] draws only on a terminal and for large files).
fn reconcile_all(
    config: ReconcileConfig,
    books_path: &Path,
    files: &[crate::detect::Loaded],
    bar: &dyn Fn(u64, &str) -> Progress,
) -> Result<Report, CliError> {
    let mut r = reconciler(config, books_path, bar)?;
    for file in files {
        let name = file.path.display().to_string();
        let progress = bar(file.len(), &name);
        let records = file.records().inspect(|r| {
            if let Ok(r) = r {
                progress.inc(u64::try_from(r.raw.len()).unwrap_or(0).saturating_add(2));
            }
        });
        let added = r.add_statement(name, records);
        progress.finish();
        added.map_err(|e| CliError::file_error(&file.path, &e))?;
    }
    r.finish()
        .map_err(|e| CliError::input(format!("reconcile: {}", crate::error::chain(&e))))
}

// ---------------------------------------------------------------------------------------
// Books

/// Reconcile `books` (streamed through core's [`BooksCsv`], so the rows are held once, by
/// the reconciler) against nothing yet.
fn reconciler(
    config: ReconcileConfig,
    path: &Path,
    bar: &dyn Fn(u64, &str) -> Progress,
) -> Result<Reconciler, CliError> {
    let cannot = |e: std::io::Error| CliError::file(path, format!("cannot read: {e}"));
    let name = path.display().to_string();
    // Spreadsheets on Chinese Windows save CSV in GBK; everything else is UTF-8, and is
    // streamed from the file (checked first, a chunk at a time) rather than held whole.
    let source: Box<dyn std::io::Read> = if is_utf8_file(path).map_err(cannot)? {
        let file = std::fs::File::open(path).map_err(cannot)?;
        let mut file = std::io::BufReader::with_capacity(256 << 10, file);
        // Past the BOM, as the header is read.
        let bom = std::io::BufRead::fill_buf(&mut file)
            .map_err(cannot)?
            .starts_with(b"\xEF\xBB\xBF");
        if bom {
            std::io::BufRead::consume(&mut file, 3);
        }
        Box::new(file)
    } else {
        let raw = std::fs::read(path).map_err(cannot)?;
        let body = raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&raw);
        let text = payagg::alipay::bill::decode_gbk(body).into_bytes();
        Box::new(std::io::Cursor::new(text))
    };
    let len = std::fs::metadata(path).map_or(u64::MAX, |m| m.len());
    let progress = bar(len, &name);
    let rows = BooksCsv::new(ProgressRead::new(source, &progress), &name)
        .map_err(|e| CliError::file_error(path, &e))?;
    let mut failed = None;
    let books = rows.map_while(|r| match r {
        Ok(b) => Some(b),
        Err(e) => {
            failed = Some(e);
            None
        }
    });
    let r = Reconciler::new(config, books);
    progress.finish();
    if let Some(e) = failed {
        return Err(CliError::file_error(path, &e));
    }
    r.map_err(|e| CliError::file_error(path, &e))
}

/// Whether the file at `path` is UTF-8 (BOM or not), read a chunk at a time.
fn is_utf8_file(path: &Path) -> std::io::Result<bool> {
    use std::io::Read as _;
    let mut file = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 1 << 20];
    // Bytes of a character cut by the previous chunk's end, moved to the front.
    let mut carry = 0;
    loop {
        let n = file.read(&mut buf[carry..])?;
        if n == 0 {
            return Ok(carry == 0);
        }
        let filled = carry + n;
        match std::str::from_utf8(&buf[..filled]) {
            Ok(_) => carry = 0,
            // Cut mid-character at the end: keep its bytes for the next chunk.
            Err(e) if e.error_len().is_none() => {
                let at = e.valid_up_to();
                buf.copy_within(at..filled, 0);
                carry = filled - at;
            }
            Err(_) => return Ok(false),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Settlements

/// Settlement matching and the bank lines its positions refer to, for the reports.
struct Settlements {
    report: SettlementReport,
    /// Every bank record passed to [`match_settlements`], in order, with its file's name.
    bank: Vec<(String, StatementRecord)>,
}

/// When bank statements are among the files: each channel's net per settlement day
/// against the bank credits.
fn settlements(
    files: &[crate::detect::Loaded],
    date_window: Option<u32>,
) -> Result<Option<Settlements>, CliError> {
    if !files.iter().any(crate::detect::Loaded::is_bank) {
        return Ok(None);
    }
    let bank: Vec<(String, StatementRecord)> = files
        .iter()
        .filter(|f| f.is_bank())
        .flat_map(|f| {
            let name = f.path.display().to_string();
            f.records()
                .filter_map(Result::ok)
                .map(move |r| (name.clone(), r))
        })
        .collect();
    // Every file already streamed once without error through the reconciler.
    let channel = files
        .iter()
        .filter(|f| !f.is_bank())
        .flat_map(|f| f.records().filter_map(Result::ok));
    let mut config = SettlementConfig::default();
    if let Some(days) = date_window {
        config = config.date_window(days);
    }
    match_settlements(channel, bank.iter().map(|(_, r)| r), &config)
        .map(|report| Some(Settlements { report, bank }))
        .map_err(|e| CliError::input(format!("settlements: {}", crate::error::chain(&e))))
}

fn settlement_rule(r: SettlementRule) -> &'static str {
    match r {
        SettlementRule::ExactSum => "exact_sum",
        SettlementRule::SumRoundedToMinorUnit => "sum_rounded_to_minor_unit",
        _ => "other",
    }
}

/// The settlement decisions as report rows, in [`REPORT_COLUMNS`] order, each with its own
/// category: `settled` (✓), `unsettled` (a channel day no bank credit paid) and
/// `unexplained_credit` (a bank credit no channel day explains). They are outside the
/// month-close verdict, which judges the books against the statements: `unresolved` is
/// left empty.
fn settlement_lines(st: &Settlements) -> impl Iterator<Item = Line> + '_ {
    let bank = |i: usize| st.bank.get(i);
    let matched = st.report.matched.iter().map(move |m| {
        let g = &m.group;
        let file = bank(m.bank_index)
            .map(|(f, _)| f.clone())
            .unwrap_or_default();
        Line {
            matched: true,
            cells: [
                TICK.to_owned(),
                "settled".to_owned(),
                settlement_rule(m.rule).to_owned(),
                format!(
                    "{} {} net {} {} ({} row(s)) paid by the bank credit of {} on {}",
                    g.channel,
                    g.settle_date,
                    amount(g.net),
                    g.currency,
                    g.rows,
                    amount(m.bank_amount),
                    m.bank_date
                ),
                g.channel.as_str().to_owned(),
                "settlement".to_owned(),
                String::new(),
                String::new(),
                m.bank_reference.clone().unwrap_or_default(),
                String::new(),
                String::new(),
                String::new(),
                amount(g.net),
                String::new(),
                file,
                m.bank_line.to_string(),
                m.days_apart.to_string(),
                String::new(),
                g.currency.code().to_owned(),
            ],
        }
    });
    let unsettled = st.report.unmatched_groups.iter().map(|g| Line {
        matched: false,
        cells: [
            CROSS.to_owned(),
            "unsettled".to_owned(),
            "no_counterpart".to_owned(),
            format!(
                "{} {} net {} {} ({} row(s)): no bank credit within the date window",
                g.channel,
                g.settle_date,
                amount(g.net),
                g.currency,
                g.rows
            ),
            g.channel.as_str().to_owned(),
            "settlement".to_owned(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            amount(g.net),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            g.currency.code().to_owned(),
        ],
    });
    let unexplained = st.report.unmatched_credits.iter().filter_map(move |&i| {
        let (file, r) = bank(i)?;
        let day = r.settle_date.unwrap_or_else(|| r.occurred_at.date());
        Some(Line {
            matched: false,
            cells: [
                CROSS.to_owned(),
                "unexplained_credit".to_owned(),
                "no_counterpart".to_owned(),
                format!(
                    "bank credit of {} {} on {day}: no channel day's net equals it",
                    amount(r.gross),
                    r.currency
                ),
                Channel::Bank.as_str().to_owned(),
                "settlement".to_owned(),
                String::new(),
                String::new(),
                r.channel_trade_no.clone().unwrap_or_default(),
                String::new(),
                String::new(),
                String::new(),
                amount(r.gross),
                String::new(),
                file.clone(),
                r.source_line.to_string(),
                String::new(),
                String::new(),
                r.currency.code().to_owned(),
            ],
        })
    });
    matched.chain(unsettled).chain(unexplained)
}

fn settlement_summary(st: &SettlementReport) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "\nSettlements: {} channel-day(s) matched to bank credits, {} not found in the bank statements, {} bank credit(s) unexplained",
        st.matched.len(),
        st.unmatched_groups.len(),
        st.unmatched_credits.len()
    );
    for m in &st.matched {
        let _ = writeln!(
            s,
            "  {} {} net {} {} = bank credit at line {} on {} ({} day(s) later)",
            m.group.channel,
            m.group.settle_date,
            amount(m.group.net),
            m.group.currency,
            m.bank_line,
            m.bank_date,
            m.days_apart
        );
    }
    for g in &st.unmatched_groups {
        let _ = writeln!(
            s,
            "  {} {} net {} {} ({} rows): no bank credit",
            g.channel,
            g.settle_date,
            amount(g.net),
            g.currency,
            g.rows
        );
    }
    s
}

// ---------------------------------------------------------------------------------------
// Summary

fn ppm_percent(ppm: u64) -> String {
    format!("{}.{:04} %", ppm / 10_000, ppm % 10_000)
}

fn channel_name(c: Option<Channel>) -> &'static str {
    c.map_or("-", Channel::as_str)
}

fn summary(report: &Report) -> String {
    let t = report.totals();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Reconciled {} statement file(s): {} matched, {} discrepancies",
        report.files().len(),
        report.matched_count(),
        report.discrepancies().len()
    );
    let _ = writeln!(s, "\nBy category:");
    let _ = writeln!(
        s,
        "  {:<20} {:>9} {:>16} {:>16}  currency",
        "category", "count", "gross", "unresolved"
    );
    for ((cat, cur), tally) in &t.by_category {
        let _ = writeln!(
            s,
            "  {:<20} {:>9} {:>16} {:>16}  {}",
            cat.as_str(),
            tally.count,
            amount(tally.gross),
            amount(tally.unresolved),
            cur
        );
    }
    let _ = writeln!(s, "\nBy channel:");
    let _ = writeln!(
        s,
        "  {:<9} {:<20} {:>9} {:>16} {:>16}  currency",
        "channel", "category", "count", "gross", "unresolved"
    );
    for ((ch, cat, cur), tally) in &t.by_channel {
        let _ = writeln!(
            s,
            "  {:<9} {:<20} {:>9} {:>16} {:>16}  {}",
            channel_name(*ch),
            cat.as_str(),
            tally.count,
            amount(tally.gross),
            amount(tally.unresolved),
            cur
        );
    }
    if !t.fees.is_empty() {
        let _ = writeln!(s, "\nFees stated (exact):");
        let _ = writeln!(s, "  {:<9} {:>16}  currency", "channel", "fee");
        for ((ch, cur), fee) in &t.fees {
            let _ = writeln!(s, "  {:<9} {:>16}  {}", ch.as_str(), amount(*fee), cur);
        }
    }
    for (ch, n) in &t.skipped {
        let _ = writeln!(
            s,
            "  {ch}: {n} fee/transfer/settlement line(s) not matched against the books"
        );
    }
    let _ = writeln!(s);
    for v in &t.verdicts {
        let _ = writeln!(
            s,
            "{}: unresolved {} of gross {} = {} (threshold {}): {}",
            v.currency,
            amount(v.unresolved),
            amount(v.gross),
            ppm_percent(v.ratio_ppm),
            ppm_percent(u64::from(v.threshold_ppm)),
            if v.closes { "closes" } else { "DOES NOT CLOSE" }
        );
    }
    let _ = writeln!(
        s,
        "Month close: {}",
        if report.closes() {
            "yes"
        } else {
            "no (discrepancy over the threshold)"
        }
    );
    s
}

// ---------------------------------------------------------------------------------------
// Report rows

/// One decision of the report, as text cells in [`REPORT_COLUMNS`] order.
struct Line {
    matched: bool,
    cells: [String; 19],
}

fn opt_amount(a: Option<ExactAmount>) -> String {
    a.map(amount).unwrap_or_default()
}

fn discrepancy_line(report: &Report, d: &Discrepancy) -> Line {
    let b = d.book.as_ref();
    let st = d.statement.as_ref();
    let kind = b
        .map(|b| b.kind.as_str().to_owned())
        .or_else(|| st.map(|s| s.kind.as_str().to_owned()))
        .unwrap_or_default();
    let file = st
        .and_then(|s| report.files().get(s.file))
        .cloned()
        .unwrap_or_default();
    Line {
        matched: false,
        cells: [
            CROSS.to_owned(),
            d.category.as_str().to_owned(),
            d.rule.as_str().to_owned(),
            d.rule.explain().to_owned(),
            channel_name(d.channel).to_owned(),
            kind,
            d.merchant_order_no.clone().unwrap_or_default(),
            d.merchant_refund_no.clone().unwrap_or_default(),
            d.channel_ref.clone().unwrap_or_default(),
            opt_amount(b.map(|b| b.amount)),
            b.map(|b| b.status.as_str().to_owned()).unwrap_or_default(),
            b.map(|b| b.line.to_string()).unwrap_or_default(),
            opt_amount(st.map(|s| s.gross)),
            opt_amount(st.map(|s| s.fee)),
            file,
            st.map(|s| s.line.to_string()).unwrap_or_default(),
            d.days_apart.map(|n| n.to_string()).unwrap_or_default(),
            amount(d.unresolved),
            d.currency.code().to_owned(),
        ],
    }
}

fn matched_line(m: &MatchedRow<'_>) -> Line {
    let unsigned = ExactAmount::from_money(m.amount()).unwrap_or(ExactAmount::ZERO);
    // Signed like a discrepancy's books amount: refunds negative.
    let books = if m.kind() == BookKind::Refund {
        unsigned.checked_neg().unwrap_or(unsigned)
    } else {
        unsigned
    };
    Line {
        matched: true,
        cells: [
            TICK.to_owned(),
            Category::Matched.as_str().to_owned(),
            m.rule().as_str().to_owned(),
            m.rule().explain().to_owned(),
            m.channel().as_str().to_owned(),
            m.kind().as_str().to_owned(),
            m.merchant_order_no().to_owned(),
            m.merchant_refund_no().unwrap_or_default().to_owned(),
            m.channel_ref().unwrap_or_default().to_owned(),
            amount(books),
            m.status().as_str().to_owned(),
            m.book_line().to_string(),
            amount(m.statement_gross()),
            amount(m.fee()),
            m.file_name().to_owned(),
            m.line().to_string(),
            m.days_apart().to_string(),
            amount(ExactAmount::ZERO),
            m.amount().currency().code().to_owned(),
        ],
    }
}

fn lines(report: &Report) -> impl Iterator<Item = Line> + '_ {
    report
        .discrepancies()
        .iter()
        .map(|d| discrepancy_line(report, d))
        .chain(report.matched().map(|m| matched_line(&m)))
}

fn write_report(
    report: &Report,
    settlements: Option<&Settlements>,
    format: OutputFormat,
    path: &Path,
) -> Result<(), CliError> {
    match format {
        OutputFormat::Csv => write_csv(report, settlements, path),
        OutputFormat::Json => write_json(report, settlements, path),
        OutputFormat::Xlsx => write_xlsx(report, settlements, path),
        OutputFormat::Html => write_html(report, settlements, path),
    }
}

/// A report line as a JSON object keyed by [`REPORT_COLUMNS`].
fn json_row(l: Line) -> serde_json::Value {
    REPORT_COLUMNS
        .iter()
        .zip(l.cells)
        .map(|(k, v)| ((*k).to_owned(), serde_json::Value::String(v)))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// The CSV report: discrepancies through the csv writer, then the matched rows (usually
/// nearly all of a month's million rows) formatted straight into one reused buffer,
/// byte for byte what the csv writer would write for [`matched_line`]; then the settlement
/// rows, told apart by their categories.
fn write_csv(
    report: &Report,
    settlements: Option<&Settlements>,
    path: &Path,
) -> Result<(), CliError> {
    let mut w = csv::Writer::from_writer(writer(Some(path))?);
    let e = |e: csv::Error| write_err(path, &e);
    w.write_record(REPORT_COLUMNS).map_err(e)?;
    for d in report.discrepancies() {
        w.write_record(&discrepancy_line(report, d).cells)
            .map_err(e)?;
    }
    w.flush().map_err(|e| write_err(path, &e))?;
    let mut out = w.into_inner().map_err(|e| write_err(path, e.error()))?;
    let mut buf = Vec::with_capacity(1 << 16);
    for m in report.matched() {
        matched_csv(&m, &mut buf);
        if buf.len() >= 1 << 15 {
            out.write_all(&buf).map_err(|e| write_err(path, &e))?;
            buf.clear();
        }
    }
    out.write_all(&buf).map_err(|e| write_err(path, &e))?;
    let mut w = csv::Writer::from_writer(out);
    for l in settlements.into_iter().flat_map(settlement_lines) {
        w.write_record(&l.cells).map_err(e)?;
    }
    w.flush().map_err(|e| write_err(path, &e))
}

/// Append `s` as a CSV field, quoted (quotes doubled) only when it holds a comma, quote or
/// line break, as the csv writer's default style does.
fn csv_field(buf: &mut Vec<u8>, s: &str) {
    if s.bytes().any(|c| matches!(c, b',' | b'"' | b'\r' | b'\n')) {
        buf.push(b'"');
        for c in s.bytes() {
            if c == b'"' {
                buf.push(b'"');
            }
            buf.push(c);
        }
        buf.push(b'"');
    } else {
        buf.extend_from_slice(s.as_bytes());
    }
}

/// Append the decimal digits of `n`.
fn push_u64(buf: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&digits[i..]);
}

/// Append an amount as [`amount`] writes it (at least 2 decimals).
fn push_amount(buf: &mut Vec<u8>, a: ExactAmount) {
    let a = a.with_min_scale(2);
    if a.units() < 0 {
        buf.push(b'-');
    }
    let units = a.units().unsigned_abs();
    let p = 10u64.pow(u32::from(a.scale()));
    push_u64(buf, units / p);
    if a.scale() > 0 {
        buf.push(b'.');
        let frac = units % p;
        let at = buf.len();
        push_u64(buf, frac);
        let pad = usize::from(a.scale()) - (buf.len() - at);
        buf.splice(at..at, std::iter::repeat_n(b'0', pad));
    }
}

/// One matched row of the CSV report: the cells of [`matched_line`].
fn matched_csv(m: &MatchedRow<'_>, buf: &mut Vec<u8>) {
    let unsigned = ExactAmount::from_money(m.amount()).unwrap_or(ExactAmount::ZERO);
    let books = if m.kind() == BookKind::Refund {
        unsigned.checked_neg().unwrap_or(unsigned)
    } else {
        unsigned
    };
    buf.extend_from_slice(TICK.as_bytes());
    buf.push(b',');
    buf.extend_from_slice(Category::Matched.as_str().as_bytes());
    buf.push(b',');
    buf.extend_from_slice(m.rule().as_str().as_bytes());
    buf.push(b',');
    csv_field(buf, m.rule().explain());
    buf.push(b',');
    buf.extend_from_slice(m.channel().as_str().as_bytes());
    buf.push(b',');
    buf.extend_from_slice(m.kind().as_str().as_bytes());
    buf.push(b',');
    csv_field(buf, m.merchant_order_no());
    buf.push(b',');
    csv_field(buf, m.merchant_refund_no().unwrap_or_default());
    buf.push(b',');
    csv_field(buf, m.channel_ref().unwrap_or_default());
    buf.push(b',');
    push_amount(buf, books);
    buf.push(b',');
    buf.extend_from_slice(m.status().as_str().as_bytes());
    buf.push(b',');
    push_u64(buf, m.book_line());
    buf.push(b',');
    push_amount(buf, m.statement_gross());
    buf.push(b',');
    push_amount(buf, m.fee());
    buf.push(b',');
    csv_field(buf, m.file_name());
    buf.push(b',');
    push_u64(buf, m.line());
    buf.push(b',');
    let days = m.days_apart();
    if days < 0 {
        buf.push(b'-');
    }
    push_u64(buf, u64::from(days.unsigned_abs()));
    buf.extend_from_slice(b",0.00,");
    buf.extend_from_slice(m.amount().currency().code().as_bytes());
    buf.push(b'\n');
}

fn write_json(
    report: &Report,
    settlements: Option<&Settlements>,
    path: &Path,
) -> Result<(), CliError> {
    let t = report.totals();
    let tally = |t: &payagg::reconcile::Tally| serde_json::json!({"count": t.count, "gross": amount(t.gross), "unresolved": amount(t.unresolved)});
    let by_category: Vec<_> = t
        .by_category
        .iter()
        .map(|((cat, cur), x)| {
            let mut v = tally(x);
            v["category"] = cat.as_str().into();
            v["currency"] = cur.code().into();
            v
        })
        .collect();
    let by_channel: Vec<_> = t
        .by_channel
        .iter()
        .map(|((ch, cat, cur), x)| {
            let mut v = tally(x);
            v["channel"] = channel_name(*ch).into();
            v["category"] = cat.as_str().into();
            v["currency"] = cur.code().into();
            v
        })
        .collect();
    let fees: Vec<_> = t
        .fees
        .iter()
        .map(|((ch, cur), fee)| {
            serde_json::json!({"channel": ch.as_str(), "currency": cur.code(), "fee": amount(*fee)})
        })
        .collect();
    let rows: Vec<serde_json::Value> = lines(report).map(json_row).collect();
    let mut doc = serde_json::json!({
        "closes": report.closes(),
        "ratio_ppm": report.ratio_ppm(),
        "verdicts": t.verdicts,
        "files": report.files(),
        "by_category": by_category,
        "by_channel": by_channel,
        "fees": fees,
        "rows": rows,
    });
    if let Some(st) = settlements {
        // Present only when bank statements were given: `settled`, `unsettled` and
        // `unexplained_credit` rows.
        doc["settlements"] = settlement_lines(st).map(json_row).collect();
    }
    let mut w = writer(Some(path))?;
    serde_json::to_writer_pretty(&mut w, &doc).map_err(|e| write_err(path, &e))?;
    w.write_all(b"\n")
        .and_then(|()| w.flush())
        .map_err(|e| write_err(path, &e))
}

/// The most rows one xlsx sheet holds.
const XLSX_MAX_ROWS: u32 = 1_048_576;

fn write_xlsx(
    report: &Report,
    settlements: Option<&Settlements>,
    path: &Path,
) -> Result<(), CliError> {
    let e = |e: rust_xlsxwriter::XlsxError| write_err(path, &e);
    let mut book = Workbook::new();
    let mut xl = output::Xlsx::default();
    {
        let sheet = book.add_worksheet();
        sheet.set_name("summary").map_err(e)?;
        let mono = Format::new().set_font_name("Consolas");
        let mut text = summary(report);
        if let Some(st) = settlements {
            text.push_str(&settlement_summary(&st.report));
        }
        for (i, text) in text.lines().enumerate() {
            let row = u32::try_from(i).unwrap_or(u32::MAX);
            sheet
                .write_string_with_format(row, 0, text, &mono)
                .map_err(e)?;
        }
    }
    xlsx_sheet(&mut book, &mut xl, "reconciliation", lines(report)).map_err(e)?;
    if let Some(st) = settlements {
        xlsx_sheet(&mut book, &mut xl, "settlements", settlement_lines(st)).map_err(e)?;
    }
    book.save(path).map_err(e)
}

/// A sheet of report lines: discrepancies on red, matched rows ticked.
fn xlsx_sheet(
    book: &mut Workbook,
    xl: &mut output::Xlsx,
    name: &str,
    lines: impl Iterator<Item = Line>,
) -> Result<(), rust_xlsxwriter::XlsxError> {
    let sheet = book.add_worksheet();
    sheet.set_name(name)?;
    xl.header(sheet, &REPORT_COLUMNS)?;
    let mut row = 1u32;
    for l in lines {
        if row == XLSX_MAX_ROWS - 1 {
            sheet.write_string(
                row,
                0,
                "… more matched rows than one sheet holds: use -o report.csv",
            )?;
            break;
        }
        let fill = (!l.matched).then_some(RED);
        for (c, cell) in l.cells.iter().enumerate() {
            if AMOUNT_COLUMNS.contains(&c) && !cell.is_empty() {
                xl.amount(sheet, row, col(c), cell, fill)?;
            } else {
                xl.text(sheet, row, col(c), cell, fill)?;
            }
        }
        row += 1;
    }
    sheet.autofilter(0, 0, row.saturating_sub(1), col(REPORT_COLUMNS.len() - 1))?;
    sheet.autofit();
    Ok(())
}

fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn write_html(
    report: &Report,
    settlements: Option<&Settlements>,
    path: &Path,
) -> Result<(), CliError> {
    let mut w = writer(Some(path))?;
    let mut text = summary(report);
    if let Some(st) = settlements {
        text.push_str(&settlement_summary(&st.report));
    }
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>payagg reconciliation</title><style>\
         body{{font-family:sans-serif}} table{{border-collapse:collapse;font-size:13px}}\
         th,td{{border:1px solid #ccc;padding:2px 6px}} td.n{{text-align:right}}\
         tr.bad td{{background:#ffc7ce;color:#9c0006}} tr.ok td.result{{color:#006100}}\
         pre{{background:#f6f6f6;padding:8px}}\
         </style></head><body>\n<h1>Reconciliation</h1>\n<p class=\"verdict\">Month close: <b>{}</b></p>\n<pre>{}</pre>\n",
        if report.closes() { "yes" } else { "no" },
        html_escape(&text)
    );
    w.write_all(h.as_bytes()).map_err(|e| write_err(path, &e))?;
    html_table(&mut w, path, "reconciliation", lines(report))?;
    if let Some(st) = settlements {
        w.write_all(b"<h2>Settlements</h2>\n")
            .map_err(|e| write_err(path, &e))?;
        html_table(&mut w, path, "settlements", settlement_lines(st))?;
    }
    w.write_all(b"</body></html>\n")
        .and_then(|()| w.flush())
        .map_err(|e| write_err(path, &e))
}

/// A `<table id="{id}">` of report lines: discrepancies `class="bad"` (red), matched rows
/// `class="ok"` and ticked.
fn html_table(
    w: &mut dyn std::io::Write,
    path: &Path,
    id: &str,
    lines: impl Iterator<Item = Line>,
) -> Result<(), CliError> {
    let mut h = format!("<table id=\"{id}\">\n<tr>");
    for c in REPORT_COLUMNS {
        let _ = write!(h, "<th>{c}</th>");
    }
    h.push_str("</tr>\n");
    w.write_all(h.as_bytes()).map_err(|e| write_err(path, &e))?;
    for l in lines {
        h.clear();
        h.push_str(if l.matched {
            "<tr class=\"ok\">"
        } else {
            "<tr class=\"bad\">"
        });
        for (c, cell) in l.cells.iter().enumerate() {
            let class = if c == 0 {
                " class=\"result\""
            } else if AMOUNT_COLUMNS.contains(&c) {
                " class=\"n\""
            } else {
                ""
            };
            let _ = write!(h, "<td{class}>{}</td>", html_escape(cell));
        }
        h.push_str("</tr>\n");
        w.write_all(h.as_bytes()).map_err(|e| write_err(path, &e))?;
    }
    w.write_all(b"</table>\n").map_err(|e| write_err(path, &e))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn percent_of_ppm() {
        assert_eq!(ppm_percent(1000), "0.1000 %");
        assert_eq!(ppm_percent(37_037), "3.7037 %");
    }

    #[test]
    fn matched_rows_show_the_books_status_and_the_statements_gross() {
        use payagg::reconcile::{BookEntry, BookStatus};
        use payagg::statement::RecordKind;
        use payagg::{Currency, Money};
        let at = time::macros::datetime!(2024-05-20 10:00 +8);
        let books =
            vec![BookEntry::payment("A1", Money::cny(500), at).with_status(BookStatus::Closed)];
        let zero = ExactAmount::parse("0.00").unwrap();
        let mut line = StatementRecord::new(
            Channel::Wechat,
            RecordKind::Adjustment,
            zero,
            zero,
            zero,
            Currency::Cny,
            at,
        );
        line.merchant_order_no = Some("A1".into());
        let mut r = Reconciler::new(ReconcileConfig::default(), books).unwrap();
        r.add_records("bill.csv", vec![line]).unwrap();
        let report = r.finish().unwrap();
        let l = matched_line(&report.matched().next().unwrap());
        assert_eq!(l.cells[10], "closed");
        assert_eq!(l.cells[12], "0.00");
        assert_eq!(l.cells[9], "5.00");
    }

    #[test]
    fn the_summary_shows_exact_fee_totals() {
        use payagg::reconcile::BookEntry;
        use payagg::statement::RecordKind;
        use payagg::{Currency, Money};
        let at = time::macros::datetime!(2024-05-20 10:00 +8);
        let books = vec![BookEntry::payment("A1", Money::cny(10000), at)];
        let gross = ExactAmount::parse("100.00").unwrap();
        let fee = ExactAmount::parse("-0.60001").unwrap();
        let mut line = StatementRecord::new(
            Channel::Wechat,
            RecordKind::Payment,
            gross,
            fee,
            gross.checked_add(fee).unwrap(),
            Currency::Cny,
            at,
        );
        line.merchant_order_no = Some("A1".into());
        let mut r = Reconciler::new(ReconcileConfig::default(), books).unwrap();
        r.add_records("bill.csv", vec![line]).unwrap();
        let s = summary(&r.finish().unwrap());
        assert!(s.contains("Fees stated (exact):"), "{s}");
        assert!(
            s.lines()
                .any(|l| l.contains("wechat") && l.contains("-0.60001") && l.contains("CNY")),
            "{s}"
        );
    }

    #[test]
    fn the_books_reader_advances_the_progress_bar() {
        use std::io::Read as _;
        let body = b"merchant_order_no,kind,amount\nA1,payment,1.00\n";
        let p = Progress::hidden(body.len() as u64);
        let mut out = Vec::new();
        ProgressRead::new(&body[..], &p)
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(p.position(), Some(body.len() as u64));
        assert_eq!(out, body);
    }

    #[test]
    fn the_fast_csv_rows_equal_the_csv_writers() {
        use payagg::reconcile::BookEntry;
        use payagg::statement::RecordKind;
        use payagg::{Currency, Money};
        let at = time::macros::datetime!(2024-05-20 10:00 +8);
        let books = vec![
            BookEntry::payment("A,1", Money::cny(10000), at),
            BookEntry::refund("A\"2", "R2", Money::cny(5), at).with_channel_ref("503"),
            BookEntry::payment("A3", Money::cny(120_000_000_007), at),
        ];
        let line = |order: &str, kind, gross: &str, fee: &str, line_no| {
            let (gross, fee) = (
                ExactAmount::parse(gross).unwrap(),
                ExactAmount::parse(fee).unwrap(),
            );
            let mut r = StatementRecord::new(
                Channel::Wechat,
                kind,
                gross,
                fee,
                gross.checked_add(fee).unwrap(),
                Currency::Cny,
                at + time::Duration::days(1),
            );
            r.merchant_order_no = Some(order.into());
            r.source_line = line_no;
            r
        };
        let mut refund = line("A\"2", RecordKind::Refund, "-0.05", "0.00030", 3);
        refund.merchant_refund_no = Some("R2".into());
        let lines = vec![
            line("A,1", RecordKind::Payment, "100.00", "-0.60001", 2),
            refund,
            line("A3", RecordKind::Payment, "1200000000.07", "-7", 4),
        ];
        let mut r = Reconciler::new(ReconcileConfig::default(), books).unwrap();
        r.add_records("bills/may \"1\".csv", lines).unwrap();
        let report = r.finish().unwrap();
        assert_eq!(report.matched_count(), 3);
        for m in report.matched() {
            let mut fast = Vec::new();
            matched_csv(&m, &mut fast);
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record(&matched_line(&m).cells).unwrap();
            let slow = w.into_inner().unwrap();
            assert_eq!(
                String::from_utf8(fast).unwrap(),
                String::from_utf8(slow).unwrap()
            );
        }
        let mut b = Vec::new();
        for (a, want) in [
            ("0.00600", "0.00600"),
            ("-1.5", "-1.50"),
            ("7", "7.00"),
            ("-0.01", "-0.01"),
        ] {
            b.clear();
            push_amount(&mut b, ExactAmount::parse(a).unwrap());
            assert_eq!(b, want.as_bytes(), "{a}");
        }
    }

    #[test]
    fn utf8_files_are_told_from_gbk_across_chunk_ends() {
        let dir = std::env::temp_dir().join(format!("payagg-utf8-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("books.csv");
        // A three-byte character cut by the 1 MiB chunk end, at every offset.
        for pad in 0..3 {
            let mut text = "a".repeat((1 << 20) - 1 - pad);
            text.push_str("退款,x\n");
            std::fs::write(&p, &text).unwrap();
            assert!(is_utf8_file(&p).unwrap(), "{pad}");
        }
        std::fs::write(&p, b"\xEF\xBB\xBFmerchant_order_no\n").unwrap();
        assert!(is_utf8_file(&p).unwrap());
        // 退款 in GBK.
        std::fs::write(&p, b"merchant_order_no,kind\nA1,\xCD\xCB\xBF\xEE\n").unwrap();
        assert!(!is_utf8_file(&p).unwrap());
        // Cut at the very end of the file: not UTF-8.
        std::fs::write(&p, &"退".as_bytes()[..2]).unwrap();
        assert!(!is_utf8_file(&p).unwrap());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(html_escape("<a&\"b'>"), "&lt;a&amp;&quot;b&#39;&gt;");
    }
}
