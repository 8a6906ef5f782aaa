//! An in-process payment gateway: the embedded default, and what tests, demos and load runs pay
//! through.
//!
//! It decides by the `paymentKey` the buyer's client sends (SPEC §3):
//!
//! | key starts with | confirm answers | and records |
//! |---|---|---|
//! | `decline-` | `Declined(REJECT_CARD_PAYMENT)` | a declined payment |
//! | `timeout-` | `Unknown` (a timeout) | an **approved** payment (one charge) |
//! | `error-` | `Unknown` (a 5xx) | an **approved** payment (one charge) |
//! | anything else | `Approved` (method `카드`, approved now) | an approved payment (one charge) |
//!
//! Like Toss it remembers what it did, so look-ups agree with confirms (a `timeout-` or `error-`
//! payment is found approved, which lets the reconciler finish it) and a request repeated with
//! the same idempotency key is answered from what happened the first time, without charging or
//! refunding again. Counters ([`SimulatedGateway::charges_for`], …) let tests assert "charged
//! once", and fault hooks ([`SimulatedGateway::fail_next_cancels`], …) make the next calls fail.
//!
//! Unlike Toss, a payment is its order *and* key: a demo or load client may send one key for
//! every order, and each order is still paid once. A second payment for an order that already
//! captured money is declined (`DUPLICATED_ORDER_ID`), as Toss refuses a reused order id.
//!
//! Everything is kept in memory (a few hundred bytes per payment) for the life of the process.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use time::OffsetDateTime;

use async_trait::async_trait;
use domain::model::{Money, OrderKey, PaymentFailure};
use domain::ports::{
    CancelOutcome, Clock, GatewayApproval, GatewayCancel, GatewayConfirm, GatewayLookup,
    GatewayOutcome, LookupOutcome, PaymentGateway, SystemClock,
};

/// A `paymentKey` starting with this is declined.
pub const DECLINE_PREFIX: &str = "decline-";
/// A `paymentKey` starting with this times out (but is approved at the "gateway").
pub const TIMEOUT_PREFIX: &str = "timeout-";
/// A `paymentKey` starting with this answers a 5xx (but is approved at the "gateway").
pub const ERROR_PREFIX: &str = "error-";

/// The method every approved simulated payment reports.
pub const SIMULATED_METHOD: &str = "카드";
/// The code of a simulated decline (Toss's code for a card refused by its issuer).
pub const DECLINE_CODE: &str = "REJECT_CARD_PAYMENT";
const DECLINE_MESSAGE: &str =
    "한도초과 혹은 잔액부족으로 결제에 실패했습니다. (simulated: the card was declined)";

/// Settings of the simulated gateway.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SimulatedConfig {
    /// Added to every call, to make load runs look like a real gateway. Default zero.
    pub latency: Duration,
}

/// The in-process gateway. Cheap to share: hold it in an `Arc` and coerce to
/// `Arc<dyn PaymentGateway>`, keeping a typed handle for the counters and fault hooks.
pub struct SimulatedGateway {
    state: Mutex<State>,
    latency: Duration,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for SimulatedGateway {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state();
        f.debug_struct("SimulatedGateway")
            .field("latency", &self.latency)
            .field("payments", &state.payments.len())
            .field("calls", &state.calls)
            .finish_non_exhaustive()
    }
}

/// A payment is its order and payment key together: real payment keys are unique, but demo and
/// load clients may well send the same key for every order, and each must still be paid.
type PaymentRef = (OrderKey, String);

/// What the "gateway" did with one payment.
#[derive(Debug, Clone)]
struct SimPayment {
    amount: Money,
    status: SimStatus,
}

#[derive(Debug, Clone)]
enum SimStatus {
    Approved(GatewayApproval),
    Declined(PaymentFailure),
    /// Refunded after having been approved.
    Canceled(GatewayApproval),
}

/// Per order: who was charged, and how many times money moved.
#[derive(Debug, Default)]
struct OrderLedger {
    /// The payment key that captured money for this order, if any.
    charged_key: Option<String>,
    charges: u32,
    refunds: u32,
}

#[derive(Debug, Default, Clone, Copy)]
struct Calls {
    confirm: u64,
    cancel: u64,
    lookup: u64,
}

/// How many of the next calls fail, by kind.
#[derive(Debug, Default)]
struct Faults {
    /// Confirms answered `Unknown` before anything happens.
    confirms: u32,
    /// Cancels answered `Unknown` before anything happens.
    cancels: u32,
    /// Cancels that refund but whose answer is lost (`Unknown`).
    lost_cancels: u32,
    /// Look-ups answered `Unknown`.
    lookups: u32,
}

#[derive(Debug, Default)]
struct State {
    payments: HashMap<PaymentRef, SimPayment>,
    /// Confirm idempotency key → the payment it confirmed.
    confirm_keys: HashMap<String, PaymentRef>,
    orders: HashMap<OrderKey, OrderLedger>,
    calls: Calls,
    faults: Faults,
}

