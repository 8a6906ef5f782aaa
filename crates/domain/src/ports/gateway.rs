use async_trait::async_trait;
use time::OffsetDateTime;

use crate::model::{Money, OrderKey, PaymentFailure, PaymentKey};

/// Ask the gateway to capture a payment the buyer authorised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayConfirm {
    pub payment_key: PaymentKey,
    pub order_key: OrderKey,
    pub amount: Money,
    /// Derived from our payment id, so a retried confirm never charges twice.
    pub idempotency_key: String,
}

/// Ask the gateway to refund a captured payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayCancel {
    pub payment_key: PaymentKey,
    /// For logs and the simulator; Toss finds the payment by its key.
    pub order_key: OrderKey,
    pub amount: Money,
    pub reason: String,
    pub idempotency_key: String,
}

/// Ask the gateway what became of an order's payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayLookup {
    pub order_key: OrderKey,
    pub payment_key: PaymentKey,
}

/// An approved payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayApproval {
    /// How the buyer paid (e.g. "카드", "간편결제").
    pub method: String,
    pub approved_at: OffsetDateTime,
}

/// The answer to a confirm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GatewayOutcome {
    Approved(GatewayApproval),
    /// A definite no, with the gateway's code and message.
    Declined(PaymentFailure),
    /// No answer we can trust (timeout, connection error, 5xx): the payment may or may not have
    /// been captured. Resolve by looking it up later.
    Unknown(String),
}

/// The answer to a cancel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancelOutcome {
    Canceled,
    /// A definite refusal.
    Rejected(PaymentFailure),
    Unknown(String),
}

/// What a look-up found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupOutcome {
    Approved(GatewayApproval),
    Declined(PaymentFailure),
    Canceled,
    /// The gateway has no confirmed payment for the order (the confirm never reached it, or the
    /// buyer's authorisation is still waiting for one).
    NotConfirmed,
    Unknown(String),
}

/// A payment gateway (Toss Payments, or the simulated one). Calls are made outside any
/// database transaction.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PaymentGateway: Send + Sync {
    /// Captures the payment.
    ///
    /// # Errors
    /// None as such: failures are outcomes. `Declined` is final; `Unknown` means "ask again".
    async fn confirm(&self, request: GatewayConfirm) -> GatewayOutcome;

    /// Refunds the payment.
    ///
    /// # Errors
    /// None as such: `Rejected` is final; `Unknown` means "ask again".
    async fn cancel(&self, request: GatewayCancel) -> CancelOutcome;

    /// Finds out what happened to a payment.
    ///
    /// # Errors
    /// None as such: `Unknown` when the gateway cannot be asked right now.
    async fn lookup(&self, request: GatewayLookup) -> LookupOutcome;
}
