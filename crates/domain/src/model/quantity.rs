//! How many units of a product a line holds.

use serde::{Deserialize, Serialize};

/// Between 1 and 999 units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "u32")]
pub struct Quantity(u16);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a quantity must be between 1 and {max} (got {0})", max = Quantity::MAX)]
pub struct QuantityError(pub i64);

impl Quantity {
    pub const MAX: u16 = 999;

    pub fn new(units: i64) -> Result<Self, QuantityError> {
        u16::try_from(units)
            .ok()
            .filter(|u| (1..=Self::MAX).contains(u))
            .map(Quantity)
            .ok_or(QuantityError(units))
    }

    pub const fn get(self) -> u32 {
        self.0 as u32
    }

    /// Adds two quantities, failing past the limit (adding to an existing cart line).
    pub fn checked_add(self, other: Quantity) -> Result<Quantity, QuantityError> {
        Quantity::new(i64::from(self.0) + i64::from(other.0))
    }
}

impl TryFrom<i64> for Quantity {
    type Error = QuantityError;
    fn try_from(value: i64) -> Result<Self, Self::Error> {
        Quantity::new(value)
    }
}

impl From<Quantity> for u32 {
    fn from(q: Quantity) -> u32 {
        q.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantity_bounds() {
        assert!(Quantity::new(0).is_err());
        assert!(Quantity::new(1000).is_err());
        assert!(Quantity::new(-3).is_err());
        assert_eq!(Quantity::new(999).map(Quantity::get), Ok(999));
    }

    #[test]
    fn adding_past_the_limit_fails() {
        let a = Quantity::new(500).unwrap();
        assert!(a.checked_add(a).is_err());
        assert_eq!(
            a.checked_add(Quantity::new(499).unwrap())
                .map(Quantity::get),
            Ok(999)
        );
    }
}
