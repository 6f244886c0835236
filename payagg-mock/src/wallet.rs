//! How a simulated payer funds a payment, and what each channel reports about it.

use std::fmt;
use std::str::FromStr;

use payagg_core::Channel;

/// The wallet or card a simulated payer pays with. Each channel reports it its own way:
///
/// | wallet | code | WeChat `bank_type` | Alipay `fund_bill_list` | UnionPay |
/// | --- | --- | --- | --- | --- |
/// | [`Wallet::Balance`] (the default) | `BALANCE` | `OTHERS` (零钱) | `ALIPAYACCOUNT` (余额) | the test debit card |
/// | [`Wallet::DebitCard`] | `CMB_DEBIT` | `CMB_DEBIT` | `BANKCARD`, `fund_type` `DEBIT_CARD`, `bank_code` `CMB` | a debit card: `accNo` masked, ZM 支付卡类型 `01` |
/// | [`Wallet::CreditCard`] | `ICBC_CREDIT` | `ICBC_CREDIT` | `BANKCARD`, `fund_type` `CREDIT_CARD`, `bank_code` `ICBC` | a credit card: ZM 支付卡类型 `02` |
/// | [`Wallet::Huabei`] | `PCREDIT` | not a WeChat wallet | `PCREDIT` (花呗) | not a UnionPay card |
///
/// The text form (`code`) is what the control API takes (`"wallet":"CMB_DEBIT"`) and the
/// payer page's select sends; `OTHERS`, `ALIPAYACCOUNT` and `HUABEI` are accepted as
/// aliases. Bank codes are WeChat's short codes (`ICBC`, `ABC`, `CCB`, `BOC`, `CMB`,
/// `COMM`, …; 2 to 10 capital letters or digits).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Wallet {
    /// The payer's balance: WeChat 零钱, Alipay 余额.
    #[default]
    Balance,
    /// A debit card issued by `bank`.
    DebitCard {
        /// The issuer's short code (`CMB`, `ICBC`, …).
        bank: String,
    },
    /// A credit card issued by `bank`.
    CreditCard {
        /// The issuer's short code (`CMB`, `ICBC`, …).
        bank: String,
    },
    /// Alipay 花呗 (`PCREDIT`).
    Huabei,
}

/// A masked card number and the ZM 支付卡类型 of a UnionPay payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UnionpayCard {
    /// `accNo` as UnionPay masks it: the first and last four digits.
    pub(crate) masked: String,
    /// `01` debit, `02` credit.
    pub(crate) card_type: &'static str,
}

/// The official test cards of the UnionPay ACP test environment (debit, credit).
const TEST_DEBIT: &str = "6216261000000000018";
const TEST_CREDIT: &str = "5200831111111113";

fn mask(pan: &str) -> String {
    let n = pan.len();
    format!("{}{}{}", &pan[..4], "*".repeat(n - 8), &pan[n - 4..])
}

fn valid_bank(bank: &str) -> bool {
    (2..=10).contains(&bank.len())
        && bank
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

impl Wallet {
    /// A debit card of `bank` (e.g. `"CMB"`).
    #[must_use]
    pub fn debit(bank: &str) -> Self {
        Wallet::DebitCard {
            bank: bank.to_ascii_uppercase(),
        }
    }

    /// A credit card of `bank` (e.g. `"ICBC"`).
    #[must_use]
    pub fn credit(bank: &str) -> Self {
        Wallet::CreditCard {
            bank: bank.to_ascii_uppercase(),
        }
    }

    /// Whether `channel` can be paid with this wallet (花呗 is Alipay's only).
    #[must_use]
    pub fn supports(&self, channel: Channel) -> bool {
        match self {
            Wallet::Huabei => channel == Channel::Alipay,
            _ => true,
        }
    }

    /// WeChat's `bank_type`.
    pub(crate) fn wechat_bank_type(&self) -> String {
        match self {
            Wallet::DebitCard { bank } => format!("{bank}_DEBIT"),
            Wallet::CreditCard { bank } => format!("{bank}_CREDIT"),
            Wallet::Balance | Wallet::Huabei => "OTHERS".to_owned(),
        }
    }

    /// Alipay's `fund_channel`, and for a bank card its `fund_type` and `bank_code`.
    pub(crate) fn alipay_fund(&self) -> (&'static str, Option<(&'static str, &str)>) {
        match self {
            Wallet::Balance => ("ALIPAYACCOUNT", None),
            Wallet::Huabei => ("PCREDIT", None),
            Wallet::DebitCard { bank } => ("BANKCARD", Some(("DEBIT_CARD", bank))),
            Wallet::CreditCard { bank } => ("BANKCARD", Some(("CREDIT_CARD", bank))),
        }
    }

    /// The card UnionPay reports.
    pub(crate) fn unionpay_card(&self) -> UnionpayCard {
        match self {
            Wallet::CreditCard { .. } => UnionpayCard {
                masked: mask(TEST_CREDIT),
                card_type: "02",
            },
            _ => UnionpayCard {
                masked: mask(TEST_DEBIT),
                card_type: "01",
            },
        }
    }
}

