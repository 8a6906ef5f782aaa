//! The simulated gateway: every paymentKey prefix, idempotent repeats, look-ups that agree with
//! what it did, and the fault hooks other crates' tests rely on.

// Test helpers are plain functions, which clippy.toml's "allow in tests" does not cover.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use adapters_toss::simulated::{DECLINE_CODE, SIMULATED_METHOD};
use adapters_toss::{GatewayConfig, SimulatedConfig, SimulatedGateway, build_gateway};
use domain::model::{Money, OrderKey, PaymentFailure, PaymentKey};
use domain::ports::{
    CancelOutcome, Clock, GatewayApproval, GatewayCancel, GatewayConfirm, GatewayLookup,
    GatewayOutcome, LookupOutcome, PaymentGateway,
};
use time::OffsetDateTime;
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2024-02-13 03:18:14 UTC);

struct FixedClock;

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        NOW
    }
}

fn gateway() -> SimulatedGateway {
    SimulatedGateway::new().with_clock(Arc::new(FixedClock))
}

fn order(n: u64) -> OrderKey {
    OrderKey::generate(NOW + time::Duration::milliseconds(i64::try_from(n).unwrap()))
}

fn confirm(order_key: OrderKey, payment_key: &str, idempotency_key: &str) -> GatewayConfirm {
    GatewayConfirm {
        payment_key: PaymentKey::new(payment_key).unwrap(),
        order_key,
        amount: Money::new(15_000).unwrap(),
        idempotency_key: idempotency_key.to_owned(),
    }
}

fn cancel(order_key: OrderKey, payment_key: &str, idempotency_key: &str) -> GatewayCancel {
    GatewayCancel {
        payment_key: PaymentKey::new(payment_key).unwrap(),
        order_key,
        amount: Money::new(15_000).unwrap(),
        reason: "고객 변심".to_owned(),
        idempotency_key: idempotency_key.to_owned(),
    }
}

fn lookup(order_key: OrderKey, payment_key: &str) -> GatewayLookup {
    GatewayLookup {
        order_key,
        payment_key: PaymentKey::new(payment_key).unwrap(),
    }
}

fn approved() -> GatewayOutcome {
    GatewayOutcome::Approved(GatewayApproval {
        method: SIMULATED_METHOD.to_owned(),
        approved_at: NOW,
    })
}

fn found_approved() -> LookupOutcome {
    LookupOutcome::Approved(GatewayApproval {
        method: SIMULATED_METHOD.to_owned(),
        approved_at: NOW,
    })
}

#[tokio::test]
async fn any_other_key_is_approved_and_charged_once() {
    let gateway = gateway();
    let order = order(1);

    let outcome = gateway
        .confirm(confirm(order, "tgen_ok", "confirm-1"))
        .await;

    assert_eq!(outcome, approved());
    assert_eq!(gateway.charges_for(&order), 1);
    assert_eq!(
        gateway.lookup(lookup(order, "tgen_ok")).await,
        found_approved()
    );
}

#[tokio::test]
async fn decline_prefix_is_declined_and_charges_nothing() {
    let gateway = gateway();
    let order = order(1);

    let outcome = gateway
        .confirm(confirm(order, "decline-card", "confirm-1"))
        .await;

    let GatewayOutcome::Declined(failure) = outcome else {
        panic!("expected a decline, got {outcome:?}");
    };
    assert_eq!(failure.code, DECLINE_CODE);
    assert!(!failure.message.is_empty());
    assert_eq!(gateway.charges_for(&order), 0);
    assert_eq!(
        gateway.lookup(lookup(order, "decline-card")).await,
        LookupOutcome::Declined(failure)
    );
}

#[tokio::test]
async fn timeout_and_error_prefixes_are_unknown_but_charged_and_found_approved() {
    for key in ["timeout-1", "error-1"] {
        let gateway = gateway();
        let order = order(1);

        let outcome = gateway.confirm(confirm(order, key, "confirm-1")).await;

        assert!(matches!(outcome, GatewayOutcome::Unknown(_)), "{key}");
        assert_eq!(gateway.charges_for(&order), 1, "{key}");
        assert_eq!(
            gateway.lookup(lookup(order, key)).await,
            found_approved(),
            "{key}"
        );
    }
}

