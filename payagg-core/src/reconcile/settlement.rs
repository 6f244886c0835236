//! Channel settlements against bank credits: one bank credit may settle many channel rows.

use std::borrow::Borrow;
use std::collections::BTreeMap;

use serde::Serialize;
use time::{Date, UtcOffset};

use super::sum::Acc;
use crate::channel::Channel;
use crate::clock::CHINA_OFFSET;
use crate::error::Result;
use crate::money::{Currency, ExactAmount};
use crate::statement::{RecordKind, StatementRecord};

/// How to match settlements.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SettlementConfig {
    /// Days the bank credit may come after the settlement day (T+1: 1). Default 1.
    pub date_window_days: u32,
    /// The offset that decides a line's day when it has no settlement date. Default +08:00.
    pub offset: UtcOffset,
    /// The merchant ids to look for in the bank's reference or memo, per channel.
    pub merchant_ids: Vec<(Channel, String)>,
    /// Require the bank line to name the merchant id or the channel. Default `true`.
    pub require_reference: bool,
}

impl Default for SettlementConfig {
    fn default() -> Self {
        Self {
            date_window_days: 1,
            offset: CHINA_OFFSET,
            merchant_ids: Vec::new(),
            require_reference: true,
        }
    }
}

impl SettlementConfig {
    /// Set the date window in days.
    #[must_use]
    pub fn date_window(mut self, days: u32) -> Self {
        self.date_window_days = days;
        self
    }
    /// Add a merchant id the bank reference may carry for `channel`.
    #[must_use]
    pub fn merchant_id(mut self, channel: Channel, id: impl Into<String>) -> Self {
        self.merchant_ids.push((channel, id.into()));
        self
    }
    /// Require (or not) the bank line to name the merchant id or channel.
    #[must_use]
    pub fn require_reference(mut self, yes: bool) -> Self {
        self.require_reference = yes;
        self
    }
}

/// How a settlement group matched its bank credit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SettlementRule {
    /// The exact Σ net equals the credit.
    ExactSum,
    /// Σ net carries sub-fen fees; rounded half away from zero to the currency's minor
    /// unit it equals the credit (the channel rounds the day's fee when it pays out).
    SumRoundedToMinorUnit,
}

/// A channel's net for one settlement day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SettlementGroup {
    /// The channel.
    pub channel: Channel,
    /// The settlement date (the line's, else its calendar day).
    pub settle_date: Date,
    /// The currency.
    pub currency: Currency,
    /// Σ net of every non-transfer line, exact.
    pub net: ExactAmount,
    /// How many lines.
    pub rows: u64,
}

/// A settlement group and the bank credit that paid it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SettlementMatch {
    /// The channel side.
    pub group: SettlementGroup,
    /// 0-based position of the credit among the bank records passed in.
    pub bank_index: usize,
    /// The credit's source line.
    pub bank_line: u64,
    /// The credit's amount.
    pub bank_amount: ExactAmount,
    /// The credit's booking day.
    pub bank_date: Date,
    /// The bank's reference for the credit.
    pub bank_reference: Option<String>,
    /// Days from the settlement day to the credit.
    pub days_apart: i32,
    /// Which rule matched.
    pub rule: SettlementRule,
}

/// The result of [`match_settlements`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SettlementReport {
    /// Groups with their credits.
    pub matched: Vec<SettlementMatch>,
    /// Groups no credit paid (within the window).
    pub unmatched_groups: Vec<SettlementGroup>,
    /// Positions (among the bank records) of credits no group explains.
    pub unmatched_credits: Vec<usize>,
}

fn channel_words(c: Channel) -> &'static [&'static str] {
    match c {
        Channel::Wechat => &["wechat", "weixin", "tenpay", "微信", "财付通"],
        Channel::Alipay => &["alipay", "支付宝"],
        Channel::Unionpay => &["unionpay", "chinapay", "银联"],
        Channel::Bank => &[],
    }
}

struct Credit {
    index: usize,
    line: u64,
    amount: ExactAmount,
    currency: Currency,
    date: Date,
    reference: Option<String>,
    text: String,
}

