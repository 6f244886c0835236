//! Conversions between core types and the wire: amounts, times, exhaustive status maps.

use payagg_core::clock::CHINA_OFFSET;
use payagg_core::error::{DecodeError, Error, InvalidInput};
use payagg_core::ids::{
    AppId, ChannelRefundNo, ChannelTradeNo, ChannelTransferNo, MerchantId, MerchantOrderNo,
    MerchantRefundNo, MerchantTransferNo,
};
use payagg_core::{
    Currency, Money, Refund, RefundStatus, Sensitive, Trade, TradeStatus, Transfer, TransferStatus,
};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::CHANNEL;
use crate::transfer::{
    TransferBatch, TransferBatchDetailState, TransferBatchStatus, TransferCancellation,
};
use crate::wire::{
    RefundNotification, RefundResponse, Transaction, TransferBatchCreateResponse,
    TransferBatchQueryResponse, TransferBill, TransferBillCancelResponse,
    TransferBillCreateResponse, TransferDetail,
};

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

/// Transfer-bill `state` → core status. Exhaustive over the documented states; anything
/// else is a decode error.
///
/// `TRANSFERING` (转账中) maps to [`TransferStatus::Processing`]: the payee has confirmed, but
/// WeChat notes the confirmation page can be opened again with the same `package_info`.
pub(crate) fn transfer_bill_status(raw: &str) -> Result<TransferStatus, Error> {
    Ok(match raw {
        "ACCEPTED" | "PROCESSING" | "TRANSFERING" => TransferStatus::Processing,
        "WAIT_USER_CONFIRM" => TransferStatus::WaitingForPayee,
        "SUCCESS" => TransferStatus::Success,
        "FAIL" => TransferStatus::Failed,
        "CANCELING" => TransferStatus::Cancelling,
        "CANCELLED" => TransferStatus::Cancelled,
        other => return Err(decode(format!("unknown transfer bill state {other:?}"))),
    })
}

/// Batch `detail_status` → core status.
pub(crate) fn transfer_detail_status(raw: &str) -> Result<TransferStatus, Error> {
    Ok(match raw {
        "INIT" | "WAIT_PAY" | "PROCESSING" => TransferStatus::Processing,
        "SUCCESS" => TransferStatus::Success,
        "FAIL" => TransferStatus::Failed,
        other => return Err(decode(format!("unknown transfer detail_status {other:?}"))),
    })
}

/// `batch_status` → batch status.
pub(crate) fn transfer_batch_status(raw: &str) -> Result<TransferBatchStatus, Error> {
    Ok(match raw {
        "WAIT_PAY" => TransferBatchStatus::WaitPay,
        "ACCEPTED" => TransferBatchStatus::Accepted,
        "PROCESSING" => TransferBatchStatus::Processing,
        "FINISHED" => TransferBatchStatus::Finished,
        "CLOSED" => TransferBatchStatus::Closed,
        other => return Err(decode(format!("unknown batch_status {other:?}"))),
    })
}

fn is_final(s: TransferStatus) -> bool {
    matches!(
        s,
        TransferStatus::Success | TransferStatus::Failed | TransferStatus::Cancelled
    )
}

fn opt_time(s: Option<&String>, what: &str) -> Result<Option<OffsetDateTime>, Error> {
    non_empty(s).map(|v| time_from_wire(v, what)).transpose()
}

fn opt_count(n: Option<i64>, what: &str) -> Result<Option<u64>, Error> {
    n.map(|v| u64::try_from(v).map_err(|_| decode(format!("{what}: negative count {v}"))))
        .transpose()
}

fn opt_money(fen: Option<i64>, what: &str) -> Result<Option<Money>, Error> {
    fen.map(|v| amount_from_wire(v, None, what)).transpose()
}

/// A transfer-bill create answer → core transfer; WeChat does not repeat the amount, so the
/// requested one is used.
pub(crate) fn transfer_from_create(
    r: &TransferBillCreateResponse,
    amount: Money,
) -> Result<Transfer, Error> {
    let status = transfer_bill_status(&r.state)?;
    let mut t = Transfer::new(
        CHANNEL,
        id(
            MerchantTransferNo::new(r.out_bill_no.clone()),
            "out_bill_no",
        )?,
        amount,
        status,
        r.state.clone(),
    );
    if let Some(v) = non_empty(r.transfer_bill_no.as_ref()) {
        t.channel_transfer_no = Some(id(ChannelTransferNo::new(v), "transfer_bill_no")?);
    }
    t.fail_reason = non_empty(r.fail_reason.as_ref()).map(str::to_owned);
    t.client_package = non_empty(r.package_info.as_ref()).map(str::to_owned);
    Ok(t)
}

