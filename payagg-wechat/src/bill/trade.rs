//! The trade bill (交易账单): `ALL`, `SUCCESS` and `REFUND`, current and legacy layouts.

use payagg_core::Channel;
use payagg_core::money::{Currency, ExactAmount};
use payagg_core::statement::{RecordKind, Records, StatementParser, StatementRecord};

use super::engine::{self, BillIter, Layout, ReadIter, RunningSum, TimeCache, add, parse_amount};
use super::{BillSummary, Result, SummaryTotal};

/// Parses WeChat Pay trade bills (`bill_type` `ALL`, `SUCCESS` and `REFUND`) into
/// [`StatementRecord`]s, lazily and without copying the file.
///
/// Columns are found by their (Chinese) header name, so the three bill types, the current
/// "免充值" layout and the legacy layout (`子商户号`, `总金额`, ...) all parse. Each row maps as
/// follows (amounts keep the file's precision; 手续费 has 5 decimals):
///
/// | 交易状态 | kind | gross | fee | net |
/// | --- | --- | --- | --- | --- |
/// | `SUCCESS` | `Payment` | 应结订单金额 (legacy: 总金额) | −手续费 | gross + fee |
/// | `REFUND` | `Refund` | −退款金额 | −手续费 (positive: fee returned) | gross + fee |
/// | anything else | `Adjustment` | 应结订单金额 − 退款金额 | −手续费 | gross + fee |
///
/// The gross of a payment is 应结订单金额, the amount that settles to the merchant (订单金额
/// minus non-recharge coupons, which WeChat does not pay out), and of a refund 退款金额, what
/// actually left the merchant's balance; both are what the summary's 应结订单总金额 and
/// 退款总金额 add up.
///
/// `occurred_at` is 交易时间 (+08:00); for refund rows of a `REFUND` bill, which carries them,
/// 退款成功时间 (or else 退款申请时间). `channel_kind` is 交易状态 verbatim. Refund numbers
/// written as `0` (on payment rows) are `None`.
///
/// # Summary check
/// The iterator adds up the rows as it goes and, on reaching the summary section, compares
/// every total it knows (总交易单数, 应结订单总金额, 退款总金额, 充值券退款总金额, 手续费总金额, 订单总金额,
/// 申请退款总金额, and the legacy 总交易额, 总退款金额, ...) with the exact sums. A disagreement
/// is yielded as a final [`payagg_core::Error::Decode`] naming the total, the stated and the
/// computed value; so is a file that ends without its summary (a truncated download).
/// 手续费总金额 is accepted when it is the exact sum, the exact sum rounded to its precision,
/// or the sum of the per-row fees rounded to fen (WeChat has printed all three).
/// [`TradeBillParser::check_summary`] runs the whole file and returns the checked summary.
///
/// An empty file, or WeChat's "no bill" answer in place of a file, yields no records.
#[derive(Debug, Clone, Copy, Default)]
pub struct TradeBillParser;

impl TradeBillParser {
    /// A trade bill parser.
    #[must_use]
    pub fn new() -> Self {
        Self
    }

    /// Parse the whole of `raw` and return its summary, checked against the rows.
    ///
    /// # Errors
    /// The first [`payagg_core::Error::Decode`] the records produce: a malformed row (with
    /// its line number), a summary that disagrees with the rows, or a missing summary.
    pub fn check_summary(&self, raw: &[u8]) -> Result<BillSummary> {
        let mut it = BillIter::<TradeLayout>::new(raw);
        for r in it.by_ref() {
            r?;
        }
        Ok(it.into_summary().unwrap_or_default())
    }
}

impl TradeBillParser {
    /// The records of a bill read line by line from `reader` (one line held in memory at a
    /// time), for files too large to hold whole: the same records and errors as
    /// [`StatementParser::records`] over the whole file, and a read error ends them with a
    /// [`payagg_core::Error::Decode`] naming the line (with the I/O error as its source).
    pub fn read_records<'r, R: std::io::BufRead + 'r>(&self, reader: R) -> Records<'r> {
        Box::new(ReadIter::<R, TradeLayout>::new(reader))
    }

    /// [`TradeBillParser::check_summary`] over a bill read from `reader`.
    ///
    /// # Errors
    /// As [`TradeBillParser::check_summary`], and a read error.
    pub fn check_summary_read(&self, reader: impl std::io::BufRead) -> Result<BillSummary> {
        let mut it = ReadIter::<_, TradeLayout>::new(reader);
        for r in it.by_ref() {
            r?;
        }
        Ok(it.into_summary().unwrap_or_default())
    }
}

