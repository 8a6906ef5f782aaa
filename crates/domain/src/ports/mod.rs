//! Ports: what the use cases need from the outside world, as async traits.
//!
//! Persistence ports are shaped around the atomic state changes the use cases decide, so each
//! method is one database transaction in an adapter. Conflicts (a lost race for the last unit of
//! stock, a coupon already used, a balance too small) are decided by the store and come back as
//! typed errors; anything else (a lost connection, a pool timeout) is `Unknown(anyhow::Error)`.
//! A store that cannot be reached wraps its error in [`StoreUnavailable`] so callers can answer
//! "try again later" rather than "internal error".
//!
//! With the `mocks` feature every trait has a `mockall` mock named `Mock<Trait>`.

mod carts;
mod clock;
mod coupons;
mod gateway;
mod idempotency;
mod orders;
mod outbox;
mod payments;
mod points;
mod products;

pub use carts::{AddToCartError, CartRepository};
pub use clock::{Clock, SystemClock};
pub use coupons::{CouponRepository, DownloadCouponError};
pub use gateway::{
    CancelOutcome, GatewayApproval, GatewayCancel, GatewayConfirm, GatewayLookup, GatewayOutcome,
    LookupOutcome, PaymentGateway,
};
pub use idempotency::{
    IdempotencyClaim, IdempotencyKey, IdempotencyKeyError, IdempotencyStore, StoredResponse,
};
pub use orders::{CancelUnpaidError, OrderRepository};
pub use outbox::{DomainEvent, EventPublisher, OutboxMessage, OutboxRepository};
pub use payments::{
    Approval, BeginCancelError, CancelCompletion, CancelRejection, CancelStart, PaymentRepository,
    PaymentRequest, PreparePaymentError, Release, Reservation, ReserveError, SettleError,
};
pub use points::PointRepository;
pub use products::{ProductRepository, UpdateProductError};

#[cfg(any(test, feature = "mocks"))]
pub use carts::MockCartRepository;
#[cfg(any(test, feature = "mocks"))]
pub use clock::MockClock;
#[cfg(any(test, feature = "mocks"))]
pub use coupons::MockCouponRepository;
#[cfg(any(test, feature = "mocks"))]
pub use gateway::MockPaymentGateway;
#[cfg(any(test, feature = "mocks"))]
pub use idempotency::MockIdempotencyStore;
#[cfg(any(test, feature = "mocks"))]
pub use orders::MockOrderRepository;
#[cfg(any(test, feature = "mocks"))]
pub use outbox::{MockEventPublisher, MockOutboxRepository};
#[cfg(any(test, feature = "mocks"))]
pub use payments::MockPaymentRepository;
#[cfg(any(test, feature = "mocks"))]
pub use points::MockPointRepository;
#[cfg(any(test, feature = "mocks"))]
pub use products::MockProductRepository;

/// Marks an infrastructure error as "the store is unreachable or saturated" (a pool timeout, a
/// refused connection). Adapters wrap such errors with `anyhow::Error::new(StoreUnavailable(..))`;
/// the HTTP layer answers 503 for them instead of 500.
#[derive(Debug, thiserror::Error)]
#[error("the store is unavailable: {0}")]
pub struct StoreUnavailable(pub String);

/// Whether an infrastructure error means the store is unavailable (see [`StoreUnavailable`]).
pub fn is_unavailable(error: &anyhow::Error) -> bool {
    error
        .chain()
        .any(<dyn std::error::Error>::is::<StoreUnavailable>)
}
