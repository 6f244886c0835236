//! Conversions between core types and the wire: amounts, times, exhaustive status maps.

use payagg_core::clock::CHINA_OFFSET;
use payagg_core::error::{DecodeError, Error, InvalidInput};
use payagg_core::ids::{
    AppId, ChannelRefundNo, ChannelTradeNo, MerchantId, MerchantOrderNo, MerchantRefundNo,
};
use payagg_core::{Currency, Money, Refund, RefundStatus, Sensitive, Trade, TradeStatus};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::CHANNEL;
use crate::wire::{RefundNotification, RefundResponse, Transaction};

fn decode(what: impl Into<String>) -> Error {
    Error::Decode(DecodeError::new(what))
}

/// Money to WeChat's integer fen. Only CNY is accepted by the domestic APIs.
pub(crate) fn amount_to_wire(m: Money, field: &'static str) -> Result<i64, InvalidInput> {
    if m.currency() != Currency::Cny {
        return Err(InvalidInput::new(
            field,
            format!(
                "WeChat Pay domestic APIs take CNY, not {}",
                m.currency().code()
            ),
        ));
    }
    i64::try_from(m.minor_units()).map_err(|_| InvalidInput::new(field, "amount too large"))
}

/// WeChat's fen (and currency code, default CNY) to Money.
pub(crate) fn amount_from_wire(
    fen: i64,
    currency: Option<&str>,
    what: &str,
) -> Result<Money, Error> {
    let fen = u64::try_from(fen).map_err(|_| decode(format!("{what}: negative amount {fen}")))?;
    let currency = match currency {
        None | Some("") => Currency::Cny,
        Some(c) => Currency::from_code(c).map_err(|e| {
            Error::Decode(DecodeError::new(format!("{what}: currency")).with_source(e))
        })?,
    };
    Ok(Money::from_minor(fen, currency))
}

/// An RFC 3339 time in China time, whole seconds: `2024-05-20T10:00:00+08:00`.
pub(crate) fn time_to_wire(t: OffsetDateTime) -> Result<String, InvalidInput> {
    t.to_offset(CHINA_OFFSET)
        .replace_nanosecond(0)
        .map_err(|_| InvalidInput::new("expires_at", "out of range"))?
        .format(&Rfc3339)
        .map_err(|_| InvalidInput::new("expires_at", "cannot be formatted as RFC 3339"))
}

/// Parses an RFC 3339 time (milliseconds allowed).
pub(crate) fn time_from_wire(s: &str, what: &str) -> Result<OffsetDateTime, Error> {
    OffsetDateTime::parse(s, &Rfc3339)
        .map_err(|e| Error::Decode(DecodeError::new(format!("{what}: time {s:?}")).with_source(e)))
}

/// `trade_state` → core status. Exhaustive over the documented values; anything else is a
/// decode error rather than a guess.
///
/// `REFUND` ("转入退款") does not say whether the refund was full, so it maps to
/// [`TradeStatus::PartiallyRefunded`]; query the refunds for the amounts.
pub(crate) fn trade_status(raw: &str) -> Result<TradeStatus, Error> {
    Ok(match raw {
        "SUCCESS" => TradeStatus::Success,
        "REFUND" => TradeStatus::PartiallyRefunded,
        "NOTPAY" => TradeStatus::NotPaid,
        "CLOSED" => TradeStatus::Closed,
        "REVOKED" => TradeStatus::Revoked,
        "USERPAYING" | "ACCEPT" => TradeStatus::UserPaying,
        "PAYERROR" => TradeStatus::Failed,
        other => return Err(decode(format!("unknown trade_state {other:?}"))),
    })
}

/// Refund `status` / `refund_status` → core status.
pub(crate) fn refund_status(raw: &str) -> Result<RefundStatus, Error> {
    Ok(match raw {
        "SUCCESS" => RefundStatus::Success,
        "CLOSED" => RefundStatus::Closed,
        "PROCESSING" => RefundStatus::Processing,
        "ABNORMAL" => RefundStatus::Abnormal,
        other => return Err(decode(format!("unknown refund status {other:?}"))),
    })
}

