//! Validated identifiers.
//!
//! Each identifier is its own type so a refund number can never be passed where an order
//! number is expected. Core checks what every channel agrees on (1 to `max` printable ASCII
//! characters, no whitespace); channel crates add their own length and charset limits when
//! they build a request.
//!
//! ```
//! use payagg_core::ids::MerchantOrderNo;
//!
//! let no = MerchantOrderNo::new("ORDER_20240520_0001")?;
//! assert_eq!(no.as_str(), "ORDER_20240520_0001");
//! assert!(MerchantOrderNo::new("has space").is_err());
//! assert!(MerchantOrderNo::new("").is_err());
//! # Ok::<(), payagg_core::error::InvalidInput>(())
//! ```

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use crate::error::InvalidInput;

fn validate(field: &'static str, s: &str, max: usize) -> Result<(), InvalidInput> {
    if s.is_empty() {
        return Err(InvalidInput::new(field, "must not be empty"));
    }
    if s.len() > max {
        return Err(InvalidInput::new(
            field,
            format!("{} characters, at most {max} allowed", s.len()),
        ));
    }
    if let Some(c) = s.chars().find(|c| !c.is_ascii_graphic()) {
        return Err(InvalidInput::new(
            field,
            format!("character {c:?} is not printable ASCII"),
        ));
    }
    Ok(())
}

macro_rules! def_id {
    ($(#[$doc:meta])* $name:ident, $field:literal, $max:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// The longest value accepted.
            pub const MAX_LEN: usize = $max;

            /// Validate and wrap.
            ///
            /// # Errors
            /// [`InvalidInput`] when empty, too long, or not printable ASCII.
            pub fn new(value: impl Into<String>) -> Result<Self, InvalidInput> {
                let value = value.into();
                validate($field, &value, $max)?;
                Ok(Self(value))
            }

            /// The identifier as sent on the wire.
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Unwrap into the inner string.
            #[must_use]
            pub fn into_string(self) -> String {
                self.0
            }

            /// Check a channel-specific rule: length range and allowed characters.
            ///
            /// # Errors
            /// [`InvalidInput`] naming the field and the rule broken.
            pub fn check_channel_rule(
                &self,
                min: usize,
                max: usize,
                allowed: impl Fn(char) -> bool,
                rule: &str,
            ) -> Result<(), InvalidInput> {
                let n = self.0.chars().count();
                if n < min || n > max {
                    return Err(InvalidInput::new($field, format!("{n} characters; {rule} requires {min} to {max}")));
                }
                if let Some(c) = self.0.chars().find(|c| !allowed(*c)) {
                    return Err(InvalidInput::new($field, format!("character {c:?} not allowed by {rule}")));
                }
                Ok(())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({:?})"), self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidInput;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::new(s)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = InvalidInput;
            fn try_from(s: &str) -> Result<Self, Self::Error> {
                Self::new(s)
            }
        }

        impl std::str::FromStr for $name {
            type Err = InvalidInput;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::new(s)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                Self::new(String::deserialize(d)?).map_err(serde::de::Error::custom)
            }
        }
    };
}

def_id!(
    /// The merchant's own order number (WeChat `out_trade_no`, Alipay `out_trade_no`,
    /// UnionPay `orderId`).
    MerchantOrderNo, "merchant_order_no", 64
);
def_id!(
    /// The merchant's own refund number (WeChat `out_refund_no`, Alipay `out_request_no`).
    MerchantRefundNo, "merchant_refund_no", 64
);
def_id!(
    /// The channel's trade number (WeChat `transaction_id`, Alipay `trade_no`, UnionPay `queryId`).
    ChannelTradeNo, "channel_trade_no", 64
);
def_id!(
    /// The channel's refund number (WeChat `refund_id`, UnionPay refund `queryId`).
    ChannelRefundNo, "channel_refund_no", 64
);
def_id!(
    /// The merchant's own payout number (WeChat `out_bill_no`, Alipay `out_biz_no`).
    MerchantTransferNo, "merchant_transfer_no", 64
);
def_id!(
    /// The channel's payout number.
    ChannelTransferNo, "channel_transfer_no", 64
);
def_id!(
    /// A merchant id at a channel (WeChat `mchid`, Alipay `seller_id`/PID, UnionPay `merId`).
    MerchantId, "merchant_id", 32
);
def_id!(
    /// An application id (WeChat `appid`, Alipay `app_id`).
    AppId, "app_id", 32
);

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn validates() {
        assert!(MerchantOrderNo::new("a".repeat(64)).is_ok());
        let e = MerchantOrderNo::new("a".repeat(65)).unwrap_err();
        assert_eq!(e.field(), "merchant_order_no");
        assert!(MerchantRefundNo::new("退款1").is_err());
        assert!(MerchantId::new("1900000109\n").is_err());
        let id: AppId = serde_json::from_str("\"wxd678efh567hg6787\"").unwrap();
        assert_eq!(id.as_str(), "wxd678efh567hg6787");
        assert!(serde_json::from_str::<AppId>("\"\"").is_err());
    }

    #[test]
    fn channel_rules() {
        let no = MerchantOrderNo::new("abc").unwrap();
        let rule = |c: char| c.is_ascii_alphanumeric();
        let e = no
            .check_channel_rule(6, 32, rule, "WeChat out_trade_no")
            .unwrap_err();
        assert!(e.reason().contains("requires 6 to 32"), "{e}");
        let no = MerchantOrderNo::new("abc-def").unwrap();
        assert!(
            no.check_channel_rule(1, 32, rule, "UnionPay orderId")
                .is_err()
        );
    }
}
