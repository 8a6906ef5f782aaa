//! Downloadable coupons and the coupons a user owns.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{CouponId, Money, OrderId, OwnedCouponId, Percent, ProductId, UserId};

/// How a coupon discounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CouponKind {
    /// A fixed number of won.
    Fixed { amount: Money },
    /// A percentage of the eligible lines, optionally capped.
    Rate {
        percent: Percent,
        max_discount: Option<Money>,
    },
}

impl CouponKind {
    pub const fn name(self) -> &'static str {
        match self {
            CouponKind::Fixed { .. } => "FIXED",
            CouponKind::Rate { .. } => "RATE",
        }
    }
}

/// A coupon definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coupon {
    pub id: CouponId,
    pub name: String,
    pub kind: CouponKind,
    /// The eligible lines must add up to at least this much.
    pub min_order_amount: Money,
    pub valid_until: OffsetDateTime,
    /// The products it applies to; empty means every product.
    pub product_ids: Vec<ProductId>,
    /// How many may be downloaded in total; `None` is unlimited.
    pub issue_limit: Option<u32>,
    pub issued_count: u32,
}

impl Coupon {
    pub fn applies_to(&self, product: ProductId) -> bool {
        self.product_ids.is_empty() || self.product_ids.contains(&product)
    }

    pub fn is_valid_at(&self, now: OffsetDateTime) -> bool {
        now <= self.valid_until
    }

    pub fn is_exhausted(&self) -> bool {
        self.issue_limit
            .is_some_and(|limit| self.issued_count >= limit)
    }

    /// The discount on an eligible total, before the cap at that total. Never more than
    /// `eligible_total`.
    pub fn discount_on(&self, eligible_total: Money) -> Money {
        let raw = match self.kind {
            CouponKind::Fixed { amount } => amount,
            CouponKind::Rate {
                percent,
                max_discount,
            } => {
                let by_rate = percent.of(eligible_total);
                max_discount.map_or(by_rate, |cap| by_rate.min(cap))
            }
        };
        raw.min(eligible_total)
    }
}

/// Why a coupon definition is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CouponError {
    #[error("name must be 1 to 100 characters, without control characters")]
    Name,
    #[error("a FIXED coupon needs an amount greater than zero")]
    FixedAmount,
    #[error("issueLimit must be at least 1")]
    IssueLimit,
    #[error("validUntil must be in the future")]
    AlreadyExpired,
}

/// A coupon to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCoupon {
    pub name: String,
    pub kind: CouponKind,
    pub min_order_amount: Money,
    pub valid_until: OffsetDateTime,
    pub product_ids: Vec<ProductId>,
    pub issue_limit: Option<u32>,
}

impl NewCoupon {
    pub fn new(
        name: &str,
        kind: CouponKind,
        min_order_amount: Money,
        valid_until: OffsetDateTime,
        mut product_ids: Vec<ProductId>,
        issue_limit: Option<u32>,
        now: OffsetDateTime,
    ) -> Result<Self, CouponError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 || super::has_control_chars(name) {
            return Err(CouponError::Name);
        }
        if let CouponKind::Fixed { amount } = kind
            && amount.is_zero()
        {
            return Err(CouponError::FixedAmount);
        }
        if issue_limit == Some(0) {
            return Err(CouponError::IssueLimit);
        }
        if valid_until <= now {
            return Err(CouponError::AlreadyExpired);
        }
        product_ids.sort();
        product_ids.dedup();
        Ok(Self {
            name: name.to_owned(),
            kind,
            min_order_amount,
            valid_until,
            product_ids,
            issue_limit,
        })
    }
}

/// Whether a user's coupon has been spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OwnedCouponStatus {
    Issued,
    Used,
}

impl OwnedCouponStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            OwnedCouponStatus::Issued => "ISSUED",
            OwnedCouponStatus::Used => "USED",
        }
    }
}

/// A coupon downloaded by a user. At most one per user and coupon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedCoupon {
    pub id: OwnedCouponId,
    pub user_id: UserId,
    pub coupon: Coupon,
    pub status: OwnedCouponStatus,
    /// The order it was used on, while USED.
    pub used_order_id: Option<OrderId>,
}

impl OwnedCoupon {
    pub fn is_usable_at(&self, now: OffsetDateTime) -> bool {
        self.status == OwnedCouponStatus::Issued && self.coupon.is_valid_at(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn won(n: i64) -> Money {
        Money::new(n).unwrap()
    }

    fn coupon(kind: CouponKind) -> Coupon {
        Coupon {
            id: CouponId::new(1),
            name: "c".into(),
            kind,
            min_order_amount: Money::ZERO,
            valid_until: datetime!(2030-01-01 0:00 UTC),
            product_ids: vec![],
            issue_limit: Some(2),
            issued_count: 2,
        }
    }

    #[test]
    fn fixed_discount_is_capped_at_the_eligible_total() {
        let c = coupon(CouponKind::Fixed { amount: won(5_000) });
        assert_eq!(c.discount_on(won(20_000)), won(5_000));
        assert_eq!(c.discount_on(won(3_000)), won(3_000));
    }

    #[test]
    fn rate_discount_rounds_down_and_respects_its_cap() {
        let c = coupon(CouponKind::Rate {
            percent: Percent::new(10).unwrap(),
            max_discount: Some(won(1_000)),
        });
        assert_eq!(c.discount_on(won(9_999)), won(999));
        assert_eq!(c.discount_on(won(50_000)), won(1_000));
        assert!(c.is_exhausted());
    }

    #[test]
    fn new_coupon_is_validated() {
        let now = datetime!(2026-01-01 0:00 UTC);
        let later = datetime!(2026-02-01 0:00 UTC);
        let fixed0 = CouponKind::Fixed {
            amount: Money::ZERO,
        };
        assert_eq!(
            NewCoupon::new("a", fixed0, Money::ZERO, later, vec![], None, now),
            Err(CouponError::FixedAmount)
        );
        let fixed = CouponKind::Fixed { amount: won(1) };
        assert_eq!(
            NewCoupon::new("a", fixed, Money::ZERO, now, vec![], None, now),
            Err(CouponError::AlreadyExpired)
        );
        assert_eq!(
            NewCoupon::new("a", fixed, Money::ZERO, later, vec![], Some(0), now),
            Err(CouponError::IssueLimit)
        );
        let ok = NewCoupon::new(
            "a",
            fixed,
            Money::ZERO,
            later,
            vec![ProductId::new(2), ProductId::new(2)],
            None,
            now,
        )
        .unwrap();
        assert_eq!(ok.product_ids, vec![ProductId::new(2)]);
    }
}