#[tokio::test]
async fn a_repeated_idempotency_key_answers_what_happened_without_charging_again() {
    let gateway = gateway();
    let order = order(1);

    let first = gateway
        .confirm(confirm(order, "tgen_ok", "confirm-1"))
        .await;
    let again = gateway
        .confirm(confirm(order, "tgen_ok", "confirm-1"))
        .await;
    assert_eq!(first, approved());
    assert_eq!(again, approved());
    assert_eq!(gateway.charges_for(&order), 1);
    assert_eq!(gateway.confirm_calls(), 2);

    // A timed-out confirm sent again learns that it was approved.
    let order = self::order(2);
    gateway
        .confirm(confirm(order, "timeout-x", "confirm-2"))
        .await;
    let again = gateway
        .confirm(confirm(order, "timeout-x", "confirm-2"))
        .await;
    assert_eq!(again, approved());
    assert_eq!(gateway.charges_for(&order), 1);

    // A declined one stays declined.
    let order = self::order(3);
    gateway
        .confirm(confirm(order, "decline-x", "confirm-3"))
        .await;
    let again = gateway
        .confirm(confirm(order, "decline-x", "confirm-3"))
        .await;
    assert!(matches!(again, GatewayOutcome::Declined(_)));
}

#[tokio::test]
async fn the_same_payment_key_is_not_charged_twice_even_with_another_idempotency_key() {
    let gateway = gateway();
    let order = order(1);

    gateway
        .confirm(confirm(order, "tgen_ok", "confirm-1"))
        .await;
    let again = gateway
        .confirm(confirm(order, "tgen_ok", "confirm-9"))
        .await;

    assert_eq!(again, approved());
    assert_eq!(gateway.charges_for(&order), 1);
}

#[tokio::test]
async fn a_paid_order_cannot_be_charged_by_another_payment() {
    let gateway = gateway();
    let order = order(1);

    gateway.confirm(confirm(order, "tgen_a", "confirm-1")).await;
    let second = gateway.confirm(confirm(order, "tgen_b", "confirm-2")).await;

    assert!(
        matches!(&second, GatewayOutcome::Declined(f) if f.code == "DUPLICATED_ORDER_ID"),
        "{second:?}"
    );
    assert_eq!(gateway.charges_for(&order), 1);
}

#[tokio::test]
async fn a_declined_order_can_be_paid_with_a_new_attempt() {
    let gateway = gateway();
    let order = order(1);

    gateway
        .confirm(confirm(order, "decline-a", "confirm-1"))
        .await;
    let retry = gateway.confirm(confirm(order, "tgen_b", "confirm-2")).await;

    assert_eq!(retry, approved());
    assert_eq!(gateway.charges_for(&order), 1);
    // Each attempt is looked up by its own key.
    assert!(matches!(
        gateway.lookup(lookup(order, "decline-a")).await,
        LookupOutcome::Declined(_)
    ));
    assert_eq!(
        gateway.lookup(lookup(order, "tgen_b")).await,
        found_approved()
    );
}

#[tokio::test]
async fn one_payment_key_for_many_orders_pays_each_order() {
    // Demo and load clients may send the same paymentKey for every order.
    let gateway = gateway();
    let (first, second) = (order(1), order(2));

    assert_eq!(
        gateway.confirm(confirm(first, "load", "confirm-1")).await,
        approved()
    );
    assert_eq!(
        gateway.confirm(confirm(second, "load", "confirm-2")).await,
        approved()
    );
    assert_eq!(gateway.charges_for(&first), 1);
    assert_eq!(gateway.charges_for(&second), 1);
    assert_eq!(
        gateway.lookup(lookup(second, "load")).await,
        found_approved()
    );

    assert_eq!(
        gateway.cancel(cancel(second, "load", "cancel-2")).await,
        CancelOutcome::Canceled
    );
    assert_eq!(
        gateway.cancel(cancel(first, "load", "cancel-1")).await,
        CancelOutcome::Canceled
    );
    assert_eq!(
        gateway.refunds_for(&first) + gateway.refunds_for(&second),
        2
    );
    assert_eq!(
        gateway.lookup(lookup(first, "load")).await,
        LookupOutcome::Canceled
    );
    assert_eq!(
        gateway.lookup(lookup(second, "load")).await,
        LookupOutcome::Canceled
    );
}