/// A transfer bill (query answer or decrypted `MCHTRANSFER.BILL.FINISHED`) → core transfer.
pub(crate) fn transfer_from_bill(b: &TransferBill) -> Result<Transfer, Error> {
    let status = transfer_bill_status(&b.state)?;
    let mut t = Transfer::new(
        CHANNEL,
        id(
            MerchantTransferNo::new(b.out_bill_no.clone()),
            "out_bill_no",
        )?,
        amount_from_wire(b.transfer_amount, None, "transfer_amount")?,
        status,
        b.state.clone(),
    );
    if let Some(v) = non_empty(b.transfer_bill_no.as_ref()) {
        t.channel_transfer_no = Some(id(ChannelTransferNo::new(v), "transfer_bill_no")?);
    }
    t.fail_reason = non_empty(b.fail_reason.as_ref()).map(str::to_owned);
    if is_final(status) {
        t.finished_at = opt_time(b.update_time.as_ref(), "update_time")?;
    }
    Ok(t)
}

/// A cancel answer → cancellation.
pub(crate) fn cancellation_from_wire(
    r: &TransferBillCancelResponse,
) -> Result<TransferCancellation, Error> {
    Ok(TransferCancellation {
        merchant_transfer_no: id(
            MerchantTransferNo::new(r.out_bill_no.clone()),
            "out_bill_no",
        )?,
        channel_transfer_no: non_empty(r.transfer_bill_no.as_ref())
            .map(|v| id(ChannelTransferNo::new(v), "transfer_bill_no"))
            .transpose()?,
        status: transfer_bill_status(&r.state)?,
        raw_status: r.state.clone(),
        updated_at: opt_time(r.update_time.as_ref(), "update_time")?,
    })
}

/// A batch detail → core transfer (the detail number is the transfer number).
pub(crate) fn transfer_from_detail(d: &TransferDetail) -> Result<Transfer, Error> {
    let status = transfer_detail_status(&d.detail_status)?;
    let mut t = Transfer::new(
        CHANNEL,
        id(
            MerchantTransferNo::new(d.out_detail_no.clone()),
            "out_detail_no",
        )?,
        amount_from_wire(d.transfer_amount, None, "transfer_amount")?,
        status,
        d.detail_status.clone(),
    );
    if let Some(v) = non_empty(d.detail_id.as_ref()) {
        t.channel_transfer_no = Some(id(ChannelTransferNo::new(v), "detail_id")?);
    }
    t.fail_reason = non_empty(d.fail_reason.as_ref()).map(str::to_owned);
    if is_final(status) {
        t.finished_at = opt_time(d.update_time.as_ref(), "update_time")?;
    }
    Ok(t)
}

/// A batch create answer → batch.
pub(crate) fn batch_from_create(r: &TransferBatchCreateResponse) -> Result<TransferBatch, Error> {
    Ok(TransferBatch {
        out_batch_no: r.out_batch_no.clone(),
        batch_id: r.batch_id.clone(),
        status: non_empty(r.batch_status.as_ref())
            .map(transfer_batch_status)
            .transpose()?,
        raw_status: non_empty(r.batch_status.as_ref()).map(str::to_owned),
        total_amount: None,
        total_num: None,
        success_amount: None,
        success_num: None,
        fail_amount: None,
        fail_num: None,
        close_reason: None,
        created_at: opt_time(r.create_time.as_ref(), "create_time")?,
        updated_at: None,
        details: Vec::new(),
    })
}

