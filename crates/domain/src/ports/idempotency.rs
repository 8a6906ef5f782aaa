use async_trait::async_trait;
use time::OffsetDateTime;

use crate::model::UserId;

/// The client's `Idempotency-Key`: 1 to 255 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Idempotency-Key must be 1 to 255 visible ASCII characters")]
pub struct IdempotencyKeyError;

impl IdempotencyKey {
    pub fn new(key: &str) -> Result<Self, IdempotencyKeyError> {
        let valid =
            !key.is_empty() && key.len() <= 255 && key.bytes().all(|b| b.is_ascii_graphic());
        if valid {
            Ok(Self(key.to_owned()))
        } else {
            Err(IdempotencyKeyError)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A response kept for replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

/// What claiming a key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyClaim {
    /// The key is new (or its record had expired): the caller runs the request.
    Acquired,
    /// The same request already completed: here is its response.
    Replay(StoredResponse),
    /// The same key is being processed right now.
    InProgress,
    /// The key was used with a different request.
    KeyReused,
}

/// Idempotency records, per user and key, kept 24 hours.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Claims the key for a request with this `fingerprint` (a hash of method, path and body),
    /// atomically (`INSERT .. ON CONFLICT`). A record created before `expired_before` counts as
    /// absent, and an unfinished one started before `abandoned_before` (its server died) may be
    /// taken over.
    ///
    /// # Errors
    /// Only infrastructure failures.
    async fn claim(
        &self,
        user: UserId,
        key: IdempotencyKey,
        fingerprint: String,
        now: OffsetDateTime,
        expired_before: OffsetDateTime,
        abandoned_before: OffsetDateTime,
    ) -> anyhow::Result<IdempotencyClaim>;

    /// Stores the response of a claimed key.
    ///
    /// # Errors
    /// Only infrastructure failures.
    async fn complete(
        &self,
        user: UserId,
        key: IdempotencyKey,
        response: StoredResponse,
    ) -> anyhow::Result<()>;

    /// Forgets a claimed key whose request failed in a way worth retrying (an infrastructure error).
    ///
    /// # Errors
    /// Only infrastructure failures.
    async fn release(&self, user: UserId, key: IdempotencyKey) -> anyhow::Result<()>;

    /// Deletes records created before `before`; returns how many.
    ///
    /// # Errors
    /// Only infrastructure failures.
    async fn purge(&self, before: OffsetDateTime) -> anyhow::Result<u64>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_visible_ascii() {
        assert!(IdempotencyKey::new("abc-123").is_ok());
        assert!(IdempotencyKey::new("").is_err());
        assert!(IdempotencyKey::new("a b").is_err());
        assert!(IdempotencyKey::new(&"k".repeat(256)).is_err());
    }
}