impl StatementParser for TradeBillParser {
    fn records<'a>(&self, raw: &'a [u8]) -> Records<'a> {
        Box::new(BillIter::<TradeLayout>::new(raw))
    }
}

/// Detail column → the summary names that total it (current, then legacy naming).
const SUMMED: &[(&str, &[&str])] = &[
    ("应结订单金额", &["应结订单总金额"]),
    ("退款金额", &["退款总金额", "总退款金额"]),
    ("充值券退款金额", &["充值券退款总金额"]),
    ("手续费", &["手续费总金额"]),
    ("订单金额", &["订单总金额"]),
    ("申请退款金额", &["申请退款总金额"]),
    ("总金额", &["总交易额"]),
    ("代金券或立减优惠退款金额", &["总代金券或立减优惠退款金额"]),
    ("企业红包退款金额", &["总企业红包退款金额"]),
];
const COUNT_NAME: &str = "总交易单数";
const FEE_SUMMARY: &str = "手续费总金额";

pub(crate) struct TradeLayout {
    columns: usize,
    time: usize,
    status: usize,
    trade_no: Option<usize>,
    order_no: Option<usize>,
    refund_no: Option<usize>,
    merchant_refund_no: Option<usize>,
    currency: Option<usize>,
    gross: usize,
    refund_amount: Option<usize>,
    fee: usize,
    refund_success_time: Option<usize>,
    refund_apply_time: Option<usize>,
    /// (index into SUMMED, column index, running total)
    sums: Vec<(usize, usize, RunningSum)>,
    /// Where 手续费, the gross and 退款金额 are in `sums`, when summed.
    fee_sum: Option<usize>,
    gross_sum: Option<usize>,
    refund_sum: Option<usize>,
    fee_rounded: RunningSum,
    times: TimeCache,
}

