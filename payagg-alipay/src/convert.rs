//! Conversions between core types and Alipay's wire formats: yuan strings, Beijing times,
//! trade / refund / transfer statuses.

use payagg_core::clock::CHINA_OFFSET;
use payagg_core::error::{DecodeError, Error};
use payagg_core::money::{Currency, Money};
use payagg_core::refund::RefundStatus;
use payagg_core::trade::TradeStatus;
use payagg_core::transfer::TransferStatus;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

/// Integer fen → `"12.30"`.
pub(crate) fn yuan(m: Money) -> String {
    m.to_major_string()
}

/// `"12.30"` (or `"12.3"`, `"12"`) → fen; anything else is a decode error naming the field.
pub(crate) fn parse_yuan(s: &str, field: &str) -> Result<Money, Error> {
    Money::parse_major(s.trim(), Currency::Cny).map_err(|e| {
        Error::Decode(DecodeError::new(format!("Alipay amount `{field}` = {s:?}")).with_source(e))
    })
}

/// `yyyy-MM-dd HH:mm:ss` in Beijing time.
pub(crate) fn format_beijing(at: OffsetDateTime) -> String {
    let t = at.to_offset(CHINA_OFFSET);
    let fmt = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    t.format(&fmt).unwrap_or_default()
}

/// Parses `yyyy-MM-dd HH:mm:ss` as Beijing time (`None` if malformed).
pub(crate) fn parse_beijing(s: &str) -> Option<OffsetDateTime> {
    let fmt = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    PrimitiveDateTime::parse(s.trim(), &fmt)
        .ok()
        .map(|p| p.assume_offset(CHINA_OFFSET))
}

/// `trade_status` → core status (exhaustive over Alipay's four values; unknown → `Failed`
/// is never guessed: it maps to `NotPaid`, the conservative reading).
pub(crate) fn trade_status(s: &str) -> TradeStatus {
    match s {
        "TRADE_SUCCESS" => TradeStatus::Success,
        "TRADE_FINISHED" => TradeStatus::Finished,
        "TRADE_CLOSED" => TradeStatus::Closed,
        _ => TradeStatus::NotPaid,
    }
}

/// `refund_status` (absent = not received or failed: still processing from our side).
pub(crate) fn refund_status(s: Option<&str>) -> RefundStatus {
    match s {
        Some("REFUND_SUCCESS") => RefundStatus::Success,
        _ => RefundStatus::Processing,
    }
}

/// Transfer `status`.
pub(crate) fn transfer_status(s: &str) -> TransferStatus {
    match s {
        "SUCCESS" => TransferStatus::Success,
        "FAIL" | "REFUND" | "CLOSED" => TransferStatus::Failed,
        "WAIT_PAY" => TransferStatus::WaitingForPayee,
        _ => TransferStatus::Processing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn times_and_amounts() {
        let t = datetime!(2024-03-01 02:15:09 UTC);
        assert_eq!(format_beijing(t), "2024-03-01 10:15:09");
        assert_eq!(parse_beijing("2024-03-01 10:15:09"), Some(t));
        assert!(parse_beijing("2024/03/01").is_none());
        assert_eq!(yuan(Money::cny(8888)), "88.88");
        assert_eq!(yuan(Money::cny(1)), "0.01");
        assert_eq!(parse_yuan("0.01", "x").unwrap(), Money::cny(1));
        assert!(parse_yuan("1.234", "x").is_err());
        assert!(parse_yuan("-1", "x").is_err());
    }

    #[test]
    fn statuses() {
        assert_eq!(trade_status("TRADE_SUCCESS"), TradeStatus::Success);
        assert_eq!(trade_status("TRADE_FINISHED"), TradeStatus::Finished);
        assert_eq!(trade_status("TRADE_CLOSED"), TradeStatus::Closed);
        assert_eq!(trade_status("WAIT_BUYER_PAY"), TradeStatus::NotPaid);
        assert_eq!(refund_status(Some("REFUND_SUCCESS")), RefundStatus::Success);
        assert_eq!(refund_status(None), RefundStatus::Processing);
        assert_eq!(transfer_status("SUCCESS"), TransferStatus::Success);
        assert_eq!(transfer_status("FAIL"), TransferStatus::Failed);
        assert_eq!(transfer_status("DEALING"), TransferStatus::Processing);
        assert_eq!(transfer_status("WAIT_PAY"), TransferStatus::WaitingForPayee);
    }
}
