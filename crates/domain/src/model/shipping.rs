//! The shipping fee: one shipment per order.

use super::Money;

/// A flat fee, waived when the items total after the coupon reaches a threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShippingPolicy {
    pub fee: Money,
    pub free_from: Money,
}

impl ShippingPolicy {
    /// The fee for an order whose items cost `items_after_coupon`.
    pub fn fee_for(self, items_after_coupon: Money) -> Money {
        if items_after_coupon >= self.free_from {
            Money::ZERO
        } else {
            self.fee
        }
    }
}

impl Default for ShippingPolicy {
    /// 3,000 won, free from 50,000 won.
    fn default() -> Self {
        Self {
            fee: Money::new(3_000).unwrap_or_default(),
            free_from: Money::new(50_000).unwrap_or_default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_from_the_threshold() {
        let p = ShippingPolicy::default();
        assert_eq!(
            p.fee_for(Money::new(49_999).unwrap()),
            Money::new(3_000).unwrap()
        );
        assert_eq!(p.fee_for(Money::new(50_000).unwrap()), Money::ZERO);
    }
}
