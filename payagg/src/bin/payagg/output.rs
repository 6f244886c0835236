//! Output formats and the unified statement writers.

use std::io::Write;
use std::path::{Path, PathBuf};

use rust_xlsxwriter::{Format, Workbook, Worksheet};

use crate::error::CliError;
use crate::unify::{COLUMNS, Row, writer};

/// A file format the command writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OutputFormat {
    Csv,
    Json,
    Xlsx,
    Html,
}

impl OutputFormat {
    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "csv" => Some(Self::Csv),
            "json" => Some(Self::Json),
            "xlsx" => Some(Self::Xlsx),
            "html" | "htm" => Some(Self::Html),
            _ => None,
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Json => "json",
            Self::Xlsx => "xlsx",
            Self::Html => "html",
        }
    }
}

/// `--format` if given, else the extension of `-o`, else CSV; only `allowed` names pass.
pub(crate) fn choose_format(
    explicit: Option<OutputFormat>,
    out: Option<&Path>,
    allowed: &[&str],
) -> Result<OutputFormat, CliError> {
    let from_ext = out
        .and_then(|p| p.extension())
        .and_then(|e| e.to_str())
        .and_then(OutputFormat::parse);
    let f = explicit.or(from_ext).unwrap_or(OutputFormat::Csv);
    if !allowed.contains(&f.name()) {
        return Err(CliError::input(format!(
            "output format {} is not available here (choose one of {})",
            f.name(),
            allowed.join(", ")
        )));
    }
    if f == OutputFormat::Xlsx && out.is_none_or(|p| p.as_os_str() == "-") {
        return Err(CliError::input("xlsx output needs a file: -o FILE.xlsx"));
    }
    Ok(f)
}

/// Receives unified rows one by one.
pub(crate) trait StatementSink {
    fn row(&mut self, row: &Row<'_>) -> Result<(), CliError>;
    fn finish(self: Box<Self>) -> Result<(), CliError>;
}

pub(crate) fn open_statement_sink(
    format: OutputFormat,
    out: Option<&Path>,
) -> Result<Box<dyn StatementSink>, CliError> {
    let target = out.map_or_else(|| PathBuf::from("-"), Path::to_owned);
    Ok(match format {
        OutputFormat::Csv => {
            let mut w = csv::Writer::from_writer(writer(out)?);
            w.write_record(COLUMNS)
                .map_err(|e| write_err(&target, &e))?;
            Box::new(CsvSink { w, target })
        }
        OutputFormat::Json => {
            let mut w = writer(out)?;
            w.write_all(b"[").map_err(|e| write_err(&target, &e))?;
            Box::new(JsonSink {
                w,
                target,
                first: true,
            })
        }
        OutputFormat::Xlsx | OutputFormat::Html => {
            let mut book = Workbook::new();
            let mut xl = Xlsx::default();
            let sheet = book.add_worksheet();
            sheet
                .set_name("statement")
                .map_err(|e| write_err(&target, &e))?;
            xl.header(sheet, &COLUMNS)
                .map_err(|e| write_err(&target, &e))?;
            Box::new(XlsxSink {
                book,
                xl,
                row: 1,
                target,
            })
        }
    })
}

pub(crate) fn write_err(target: &Path, e: &(dyn std::error::Error + 'static)) -> CliError {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(io) = err.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::BrokenPipe
        {
            return CliError::broken_pipe();
        }
        if let Some(csv) = err.downcast_ref::<csv::Error>()
            && let csv::ErrorKind::Io(io) = csv.kind()
            && io.kind() == std::io::ErrorKind::BrokenPipe
        {
            return CliError::broken_pipe();
        }
        cur = err.source();
    }
    CliError::file(target, format!("cannot write: {}", crate::error::chain(e)))
}

struct CsvSink {
    w: csv::Writer<Box<dyn Write>>,
    target: PathBuf,
}

impl StatementSink for CsvSink {
    fn row(&mut self, row: &Row<'_>) -> Result<(), CliError> {
        let line = row.source_line.to_string();
        let mut cells: Vec<&str> = row.cells().to_vec();
        cells.push(&line);
        self.w
            .write_record(cells)
            .map_err(|e| write_err(&self.target, &e))
    }
    fn finish(mut self: Box<Self>) -> Result<(), CliError> {
        self.w.flush().map_err(|e| write_err(&self.target, &e))
    }
}

struct JsonSink {
    w: Box<dyn Write>,
    target: PathBuf,
    first: bool,
}

impl StatementSink for JsonSink {
    fn row(&mut self, row: &Row<'_>) -> Result<(), CliError> {
        let sep: &[u8] = if self.first { b"\n" } else { b",\n" };
        self.first = false;
        self.w
            .write_all(sep)
            .map_err(|e| write_err(&self.target, &e))?;
        serde_json::to_writer(&mut self.w, row).map_err(|e| write_err(&self.target, &e))
    }
    fn finish(mut self: Box<Self>) -> Result<(), CliError> {
        self.w
            .write_all(b"\n]\n")
            .and_then(|()| self.w.flush())
            .map_err(|e| write_err(&self.target, &e))
    }
}

/// Shared xlsx cell formats: bold header, amounts as exact numbers with their own decimals,
/// optionally on a fill colour.
#[derive(Debug, Default)]
pub(crate) struct Xlsx {
    cache: Vec<((u8, Option<u32>), Format)>,
}

impl Xlsx {
    pub(crate) fn header(
        &mut self,
        sheet: &mut Worksheet,
        names: &[&str],
    ) -> Result<(), rust_xlsxwriter::XlsxError> {
        let bold = Format::new().set_bold();
        for (c, name) in names.iter().enumerate() {
            sheet.write_string_with_format(0, col(c), *name, &bold)?;
        }
        sheet.set_freeze_panes(1, 0)?;
        Ok(())
    }