impl Default for SimulatedGateway {
    fn default() -> Self {
        Self::new()
    }
}

impl SimulatedGateway {
    /// No latency, the system clock.
    pub fn new() -> Self {
        Self::from_config(SimulatedConfig::default())
    }

    pub fn from_config(config: SimulatedConfig) -> Self {
        Self {
            state: Mutex::new(State::default()),
            latency: config.latency,
            clock: Arc::new(SystemClock),
        }
    }

    /// Adds `latency` to every call.
    #[must_use]
    pub fn with_latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Approval times come from `clock` (a test's fixed clock, so they can be asserted).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// How many times money was captured for the order (0 or 1 unless something is wrong).
    pub fn charges_for(&self, order_key: &OrderKey) -> u32 {
        self.state().orders.get(order_key).map_or(0, |o| o.charges)
    }

    /// How many times money was refunded for the order.
    pub fn refunds_for(&self, order_key: &OrderKey) -> u32 {
        self.state().orders.get(order_key).map_or(0, |o| o.refunds)
    }

    /// Confirms received, repeats and failures included.
    pub fn confirm_calls(&self) -> u64 {
        self.state().calls.confirm
    }

    /// Cancels received, repeats and failures included.
    pub fn cancel_calls(&self) -> u64 {
        self.state().calls.cancel
    }

    /// Look-ups received.
    pub fn lookup_calls(&self) -> u64 {
        self.state().calls.lookup
    }

    /// The next `n` confirms answer `Unknown` (like a 5xx) without doing anything, so the
    /// payment is not captured and a look-up finds nothing.
    pub fn fail_next_confirms(&self, n: u32) {
        self.state().faults.confirms = n;
    }

    /// The next `n` cancels answer `Unknown` (like a 5xx) without refunding.
    pub fn fail_next_cancels(&self, n: u32) {
        self.state().faults.cancels = n;
    }

    /// The next `n` cancels refund, but answer `Unknown` (like a timeout): a look-up then finds
    /// the payment canceled.
    pub fn time_out_next_cancels(&self, n: u32) {
        self.state().faults.lost_cancels = n;
    }

    /// The next `n` look-ups answer `Unknown`.
    pub fn fail_next_lookups(&self, n: u32) {
        self.state().faults.lookups = n;
    }

    /// From now on the payment is reported declined with `failure` (as when a card company voids
    /// a timed-out authorisation), so a test can drive "timeout, then the gateway says declined".
    /// Returns whether the payment was known. Does not change [`Self::charges_for`].
    pub fn force_decline(
        &self,
        order_key: &OrderKey,
        payment_key: &str,
        failure: PaymentFailure,
    ) -> bool {
        let id = (*order_key, payment_key.to_owned());
        match self.state().payments.get_mut(&id) {
            Some(payment) => {
                payment.status = SimStatus::Declined(failure);
                true
            }
            None => false,
        }
    }

    /// The state, even if a panicking test thread poisoned the lock: every update is a few plain
    /// assignments, so the data stays consistent.
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    async fn pause(&self) {
        if !self.latency.is_zero() {
            tokio::time::sleep(self.latency).await;
        }
    }
}

impl State {
    fn confirm(&mut self, request: &GatewayConfirm, approval: GatewayApproval) -> GatewayOutcome {
        self.calls.confirm += 1;
        if self.faults.confirms > 0 {
            self.faults.confirms -= 1;
            return GatewayOutcome::Unknown("simulated: HTTP 503 before processing".to_owned());
        }
        // Toss answers a repeated idempotency key with the first answer; had the first answer
        // been lost (timeout-, error-), the repeat carries what really happened. A key first
        // used for another order (two test databases sharing one simulator) counts as new.
        if let Some(first) = self.confirm_keys.get(&request.idempotency_key)
            && first.0 == request.order_key
            && let Some(payment) = self.payments.get(first)
        {
            return replay_confirm(payment);
        }
        let key = request.payment_key.as_str();
        let id: PaymentRef = (request.order_key, key.to_owned());
        if let Some(payment) = self.payments.get(&id) {
            // Toss answers ALREADY_PROCESSED_PAYMENT; the Toss client resolves it by a look-up.
            let outcome = replay_confirm(payment);
            self.confirm_keys
                .insert(request.idempotency_key.clone(), id);
            return outcome;
        }
        let ledger = self.orders.entry(request.order_key).or_default();
        if ledger.charged_key.is_some() {
            // Toss refuses a second payment for an order id that already captured money.
            return GatewayOutcome::Declined(PaymentFailure {
                code: "DUPLICATED_ORDER_ID".to_owned(),
                message: "이미 승인된 주문번호입니다. (simulated: the order is already paid)"
                    .to_owned(),
            });
        }
        let (status, outcome) = if key.starts_with(DECLINE_PREFIX) {
            let failure = PaymentFailure {
                code: DECLINE_CODE.to_owned(),
                message: DECLINE_MESSAGE.to_owned(),
            };
            (
                SimStatus::Declined(failure.clone()),
                GatewayOutcome::Declined(failure),
            )
        } else {
            ledger.charged_key = Some(key.to_owned());
            ledger.charges += 1;
            let outcome = if key.starts_with(TIMEOUT_PREFIX) {
                GatewayOutcome::Unknown("simulated: no answer before the timeout".to_owned())
            } else if key.starts_with(ERROR_PREFIX) {
                GatewayOutcome::Unknown("simulated: HTTP 500 from the gateway".to_owned())
            } else {
                GatewayOutcome::Approved(approval.clone())
            };
            (SimStatus::Approved(approval), outcome)
        };
        self.payments.insert(
            id.clone(),
            SimPayment {
                amount: request.amount,
                status,
            },
        );
        self.confirm_keys
            .insert(request.idempotency_key.clone(), id);
        outcome
    }

