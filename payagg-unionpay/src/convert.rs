//! Wire fields → core types.

use payagg_core::callback::CallbackEvent;
use payagg_core::error::{Error, Result};
use payagg_core::ids::{ChannelRefundNo, ChannelTradeNo, MerchantOrderNo, MerchantRefundNo};
use payagg_core::{Channel, Currency, Money, Refund, RefundStatus, Trade, TradeStatus};
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

use crate::error::{Outcome, classify_orig_resp_code, classify_resp_code};
use crate::qstring::Fields;
use crate::wire::{codes, fields as f};

fn get<'a>(fields: &'a Fields, k: &str) -> &'a str {
    fields.get(k).map_or("", String::as_str)
}

fn amount(fields: &Fields) -> Result<Money> {
    let cur = get(fields, f::CURRENCY_CODE);
    if !cur.is_empty() && cur != codes::CURRENCY_CNY {
        return Err(Error::decode(format!(
            "currencyCode {cur} is not CNY (156)"
        )));
    }
    Money::parse_minor(get(fields, f::TXN_AMT), Currency::Cny).map_err(|e| {
        payagg_core::error::DecodeError::new("txnAmt")
            .with_source(e)
            .into()
    })
}

pub(crate) fn txn_time_of(fields: &Fields) -> Option<OffsetDateTime> {
    let fmt = format_description!("[year][month][day][hour][minute][second]");
    PrimitiveDateTime::parse(get(fields, f::TXN_TIME), &fmt)
        .ok()
        .map(|p| p.assume_offset(payagg_core::clock::CHINA_OFFSET))
}

fn status(o: Outcome) -> TradeStatus {
    match o {
        Outcome::Success => TradeStatus::Success,
        Outcome::Failed(_) => TradeStatus::Failed,
        Outcome::Processing | Outcome::Unknown => TradeStatus::NotPaid,
    }
}

/// A query answer with `respCode=00`: the transaction's state is its `origRespCode`.
/// Explicit failures map to `Failed`; for front orders before `payTimeout` UnionPay says
/// such a state may still change, so keep querying until then ([`crate::QuerySchedule`]).
pub(crate) fn trade_from_query(r: &Fields) -> Result<Trade> {
    let orig = get(r, f::ORIG_RESP_CODE);
    let st = status(classify_orig_resp_code(orig));
    trade(r, st, orig)
}

fn trade(r: &Fields, st: TradeStatus, raw: &str) -> Result<Trade> {
    let order = MerchantOrderNo::new(get(r, f::ORDER_ID))?;
    let mut t = Trade::new(Channel::Unionpay, order, st, raw, amount(r)?);
    t.channel_trade_no = ChannelTradeNo::new(get(r, f::QUERY_ID)).ok();
    if st == TradeStatus::Success {
        t.paid_at = txn_time_of(r);
    }
    t.merchant_id = payagg_core::ids::MerchantId::new(get(r, f::MER_ID)).ok();
    t.attach = r.get(f::REQ_RESERVED).cloned();
    Ok(t)
}

/// A verified `backUrl` notification: consume → payment, refund/cancel → refund.
pub(crate) fn event_from_notification(r: &Fields) -> Result<CallbackEvent> {
    let code = get(r, f::RESP_CODE);
    let outcome = classify_resp_code(code);
    match get(r, f::TXN_TYPE) {
        codes::TXN_REFUND | codes::TXN_CANCEL => {
            let st = match outcome {
                Outcome::Success => RefundStatus::Success,
                Outcome::Failed(_) => RefundStatus::Failed,
                _ => RefundStatus::Processing,
            };
            let mut refund = Refund::new(
                Channel::Unionpay,
                MerchantRefundNo::new(get(r, f::ORDER_ID))?,
                amount(r)?,
                st,
                code,
            );
            refund.channel_refund_no = ChannelRefundNo::new(get(r, f::QUERY_ID)).ok();
            refund.channel_trade_no = ChannelTradeNo::new(get(r, f::ORIG_QRY_ID)).ok();
            if st == RefundStatus::Success {
                refund.succeeded_at = txn_time_of(r);
            }
            Ok(CallbackEvent::Refund(refund))
        }
        _ => Ok(CallbackEvent::Payment(trade(r, status(outcome), code)?)),
    }
}