fn id<T>(r: Result<T, InvalidInput>, what: &str) -> Result<T, Error> {
    r.map_err(|e| Error::Decode(DecodeError::new(what.to_owned()).with_source(e)))
}

fn non_empty(s: Option<&String>) -> Option<&str> {
    s.map(String::as_str).filter(|s| !s.is_empty())
}

/// A transaction (query answer or decrypted callback) → core trade.
pub(crate) fn trade_from_wire(t: &Transaction) -> Result<Trade, Error> {
    let status = trade_status(&t.trade_state)?;
    let amount = t
        .amount
        .as_ref()
        .ok_or_else(|| decode("transaction without amount"))?;
    let total = amount
        .total
        .ok_or_else(|| decode("transaction without amount.total"))?;
    let money = amount_from_wire(total, amount.currency.as_deref(), "amount.total")?;
    let mut trade = Trade::new(
        CHANNEL,
        id(MerchantOrderNo::new(t.out_trade_no.clone()), "out_trade_no")?,
        status,
        t.trade_state.clone(),
        money,
    );
    if let Some(tid) = non_empty(t.transaction_id.as_ref()) {
        trade.channel_trade_no = Some(id(ChannelTradeNo::new(tid), "transaction_id")?);
    }
    if let Some(p) = amount.payer_total {
        trade.payer_amount = Some(amount_from_wire(
            p,
            amount.payer_currency.as_deref(),
            "amount.payer_total",
        )?);
    }
    if let Some(s) = non_empty(t.success_time.as_ref()) {
        trade.paid_at = Some(time_from_wire(s, "success_time")?);
    }
    if let Some(p) = &t.payer {
        trade.payer = non_empty(p.openid.as_ref())
            .or(non_empty(p.sub_openid.as_ref()))
            .or(non_empty(p.sp_openid.as_ref()))
            .map(|s| Sensitive::new(s.to_owned()));
    }
    if let Some(a) = non_empty(t.appid.as_ref())
        .or(non_empty(t.sub_appid.as_ref()))
        .or(non_empty(t.sp_appid.as_ref()))
    {
        trade.app_id = Some(id(AppId::new(a), "appid")?);
    }
    if let Some(m) = non_empty(t.mchid.as_ref()).or(non_empty(t.sub_mchid.as_ref())) {
        trade.merchant_id = Some(id(MerchantId::new(m), "mchid")?);
    }
    trade.attach = non_empty(t.attach.as_ref()).map(str::to_owned);
    Ok(trade)
}

/// A refund answer → core refund.
pub(crate) fn refund_from_wire(r: &RefundResponse) -> Result<Refund, Error> {
    let mut out = Refund::new(
        CHANNEL,
        id(
            MerchantRefundNo::new(r.out_refund_no.clone()),
            "out_refund_no",
        )?,
        amount_from_wire(
            r.amount.refund,
            r.amount.currency.as_deref(),
            "amount.refund",
        )?,
        refund_status(&r.status)?,
        r.status.clone(),
    );
    fill_refund(
        &mut out,
        Some(&r.refund_id),
        r.out_trade_no.as_ref(),
        r.transaction_id.as_ref(),
        r.success_time.as_ref(),
    )?;
    Ok(out)
}

/// A decrypted `REFUND.*` resource → core refund.
pub(crate) fn refund_from_notification(r: &RefundNotification) -> Result<Refund, Error> {
    let mut out = Refund::new(
        CHANNEL,
        id(
            MerchantRefundNo::new(r.out_refund_no.clone()),
            "out_refund_no",
        )?,
        amount_from_wire(
            r.amount.refund,
            r.amount.currency.as_deref(),
            "amount.refund",
        )?,
        refund_status(&r.refund_status)?,
        r.refund_status.clone(),
    );
    fill_refund(
        &mut out,
        r.refund_id.as_ref(),
        r.out_trade_no.as_ref(),
        r.transaction_id.as_ref(),
        r.success_time.as_ref(),
    )?;
    Ok(out)
}

