//! Mocks, fixtures and request helpers shared by the handler tests.
#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use actix_web::body::MessageBody;
use actix_web::dev::ServiceResponse;
use actix_web::http::header;
use actix_web::test;
use adapters_http::{AlwaysReady, HttpState, JwtKeys, Readiness};
use async_trait::async_trait;
use domain::model::*;
use domain::ports::*;
use domain::usecases::{Policies, Ports, Services};
use serde_json::Value;
use time::OffsetDateTime;
use time::macros::datetime;

pub const SECRET: &[u8] = b"handler-tests-secret-handler-tests-secret";
pub const BUYER: UserId = UserId::new(7);
pub const OTHER: UserId = UserId::new(8);
pub const ADMIN: UserId = UserId::new(1);
pub const ORDER_KEY: &str = "01JDZ8Q6W3V9K1T3M4X5Y6Z7A8";

pub fn now() -> OffsetDateTime {
    datetime!(2026-11-28 12:00 UTC)
}

pub fn won(n: i64) -> Money {
    Money::new(n).unwrap()
}

pub fn key() -> OrderKey {
    OrderKey::parse(ORDER_KEY).unwrap()
}

pub fn keys() -> JwtKeys {
    JwtKeys::new(SECRET)
}

pub fn token(user: UserId, admin: bool) -> String {
    keys()
        .issue_token(user, admin, time::Duration::minutes(10))
        .unwrap()
}

pub fn bearer(user: UserId) -> (header::HeaderName, String) {
    (
        header::AUTHORIZATION,
        format!("Bearer {}", token(user, false)),
    )
}

pub fn admin_bearer() -> (header::HeaderName, String) {
    (
        header::AUTHORIZATION,
        format!("Bearer {}", token(ADMIN, true)),
    )
}

/// A key's fingerprint and, once complete, its response.
type Record = (String, Option<StoredResponse>);

/// Idempotency records in memory, per user and key, behaving like the real store.
#[derive(Default)]
pub struct MemoryIdempotency {
    records: Mutex<HashMap<(UserId, String), Record>>,
    pub releases: Mutex<u32>,
    /// This many releases fail (as while the database is down) before they work again.
    pub failing_releases: Mutex<u32>,
}

#[async_trait]
impl IdempotencyStore for MemoryIdempotency {
    async fn claim(
        &self,
        user: UserId,
        key: IdempotencyKey,
        fingerprint: String,
        _now: OffsetDateTime,
        _expired_before: OffsetDateTime,
        _abandoned_before: OffsetDateTime,
    ) -> anyhow::Result<IdempotencyClaim> {
        let mut records = self.records.lock().unwrap();
        let id = (user, key.as_str().to_owned());
        Ok(match records.get(&id) {
            Some((stored, _)) if *stored != fingerprint => IdempotencyClaim::KeyReused,
            Some((_, Some(response))) => IdempotencyClaim::Replay(response.clone()),
            Some((_, None)) => IdempotencyClaim::InProgress,
            None => {
                records.insert(id, (fingerprint, None));
                IdempotencyClaim::Acquired
            }
        })
    }

    async fn complete(
        &self,
        user: UserId,
        key: IdempotencyKey,
        response: StoredResponse,
    ) -> anyhow::Result<()> {
        if let Some(record) = self
            .records
            .lock()
            .unwrap()
            .get_mut(&(user, key.as_str().to_owned()))
        {
            record.1 = Some(response);
        }
        Ok(())
    }

    async fn release(&self, user: UserId, key: IdempotencyKey) -> anyhow::Result<()> {
        *self.releases.lock().unwrap() += 1;
        {
            let mut failing = self.failing_releases.lock().unwrap();
            if *failing > 0 {
                *failing -= 1;
                anyhow::bail!("the database is down");
            }
        }
        self.records
            .lock()
            .unwrap()
            .remove(&(user, key.as_str().to_owned()));
        Ok(())
    }

    async fn purge(&self, _before: OffsetDateTime) -> anyhow::Result<u64> {
        Ok(0)
    }
}

impl MemoryIdempotency {
    /// Marks a key as claimed and unfinished, as if another request held it.
    pub fn hold(&self, user: UserId, key: &str, fingerprint: &str) {
        self.records
            .lock()
            .unwrap()
            .insert((user, key.to_owned()), (fingerprint.to_owned(), None));
    }
}

/// One mock per port; set expectations, then call `state()`.
pub struct Mocks {
    pub products: MockProductRepository,
    pub carts: MockCartRepository,
    pub orders: MockOrderRepository,
    pub payments: MockPaymentRepository,
    pub coupons: MockCouponRepository,
    pub points: MockPointRepository,
    pub gateway: MockPaymentGateway,
    pub idempotency: Arc<MemoryIdempotency>,
    pub readiness: Arc<dyn Readiness>,
}

impl Mocks {
    pub fn new() -> Self {
        Self {
            products: MockProductRepository::new(),
            carts: MockCartRepository::new(),
            orders: MockOrderRepository::new(),
            payments: MockPaymentRepository::new(),
            coupons: MockCouponRepository::new(),
            points: MockPointRepository::new(),
            gateway: MockPaymentGateway::new(),
            idempotency: Arc::new(MemoryIdempotency::default()),
            readiness: Arc::new(AlwaysReady),
        }
    }

