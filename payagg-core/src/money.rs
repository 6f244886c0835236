//! Exact money: integer minor units with a currency, and exact decimals for statements.
//!
//! There is no floating point anywhere in payagg. [`Money`] holds a non-negative integer
//! number of minor units (fen for CNY) and its [`Currency`]; it is what requests carry.
//! [`ExactAmount`] is a signed fixed-point decimal that keeps the precision a statement file
//! gave (WeChat bills state fees to 5 decimals, `0.00600`), so nothing is rounded that the
//! channel did not round.
//!
//! ```
//! use payagg_core::money::{Currency, Money};
//!
//! let m = Money::parse_major("12.30", Currency::Cny)?;
//! assert_eq!(m.minor_units(), 1230);
//! assert_eq!(m.to_major_string(), "12.30");
//! assert!(Money::parse_major("1.234", Currency::Cny).is_err());
//! assert!(Money::parse_major("-0.01", Currency::Cny).is_err());
//! # Ok::<(), payagg_core::money::AmountError>(())
//! ```

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, InvalidInput};

/// Why an amount string or operation was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AmountError {
    /// The string was empty.
    #[error("amount is empty")]
    Empty,
    /// A character other than a digit or a single `.` (or a leading `-` where allowed).
    #[error("amount {0:?} is not a plain decimal number")]
    Syntax(String),
    /// A sign where only non-negative amounts are allowed.
    #[error("amount {0:?} is negative")]
    Negative(String),
    /// More decimals than the currency (or the format) allows.
    #[error("amount {input:?} has more than {max} decimals")]
    TooManyDecimals {
        /// The rejected input.
        input: String,
        /// The most decimals allowed.
        max: u8,
    },
    /// Leading zeros (`"01.00"`) are ambiguous and rejected.
    #[error("amount {0:?} has a leading zero")]
    LeadingZero(String),
    /// The value does not fit.
    #[error("amount {0:?} overflows")]
    Overflow(String),
    /// Two amounts in different currencies were combined.
    #[error("currency mismatch: {0} vs {1}")]
    CurrencyMismatch(Currency, Currency),
}

impl From<AmountError> for Error {
    fn from(e: AmountError) -> Self {
        Error::InvalidInput(InvalidInput::new("amount", e.to_string()))
    }
}

/// An ISO 4217 currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Currency {
    /// Chinese yuan renminbi; minor unit fen (2 decimals).
    Cny,
    /// Hong Kong dollar.
    Hkd,
    /// US dollar.
    Usd,
    /// Euro.
    Eur,
    /// Pound sterling.
    Gbp,
    /// Japanese yen (no minor unit).
    Jpy,
    /// Any other three-letter code, assumed to have 2 decimals.
    Other(CurrencyCode),
}

/// A validated three-letter upper-case currency code.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CurrencyCode([u8; 3]);

