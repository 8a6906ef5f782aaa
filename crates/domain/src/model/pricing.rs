//! Pricing in one place: from an order's lines, a coupon choice and points to the amount charged.

use super::{Coupon, Money, ProductId, ShippingPolicy};

/// One order line as pricing sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PricedLine {
    pub product_id: ProductId,
    pub line_total: Money,
}

/// Everything the buyer is charged, and how the coupon discount splits over the lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pricing {
    pub items_total: Money,
    /// The lines the coupon applies to, added up (zero without a coupon).
    pub eligible_total: Money,
    pub coupon_discount: Money,
    /// Each line's share of the coupon discount, in line order; they add up to `coupon_discount`.
    pub line_discounts: Vec<Money>,
    pub shipping_fee: Money,
    /// items − coupon + shipping: what points may pay for.
    pub payable: Money,
    pub used_point: Money,
    /// What the gateway charges: payable − points. Never negative.
    pub amount: Money,
}

/// Why an order cannot be priced with this coupon and these points.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PricingError {
    #[error("the coupon applies to none of this order's products")]
    NoEligibleItems,
    #[error("the coupon needs its products to add up to at least {minimum}")]
    BelowMinimum { minimum: Money },
    #[error("only {balance} points are available")]
    InsufficientPoints { balance: Money },
    #[error("at most {payable} points can be used on this order")]
    PointsExceedPayable { payable: Money },
    #[error("the order's amounts overflow")]
    Overflow,
}

/// What the coupon would take off these lines, or why it cannot be used. Used both for pricing
/// and for listing usable coupons on the checkout page.
pub fn coupon_discount(lines: &[PricedLine], coupon: &Coupon) -> Result<Money, PricingError> {
    let eligible = eligible_total(lines, coupon)?;
    if eligible.is_zero() {
        return Err(PricingError::NoEligibleItems);
    }
    if eligible < coupon.min_order_amount {
        return Err(PricingError::BelowMinimum {
            minimum: coupon.min_order_amount,
        });
    }
    Ok(coupon.discount_on(eligible))
}

fn eligible_total(lines: &[PricedLine], coupon: &Coupon) -> Result<Money, PricingError> {
    Money::checked_sum(
        lines
            .iter()
            .filter(|l| coupon.applies_to(l.product_id))
            .map(|l| l.line_total),
    )
    .ok_or(PricingError::Overflow)
}

/// Prices an order.
///
/// `point_balance` is what the user holds now; `use_point` what they want to spend.
pub fn price_order(
    lines: &[PricedLine],
    coupon: Option<&Coupon>,
    use_point: Money,
    point_balance: Money,
    shipping: ShippingPolicy,
) -> Result<Pricing, PricingError> {
    let items_total =
        Money::checked_sum(lines.iter().map(|l| l.line_total)).ok_or(PricingError::Overflow)?;
    let (eligible_total, coupon_discount, line_discounts) = match coupon {
        Some(coupon) => {
            let discount = coupon_discount(lines, coupon)?;
            let eligible = eligible_total(lines, coupon)?;
            let weights: Vec<Money> = lines
                .iter()
                .map(|l| {
                    if coupon.applies_to(l.product_id) {
                        l.line_total
                    } else {
                        Money::ZERO
                    }
                })
                .collect();
            (
                eligible,
                discount,
                allocate_largest_remainder(discount, &weights),
            )
        }
        None => (Money::ZERO, Money::ZERO, vec![Money::ZERO; lines.len()]),
    };
    let after_coupon = items_total
        .checked_sub(coupon_discount)
        .ok_or(PricingError::Overflow)?;
    let shipping_fee = shipping.fee_for(after_coupon);
    let payable = after_coupon
        .checked_add(shipping_fee)
        .ok_or(PricingError::Overflow)?;
    if use_point > point_balance {
        return Err(PricingError::InsufficientPoints {
            balance: point_balance,
        });
    }
    let amount = payable
        .checked_sub(use_point)
        .ok_or(PricingError::PointsExceedPayable { payable })?;
    Ok(Pricing {
        items_total,
        eligible_total,
        coupon_discount,
        line_discounts,
        shipping_fee,
        payable,
        used_point: use_point,
        amount,
    })
}

