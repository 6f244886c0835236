//! The fund-flow bill (资金账单) of the BASIC, OPERATION and FEES accounts.

use payagg_core::money::{Currency, ExactAmount};
use payagg_core::statement::{RecordKind, Records, StatementParser, StatementRecord};

use super::engine::{self, BillIter, Layout, ReadIter, add, parse_amount, parse_china_time};
use super::{BillSummary, Result, SummaryTotal};

/// Parses WeChat Pay fund-flow bills into [`StatementRecord`]s, lazily and without copying
/// the file.
///
/// Columns are found by header name; `收支金额(元)` and `账户结余(元)` are accepted with ASCII or
/// full-width parentheses. 收支金额 is a magnitude: 收支类型 `收入` makes it positive, `支出`
/// negative. The kind comes from 业务类型, then 业务名称:
///
/// | 业务类型 / 业务名称 | kind | gross | fee | net |
/// | --- | --- | --- | --- | --- |
/// | 业务类型 containing 手续费 (扣除交易手续费, 退还交易手续费) | `Fee` | 0 | ±收支金额 | ±收支金额 |
/// | 业务类型 `交易` | `Payment` | ±收支金额 | 0 | ±收支金额 |
/// | 业务类型 `退款` | `Refund` | ±收支金额 | 0 | ±收支金额 |
/// | 业务名称 `提现`, `企业付款`, containing 转账 or 付款 | `Transfer` | ±收支金额 | 0 | ±收支金额 |
/// | anything else (退款关闭, 充值, 代金券...) | `Adjustment` | ±收支金额 | 0 | ±收支金额 |
///
/// 微信支付业务单号 is the channel's trade number (refund number for refunds) and 业务凭证号 the
/// merchant's order number (refund number for refunds). `channel_kind` is 业务类型 verbatim,
/// `occurred_at` is 记账时间 (+08:00), the currency CNY.
///
/// # Summary check
/// As for [`super::TradeBillParser`]: 资金流水总笔数, 收入笔数, 收入金额, 支出笔数 and 支出金额 are
/// compared exactly with the rows, and a disagreement (or a missing summary) is yielded as a
/// final [`payagg_core::Error::Decode`]. [`FundFlowBillParser::check_summary`] returns the
/// checked summary.
#[derive(Debug, Clone, Copy, Default)]
pub struct FundFlowBillParser;

impl FundFlowBillParser {
    /// A fund-flow bill parser.
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
        let mut it = BillIter::<FundFlowLayout>::new(raw);
        for r in it.by_ref() {
            r?;
        }
        Ok(it.into_summary().unwrap_or_default())
    }
}

impl FundFlowBillParser {
    /// The records of a bill read line by line from `reader` (one line held in memory at a
    /// time), for files too large to hold whole: the same records and errors as
    /// [`StatementParser::records`] over the whole file, and a read error ends them with a
    /// [`payagg_core::Error::Decode`] naming the line (with the I/O error as its source).
    pub fn read_records<'r, R: std::io::BufRead + 'r>(&self, reader: R) -> Records<'r> {
        Box::new(ReadIter::<R, FundFlowLayout>::new(reader))
    }

    /// [`FundFlowBillParser::check_summary`] over a bill read from `reader`.
    ///
    /// # Errors
    /// As [`FundFlowBillParser::check_summary`], and a read error.
    pub fn check_summary_read(&self, reader: impl std::io::BufRead) -> Result<BillSummary> {
        let mut it = ReadIter::<_, FundFlowLayout>::new(reader);
        for r in it.by_ref() {
            r?;
        }
        Ok(it.into_summary().unwrap_or_default())
    }
}

impl StatementParser for FundFlowBillParser {
    fn records<'a>(&self, raw: &'a [u8]) -> Records<'a> {
        Box::new(BillIter::<FundFlowLayout>::new(raw))
    }
}

pub(crate) struct FundFlowLayout {
    template: StatementRecord,
    columns: usize,
    time: usize,
    biz_no: Option<usize>,
    biz_name: Option<usize>,
    biz_type: usize,
    direction: usize,
    amount: usize,
    voucher: Option<usize>,
    income_count: u64,
    income: ExactAmount,
    expense_count: u64,
    expense: ExactAmount,
}