impl CurrencyCode {
    /// The code as a string.
    #[must_use]
    pub fn as_str(&self) -> &str {
        // Constructed only from ASCII upper-case letters.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}

impl fmt::Debug for CurrencyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Currency {
    /// The ISO 4217 code, e.g. `"CNY"`.
    #[must_use]
    pub fn code(&self) -> &str {
        match self {
            Currency::Cny => "CNY",
            Currency::Hkd => "HKD",
            Currency::Usd => "USD",
            Currency::Eur => "EUR",
            Currency::Gbp => "GBP",
            Currency::Jpy => "JPY",
            Currency::Other(c) => c.as_str(),
        }
    }

    /// Number of decimals of the minor unit (2 for CNY, 0 for JPY).
    #[must_use]
    pub fn minor_unit_exponent(&self) -> u8 {
        match self {
            Currency::Jpy => 0,
            _ => 2,
        }
    }

    /// Parse a three-letter code (case-insensitive).
    ///
    /// # Errors
    /// [`InvalidInput`] when the code is not three ASCII letters.
    pub fn from_code(code: &str) -> Result<Self, InvalidInput> {
        let b = code.as_bytes();
        if b.len() != 3 || !b.iter().all(u8::is_ascii_alphabetic) {
            return Err(InvalidInput::new(
                "currency",
                format!("{code:?} is not a three-letter code"),
            ));
        }
        let up = [
            b[0].to_ascii_uppercase(),
            b[1].to_ascii_uppercase(),
            b[2].to_ascii_uppercase(),
        ];
        Ok(match &up {
            b"CNY" => Currency::Cny,
            b"HKD" => Currency::Hkd,
            b"USD" => Currency::Usd,
            b"EUR" => Currency::Eur,
            b"GBP" => Currency::Gbp,
            b"JPY" => Currency::Jpy,
            _ => Currency::Other(CurrencyCode(up)),
        })
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = InvalidInput;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::from_code(s)
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Currency::from_code(&s).map_err(serde::de::Error::custom)
    }
}

const POW10: [u64; 19] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
    1_000_000_000,
    10_000_000_000,
    100_000_000_000,
    1_000_000_000_000,
    10_000_000_000_000,
    100_000_000_000_000,
    1_000_000_000_000_000,
    10_000_000_000_000_000,
    100_000_000_000_000_000,
    1_000_000_000_000_000_000,
];

/// The largest number of decimals an [`ExactAmount`] may carry.
pub const MAX_SCALE: u8 = 9;

/// Parse an unsigned decimal with at most `max_scale` decimals into (units, scale).
/// Strict: digits, at most one `.` followed by at least one digit, no leading zeros.
fn parse_unsigned(input: &str, s: &str, max_scale: u8) -> Result<(u64, u8), AmountError> {
    let bytes = s.as_bytes();
    if bytes.is_empty() {
        return Err(if input.is_empty() {
            AmountError::Empty
        } else {
            AmountError::Syntax(input.to_owned())
        });
    }
    let (int_part, frac_part) = match s.find('.') {
        Some(i) => (&bytes[..i], Some(&bytes[i + 1..])),
        None => (bytes, None),
    };
    if int_part.is_empty() || !int_part.iter().all(u8::is_ascii_digit) {
        return Err(AmountError::Syntax(input.to_owned()));
    }
    if int_part.len() > 1 && int_part[0] == b'0' {
        return Err(AmountError::LeadingZero(input.to_owned()));
    }
    let frac = frac_part.unwrap_or(&[]);
    if frac_part.is_some() && (frac.is_empty() || !frac.iter().all(u8::is_ascii_digit)) {
        return Err(AmountError::Syntax(input.to_owned()));
    }
    if frac.len() > usize::from(max_scale) {
        return Err(AmountError::TooManyDecimals {
            input: input.to_owned(),
            max: max_scale,
        });
    }
    let overflow = || AmountError::Overflow(input.to_owned());
    let mut units: u64 = 0;
    for &d in int_part.iter().chain(frac) {
        units = units
            .checked_mul(10)
            .and_then(|u| u.checked_add(u64::from(d - b'0')))
            .ok_or_else(overflow)?;
    }
    // `frac.len() <= max_scale <= MAX_SCALE`, which fits in u8.
    let scale = u8::try_from(frac.len()).map_err(|_| overflow())?;
    Ok((units, scale))
}

/// Write `units / 10^scale` with exactly `scale` decimals.
fn write_unsigned(f: &mut impl fmt::Write, units: u64, scale: u8) -> fmt::Result {
    if scale == 0 {
        return write!(f, "{units}");
    }
    let p = POW10[usize::from(scale)];
    write!(
        f,
        "{}.{:0width$}",
        units / p,
        units % p,
        width = usize::from(scale)
    )
}

/// A non-negative amount in integer minor units of its currency.
///
/// Arithmetic is checked; there is no `From<f64>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Money {
    minor: u64,
    currency: Currency,
}

impl Money {
    /// `minor` minor units (fen for CNY) of `currency`.
    #[must_use]
    pub const fn from_minor(minor: u64, currency: Currency) -> Self {
        Self { minor, currency }
    }

