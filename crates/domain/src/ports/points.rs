use async_trait::async_trait;
use time::OffsetDateTime;

use crate::model::{Money, Page, PageLimit, PointEntry, PointEntryId, UserId};

/// Point balances and their ledger. Spending, refunds and earnings happen inside the payment
/// port's transactions; this port reads and grants.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PointRepository: Send + Sync {
    /// The user's balance; zero for a user who never had points.
    ///
    /// # Errors
    /// Only infrastructure failures.
    async fn balance(&self, user: UserId) -> anyhow::Result<Money>;

    /// The user's ledger, newest first, after the cursor `after`.
    ///
    /// # Errors
    /// Only infrastructure failures.
    async fn ledger(
        &self,
        user: UserId,
        after: Option<PointEntryId>,
        limit: PageLimit,
    ) -> anyhow::Result<Page<PointEntry, PointEntryId>>;

    /// Credits `amount` with a GRANT entry, creating the balance if needed; returns the new balance.
    ///
    /// # Errors
    /// Only infrastructure failures.
    async fn grant(
        &self,
        user: UserId,
        amount: Money,
        reason: String,
        now: OffsetDateTime,
    ) -> anyhow::Result<Money>;
}
