//! WeChat Pay APIv3 error codes and how they map into core's [`Error`] (brief §3.8).
//!
//! Codes are matched after removing `_` and upper-casing, so the legacy spellings
//! (`SYSTEMERROR`, `NOTENOUGH`, `ORDERNOTEXIST`…) and the current ones (`SYSTEM_ERROR`,
//! `NOT_ENOUGH`, `ORDER_NOT_EXIST`…) land on the same case. Unknown codes fall back on the
//! HTTP status.

use payagg_core::error::{Error, GatewayError};
use payagg_core::{Channel, GatewayErrorKind};

use crate::wire::ErrorBody;

/// A WeChat Pay APIv3 error code.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WechatErrorCode {
    /// `SYSTEM_ERROR`: retry with the same parameters; outcome unknown.
    SystemError,
    /// `BANK_ERROR`: retry with the same parameters.
    BankError,
    /// `SERVICE_UNAVAILABLE` (502/503).
    ServiceUnavailable,
    /// `FREQUENCY_LIMITED`, `RATELIMIT_EXCEEDED`, `RATE_LIMITED`.
    RateLimited,
    /// `RULE_LIMIT`: business rule limit; retry later.
    RuleLimit,
    /// `PARAM_ERROR`.
    ParamError,
    /// `INVALID_REQUEST`.
    InvalidRequest,
    /// `SIGN_ERROR`.
    SignError,
    /// `NO_AUTH`.
    NoAuth,
    /// `ACCOUNT_ERROR`.
    AccountError,
    /// `NOT_ENOUGH`: balance insufficient.
    NotEnough,
    /// `USER_ACCOUNT_ABNORMAL` (refunds).
    UserAccountAbnormal,
    /// `ORDER_NOT_EXIST`.
    OrderNotExist,
    /// `RESOURCE_NOT_EXISTS`.
    ResourceNotExists,
    /// `ORDER_CLOSED` (and v2 `ORDERCLOSED`).
    OrderClosed,
    /// `ORDERPAID` (v2).
    OrderPaid,
    /// `OUT_TRADE_NO_USED`.
    OutTradeNoUsed,
    /// `USER_PAYING`.
    UserPaying,
    /// `APPID_MCHID_NOT_MATCH`.
    AppidMchidNotMatch,
    /// `MCH_NOT_EXISTS`.
    MchNotExists,
    /// `INVALID_TRANSACTIONID`.
    InvalidTransactionId,
    /// `OPENID_MISMATCH`.
    OpenidMismatch,
    /// `TRADE_ERROR`.
    TradeError,
    /// `NO_STATEMENT_EXIST`: no bill for that day (terminal).
    NoStatementExist,
    /// `STATEMENT_CREATING`: the bill is not ready; try after 10:00 the next day.
    StatementCreating,
    /// Any other code, verbatim.
    Unknown(String),
}

impl WechatErrorCode {
    /// Classifies a code.
    #[must_use]
    pub fn from_code(code: &str) -> Self {
        let norm: String = code
            .chars()
            .filter(|c| *c != '_')
            .collect::<String>()
            .to_ascii_uppercase();
        match norm.as_str() {
            "SYSTEMERROR" => Self::SystemError,
            "BANKERROR" => Self::BankError,
            "SERVICEUNAVAILABLE" => Self::ServiceUnavailable,
            "FREQUENCYLIMITED" | "RATELIMITEXCEEDED" | "RATELIMITED" => Self::RateLimited,
            "RULELIMIT" => Self::RuleLimit,
            "PARAMERROR" => Self::ParamError,
            "INVALIDREQUEST" => Self::InvalidRequest,
            "SIGNERROR" => Self::SignError,
            "NOAUTH" => Self::NoAuth,
            "ACCOUNTERROR" => Self::AccountError,
            "NOTENOUGH" => Self::NotEnough,
            "USERACCOUNTABNORMAL" => Self::UserAccountAbnormal,
            "ORDERNOTEXIST" => Self::OrderNotExist,
            "RESOURCENOTEXISTS" => Self::ResourceNotExists,
            "ORDERCLOSED" => Self::OrderClosed,
            "ORDERPAID" => Self::OrderPaid,
            "OUTTRADENOUSED" => Self::OutTradeNoUsed,
            "USERPAYING" => Self::UserPaying,
            "APPIDMCHIDNOTMATCH" => Self::AppidMchidNotMatch,
            "MCHNOTEXISTS" => Self::MchNotExists,
            "INVALIDTRANSACTIONID" => Self::InvalidTransactionId,
            "OPENIDMISMATCH" => Self::OpenidMismatch,
            "TRADEERROR" => Self::TradeError,
            "NOSTATEMENTEXIST" => Self::NoStatementExist,
            "STATEMENTCREATING" => Self::StatementCreating,
            _ => Self::Unknown(code.to_owned()),
        }
    }