fn fill_refund(
    out: &mut Refund,
    refund_id: Option<&String>,
    out_trade_no: Option<&String>,
    transaction_id: Option<&String>,
    success_time: Option<&String>,
) -> Result<(), Error> {
    if let Some(v) = non_empty(refund_id) {
        out.channel_refund_no = Some(id(ChannelRefundNo::new(v), "refund_id")?);
    }
    if let Some(v) = non_empty(out_trade_no) {
        out.merchant_order_no = Some(id(MerchantOrderNo::new(v), "out_trade_no")?);
    }
    if let Some(v) = non_empty(transaction_id) {
        out.channel_trade_no = Some(id(ChannelTradeNo::new(v), "transaction_id")?);
    }
    if let Some(v) = non_empty(success_time) {
        out.succeeded_at = Some(time_from_wire(v, "success_time")?);
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn every_trade_state() {
        let cases = [
            ("SUCCESS", TradeStatus::Success),
            ("REFUND", TradeStatus::PartiallyRefunded),
            ("NOTPAY", TradeStatus::NotPaid),
            ("CLOSED", TradeStatus::Closed),
            ("REVOKED", TradeStatus::Revoked),
            ("USERPAYING", TradeStatus::UserPaying),
            ("ACCEPT", TradeStatus::UserPaying),
            ("PAYERROR", TradeStatus::Failed),
        ];
        for (raw, s) in cases {
            assert_eq!(trade_status(raw).unwrap(), s, "{raw}");
        }
        assert!(matches!(trade_status("success"), Err(Error::Decode(_))));
    }

    #[test]
    fn every_refund_status() {
        for (raw, s) in [
            ("SUCCESS", RefundStatus::Success),
            ("CLOSED", RefundStatus::Closed),
            ("PROCESSING", RefundStatus::Processing),
            ("ABNORMAL", RefundStatus::Abnormal),
        ] {
            assert_eq!(refund_status(raw).unwrap(), s, "{raw}");
        }
        assert!(refund_status("FAIL").is_err());
    }

    #[test]
    fn amounts_and_times() {
        assert_eq!(amount_to_wire(Money::cny(1230), "amount").unwrap(), 1230);
        assert!(amount_to_wire(Money::from_minor(1, Currency::Usd), "amount").is_err());
        assert!(amount_from_wire(-1, None, "x").is_err());
        assert_eq!(
            amount_from_wire(5, Some("CNY"), "x").unwrap(),
            Money::cny(5)
        );
        assert_eq!(
            time_to_wire(datetime!(2024-05-20 02:00:00.5 UTC)).unwrap(),
            "2024-05-20T10:00:00+08:00"
        );
        assert_eq!(
            time_from_wire("2018-06-08T10:34:56.120+08:00", "t").unwrap(),
            datetime!(2018-06-08 10:34:56.12 +08:00)
        );
        assert!(time_from_wire("2018-06-08 10:34:56", "t").is_err());
    }

    #[test]
    fn transaction_to_trade() {
        let t: Transaction = serde_json::from_str(
            r#"{"mchid":"1230000109","appid":"wxd678efh567hg6787","out_trade_no":"1217752501201407033233368018",
            "transaction_id":"4200000001202401011234567890","trade_type":"JSAPI","trade_state":"SUCCESS",
            "trade_state_desc":"支付成功","bank_type":"OTHERS","attach":"","success_time":"2024-01-01T12:00:05+08:00",
            "payer":{"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
            "amount":{"total":100,"payer_total":90,"currency":"CNY","payer_currency":"CNY"},"unknown_field":1}"#,
        )
        .unwrap();
        let trade = trade_from_wire(&t).unwrap();
        assert_eq!(trade.status, TradeStatus::Success);
        assert_eq!(trade.amount, Money::cny(100));
        assert_eq!(trade.payer_amount, Some(Money::cny(90)));
        assert_eq!(
            trade.channel_trade_no.unwrap().as_str(),
            "4200000001202401011234567890"
        );
        assert_eq!(
            trade.payer.unwrap().expose(),
            "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
        );
        assert_eq!(trade.attach, None);
        assert_eq!(trade.paid_at, Some(datetime!(2024-01-01 12:00:05 +08:00)));
    }
}
