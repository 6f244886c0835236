//! Exact running sums of [`ExactAmount`]s of any scale (internal).

use crate::error::{Error, Result};
use crate::money::{ExactAmount, MAX_SCALE};

const SCALE_FACTOR: [i128; 10] = [
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
];

/// An exact sum held in `i128` units of 10^-9, so that adding amounts of mixed scale
/// (fen, 5-decimal fees) never rounds and practically never overflows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Acc(pub(crate) i128);

impl Acc {
    pub(crate) fn of(a: ExactAmount) -> Self {
        Acc(i128::from(a.units()) * SCALE_FACTOR[usize::from(MAX_SCALE - a.scale().min(MAX_SCALE))])
    }

    pub(crate) fn add(&mut self, a: ExactAmount) {
        self.0 = self.0.saturating_add(Acc::of(a).0);
    }

    pub(crate) fn add_abs(&mut self, a: ExactAmount) {
        self.0 = self.0.saturating_add(Acc::of(a).0.saturating_abs());
    }

    pub(crate) fn plus(self, o: Acc) -> Acc {
        Acc(self.0.saturating_add(o.0))
    }

    /// Back to an [`ExactAmount`] with the fewest decimals (at least `min_scale`) that
    /// represent it exactly.
    pub(crate) fn to_amount(self, min_scale: u8) -> Result<ExactAmount> {
        let mut units = self.0;
        let mut scale = MAX_SCALE;
        while scale > min_scale && units % 10 == 0 {
            units /= 10;
            scale -= 1;
        }
        let units = i64::try_from(units).map_err(|_| {
            Error::decode(format!("a total of {} units at scale 9 overflows", self.0))
        })?;
        Ok(ExactAmount::new(units, scale)?)
    }
}

/// `true` when `num / den <= ppm / 1_000_000`, exactly. A zero denominator closes only
/// with a zero numerator.
pub(crate) fn within_ppm(num: Acc, den: Acc, ppm: u32) -> bool {
    if den.0 <= 0 {
        return num.0 <= 0;
    }
    num.0.saturating_mul(1_000_000) <= den.0.saturating_mul(i128::from(ppm))
}

/// `floor(num × 1e6 / den)`, saturating.
pub(crate) fn ratio_ppm(num: Acc, den: Acc) -> u64 {
    if den.0 <= 0 {
        return if num.0 > 0 { u64::MAX } else { 0 };
    }
    let r = num.0.saturating_mul(1_000_000) / den.0;
    u64::try_from(r.max(0)).unwrap_or(u64::MAX)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn mixed_scales_sum_exactly() {
        let mut a = Acc::default();
        a.add(ExactAmount::parse("0.00600").unwrap());
        a.add(ExactAmount::parse("0.00400").unwrap());
        a.add(ExactAmount::parse("1.5").unwrap());
        assert_eq!(a.to_amount(2).unwrap().to_string(), "1.51");
        let mut b = Acc::default();
        b.add(ExactAmount::parse("-0.00601").unwrap());
        assert_eq!(b.to_amount(2).unwrap().to_string(), "-0.00601");
    }

    #[test]
    fn ppm_threshold_is_exact() {
        let gross = Acc::of(ExactAmount::parse("1000.00").unwrap());
        let at = Acc::of(ExactAmount::parse("1.00").unwrap());
        let over = Acc::of(ExactAmount::parse("1.00001").unwrap());
        assert!(within_ppm(at, gross, 1000));
        assert!(!within_ppm(over, gross, 1000));
        assert_eq!(ratio_ppm(at, gross), 1000);
        assert_eq!(ratio_ppm(over, gross), 1000);
        assert!(within_ppm(Acc(0), Acc(0), 0));
        assert!(!within_ppm(at, Acc(0), 1000));
    }
}
