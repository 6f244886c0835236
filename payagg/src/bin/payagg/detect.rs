//! Recognise a statement file by its content and hand it to the right parser.
//!
//! | content | format |
//! | --- | --- |
//! | gzip magic `1f 8b` | gunzipped, then recognised again (WeChat `tar_type=GZIP`) |
//! | ZIP holding `INN<yyMMdd>88ZM_<merId>` | UnionPay reconciliation ZIP |
//! | ZIP holding `…_业务明细.csv` | Alipay trade bill |
//! | UTF-8 header `交易时间,…微信订单号…` | WeChat trade bill |
//! | UTF-8 header `记账时间,…收支类型…` | WeChat fund-flow bill |
//! | `#支付宝…` / `支付宝交易号,…` (GBK or UTF-8) | Alipay detail CSV, unzipped |
//! | base64 of zlib of a ZIP (optionally `fileContent=…`) | UnionPay `fileContent` |
//! | 607-byte space-separated records | UnionPay ZM file |
//! | XML naming `camt.053` | ISO 20022 bank-to-customer statement |
//! | `{1:` or `:20:` | SWIFT MT940 |
//! | anything else, with `--profile` | bank CSV |

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use payagg::StatementRecord;
use payagg::bank::{BankCsvProfile, BankFormat, BankStatement};
use payagg::statement::{Records, StatementParser};
use time::Date;

use crate::error::CliError;

/// The largest decoded file accepted (4 GiB, as the WeChat client): a guard against gzip bombs.
const MAX_DECODED: u64 = 4 << 30;

/// A recognised file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    WechatTrade,
    WechatFundFlow,
    AlipayZip,
    AlipayDetail,
    UnionpayZip,
    UnionpayFileContent,
    UnionpayZm,
    Camt053,
    Mt940,
    BankCsv,
}

impl Format {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Format::WechatTrade => "WeChat trade bill",
            Format::WechatFundFlow => "WeChat fund-flow bill",
            Format::AlipayZip => "Alipay trade bill ZIP",
            Format::AlipayDetail => "Alipay trade bill detail CSV",
            Format::UnionpayZip => "UnionPay reconciliation ZIP",
            Format::UnionpayFileContent => "UnionPay fileContent",
            Format::UnionpayZm => "UnionPay ZM file",
            Format::Camt053 => "ISO 20022 camt.053",
            Format::Mt940 => "SWIFT MT940",
            Format::BankCsv => "bank CSV",
        }
    }
}

/// How to read files whose content alone does not say everything.
#[derive(Debug, Clone, Default)]
pub(crate) struct DetectOptions {
    /// A bank CSV column-mapping profile (TOML or JSON).
    pub(crate) profile: Option<PathBuf>,
    /// The settlement day of a bare ZM file whose name is not `INN<yyMMdd>88ZM_…`.
    pub(crate) settle_date: Option<Date>,
}

/// A statement file, decoded and ready to stream its records.
#[derive(Debug)]
pub(crate) struct Loaded {
    pub(crate) path: PathBuf,
    pub(crate) format: Format,
    source: Source,
}

#[derive(Debug)]
enum Source {
    /// Channel bills: the bytes the parser reads (gunzipped, unzipped, GBK decoded as
    /// needed), parsed lazily.
    Lazy {
        data: Vec<u8>,
        parser: Arc<dyn StatementParser>,
    },
    /// Bank statements, parsed and balance-checked whole.
    Bank {
        records: Vec<StatementRecord>,
        len: u64,
    },
    /// A plain (not gzipped) WeChat bill, read line by line from its file whenever its
    /// records are asked for: a month's bill is never held in memory.
    Stream { len: u64 },
}

impl Loaded {
    /// The records, in file order; errors name the line.
    pub(crate) fn records(&self) -> Records<'_> {
        match &self.source {
            Source::Lazy { data, parser } => parser.records(data),
            Source::Bank { records, .. } => Box::new(records.iter().cloned().map(Ok)),
            Source::Stream { .. } => {
                let file = match std::fs::File::open(&self.path) {
                    Ok(f) => std::io::BufReader::with_capacity(256 << 10, f),
                    Err(e) => {
                        let e = payagg::Error::Decode(
                            payagg::error::DecodeError::new("cannot open the file again")
                                .with_source(e),
                        );
                        return Box::new(std::iter::once(Err(e)));
                    }
                };
                match self.format {
                    Format::WechatFundFlow => {
                        payagg::wechat::bill::FundFlowBillParser::new().read_records(file)
                    }
                    _ => payagg::wechat::bill::TradeBillParser::new().read_records(file),
                }
            }
        }
    }

    /// Whether this is a bank statement (its records are settlements' counterparts).
    pub(crate) fn is_bank(&self) -> bool {
        matches!(self.source, Source::Bank { .. })
    }

    /// The size of what the parser reads, for progress.
    pub(crate) fn len(&self) -> u64 {
        match &self.source {
            Source::Lazy { data, .. } => u64::try_from(data.len()).unwrap_or(u64::MAX),
            Source::Bank { len, .. } | Source::Stream { len } => *len,
        }
    }
}