/// Match each channel's Σ net per settlement day to a bank credit (a [`Channel::Bank`]
/// record with positive gross) of the same currency, booked 0 to `date_window_days` after
/// the settlement day, whose reference, customer reference, memo or raw text names one of
/// the channel's merchant ids or the channel (`wechat`/`tenpay`/`财付通`, `alipay`/`支付宝`,
/// `unionpay`/`银联`), case-insensitively. Each credit settles at most one group; the
/// nearest day wins.
///
/// Channel lines of kind transfer are left out of the sums (they are the payouts
/// themselves); every other line adds its net.
///
/// # Errors
/// [`crate::Error::Decode`] if a sum overflows an [`ExactAmount`].
pub fn match_settlements<C, B>(
    channel_records: impl IntoIterator<Item = C>,
    bank_records: impl IntoIterator<Item = B>,
    config: &SettlementConfig,
) -> Result<SettlementReport>
where
    C: Borrow<StatementRecord>,
    B: Borrow<StatementRecord>,
{
    let mut groups: BTreeMap<(Date, Channel, Currency), (Acc, u64)> = BTreeMap::new();
    for r in channel_records {
        let r = r.borrow();
        if r.kind == RecordKind::Transfer || r.channel == Channel::Bank {
            continue;
        }
        let day = r
            .settle_date
            .unwrap_or_else(|| r.occurred_at.to_offset(config.offset).date());
        let g = groups.entry((day, r.channel, r.currency)).or_default();
        g.0.add(r.net);
        g.1 += 1;
    }
    let mut credits = Vec::new();
    for (index, r) in bank_records.into_iter().enumerate() {
        let r = r.borrow();
        if r.channel != Channel::Bank || r.gross <= ExactAmount::ZERO {
            continue;
        }
        let mut text = String::new();
        for s in [
            r.channel_trade_no.as_deref(),
            r.merchant_order_no.as_deref(),
            Some(r.channel_kind.as_str()),
            Some(r.raw.as_str()),
        ]
        .into_iter()
        .flatten()
        {
            text.push_str(&s.to_lowercase());
            text.push('\n');
        }
        credits.push(Credit {
            index,
            line: r.source_line,
            amount: r.gross,
            currency: r.currency,
            date: r
                .settle_date
                .unwrap_or_else(|| r.occurred_at.to_offset(config.offset).date()),
            reference: r.channel_trade_no.clone(),
            text,
        });
    }
    let mut used = vec![false; credits.len()];
    let mut report = SettlementReport::default();
    let window = i64::from(config.date_window_days);
    for ((day, channel, currency), (sum, rows)) in groups {
        let group = SettlementGroup {
            channel,
            settle_date: day,
            currency,
            net: sum.to_amount(2)?,
            rows,
        };
        let exp = currency.minor_unit_exponent();
        let exact_minor = group.net.to_minor_exact(exp);
        let rounded_minor = {
            let div = 10i128.pow(u32::from(9 - exp));
            let (q, r) = (sum.0 / div, sum.0 % div);
            if 2 * r.abs() >= div {
                q + sum.0.signum()
            } else {
                q
            }
        };
        let names_it = |c: &Credit| {
            !config.require_reference
                || config
                    .merchant_ids
                    .iter()
                    .filter(|(ch, _)| *ch == channel)
                    .any(|(_, id)| c.text.contains(&id.to_lowercase()))
                || channel_words(channel).iter().any(|w| c.text.contains(w))
        };
        let best = credits
            .iter()
            .enumerate()
            .filter(|(i, c)| !used[*i] && c.currency == currency)
            .filter_map(|(i, c)| {
                let days = (c.date - day).whole_days();
                if !(0..=window).contains(&days) || !names_it(c) {
                    return None;
                }
                let credit_minor = c.amount.to_minor_exact(exp).map(i128::from);
                let rule = if exact_minor.is_some() && credit_minor == exact_minor.map(i128::from) {
                    SettlementRule::ExactSum
                } else if credit_minor == Some(rounded_minor) {
                    SettlementRule::SumRoundedToMinorUnit
                } else {
                    return None;
                };
                Some((days, i, rule))
            })
            .min_by_key(|&(days, i, _)| (days, i));
        match best {
            Some((days, i, rule)) => {
                used[i] = true;
                let c = &credits[i];
                report.matched.push(SettlementMatch {
                    group,
                    bank_index: c.index,
                    bank_line: c.line,
                    bank_amount: c.amount,
                    bank_date: c.date,
                    bank_reference: c.reference.clone(),
                    days_apart: i32::try_from(days).unwrap_or(i32::MAX),
                    rule,
                });
            }
            None => report.unmatched_groups.push(group),
        }
    }
    report.unmatched_credits = credits
        .iter()
        .zip(&used)
        .filter(|(_, u)| !**u)
        .map(|(c, _)| c.index)
        .collect();
    Ok(report)
}
