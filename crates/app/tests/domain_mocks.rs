//! Another crate using the domain's mocks through its `mocks` feature: the contract other
//! teams rely on when they reuse `domain` alone.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use domain::model::*;
use domain::ports::*;
use domain::usecases::{ConfirmPaymentError, Policies, Ports, Services};
use time::OffsetDateTime;

fn order(now: OffsetDateTime) -> Order {
    Order {
        id: OrderId::new(1),
        key: OrderKey::generate(now),
        user_id: UserId::new(5),
        name: "양말".into(),
        status: OrderStatus::Created,
        items: vec![OrderItem {
            product_id: ProductId::new(3),
            product_name: "양말".into(),
            thumbnail_url: None,
            unit_price: Money::new(5_000).unwrap(),
            quantity: Quantity::new(2).unwrap(),
            line_total: Money::new(10_000).unwrap(),
            discount: Money::ZERO,
        }],
        amounts: OrderAmounts {
            items_total: Money::new(10_000).unwrap(),
            shipping_fee: Money::new(3_000).unwrap(),
            ..OrderAmounts::default()
        },
        shipping_address: None,
        source_cart_item_ids: vec![],
        created_at: now,
        expires_at: now + time::Duration::minutes(30),
        paid_at: None,
        canceled_at: None,
    }
}

fn payment(status: PaymentStatus, now: OffsetDateTime) -> Payment {
    Payment {
        id: PaymentId::new(9),
        order_id: OrderId::new(1),
        status,
        origin_amount: Money::new(10_000).unwrap(),
        owned_coupon_id: None,
        coupon_discount: Money::ZERO,
        used_point: Money::new(1_000).unwrap(),
        shipping_fee: Money::new(3_000).unwrap(),
        amount: Money::new(12_000).unwrap(),
        payment_key: PaymentKey::new("decline-card").ok(),
        method: None,
        approved_at: None,
        failure: None,
        cancel_amount: None,
        revoked_point: Money::ZERO,
        created_at: now,
        updated_at: now,
    }
}

#[tokio::test]
async fn a_decline_releases_the_reservation_through_mocked_ports() {
    let now = OffsetDateTime::now_utc();
    let the_order = order(now);
    let key = the_order.key;

    let mut orders = MockOrderRepository::new();
    let found = the_order.clone();
    orders
        .expect_find_by_key()
        .returning(move |_| Ok(Some(found.clone())));
    let mut payments = MockPaymentRepository::new();
    payments
        .expect_latest_for_order()
        .returning(move |_| Ok(Some(payment(PaymentStatus::Ready, now))));
    payments
        .expect_reserve()
        .times(1)
        .returning(move |_| Ok(payment(PaymentStatus::Confirming, now)));
    payments
        .expect_release()
        .withf(|release| {
            release.used_point == Money::new(1_000).unwrap() && release.stock.len() == 1
        })
        .times(1)
        .returning(|_| Ok(()));
    payments.expect_approve().never();
    let mut gateway = MockPaymentGateway::new();
    gateway.expect_confirm().times(1).returning(|_| {
        GatewayOutcome::Declined(PaymentFailure {
            code: "REJECT_CARD_PAYMENT".into(),
            message: "한도초과".into(),
        })
    });
    let mut clock = MockClock::new();
    clock.expect_now().returning(move || now);

    let ports = Ports {
        products: Arc::new(MockProductRepository::new()),
        carts: Arc::new(MockCartRepository::new()),
        orders: Arc::new(orders),
        payments: Arc::new(payments),
        coupons: Arc::new(MockCouponRepository::new()),
        points: Arc::new(MockPointRepository::new()),
        idempotency: Arc::new(MockIdempotencyStore::new()),
        outbox: Arc::new(MockOutboxRepository::new()),
        publisher: Arc::new(MockEventPublisher::new()),
        gateway: Arc::new(gateway),
        clock: Arc::new(clock),
    };
    let services = Services::new(&ports, Policies::default());
    let result = services
        .payments
        .confirm(
            UserId::new(5),
            key,
            PaymentKey::new("decline-card").unwrap(),
            Money::new(12_000).unwrap(),
        )
        .await;
    assert!(
        matches!(result, Err(ConfirmPaymentError::Declined(failure)) if failure.code == "REJECT_CARD_PAYMENT")
    );
}
