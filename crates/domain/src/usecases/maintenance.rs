//! Background work: expiring unpaid orders, relaying the outbox, forgetting old idempotency keys.
//! Every method is safe to run from several instances at once.

use std::sync::Arc;

use time::Duration;

use crate::model::OrderKey;
use crate::ports::{Clock, EventPublisher, IdempotencyStore, OrderRepository, OutboxRepository};

use super::{Policies, Ports};

pub use super::payments::ReconcileReport;

/// How many rows one batch touches, so a job never holds many locks for long.
const BATCH: u32 = 100;
/// At most this many batches per run, so a run always ends.
const MAX_BATCHES: u32 = 50;

/// Background jobs (the reconciler lives in [`super::Payments::reconcile_pending`]).
#[derive(Clone)]
pub struct Maintenance {
    orders: Arc<dyn OrderRepository>,
    outbox: Arc<dyn OutboxRepository>,
    publisher: Arc<dyn EventPublisher>,
    idempotency: Arc<dyn IdempotencyStore>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Maintenance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Maintenance")
    }
}

/// How long idempotency records are kept.
pub const IDEMPOTENCY_TTL: Duration = Duration::hours(24);

impl Maintenance {
    pub fn new(ports: &Ports, _policies: Policies) -> Self {
        Self {
            orders: ports.orders.clone(),
            outbox: ports.outbox.clone(),
            publisher: ports.publisher.clone(),
            idempotency: ports.idempotency.clone(),
            clock: ports.clock.clone(),
        }
    }

    /// Moves CREATED orders past their expiry (and not being paid) to EXPIRED, batch by batch.
    pub async fn expire_unpaid(&self) -> anyhow::Result<Vec<OrderKey>> {
        let mut expired = Vec::new();
        for _ in 0..MAX_BATCHES {
            let batch = self.orders.expire_due(self.clock.now(), BATCH).await?;
            let done = batch.len() < BATCH as usize;
            expired.extend(batch);
            if done {
                break;
            }
        }
        Ok(expired)
    }

    /// Publishes unpublished outbox messages, oldest first; a message that fails to publish stays
    /// and is retried on a later run. Returns how many were published.
    pub async fn relay_outbox(&self) -> anyhow::Result<usize> {
        let now = self.clock.now();
        let messages = self
            .outbox
            .claim_unpublished(BATCH, now, now + Duration::minutes(1))
            .await?;
        let mut published = Vec::with_capacity(messages.len());
        for message in messages {
            let id = message.id;
            match self.publisher.publish(message).await {
                Ok(()) => published.push(id),
                Err(error) => {
                    tracing::warn!(
                        outbox.id = id,
                        error = format!("{error:#}"),
                        "publishing an event failed"
                    );
                    break;
                }
            }
        }
        let count = published.len();
        if count > 0 {
            self.outbox
                .mark_published(published, self.clock.now())
                .await?;
        }
        Ok(count)
    }

    /// Deletes idempotency records older than 24 hours.
    pub async fn purge_idempotency(&self) -> anyhow::Result<u64> {
        self.idempotency
            .purge(self.clock.now() - IDEMPOTENCY_TTL)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::{DomainEvent, OutboxMessage};
    use crate::usecases::test_support::*;

    #[tokio::test]
    async fn expiry_runs_batches_until_a_short_one() {
        let mut m = Mocks::new();
        let mut calls = 0;
        m.orders
            .expect_expire_due()
            .times(2)
            .returning(move |_, limit| {
                calls += 1;
                let n = if calls == 1 { limit } else { 3 };
                Ok((0..n).map(|_| OrderKey::generate(now())).collect())
            });
        let jobs = Maintenance::new(&m.ports(), Policies::default());
        assert_eq!(jobs.expire_unpaid().await.unwrap().len(), 103);
    }

    #[tokio::test]
    async fn relay_marks_only_what_was_published() {
        let mut m = Mocks::new();
        let message = |id| OutboxMessage {
            id,
            event: DomainEvent::OrderExpired {
                order_key: OrderKey::generate(now()),
                user_id: USER,
            },
            created_at: now(),
        };
        m.outbox
            .expect_claim_unpublished()
            .returning(move |_, _, _| Ok(vec![message(1), message(2), message(3)]));
        m.publisher.expect_publish().returning(|msg| {
            if msg.id == 2 {
                Err(anyhow::anyhow!("broker down"))
            } else {
                Ok(())
            }
        });
        m.outbox
            .expect_mark_published()
            .withf(|ids, _| ids == &[1])
            .times(1)
            .returning(|_, _| Ok(()));
        let jobs = Maintenance::new(&m.ports(), Policies::default());
        assert_eq!(jobs.relay_outbox().await.unwrap(), 1);
    }
}
