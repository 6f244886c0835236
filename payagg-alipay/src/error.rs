//! Alipay `code` / `sub_code` → core [`GatewayErrorKind`] (brief §5).
//!
//! The gateway `code` decides first for protocol-level classes (`20000` unknown, `20001`
//! auth, `40005` rate limit, `40006` permission); within `40004` (business failed) and for
//! sub codes that carry a stronger meaning the [`SUB_CODES`] table decides. Anything not in
//! the table is [`GatewayErrorKind::Unknown`] with the raw codes kept.

use payagg_core::error::{GatewayError, GatewayErrorKind};

use crate::CHANNEL;
use crate::wire::ResponseStatus;

use GatewayErrorKind as K;

/// Every `sub_code` payagg normalizes, with its kind. Codes without the `ACQ.` prefix are the
/// fund-transfer and refund-query spellings (sic, official enums).
pub const SUB_CODES: &[(&str, GatewayErrorKind)] = &[
    // Outcome unknown: query, then retry with the same merchant number.
    ("ACQ.SYSTEM_ERROR", K::SystemError),
    ("AQC.SYSTEM_ERROR", K::SystemError),
    ("aop.ACQ.SYSTEM_ERROR", K::SystemError),
    ("SYSTEM_ERROR", K::SystemError),
    ("REQUEST_PROCESSING", K::SystemError),
    ("isp.unknow-error", K::SystemError),
    ("aop.unknow-error", K::SystemError),
    ("UNKNOWN_ERROR", K::SystemError),
    // Already paid.
    ("ACQ.TRADE_HAS_SUCCESS", K::OrderPaid),
    // Closed / finished / wrong state.
    ("ACQ.TRADE_HAS_CLOSE", K::OrderClosed),
    ("ACQ.TRADE_STATUS_ERROR", K::OrderClosed),
    ("ACQ.TRADE_HAS_FINISHED", K::OrderClosed),
    ("ACQ.TRADE_CANCEL_TIME_OUT", K::OrderClosed),
    ("ACQ.REASON_TRADE_STATUS_INVALID", K::OrderClosed),
    ("ACQ.REASON_ILLEGAL_STATUS", K::OrderClosed),
    ("ACQ.CANCEL_NOT_ALLOWED", K::OrderClosed),
    ("ACQ.TRADE_NOT_ALLOW_REFUND", K::OrderClosed),
    ("ACQ.REASON_TRADE_BEEN_FREEZEN", K::OrderClosed),
    // Not found.
    ("ACQ.TRADE_NOT_EXIST", K::NotFound),
    ("TRADE_NOT_EXIST", K::NotFound),
    ("ORDER_NOT_EXIST", K::NotFound),
    ("isp.bill_not_exist", K::NotFound),
    ("BILL_NOT_EXIST", K::NotFound),
    ("NO_BILL_DATA", K::NotFound),
    ("BILL_DATE_BEFORE_REGISTRATION", K::NotFound),
    ("PAYEE_NOT_EXIST", K::NotFound),
    ("PAYEE_ACCOUNT_NOT_EXSIT", K::NotFound),
    // Same merchant number, different parameters.
    ("ACQ.CONTEXT_INCONSISTENT", K::DuplicateRequest),
    ("ACQ.DISCORDANT_REPEAT_REQUEST", K::DuplicateRequest),
    ("PAYMENT_INFO_INCONSISTENCY", K::DuplicateRequest),
    // Money.
    ("ACQ.BUYER_BALANCE_NOT_ENOUGH", K::InsufficientFunds),
    (
        "ACQ.BUYER_BANKCARD_BALANCE_NOT_ENOUGH",
        K::InsufficientFunds,
    ),
    ("ACQ.SELLER_BALANCE_NOT_ENOUGH", K::InsufficientFunds),
    ("PAYER_BALANCE_NOT_ENOUGH", K::InsufficientFunds),
    ("BALANCE_IS_NOT_ENOUGH", K::InsufficientFunds),
    ("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", K::RefundExceedsPaid),
    ("ACQ.REASON_TRADE_REFUND_FEE_ERR", K::RefundExceedsPaid),
    ("ACQ.REFUND_FEE_ERROR", K::RefundExceedsPaid),
    ("ACQ.NOT_ALLOW_PARTIAL_REFUND", K::RefundExceedsPaid),
    // Parameters (including the payer's code).
    ("ACQ.INVALID_PARAMETER", K::InvalidParam),
    ("INVALID_PARAMETER", K::InvalidParam),
    ("INVAILID_ARGUMENTS", K::InvalidParam),
    ("invalid_arguments", K::InvalidParam),
    ("ACQ.PAYMENT_AUTH_CODE_INVALID", K::InvalidParam),
    ("ACQ.TOTAL_FEE_EXCEED", K::InvalidParam),
    ("PAYEE_USERINFO_ERROR", K::InvalidParam),
    ("PAYER_USER_INFO_ERROR", K::InvalidParam),
    ("TYPE_NOT_SUPPORTED", K::InvalidParam),
    // Authentication / signature / permission.
    ("isv.invalid-signature", K::AuthFailed),
    ("isv.invalid-app-id", K::AuthFailed),
    ("isv.missing-signature", K::AuthFailed),
    ("isv.invalid-timestamp", K::AuthFailed),
    ("aop.invalid-app-auth-token", K::AuthFailed),
    ("aop.app-auth-token-time-out", K::AuthFailed),
    ("isv.insufficient-isv-permissions", K::NoPermission),
    ("isv.insufficient-user-permissions", K::NoPermission),
    ("PRODUCT_NOT_SIGN", K::NoPermission),
    ("NO_ORDER_PERMISSION", K::NoPermission),
    ("ACQ.ACCESS_FORBIDDEN", K::NoPermission),
    // Rate.
    ("aop.method-call-limited", K::RateLimited),
    ("aop.app-call-limited", K::RateLimited),
];

