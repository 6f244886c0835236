//! The ZM (交易明细) file from the simulator's state: GBK, fixed width in bytes (the official
//! 42-field array, 607-byte records, CR LF), zipped as `INN<yyMMdd>88ZM_<merId>`, then zlib,
//! then base64: the `fileContent` of a `fileTransfer` answer.

use std::io::Write as _;

use base64::Engine as _;
use payagg_unionpay::wire::zm;
use time::{Date, PrimitiveDateTime};

use crate::BillDiscrepancy;

/// One ZM record before encoding.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    /// 交易代码: `S22` consume, `S30` refund, `S31` cancel.
    pub(crate) code: &'static str,
    pub(crate) trace_no: String,
    /// `MMDDhhmmss`.
    pub(crate) trace_time: String,
    /// 主账号: the payer's masked card number.
    pub(crate) acc_no: String,
    /// 支付卡类型: `01` debit, `02` credit.
    pub(crate) card_type: &'static str,
    pub(crate) amount: u64,
    pub(crate) channel_type: String,
    pub(crate) query_id: String,
    pub(crate) order_id: String,
    /// Refund/cancel: the original's traceNo and traceTime.
    pub(crate) orig_trace: Option<(String, String)>,
    /// The fee in fen: charged (`D`) on a consume, returned (`C`) on a refund.
    pub(crate) fee: u64,
    /// Whether the row moves money back to the payer (refund, cancel).
    pub(crate) reverse: bool,
    pub(crate) txn_type: String,
    pub(crate) txn_sub_type: String,
    pub(crate) biz_type: String,
    pub(crate) orig_qry_id: Option<String>,
    pub(crate) mer_id: String,
    pub(crate) req_reserved: Option<String>,
    pub(crate) orig_order_id: Option<String>,
}

fn put(out: &mut Vec<u8>, bytes: &[u8], width: usize) {
    let n = bytes.len().min(width);
    out.extend_from_slice(&bytes[..n]);
    out.extend(std::iter::repeat_n(b' ', width - n));
}

/// GBK bytes of `s`, cut to at most `max` bytes without splitting a character.
fn gbk(s: &str, max: usize) -> Vec<u8> {
    let (b, _, _) = encoding_rs::GBK.encode(s);
    let mut end = 0;
    let mut i = 0;
    while i < b.len() {
        let step = if b[i] >= 0x81 { 2 } else { 1 };
        if i + step > max {
            break;
        }
        i += step;
        end = i;
    }
    b[..end.min(b.len())].to_vec()
}

fn signed(sign: char, fen: u64) -> String {
    format!("{sign}{fen:012}")
}

/// One 607-byte GBK record (no line end).
pub(crate) fn record(r: &Row) -> Vec<u8> {
    let settle = r.amount.saturating_sub(r.fee);
    let (fee_sign, settle_sign) = if r.reverse { ('C', 'D') } else { ('D', 'C') };
    let (ot, ott) = r
        .orig_trace
        .clone()
        .unwrap_or_else(|| (String::new(), String::new()));
    let fields: [Vec<u8>; 42] = [
        r.code.into(),
        b"48020000".to_vec(),
        b"00049992".to_vec(),
        r.trace_no.clone().into_bytes(),
        r.trace_time.clone().into_bytes(),
        r.acc_no.clone().into_bytes(),
        format!("{:012}", r.amount).into_bytes(),
        b"5999".to_vec(),
        r.channel_type.clone().into_bytes(),
        r.query_id.clone().into_bytes(),
        b"05".to_vec(),
        r.order_id.clone().into_bytes(),
        r.card_type.as_bytes().to_vec(),
        ot.into_bytes(),
        ott.into_bytes(),
        signed(fee_sign, r.fee).into_bytes(),
        signed(settle_sign, settle).into_bytes(),
        b"0201".to_vec(),
        Vec::new(),
        r.txn_type.clone().into_bytes(),
        r.txn_sub_type.clone().into_bytes(),
        r.biz_type.clone().into_bytes(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        r.orig_qry_id.clone().unwrap_or_default().into_bytes(),
        r.mer_id.clone().into_bytes(),
        Vec::new(),
        b"000000000000000".to_vec(),
        Vec::new(),
        b" 000000000000".to_vec(),
        signed(settle_sign, settle).into_bytes(),
        b"00000001".to_vec(),
        gbk(r.req_reserved.as_deref().unwrap_or(""), 32),
        b" 000000000000".to_vec(),
        b" 000000000000".to_vec(),
        b" 00000000000".to_vec(),
        Vec::new(),
        b"7".to_vec(),
        r.orig_order_id.clone().unwrap_or_default().into_bytes(),
        Vec::new(),
    ];
    let mut out = Vec::with_capacity(zm::RECORD_LEN);
    for (i, (f, w)) in fields.iter().zip(zm::FIELD_LENGTHS).enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        put(&mut out, f, w);
    }
    out
}

