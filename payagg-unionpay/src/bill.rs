//! The reconciliation file: `fileContent` (base64 of zlib of a ZIP) and the ZM file inside
//! (GBK, fixed width in **bytes**, 607-byte records), parsed into core's
//! [`StatementRecord`]s.
//!
//! | field 20 交易类型 | kind | gross | fee (商户手续费) | net (清算净额) |
//! | --- | --- | --- | --- | --- |
//! | `01` consume | `Payment` | +交易金额 | `D` → negative, `C` → positive | signed field 33 |
//! | `04` refund, `31` cancel | `Refund` | −交易金额 | same | same |
//! | anything else | `Adjustment` (raw code kept in `channel_kind`) | by the sign of field 17 | same | same |
//!
//! Refund rows: `merchant_refund_no` = field 12 (the refund's orderId), `channel_refund_no` =
//! field 10, `channel_trade_no` = field 27 (the original `queryId`, the join key to the
//! payment), `merchant_order_no` = field 41 when filled. `channel_kind` is
//! `<交易代码>/<txnType><txnSubType>`. Unknown codes are never dropped.

use std::io::Read as _;

use base64::Engine as _;
use encoding_rs::GBK;
use payagg_core::clock::CHINA_OFFSET;
use payagg_core::error::{DecodeError, Error};
use payagg_core::money::{Currency, ExactAmount};
use payagg_core::statement::{RecordKind, Records, StatementParser, StatementRecord};
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

use crate::wire::zm::{FIELD_LENGTHS, RECORD_LEN, idx, is_zm_entry};

/// Decodes `fileContent`: base64 → zlib (RFC 1950; raw deflate and gzip are refused) → ZIP.
///
/// # Errors
/// [`Error::Decode`] at the failing layer.
pub fn decode_file_content(file_content: &str) -> Result<Vec<u8>, Error> {
    let compact: String = file_content
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let z = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|e| DecodeError::new("fileContent: not base64").with_source(e))?;
    let mut zip = Vec::with_capacity(z.len() * 4);
    flate2::read::ZlibDecoder::new(&z[..])
        .read_to_end(&mut zip)
        .map_err(|e| DecodeError::new("fileContent: not zlib").with_source(e))?;
    Ok(zip)
}

/// The ZM entry of a ZIP: its name and bytes. Other entries (ZME, …) are ignored.
///
/// # Errors
/// [`Error::Decode`] when the ZIP is unreadable or holds no ZM entry.
pub fn zm_entry(zip_bytes: &[u8]) -> Result<(String, Vec<u8>), Error> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip_bytes))
        .map_err(|e| DecodeError::new("reconciliation ZIP").with_source(e))?;
    for i in 0..archive.len() {
        let mut entry = archive
            .by_index(i)
            .map_err(|e| DecodeError::new("reconciliation ZIP entry").with_source(e))?;
        let name = entry
            .name()
            .map_err(|e| DecodeError::new("reconciliation ZIP entry name").with_source(e))?
            .into_owned();
        if is_zm_entry(&name) {
            let mut out = Vec::with_capacity(usize::try_from(entry.size()).unwrap_or(0));
            entry
                .read_to_end(&mut out)
                .map_err(|e| DecodeError::new(format!("ZIP entry {name}")).with_source(e))?;
            return Ok((name, out));
        }
    }
    Err(Error::decode("reconciliation ZIP: no INN…ZM_ entry"))
}

/// The settlement date of a ZM entry name `INN<yyMMdd>88ZM_<merId>`.
///
/// # Errors
/// [`Error::Decode`] when the name has no valid date.
pub fn settle_date_of_entry(name: &str) -> Result<Date, Error> {
    let d = name
        .get(3..9)
        .filter(|d| d.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| Error::decode(format!("ZM entry name {name:?}: no yyMMdd")))?;
    let n = |r: std::ops::Range<usize>| d[r].parse::<u8>().unwrap_or(0);
    let month = Month::try_from(n(2..4))
        .map_err(|_| Error::decode(format!("ZM entry name {name:?}: bad month")))?;
    Date::from_calendar_date(2000 + i32::from(n(0..2)), month, n(4..6))
        .map_err(|_| Error::decode(format!("ZM entry name {name:?}: bad date")))
}

