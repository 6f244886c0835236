//! The payment channels payagg speaks to.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A payment channel (or the bank, for bank statements).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Channel {
    /// WeChat Pay (微信支付).
    Wechat,
    /// Alipay (支付宝).
    Alipay,
    /// China UnionPay online payments (银联), including B2B corporate banking.
    Unionpay,
    /// A bank account statement (camt.053, MT940, bank CSV).
    Bank,
}

impl Channel {
    /// The lowercase name used in files and reports: `wechat`, `alipay`, `unionpay`, `bank`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Wechat => "wechat",
            Channel::Alipay => "alipay",
            Channel::Unionpay => "unionpay",
            Channel::Bank => "bank",
        }
    }

    /// Parse the name written by [`Channel::as_str`].
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "wechat" => Some(Channel::Wechat),
            "alipay" => Some(Channel::Alipay),
            "unionpay" => Some(Channel::Unionpay),
            "bank" => Some(Channel::Bank),
            _ => None,
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
