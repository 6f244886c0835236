//! What the story did per channel ([`Ledger`]), what the day's statement says
//! ([`ChannelSummary`]), and the check that the two agree.

use std::io::Write;

use payagg::{Channel, ExactAmount, Money, RecordKind, SceneKind, Statement};

use crate::BoxError;
use crate::payer::step;

/// How a payment was proven paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proof {
    /// The channel's signed (WeChat: also encrypted) payment notification, verified by the
    /// client and cross-checked against the order (number, amount, app and merchant).
    Notification,
    /// The signed answer to the payment-code request or its follow-up query, verified by the
    /// client and cross-checked against the order. Used only where the simulator sends no
    /// notification: a WeChat payment code (APIv2 micropay has no `notify_url`) and an Alipay
    /// payment code paid after the password prompt.
    SignedAnswer,
}

/// One payment the story saw paid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    /// The scene family.
    pub scene: SceneKind,
    /// The channel's name for it (`alipay.trade.page.pay`, UnionPay B2C front consume, …).
    pub what: &'static str,
    /// The merchant's order number.
    pub order: String,
    /// What the payer paid.
    pub amount: Money,
    /// How the story knows it was paid.
    pub proof: Proof,
    /// The payer's browser came back to the merchant (Alipay `return_url`, UnionPay
    /// `frontUrl`) with parameters whose signature the client verified and that match the
    /// order.
    pub return_verified: bool,
}

/// A payment attempt that ended without money moving (payment-code outcomes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unpaid {
    /// The merchant's order number.
    pub order: String,
    /// The payment code used.
    pub auth_code: String,
    /// What the client reported (trade status or error).
    pub outcome: String,
}

/// What one channel's story did, kept as it happens.
#[derive(Debug, Clone)]
pub(crate) struct Ledger {
    pub(crate) paid: Vec<Payment>,
    pub(crate) unpaid: Vec<Unpaid>,
    pub(crate) refunds: usize,
    pub(crate) refunded: Money,
}

impl Ledger {
    pub(crate) fn new() -> Self {
        Self {
            paid: Vec::new(),
            unpaid: Vec::new(),
            refunds: 0,
            refunded: Money::cny(0),
        }
    }

    pub(crate) fn paid(&mut self, p: Payment) {
        self.paid.push(p);
    }

    pub(crate) fn refunded(&mut self, amount: Money) -> Result<(), BoxError> {
        self.refunds += 1;
        self.refunded = self.refunded.checked_add(amount).ok_or("overflow")?;
        Ok(())
    }

    /// Paid minus refunded, as a statement states it.
    fn expected_gross(&self) -> Result<ExactAmount, BoxError> {
        let mut g = ExactAmount::ZERO;
        for p in &self.paid {
            g = g
                .checked_add(ExactAmount::from_money(p.amount)?)
                .ok_or("overflow")?;
        }
        Ok(g.checked_sub(ExactAmount::from_money(self.refunded)?)
            .ok_or("overflow")?)
    }

    fn paid_total(&self) -> Result<Money, BoxError> {
        let mut t = Money::cny(0);
        for p in &self.paid {
            t = t.checked_add(p.amount).ok_or("overflow")?;
        }
        Ok(t)
    }
}

/// One channel's line of the unified statement summary, with what the story did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelSummary {
    /// The channel.
    pub channel: Channel,
    /// The settlement or bill date the statement covers.
    pub date: time::Date,
    /// Lines in the statement.
    pub records: usize,
    /// Payment lines.
    pub payments: usize,
    /// Refund lines.
    pub refunds: usize,
    /// Sum of the gross amounts (refunds negative).
    pub gross: ExactAmount,
    /// Sum of what moved after fees.
    pub net: ExactAmount,
    /// Every payment the story saw paid, one per scene family (payment codes: each code that
    /// was paid), in story order.
    pub paid: Vec<Payment>,
    /// Payment attempts that ended unpaid.
    pub unpaid: Vec<Unpaid>,
    /// Total the story refunded.
    pub refunded: Money,
}

impl ChannelSummary {
    /// The scene families the story saw paid.
    #[must_use]
    pub fn scenes_paid(&self) -> Vec<SceneKind> {
        let mut v: Vec<SceneKind> = self.paid.iter().map(|p| p.scene).collect();
        v.dedup();
        v
    }

    /// The sum of the payments the story saw paid.
    #[must_use]
    pub fn paid_total(&self) -> Money {
        self.paid
            .iter()
            .fold(Money::cny(0), |a, p| a.checked_add(p.amount).unwrap_or(a))
    }
}