    /// `fen` fen of Chinese yuan.
    #[must_use]
    pub const fn cny(fen: u64) -> Self {
        Self {
            minor: fen,
            currency: Currency::Cny,
        }
    }

    /// Zero in `currency`.
    #[must_use]
    pub const fn zero(currency: Currency) -> Self {
        Self { minor: 0, currency }
    }

    /// Parse a major-unit decimal string (`"0.01"`, `"12.3"`, `"12.30"`, `"100"`).
    ///
    /// Strict: rejects signs, exponents, whitespace, leading zeros, more decimals than the
    /// currency has, and overflow.
    ///
    /// # Errors
    /// [`AmountError`] saying what was wrong.
    pub fn parse_major(s: &str, currency: Currency) -> Result<Self, AmountError> {
        if s.starts_with('-') {
            return Err(AmountError::Negative(s.to_owned()));
        }
        let exp = currency.minor_unit_exponent();
        let (units, scale) = parse_unsigned(s, s, exp)?;
        let minor = units
            .checked_mul(POW10[usize::from(exp - scale)])
            .ok_or_else(|| AmountError::Overflow(s.to_owned()))?;
        Ok(Self { minor, currency })
    }

    /// Parse an integer minor-unit string (`"1"` = one fen), as WeChat and UnionPay send.
    ///
    /// # Errors
    /// [`AmountError`] for anything but plain digits without leading zeros.
    pub fn parse_minor(s: &str, currency: Currency) -> Result<Self, AmountError> {
        if s.starts_with('-') {
            return Err(AmountError::Negative(s.to_owned()));
        }
        let (minor, _) = parse_unsigned(s, s, 0)?;
        Ok(Self { minor, currency })
    }

    /// The amount in minor units.
    #[must_use]
    pub const fn minor_units(&self) -> u64 {
        self.minor
    }

    /// The currency.
    #[must_use]
    pub const fn currency(&self) -> Currency {
        self.currency
    }

    /// `true` when zero.
    #[must_use]
    pub const fn is_zero(&self) -> bool {
        self.minor == 0
    }

    /// The major-unit string with exactly the currency's decimals: `"0.01"`, `"12.30"`.
    #[must_use]
    pub fn to_major_string(&self) -> String {
        let mut s = String::with_capacity(24);
        // Writing to a String cannot fail.
        let _ = write_unsigned(&mut s, self.minor, self.currency.minor_unit_exponent());
        s
    }

    /// Sum, or `None` on overflow or currency mismatch.
    #[must_use]
    pub fn checked_add(self, other: Money) -> Option<Money> {
        if self.currency != other.currency {
            return None;
        }
        Some(Money {
            minor: self.minor.checked_add(other.minor)?,
            currency: self.currency,
        })
    }

    /// Difference, or `None` if it would be negative or the currencies differ.
    #[must_use]
    pub fn checked_sub(self, other: Money) -> Option<Money> {
        if self.currency != other.currency {
            return None;
        }
        Some(Money {
            minor: self.minor.checked_sub(other.minor)?,
            currency: self.currency,
        })
    }

    /// Check that refunding `refund` is allowed when `paid` was paid and `refunded` already
    /// refunded: the one place this rule lives (the simulator enforces the same).
    ///
    /// # Errors
    /// [`InvalidInput`] (`refund_amount`) when the refund is zero, in another currency, or
    /// larger than what remains.
    pub fn check_refundable(
        paid: Money,
        refunded: Money,
        refund: Money,
    ) -> Result<(), InvalidInput> {
        if refund.is_zero() {
            return Err(InvalidInput::new(
                "refund_amount",
                "a refund must be larger than zero",
            ));
        }
        let remaining = paid.checked_sub(refunded).ok_or_else(|| {
            InvalidInput::new(
                "refund_amount",
                "already refunded more than paid, or currencies differ",
            )
        })?;
        if refund.currency != remaining.currency {
            return Err(InvalidInput::new(
                "refund_amount",
                format!(
                    "currency {} differs from {}",
                    refund.currency, remaining.currency
                ),
            ));
        }
        if refund.minor > remaining.minor {
            return Err(InvalidInput::new(
                "refund_amount",
                format!("{} exceeds the refundable remainder {}", refund, remaining),
            ));
        }
        Ok(())
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_unsigned(f, self.minor, self.currency.minor_unit_exponent())?;
        write!(f, " {}", self.currency)
    }
}