    /// Write a decimal amount: as a number when the xlsx number (a decimal text in the file,
    /// written from the shortest round trip of an `f64`) reproduces it exactly, which holds
    /// for up to 15 significant digits; as text otherwise, never rounded. `fill` is an RGB
    /// background.
    pub(crate) fn amount(
        &mut self,
        sheet: &mut Worksheet,
        row: u32,
        c: u16,
        text: &str,
        fill: Option<u32>,
    ) -> Result<(), rust_xlsxwriter::XlsxError> {
        let digits = text.bytes().filter(u8::is_ascii_digit).count();
        let scale = text
            .find('.')
            .map_or(0, |i| text.len().saturating_sub(i + 1));
        let number = if digits <= 15 {
            text.parse::<f64>().ok()
        } else {
            None
        };
        let scale = u8::try_from(scale).unwrap_or(9).min(9);
        match number {
            Some(v) => {
                let fmt = self.format(Some(scale), fill);
                sheet.write_number_with_format(row, c, v, &fmt)?;
            }
            None => {
                let fmt = self.format(None, fill);
                sheet.write_string_with_format(row, c, text, &fmt)?;
            }
        }
        Ok(())
    }

    /// Text on an optional fill.
    pub(crate) fn text(
        &mut self,
        sheet: &mut Worksheet,
        row: u32,
        c: u16,
        text: &str,
        fill: Option<u32>,
    ) -> Result<(), rust_xlsxwriter::XlsxError> {
        if fill.is_some() {
            let fmt = self.format(None, fill);
            sheet.write_string_with_format(row, c, text, &fmt)?;
        } else {
            sheet.write_string(row, c, text)?;
        }
        Ok(())
    }

    /// The format of `scale` decimals (`None`: text) on `fill`.
    fn format(&mut self, scale: Option<u8>, fill: Option<u32>) -> Format {
        let key = (scale.unwrap_or(u8::MAX), fill);
        if let Some((_, f)) = self.cache.iter().find(|(k, _)| *k == key) {
            return f.clone();
        }
        let mut f = Format::new();
        if let Some(scale) = scale {
            f = f.set_num_format(if scale == 0 {
                "0".to_owned()
            } else {
                format!("0.{}", "0".repeat(usize::from(scale)))
            });
        }
        if let Some(rgb) = fill {
            f = f.set_background_color(rust_xlsxwriter::Color::RGB(rgb));
        }
        self.cache.push((key, f.clone()));
        f
    }
}

/// A column index (the unified statement has 14 columns, reports fewer than 30).
pub(crate) fn col(c: usize) -> u16 {
    u16::try_from(c).unwrap_or(u16::MAX)
}

struct XlsxSink {
    book: Workbook,
    xl: Xlsx,
    row: u32,
    target: PathBuf,
}

impl StatementSink for XlsxSink {
    fn row(&mut self, r: &Row<'_>) -> Result<(), CliError> {
        let target = self.target.clone();
        let e = |e: rust_xlsxwriter::XlsxError| write_err(&target, &e);
        let sheet = self.book.worksheet_from_index(0).map_err(e)?;
        let row = self.row;
        for (c, cell) in r.cells().iter().enumerate() {
            if (6..=8).contains(&c) {
                self.xl.amount(sheet, row, col(c), cell, None).map_err(e)?;
            } else {
                sheet.write_string(row, col(c), *cell).map_err(e)?;
            }
        }
        sheet
            .write_number(row, 13, u32::try_from(r.source_line).unwrap_or(u32::MAX))
            .map_err(e)?;
        self.row = self
            .row
            .checked_add(1)
            .ok_or_else(|| CliError::file(&target, "too many rows for one xlsx sheet"))?;
        Ok(())
    }
    fn finish(mut self: Box<Self>) -> Result<(), CliError> {
        let target = self.target.clone();
        if let Ok(sheet) = self.book.worksheet_from_index(0) {
            sheet.autofit();
        }
        self.book.save(&target).map_err(|e| write_err(&target, &e))
    }
}