    pub fn state(self) -> HttpState {
        let mut clock = MockClock::new();
        clock.expect_now().returning(now);
        let ports = Ports {
            products: Arc::new(self.products),
            carts: Arc::new(self.carts),
            orders: Arc::new(self.orders),
            payments: Arc::new(self.payments),
            coupons: Arc::new(self.coupons),
            points: Arc::new(self.points),
            idempotency: self.idempotency,
            outbox: Arc::new(MockOutboxRepository::new()),
            publisher: Arc::new(MockEventPublisher::new()),
            gateway: Arc::new(self.gateway),
            clock: Arc::new(clock),
        };
        let services = Services::new(&ports, Policies::default());
        HttpState::new(&ports, services, keys(), self.readiness)
    }
}

/// Builds the app from mocks: `let app = app!(mocks);`
#[macro_export]
macro_rules! app {
    ($mocks:expr) => {
        actix_web::test::init_service(adapters_http::app(actix_web::web::Data::new(
            $mocks.state(),
        )))
        .await
    };
}

/// The body as JSON.
pub async fn json<B: MessageBody>(response: ServiceResponse<B>) -> Value {
    let bytes = test::read_body(response).await;
    serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&bytes)))
}

/// Asserts a problem+json answer with this status and code; returns the problem.
pub async fn problem<B: MessageBody>(
    response: ServiceResponse<B>,
    status: u16,
    code: &str,
) -> Value {
    assert_eq!(response.status().as_u16(), status, "status");
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    assert!(response.headers().contains_key("x-request-id"));
    let body = json(response).await;
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status);
    for field in ["type", "title", "detail"] {
        assert!(body[field].is_string(), "{field} in {body}");
    }
    body
}

pub fn product(id: i64, price: i64, active: bool) -> Product {
    Product {
        id: ProductId::new(id),
        name: format!("상품 {id}"),
        thumbnail_url: Some(format!("https://img.example/{id}.png")),
        short_description: None,
        price: won(price),
        selling_price: won(price),
        stock: 10,
        status: if active {
            ProductStatus::Active
        } else {
            ProductStatus::Inactive
        },
    }
}

pub fn order_item(product: i64, price: i64, quantity: i64) -> OrderItem {
    OrderItem {
        product_id: ProductId::new(product),
        product_name: format!("상품 {product}"),
        thumbnail_url: None,
        unit_price: won(price),
        quantity: Quantity::new(quantity).unwrap(),
        line_total: won(price * quantity),
        discount: Money::ZERO,
    }
}

/// An order of `user`: 59,000 + 2 × 10,000 won, free shipping, expiring in 30 minutes.
pub fn order(user: UserId, status: OrderStatus) -> Order {
    Order {
        id: OrderId::new(100),
        key: key(),
        user_id: user,
        name: "상품 1 외 1건".into(),
        status,
        items: vec![order_item(1, 59_000, 1), order_item(2, 10_000, 2)],
        amounts: OrderAmounts {
            items_total: won(79_000),
            shipping_fee: Money::ZERO,
            paid_amount: if status == OrderStatus::Paid {
                won(79_000)
            } else {
                Money::ZERO
            },
            ..OrderAmounts::default()
        },
        shipping_address: None,
        source_cart_item_ids: vec![],
        created_at: now(),
        expires_at: now() + time::Duration::minutes(30),
        paid_at: (status == OrderStatus::Paid).then(now),
        canceled_at: (status == OrderStatus::Canceled).then(now),
    }
}

pub fn payment(status: PaymentStatus, amount: i64) -> Payment {
    Payment {
        id: PaymentId::new(500),
        order_id: OrderId::new(100),
        status,
        origin_amount: won(79_000),
        owned_coupon_id: None,
        coupon_discount: Money::ZERO,
        used_point: Money::ZERO,
        shipping_fee: Money::ZERO,
        amount: won(amount),
        payment_key: (status != PaymentStatus::Ready).then(|| PaymentKey::new("pk_1").unwrap()),
        method: (status == PaymentStatus::Approved).then(|| "카드".to_owned()),
        approved_at: (status == PaymentStatus::Approved).then(now),
        failure: None,
        cancel_amount: None,
        revoked_point: Money::ZERO,
        created_at: now(),
        updated_at: now(),
    }
}

pub fn coupon(id: i64, kind: CouponKind) -> Coupon {
    Coupon {
        id: CouponId::new(id),
        name: format!("쿠폰 {id}"),
        kind,
        min_order_amount: Money::ZERO,
        valid_until: now() + time::Duration::days(7),
        product_ids: vec![],
        issue_limit: Some(100),
        issued_count: 3,
    }
}

pub fn owned(id: i64, coupon: Coupon) -> OwnedCoupon {
    OwnedCoupon {
        id: OwnedCouponId::new(id),
        user_id: BUYER,
        coupon,
        status: OwnedCouponStatus::Issued,
        used_order_id: None,
    }
}

pub fn unavailable() -> anyhow::Error {
    anyhow::Error::new(StoreUnavailable("pool timed out after 5s".into()))
}
