//! Shared test setup: a fresh migrated database per test and builders for the rows tests need.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use adapters_postgres::{Database, DatabaseConfig, PgStore, Repositories, run_migrations};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use domain::model::*;
use domain::ports::*;
use local_postgres::{TestDatabase, TestDatabases};
use time::{Duration, OffsetDateTime};

/// One test's store. Field order is drop order: the pool goes before its database.
pub struct Env {
    pub repos: Repositories,
    pub database: Database,
    pub db: TestDatabase,
}

pub async fn databases() -> &'static TestDatabases {
    TestDatabases::get(|url| async move { run_migrations(&url).await.map(|_| ()) })
        .await
        .expect("test databases")
}

pub async fn env() -> Env {
    env_with_pool(4).await
}

pub async fn env_with_pool(max_size: usize) -> Env {
    let db = databases().await.fresh().await.expect("fresh database");
    let mut config = DatabaseConfig::new(db.url());
    config.max_size = max_size;
    "adapters-postgres-test".clone_into(&mut config.application_name);
    let database = Database::new(&config).expect("pool");
    let repos = PgStore::new(database.clone()).repositories();
    Env {
        repos,
        database,
        db,
    }
}

impl Env {
    /// A plain connection, for checks the ports do not offer.
    pub async fn sql(&self) -> AsyncPgConnection {
        AsyncPgConnection::establish(self.db.url())
            .await
            .expect("connect")
    }
}

pub fn won(n: i64) -> Money {
    Money::new(n).unwrap()
}

pub fn qty(n: i64) -> Quantity {
    Quantity::new(n).unwrap()
}

/// A fixed "now", so tests never depend on the wall clock.
pub fn now() -> OffsetDateTime {
    time::macros::datetime!(2030-01-01 12:00 UTC)
}

pub async fn product(env: &Env, selling: i64, stock: u32) -> Product {
    let new = NewProduct::new(
        "양말",
        won(selling + 1_000),
        Some(won(selling)),
        stock,
        Some("https://img.example/sock.png".into()),
        None,
    )
    .unwrap();
    env.repos.products.create(new).await.unwrap()
}

/// A CREATED order of `lines` (product, units), made at `created`, expiring 30 minutes later.
pub async fn order_at(
    env: &Env,
    user: UserId,
    lines: &[(&Product, i64)],
    created: OffsetDateTime,
) -> Order {
    let items: Vec<NewOrderItem> = lines
        .iter()
        .map(|(p, n)| NewOrderItem {
            product_id: p.id,
            product_name: p.name.clone(),
            thumbnail_url: p.thumbnail_url.clone(),
            unit_price: p.selling_price,
            quantity: qty(*n),
            line_total: p
                .selling_price
                .checked_mul(u32::try_from(*n).unwrap())
                .unwrap(),
        })
        .collect();
    let items_total = Money::checked_sum(items.iter().map(|i| i.line_total)).unwrap();
    let new = NewOrder {
        key: OrderKey::generate(created),
        user_id: user,
        name: order_display_name(&lines[0].0.name, lines.len()),
        items,
        items_total,
        shipping_fee: won(3_000),
        source_cart_item_ids: vec![],
        created_at: created,
        expires_at: created + Duration::minutes(30),
    };
    env.repos.orders.create(new).await.unwrap()
}

pub async fn order(env: &Env, user: UserId, lines: &[(&Product, i64)]) -> Order {
    order_at(env, user, lines, now()).await
}

pub fn address() -> ShippingAddress {
    ShippingAddress::new(
        "홍길동",
        "010-1234-5678",
        "06236",
        "서울 강남구 테헤란로 1",
        None,
    )
    .unwrap()
}

/// The payment request for an order with an optional coupon discount (all on the first line)
/// and points.
pub fn request(order: &Order, coupon: Option<(OwnedCouponId, i64)>, points: i64) -> PaymentRequest {
    let discount = coupon.map_or(0, |(_, d)| d);
    let mut line_discounts = vec![Money::ZERO; order.items.len()];
    line_discounts[0] = won(discount);
    let origin = order.amounts.items_total;
    let shipping = order.amounts.shipping_fee;
    let amount = origin.won() - discount + shipping.won() - points;
    PaymentRequest {
        order_id: order.id,
        shipping_address: address(),
        line_discounts,
        owned_coupon_id: coupon.map(|(id, _)| id),
        origin_amount: origin,
        coupon_discount: won(discount),
        used_point: won(points),
        shipping_fee: shipping,
        amount: won(amount),
        now: now(),
    }
}

