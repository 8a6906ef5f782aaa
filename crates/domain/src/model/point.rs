//! Points: a balance per user and a ledger of every change.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{Money, OrderKey, PointEntryId};

/// Why a user's balance changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PointEntryKind {
    /// An admin granted points.
    Grant,
    /// Spent on an order's payment.
    Use,
    /// Spent points given back (declined payment or canceled order).
    Refund,
    /// Earned when an order was paid.
    Earn,
    /// Earned points taken back when the order was canceled.
    EarnRevoke,
}

impl PointEntryKind {
    pub const ALL: [PointEntryKind; 5] = [
        PointEntryKind::Grant,
        PointEntryKind::Use,
        PointEntryKind::Refund,
        PointEntryKind::Earn,
        PointEntryKind::EarnRevoke,
    ];

    /// Whether this kind adds to the balance (otherwise it subtracts).
    pub const fn is_credit(self) -> bool {
        matches!(
            self,
            PointEntryKind::Grant | PointEntryKind::Refund | PointEntryKind::Earn
        )
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            PointEntryKind::Grant => "GRANT",
            PointEntryKind::Use => "USE",
            PointEntryKind::Refund => "REFUND",
            PointEntryKind::Earn => "EARN",
            PointEntryKind::EarnRevoke => "EARN_REVOKE",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// One change of a balance. `amount` is always positive; `kind` says its direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PointEntry {
    pub id: PointEntryId,
    pub kind: PointEntryKind,
    pub amount: Money,
    pub balance_after: Money,
    pub order_key: Option<OrderKey>,
    pub reason: Option<String>,
    pub created_at: OffsetDateTime,
}

/// How many points a paid order earns: a share of the amount charged, in basis points,
/// rounded down. The default is 1%.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EarningPolicy {
    basis_points: u32,
}

impl EarningPolicy {
    /// `basis_points` of the paid amount (100 = 1%), at most 10000.
    pub fn new(basis_points: u32) -> Option<Self> {
        (basis_points <= 10_000).then_some(Self { basis_points })
    }

    pub fn earned_on(self, paid: Money) -> Money {
        paid.ratio_floor(i64::from(self.basis_points), 10_000)
            .unwrap_or(Money::ZERO)
    }
}

impl Default for EarningPolicy {
    fn default() -> Self {
        Self { basis_points: 100 }
    }
}

/// A reason (a point grant's, a cancellation's): 1 to 200 characters, no control characters.
pub fn validate_reason(reason: &str) -> Option<String> {
    let reason = reason.trim();
    let valid =
        !reason.is_empty() && reason.chars().count() <= 200 && !super::has_control_chars(reason);
    valid.then(|| reason.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_earns_one_percent_rounded_down() {
        let policy = EarningPolicy::default();
        assert_eq!(
            policy.earned_on(Money::new(12_345).unwrap()),
            Money::new(123).unwrap()
        );
        assert_eq!(policy.earned_on(Money::new(99).unwrap()), Money::ZERO);
        assert!(EarningPolicy::new(10_001).is_none());
    }

    #[test]
    fn kinds_round_trip_and_know_their_direction() {
        for k in PointEntryKind::ALL {
            assert_eq!(PointEntryKind::parse(k.as_str()), Some(k));
        }
        assert!(PointEntryKind::Earn.is_credit());
        assert!(!PointEntryKind::EarnRevoke.is_credit());
    }
}