    fn cancel(&mut self, request: &GatewayCancel, now: OffsetDateTime) -> CancelOutcome {
        self.calls.cancel += 1;
        let key = request.payment_key.as_str();
        if self.faults.cancels > 0 {
            self.faults.cancels -= 1;
            return CancelOutcome::Unknown("simulated: HTTP 503 before processing".to_owned());
        }
        let order_key = request.order_key;
        // A payment this process never saw was approved by an earlier run of the simulator (its
        // memory does not survive a restart): treat it as approved for the amount asked.
        let payment = self
            .payments
            .entry((order_key, key.to_owned()))
            .or_insert_with(|| SimPayment {
                amount: request.amount,
                status: SimStatus::Approved(GatewayApproval {
                    method: SIMULATED_METHOD.to_owned(),
                    approved_at: now,
                }),
            });
        let approval = match &payment.status {
            // Already refunded: a repeat (same idempotency key) or ALREADY_CANCELED_PAYMENT.
            // Either way what was asked is done, and nothing is refunded twice.
            SimStatus::Canceled(_) => return CancelOutcome::Canceled,
            SimStatus::Declined(_) => {
                return CancelOutcome::Rejected(PaymentFailure {
                    code: "NOT_CANCELABLE_PAYMENT".to_owned(),
                    message: "취소 할 수 없는 결제 입니다.".to_owned(),
                });
            }
            SimStatus::Approved(approval) => approval.clone(),
        };
        if request.amount > payment.amount {
            return CancelOutcome::Rejected(PaymentFailure {
                code: "NOT_CANCELABLE_AMOUNT".to_owned(),
                message: "취소 할 수 없는 금액 입니다.".to_owned(),
            });
        }
        payment.status = SimStatus::Canceled(approval);
        self.orders.entry(order_key).or_default().refunds += 1;
        if self.faults.lost_cancels > 0 {
            self.faults.lost_cancels -= 1;
            return CancelOutcome::Unknown("simulated: no answer before the timeout".to_owned());
        }
        CancelOutcome::Canceled
    }

    fn lookup(&mut self, request: &GatewayLookup) -> LookupOutcome {
        self.calls.lookup += 1;
        if self.faults.lookups > 0 {
            self.faults.lookups -= 1;
            return LookupOutcome::Unknown("simulated: HTTP 503 on look-up".to_owned());
        }
        let id = (request.order_key, request.payment_key.as_str().to_owned());
        match self.payments.get(&id).map(|p| &p.status) {
            None => LookupOutcome::NotConfirmed,
            Some(SimStatus::Approved(approval)) => LookupOutcome::Approved(approval.clone()),
            Some(SimStatus::Declined(failure)) => LookupOutcome::Declined(failure.clone()),
            Some(SimStatus::Canceled(_)) => LookupOutcome::Canceled,
        }
    }
}

/// The answer to a confirm of a payment already processed: what happened to it.
fn replay_confirm(payment: &SimPayment) -> GatewayOutcome {
    match &payment.status {
        SimStatus::Approved(approval) | SimStatus::Canceled(approval) => {
            GatewayOutcome::Approved(approval.clone())
        }
        SimStatus::Declined(failure) => GatewayOutcome::Declined(failure.clone()),
    }
}

#[async_trait]
impl PaymentGateway for SimulatedGateway {
    async fn confirm(&self, request: GatewayConfirm) -> GatewayOutcome {
        self.pause().await;
        let approval = GatewayApproval {
            method: SIMULATED_METHOD.to_owned(),
            approved_at: self.clock.now(),
        };
        self.state().confirm(&request, approval)
    }

    async fn cancel(&self, request: GatewayCancel) -> CancelOutcome {
        self.pause().await;
        let now = self.clock.now();
        self.state().cancel(&request, now)
    }

    async fn lookup(&self, request: GatewayLookup) -> LookupOutcome {
        self.pause().await;
        self.state().lookup(&request)
    }
}