#[tokio::test]
async fn an_idempotency_key_reused_for_another_order_is_a_new_request() {
    // Two test databases sharing one simulator both have a payment 1.
    let gateway = gateway();
    gateway
        .confirm(confirm(order(1), "decline-x", "confirm-1"))
        .await;

    let other = gateway
        .confirm(confirm(order(2), "tgen_ok", "confirm-1"))
        .await;

    assert_eq!(other, approved());
}

#[tokio::test]
async fn lookup_of_an_unknown_order_or_key_is_not_confirmed() {
    let gateway = gateway();
    let order = order(1);
    assert_eq!(
        gateway.lookup(lookup(order, "tgen_never")).await,
        LookupOutcome::NotConfirmed
    );

    gateway
        .confirm(confirm(order, "tgen_ok", "confirm-1"))
        .await;
    assert_eq!(
        gateway.lookup(lookup(self::order(2), "tgen_ok")).await,
        LookupOutcome::NotConfirmed,
        "the key belongs to another order"
    );
}

#[tokio::test]
async fn cancel_refunds_once_and_is_found_canceled() {
    let gateway = gateway();
    let order = order(1);
    gateway
        .confirm(confirm(order, "tgen_ok", "confirm-1"))
        .await;

    assert_eq!(
        gateway.cancel(cancel(order, "tgen_ok", "cancel-1")).await,
        CancelOutcome::Canceled
    );
    assert_eq!(
        gateway.cancel(cancel(order, "tgen_ok", "cancel-1")).await,
        CancelOutcome::Canceled
    );
    assert_eq!(gateway.refunds_for(&order), 1);
    assert_eq!(gateway.cancel_calls(), 2);
    assert_eq!(
        gateway.lookup(lookup(order, "tgen_ok")).await,
        LookupOutcome::Canceled
    );
    // A confirm repeated after the refund still reports the original approval.
    assert_eq!(
        gateway
            .confirm(confirm(order, "tgen_ok", "confirm-1"))
            .await,
        approved()
    );
    assert_eq!(gateway.charges_for(&order), 1);
}

#[tokio::test]
async fn cancel_of_what_was_not_captured_is_rejected() {
    let gateway = gateway();
    let order = order(1);
    gateway
        .confirm(confirm(order, "decline-a", "confirm-1"))
        .await;

    assert!(matches!(
        gateway.cancel(cancel(order, "decline-a", "cancel-1")).await,
        CancelOutcome::Rejected(f) if f.code == "NOT_CANCELABLE_PAYMENT"
    ));
    let mut too_much = cancel(order, "tgen_ok", "cancel-3");
    gateway
        .confirm(confirm(order, "tgen_ok", "confirm-2"))
        .await;
    too_much.amount = Money::new(15_001).unwrap();
    assert!(matches!(
        gateway.cancel(too_much).await,
        CancelOutcome::Rejected(f) if f.code == "NOT_CANCELABLE_AMOUNT"
    ));
    assert_eq!(gateway.refunds_for(&order), 0);
}

#[tokio::test]
async fn fail_next_cancels_fails_without_refunding_then_recovers() {
    let gateway = gateway();
    let order = order(1);
    gateway
        .confirm(confirm(order, "tgen_ok", "confirm-1"))
        .await;
    gateway.fail_next_cancels(1);

    let first = gateway.cancel(cancel(order, "tgen_ok", "cancel-1")).await;
    assert!(matches!(first, CancelOutcome::Unknown(_)), "{first:?}");
    assert_eq!(gateway.refunds_for(&order), 0);
    assert_eq!(
        gateway.lookup(lookup(order, "tgen_ok")).await,
        found_approved()
    );

    let retry = gateway.cancel(cancel(order, "tgen_ok", "cancel-1")).await;
    assert_eq!(retry, CancelOutcome::Canceled);
    assert_eq!(gateway.refunds_for(&order), 1);
}

