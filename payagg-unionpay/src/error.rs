//! `respCode` classes and how they map into core's [`Error`] (brief §5).
//!
//! The rule that matters: an accepted-but-unknown result (`03`/`04`, `12`, `34`, `37`, `74`,
//! any code not in the tables of a money-moving request) is an **unknown outcome**
//! ([`Error::outcome_unknown`] is `true`: query before retrying), never a failure.

use payagg_core::error::{Error, GatewayError};
use payagg_core::{Channel, GatewayErrorKind};

/// What a `respCode` (or `origRespCode`) says about the transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// `00`, `A6` (defective success, counts as success).
    Success,
    /// `05`, `70` (and `03`/`04` as `origRespCode`): accepted or in progress; query again.
    Processing,
    /// The state is not known (`03`/`04` sync, `12`, `34`, `37`, `74`, unlisted codes): query
    /// again, then settle with the reconciliation file.
    Unknown,
    /// A definite refusal, with its normalized kind.
    Failed(GatewayErrorKind),
}

/// Classifies the `respCode` of a synchronous answer to a money-moving request (refund,
/// cancel, app consume) or a query.
#[must_use]
pub fn classify_resp_code(code: &str) -> Outcome {
    use GatewayErrorKind as K;
    match code {
        "00" | "A6" => Outcome::Success,
        "05" | "70" => Outcome::Processing,
        "03" | "04" | "12" | "34" | "37" | "74" => Outcome::Unknown,
        "01" | "02" | "39" | "99" => Outcome::Failed(K::Unknown),
        "10" | "13" | "14" | "36" | "40" => Outcome::Failed(K::InvalidParam),
        "11" => Outcome::Failed(K::AuthFailed),
        "31" | "32" | "41" | "77" => Outcome::Failed(K::NoPermission),
        "33" => Outcome::Failed(K::InvalidParam),
        "35" => Outcome::Failed(K::NotFound),
        "45" => Outcome::Failed(K::RefundExceedsPaid),
        "64" => Outcome::Failed(K::InsufficientFunds),
        "42" => Outcome::Failed(K::OrderClosed),
        "30" | "38" | "60" | "61" | "62" | "63" | "65" | "66" | "67" | "68" | "69" | "71"
        | "72" | "73" | "75" | "76" | "78" | "79" | "80" => Outcome::Failed(K::Unknown),
        _ => Outcome::Unknown,
    }
}

/// Classifies the `origRespCode` of a successful query (the queried transaction's state).
/// `01`/`12`/`34`/`60` are "in progress or unknown" per the official Java demo.
#[must_use]
pub fn classify_orig_resp_code(code: &str) -> Outcome {
    match code {
        "00" | "A6" => Outcome::Success,
        "03" | "04" | "05" | "70" => Outcome::Processing,
        "01" | "12" | "34" | "60" | "74" => Outcome::Unknown,
        other => match classify_resp_code(other) {
            Outcome::Failed(k) => Outcome::Failed(k),
            _ => Outcome::Unknown,
        },
    }
}

/// The core error for a non-success answer: [`GatewayErrorKind::SystemError`] (outcome
/// unknown) for [`Outcome::Unknown`] and [`Outcome::Processing`], the failure's kind otherwise.
#[must_use]
pub fn gateway_error(code: &str, message: &str) -> Error {
    let kind = match classify_resp_code(code) {
        Outcome::Failed(k) => k,
        Outcome::Success | Outcome::Processing | Outcome::Unknown => GatewayErrorKind::SystemError,
    };
    Error::Gateway(GatewayError::new(Channel::Unionpay, kind, code, message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_class_maps() {
        assert_eq!(classify_resp_code("00"), Outcome::Success);
        assert_eq!(classify_resp_code("A6"), Outcome::Success);
        assert_eq!(classify_resp_code("05"), Outcome::Processing);
        for c in ["03", "04", "12", "34", "37", "74", "06", "09", "ZZ", "83"] {
            assert_eq!(classify_resp_code(c), Outcome::Unknown, "{c}");
            let e = gateway_error(c, "x");
            assert!(e.outcome_unknown(), "{c} must be an unknown outcome");
        }
        for c in [
            "01", "10", "11", "13", "30", "31", "32", "33", "35", "36", "45", "64", "99",
        ] {
            assert!(
                matches!(classify_resp_code(c), Outcome::Failed(_)),
                "{c} is a failure"
            );
            assert!(!gateway_error(c, "x").outcome_unknown(), "{c}");
        }
        assert_eq!(
            gateway_error("64", "余额不足").gateway_kind(),
            Some(GatewayErrorKind::InsufficientFunds)
        );
        assert_eq!(gateway_error("11", "").gateway_code(), Some("11"));
    }

    #[test]
    fn orig_codes() {
        assert_eq!(classify_orig_resp_code("A6"), Outcome::Success);
        for c in ["03", "04", "05"] {
            assert_eq!(classify_orig_resp_code(c), Outcome::Processing);
        }
        for c in ["01", "12", "34", "60", "ZZ"] {
            assert_eq!(classify_orig_resp_code(c), Outcome::Unknown, "{c}");
        }
        assert!(matches!(classify_orig_resp_code("64"), Outcome::Failed(_)));
    }
}
