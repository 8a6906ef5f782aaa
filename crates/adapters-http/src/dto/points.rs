//! Points: the balance and its ledger.

use domain::model::{Money, UserId};
use domain::usecases::PointsView;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::enums::PointEntryKindDto;
use super::{money, rfc3339};
use crate::problem::ApiError;

/// A ledger entry.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PointEntryView {
    /// GRANT, REFUND and EARN add; USE and EARN_REVOKE take away.
    pub kind: PointEntryKindDto,
    /// Always positive; `kind` gives the direction.
    pub amount: i64,
    pub balance_after: i64,
    /// The order the entry concerns, if any.
    pub order_key: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
}

/// `GET /v1/points`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PointsBody {
    pub balance: i64,
    /// Newest first.
    pub entries: Vec<PointEntryView>,
    pub next_cursor: Option<String>,
}

impl From<PointsView> for PointsBody {
    fn from(view: PointsView) -> Self {
        Self {
            balance: view.balance.won(),
            entries: view
                .entries
                .items
                .into_iter()
                .map(|e| PointEntryView {
                    kind: e.kind.into(),
                    amount: e.amount.won(),
                    balance_after: e.balance_after.won(),
                    order_key: e.order_key.map(|k| k.to_string()),
                    created_at: rfc3339(e.created_at),
                })
                .collect(),
            next_cursor: view.entries.next.map(|id| id.value().to_string()),
        }
    }
}

/// `POST /admin/v1/users/{userId}/points`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GrantPointsRequest {
    /// Points to credit, > 0.
    #[schema(example = 5000)]
    pub amount: i64,
    /// 1 to 200 characters, kept on the ledger entry.
    #[schema(example = "가입 축하")]
    pub reason: String,
}

/// A validated grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub user: UserId,
    pub amount: Money,
    pub reason: String,
}

impl GrantPointsRequest {
    /// The grant for `user`; the reason's rules are the use case's.
    pub fn into_grant(self, user: UserId) -> Result<Grant, ApiError> {
        Ok(Grant {
            user,
            amount: money("amount", self.amount)?,
            reason: self.reason,
        })
    }
}

/// `201` of a grant.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BalanceView {
    pub balance: i64,
}