fn normalize(name: &str) -> String {
    name.replace('（', "(").replace('）', ")")
}

fn kind_of(biz_type: &str, biz_name: &str) -> RecordKind {
    if biz_type.contains("手续费") {
        return RecordKind::Fee;
    }
    match biz_type {
        "交易" => return RecordKind::Payment,
        "退款" => return RecordKind::Refund,
        _ => {}
    }
    if biz_name == "提现" || biz_name.contains("转账") || biz_name.contains("付款") {
        return RecordKind::Transfer;
    }
    RecordKind::Adjustment
}

impl Layout for FundFlowLayout {
    const WHAT: &'static str = "wechat fund-flow bill";

    fn from_header(names: &[&str]) -> std::result::Result<Self, String> {
        let norm: Vec<String> = names.iter().map(|n| normalize(n)).collect();
        let find = |n: &str| norm.iter().position(|x| x == n);
        let need = |n: &str| find(n).ok_or_else(|| format!("the header has no {n} column"));
        Ok(Self {
            template: engine::record_template()?,
            columns: names.len(),
            time: need("记账时间")?,
            biz_no: find("微信支付业务单号"),
            biz_name: find("业务名称"),
            biz_type: need("业务类型")?,
            direction: need("收支类型")?,
            amount: need("收支金额(元)")?,
            voucher: find("业务凭证号"),
            income_count: 0,
            income: ExactAmount::ZERO,
            expense_count: 0,
            expense: ExactAmount::ZERO,
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
        let magnitude = parse_amount(f[self.amount], "收支金额(元)")?;
        if magnitude.is_negative() {
            return Err(format!(
                "收支金额(元) {:?} must be a magnitude (收支类型 gives the sign)",
                f[self.amount]
            ));
        }
        let direction = f[self.direction];
        let signed = match direction {
            "收入" => magnitude,
            "支出" => magnitude.checked_neg().ok_or("收支金额 overflows")?,
            other => return Err(format!("收支类型 {other:?} is neither 收入 nor 支出")),
        };
        let occurred_at = parse_china_time(f[self.time])?;
        let biz_type = f[self.biz_type];
        let kind = kind_of(biz_type, self.biz_name.map_or("", |i| f[i]));
        if direction == "收入" {
            self.income = add(self.income, magnitude)?;
            self.income_count += 1;
        } else {
            self.expense = add(self.expense, magnitude)?;
            self.expense_count += 1;
        }
        let (gross, fee) = if kind == RecordKind::Fee {
            (ExactAmount::ZERO, signed)
        } else {
            (signed, ExactAmount::ZERO)
        };
        let biz_no = self
            .biz_no
            .map(|i| f[i])
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        let voucher = self
            .voucher
            .map(|i| f[i])
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        let refund = kind == RecordKind::Refund;
        let (channel_trade_no, channel_refund_no) = if refund {
            (None, biz_no)
        } else {
            (biz_no, None)
        };
        let (merchant_order_no, merchant_refund_no) = if refund {
            (None, voucher)
        } else {
            (voucher, None)
        };
        let mut r = self.template.clone();
        r.kind = kind;
        r.merchant_order_no = merchant_order_no;
        r.channel_trade_no = channel_trade_no;
        r.merchant_refund_no = merchant_refund_no;
        r.channel_refund_no = channel_refund_no;
        r.gross = gross;
        r.fee = fee;
        r.net = signed;
        r.currency = Currency::Cny;
        r.occurred_at = occurred_at;
        r.settle_date = None;
        r.channel_kind = biz_type.to_owned();
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
            let count = match name {
                "资金流水总笔数" => Some(rows),
                "收入笔数" => Some(self.income_count),
                "支出笔数" => Some(self.expense_count),
                _ => None,
            };
            if let Some(expected) = count {
                let n = engine::parse_count(value, name)?;
                if n != expected {
                    return Err(format!(
                        "{name} states {value} but the rows count {expected}"
                    ));
                }
                continue;
            }
            let stated = ExactAmount::parse(value).map_err(|e| format!("{name}: {e}"))?;
            let computed = match name {
                "收入金额" => Some(self.income),
                "支出金额" => Some(self.expense),
                _ => None,
            };
            if let Some(c) = computed
                && stated != c
            {
                return Err(format!("{name} states {value} but the rows sum to {c}"));
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
