//! Use cases: the application services that run each flow by calling the ports.
//!
//! Each service owns the ports it needs (as `Arc<dyn Port>`) and returns one error enum per
//! operation: a variant per business failure, plus `Unknown(anyhow::Error)` for infrastructure.

mod admin;
mod carts;
mod catalog;
mod coupons;
mod maintenance;
mod ordering;
mod payments;
mod points;

#[cfg(test)]
mod test_support;

use std::sync::Arc;

use time::Duration;

use crate::model::{EarningPolicy, Money, ShippingPolicy};
use crate::ports::{
    CartRepository, Clock, CouponRepository, EventPublisher, IdempotencyStore, OrderRepository,
    OutboxRepository, PaymentGateway, PaymentRepository, PointRepository, ProductRepository,
};

pub use admin::{
    Admin, CreateCouponError, CreateProductError, GrantPointsError, UpdateProductUseCaseError,
};
pub use carts::{CartError, Carts};
pub use catalog::{Catalog, CatalogError};
pub use coupons::{CouponError as CouponUseCaseError, Coupons};
pub use maintenance::{IDEMPOTENCY_TTL, Maintenance, ReconcileReport};
pub use ordering::{
    Checkout, CheckoutError, OrderDetail, OrderQueryError, Ordering, PlaceCartOrderError,
    PlaceOrderError, UsableCoupon,
};
pub use payments::{
    CancelOrderError, CancelOutcomeView, ConfirmOutcome, ConfirmPaymentError, PaymentFailureError,
    Payments, RequestPayment, RequestPaymentError,
};
pub use points::{PointError, Points, PointsView};

/// Every port, as the app wires them. Services pick what they need.
#[derive(Clone)]
pub struct Ports {
    pub products: Arc<dyn ProductRepository>,
    pub carts: Arc<dyn CartRepository>,
    pub orders: Arc<dyn OrderRepository>,
    pub payments: Arc<dyn PaymentRepository>,
    pub coupons: Arc<dyn CouponRepository>,
    pub points: Arc<dyn PointRepository>,
    pub idempotency: Arc<dyn IdempotencyStore>,
    pub outbox: Arc<dyn OutboxRepository>,
    pub publisher: Arc<dyn EventPublisher>,
    pub gateway: Arc<dyn PaymentGateway>,
    pub clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Ports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Ports { .. }")
    }
}

/// The shop's business settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policies {
    /// How long an unpaid order stays payable.
    pub order_ttl: Duration,
    pub shipping: ShippingPolicy,
    pub earning: EarningPolicy,
}

impl Default for Policies {
    /// 30 minutes to pay; 3,000 won shipping, free from 50,000 won; 1% earned.
    fn default() -> Self {
        Self {
            order_ttl: Duration::minutes(30),
            shipping: ShippingPolicy::default(),
            earning: EarningPolicy::default(),
        }
    }
}

/// All the use cases, built from one set of ports and policies.
#[derive(Debug, Clone)]
pub struct Services {
    pub catalog: Catalog,
    pub carts: Carts,
    pub ordering: Ordering,
    pub payments: Payments,
    pub coupons: Coupons,
    pub points: Points,
    pub admin: Admin,
    pub maintenance: Maintenance,
}

impl Services {
    pub fn new(ports: &Ports, policies: Policies) -> Self {
        Self {
            catalog: Catalog::new(ports),
            carts: Carts::new(ports),
            ordering: Ordering::new(ports, policies),
            payments: Payments::new(ports, policies),
            coupons: Coupons::new(ports),
            points: Points::new(ports),
            admin: Admin::new(ports),
            maintenance: Maintenance::new(ports, policies),
        }
    }
}

/// What the gateway refunds when a paid order is canceled: the charged `amount`, less the earned
/// points that could not be taken back because the buyer already spent them
/// (`earned − revoked`). Never below zero.
pub fn refund_after_revoke(amount: Money, earned: Money, revoked: Money) -> Money {
    amount.saturating_sub(earned.saturating_sub(revoked))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unrecoverable_earned_points_are_deducted_from_the_refund() {
        let won = |n| Money::new(n).unwrap_or_default();
        assert_eq!(
            refund_after_revoke(won(10_000), won(100), won(100)),
            won(10_000)
        );
        assert_eq!(
            refund_after_revoke(won(10_000), won(100), won(30)),
            won(9_930)
        );
        assert_eq!(
            refund_after_revoke(won(50), won(100), Money::ZERO),
            Money::ZERO
        );
    }
}