/// A batch query answer → batch.
pub(crate) fn batch_from_query(r: &TransferBatchQueryResponse) -> Result<TransferBatch, Error> {
    let b = &r.transfer_batch;
    let details = r
        .transfer_detail_list
        .iter()
        .map(|d| {
            Ok(TransferBatchDetailState {
                out_detail_no: d.out_detail_no.clone(),
                detail_id: d.detail_id.clone(),
                status: transfer_detail_status(&d.detail_status)?,
                raw_status: d.detail_status.clone(),
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(TransferBatch {
        out_batch_no: b.out_batch_no.clone(),
        batch_id: b.batch_id.clone(),
        status: Some(transfer_batch_status(&b.batch_status)?),
        raw_status: Some(b.batch_status.clone()),
        total_amount: Some(amount_from_wire(b.total_amount, None, "total_amount")?),
        total_num: opt_count(Some(b.total_num), "total_num")?,
        success_amount: opt_money(b.success_amount, "success_amount")?,
        success_num: opt_count(b.success_num, "success_num")?,
        fail_amount: opt_money(b.fail_amount, "fail_amount")?,
        fail_num: opt_count(b.fail_num, "fail_num")?,
        close_reason: non_empty(b.close_reason.as_ref()).map(str::to_owned),
        created_at: opt_time(b.create_time.as_ref(), "create_time")?,
        updated_at: opt_time(b.update_time.as_ref(), "update_time")?,
        details,
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
    fn every_transfer_bill_state() {
        let cases = [
            ("ACCEPTED", TransferStatus::Processing),
            ("PROCESSING", TransferStatus::Processing),
            ("WAIT_USER_CONFIRM", TransferStatus::WaitingForPayee),
            ("TRANSFERING", TransferStatus::Processing),
            ("SUCCESS", TransferStatus::Success),
            ("FAIL", TransferStatus::Failed),
            ("CANCELING", TransferStatus::Cancelling),
            ("CANCELLED", TransferStatus::Cancelled),
        ];
        for (raw, st) in cases {
            assert_eq!(transfer_bill_status(raw).unwrap(), st, "{raw}");
        }
        for bad in ["TRANSFERRING", "success", "CANCELED", ""] {
            assert!(
                matches!(transfer_bill_status(bad), Err(Error::Decode(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn every_batch_and_detail_status() {
        for (raw, st) in [
            ("INIT", TransferStatus::Processing),
            ("WAIT_PAY", TransferStatus::Processing),
            ("PROCESSING", TransferStatus::Processing),
            ("SUCCESS", TransferStatus::Success),
            ("FAIL", TransferStatus::Failed),
        ] {
            assert_eq!(transfer_detail_status(raw).unwrap(), st, "{raw}");
        }
        assert!(transfer_detail_status("CLOSED").is_err());
        for (raw, st) in [
            ("WAIT_PAY", TransferBatchStatus::WaitPay),
            ("ACCEPTED", TransferBatchStatus::Accepted),
            ("PROCESSING", TransferBatchStatus::Processing),
            ("FINISHED", TransferBatchStatus::Finished),
            ("CLOSED", TransferBatchStatus::Closed),
        ] {
            assert_eq!(transfer_batch_status(raw).unwrap(), st, "{raw}");
        }
        assert!(transfer_batch_status("SUCCESS").is_err());
    }

    #[test]
    fn transfer_bill_to_transfer() {
        let b: TransferBill = serde_json::from_str(
            r#"{"mch_id":"1900001109","out_bill_no":"plfk2020042013","transfer_bill_no":"1330000071100999991182020050700019480001",
            "appid":"wxf636efh567hg4356","state":"SUCCESS","transfer_amount":400000,"transfer_remark":"2020年4月报销",
            "openid":"o-MYE42l80oelYMDE34nYD456Xoy","create_time":"2015-05-20T13:29:35.120+08:00","update_time":"2015-05-20T13:29:35.120+08:00"}"#,
        )
        .unwrap();
        let t = transfer_from_bill(&b).unwrap();
        assert_eq!(t.status, TransferStatus::Success);
        assert_eq!(t.amount, Money::cny(400_000));
        assert_eq!(
            t.finished_at,
            Some(datetime!(2015-05-20 13:29:35.12 +08:00))
        );
        // The callback sample spelling `mchid` is accepted too.
        let b: TransferBill = serde_json::from_str(
            r#"{"mchid":"1900001109","out_bill_no":"B1","state":"WAIT_USER_CONFIRM","transfer_amount":1,"update_time":"2015-05-20T13:29:35+08:00"}"#,
        )
        .unwrap();
        assert_eq!(b.mch_id.as_deref(), Some("1900001109"));
        let t = transfer_from_bill(&b).unwrap();
        assert_eq!(t.status, TransferStatus::WaitingForPayee);
        assert_eq!(t.finished_at, None);
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