/// The kind of an Alipay error `code` + `sub_code`.
#[must_use]
pub fn kind_of(code: &str, sub_code: Option<&str>) -> GatewayErrorKind {
    if let Some(sub) = sub_code
        && let Some((_, kind)) = SUB_CODES.iter().find(|(c, _)| *c == sub)
    {
        return *kind;
    }
    match code {
        "10003" => K::UserPaying,
        "20000" => K::SystemError,
        "20001" => K::AuthFailed,
        "40001" | "40002" | "40003" => K::InvalidParam,
        "40005" => K::RateLimited,
        "40006" => K::NoPermission,
        _ => K::Unknown,
    }
}

/// A core gateway error from a response node's status fields.
#[must_use]
pub fn gateway_error(status: &ResponseStatus) -> GatewayError {
    let kind = kind_of(&status.code, status.sub_code.as_deref());
    gateway_error_with_kind(status, kind, "")
}

/// The message prefix of every unverified (unsigned) gateway error, classic or v3.
pub(crate) const UNVERIFIED_PREFIX: &str = "unverified (unsigned) ";

/// The kind an unverified (unsigned) answer may carry. Nothing proves Alipay said it, so no
/// definite kind survives: good news (`OrderPaid`) and bad news (`NotFound`, `OrderClosed`,
/// `InvalidParam`, …) alike become [`GatewayErrorKind::Unknown`]. Only the kinds that already
/// mean "nothing is decided" (`SystemError`, `RateLimited`) are kept. The raw codes stay in
/// the error.
#[must_use]
pub fn unverified_kind(kind: GatewayErrorKind) -> GatewayErrorKind {
    match kind {
        K::SystemError | K::RateLimited | K::Unknown => kind,
        _ => K::Unknown,
    }
}

