//! Money and rates. Every amount is an integer number of won; there are no floats anywhere.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A non-negative amount of Korean won. Points use the same type: 1 point is 1 won.
///
/// Arithmetic is checked: an operation that would overflow or go below zero returns `None`
/// instead of wrapping, so a bug can never turn into a wrong charge.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(try_from = "i64", into = "i64")]
pub struct Money(i64);

/// Largest amount accepted anywhere: 10^13 won leaves room to add many of them without overflow.
const MAX_WON: i64 = 10_000_000_000_000;

/// Why a number is not a valid amount of money.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("an amount of money cannot be negative (got {0})")]
    Negative(i64),
    #[error("an amount of money cannot exceed {MAX_WON} won (got {0})")]
    TooLarge(i64),
}

impl Money {
    /// Zero won.
    pub const ZERO: Money = Money(0);

    /// An amount of won, between 0 and 10^13.
    pub fn new(won: i64) -> Result<Self, MoneyError> {
        if won < 0 {
            Err(MoneyError::Negative(won))
        } else if won > MAX_WON {
            Err(MoneyError::TooLarge(won))
        } else {
            Ok(Money(won))
        }
    }

    /// The amount in won.
    pub const fn won(self) -> i64 {
        self.0
    }

    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    #[must_use]
    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    /// `None` when the result would be negative.
    #[must_use]
    pub fn checked_sub(self, other: Money) -> Option<Money> {
        self.0
            .checked_sub(other.0)
            .filter(|won| *won >= 0)
            .map(Money)
    }

    /// Subtracts, stopping at zero.
    #[must_use]
    pub fn saturating_sub(self, other: Money) -> Money {
        Money((self.0 - other.0).max(0))
    }

    #[must_use]
    pub fn checked_mul(self, factor: u32) -> Option<Money> {
        self.0.checked_mul(i64::from(factor)).map(Money)
    }

    /// `numerator / denominator` of this amount, rounded down (used for rates in basis points
    /// or percent). `None` on a zero denominator or overflow.
    #[must_use]
    pub fn ratio_floor(self, numerator: i64, denominator: i64) -> Option<Money> {
        if denominator <= 0 || numerator < 0 {
            return None;
        }
        let product = i128::from(self.0) * i128::from(numerator);
        i64::try_from(product / i128::from(denominator))
            .ok()
            .map(Money)
    }

    /// Sums amounts, `None` on overflow.
    pub fn checked_sum<I: IntoIterator<Item = Money>>(amounts: I) -> Option<Money> {
        amounts
            .into_iter()
            .try_fold(Money::ZERO, Money::checked_add)
    }
}

impl TryFrom<i64> for Money {
    type Error = MoneyError;
    fn try_from(won: i64) -> Result<Self, Self::Error> {
        Money::new(won)
    }
}

impl From<Money> for i64 {
    fn from(money: Money) -> i64 {
        money.0
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}원", self.0)
    }
}

/// A whole percentage between 1 and 100, for rate coupons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Percent(u8);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a percentage must be between 1 and 100 (got {0})")]
pub struct PercentError(pub i64);

impl Percent {
    pub fn new(value: i64) -> Result<Self, PercentError> {
        u8::try_from(value)
            .ok()
            .filter(|p| (1..=100).contains(p))
            .map(Percent)
            .ok_or(PercentError(value))
    }

    pub const fn value(self) -> u8 {
        self.0
    }

    /// This percentage of `amount`, rounded down.
    #[must_use]
    pub fn of(self, amount: Money) -> Money {
        // 10^13 * 100 fits in i64, so this cannot fail for a valid Money.
        Money(amount.0 * i64::from(self.0) / 100)
    }
}

impl TryFrom<u8> for Percent {
    type Error = PercentError;
    fn try_from(value: u8) -> Result<Self, Self::Error> {
        Percent::new(i64::from(value))
    }
}

impl From<Percent> for u8 {
    fn from(p: Percent) -> u8 {
        p.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_rejects_negative_and_huge_amounts() {
        assert_eq!(Money::new(-1), Err(MoneyError::Negative(-1)));
        assert!(Money::new(MAX_WON + 1).is_err());
        assert_eq!(Money::new(0).map(Money::won), Ok(0));
    }

    #[test]
    fn subtraction_never_goes_negative() {
        let three = Money(3);
        let five = Money(5);
        assert_eq!(three.checked_sub(five), None);
        assert_eq!(five.checked_sub(three), Some(Money(2)));
        assert_eq!(three.saturating_sub(five), Money::ZERO);
    }

    #[test]
    fn overflow_is_reported_not_wrapped() {
        assert_eq!(Money(i64::MAX).checked_add(Money(1)), None);
        assert_eq!(Money(i64::MAX / 2).checked_mul(3), None);
    }

    #[test]
    fn ratio_rounds_down() {
        assert_eq!(Money(999).ratio_floor(1, 100), Some(Money(9)));
        assert_eq!(Money(10).ratio_floor(1, 0), None);
    }

    #[test]
    fn percent_is_between_one_and_hundred() {
        assert!(Percent::new(0).is_err());
        assert!(Percent::new(101).is_err());
        assert_eq!(Percent::new(15).map(|p| p.of(Money(1_999))), Ok(Money(299)));
    }
}