/// A signed exact decimal in major units with its own scale, for statement amounts.
///
/// `ExactAmount::parse("-0.00600")` keeps five decimals and prints them back unchanged.
/// Equality, ordering and hashing compare values (`0.1 == 0.10`).
#[derive(Clone, Copy)]
pub struct ExactAmount {
    units: i64,
    scale: u8,
}

impl ExactAmount {
    /// Zero with scale 2.
    pub const ZERO: ExactAmount = ExactAmount { units: 0, scale: 2 };

    /// `units / 10^scale`.
    ///
    /// # Errors
    /// [`AmountError::TooManyDecimals`] when `scale > MAX_SCALE`.
    pub fn new(units: i64, scale: u8) -> Result<Self, AmountError> {
        if scale > MAX_SCALE {
            return Err(AmountError::TooManyDecimals {
                input: format!("{units}e-{scale}"),
                max: MAX_SCALE,
            });
        }
        Ok(Self { units, scale })
    }

    /// Parse a signed decimal (`"12.30"`, `"-0.00600"`, `"+1.5"`), keeping its scale.
    ///
    /// # Errors
    /// [`AmountError`] for anything but an optional sign, digits and one `.`.
    pub fn parse(s: &str) -> Result<Self, AmountError> {
        let (neg, body) = match s.as_bytes().first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        let (units, scale) = parse_unsigned(s, body, MAX_SCALE)?;
        let units = i64::try_from(units).map_err(|_| AmountError::Overflow(s.to_owned()))?;
        Ok(Self {
            units: if neg { -units } else { units },
            scale,
        })
    }

    /// The exact value of `money` in major units, with the currency's scale.
    ///
    /// # Errors
    /// [`AmountError::Overflow`] above `i64::MAX` minor units.
    pub fn from_money(money: Money) -> Result<Self, AmountError> {
        let units =
            i64::try_from(money.minor).map_err(|_| AmountError::Overflow(money.to_string()))?;
        Ok(Self {
            units,
            scale: money.currency.minor_unit_exponent(),
        })
    }

    /// `minor` minor units at `exponent` decimals, negative allowed (for example a refund).
    #[must_use]
    pub const fn from_minor(minor: i64, exponent: u8) -> Self {
        Self {
            units: minor,
            scale: if exponent > MAX_SCALE {
                MAX_SCALE
            } else {
                exponent
            },
        }
    }

    /// The raw integer units (value × 10^scale).
    #[must_use]
    pub const fn units(&self) -> i64 {
        self.units
    }

    /// The number of decimals carried.
    #[must_use]
    pub const fn scale(&self) -> u8 {
        self.scale
    }

    /// `true` when negative.
    #[must_use]
    pub const fn is_negative(&self) -> bool {
        self.units < 0
    }

    /// `true` when zero.
    #[must_use]
    pub const fn is_zero(&self) -> bool {
        self.units == 0
    }

    /// The same value at a larger scale, or `None` on overflow or a smaller target scale.
    #[must_use]
    pub fn rescale(self, scale: u8) -> Option<Self> {
        if scale < self.scale || scale > MAX_SCALE {
            return None;
        }
        let f = i64::try_from(POW10[usize::from(scale - self.scale)]).ok()?;
        Some(Self {
            units: self.units.checked_mul(f)?,
            scale,
        })
    }

