//! Builders and mocks shared by the use-case tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use time::OffsetDateTime;
use time::macros::datetime;

use crate::model::*;
use crate::ports::*;

use super::Ports;

pub const USER: UserId = UserId::new(1);
pub const OTHER_USER: UserId = UserId::new(2);

pub fn now() -> OffsetDateTime {
    datetime!(2026-11-28 12:00 UTC)
}

pub fn won(n: i64) -> Money {
    Money::new(n).unwrap()
}

pub fn qty(n: i64) -> Quantity {
    Quantity::new(n).unwrap()
}

pub fn product(id: i64, price: i64, stock: u32, active: bool) -> Product {
    Product {
        id: ProductId::new(id),
        name: format!("product {id}"),
        thumbnail_url: None,
        short_description: None,
        price: won(price),
        selling_price: won(price),
        stock,
        status: if active {
            ProductStatus::Active
        } else {
            ProductStatus::Inactive
        },
    }
}

pub fn order_from(new: NewOrder, id: i64) -> Order {
    Order {
        id: OrderId::new(id),
        key: new.key,
        user_id: new.user_id,
        name: new.name,
        status: OrderStatus::Created,
        items: new
            .items
            .into_iter()
            .map(|i| OrderItem {
                product_id: i.product_id,
                product_name: i.product_name,
                thumbnail_url: i.thumbnail_url,
                unit_price: i.unit_price,
                quantity: i.quantity,
                line_total: i.line_total,
                discount: Money::ZERO,
            })
            .collect(),
        amounts: OrderAmounts {
            items_total: new.items_total,
            shipping_fee: new.shipping_fee,
            ..OrderAmounts::default()
        },
        shipping_address: None,
        source_cart_item_ids: new.source_cart_item_ids,
        created_at: new.created_at,
        expires_at: new.expires_at,
        paid_at: None,
        canceled_at: None,
    }
}

/// A CREATED order of `USER` with lines of (product id, unit price, quantity), expiring in 30 min.
pub fn created_order(lines: &[(i64, i64, i64)]) -> Order {
    let items: Vec<NewOrderItem> = lines
        .iter()
        .map(|&(p, price, q)| NewOrderItem {
            product_id: ProductId::new(p),
            product_name: format!("product {p}"),
            thumbnail_url: None,
            unit_price: won(price),
            quantity: qty(q),
            line_total: won(price * q),
        })
        .collect();
    let items_total = Money::checked_sum(items.iter().map(|i| i.line_total)).unwrap();
    order_from(
        NewOrder {
            key: OrderKey::generate(now()),
            user_id: USER,
            name: order_display_name("product", items.len()),
            items,
            items_total,
            shipping_fee: ShippingPolicy::default().fee_for(items_total),
            source_cart_item_ids: vec![CartItemId::new(31)],
            created_at: now(),
            expires_at: now() + time::Duration::minutes(30),
        },
        100,
    )
}

pub fn owned_coupon(id: i64, kind: CouponKind, products: Vec<i64>) -> OwnedCoupon {
    OwnedCoupon {
        id: OwnedCouponId::new(id),
        user_id: USER,
        coupon: Coupon {
            id: CouponId::new(id + 1000),
            name: format!("coupon {id}"),
            kind,
            min_order_amount: Money::ZERO,
            valid_until: now() + time::Duration::days(7),
            product_ids: products.into_iter().map(ProductId::new).collect(),
            issue_limit: None,
            issued_count: 1,
        },
        status: OwnedCouponStatus::Issued,
        used_order_id: None,
    }
}

pub fn payment_for(order: &Order, status: PaymentStatus, amount: i64) -> Payment {
    Payment {
        id: PaymentId::new(500),
        order_id: order.id,
        status,
        origin_amount: order.amounts.items_total,
        owned_coupon_id: None,
        coupon_discount: Money::ZERO,
        used_point: Money::ZERO,
        shipping_fee: order.amounts.shipping_fee,
        amount: won(amount),
        payment_key: (status != PaymentStatus::Ready).then(|| PaymentKey::new("pk_1").unwrap()),
        method: None,
        approved_at: None,
        failure: None,
        cancel_amount: None,
        revoked_point: Money::ZERO,
        created_at: now(),
        updated_at: now(),
    }
}

/// One mock per port; `ports()` moves them into a [`Ports`] (so set expectations first).
pub struct Mocks {
    pub products: MockProductRepository,
    pub carts: MockCartRepository,
    pub orders: MockOrderRepository,
    pub payments: MockPaymentRepository,
    pub coupons: MockCouponRepository,
    pub points: MockPointRepository,
    pub idempotency: MockIdempotencyStore,
    pub outbox: MockOutboxRepository,
    pub publisher: MockEventPublisher,
    pub gateway: MockPaymentGateway,
    pub clock: MockClock,
}

impl Mocks {
    pub fn new() -> Self {
        let mut clock = MockClock::new();
        clock.expect_now().returning(now);
        Self {
            products: MockProductRepository::new(),
            carts: MockCartRepository::new(),
            orders: MockOrderRepository::new(),
            payments: MockPaymentRepository::new(),
            coupons: MockCouponRepository::new(),
            points: MockPointRepository::new(),
            idempotency: MockIdempotencyStore::new(),
            outbox: MockOutboxRepository::new(),
            publisher: MockEventPublisher::new(),
            gateway: MockPaymentGateway::new(),
            clock,
        }
    }

    pub fn ports(self) -> Ports {
        Ports {
            products: Arc::new(self.products),
            carts: Arc::new(self.carts),
            orders: Arc::new(self.orders),
            payments: Arc::new(self.payments),
            coupons: Arc::new(self.coupons),
            points: Arc::new(self.points),
            idempotency: Arc::new(self.idempotency),
            outbox: Arc::new(self.outbox),
            publisher: Arc::new(self.publisher),
            gateway: Arc::new(self.gateway),
            clock: Arc::new(self.clock),
        }
    }
}