/// Streams ZM records of one settlement day.
#[derive(Debug, Clone)]
pub struct ZmParser {
    settle_date: Date,
}

impl ZmParser {
    /// A parser for the file of `settle_date` (the year of each record's `MMDDhhmmss` is
    /// derived from it, across the Dec/Jan wrap).
    #[must_use]
    pub fn new(settle_date: Date) -> Self {
        Self { settle_date }
    }

    /// Parses one record (without its line ending); `line` is 1-based.
    ///
    /// # Errors
    /// [`Error::Decode`] naming the line and field.
    pub fn parse_record(&self, rec: &[u8], line: u64) -> Result<StatementRecord, Error> {
        let at = |what: &str| format!("ZM line {line}: {what}");
        if rec.len() < RECORD_LEN {
            return Err(DecodeError::new(format!(
                "ZM record of {} bytes, at least {RECORD_LEN} expected",
                rec.len()
            ))
            .at(at("length"))
            .into());
        }
        let mut slices: [&[u8]; 42] = [&[]; 42];
        let mut off = 0;
        for (i, len) in FIELD_LENGTHS.iter().enumerate() {
            slices[i] = &rec[off..off + len];
            off += len + 1;
        }
        let text = |i: usize| -> String {
            let (s, _, _) = GBK.decode(slices[i]);
            s.trim_end_matches(' ').trim_start_matches(' ').to_owned()
        };
        let ascii = |i: usize| -> &str {
            std::str::from_utf8(slices[i])
                .unwrap_or("")
                .trim_matches(' ')
        };
        let amount = ascii(idx::AMOUNT)
            .parse::<i64>()
            .map_err(|_| DecodeError::new("交易金额 is not n12").at(at("field 7")))?;
        let signed = |i: usize, name: &str| -> Result<i64, Error> {
            let s = slices[i];
            let digits = std::str::from_utf8(&s[1..]).unwrap_or("").trim();
            if digits.is_empty() {
                return Ok(0);
            }
            let v = digits.parse::<i64>().map_err(|_| {
                DecodeError::new(format!("{name} is not X+n12")).at(at(&format!("field {}", i + 1)))
            })?;
            match s[0] {
                b'C' => Ok(v),
                b'D' => Ok(-v),
                b' ' if v == 0 => Ok(0),
                _ => Err(DecodeError::new(format!("{name}: sign is not C or D"))
                    .at(at(&format!("field {}", i + 1)))
                    .into()),
            }
        };
        let fee = signed(idx::MERCHANT_FEE, "商户手续费")?;
        let settle = signed(idx::SETTLE_AMOUNT, "结算金额")?;
        let net = signed(idx::NET_AMOUNT, "清算净额")?;
        let txn_type = ascii(idx::TXN_TYPE);
        let (kind, gross) = match txn_type {
            "01" => (RecordKind::Payment, amount),
            "04" | "31" => (RecordKind::Refund, -amount),
            _ => (
                RecordKind::Adjustment,
                if settle < 0 { -amount } else { amount },
            ),
        };
        let trace_time = ascii(idx::TRACE_TIME);
        let occurred_at = self
            .time_of(trace_time)
            .ok_or_else(|| DecodeError::new("交易传输时间 is not MMDDhhmmss").at(at("field 5")))?;
        let opt = |s: String| if s.is_empty() { None } else { Some(s) };
        let order_id = opt(text(idx::ORDER_ID));
        let query_id = opt(text(idx::QUERY_ID));
        let mut r = StatementRecord::new(
            payagg_core::Channel::Unionpay,
            kind,
            ExactAmount::from_minor(gross, 2),
            ExactAmount::from_minor(fee, 2),
            ExactAmount::from_minor(net, 2),
            Currency::Cny,
            occurred_at,
        );
        match kind {
            RecordKind::Refund => {
                r.merchant_refund_no = order_id;
                r.channel_refund_no = query_id;
                r.channel_trade_no = opt(text(idx::ORIG_QUERY_ID));
                r.merchant_order_no = opt(text(idx::ORIG_ORDER_ID));
            }
            _ => {
                r.merchant_order_no = order_id;
                r.channel_trade_no = query_id;
            }
        }
        r.settle_date = Some(self.settle_date);
        r.channel_kind = format!(
            "{}/{}{}",
            text(idx::TXN_CODE),
            txn_type,
            ascii(idx::TXN_SUB_TYPE)
        );
        r.source_line = line;
        r.raw = GBK.decode(rec).0.into_owned();
        Ok(r)
    }