    /// The value at scale ≥ `min_scale`: `1.5` with `min_scale` 2 becomes `1.50`; `0.00600`
    /// stays as it is. Saturates to `self` on overflow.
    #[must_use]
    pub fn with_min_scale(self, min_scale: u8) -> Self {
        if self.scale >= min_scale {
            self
        } else {
            self.rescale(min_scale).unwrap_or(self)
        }
    }

    fn aligned(self, other: Self) -> Option<(i64, i64, u8)> {
        let scale = self.scale.max(other.scale);
        Some((
            self.rescale(scale)?.units,
            other.rescale(scale)?.units,
            scale,
        ))
    }

    /// Exact sum at the larger scale, or `None` on overflow.
    #[must_use]
    pub fn checked_add(self, other: Self) -> Option<Self> {
        let (a, b, scale) = self.aligned(other)?;
        Some(Self {
            units: a.checked_add(b)?,
            scale,
        })
    }

    /// Exact difference at the larger scale, or `None` on overflow.
    #[must_use]
    pub fn checked_sub(self, other: Self) -> Option<Self> {
        let (a, b, scale) = self.aligned(other)?;
        Some(Self {
            units: a.checked_sub(b)?,
            scale,
        })
    }

    /// The negation, or `None` for `i64::MIN` units.
    #[must_use]
    pub fn checked_neg(self) -> Option<Self> {
        Some(Self {
            units: self.units.checked_neg()?,
            scale: self.scale,
        })
    }

    /// The absolute value, or `None` for `i64::MIN` units.
    #[must_use]
    pub fn checked_abs(self) -> Option<Self> {
        Some(Self {
            units: self.units.checked_abs()?,
            scale: self.scale,
        })
    }

    /// The value in minor units at `exponent` decimals if it is exactly representable there
    /// (`0.01` → 1 fen; `0.00600` → `None`, because it is not a whole number of fen).
    #[must_use]
    pub fn to_minor_exact(self, exponent: u8) -> Option<i64> {
        if self.scale <= exponent {
            return Some(self.rescale(exponent)?.units);
        }
        let f = i64::try_from(POW10[usize::from(self.scale - exponent)]).ok()?;
        (self.units % f == 0).then_some(self.units / f)
    }

    /// Normalized (units, scale) without trailing zeros, used for Eq and Hash.
    fn normalized(self) -> (i64, u8) {
        let (mut u, mut s) = (self.units, self.scale);
        while s > 0 && u % 10 == 0 {
            u /= 10;
            s -= 1;
        }
        (u, s)
    }
}

impl PartialEq for ExactAmount {
    fn eq(&self, other: &Self) -> bool {
        self.normalized() == other.normalized()
    }
}

impl Eq for ExactAmount {}

impl Hash for ExactAmount {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.normalized().hash(state);
    }
}

impl PartialOrd for ExactAmount {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ExactAmount {
    fn cmp(&self, other: &Self) -> Ordering {
        // Compare in i128 so alignment can never overflow.
        let scale = self.scale.max(other.scale);
        let a = i128::from(self.units) * i128::from(POW10[usize::from(scale - self.scale)]);
        let b = i128::from(other.units) * i128::from(POW10[usize::from(scale - other.scale)]);
        a.cmp(&b)
    }
}

impl fmt::Display for ExactAmount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.units < 0 {
            f.write_str("-")?;
        }
        write_unsigned(f, self.units.unsigned_abs(), self.scale)
    }
}

impl fmt::Debug for ExactAmount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ExactAmount({self})")
    }
}

impl FromStr for ExactAmount {
    type Err = AmountError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ExactAmount::parse(s)
    }
}