#[tokio::test]
async fn time_out_next_cancels_refunds_but_loses_the_answer() {
    let gateway = gateway();
    let order = order(1);
    gateway
        .confirm(confirm(order, "tgen_ok", "confirm-1"))
        .await;
    gateway.time_out_next_cancels(1);

    let first = gateway.cancel(cancel(order, "tgen_ok", "cancel-1")).await;
    assert!(matches!(first, CancelOutcome::Unknown(_)), "{first:?}");
    assert_eq!(
        gateway.lookup(lookup(order, "tgen_ok")).await,
        LookupOutcome::Canceled
    );
    assert_eq!(
        gateway.cancel(cancel(order, "tgen_ok", "cancel-1")).await,
        CancelOutcome::Canceled
    );
    assert_eq!(gateway.refunds_for(&order), 1);
}

#[tokio::test]
async fn fail_next_confirms_and_lookups() {
    let gateway = gateway();
    let order = order(1);
    gateway.fail_next_confirms(1);
    gateway.fail_next_lookups(1);

    let first = gateway
        .confirm(confirm(order, "tgen_ok", "confirm-1"))
        .await;
    assert!(matches!(first, GatewayOutcome::Unknown(_)));
    assert_eq!(gateway.charges_for(&order), 0);
    assert!(matches!(
        gateway.lookup(lookup(order, "tgen_ok")).await,
        LookupOutcome::Unknown(_)
    ));
    assert_eq!(
        gateway.lookup(lookup(order, "tgen_ok")).await,
        LookupOutcome::NotConfirmed
    );
    assert_eq!(
        gateway
            .confirm(confirm(order, "tgen_ok", "confirm-1"))
            .await,
        approved()
    );
    assert_eq!(gateway.charges_for(&order), 1);
    assert_eq!(gateway.lookup_calls(), 2);
}

#[tokio::test]
async fn force_decline_turns_a_timed_out_payment_into_a_decline() {
    let gateway = gateway();
    let order = order(1);
    gateway
        .confirm(confirm(order, "timeout-1", "confirm-1"))
        .await;
    let failure = PaymentFailure {
        code: "REJECT_CARD_COMPANY".to_owned(),
        message: "voided".to_owned(),
    };

    assert!(gateway.force_decline(&order, "timeout-1", failure.clone()));
    assert!(!gateway.force_decline(&order, "never-seen", failure.clone()));
    assert_eq!(
        gateway.lookup(lookup(order, "timeout-1")).await,
        LookupOutcome::Declined(failure)
    );
}

#[tokio::test]
async fn latency_is_configurable() {
    let gateway = SimulatedGateway::from_config(SimulatedConfig {
        latency: Duration::from_millis(50),
    });
    let started = Instant::now();
    gateway.lookup(lookup(order(1), "tgen_ok")).await;
    assert!(started.elapsed() >= Duration::from_millis(50));
}

#[tokio::test]
async fn concurrent_repeats_charge_once() {
    let gateway = Arc::new(gateway());
    let order = order(1);
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let gateway = gateway.clone();
            tokio::spawn(async move {
                gateway
                    .confirm(confirm(order, "tgen_ok", "confirm-1"))
                    .await
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), approved());
    }
    assert_eq!(gateway.charges_for(&order), 1);
    assert_eq!(gateway.confirm_calls(), 32);
}

#[tokio::test]
async fn the_factory_builds_a_working_simulated_gateway() {
    let gateway = build_gateway(GatewayConfig::default()).unwrap();
    let outcome = gateway
        .confirm(confirm(order(1), "tgen_ok", "confirm-1"))
        .await;
    assert!(matches!(outcome, GatewayOutcome::Approved(a) if a.method == SIMULATED_METHOD));
}

/// The simulator's memory does not survive a restart: a refund of a payment it never saw (approved
/// by an earlier run) is granted, so demos and the reconciler can finish cancels after a restart.
#[tokio::test]
async fn cancel_of_a_payment_from_an_earlier_run_is_granted() {
    let gateway = gateway();
    let order = order(7);
    assert_eq!(
        gateway
            .cancel(cancel(order, "tgen_before_restart", "cancel-9"))
            .await,
        CancelOutcome::Canceled
    );
    assert_eq!(gateway.refunds_for(&order), 1);
    assert_eq!(
        gateway.lookup(lookup(order, "tgen_before_restart")).await,
        LookupOutcome::Canceled
    );
}