    fn time_of(&self, mmddhhmmss: &str) -> Option<OffsetDateTime> {
        if mmddhhmmss.len() != 10 || !mmddhhmmss.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let n = |r: std::ops::Range<usize>| mmddhhmmss[r].parse::<u8>().ok();
        let month = Month::try_from(n(0..2)?).ok()?;
        let mut year = self.settle_date.year();
        // A December record in a January file belongs to the previous year.
        if u8::from(month) > u8::from(self.settle_date.month()) + 1 {
            year -= 1;
        }
        let date = Date::from_calendar_date(year, month, n(2..4)?).ok()?;
        let t = Time::from_hms(n(4..6)?, n(6..8)?, n(8..10)?).ok()?;
        Some(PrimitiveDateTime::new(date, t).assume_offset(CHINA_OFFSET))
    }
}

impl StatementParser for ZmParser {
    fn records<'a>(&self, raw: &'a [u8]) -> Records<'a> {
        let me = self.clone();
        let mut line = 0u64;
        Box::new(
            raw.split(|b| *b == b'\n')
                .filter_map(move |l| {
                    line += 1;
                    let l = l.strip_suffix(b"\r").unwrap_or(l);
                    if l.iter().all(|b| *b == b' ') {
                        None
                    } else {
                        Some((line, l))
                    }
                })
                .map(move |(n, l)| me.parse_record(l, n)),
        )
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::test_vectors as tv;

    #[test]
    fn file_content_decode_vector() {
        let Some((dir, cases)) = tv::cases("file_content_decode_vector", "file_content_decode")
        else {
            return;
        };
        for c in &cases {
            let fc = tv::s(c, "inputs.fileContent");
            let zip = decode_file_content(fc).unwrap();
            assert_eq!(
                zip,
                std::fs::read(dir.join(tv::s(c, "expected.zip_file"))).unwrap()
            );
            let (name, zm) = zm_entry(&zip).unwrap();
            assert_eq!(name, c["expected"]["entries"][0].as_str().unwrap());
            assert_eq!(
                zm,
                std::fs::read(dir.join(tv::s(c, "expected.entry_file"))).unwrap()
            );
            assert_eq!(
                settle_date_of_entry(&name).unwrap(),
                time::macros::date!(2024 - 01 - 05)
            );
            // Raw deflate and gzip wrappers are refused.
            let z = base64::engine::general_purpose::STANDARD
                .decode(fc)
                .unwrap();
            let raw = base64::engine::general_purpose::STANDARD.encode(&z[2..]);
            assert!(decode_file_content(&raw).is_err());
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            std::io::Write::write_all(&mut gz, &zip).unwrap();
            let gz = base64::engine::general_purpose::STANDARD.encode(gz.finish().unwrap());
            assert!(decode_file_content(&gz).is_err());
        }
    }

    #[test]
    fn bill_parse_vector() {
        let Some((dir, cases)) = tv::cases("bill_parse_vector", "bill_parse") else {
            return;
        };
        for c in &cases {
            let raw = std::fs::read(dir.join(tv::s(c, "inputs.file"))).unwrap();
            let p = ZmParser::new(time::macros::date!(2024 - 01 - 05));
            let recs: Vec<StatementRecord> = p.records(&raw).collect::<Result<_, _>>().unwrap();
            let want = c["expected"]["records"].as_array().unwrap();
            assert_eq!(recs.len(), want.len());
            let (mut pay, mut refund, mut fee, mut net) = (0i64, 0i64, 0i64, 0i64);
            for (r, w) in recs.iter().zip(want) {
                let kind = match tv::s(w, "type") {
                    "payment" => RecordKind::Payment,
                    _ => RecordKind::Refund,
                };
                assert_eq!(r.kind, kind);
                // The vector names the row's orderId / queryId regardless of type.
                assert_eq!(r.primary_key(), Some(tv::s(w, "merchant_order_no")));
                let qid = if kind == RecordKind::Refund {
                    assert_eq!(
                        r.channel_trade_no.as_deref(),
                        Some(tv::s(w, "orig_query_id"))
                    );
                    r.channel_refund_no.as_deref()
                } else {
                    r.channel_trade_no.as_deref()
                };
                assert_eq!(qid, Some(tv::s(w, "channel_trade_no")));
                let amount = w["amount_fen"].as_i64().unwrap();
                let fee_fen = w["fee_fen"].as_i64().unwrap();
                assert_eq!(r.gross.units().abs(), amount);
                assert_eq!(-r.fee.units(), fee_fen);
                assert_eq!(r.net.units(), w["net_amount_fen_signed"].as_i64().unwrap());
                assert_eq!(
                    r.occurred_at
                        .format(&time::format_description::well_known::Rfc3339)
                        .unwrap(),
                    tv::s(w, "time")
                );
                assert_eq!(
                    r.channel_kind,
                    format!(
                        "{}/{}{}",
                        tv::s(w, "txn_code"),
                        tv::s(w, "txn_type"),
                        tv::s(w, "txn_sub_type")
                    )
                );
                assert!(r.raw.contains(tv::s(w, "req_reserved")), "GBK decoded");
                assert_eq!(r.settle_date, Some(time::macros::date!(2024 - 01 - 05)));
                match kind {
                    RecordKind::Payment => pay += amount,
                    _ => refund += amount,
                }
                fee += fee_fen;
                net += r.net.units();
            }
            let t = &c["expected"]["totals"];
            assert_eq!(pay, t["payment_amount_fen"].as_i64().unwrap());
            assert_eq!(refund, t["refund_amount_fen"].as_i64().unwrap());
            assert_eq!(fee, t["fee_fen"].as_i64().unwrap());
            assert_eq!(net, t["net_settled_fen"].as_i64().unwrap());
            assert_eq!(pay - refund - fee, net);
        }
    }

    fn record(code: &str, txn_type: &str, order: &str) -> Vec<u8> {
        let mut vals: Vec<Vec<u8>> = FIELD_LENGTHS.iter().map(|l| vec![b' '; *l]).collect();
        let mut put = |i: usize, v: &[u8]| vals[i][..v.len()].copy_from_slice(v);
        put(0, code.as_bytes());
        put(4, b"1231235959");
        put(6, b"000000000100");
        put(idx::ORDER_ID, order.as_bytes());
        put(idx::MERCHANT_FEE, b"D000000000001");
        put(idx::SETTLE_AMOUNT, b"C000000000099");
        put(idx::NET_AMOUNT, b"C000000000099");
        put(idx::TXN_TYPE, txn_type.as_bytes());
        let (gbk, _, _) = GBK.encode("备注测试");
        put(idx::REQ_RESERVED, &gbk);
        vals.join(&b' ')
    }

    #[test]
    fn unknown_codes_kept_year_wrap_and_lf() {
        let mut file = record("S99", "99", "ADJ1");
        file.push(b'\n');
        file.extend(record("S22", "01", "PAY1"));
        file.push(b'\n');
        assert_eq!(file.len(), 2 * (RECORD_LEN + 1));
        let p = ZmParser::new(time::macros::date!(2025 - 01 - 01));
        let recs: Vec<_> = p.records(&file).collect::<Result<_, _>>().unwrap();
        assert_eq!(recs[0].kind, RecordKind::Adjustment);
        assert_eq!(recs[0].channel_kind, "S99/99");
        assert_eq!(
            recs[0].occurred_at.year(),
            2024,
            "December record in a January file"
        );
        assert_eq!(recs[1].kind, RecordKind::Payment);
        assert!(recs[1].raw.contains("备注测试"));
        let short = p.records(b"S22 short").next().unwrap();
        assert!(short.is_err());
    }
}