/// Read `path`, recognise it and prepare its parser.
pub(crate) fn load(path: &Path, opts: &DetectOptions) -> Result<Loaded, CliError> {
    if let Some(loaded) = wechat_stream(path)? {
        return Ok(loaded);
    }
    let raw = std::fs::read(path).map_err(|e| CliError::file(path, format!("cannot read: {e}")))?;
    let raw = if raw.starts_with(&[0x1f, 0x8b]) {
        gunzip(path, &raw)?
    } else {
        raw
    };
    recognise(path, raw, opts)
}

/// A plain WeChat bill, recognised from its first 64 KiB as [`recognise`] would, to be
/// streamed from the file; `None` for anything else (which is then read whole).
fn wechat_stream(path: &Path) -> Result<Option<Loaded>, CliError> {
    let cannot = |e: std::io::Error| CliError::file(path, format!("cannot read: {e}"));
    let mut file = std::fs::File::open(path).map_err(cannot)?;
    let len = file.metadata().map_err(cannot)?.len();
    let mut head = Vec::with_capacity(64 << 10);
    (&mut file)
        .take(64 << 10)
        .read_to_end(&mut head)
        .map_err(cannot)?;
    if head.starts_with(&[0x1f, 0x8b]) || head.starts_with(b"PK") {
        return Ok(None);
    }
    let line = first_line(&head);
    let format = match wechat_format(line) {
        Some(f) => f,
        None => return Ok(None),
    };
    Ok(Some(Loaded {
        path: path.to_owned(),
        format,
        source: Source::Stream { len },
    }))
}

/// The WeChat bill whose header line `head` is.
fn wechat_format(head: &[u8]) -> Option<Format> {
    if contains(head, "交易时间") && (contains(head, "微信订单号") || contains(head, "商户订单号"))
    {
        Some(Format::WechatTrade)
    } else if contains(head, "记账时间") && contains(head, "收支类型") {
        Some(Format::WechatFundFlow)
    } else {
        None
    }
}

fn gunzip(path: &Path, raw: &[u8]) -> Result<Vec<u8>, CliError> {
    let mut out = Vec::with_capacity(raw.len().saturating_mul(4));
    if let Err(e) = flate2::read::MultiGzDecoder::new(raw)
        .take(MAX_DECODED + 1)
        .read_to_end(&mut out)
    {
        // What inflated before the damage is kept: name the line of the text it breaks in.
        let line = 1 + out.iter().filter(|&&b| b == b'\n').count();
        return Err(CliError::file(
            path,
            format!(
                "line {line} of the decompressed text ({} bytes in): truncated or corrupt gzip stream: {e}",
                out.len()
            ),
        ));
    }
    if u64::try_from(out.len()).unwrap_or(u64::MAX) > MAX_DECODED {
        return Err(CliError::file(
            path,
            format!("gzip stream inflates beyond {MAX_DECODED} bytes"),
        ));
    }
    Ok(out)
}

fn loaded(path: &Path, format: Format, data: Vec<u8>, parser: Arc<dyn StatementParser>) -> Loaded {
    Loaded {
        path: path.to_owned(),
        format,
        source: Source::Lazy { data, parser },
    }
}

fn bank(
    path: &Path,
    format: Format,
    raw: &[u8],
    statements: payagg::Result<Vec<BankStatement>>,
) -> Result<Loaded, CliError> {
    let statements = statements.map_err(|e| CliError::file_error(path, &e))?;
    let records = statements.iter().flat_map(BankStatement::records).collect();
    Ok(Loaded {
        path: path.to_owned(),
        format,
        source: Source::Bank {
            records,
            len: u64::try_from(raw.len()).unwrap_or(u64::MAX),
        },
    })
}

/// Read a bank CSV profile: TOML, or JSON when the file says `.json` or starts with `{`.
fn profile(path: &Path) -> Result<BankCsvProfile, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::file(path, format!("cannot read the profile: {e}")))?;
    let json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        || text.trim_start().starts_with('{');
    if json {
        serde_json::from_str(&text).map_err(|e| {
            CliError::file(
                path,
                format!("line {}: not a bank CSV profile: {e}", e.line()),
            )
        })
    } else {
        toml::from_str(&text)
            .map_err(|e| CliError::file(path, format!("not a bank CSV profile: {e}")))
    }
}