pub async fn prepare(env: &Env, order: &Order) -> Payment {
    env.repos
        .payments
        .prepare(request(order, None, 0))
        .await
        .unwrap()
}

pub fn reservation(order: &Order, payment: &Payment, key: &str) -> Reservation {
    Reservation {
        payment_id: payment.id,
        order_id: order.id,
        order_key: order.key,
        user_id: order.user_id,
        payment_key: PaymentKey::new(key).unwrap(),
        stock: order.stock_lines(),
        owned_coupon_id: payment.owned_coupon_id,
        used_point: payment.used_point,
        now: now(),
    }
}

pub fn approval(order: &Order, payment: &Payment, earned: i64) -> Approval {
    Approval {
        payment_id: payment.id,
        order_id: order.id,
        order_key: order.key,
        user_id: order.user_id,
        method: "카드".into(),
        approved_at: now(),
        earned_point: won(earned),
        cart_item_ids: order.source_cart_item_ids.clone(),
        now: now(),
    }
}

/// An order taken all the way to PAID; returns it as stored and its payment.
pub async fn paid_order(
    env: &Env,
    user: UserId,
    product: &Product,
    request_with: impl FnOnce(&Order) -> PaymentRequest,
    earned: i64,
) -> (Order, Payment) {
    let order = order(env, user, &[(product, 1)]).await;
    let payment = env
        .repos
        .payments
        .prepare(request_with(&order))
        .await
        .unwrap();
    let payment = env
        .repos
        .payments
        .reserve(reservation(&order, &payment, "pk_paid"))
        .await
        .unwrap();
    env.repos
        .payments
        .approve(approval(&order, &payment, earned))
        .await
        .unwrap();
    let order = env
        .repos
        .orders
        .find_by_id(order.id)
        .await
        .unwrap()
        .unwrap();
    let payment = env.repos.payments.find(payment.id).await.unwrap().unwrap();
    (order, payment)
}

pub async fn coupon(
    env: &Env,
    kind: CouponKind,
    limit: Option<u32>,
    products: Vec<ProductId>,
) -> Coupon {
    let new = NewCoupon::new(
        "10% 할인",
        kind,
        Money::ZERO,
        now() + Duration::days(30),
        products,
        limit,
        now(),
    )
    .unwrap();
    env.repos.coupons.create(new).await.unwrap()
}

pub fn fixed(amount: i64) -> CouponKind {
    CouponKind::Fixed {
        amount: won(amount),
    }
}

pub async fn stock_of(env: &Env, product: ProductId) -> u32 {
    env.repos
        .products
        .find(product)
        .await
        .unwrap()
        .unwrap()
        .stock
}

/// The whole ledger of a user, newest first.
pub async fn ledger(env: &Env, user: UserId) -> Vec<PointEntry> {
    let mut entries = Vec::new();
    let mut after = None;
    loop {
        let page = env
            .repos
            .points
            .ledger(user, after, PageLimit::new(100).unwrap())
            .await
            .unwrap();
        entries.extend(page.items);
        match page.next {
            Some(next) => after = Some(next),
            None => return entries,
        }
    }
}

/// Credits minus debits of the whole ledger.
pub fn ledger_sum(entries: &[PointEntry]) -> i64 {
    entries
        .iter()
        .map(|e| {
            if e.kind.is_credit() {
                e.amount.won()
            } else {
                -e.amount.won()
            }
        })
        .sum()
}

pub async fn order_flag(env: &Env, order: OrderId) -> bool {
    use adapters_postgres::schema::orders;
    let mut conn = env.sql().await;
    orders::table
        .find(order.value())
        .select(orders::payment_in_progress)
        .first(&mut conn)
        .await
        .unwrap()
}

pub async fn outbox_topics(env: &Env) -> Vec<String> {
    use adapters_postgres::schema::outbox;
    let mut conn = env.sql().await;
    outbox::table
        .order(outbox::id)
        .select(outbox::topic)
        .load(&mut conn)
        .await
        .unwrap()
}
