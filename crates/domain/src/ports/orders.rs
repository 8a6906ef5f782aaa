use async_trait::async_trait;
use time::OffsetDateTime;

use crate::model::{
    NewOrder, Order, OrderId, OrderKey, OrderStatus, OrderSummary, Page, PageLimit, UserId,
};

/// Why an unpaid order could not be canceled.
#[derive(Debug, thiserror::Error)]
pub enum CancelUnpaidError {
    /// The order is no longer CREATED (paid, canceled or expired meanwhile).
    #[error("the order is {0:?}")]
    NotCancelable(OrderStatus),
    /// A payment of the order is being confirmed at the gateway right now.
    #[error("a payment of the order is being confirmed")]
    PaymentInProgress,
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// Orders and their items.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait OrderRepository: Send + Sync {
    /// Stores a CREATED order with its items.
    ///
    /// # Errors
    /// Only infrastructure failures.
    async fn create(&self, order: NewOrder) -> anyhow::Result<Order>;

    /// # Errors
    /// Only infrastructure failures.
    async fn find_by_key(&self, key: OrderKey) -> anyhow::Result<Option<Order>>;

    /// # Errors
    /// Only infrastructure failures.
    async fn find_by_id(&self, id: OrderId) -> anyhow::Result<Option<Order>>;

    /// The user's orders, newest first, after the cursor `after`; any status when `status` is `None`.
    ///
    /// # Errors
    /// Only infrastructure failures.
    async fn list_for_user(
        &self,
        user: UserId,
        status: Option<OrderStatus>,
        after: Option<OrderKey>,
        limit: PageLimit,
    ) -> anyhow::Result<Page<OrderSummary, OrderKey>>;

    /// CREATED → CANCELED, if no payment is being confirmed; a READY payment becomes FAILED. Writes
    /// an `OrderCanceled` outbox event. One transaction.
    ///
    /// # Errors
    /// `NotCancelable` with the status it found; `PaymentInProgress` while a confirmation is pending.
    async fn cancel_unpaid(
        &self,
        order: OrderId,
        now: OffsetDateTime,
    ) -> Result<(), CancelUnpaidError>;

    /// Moves up to `limit` CREATED orders whose expiry is at or before `now`, and whose payment is
    /// not being confirmed, to EXPIRED (with an `OrderExpired` outbox event each). Safe to run
    /// from several instances at once: rows another instance holds are skipped.
    ///
    /// # Errors
    /// Only infrastructure failures.
    async fn expire_due(&self, now: OffsetDateTime, limit: u32) -> anyhow::Result<Vec<OrderKey>>;
}
