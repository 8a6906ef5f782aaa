//! The one store behind every persistence port.

use std::fmt;
use std::sync::Arc;

use domain::ports::{
    CartRepository, CouponRepository, IdempotencyStore, OrderRepository, OutboxRepository,
    PaymentRepository, PointRepository, ProductRepository,
};

use crate::db::Database;

/// Implements every persistence port on one [`Database`]. The ports' implementations live in
/// one module each (`products.rs`, `payments.rs`, ..); they share the pool and nothing else.
#[derive(Debug, Clone)]
pub struct PgStore {
    pub(crate) db: Database,
}

impl PgStore {
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    pub fn database(&self) -> &Database {
        &self.db
    }

    /// Every persistence port, as the use cases take them.
    pub fn repositories(self) -> Repositories {
        let store = Arc::new(self);
        Repositories {
            products: store.clone(),
            carts: store.clone(),
            orders: store.clone(),
            payments: store.clone(),
            coupons: store.clone(),
            points: store.clone(),
            idempotency: store.clone(),
            outbox: store,
        }
    }
}

/// The persistence ports of [`domain::usecases::Ports`], backed by one [`PgStore`].
#[derive(Clone)]
pub struct Repositories {
    pub products: Arc<dyn ProductRepository>,
    pub carts: Arc<dyn CartRepository>,
    pub orders: Arc<dyn OrderRepository>,
    pub payments: Arc<dyn PaymentRepository>,
    pub coupons: Arc<dyn CouponRepository>,
    pub points: Arc<dyn PointRepository>,
    pub idempotency: Arc<dyn IdempotencyStore>,
    pub outbox: Arc<dyn OutboxRepository>,
}

impl fmt::Debug for Repositories {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Repositories { .. }")
    }
}
