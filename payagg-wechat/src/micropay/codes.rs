//! APIv2 `err_code`s of micropay, orderquery and reverse, and their normalized kinds.

use payagg_core::error::GatewayErrorKind;

/// The normalized kind of an APIv2 `err_code`.
pub(crate) fn kind_of(err_code: &str) -> GatewayErrorKind {
    use GatewayErrorKind as K;
    match err_code {
        "USERPAYING" => K::UserPaying,
        "SYSTEMERROR" | "BANKERROR" => K::SystemError,
        // The payer must switch to another funding source or refresh the code.
        "NOTENOUGH" | "NOTSUPORTCARD" => K::InsufficientFunds,
        "AUTHCODEEXPIRE"
        | "AUTH_CODE_ERROR"
        | "AUTH_CODE_INVALID"
        | "BUYER_MISMATCH"
        | "PARAM_ERROR"
        | "LACK_PARAMS"
        | "XML_FORMAT_ERROR"
        | "REQUIRE_POST_METHOD"
        | "POST_DATA_EMPTY"
        | "NOT_UTF8"
        | "INVALID_REQUEST"
        | "APPID_NOT_EXIST"
        | "MCHID_NOT_EXIST"
        | "APPID_MCHID_NOT_MATCH"
        | "INVALID_TRANSACTIONID"
        | "REVERSE_EXPIRE" => K::InvalidParam,
        "ORDERPAID" => K::OrderPaid,
        "ORDERCLOSED" | "ORDERREVERSED" => K::OrderClosed,
        "ORDERNOTEXIST" => K::NotFound,
        "OUT_TRADE_NO_USED" => K::DuplicateRequest,
        "SIGNERROR" => K::AuthFailed,
        "NOAUTH" => K::NoPermission,
        "FREQUENCY_LIMITED" | "FREQ_LIMIT" => K::RateLimited,
        _ => K::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        assert_eq!(kind_of("USERPAYING"), GatewayErrorKind::UserPaying);
        assert_eq!(kind_of("BANKERROR"), GatewayErrorKind::SystemError);
        assert_eq!(kind_of("AUTHCODEEXPIRE"), GatewayErrorKind::InvalidParam);
        assert_eq!(kind_of("NOTENOUGH"), GatewayErrorKind::InsufficientFunds);
        assert_eq!(kind_of("ORDERREVERSED"), GatewayErrorKind::OrderClosed);
        assert_eq!(
            kind_of("OUT_TRADE_NO_USED"),
            GatewayErrorKind::DuplicateRequest
        );
        assert_eq!(kind_of("SOMETHING_NEW"), GatewayErrorKind::Unknown);
    }
}
