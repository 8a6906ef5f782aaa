//! Where outbox events go: with no broker in this deployment, the structured log.

use async_trait::async_trait;
use domain::ports::{EventPublisher, OutboxMessage};

/// Publishes each event as one log line under the `outbox` target.
#[derive(Debug, Default, Clone, Copy)]
pub struct LogPublisher;

#[async_trait]
impl EventPublisher for LogPublisher {
    async fn publish(&self, message: OutboxMessage) -> anyhow::Result<()> {
        let payload = serde_json::to_string(&message.event)?;
        tracing::info!(target: "outbox", event_id = message.id, topic = message.event.topic(), %payload, "event published");
        Ok(())
    }
}