/// Whether `e` is a gateway error built from an unsigned answer (see [`unverified_kind`]).
/// Money decisions (the payment-code flow) must not rest on it.
#[must_use]
pub fn is_unverified(e: &payagg_core::Error) -> bool {
    matches!(e, payagg_core::Error::Gateway(g) if g.message().starts_with(UNVERIFIED_PREFIX))
}

/// A gateway error for an `error_response` that carried no signature: reported with the raw
/// codes and a message saying it is unverified, its kind downgraded by [`unverified_kind`].
#[must_use]
pub fn unverified_gateway_error(status: &ResponseStatus) -> GatewayError {
    let kind = unverified_kind(kind_of(&status.code, status.sub_code.as_deref()));
    gateway_error_with_kind(
        status,
        kind,
        &format!("{UNVERIFIED_PREFIX}error_response: "),
    )
    .unverified()
}

fn gateway_error_with_kind(
    status: &ResponseStatus,
    kind: GatewayErrorKind,
    prefix: &str,
) -> GatewayError {
    let msg = match status.sub_msg.as_deref() {
        Some(sub) if !sub.is_empty() => format!("{prefix}{}: {sub}", status.msg),
        _ => format!("{prefix}{}", status.msg),
    };
    let e = GatewayError::new(CHANNEL, kind, status.code.clone(), msg);
    match status.sub_code.as_deref() {
        Some(sub) if !sub.is_empty() => e.with_sub_code(sub),
        _ => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_and_codes() {
        assert_eq!(kind_of("20000", Some("isp.unknow-error")), K::SystemError);
        assert_eq!(kind_of("20000", None), K::SystemError);
        assert_eq!(kind_of("40004", Some("ACQ.SYSTEM_ERROR")), K::SystemError);
        assert_eq!(
            kind_of("40004", Some("ACQ.TRADE_HAS_SUCCESS")),
            K::OrderPaid
        );
        assert_eq!(kind_of("40004", Some("ACQ.TRADE_NOT_EXIST")), K::NotFound);
        assert_eq!(kind_of("40004", Some("X.NEW")), K::Unknown);
        assert_eq!(kind_of("40005", None), K::RateLimited);
        assert_eq!(
            kind_of("40002", Some("isv.invalid-signature")),
            K::AuthFailed
        );
        let mut seen = std::collections::HashSet::new();
        for (c, _) in SUB_CODES {
            assert!(seen.insert(*c), "duplicate {c}");
        }
        let e = gateway_error(&ResponseStatus::business_failed("ACQ.SYSTEM_ERROR", "busy"));
        assert!(e.is_retryable());
        assert_eq!(e.sub_code(), Some("ACQ.SYSTEM_ERROR"));
        let u = unverified_gateway_error(&ResponseStatus::business_failed(
            "ACQ.TRADE_HAS_SUCCESS",
            "",
        ));
        assert_eq!(u.kind(), K::Unknown);
        assert!(u.message().contains("unverified"));
        assert!(is_unverified(&u.clone().into()));
        assert!(!is_unverified(&e.clone().into()));
        for sub in [
            "ACQ.TRADE_NOT_EXIST",
            "ACQ.TRADE_HAS_CLOSE",
            "ACQ.INVALID_PARAMETER",
            "isv.invalid-signature",
            "ACQ.BUYER_BALANCE_NOT_ENOUGH",
            "ACQ.CONTEXT_INCONSISTENT",
            "ACQ.REFUND_FEE_ERROR",
            "ACQ.ACCESS_FORBIDDEN",
        ] {
            let u = unverified_gateway_error(&ResponseStatus::business_failed(sub, ""));
            assert_eq!(u.kind(), K::Unknown, "{sub}");
            assert_eq!(u.sub_code(), Some(sub));
        }
        let u = unverified_gateway_error(&ResponseStatus::business_failed("ACQ.SYSTEM_ERROR", ""));
        assert_eq!(u.kind(), K::SystemError);
    }
}