fn find(names: &[&str], name: &str) -> Option<usize> {
    names.iter().position(|n| *n == name)
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

fn refund_no(s: &str) -> Option<String> {
    (!s.is_empty() && s != "0").then(|| s.to_owned())
}

impl Layout for TradeLayout {
    const WHAT: &'static str = "wechat trade bill";

    fn from_header(names: &[&str]) -> std::result::Result<Self, String> {
        let need = |n: &str| find(names, n).ok_or_else(|| format!("the header has no {n} column"));
        let gross = find(names, "应结订单金额")
            .or_else(|| find(names, "总金额"))
            .ok_or_else(|| "the header has no 应结订单金额 (or legacy 总金额) column".to_owned())?;
        let sums: Vec<(usize, usize, RunningSum)> = SUMMED
            .iter()
            .enumerate()
            .filter_map(|(i, (col, _))| find(names, col).map(|c| (i, c, RunningSum::ZERO)))
            .collect();
        let fee = need("手续费")?;
        let refund_amount = find(names, "退款金额");
        let sum_of = |col: usize| sums.iter().position(|s| s.1 == col);
        Ok(Self {
            fee_sum: sum_of(fee),
            gross_sum: sum_of(gross),
            refund_sum: refund_amount.and_then(sum_of),
            columns: names.len(),
            time: need("交易时间")?,
            status: need("交易状态")?,
            trade_no: find(names, "微信订单号"),
            order_no: find(names, "商户订单号"),
            refund_no: find(names, "微信退款单号"),
            merchant_refund_no: find(names, "商户退款单号"),
            currency: find(names, "货币种类"),
            gross,
            refund_amount,
            fee,
            refund_success_time: find(names, "退款成功时间"),
            refund_apply_time: find(names, "退款申请时间"),
            sums,
            fee_rounded: RunningSum::ZERO,
            times: TimeCache::default(),
        })
    }

    fn columns(&self) -> usize {
        self.columns
    }

    fn map_row(
        &mut self,
        f: &[&str],
        line_no: u64,
        raw: &str,
    ) -> std::result::Result<StatementRecord, String> {
        let status = f[self.status];
        // Parse every summed column once; the record's amounts are read from the same values.
        let mut vals = [ExactAmount::ZERO; SUMMED.len()];
        for (v, &(which, col, _)) in vals.iter_mut().zip(&self.sums) {
            *v = parse_amount(f[col], SUMMED[which].0)?;
        }
        let amount_at = |sum: Option<usize>, col: usize, name: &str| match sum {
            Some(k) => Ok(vals[k]),
            None => parse_amount(f[col], name),
        };
        let fee_stated = amount_at(self.fee_sum, self.fee, "手续费")?;
        let fee = fee_stated.checked_neg().ok_or("手续费 overflows")?;
        let refund_amount = match self.refund_amount {
            Some(i) => Some(amount_at(self.refund_sum, i, "退款金额")?),
            None => None,
        };
        let (kind, gross, time_col) = match status {
            "SUCCESS" => (
                RecordKind::Payment,
                amount_at(self.gross_sum, self.gross, "应结订单金额")?,
                self.time,
            ),
            "REFUND" => {
                let amount =
                    refund_amount.ok_or("a REFUND row in a bill without a 退款金额 column")?;
                let time_col = [self.refund_success_time, self.refund_apply_time]
                    .into_iter()
                    .flatten()
                    .find(|&i| !f[i].is_empty())
                    .unwrap_or(self.time);
                (
                    RecordKind::Refund,
                    amount.checked_neg().ok_or("退款金额 overflows")?,
                    time_col,
                )
            }
            _ => {
                let g = amount_at(self.gross_sum, self.gross, "应结订单金额")?;
                let g = g
                    .checked_sub(refund_amount.unwrap_or(ExactAmount::ZERO))
                    .ok_or("amount overflow")?;
                (RecordKind::Adjustment, g, self.time)
            }
        };
        let occurred_at = self.times.parse(f[time_col])?;
        let net = add(gross, fee)?;
        let currency = match self.currency.map(|i| f[i]) {
            None | Some("" | "CNY") => Currency::Cny,
            Some(code) => Currency::from_code(code).map_err(|e| format!("货币种类: {e}"))?,
        };
        // All checks passed: add the row to the running totals (exact, in i128; an overflow
        // of the totals shows when the summary is checked).
        for (sum, v) in self.sums.iter_mut().zip(vals) {
            sum.2.add(v);
        }
        self.fee_rounded.add(engine::round_to(fee_stated, 2));
        let is_refund = kind == RecordKind::Refund;
        let mut r = StatementRecord::new(
            Channel::Wechat,
            kind,
            gross,
            fee,
            net,
            currency,
            occurred_at,
        );
        r.merchant_order_no = self.order_no.and_then(|i| non_empty(f[i]));
        r.channel_trade_no = self.trade_no.and_then(|i| non_empty(f[i]));
        r.merchant_refund_no = self
            .merchant_refund_no
            .filter(|_| is_refund)
            .and_then(|i| refund_no(f[i]));
        r.channel_refund_no = self
            .refund_no
            .filter(|_| is_refund)
            .and_then(|i| refund_no(f[i]));
        r.channel_kind = status.to_owned();
        r.source_line = line_no;
        r.raw = raw.to_owned();
        Ok(r)
    }

    fn check_summary(
        &self,
        names: &[&str],
        values: &[&str],
        rows: u64,
    ) -> std::result::Result<BillSummary, String> {
        let mut totals = Vec::with_capacity(names.len());
        for (&name, &value) in names.iter().zip(values) {
            if name == COUNT_NAME {
                let n = engine::parse_count(value, name)?;
                if n != rows {
                    return Err(format!(
                        "{name} states {value} but the bill has {rows} rows"
                    ));
                }
                continue;
            }
            let stated = ExactAmount::parse(value).map_err(|e| format!("{name}: {e}"))?;
            let computed = self
                .sums
                .iter()
                .find(|(which, _, _)| SUMMED[*which].1.contains(&name))
                .map(|&(_, _, total)| total.total().map_err(|e| format!("{name}: {e}")))
                .transpose()?;
            if let Some(c) = computed {
                let ok = if name == FEE_SUMMARY {
                    engine::fee_total_matches(stated, c, self.fee_rounded.total()?)
                } else {
                    stated == c
                };
                if !ok {
                    return Err(format!("{name} states {value} but the rows sum to {c}"));
                }
            }
            totals.push(SummaryTotal {
                name: name.to_owned(),
                stated,
                computed,
            });
        }
        Ok(BillSummary {
            record_count: rows,
            totals,
        })
    }
}
