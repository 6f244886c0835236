//! WeChat Pay bills: the trade bill and the fund-flow bill, and the downloaded file's
//! decoding and digest check.
//!
//! Both bills are UTF-8 text (usually with a BOM, CRLF line ends): a plain header line of
//! Chinese column names, data rows whose every field is prefixed with a backtick, then a
//! plain summary header and one backticked summary line. The parsers here implement
//! [`StatementParser`](payagg_core::statement::StatementParser): they borrow the file and
//! yield one [`StatementRecord`](payagg_core::StatementRecord) per row, so a million-row
//! bill streams without a second copy. Columns are found by name, never by position.
//!
//! ```
//! use payagg_core::statement::StatementParser;
//! use payagg_wechat::bill::TradeBillParser;
//!
//! let bill = "交易时间,微信订单号,商户订单号,交易状态,货币种类,应结订单金额,退款金额,手续费\r\n\
//!             `2024-05-20 10:15:32,`4200002101,`A1,`SUCCESS,`CNY,`100.00,`0.00,`0.60000\r\n\
//!             总交易单数,应结订单总金额,退款总金额,手续费总金额\r\n\
//!             `1,`100.00,`0.00,`0.60\r\n";
//! let records = TradeBillParser::new().records(bill.as_bytes()).collect::<Result<Vec<_>, _>>()?;
//! assert_eq!(records[0].net.to_string(), "99.40000");
//! # Ok::<(), payagg_core::Error>(())
//! ```
//!
//! Empty days: an empty file, or WeChat's "no bill" answer (`NO_STATEMENT_EXIST`,
//! `No Bill Exist`) given in place of the file, yields no records and no error.

mod engine;
mod fundflow;
mod trade;

use std::io::Read;

use bytes::Bytes;
use payagg_core::Channel;
use payagg_core::crypto::{hex_lower, sha1, verify_hex_mac};
use payagg_core::error::{DecodeError, Error, VerificationError, VerificationKind};
use payagg_core::money::ExactAmount;

pub use fundflow::FundFlowBillParser;
pub use trade::TradeBillParser;

pub(crate) use payagg_core::Result;

/// The largest bill [`decode_download`] inflates (4 GiB): a guard against gzip bombs.
pub const MAX_BILL_BYTES: u64 = 4 << 30;

/// A bill's summary section, checked against the rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BillSummary {
    /// The number of detail rows (which the summary's 总交易单数 / 资金流水总笔数 stated).
    pub record_count: u64,
    /// Every amount total of the summary line, in file order.
    pub totals: Vec<SummaryTotal>,
}

impl BillSummary {
    /// The stated value of the total named `name` (for example `手续费总金额`).
    #[must_use]
    pub fn stated(&self, name: &str) -> Option<ExactAmount> {
        self.totals
            .iter()
            .find(|t| t.name == name)
            .map(|t| t.stated)
    }

    /// The exact sum of the rows for the total named `name`, when the parser knows its column.
    #[must_use]
    pub fn computed(&self, name: &str) -> Option<ExactAmount> {
        self.totals
            .iter()
            .find(|t| t.name == name)
            .and_then(|t| t.computed)
    }
}

/// One amount total of a bill's summary.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SummaryTotal {
    /// The summary column's name, as the file wrote it.
    pub name: String,
    /// The value the file stated.
    pub stated: ExactAmount,
    /// The exact sum of the detail rows, at the rows' precision; `None` for a total the
    /// parser does not know how to recompute (it is then not checked).
    pub computed: Option<ExactAmount>,
}

/// Decode a downloaded bill: gunzip it when it was requested with `tar_type=GZIP`, then
/// check its SHA-1 against the `hash_value` of the bill application's answer.
///
/// WeChat's `hash_value` is "原始账单（gzip需要解压缩）的摘要值": the digest of the **decompressed**
/// file, so the check runs on the gunzipped bytes (for an uncompressed download these are
/// the bytes as downloaded). The hex digest is compared in constant time, in either case.
///
/// ```
/// let csv = bytes::Bytes::from_static(b"abc");
/// let out = payagg_wechat::bill::decode_download(csv, "a9993e364706816aba3e25717850c26c9cd0d89d", false)?;
/// assert_eq!(&out[..], b"abc");
/// # Ok::<(), payagg_core::Error>(())
/// ```
///
/// # Errors
/// - [`Error::Decode`] when `gzip` is set and the bytes are not a valid gzip stream, or
///   inflate beyond [`MAX_BILL_BYTES`].
/// - [`Error::Verification`] of kind [`VerificationKind::Digest`] when the SHA-1 differs,
///   naming the expected and the computed digest.
pub fn decode_download(bytes: Bytes, expected_sha1_hex: &str, gzip: bool) -> Result<Bytes> {
    let file = if gzip { gunzip(&bytes)? } else { bytes };
    let digest = sha1(&file);
    if verify_hex_mac(expected_sha1_hex.trim(), &digest).is_err() {
        return Err(Error::Verification(
            VerificationError::new(
                Channel::Wechat,
                VerificationKind::Digest,
                "bill file SHA-1 does not match hash_value",
            )
            .expected(expected_sha1_hex.trim())
            .presented(hex_lower(&digest)),
        ));
    }
    Ok(file)
}

fn gunzip(bytes: &[u8]) -> Result<Bytes> {
    let mut out = Vec::with_capacity(bytes.len().saturating_mul(4));
    let mut reader = flate2::read::MultiGzDecoder::new(bytes).take(MAX_BILL_BYTES + 1);
    reader.read_to_end(&mut out).map_err(|e| {
        Error::Decode(
            DecodeError::new("wechat bill download: not a valid gzip stream").with_source(e),
        )
    })?;
    if u64::try_from(out.len()).unwrap_or(u64::MAX) > MAX_BILL_BYTES {
        return Err(Error::Decode(DecodeError::new(format!(
            "wechat bill download: inflates beyond {MAX_BILL_BYTES} bytes"
        ))));
    }
    Ok(Bytes::from(out))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn gunzips_and_checks_the_decompressed_digest() {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(b"abc").unwrap();
        let gz = Bytes::from(enc.finish().unwrap());
        let out =
            decode_download(gz.clone(), "A9993E364706816ABA3E25717850C26C9CD0D89D", true).unwrap();
        assert_eq!(&out[..], b"abc");
        let e = decode_download(gz, "da39a3ee5e6b4b0d3255bfef95601890afd80709", true).unwrap_err();
        let Error::Verification(v) = &e else {
            panic!("{e:?}")
        };
        assert_eq!(v.kind(), &VerificationKind::Digest);
        assert_eq!(
            v.expected_value(),
            Some("da39a3ee5e6b4b0d3255bfef95601890afd80709")
        );
        assert_eq!(
            v.presented_value(),
            Some("a9993e364706816aba3e25717850c26c9cd0d89d")
        );
        let bad = decode_download(Bytes::from_static(b"not gzip"), "00", true).unwrap_err();
        assert!(matches!(bad, Error::Decode(_)), "{bad:?}");
    }
}