fn strip_bom(b: &[u8]) -> &[u8] {
    b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(b)
}

/// The first line that is not blank, without its line ending, at most 64 KiB.
fn first_line(b: &[u8]) -> &[u8] {
    let b = strip_bom(b);
    let mut rest = b;
    loop {
        let end = rest.iter().position(|&c| c == b'\n').unwrap_or(rest.len());
        let line = &rest[..end];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if !line.iter().all(u8::is_ascii_whitespace) || end == rest.len() {
            return &line[..line.len().min(64 << 10)];
        }
        rest = &rest[end + 1..];
    }
}

fn contains(hay: &[u8], needle: &str) -> bool {
    let n = needle.as_bytes();
    !n.is_empty() && hay.windows(n.len()).any(|w| w == n)
}

fn recognise(path: &Path, raw: Vec<u8>, opts: &DetectOptions) -> Result<Loaded, CliError> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        let what = if raw.is_empty() {
            "0 bytes"
        } else {
            "blank space only"
        };
        return Err(CliError::file(path, format!("line 1: empty file ({what})")));
    }
    if raw.starts_with(b"PK\x03\x04") || raw.starts_with(b"PK\x05\x06") {
        return zip_file(path, &raw);
    }
    let head = first_line(&raw);
    match wechat_format(head) {
        Some(Format::WechatTrade) => {
            return Ok(loaded(
                path,
                Format::WechatTrade,
                raw,
                Arc::new(payagg::wechat::bill::TradeBillParser::new()),
            ));
        }
        Some(_) => {
            return Ok(loaded(
                path,
                Format::WechatFundFlow,
                raw,
                Arc::new(payagg::wechat::bill::FundFlowBillParser::new()),
            ));
        }
        None => {}
    }
    let window = &raw[..raw.len().min(4096)];
    let head_text = payagg::alipay::bill::decode_gbk(window);
    if std::str::from_utf8(head).is_err()
        && (head_text.contains("交易时间") || head_text.contains("记账时间"))
        && head_text.contains("微信")
    {
        return Err(CliError::file(
            path,
            "line 1: wrong encoding: a WeChat Pay bill in GBK; WeChat bills are UTF-8 \
             (was the file re-saved by a spreadsheet? use the downloaded file)",
        ));
    }
    if head_text.starts_with("#支付宝") || head_text.contains("支付宝交易号") {
        let text = match std::str::from_utf8(&raw) {
            Ok(t) => t.to_owned(),
            Err(_) => payagg::alipay::bill::decode_gbk(&raw),
        };
        return Ok(loaded(
            path,
            Format::AlipayDetail,
            text.into_bytes(),
            Arc::new(payagg::alipay::bill::TradeBillParser),
        ));
    }
    let name = path.display().to_string();
    match payagg::bank::detect(&raw) {
        Some(BankFormat::Camt053) => {
            let st = payagg::bank::parse_camt053(&raw, &name);
            return bank(path, Format::Camt053, &raw, st);
        }
        Some(BankFormat::Mt940) => {
            let st = payagg::bank::parse_mt940(&raw, &name);
            return bank(path, Format::Mt940, &raw, st);
        }
        _ => {}
    }
    let trimmed = head_text.trim_start();
    if trimmed.starts_with('<') && head_text.contains("camt.05") {
        return Err(CliError::file(
            path,
            "line 1: unknown layout: ISO 20022 XML, but not a camt.053 statement",
        ));
    }
    if is_zm(head) {
        return zm_file(path, raw, opts);
    }
    if let Some(fc) = file_content(&raw) {
        return file_content_file(path, &raw, &fc);
    }
    if let Some(p) = &opts.profile {
        let profile = profile(p)?;
        let st = profile.parse(&raw, &name).map(|s| vec![s]);
        return bank(path, Format::BankCsv, &raw, st);
    }
    Err(CliError::file(
        path,
        "line 1: unknown layout: not a WeChat, Alipay or UnionPay bill, camt.053 or MT940 \
         (for a bank CSV export, pass --profile)",
    ))
}