/// Apply injected discrepancies to the rows of `date` (settle date).
pub(crate) fn apply(rows: &mut Vec<Row>, date: Date, kinds: &[BillDiscrepancy], mer_id: &str) {
    let first_consume = |rows: &Vec<Row>| rows.iter().position(|r| !r.reverse);
    for kind in kinds {
        match kind {
            BillDiscrepancy::MissingRow => {
                if let Some(i) = first_consume(rows) {
                    rows.remove(i);
                }
            }
            BillDiscrepancy::ChangedAmount => {
                if let Some(i) = first_consume(rows) {
                    rows[i].amount += 100;
                }
            }
            BillDiscrepancy::ExtraRow => {
                let mmdd = format!("{:02}{:02}", u8::from(date.month()), date.day());
                rows.push(Row {
                    code: "S22",
                    trace_no: "999999".into(),
                    trace_time: format!("{mmdd}120000"),
                    acc_no: crate::Wallet::Balance.unionpay_card().masked,
                    card_type: "01",
                    amount: 8888,
                    channel_type: "07".into(),
                    query_id: format!("99{:02}{mmdd}120000999999", date.year() % 100) + "9",
                    order_id: "EXTRA00000001".into(),
                    orig_trace: None,
                    fee: 27,
                    reverse: false,
                    txn_type: "01".into(),
                    txn_sub_type: "01".into(),
                    biz_type: "000201".into(),
                    orig_qry_id: None,
                    mer_id: mer_id.to_owned(),
                    req_reserved: None,
                    orig_order_id: None,
                });
            }
            BillDiscrepancy::NextDayRow => {
                if let (Some(r), Some(next)) = (rows.first_mut(), date.next_day()) {
                    r.trace_time = format!("{:02}{:02}000001", u8::from(next.month()), next.day());
                }
            }
        }
    }
}

/// The ZM file: each record followed by CR LF.
pub(crate) fn file(rows: &[Row]) -> Vec<u8> {
    let mut out = Vec::with_capacity(rows.len() * (zm::RECORD_LEN + 2));
    for r in rows {
        out.extend_from_slice(&record(r));
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// `base64(zlib(ZIP{entry: content}))`, the entry stamped `mtime`.
pub(crate) fn file_content(
    entry: &str,
    content: &[u8],
    mtime: PrimitiveDateTime,
) -> std::io::Result<String> {
    let io = |e: zip::result::ZipError| std::io::Error::other(e.to_string());
    let stamp = zip::DateTime::from_date_and_time(
        u16::try_from(mtime.year()).unwrap_or(1980),
        u8::from(mtime.month()),
        mtime.day(),
        mtime.hour(),
        mtime.minute(),
        mtime.second(),
    )
    .unwrap_or_default();
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(stamp);
    w.start_file(entry, opts).map_err(io)?;
    w.write_all(content)?;
    let zip = w.finish().map_err(io)?.into_inner();
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(&zip)?;
    Ok(base64::engine::general_purpose::STANDARD.encode(z.finish()?))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The two records of the vector `INN24010588ZM_777290058110048`, rebuilt byte for byte
    /// (but for field 41, which the simulator fills on refunds as the spec says).
    #[test]
    fn matches_the_vector_layout() {
        let consume = Row {
            code: "S22",
            trace_no: "123456".into(),
            trace_time: "0105120005".into(),
            acc_no: "6222**********1234".into(),
            card_type: "01",
            amount: 123_456,
            channel_type: "07".into(),
            query_id: "012401051200051234567".into(),
            order_id: "B2B20240105120000001".into(),
            orig_trace: None,
            fee: 370,
            reverse: false,
            txn_type: "01".into(),
            txn_sub_type: "01".into(),
            biz_type: "000202".into(),
            orig_qry_id: None,
            mer_id: "777290058110048".into(),
            req_reserved: Some("inv-2024-0001".into()),
            orig_order_id: None,
        };
        let refund = Row {
            code: "S30",
            trace_no: "234567".into(),
            trace_time: "0105150000".into(),
            amount: 2000,
            query_id: "012401051500002345678".into(),
            order_id: "RF20240105150000001".into(),
            orig_trace: Some(("123456".into(), "0105120005".into())),
            fee: 6,
            reverse: true,
            txn_type: "04".into(),
            txn_sub_type: "00".into(),
            orig_qry_id: Some("012401051200051234567".into()),
            req_reserved: Some("退款-发票0001".into()),
            ..consume.clone()
        };
        let got = file(&[consume, refund]);
        assert_eq!(got.len(), 2 * 609);
        // The shared vector, found by the workspace's rule; a missing file fails.
        if let Some(dir) =
            payagg_core::test_util::vectors_dir(env!("CARGO_MANIFEST_DIR"), "the ZM file vector")
        {
            let vector = dir.join("unionpay/bills/INN24010588ZM_777290058110048");
            let want =
                std::fs::read(&vector).unwrap_or_else(|e| panic!("{}: {e}", vector.display()));
            assert_eq!(got, want);
        }
    }

    #[test]
    fn gbk_cut_keeps_characters_whole() {
        assert_eq!(gbk("退款", 3).len(), 2);
        assert_eq!(gbk("ab", 32), b"ab".to_vec());
    }
}