impl Serialize for ExactAmount {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ExactAmount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        ExactAmount::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl TryFrom<Money> for ExactAmount {
    type Error = AmountError;
    fn try_from(m: Money) -> Result<Self, Self::Error> {
        ExactAmount::from_money(m)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_yuan_exactly() {
        let cases = [
            ("0.01", 1),
            ("12.30", 1230),
            ("12.3", 1230),
            ("100", 10000),
            ("0", 0),
            ("0.10", 10),
        ];
        for (s, fen) in cases {
            assert_eq!(
                Money::parse_major(s, Currency::Cny).unwrap().minor_units(),
                fen,
                "{s}"
            );
        }
        assert_eq!(Money::cny(1).to_major_string(), "0.01");
        assert_eq!(Money::cny(1230).to_major_string(), "12.30");
        assert_eq!(Money::cny(0).to_major_string(), "0.00");
        assert_eq!(Money::cny(1230).to_string(), "12.30 CNY");
    }

    #[test]
    fn rejects_malformed_yuan() {
        let bad = [
            "1.234",
            "-0.01",
            "1e3",
            " 1",
            "1 ",
            "",
            ".5",
            "5.",
            "01.00",
            "+1",
            "1,00",
            "0x10",
            "１",
            "1.2.3",
            "NaN",
            "184467440737095516.16",
        ];
        for s in bad {
            assert!(
                Money::parse_major(s, Currency::Cny).is_err(),
                "{s:?} should be rejected"
            );
        }
        assert!(matches!(
            Money::parse_major("1.234", Currency::Cny),
            Err(AmountError::TooManyDecimals { .. })
        ));
        assert!(matches!(
            Money::parse_major("-0.01", Currency::Cny),
            Err(AmountError::Negative(_))
        ));
        assert!(matches!(
            Money::parse_major("99999999999999999999", Currency::Cny),
            Err(AmountError::Overflow(_))
        ));
        assert!(matches!(
            Money::parse_major("", Currency::Cny),
            Err(AmountError::Empty)
        ));
    }

    #[test]
    fn yen_has_no_decimals() {
        assert_eq!(
            Money::parse_major("100", Currency::Jpy)
                .unwrap()
                .minor_units(),
            100
        );
        assert!(Money::parse_major("1.0", Currency::Jpy).is_err());
        assert_eq!(Money::from_minor(5, Currency::Jpy).to_major_string(), "5");
    }

    #[test]
    fn minor_strings() {
        assert_eq!(
            Money::parse_minor("1", Currency::Cny).unwrap(),
            Money::cny(1)
        );
        assert!(Money::parse_minor("1.0", Currency::Cny).is_err());
        assert!(Money::parse_minor("-1", Currency::Cny).is_err());
        assert!(Money::parse_minor("007", Currency::Cny).is_err());
    }

    #[test]
    fn checked_arithmetic() {
        assert_eq!(
            Money::cny(1).checked_add(Money::cny(2)),
            Some(Money::cny(3))
        );
        assert_eq!(Money::cny(1).checked_sub(Money::cny(2)), None);
        assert_eq!(Money::cny(u64::MAX).checked_add(Money::cny(1)), None);
        assert_eq!(
            Money::cny(1).checked_add(Money::from_minor(1, Currency::Usd)),
            None
        );
    }

    #[test]
    fn refundable_rule() {
        let paid = Money::cny(1000);
        assert!(Money::check_refundable(paid, Money::cny(0), Money::cny(1000)).is_ok());
        assert!(Money::check_refundable(paid, Money::cny(600), Money::cny(400)).is_ok());
        let e = Money::check_refundable(paid, Money::cny(600), Money::cny(401)).unwrap_err();
        assert!(
            e.reason()
                .contains("4.01 CNY exceeds the refundable remainder 4.00 CNY"),
            "{e}"
        );
        assert!(Money::check_refundable(paid, Money::cny(0), Money::cny(0)).is_err());
        assert!(
            Money::check_refundable(paid, Money::cny(0), Money::from_minor(1, Currency::Usd))
                .is_err()
        );
    }

    #[test]
    fn currency_codes() {
        assert_eq!(Currency::from_code("cny").unwrap(), Currency::Cny);
        assert_eq!(Currency::from_code("SGD").unwrap().code(), "SGD");
        assert!(Currency::from_code("RMB1").is_err());
        assert!(Currency::from_code("人民币").is_err());
        let json = serde_json::to_string(&Money::cny(5)).unwrap();
        assert_eq!(json, r#"{"minor":5,"currency":"CNY"}"#);
        assert_eq!(serde_json::from_str::<Money>(&json).unwrap(), Money::cny(5));
    }

    #[test]
    fn exact_keeps_precision() {
        let fee = ExactAmount::parse("0.00600").unwrap();
        assert_eq!(fee.to_string(), "0.00600");
        assert_eq!(fee.scale(), 5);
        assert_eq!(fee.to_minor_exact(2), None);
        let sum = fee
            .checked_add(ExactAmount::parse("0.00400").unwrap())
            .unwrap();
        assert_eq!(sum.to_string(), "0.01000");
        assert_eq!(sum.to_minor_exact(2), Some(1));
        assert_eq!(ExactAmount::parse("-12.30").unwrap().to_string(), "-12.30");
        assert_eq!(
            ExactAmount::parse("0.1").unwrap(),
            ExactAmount::parse("0.10").unwrap()
        );
        assert!(ExactAmount::parse("-0.01").unwrap() < ExactAmount::ZERO);
        assert_eq!(
            ExactAmount::parse("1.5")
                .unwrap()
                .with_min_scale(2)
                .to_string(),
            "1.50"
        );
        assert_eq!(
            ExactAmount::from_money(Money::cny(1230))
                .unwrap()
                .to_string(),
            "12.30"
        );
        assert!(ExactAmount::parse("1e3").is_err());
        assert!(ExactAmount::parse("--1").is_err());
        assert!(ExactAmount::parse("0.0000000001").is_err());
        let j = serde_json::to_string(&fee).unwrap();
        assert_eq!(j, "\"0.00600\"");
    }

    proptest! {
        #[test]
        fn money_round_trip(minor in 0u64..=u64::MAX) {
            let m = Money::cny(minor);
            let s = m.to_major_string();
            prop_assert_eq!(Money::parse_major(&s, Currency::Cny).unwrap(), m);
        }

        #[test]
        fn canonical_strings_round_trip(int in 0u64..10_000_000_000, frac in 0u64..100) {
            let s = format!("{int}.{frac:02}");
            let m = Money::parse_major(&s, Currency::Cny).unwrap();
            prop_assert_eq!(m.to_major_string(), s);
            prop_assert_eq!(m.minor_units(), int * 100 + frac);
        }

        #[test]
        fn arbitrary_strings_never_panic(s in "\\PC{0,24}") {
            if let Ok(m) = Money::parse_major(&s, Currency::Cny) {
                // Whatever parses must re-parse from its canonical form to the same value.
                prop_assert_eq!(Money::parse_major(&m.to_major_string(), Currency::Cny).unwrap(), m);
                prop_assert!(s.bytes().all(|b| b.is_ascii_digit() || b == b'.'));
            }
        }

        #[test]
        fn exact_round_trip(units in i64::MIN + 1..=i64::MAX, scale in 0u8..=MAX_SCALE) {
            let a = ExactAmount::new(units, scale).unwrap();
            let b = ExactAmount::parse(&a.to_string()).unwrap();
            prop_assert_eq!(a, b);
            prop_assert_eq!(b.scale(), scale);
            prop_assert_eq!(b.units(), units);
        }

        #[test]
        fn exact_add_sub_inverse(a in -1_000_000_000_000i64..1_000_000_000_000, sa in 0u8..6,
                                 b in -1_000_000_000_000i64..1_000_000_000_000, sb in 0u8..6) {
            let x = ExactAmount::new(a, sa).unwrap();
            let y = ExactAmount::new(b, sb).unwrap();
            let s = x.checked_add(y).unwrap();
            prop_assert_eq!(s.checked_sub(y).unwrap(), x);
            prop_assert_eq!(x.cmp(&y), (i128::from(a) * 10i128.pow(u32::from(sb))).cmp(&(i128::from(b) * 10i128.pow(u32::from(sa)))));
        }
    }
}
