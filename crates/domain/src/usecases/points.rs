//! The buyer's points.

use std::sync::Arc;

use crate::model::{Money, Page, PageLimit, PointEntry, PointEntryId, UserId};
use crate::ports::PointRepository;

use super::Ports;

#[derive(Debug, thiserror::Error)]
pub enum PointError {
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// The balance and one page of the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointsView {
    pub balance: Money,
    pub entries: Page<PointEntry, PointEntryId>,
}

/// Points for buyers.
#[derive(Clone)]
pub struct Points {
    points: Arc<dyn PointRepository>,
}

impl std::fmt::Debug for Points {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Points")
    }
}

impl Points {
    pub fn new(ports: &Ports) -> Self {
        Self {
            points: ports.points.clone(),
        }
    }

    pub async fn view(
        &self,
        user: UserId,
        after: Option<PointEntryId>,
        limit: PageLimit,
    ) -> Result<PointsView, PointError> {
        let balance = self.points.balance(user).await?;
        let entries = self.points.ledger(user, after, limit).await?;
        Ok(PointsView { balance, entries })
    }
}
