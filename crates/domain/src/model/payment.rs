//! Payments and the payment status machine.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{Money, OrderId, OrderKey, OwnedCouponId, PaymentId, PaymentKey};

/// Where a payment is in its life.
///
/// ```text
/// READY ──reserve──▶ CONFIRMING ──approve──▶ APPROVED ──request cancel──▶ CANCELING ──complete──▶ CANCELED
///   │                    └──decline──▶ FAILED                   ▲              │
///   └──fail──▶ FAILED                                           └───reject─────┘
/// ```
/// CONFIRMING and CANCELING are the "pending" states: we have committed to asking the gateway
/// and do not yet know its answer. The reconciler resolves them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PaymentStatus {
    Ready,
    Confirming,
    Approved,
    Failed,
    Canceling,
    Canceled,
}

/// What can happen to a payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaymentEvent {
    /// Stock, coupon and points were reserved; the gateway is about to be asked to confirm.
    Reserve,
    /// The gateway approved.
    Approve,
    /// The gateway declined the confirmation.
    Decline,
    /// The buyer came back from the gateway with a failure before confirming.
    Fail,
    /// A paid order is being canceled; the gateway is about to be asked to refund.
    RequestCancel,
    /// The gateway refunded.
    CompleteCancel,
    /// The gateway refused the refund for good; the payment stays approved.
    RejectCancel,
}

/// An event the payment's current status does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a payment in status {from:?} cannot take the event {event:?}")]
pub struct InvalidPaymentTransition {
    pub from: PaymentStatus,
    pub event: PaymentEvent,
}

impl PaymentStatus {
    pub const ALL: [PaymentStatus; 6] = [
        PaymentStatus::Ready,
        PaymentStatus::Confirming,
        PaymentStatus::Approved,
        PaymentStatus::Failed,
        PaymentStatus::Canceling,
        PaymentStatus::Canceled,
    ];

    /// The one place that says which payment transitions exist.
    pub fn apply(self, event: PaymentEvent) -> Result<PaymentStatus, InvalidPaymentTransition> {
        use PaymentEvent as E;
        use PaymentStatus as S;
        match (self, event) {
            (S::Ready, E::Reserve) => Ok(S::Confirming),
            (S::Ready, E::Fail) | (S::Confirming, E::Decline) => Ok(S::Failed),
            (S::Confirming, E::Approve) | (S::Canceling, E::RejectCancel) => Ok(S::Approved),
            (S::Approved, E::RequestCancel) => Ok(S::Canceling),
            (S::Canceling, E::CompleteCancel) => Ok(S::Canceled),
            (from, event) => Err(InvalidPaymentTransition { from, event }),
        }
    }

    /// Whether this payment still counts as the order's one live payment.
    pub const fn is_live(self) -> bool {
        !matches!(self, PaymentStatus::Failed | PaymentStatus::Canceled)
    }

    /// Waiting on the gateway's answer.
    pub const fn is_pending(self) -> bool {
        matches!(self, PaymentStatus::Confirming | PaymentStatus::Canceling)
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Ready => "READY",
            PaymentStatus::Confirming => "CONFIRMING",
            PaymentStatus::Approved => "APPROVED",
            PaymentStatus::Failed => "FAILED",
            PaymentStatus::Canceling => "CANCELING",
            PaymentStatus::Canceled => "CANCELED",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// Why the gateway (or the buyer's return from it) failed a payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentFailure {
    pub code: String,
    pub message: String,
}

/// A payment as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    pub id: PaymentId,
    pub order_id: OrderId,
    pub status: PaymentStatus,
    /// The order's items total before any discount.
    pub origin_amount: Money,
    pub owned_coupon_id: Option<OwnedCouponId>,
    pub coupon_discount: Money,
    pub used_point: Money,
    pub shipping_fee: Money,
    /// What the gateway charges: origin − coupon + shipping − points.
    pub amount: Money,
    pub payment_key: Option<PaymentKey>,
    pub method: Option<String>,
    pub approved_at: Option<OffsetDateTime>,
    pub failure: Option<PaymentFailure>,
    /// What the gateway refunds on cancel (the amount minus earned points already spent).
    pub cancel_amount: Option<Money>,
    /// Earned points taken back when the cancel began.
    pub revoked_point: Money,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl Payment {
    /// The key we send to the gateway with a confirm: derived from our payment id, so a retry
    /// of the same payment can never charge twice, and from the order key, so two databases
    /// sharing one gateway account (a reset dev database, staging) never collide.
    pub fn confirm_idempotency_key(&self, order_key: OrderKey) -> String {
        format!("confirm-{order_key}-{}", self.id)
    }

    /// The key we send with a cancel (see [`Payment::confirm_idempotency_key`]).
    pub fn cancel_idempotency_key(&self, order_key: OrderKey) -> String {
        format!("cancel-{order_key}-{}", self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENTS: [PaymentEvent; 7] = [
        PaymentEvent::Reserve,
        PaymentEvent::Approve,
        PaymentEvent::Decline,
        PaymentEvent::Fail,
        PaymentEvent::RequestCancel,
        PaymentEvent::CompleteCancel,
        PaymentEvent::RejectCancel,
    ];

    fn expected(from: PaymentStatus, event: PaymentEvent) -> Option<PaymentStatus> {
        use PaymentEvent as E;
        use PaymentStatus as S;
        match (from, event) {
            (S::Ready, E::Reserve) => Some(S::Confirming),
            (S::Ready, E::Fail) => Some(S::Failed),
            (S::Confirming, E::Approve) => Some(S::Approved),
            (S::Confirming, E::Decline) => Some(S::Failed),
            (S::Approved, E::RequestCancel) => Some(S::Canceling),
            (S::Canceling, E::CompleteCancel) => Some(S::Canceled),
            (S::Canceling, E::RejectCancel) => Some(S::Approved),
            _ => None,
        }
    }

    #[test]
    fn every_state_and_event_pair() {
        let mut allowed = 0;
        for from in PaymentStatus::ALL {
            for event in EVENTS {
                match expected(from, event) {
                    Some(to) => {
                        allowed += 1;
                        assert_eq!(from.apply(event), Ok(to), "{from:?} + {event:?}");
                    }
                    None => assert_eq!(
                        from.apply(event),
                        Err(InvalidPaymentTransition { from, event }),
                        "{from:?} + {event:?}"
                    ),
                }
            }
        }
        assert_eq!(allowed, 7);
    }

    #[test]
    fn live_and_pending_states() {
        assert!(PaymentStatus::Ready.is_live());
        assert!(!PaymentStatus::Failed.is_live());
        assert!(PaymentStatus::Canceling.is_pending());
        assert!(!PaymentStatus::Approved.is_pending());
        for s in PaymentStatus::ALL {
            assert_eq!(PaymentStatus::parse(s.as_str()), Some(s));
        }
    }
}