fn zip_file(path: &Path, raw: &[u8]) -> Result<Loaded, CliError> {
    use payagg::unionpay::bill::{ZmParser, settle_date_of_entry, zm_entry};
    let zm_err = match zm_entry(raw) {
        Ok((name, zm)) => {
            let date = settle_date_of_entry(&name).map_err(|e| CliError::file_error(path, &e))?;
            return Ok(loaded(
                path,
                Format::UnionpayZip,
                zm,
                Arc::new(ZmParser::new(date)),
            ));
        }
        Err(e) => e,
    };
    match payagg::alipay::bill::unzip_bill(raw) {
        Ok(files) => {
            payagg::alipay::bill::check_summary(&files)
                .map_err(|e| CliError::file_error(path, &e))?;
            Ok(loaded(
                path,
                Format::AlipayZip,
                files.detail.into_bytes(),
                Arc::new(payagg::alipay::bill::TradeBillParser),
            ))
        }
        // A ZIP has no lines: its directory is read from the end, so name the size.
        Err(ali) => Err(CliError::file(
            path,
            format!(
                "byte {} (the end, where a ZIP's directory is read): a ZIP that is neither a \
                 UnionPay reconciliation file ({}) nor an Alipay bill ({})",
                raw.len(),
                crate::error::chain(&zm_err),
                crate::error::chain(&ali)
            ),
        )),
    }
}

/// A UnionPay ZM record: at least 607 bytes, fields separated by single spaces
/// (3-byte transaction code, then a space).
fn is_zm(line: &[u8]) -> bool {
    use payagg::unionpay::wire::zm::RECORD_LEN;
    line.len() >= RECORD_LEN
        && line
            .get(..3)
            .is_some_and(|c| c.iter().all(u8::is_ascii_alphanumeric))
        && line.get(3) == Some(&b' ')
}

fn zm_file(path: &Path, raw: Vec<u8>, opts: &DetectOptions) -> Result<Loaded, CliError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let date = match payagg::unionpay::bill::settle_date_of_entry(&name) {
        Ok(d) if payagg::unionpay::wire::zm::is_zm_entry(&name) => d,
        _ => opts.settle_date.ok_or_else(|| {
            CliError::file(
                path,
                "UnionPay ZM file whose name is not INN<yyMMdd>88ZM_<merId>: pass --settle-date YYYY-MM-DD",
            )
        })?,
    };
    Ok(loaded(
        path,
        Format::UnionpayZm,
        raw,
        Arc::new(payagg::unionpay::bill::ZmParser::new(date)),
    ))
}

/// The base64 `fileContent` of a UnionPay answer: either the bare value, or a whole
/// `key=value&…` answer holding `fileContent=`.
fn file_content(raw: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(strip_bom(raw)).ok()?.trim();
    let value = match text.find("fileContent=") {
        Some(i) => {
            let v = &text[i + "fileContent=".len()..];
            &v[..v.find('&').unwrap_or(v.len())]
        }
        None => text,
    };
    let is_b64 =
        |c: char| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=') || c.is_whitespace();
    // zlib of anything starts with 0x78 ("eJ", "eN", "eF", "eA" in base64).
    (value.len() >= 8 && value.starts_with('e') && value.chars().all(is_b64))
        .then(|| value.to_owned())
}

/// `fc`, the `fileContent` value found in `raw`, decoded; errors name the line it is on.
fn file_content_file(path: &Path, raw: &[u8], fc: &str) -> Result<Loaded, CliError> {
    use payagg::unionpay::bill::{ZmParser, decode_file_content, settle_date_of_entry, zm_entry};
    let head = &fc.as_bytes()[..fc.len().min(16)];
    let line = raw
        .windows(head.len())
        .position(|w| w == head)
        .map_or(1, |i| 1 + raw[..i].iter().filter(|&&b| b == b'\n').count());
    let at = |e: &(dyn std::error::Error + 'static)| {
        CliError::file(path, format!("line {line}: {}", crate::error::chain(e)))
    };
    let zip = decode_file_content(fc).map_err(|e| at(&e))?;
    let (name, zm) = zm_entry(&zip).map_err(|e| at(&e))?;
    let date = settle_date_of_entry(&name).map_err(|e| at(&e))?;
    Ok(loaded(
        path,
        Format::UnionpayFileContent,
        zm,
        Arc::new(ZmParser::new(date)),
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn first_line_skips_blank_lines_and_bom() {
        assert_eq!(first_line(b"\xEF\xBB\xBF\r\n\r\nabc\r\ndef"), b"abc");
        assert_eq!(first_line(b""), b"");
        assert_eq!(first_line(b"x"), b"x");
    }

    #[test]
    fn file_content_is_recognised_bare_or_in_an_answer() {
        assert_eq!(file_content(b"eJwLAAAA\n").as_deref(), Some("eJwLAAAA"));
        assert_eq!(
            file_content(b"respCode=00&fileContent=eJwLAAAA&fileName=x").as_deref(),
            Some("eJwLAAAA")
        );
        assert!(file_content("交易时间".as_bytes()).is_none());
        assert!(file_content(b"hello world").is_none());
    }
}