/// Splits `total` over `weights` in proportion, rounding down, then gives the won left over one
/// at a time to the largest remainders (ties to the earlier line). The shares always add up to
/// `total` exactly, and a zero weight gets nothing, provided `total` ≤ the sum of the weights.
pub fn allocate_largest_remainder(total: Money, weights: &[Money]) -> Vec<Money> {
    let weight_sum: i128 = weights.iter().map(|w| i128::from(w.won())).sum();
    if weight_sum == 0 {
        return vec![Money::ZERO; weights.len()];
    }
    let total_won = i128::from(total.won());
    let mut shares: Vec<i128> = Vec::with_capacity(weights.len());
    let mut remainders: Vec<(i128, usize)> = Vec::with_capacity(weights.len());
    for (index, weight) in weights.iter().enumerate() {
        let exact = total_won * i128::from(weight.won());
        shares.push(exact / weight_sum);
        remainders.push((exact % weight_sum, index));
    }
    let mut left = total_won - shares.iter().sum::<i128>();
    // Largest remainder first; the earlier line wins a tie.
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (remainder, index) in remainders {
        if left == 0 {
            break;
        }
        if remainder > 0 {
            shares[index] += 1;
            left -= 1;
        }
    }
    shares
        .into_iter()
        .map(|won| {
            i64::try_from(won)
                .ok()
                .and_then(|w| Money::new(w).ok())
                .unwrap_or(Money::ZERO)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CouponId, CouponKind, Percent};
    use proptest::prelude::*;
    use time::macros::datetime;

    fn won(n: i64) -> Money {
        Money::new(n).unwrap()
    }

    fn line(product: i64, total: i64) -> PricedLine {
        PricedLine {
            product_id: ProductId::new(product),
            line_total: won(total),
        }
    }

    fn coupon(kind: CouponKind, products: Vec<i64>, min: i64) -> Coupon {
        Coupon {
            id: CouponId::new(1),
            name: "c".into(),
            kind,
            min_order_amount: won(min),
            valid_until: datetime!(2030-01-01 0:00 UTC),
            product_ids: products.into_iter().map(ProductId::new).collect(),
            issue_limit: None,
            issued_count: 0,
        }
    }

    #[test]
    fn no_coupon_no_points() {
        let p = price_order(
            &[line(1, 20_000), line(2, 10_000)],
            None,
            Money::ZERO,
            Money::ZERO,
            ShippingPolicy::default(),
        )
        .unwrap();
        assert_eq!(p.items_total, won(30_000));
        assert_eq!(p.shipping_fee, won(3_000));
        assert_eq!(p.amount, won(33_000));
        assert_eq!(p.line_discounts, vec![Money::ZERO, Money::ZERO]);
    }

    #[test]
    fn targeted_coupon_discounts_only_its_lines() {
        let c = coupon(
            CouponKind::Rate {
                percent: Percent::new(10).unwrap(),
                max_discount: None,
            },
            vec![2],
            0,
        );
        let p = price_order(
            &[line(1, 40_000), line(2, 15_000)],
            Some(&c),
            won(500),
            won(1_000),
            ShippingPolicy::default(),
        )
        .unwrap();
        assert_eq!(p.eligible_total, won(15_000));
        assert_eq!(p.coupon_discount, won(1_500));
        assert_eq!(p.line_discounts, vec![Money::ZERO, won(1_500)]);
        // 55,000 − 1,500 = 53,500 ≥ 50,000: free shipping.
        assert_eq!(p.shipping_fee, Money::ZERO);
        assert_eq!(p.amount, won(53_000));
    }

    #[test]
    fn coupon_after_discount_can_bring_back_the_shipping_fee() {
        let c = coupon(CouponKind::Fixed { amount: won(5_000) }, vec![], 0);
        let p = price_order(
            &[line(1, 52_000)],
            Some(&c),
            Money::ZERO,
            Money::ZERO,
            ShippingPolicy::default(),
        )
        .unwrap();
        assert_eq!(p.shipping_fee, won(3_000));
        assert_eq!(p.amount, won(50_000));
    }

    #[test]
    fn coupon_rules() {
        let targeted = coupon(CouponKind::Fixed { amount: won(1_000) }, vec![9], 0);
        assert_eq!(
            coupon_discount(&[line(1, 5_000)], &targeted),
            Err(PricingError::NoEligibleItems)
        );
        let minimum = coupon(CouponKind::Fixed { amount: won(1_000) }, vec![], 10_000);
        assert_eq!(
            coupon_discount(&[line(1, 9_999)], &minimum),
            Err(PricingError::BelowMinimum {
                minimum: won(10_000)
            })
        );
        assert_eq!(
            coupon_discount(&[line(1, 10_000)], &minimum),
            Ok(won(1_000))
        );
    }

    #[test]
    fn points_are_limited_by_balance_and_payable() {
        let lines = [line(1, 10_000)];
        let policy = ShippingPolicy::default();
        assert_eq!(
            price_order(&lines, None, won(2_000), won(1_000), policy),
            Err(PricingError::InsufficientPoints {
                balance: won(1_000)
            })
        );
        assert_eq!(
            price_order(&lines, None, won(13_001), won(20_000), policy),
            Err(PricingError::PointsExceedPayable {
                payable: won(13_000)
            })
        );
        assert_eq!(
            price_order(&lines, None, won(13_000), won(20_000), policy).map(|p| p.amount),
            Ok(Money::ZERO)
        );
    }

    #[test]
    fn largest_remainder_gives_leftovers_to_the_largest_fractions() {
        // 100 over 1:1:1 → 33.33 each; one leftover goes to the first line.
        assert_eq!(
            allocate_largest_remainder(won(100), &[won(1), won(1), won(1)]),
            vec![won(34), won(33), won(33)]
        );
        // 10 over 3:7 → 3, 7 exactly.
        assert_eq!(
            allocate_largest_remainder(won(10), &[won(3), won(7)]),
            vec![won(3), won(7)]
        );
        // 5 over 1:2 (zero weight line in between) → 1.67, 3.33 → 2, 3.
        assert_eq!(
            allocate_largest_remainder(won(5), &[won(1), Money::ZERO, won(2)]),
            vec![won(2), Money::ZERO, won(3)]
        );
    }

    fn arb_lines() -> impl Strategy<Value = Vec<PricedLine>> {
        prop::collection::vec((1i64..6, 1i64..=99_999_999_999), 1..12)
            .prop_map(|v| v.into_iter().map(|(p, t)| line(p, t)).collect())
    }

    fn arb_coupon() -> impl Strategy<Value = Coupon> {
        let kind = prop_oneof![
            (1i64..=10_000_000_000).prop_map(|a| CouponKind::Fixed { amount: won(a) }),
            (1i64..=100, prop::option::of(1i64..=10_000_000_000)).prop_map(|(p, cap)| {
                CouponKind::Rate {
                    percent: Percent::new(p).unwrap(),
                    max_discount: cap.map(won),
                }
            }),
        ];
        (kind, prop::collection::vec(1i64..6, 0..3), 0i64..100_000)
            .prop_map(|(kind, products, min)| coupon(kind, products, min))
    }

    proptest! {
        #[test]
        fn line_shares_sum_to_the_discount(weights in prop::collection::vec(0i64..=10_000_000_000, 1..20), pick in 0u64..=u64::MAX) {
            let weights: Vec<Money> = weights.into_iter().map(won).collect();
            let sum: i64 = weights.iter().map(|w| w.won()).sum();
            let total = won(i64::try_from(pick % (u64::try_from(sum).unwrap() + 1)).unwrap());
            let shares = allocate_largest_remainder(total, &weights);
            prop_assert_eq!(shares.len(), weights.len());
            if sum > 0 {
                prop_assert_eq!(shares.iter().map(|s| s.won()).sum::<i64>(), total.won());
            }
            for (share, weight) in shares.iter().zip(&weights) {
                prop_assert!(share <= weight);
                if weight.is_zero() { prop_assert!(share.is_zero()); }
            }
        }

        #[test]
        fn pricing_never_charges_negative_and_never_overflows(
            lines in arb_lines(),
            coupon in prop::option::of(arb_coupon()),
            use_point in 0i64..=2_000_000_000_000,
            balance in 0i64..=2_000_000_000_000,
        ) {
            let result = price_order(&lines, coupon.as_ref(), won(use_point), won(balance), ShippingPolicy::default());
            match result {
                Ok(p) => {
                    prop_assert!(p.amount.won() >= 0);
                    prop_assert!(p.coupon_discount <= p.items_total);
                    prop_assert_eq!(p.line_discounts.iter().map(|d| d.won()).sum::<i64>(), p.coupon_discount.won());
                    for (d, l) in p.line_discounts.iter().zip(&lines) {
                        prop_assert!(*d <= l.line_total);
                    }
                    prop_assert_eq!(
                        p.items_total.won() - p.coupon_discount.won() + p.shipping_fee.won() - p.used_point.won(),
                        p.amount.won()
                    );
                }
                Err(PricingError::Overflow) => prop_assert!(false, "amounts within limits must not overflow"),
                Err(_) => {}
            }
        }
    }
}