impl fmt::Display for Wallet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Wallet::Balance => f.write_str("BALANCE"),
            Wallet::DebitCard { bank } => write!(f, "{bank}_DEBIT"),
            Wallet::CreditCard { bank } => write!(f, "{bank}_CREDIT"),
            Wallet::Huabei => f.write_str("PCREDIT"),
        }
    }
}

/// A wallet code the simulator does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownWallet(String);

impl fmt::Display for UnknownWallet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown wallet {:?}: use BALANCE, PCREDIT, or a bank code with _DEBIT or _CREDIT (CMB_DEBIT, ICBC_CREDIT)",
            self.0
        )
    }
}

impl std::error::Error for UnknownWallet {}

impl FromStr for Wallet {
    type Err = UnknownWallet;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let code = s.trim().to_ascii_uppercase();
        let card = |bank: &str, make: fn(&str) -> Wallet| {
            valid_bank(bank)
                .then(|| make(bank))
                .ok_or_else(|| UnknownWallet(s.to_owned()))
        };
        match code.as_str() {
            "BALANCE" | "OTHERS" | "ALIPAYACCOUNT" => Ok(Wallet::Balance),
            "PCREDIT" | "HUABEI" => Ok(Wallet::Huabei),
            _ => {
                if let Some(bank) = code.strip_suffix("_DEBIT") {
                    card(bank, Wallet::debit)
                } else if let Some(bank) = code.strip_suffix("_CREDIT") {
                    card(bank, Wallet::credit)
                } else {
                    Err(UnknownWallet(s.to_owned()))
                }
            }
        }
    }
}

impl serde::Serialize for Wallet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Wallet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Who pays, and with what: the options of [`crate::MockServer::pay_as`] and
/// [`crate::MockServer::scan_as`].
///
/// ```
/// use payagg_mock::{PayAs, Wallet};
/// let p = PayAs::payer("oPayer123").with_wallet(Wallet::credit("ICBC"));
/// assert_eq!(p.wallet.to_string(), "ICBC_CREDIT");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PayAs {
    /// The payer's id (WeChat openid, Alipay `2088…` user id); the channel's default payer
    /// when `None`.
    pub payer: Option<String>,
    /// What the payer pays with.
    pub wallet: Wallet,
}

impl PayAs {
    /// The default payer, with `wallet`.
    #[must_use]
    pub fn wallet(wallet: Wallet) -> Self {
        Self {
            payer: None,
            wallet,
        }
    }

    /// A named payer, paying from the balance.
    #[must_use]
    pub fn payer(payer: &str) -> Self {
        Self {
            payer: Some(payer.to_owned()),
            wallet: Wallet::Balance,
        }
    }

    /// The same payer with `wallet`.
    #[must_use]
    pub fn with_wallet(mut self, wallet: Wallet) -> Self {
        self.wallet = wallet;
        self
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for code in [
            "BALANCE",
            "PCREDIT",
            "CMB_DEBIT",
            "ICBC_CREDIT",
            "BOSH_DEBIT",
        ] {
            assert_eq!(code.parse::<Wallet>().unwrap().to_string(), code);
        }
        assert_eq!("others".parse::<Wallet>().unwrap(), Wallet::Balance);
        assert_eq!("huabei".parse::<Wallet>().unwrap(), Wallet::Huabei);
        assert_eq!("cmb_debit".parse::<Wallet>().unwrap(), Wallet::debit("CMB"));
        for bad in ["", "CMB", "_DEBIT", "C_DEBIT", "CMB-1_DEBIT", "BANKCARD"] {
            assert!(bad.parse::<Wallet>().is_err(), "{bad}");
        }
    }

    #[test]
    fn channel_values() {
        assert_eq!(Wallet::Balance.wechat_bank_type(), "OTHERS");
        assert_eq!(Wallet::credit("icbc").wechat_bank_type(), "ICBC_CREDIT");
        assert_eq!(
            Wallet::debit("CMB").alipay_fund(),
            ("BANKCARD", Some(("DEBIT_CARD", "CMB")))
        );
        assert_eq!(Wallet::Huabei.alipay_fund(), ("PCREDIT", None));
        assert!(!Wallet::Huabei.supports(Channel::Wechat));
        let c = Wallet::credit("CMB").unionpay_card();
        assert_eq!((c.masked.as_str(), c.card_type), ("5200********1113", "02"));
        let d = Wallet::Balance.unionpay_card();
        assert_eq!(
            (d.masked.as_str(), d.card_type),
            ("6216***********0018", "01")
        );
    }
}