/// The unified statement summary the story ends with: one line per channel.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Summary {
    /// WeChat Pay, Alipay, UnionPay, in the order the stories ran.
    pub channels: Vec<ChannelSummary>,
}

impl Summary {
    /// The line of `channel`, if its story ran.
    #[must_use]
    pub fn channel(&self, channel: Channel) -> Option<&ChannelSummary> {
        self.channels.iter().find(|c| c.channel == channel)
    }

    /// The net across every channel (all CNY here).
    #[must_use]
    pub fn total_net(&self) -> Option<ExactAmount> {
        self.channels
            .iter()
            .try_fold(ExactAmount::ZERO, |a, c| a.checked_add(c.net))
    }

    /// Writes the table: the statement's counts and sums beside what the story did.
    pub(crate) fn print(&self, out: &mut dyn Write) -> Result<(), BoxError> {
        writeln!(out, "Unified statement summary")?;
        writeln!(
            out,
            "  {:<9} {:<10} {:>4} {:>4} {:>3} {:>9} {:>10}   the story: paid - refunded",
            "channel", "date", "rows", "paid", "ref", "gross", "net"
        )?;
        for c in &self.channels {
            writeln!(
                out,
                "  {:<9} {:<10} {:>4} {:>4} {:>3} {:>9} {:>10}   {} payments {} - {} = {}",
                c.channel.to_string(),
                c.date.to_string(),
                c.records,
                c.payments,
                c.refunds,
                c.gross.to_string(),
                c.net.to_string(),
                c.paid.len(),
                c.paid_total().to_major_string(),
                c.refunded.to_major_string(),
                c.gross
            )?;
        }
        let total = self.total_net().ok_or("overflow")?;
        writeln!(out, "  {:<9} {:>45} CNY", "total net", total.to_string())?;
        Ok(())
    }
}

/// Prints the statement's lines, sums them up and checks them against the ledger: one
/// payment line per paid order with its amount, one refund line per refund, the gross equal
/// to paid minus refunded.
pub(crate) fn summarize(
    out: &mut dyn Write,
    channel: Channel,
    date: time::Date,
    stmt: &Statement,
    ledger: Ledger,
) -> Result<ChannelSummary, BoxError> {
    let mut s = ChannelSummary {
        channel,
        date,
        records: 0,
        payments: 0,
        refunds: 0,
        gross: ExactAmount::ZERO,
        net: ExactAmount::ZERO,
        paid: Vec::new(),
        unpaid: Vec::new(),
        refunded: ledger.refunded,
    };
    let mut payment_rows = Vec::new();
    for rec in stmt.records() {
        let rec = rec?;
        s.records += 1;
        match rec.kind {
            RecordKind::Payment => {
                s.payments += 1;
                payment_rows.push((rec.merchant_order_no.clone().unwrap_or_default(), rec.gross));
            }
            RecordKind::Refund => s.refunds += 1,
            _ => {}
        }
        s.gross = s.gross.checked_add(rec.gross).ok_or("overflow")?;
        s.net = s.net.checked_add(rec.net).ok_or("overflow")?;
        writeln!(
            out,
            "    {:<8} {:<20} gross {:>8} fee {:>9} net {:>10} {}",
            rec.kind,
            rec.merchant_order_no.as_deref().unwrap_or("-"),
            rec.gross,
            rec.fee,
            rec.net,
            rec.occurred_at
                .format(&time::format_description::well_known::Rfc3339)?
        )?;
    }
    for p in &ledger.paid {
        let want = ExactAmount::from_money(p.amount)?;
        if !payment_rows
            .iter()
            .any(|(o, g)| *o == p.order && *g == want)
        {
            return Err(format!(
                "{channel} statement {date}: no payment line for {} of {}",
                p.order, p.amount
            )
            .into());
        }
    }
    let expected = ledger.expected_gross()?;
    if s.payments != ledger.paid.len() || s.refunds != ledger.refunds || s.gross != expected {
        return Err(format!(
            "{channel} statement {date} does not add up to the story: {} payments, {} refunds, \
             gross {} (the story: {} payments of {}, {} refunds of {}, gross {expected})",
            s.payments,
            s.refunds,
            s.gross,
            ledger.paid.len(),
            ledger.paid_total()?,
            ledger.refunds,
            ledger.refunded
        )
        .into());
    }
    step(
        out,
        "statement",
        format!(
            "{date}: {} bytes verified, {} payments, {} refunds, gross {} = the story's, net {} CNY",
            stmt.raw.len(),
            s.payments,
            s.refunds,
            s.gross,
            s.net
        ),
    )?;
    s.paid = ledger.paid;
    s.unpaid = ledger.unpaid;
    Ok(s)
}