    /// The normalized kind; `status` decides for unknown codes.
    #[must_use]
    pub fn kind(&self, status: u16) -> GatewayErrorKind {
        match self {
            Self::SystemError | Self::BankError | Self::ServiceUnavailable => {
                GatewayErrorKind::SystemError
            }
            Self::RateLimited | Self::RuleLimit => GatewayErrorKind::RateLimited,
            Self::ParamError
            | Self::InvalidRequest
            | Self::AppidMchidNotMatch
            | Self::MchNotExists
            | Self::InvalidTransactionId
            | Self::OpenidMismatch => GatewayErrorKind::InvalidParam,
            Self::SignError => GatewayErrorKind::AuthFailed,
            Self::NoAuth | Self::AccountError => GatewayErrorKind::NoPermission,
            Self::NotEnough => GatewayErrorKind::InsufficientFunds,
            Self::OrderNotExist | Self::ResourceNotExists | Self::NoStatementExist => {
                GatewayErrorKind::NotFound
            }
            Self::OrderClosed => GatewayErrorKind::OrderClosed,
            Self::OrderPaid => GatewayErrorKind::OrderPaid,
            Self::OutTradeNoUsed => GatewayErrorKind::DuplicateRequest,
            Self::UserPaying => GatewayErrorKind::UserPaying,
            Self::UserAccountAbnormal | Self::TradeError | Self::StatementCreating => {
                GatewayErrorKind::Unknown
            }
            Self::Unknown(_) => kind_for_status(status),
        }
    }
}

/// The kind implied by an HTTP status alone.
#[must_use]
pub(crate) fn kind_for_status(status: u16) -> GatewayErrorKind {
    match status {
        400 => GatewayErrorKind::InvalidParam,
        401 => GatewayErrorKind::AuthFailed,
        403 => GatewayErrorKind::NoPermission,
        404 => GatewayErrorKind::NotFound,
        429 => GatewayErrorKind::RateLimited,
        500..=599 => GatewayErrorKind::SystemError,
        _ => GatewayErrorKind::Unknown,
    }
}

/// The error for a non-2xx answer with `body`.
pub(crate) fn from_response(status: u16, body: &[u8], request_id: Option<&str>) -> Error {
    let (code, message, sub) = match serde_json::from_slice::<ErrorBody>(body) {
        Ok(b) if !b.code.is_empty() => {
            let sub = b.detail.as_ref().and_then(|d| d.field.clone());
            (b.code, b.message, sub)
        }
        _ => (
            format!("HTTP_{status}"),
            "the error body is not a WeChat Pay error object".to_owned(),
            None,
        ),
    };
    let kind = WechatErrorCode::from_code(&code).kind(status);
    let mut e = GatewayError::new(Channel::Wechat, kind, code, message).with_http_status(status);
    if let Some(field) = sub {
        e = e.with_sub_code(field);
    }
    if let Some(id) = request_id {
        e = e.with_request_id(id);
    }
    Error::Gateway(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_and_kinds() {
        assert_eq!(
            WechatErrorCode::from_code("SYSTEMERROR"),
            WechatErrorCode::SystemError
        );
        assert_eq!(
            WechatErrorCode::from_code("SYSTEM_ERROR"),
            WechatErrorCode::SystemError
        );
        assert_eq!(
            WechatErrorCode::from_code("ORDER_NOT_EXIST").kind(404),
            GatewayErrorKind::NotFound
        );
        assert_eq!(
            WechatErrorCode::from_code("RATELIMIT_EXCEEDED").kind(429),
            GatewayErrorKind::RateLimited
        );
        assert_eq!(
            WechatErrorCode::from_code("NEW_CODE").kind(503),
            GatewayErrorKind::SystemError
        );
        assert_eq!(
            WechatErrorCode::from_code("NEW_CODE").kind(418),
            GatewayErrorKind::Unknown
        );
        assert_eq!(
            WechatErrorCode::from_code("OUT_TRADE_NO_USED").kind(403),
            GatewayErrorKind::DuplicateRequest
        );
    }

    #[test]
    fn from_body() {
        let e = from_response(
            400,
            br#"{"code":"PARAM_ERROR","message":"bad","detail":{"field":"/amount/currency","value":"XYZ","issue":"x","location":"body"}}"#,
            Some("req-1"),
        );
        assert_eq!(e.gateway_code(), Some("PARAM_ERROR"));
        assert_eq!(e.gateway_kind(), Some(GatewayErrorKind::InvalidParam));
        assert!(!e.is_retryable() && !e.outcome_unknown());
        assert!(e.to_string().contains("req-1"), "{e}");
        let e = from_response(500, br#"{"code":"SYSTEM_ERROR","message":"busy"}"#, None);
        assert!(e.is_retryable() && e.outcome_unknown());
        let e = from_response(502, b"<html>bad gateway</html>", None);
        assert_eq!(e.gateway_code(), Some("HTTP_502"));
        assert!(e.outcome_unknown());
    }
}
