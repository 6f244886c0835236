//! `payagg statement unify`: every file's records into one unified statement (CSV, JSON, xlsx).

use std::io::Write;
use std::path::{Path, PathBuf};

use payagg::ExactAmount;
use payagg::StatementRecord;
use time::format_description::well_known::Rfc3339;

use crate::detect::{self, DetectOptions, Loaded};
use crate::error::CliError;
use crate::output::{self, OutputFormat};
use crate::progress::Progress;

/// The unified CSV columns, in this order.
pub(crate) const COLUMNS: [&str; 14] = [
    "channel",
    "kind",
    "merchant_order_no",
    "channel_trade_no",
    "merchant_refund_no",
    "channel_refund_no",
    "gross",
    "fee",
    "net",
    "currency",
    "occurred_at",
    "settle_date",
    "source_file",
    "source_line",
];

/// One unified row: the record, and the file it came from.
#[derive(Debug, serde::Serialize)]
pub(crate) struct Row<'a> {
    pub(crate) channel: &'a str,
    pub(crate) kind: &'a str,
    pub(crate) merchant_order_no: &'a str,
    pub(crate) channel_trade_no: &'a str,
    pub(crate) merchant_refund_no: &'a str,
    pub(crate) channel_refund_no: &'a str,
    pub(crate) gross: String,
    pub(crate) fee: String,
    pub(crate) net: String,
    pub(crate) currency: &'a str,
    pub(crate) occurred_at: String,
    pub(crate) settle_date: String,
    pub(crate) source_file: &'a str,
    pub(crate) source_line: u64,
}

/// Amounts as decimal major units with at least 2 decimals, more when the channel gave more.
pub(crate) fn amount(a: ExactAmount) -> String {
    a.with_min_scale(2).to_string()
}

impl<'a> Row<'a> {
    pub(crate) fn new(r: &'a StatementRecord, source_file: &'a str) -> Self {
        let s = |o: &'a Option<String>| o.as_deref().unwrap_or("");
        Self {
            channel: r.channel.as_str(),
            kind: r.kind.as_str(),
            merchant_order_no: s(&r.merchant_order_no),
            channel_trade_no: s(&r.channel_trade_no),
            merchant_refund_no: s(&r.merchant_refund_no),
            channel_refund_no: s(&r.channel_refund_no),
            gross: amount(r.gross),
            fee: amount(r.fee),
            net: amount(r.net),
            currency: r.currency.code(),
            occurred_at: r.occurred_at.format(&Rfc3339).unwrap_or_default(),
            settle_date: r.settle_date.map(|d| d.to_string()).unwrap_or_default(),
            source_file,
            source_line: r.source_line,
        }
    }

    pub(crate) fn cells(&self) -> [&str; 13] {
        [
            self.channel,
            self.kind,
            self.merchant_order_no,
            self.channel_trade_no,
            self.merchant_refund_no,
            self.channel_refund_no,
            &self.gross,
            &self.fee,
            &self.net,
            self.currency,
            &self.occurred_at,
            &self.settle_date,
            self.source_file,
        ]
    }
}

/// Arguments of `statement unify`.
#[derive(Debug, Default)]
pub(crate) struct UnifyArgs {
    pub(crate) files: Vec<PathBuf>,
    pub(crate) output: Option<PathBuf>,
    pub(crate) format: Option<OutputFormat>,
    pub(crate) detect: DetectOptions,
}

/// Load every file first, so a bad one fails before anything is written.
pub(crate) fn load_all(files: &[PathBuf], opts: &DetectOptions) -> Result<Vec<Loaded>, CliError> {
    files.iter().map(|f| detect::load(f, opts)).collect()
}

/// Stream every record of `file` to `f`, with progress on a terminal.
pub(crate) fn for_each_record(
    file: &Loaded,
    mut f: impl FnMut(&StatementRecord) -> Result<(), CliError>,
) -> Result<u64, CliError> {
    let progress = Progress::bytes(file.len(), &file.path.display().to_string());
    let mut n = 0u64;
    for r in file.records() {
        let r = r.map_err(|e| CliError::file_error(&file.path, &e))?;
        progress.inc(u64::try_from(r.raw.len()).unwrap_or(0).saturating_add(2));
        f(&r)?;
        n += 1;
    }
    progress.finish();
    Ok(n)
}

pub(crate) fn run(args: &UnifyArgs) -> Result<(), CliError> {
    if args.files.is_empty() {
        return Err(CliError::input(
            "statement unify: name at least one statement file (see payagg --help)",
        ));
    }
    let format = output::choose_format(
        args.format,
        args.output.as_deref(),
        &["csv", "json", "xlsx"],
    )?;
    let files = load_all(&args.files, &args.detect)?;
    let written = write_all(&files, format, args.output.as_deref());
    if written.is_err()
        && let Some(out) = args.output.as_deref().filter(|p| p.as_os_str() != "-")
    {
        // Leave no half-written statement behind that could be mistaken for a whole one.
        let _ = std::fs::remove_file(out);
    }
    let total = written?;
    if let Some(out) = &args.output {
        crate::progress::note(format_args!("{total} records written to {}", out.display()));
    }
    Ok(())
}

fn write_all(files: &[Loaded], format: OutputFormat, out: Option<&Path>) -> Result<u64, CliError> {
    let mut sink = output::open_statement_sink(format, out)?;
    let mut total = 0u64;
    for file in files {
        let name = file.path.display().to_string();
        let n = for_each_record(file, |r| sink.row(&Row::new(r, &name)))?;
        crate::progress::note(format_args!("{name}: {} ({n} records)", file.format.name()));
        total += n;
    }
    sink.finish()?;
    Ok(total)
}

/// Where `-o` points, or standard output for `-o -` or none.
pub(crate) fn writer(out: Option<&Path>) -> Result<Box<dyn Write>, CliError> {
    match out {
        None => Ok(Box::new(std::io::BufWriter::new(std::io::stdout().lock()))),
        Some(p) if p.as_os_str() == "-" => {
            Ok(Box::new(std::io::BufWriter::new(std::io::stdout().lock())))
        }
        Some(p) => std::fs::File::create(p)
            .map(|f| Box::new(std::io::BufWriter::new(f)) as Box<dyn Write>)
            .map_err(|e| CliError::file(p, format!("cannot create: {e}"))),
    }
}
