use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::model::{Money, OrderKey, UserId};

/// Something other systems (shipping, notifications, analytics) care about. Written to the
/// outbox in the same transaction as the change it reports, so it is never lost nor invented.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum DomainEvent {
    #[serde(rename_all = "camelCase")]
    OrderPaid {
        order_key: OrderKey,
        user_id: UserId,
        paid_amount: Money,
    },
    #[serde(rename_all = "camelCase")]
    OrderCanceled {
        order_key: OrderKey,
        user_id: UserId,
        refunded_amount: Money,
    },
    #[serde(rename_all = "camelCase")]
    OrderExpired {
        order_key: OrderKey,
        user_id: UserId,
    },
}

impl DomainEvent {
    /// The event's topic name, e.g. `order.paid`.
    pub const fn topic(&self) -> &'static str {
        match self {
            DomainEvent::OrderPaid { .. } => "order.paid",
            DomainEvent::OrderCanceled { .. } => "order.canceled",
            DomainEvent::OrderExpired { .. } => "order.expired",
        }
    }
}

/// An outbox row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    pub id: i64,
    pub event: DomainEvent,
    pub created_at: OffsetDateTime,
}

/// The transactional outbox. Events are written by the other ports' transactions; this port
/// hands them to a relay.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait OutboxRepository: Send + Sync {
    /// Up to `limit` unpublished messages whose earlier claim (if any) lapsed by `now`, oldest
    /// first, claimed so that other instances skip them until `claimed_until`.
    ///
    /// # Errors
    /// Only infrastructure failures.
    async fn claim_unpublished(
        &self,
        limit: u32,
        now: OffsetDateTime,
        claimed_until: OffsetDateTime,
    ) -> anyhow::Result<Vec<OutboxMessage>>;

    /// Marks messages as published.
    ///
    /// # Errors
    /// Only infrastructure failures.
    async fn mark_published(&self, ids: Vec<i64>, now: OffsetDateTime) -> anyhow::Result<()>;
}

/// Where relayed events go (a message broker in a larger system).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait EventPublisher: Send + Sync {
    /// # Errors
    /// The message could not be published; it stays in the outbox and is retried.
    async fn publish(&self, message: OutboxMessage) -> anyhow::Result<()>;
}
