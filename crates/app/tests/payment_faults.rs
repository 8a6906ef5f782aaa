//! Payment and cancel faults against the real server, the real PostgreSQL and the simulated
//! gateway: declines, timeouts, 5xx answers, a crash between the reservation and the gateway
//! call, double confirms, failing refunds, spent earnings, and expiry racing a confirmation.
//!
//! Background jobs are off: each test drives the reconciler and the expiry job itself, moving
//! the application's clock past the staleness window instead of sleeping.

// The helpers below are test code too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use common::TestApp;
use domain::model::{
    Money, Order, OrderId, OrderKey, OrderStatus, Payment, PaymentFailure, PaymentId, PaymentKey,
    PaymentStatus, UserId,
};
use domain::ports::{
    Approval, BeginCancelError, CancelCompletion, CancelRejection, CancelStart, GatewayConfirm,
    GatewayOutcome, PaymentGateway, PaymentRepository, PaymentRequest, PreparePaymentError,
    Release, Reservation, ReserveError, SettleError,
};
use domain::usecases::{ConfirmOutcome, Payments, Policies, Ports, ReconcileReport};
use futures::FutureExt as _;
use futures::future::BoxFuture;
use reqwest::StatusCode;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

/// The app's default `RECONCILE_AFTER_SECS`: payments pending longer than this are looked up.
const STALE_AFTER: Duration = Duration::seconds(30);

// One purchase, the same in every test: 2 × 20,000 won with a 5,000-won coupon and 2,000 of the
// buyer's 3,000 points: 40,000 − 5,000 + 3,000 shipping − 2,000 = 36,000 to charge, 360 earned.
const PRICE: i64 = 20_000;
const STOCK: i64 = 10;
const QUANTITY: i64 = 2;
const GRANTED: i64 = 3_000;
const USED_POINTS: i64 = 2_000;
const AMOUNT: i64 = 36_000;
const EARNED: i64 = 360;

/// A buyer with a product, a coupon, points, and an order whose payment is requested (READY).
struct Purchase {
    user: i64,
    product: i64,
    coupon: i64,
    order_key: String,
    amount: i64,
}

impl Purchase {
    async fn new(app: &TestApp, user: i64) -> Purchase {
        let product = app.product(&format!("셔츠 {user}"), PRICE, STOCK).await;
        let coupon = app.owned_coupon(user, 5_000).await;
        app.grant_points(user, GRANTED).await;
        let order_key = app.order(user, product, QUANTITY).await;
        let amount = app
            .request_payment(user, &order_key, Some(coupon), USED_POINTS)
            .await;
        assert_eq!(amount, AMOUNT);
        Purchase {
            user,
            product,
            coupon,
            order_key,
            amount,
        }
    }

    fn key(&self) -> OrderKey {
        self.order_key.parse().unwrap()
    }

    async fn confirm(&self, app: &TestApp, payment_key: &str) -> (StatusCode, Value) {
        app.confirm(self.user, &self.order_key, payment_key, self.amount)
            .await
    }

    async fn cancel(&self, app: &TestApp) -> (StatusCode, Value) {
        app.post(
            &format!("/v1/orders/{}/cancel", self.order_key),
            &app.buyer(self.user),
            json!({}),
        )
        .await
    }

    /// Requests payment again (after a decline), with the same coupon and points.
    async fn request_again(&self, app: &TestApp) {
        let amount = app
            .request_payment(self.user, &self.order_key, Some(self.coupon), USED_POINTS)
            .await;
        assert_eq!(amount, self.amount);
    }

    /// This order's point movements, oldest first, after checking the whole ledger adds up.
    async fn point_moves(&self, app: &TestApp) -> Vec<(String, i64)> {
        ledger(app, self.user)
            .await
            .into_iter()
            .filter(|e| e.order_key.as_deref() == Some(self.order_key.as_str()))
            .map(|e| (e.kind, e.amount))
            .collect()
    }

    /// Stock, coupon and points taken by the reservation; order CREATED, payment CONFIRMING.
    async fn assert_held(&self, app: &TestApp) {
        assert_eq!(app.stock(self.product).await, STOCK - QUANTITY);
        assert_eq!(
            app.owned_coupon_status(self.user, self.coupon).await,
            "USED"
        );
        assert_eq!(app.points(self.user).await, GRANTED - USED_POINTS);
        assert_eq!(self.point_moves(app).await, vec![moved("USE", USED_POINTS)]);
        assert_eq!(order(app, self.key()).await.status, OrderStatus::Created);
        assert_eq!(
            payment(app, self.key()).await.status,
            PaymentStatus::Confirming
        );
    }

    /// Everything the reservation took given back exactly once; order CREATED, payment FAILED.
    async fn assert_released(&self, app: &TestApp, failure_code: &str) {
        assert_eq!(app.stock(self.product).await, STOCK);
        assert_eq!(
            app.owned_coupon_status(self.user, self.coupon).await,
            "ISSUED"
        );
        assert_eq!(app.points(self.user).await, GRANTED);
        assert_eq!(
            self.point_moves(app).await,
            vec![moved("USE", USED_POINTS), moved("REFUND", USED_POINTS)]
        );
        let order = order(app, self.key()).await;
        assert_eq!(order.status, OrderStatus::Created);
        assert_eq!(order.amounts.paid_amount, Money::ZERO);
        let payment = payment(app, self.key()).await;
        assert_eq!(payment.status, PaymentStatus::Failed);
        assert_eq!(payment.failure.unwrap().code, failure_code);
        let detail = app.order_detail(self.user, &self.order_key).await;
        assert_eq!(detail["status"], "CREATED");
        assert_eq!(detail["payment"]["status"], "FAILED");
    }

    /// Paid once: stock and coupon kept, points spent and earned once, charged once.
    async fn assert_paid(&self, app: &TestApp) {
        assert_eq!(app.stock(self.product).await, STOCK - QUANTITY);
        assert_eq!(
            app.owned_coupon_status(self.user, self.coupon).await,
            "USED"
        );
        assert_eq!(app.points(self.user).await, GRANTED - USED_POINTS + EARNED);
        assert_eq!(
            self.point_moves(app).await,
            vec![moved("USE", USED_POINTS), moved("EARN", EARNED)]
        );
        let order = order(app, self.key()).await;
        assert_eq!(order.status, OrderStatus::Paid);
        assert_eq!(order.amounts.paid_amount, won(AMOUNT));
        assert_eq!(order.amounts.earned_point, won(EARNED));
        assert_eq!(
            payment(app, self.key()).await.status,
            PaymentStatus::Approved
        );
        let detail = app.order_detail(self.user, &self.order_key).await;
        assert_eq!(detail["status"], "PAID");
        assert_eq!(detail["paidAmount"], AMOUNT);
        assert_eq!(detail["payment"]["status"], "APPROVED");
        assert_eq!(app.gateway.charges_for(&self.key()), 1);
    }

    /// Canceled and refunded once: stock, coupon and spent points back, earnings taken back.
    async fn assert_canceled(&self, app: &TestApp) {
        assert_eq!(app.stock(self.product).await, STOCK);
        assert_eq!(
            app.owned_coupon_status(self.user, self.coupon).await,
            "ISSUED"
        );
        assert_eq!(app.points(self.user).await, GRANTED);
        assert_eq!(
            self.point_moves(app).await,
            vec![
                moved("USE", USED_POINTS),
                moved("EARN", EARNED),
                moved("EARN_REVOKE", EARNED),
                moved("REFUND", USED_POINTS),
            ]
        );
        assert_eq!(order(app, self.key()).await.status, OrderStatus::Canceled);
        let payment = payment(app, self.key()).await;
        assert_eq!(payment.status, PaymentStatus::Canceled);
        assert_eq!(payment.cancel_amount, Some(won(AMOUNT)));
        assert_eq!(app.gateway.charges_for(&self.key()), 1);
        assert_eq!(app.gateway.refunds_for(&self.key()), 1);
        let detail = app.order_detail(self.user, &self.order_key).await;
        assert_eq!(detail["status"], "CANCELED");
        assert_eq!(detail["payment"]["status"], "CANCELED");
    }
}

fn moved(kind: &str, amount: i64) -> (String, i64) {
    (kind.to_owned(), amount)
}

fn won(amount: i64) -> Money {
    Money::new(amount).unwrap()
}

/// A point ledger entry as `GET /v1/points` shows it.
#[derive(Debug)]
struct Entry {
    kind: String,
    amount: i64,
    balance_after: i64,
    order_key: Option<String>,
}

/// The buyer's whole ledger, oldest first, checked to add up: each entry moves the balance by its
/// amount in its direction, never below zero, and the last one is the balance.
async fn ledger(app: &TestApp, user: i64) -> Vec<Entry> {
    let (status, body) = app.get("/v1/points?limit=100", &app.buyer(user)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["nextCursor"].is_null(), "more than one page: {body}");
    let mut entries: Vec<Entry> = body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| Entry {
            kind: e["kind"].as_str().unwrap().to_owned(),
            amount: e["amount"].as_i64().unwrap(),
            balance_after: e["balanceAfter"].as_i64().unwrap(),
            order_key: e["orderKey"].as_str().map(str::to_owned),
        })
        .collect();
    entries.reverse();
    let mut balance = 0;
    for entry in &entries {
        assert!(entry.amount > 0, "{entry:?}");
        balance += match entry.kind.as_str() {
            "GRANT" | "REFUND" | "EARN" => entry.amount,
            "USE" | "EARN_REVOKE" => -entry.amount,
            other => panic!("unknown ledger kind {other}"),
        };
        assert!(balance >= 0, "the balance went negative at {entry:?}");
        assert_eq!(entry.balance_after, balance, "{entries:?}");
    }
    assert_eq!(body["balance"], balance, "{entries:?}");
    entries
}

/// The order as stored.
async fn order(app: &TestApp, key: OrderKey) -> Order {
    app.ports.orders.find_by_key(key).await.unwrap().unwrap()
}

/// The order's latest payment as stored.
async fn payment(app: &TestApp, key: OrderKey) -> Payment {
    let order = order(app, key).await;
    app.ports
        .payments
        .latest_for_order(order.id)
        .await
        .unwrap()
        .unwrap()
}

/// One reconciler run as the background job does it, once the staleness window has passed.
async fn reconcile(app: &TestApp) -> ReconcileReport {
    app.clock.advance(STALE_AFTER + Duration::seconds(1));
    app.services
        .payments
        .reconcile_pending(STALE_AFTER, 100)
        .await
        .unwrap()
}

/// What `Payments::confirm` reserves for the order's READY payment: its first step, alone.
async fn reservation(app: &TestApp, key: OrderKey, payment_key: &str) -> Reservation {
    let order = order(app, key).await;
    let ready = payment(app, key).await;
    assert_eq!(ready.status, PaymentStatus::Ready);
    Reservation {
        payment_id: ready.id,
        order_id: order.id,
        order_key: order.key,
        user_id: order.user_id,
        payment_key: PaymentKey::new(payment_key).unwrap(),
        stock: order.stock_lines(),
        owned_coupon_id: ready.owned_coupon_id,
        used_point: ready.used_point,
        now: app.services.payments.now(),
    }
}

fn report(approved: u32, declined: u32, canceled: u32, still_pending: u32) -> ReconcileReport {
    ReconcileReport {
        approved,
        declined,
        canceled,
        still_pending,
        ..ReconcileReport::default()
    }
}

// ---- 1. decline ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_payment_restores_everything_and_the_order_can_be_paid_again() {
    let app = TestApp::spawn().await;
    let purchase = Purchase::new(&app, 7).await;

    let (status, problem) = purchase.confirm(&app, "decline-card-1").await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED, "{problem}");
    assert_eq!(problem["code"], "PAYMENT_DECLINED");
    assert_eq!(problem["gatewayCode"], "REJECT_CARD_PAYMENT");
    purchase
        .assert_released(&app, adapters_toss::simulated::DECLINE_CODE)
        .await;
    assert_eq!(app.gateway.charges_for(&purchase.key()), 0);
    assert_eq!(app.gateway.confirm_calls(), 1);

    // Repeating the declined confirm answers the same decline from what is stored.
    let (status, problem) = purchase.confirm(&app, "decline-card-1").await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED, "{problem}");
    assert_eq!(problem["gatewayCode"], "REJECT_CARD_PAYMENT");
    assert_eq!(app.gateway.confirm_calls(), 1);
    purchase
        .assert_released(&app, adapters_toss::simulated::DECLINE_CODE)
        .await;

    // The buyer requests payment again and pays with another card.
    purchase.request_again(&app).await;
    assert_eq!(
        payment(&app, purchase.key()).await.status,
        PaymentStatus::Ready
    );
    let (status, paid) = purchase.confirm(&app, "pk-good-card-1").await;
    assert_eq!(status, StatusCode::OK, "{paid}");
    assert_eq!(paid["status"], "PAID");
    assert_eq!(paid["paidAmount"], AMOUNT);
    assert_eq!(app.gateway.confirm_calls(), 2);
    assert_eq!(app.stock(purchase.product).await, STOCK - QUANTITY);
    assert_eq!(
        app.owned_coupon_status(purchase.user, purchase.coupon)
            .await,
        "USED"
    );
    assert_eq!(
        purchase.point_moves(&app).await,
        vec![
            moved("USE", USED_POINTS),
            moved("REFUND", USED_POINTS),
            moved("USE", USED_POINTS),
            moved("EARN", EARNED),
        ]
    );
    assert_eq!(
        app.points(purchase.user).await,
        GRANTED - USED_POINTS + EARNED
    );
    assert_eq!(app.gateway.charges_for(&purchase.key()), 1);

    app.stop().await;
}

// ---- 2. timeout ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_out_confirm_stays_confirming_until_the_reconciler_finds_it_approved() {
    let app = TestApp::spawn().await;
    let purchase = Purchase::new(&app, 7).await;

    let (status, body) = purchase.confirm(&app, "timeout-card-1").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["status"], "CONFIRMING");
    assert_eq!(body["orderKey"], purchase.order_key.as_str());
    purchase.assert_held(&app).await;
    assert_eq!(app.gateway.confirm_calls(), 1);

    // While pending: a repeated confirm answers 202 without asking the gateway again; a new
    // payment request and a buyer's cancel are refused.
    let (status, body) = purchase.confirm(&app, "timeout-card-1").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(app.gateway.confirm_calls(), 1);
    let (status, problem) = app
        .post(
            "/v1/payments",
            &app.buyer(purchase.user),
            json!({"orderKey": purchase.order_key, "shippingAddress": {"recipient": "홍길동", "phone": "010-1234-5678", "zipCode": "06236", "address1": "서울 강남구 테헤란로 1"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["code"], "PAYMENT_IN_PROGRESS");
    let (status, problem) = purchase.cancel(&app).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["code"], "PAYMENT_IN_PROGRESS");
    purchase.assert_held(&app).await;

    // A payment pending for less than the window is left alone.
    let early = app
        .services
        .payments
        .reconcile_pending(STALE_AFTER, 100)
        .await
        .unwrap();
    assert_eq!(early, ReconcileReport::default());
    assert_eq!(app.gateway.lookup_calls(), 0);

    // Past the window, the look-up finds it approved.
    assert_eq!(reconcile(&app).await, report(1, 0, 0, 0));
    assert_eq!(app.gateway.lookup_calls(), 1);
    assert_eq!(app.gateway.confirm_calls(), 1);
    purchase.assert_paid(&app).await;

    // Nothing is left to reconcile; points were earned once.
    assert_eq!(reconcile(&app).await, ReconcileReport::default());
    purchase.assert_paid(&app).await;

    // The buyer's repeat now answers the paid order, still without a gateway call.
    let (status, paid) = purchase.confirm(&app, "timeout-card-1").await;
    assert_eq!(status, StatusCode::OK, "{paid}");
    assert_eq!(paid["status"], "PAID");
    assert_eq!(app.gateway.confirm_calls(), 1);

    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_out_confirm_found_declined_by_the_reconciler_restores_everything() {
    let app = TestApp::spawn().await;
    let purchase = Purchase::new(&app, 7).await;

    let (status, body) = purchase.confirm(&app, "timeout-card-2").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    purchase.assert_held(&app).await;

    // The card company voided the authorisation: the gateway now reports it declined.
    let failure = PaymentFailure {
        code: "REJECT_CARD_COMPANY".to_owned(),
        message: "voided".to_owned(),
    };
    assert!(
        app.gateway
            .force_decline(&purchase.key(), "timeout-card-2", failure)
    );
    assert_eq!(reconcile(&app).await, report(0, 1, 0, 0));
    purchase.assert_released(&app, "REJECT_CARD_COMPANY").await;

    // Settled once: another run changes nothing.
    assert_eq!(reconcile(&app).await, ReconcileReport::default());
    purchase.assert_released(&app, "REJECT_CARD_COMPANY").await;

    // The buyer polling with the same key learns it was declined.
    let (status, problem) = purchase.confirm(&app, "timeout-card-2").await;
    assert_eq!(status, StatusCode::PAYMENT_REQUIRED, "{problem}");
    assert_eq!(problem["gatewayCode"], "REJECT_CARD_COMPANY");
    assert_eq!(app.gateway.confirm_calls(), 1);

    app.stop().await;
}

// ---- 3. 5xx ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confirm_answered_with_a_5xx_is_reconciled_to_paid() {
    let app = TestApp::spawn().await;
    let purchase = Purchase::new(&app, 7).await;

    let (status, body) = purchase.confirm(&app, "error-card-1").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["status"], "CONFIRMING");
    purchase.assert_held(&app).await;

    // The first look-up fails too: the payment stays pending and is tried again later.
    app.gateway.fail_next_lookups(1);
    assert_eq!(reconcile(&app).await, report(0, 0, 0, 1));
    purchase.assert_held(&app).await;

    assert_eq!(reconcile(&app).await, report(1, 0, 0, 0));
    purchase.assert_paid(&app).await;
    assert_eq!(app.gateway.confirm_calls(), 1);
    assert_eq!(app.gateway.lookup_calls(), 2);

    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confirm_that_failed_before_reaching_the_gateway_is_sent_again_by_the_reconciler() {
    let app = TestApp::spawn().await;
    let purchase = Purchase::new(&app, 7).await;

    // A 503 before the gateway processed anything: nothing is charged.
    app.gateway.fail_next_confirms(1);
    let (status, body) = purchase.confirm(&app, "pk-card-1").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    purchase.assert_held(&app).await;
    assert_eq!(app.gateway.charges_for(&purchase.key()), 0);

    // The look-up finds nothing confirmed, so the confirm is sent again (same idempotency key).
    assert_eq!(reconcile(&app).await, report(1, 0, 0, 0));
    assert_eq!(app.gateway.confirm_calls(), 2);
    purchase.assert_paid(&app).await;

    app.stop().await;
}

// ---- 4. a crash between the reservation and the gateway call ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_after_the_reservation_is_finished_by_the_reconciler() {
    let app = TestApp::spawn().await;
    let purchase = Purchase::new(&app, 7).await;

    // Only step (a) runs; the process "dies" before calling the gateway.
    let reservation = reservation(&app, purchase.key(), "pk-crash-1").await;
    let reserved = app.ports.payments.reserve(reservation).await.unwrap();
    assert_eq!(reserved.status, PaymentStatus::Confirming);
    assert_eq!(reserved.payment_key.unwrap().as_str(), "pk-crash-1");
    purchase.assert_held(&app).await;
    assert_eq!(app.gateway.confirm_calls(), 0);
    assert_eq!(app.gateway.charges_for(&purchase.key()), 0);

    // The buyer's browser retries the confirm meanwhile: pending, and still no gateway call.
    let (status, body) = purchase.confirm(&app, "pk-crash-1").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(app.gateway.confirm_calls(), 0);

    // The reconciler: look-up says not confirmed → confirm sent with the same key → approved.
    assert_eq!(reconcile(&app).await, report(1, 0, 0, 0));
    assert_eq!(app.gateway.lookup_calls(), 1);
    assert_eq!(app.gateway.confirm_calls(), 1);
    purchase.assert_paid(&app).await;
    assert_eq!(reconcile(&app).await, ReconcileReport::default());
    assert_eq!(app.gateway.charges_for(&purchase.key()), 1);

    let (status, paid) = purchase.confirm(&app, "pk-crash-1").await;
    assert_eq!(status, StatusCode::OK, "{paid}");
    assert_eq!(paid["status"], "PAID");
    assert_eq!(app.gateway.confirm_calls(), 1);

    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_after_the_reservation_of_a_card_that_is_declined_is_released_by_the_reconciler() {
    let app = TestApp::spawn().await;
    let purchase = Purchase::new(&app, 7).await;

    let reservation = reservation(&app, purchase.key(), "decline-crash-1").await;
    app.ports.payments.reserve(reservation).await.unwrap();
    purchase.assert_held(&app).await;

    // The resent confirm is declined: everything is given back.
    assert_eq!(reconcile(&app).await, report(0, 1, 0, 0));
    assert_eq!(app.gateway.confirm_calls(), 1);
    purchase
        .assert_released(&app, adapters_toss::simulated::DECLINE_CODE)
        .await;
    assert_eq!(app.gateway.charges_for(&purchase.key()), 0);

    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_after_the_gateway_approved_is_settled_from_the_look_up() {
    let app = TestApp::spawn().await;
    let purchase = Purchase::new(&app, 7).await;

    // Step (a), then step (b) approved at the gateway; the process dies before step (c).
    let reservation = reservation(&app, purchase.key(), "pk-crash-2").await;
    let reserved = app.ports.payments.reserve(reservation).await.unwrap();
    let outcome = app
        .gateway
        .confirm(GatewayConfirm {
            payment_key: PaymentKey::new("pk-crash-2").unwrap(),
            order_key: purchase.key(),
            amount: reserved.amount,
            idempotency_key: reserved.confirm_idempotency_key(purchase.key()),
        })
        .await;
    assert!(
        matches!(outcome, GatewayOutcome::Approved(_)),
        "{outcome:?}"
    );
    purchase.assert_held(&app).await;

    // The look-up finds it approved: settled without a second confirm.
    assert_eq!(reconcile(&app).await, report(1, 0, 0, 0));
    assert_eq!(app.gateway.confirm_calls(), 1);
    purchase.assert_paid(&app).await;

    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reservation_that_fails_midway_changes_nothing() {
    let app = TestApp::spawn().await;
    let purchase = Purchase::new(&app, 7).await;

    // The buyer spends the points elsewhere between requesting and confirming: the reservation
    // takes stock and the coupon, then fails on the points, and the transaction rolls back.
    let mut reservation = reservation(&app, purchase.key(), "pk-card-1").await;
    reservation.used_point = won(GRANTED + 1);
    let refused = app.ports.payments.reserve(reservation).await;
    assert!(
        matches!(refused, Err(ReserveError::InsufficientPoints)),
        "{refused:?}"
    );
    assert_eq!(app.stock(purchase.product).await, STOCK);
    assert_eq!(
        app.owned_coupon_status(purchase.user, purchase.coupon)
            .await,
        "ISSUED"
    );
    assert_eq!(app.points(purchase.user).await, GRANTED);
    assert!(purchase.point_moves(&app).await.is_empty());
    assert_eq!(
        payment(&app, purchase.key()).await.status,
        PaymentStatus::Ready
    );
    assert_eq!(
        order(&app, purchase.key()).await.status,
        OrderStatus::Created
    );

    // Not even the order's "payment in progress" flag stuck: the real confirm goes through.
    let (status, paid) = purchase.confirm(&app, "pk-card-1").await;
    assert_eq!(status, StatusCode::OK, "{paid}");
    purchase.assert_paid(&app).await;

    app.stop().await;
}

// ---- 5. double confirm ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_confirms_charge_once() {
    let app = TestApp::spawn().await;
    let purchase = Purchase::new(&app, 7).await;

    let (first, second) = tokio::join!(
        purchase.confirm(&app, "pk-double-1"),
        purchase.confirm(&app, "pk-double-1"),
    );
    assert_confirm_answers(&[first, second]);
    assert_eq!(app.gateway.confirm_calls(), 1);
    purchase.assert_paid(&app).await;

    // A later repeat answers the same paid order without a gateway call.
    let (status, paid) = purchase.confirm(&app, "pk-double-1").await;
    assert_eq!(status, StatusCode::OK, "{paid}");
    assert_eq!(paid["status"], "PAID");
    assert_eq!(paid["orderKey"], purchase.order_key.as_str());
    assert_eq!(paid["paidAmount"], AMOUNT);
    assert_eq!(paid["payment"]["status"], "APPROVED");
    assert_eq!(app.gateway.confirm_calls(), 1);

    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_concurrent_confirms_charge_once() {
    let app = TestApp::spawn().await;
    let purchase = Purchase::new(&app, 7).await;

    let answers =
        futures::future::join_all((0..10).map(|_| purchase.confirm(&app, "pk-double-10"))).await;
    assert_confirm_answers(&answers);
    assert_eq!(app.gateway.confirm_calls(), 1);
    purchase.assert_paid(&app).await;

    let (status, paid) = purchase.confirm(&app, "pk-double-10").await;
    assert_eq!(status, StatusCode::OK, "{paid}");
    assert_eq!(paid["status"], "PAID");
    assert_eq!(app.gateway.confirm_calls(), 1);

    app.stop().await;
}

/// Every answer to a racing confirm is the paid order (200) or "pending" (202); at least one
/// is the paid order (the one that called the gateway).
fn assert_confirm_answers(answers: &[(StatusCode, Value)]) {
    for (status, body) in answers {
        match *status {
            StatusCode::OK => {
                assert_eq!(body["status"], "PAID", "{body}");
                assert_eq!(body["paidAmount"], AMOUNT, "{body}");
                assert_eq!(body["payment"]["status"], "APPROVED", "{body}");
            }
            StatusCode::ACCEPTED => assert_eq!(body["status"], "CONFIRMING", "{body}"),
            other => panic!("a racing confirm answered {other}: {body}"),
        }
    }
    assert!(
        answers.iter().any(|(status, _)| *status == StatusCode::OK),
        "{answers:?}"
    );
}

/// A [`PaymentRepository`] over the real one that, the first time the confirm use case reaches
/// `hook`, first lets a rival confirm of the same payment run to the end: the interleaving two
/// racing HTTP confirms produce only now and then, made deterministic.
struct RivalFirst {
    inner: Arc<dyn PaymentRepository>,
    hook: Hook,
    rival: Mutex<Option<BoxFuture<'static, ()>>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hook {
    /// After the order was read, before its payment is.
    LatestForOrder,
    /// After both were read (payment READY), before the reservation.
    Reserve,
}

impl RivalFirst {
    async fn rival_runs_if(&self, at: Hook) {
        if at != self.hook {
            return;
        }
        let rival = self.rival.lock().unwrap().take();
        if let Some(rival) = rival {
            rival.await;
        }
    }
}

#[async_trait]
impl PaymentRepository for RivalFirst {
    async fn prepare(&self, request: PaymentRequest) -> Result<Payment, PreparePaymentError> {
        self.inner.prepare(request).await
    }

    async fn latest_for_order(&self, order: OrderId) -> anyhow::Result<Option<Payment>> {
        self.rival_runs_if(Hook::LatestForOrder).await;
        self.inner.latest_for_order(order).await
    }

    async fn find(&self, id: PaymentId) -> anyhow::Result<Option<Payment>> {
        self.inner.find(id).await
    }

    async fn reserve(&self, reservation: Reservation) -> Result<Payment, ReserveError> {
        self.rival_runs_if(Hook::Reserve).await;
        self.inner.reserve(reservation).await
    }

    async fn approve(&self, approval: Approval) -> Result<(), SettleError> {
        self.inner.approve(approval).await
    }

    async fn release(&self, release: Release) -> Result<(), SettleError> {
        self.inner.release(release).await
    }

    async fn record_failure(
        &self,
        payment: PaymentId,
        failure: PaymentFailure,
        now: OffsetDateTime,
    ) -> Result<(), SettleError> {
        self.inner.record_failure(payment, failure, now).await
    }

    async fn claim_pending(
        &self,
        stale_before: OffsetDateTime,
        now: OffsetDateTime,
        limit: u32,
    ) -> anyhow::Result<Vec<Payment>> {
        self.inner.claim_pending(stale_before, now, limit).await
    }

    async fn begin_cancel(&self, start: CancelStart) -> Result<Payment, BeginCancelError> {
        self.inner.begin_cancel(start).await
    }

    async fn complete_cancel(&self, completion: CancelCompletion) -> Result<(), SettleError> {
        self.inner.complete_cancel(completion).await
    }

    async fn reject_cancel(&self, rejection: CancelRejection) -> Result<(), SettleError> {
        self.inner.reject_cancel(rejection).await
    }
}

/// Confirms `purchase` through a second `Payments` whose repository lets the app's own confirm
/// win the race at `hook`; returns the loser's answer.
async fn confirm_losing_the_race_at(
    app: &TestApp,
    purchase: &Purchase,
    hook: Hook,
) -> ConfirmOutcome {
    let winner = app.services.payments.clone();
    let (user, key, amount) = (UserId::new(purchase.user), purchase.key(), won(AMOUNT));
    let rival = async move {
        let won_race = winner
            .confirm(user, key, PaymentKey::new("pk-race-1").unwrap(), amount)
            .await;
        assert!(
            matches!(won_race, Ok(ConfirmOutcome::Paid(_))),
            "{won_race:?}"
        );
    }
    .boxed();
    let ports = Ports {
        payments: Arc::new(RivalFirst {
            inner: app.ports.payments.clone(),
            hook,
            rival: Mutex::new(Some(rival)),
        }),
        ..app.ports.clone()
    };
    let loser = Payments::new(&ports, Policies::default());
    loser
        .confirm(user, key, PaymentKey::new("pk-race-1").unwrap(), amount)
        .await
        .unwrap()
}

/// The loser of a race must answer like the winner did: the PAID order, with its paid amount.
async fn assert_the_loser_answers_the_paid_order(hook: Hook) {
    let app = TestApp::spawn().await;
    let purchase = Purchase::new(&app, 7).await;

    let outcome = confirm_losing_the_race_at(&app, &purchase, hook).await;
    // The rival called the gateway once; the loser did not.
    assert_eq!(app.gateway.confirm_calls(), 1);
    purchase.assert_paid(&app).await;
    let ConfirmOutcome::Paid(detail) = outcome else {
        panic!("the loser answered {outcome:?}");
    };
    assert_eq!(
        detail.payment.as_ref().map(|p| p.status),
        Some(PaymentStatus::Approved)
    );
    assert_eq!(
        detail.order.status,
        OrderStatus::Paid,
        "the answer shows the order as it was read before the rival paid it"
    );
    assert_eq!(detail.order.amounts.paid_amount, won(AMOUNT));

    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confirm_whose_reservation_loses_to_an_approval_answers_the_paid_order() {
    assert_the_loser_answers_the_paid_order(Hook::Reserve).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confirm_that_reads_the_payment_just_approved_answers_the_paid_order() {
    assert_the_loser_answers_the_paid_order(Hook::LatestForOrder).await;
}

// ---- 6. cancel with the gateway failing ----

/// Pays the purchase and returns the cancel's answer with the gateway fault armed by `arm`.
async fn pay_then_cancel(
    app: &TestApp,
    purchase: &Purchase,
    arm: impl FnOnce(&adapters_toss::SimulatedGateway),
) -> (StatusCode, Value) {
    let (status, paid) = purchase.confirm(app, "pk-card-1").await;
    assert_eq!(status, StatusCode::OK, "{paid}");
    purchase.assert_paid(app).await;
    arm(&app.gateway);
    purchase.cancel(app).await
}

/// The state while the refund is unresolved: order PAID, payment CANCELING with the full refund
/// to ask for, the earned points already taken back, nothing else given back yet.
async fn assert_cancel_pending(app: &TestApp, purchase: &Purchase) {
    let order = order(app, purchase.key()).await;
    assert_eq!(order.status, OrderStatus::Paid);
    let payment = payment(app, purchase.key()).await;
    assert_eq!(payment.status, PaymentStatus::Canceling);
    assert_eq!(payment.cancel_amount, Some(won(AMOUNT)));
    assert_eq!(payment.revoked_point, won(EARNED));
    assert_eq!(app.stock(purchase.product).await, STOCK - QUANTITY);
    assert_eq!(
        app.owned_coupon_status(purchase.user, purchase.coupon)
            .await,
        "USED"
    );
    assert_eq!(app.points(purchase.user).await, GRANTED - USED_POINTS);
    assert_eq!(
        purchase.point_moves(app).await,
        vec![
            moved("USE", USED_POINTS),
            moved("EARN", EARNED),
            moved("EARN_REVOKE", EARNED),
        ]
    );
    let detail = app.order_detail(purchase.user, &purchase.order_key).await;
    assert_eq!(detail["status"], "PAID");
    assert_eq!(detail["payment"]["status"], "CANCELING");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancel_the_gateway_fails_is_retried_by_the_reconciler_and_refunded_once() {
    let app = TestApp::spawn().await;
    let purchase = Purchase::new(&app, 7).await;

    let (status, body) = pay_then_cancel(&app, &purchase, |g| g.fail_next_cancels(1)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["status"], "CANCEL_PENDING");
    assert_eq!(app.gateway.cancel_calls(), 1);
    assert_eq!(app.gateway.refunds_for(&purchase.key()), 0);
    assert_cancel_pending(&app, &purchase).await;

    // The buyer asking again is told it is pending; the gateway is not asked again.
    let (status, body) = purchase.cancel(&app).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(app.gateway.cancel_calls(), 1);

    // The reconciler: the look-up finds it still approved, so the refund is asked again.
    assert_eq!(reconcile(&app).await, report(0, 0, 1, 0));
    assert_eq!(app.gateway.cancel_calls(), 2);
    purchase.assert_canceled(&app).await;

    // Another run finds nothing to do; nothing is refunded or restored twice.
    assert_eq!(reconcile(&app).await, ReconcileReport::default());
    assert_eq!(app.gateway.cancel_calls(), 2);
    purchase.assert_canceled(&app).await;

    // Canceling again answers the canceled order, without asking the gateway again.
    let (status, again) = purchase.cancel(&app).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["status"], "CANCELED");
    assert_eq!(app.gateway.cancel_calls(), 2);

    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_whose_answer_was_lost_is_found_canceled_by_the_reconciler() {
    let app = TestApp::spawn().await;
    let purchase = Purchase::new(&app, 7).await;

    let (status, body) = pay_then_cancel(&app, &purchase, |g| g.time_out_next_cancels(1)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["status"], "CANCEL_PENDING");
    // Refunded at the gateway, not yet here.
    assert_eq!(app.gateway.refunds_for(&purchase.key()), 1);
    assert_cancel_pending(&app, &purchase).await;

    // The look-up finds it canceled: settled without asking for the refund again.
    assert_eq!(reconcile(&app).await, report(0, 0, 1, 0));
    assert_eq!(app.gateway.cancel_calls(), 1);
    purchase.assert_canceled(&app).await;
    assert_eq!(reconcile(&app).await, ReconcileReport::default());
    purchase.assert_canceled(&app).await;

    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_the_gateway_refuses_leaves_the_order_paid_and_gives_the_earnings_back() {
    let app = TestApp::spawn().await;
    let purchase = Purchase::new(&app, 7).await;

    // The gateway no longer holds the payment as approved: it refuses the refund for good.
    let (status, problem) = pay_then_cancel(&app, &purchase, |g| {
        let voided = PaymentFailure {
            code: "VOIDED".to_owned(),
            message: "voided".to_owned(),
        };
        assert!(g.force_decline(&purchase.key(), "pk-card-1", voided));
    })
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["code"], "CANCEL_REJECTED");
    assert_eq!(problem["gatewayCode"], "NOT_CANCELABLE_PAYMENT");
    assert_eq!(app.gateway.refunds_for(&purchase.key()), 0);

    // Still paid; the earned points taken back at the start are credited again.
    let payment = payment(&app, purchase.key()).await;
    assert_eq!(payment.status, PaymentStatus::Approved);
    assert_eq!(payment.cancel_amount, None);
    assert_eq!(payment.revoked_point, Money::ZERO);
    assert_eq!(order(&app, purchase.key()).await.status, OrderStatus::Paid);
    assert_eq!(app.stock(purchase.product).await, STOCK - QUANTITY);
    assert_eq!(
        app.points(purchase.user).await,
        GRANTED - USED_POINTS + EARNED
    );
    assert_eq!(
        purchase.point_moves(&app).await,
        vec![
            moved("USE", USED_POINTS),
            moved("EARN", EARNED),
            moved("EARN_REVOKE", EARNED),
            moved("EARN", EARNED),
        ]
    );
    // Nothing is left pending.
    assert_eq!(reconcile(&app).await, ReconcileReport::default());

    app.stop().await;
}

// ---- 7. earned points already spent ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn earned_points_already_spent_are_taken_from_the_refund() {
    let app = TestApp::spawn().await;
    let user = 7;
    let tv = app.product("TV", 100_000, 5).await;
    let cable = app.product("케이블", 10_000, 5).await;

    // Order A: 100,000 (free shipping), earns 1,000.
    let first = app.order(user, tv, 1).await;
    let amount = app.request_payment(user, &first, None, 0).await;
    assert_eq!(amount, 100_000);
    let (status, paid) = app.confirm(user, &first, "pk-a", amount).await;
    assert_eq!(status, StatusCode::OK, "{paid}");
    assert_eq!(app.points(user).await, 1_000);

    // Order B spends the 1,000 earned points: 10,000 + 3,000 − 1,000 = 12,000, earns 120.
    let second = app.order(user, cable, 1).await;
    let amount = app.request_payment(user, &second, None, 1_000).await;
    assert_eq!(amount, 12_000);
    let (status, paid) = app.confirm(user, &second, "pk-b", amount).await;
    assert_eq!(status, StatusCode::OK, "{paid}");
    assert_eq!(app.points(user).await, 120);

    // Cancel A: only 120 of its 1,000 earned points are left to take back; the other 880 are
    // kept from the refund.
    let (status, canceled) = app
        .post(
            &format!("/v1/orders/{first}/cancel"),
            &app.buyer(user),
            json!({"reason": "단순 변심"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{canceled}");
    assert_eq!(canceled["status"], "CANCELED");
    let first_key: OrderKey = first.parse().unwrap();
    let refunded = payment(&app, first_key).await;
    assert_eq!(refunded.status, PaymentStatus::Canceled);
    assert_eq!(refunded.revoked_point, won(120));
    assert_eq!(refunded.cancel_amount, Some(won(100_000 - 880)));
    assert_eq!(app.gateway.refunds_for(&first_key), 1);
    assert_eq!(app.points(user).await, 0);
    assert_eq!(app.stock(tv).await, 5);
    let entries: Vec<(String, i64, i64)> = ledger(&app, user)
        .await
        .into_iter()
        .map(|e| (e.kind, e.amount, e.balance_after))
        .collect();
    assert_eq!(
        entries,
        vec![
            ("EARN".to_owned(), 1_000, 1_000),
            ("USE".to_owned(), 1_000, 0),
            ("EARN".to_owned(), 120, 120),
            ("EARN_REVOKE".to_owned(), 120, 0),
        ]
    );

    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn earned_points_all_held_by_a_pending_payment_leave_nothing_to_revoke() {
    let app = TestApp::spawn().await;
    let user = 7;
    let tv = app.product("TV", 100_000, 5).await;
    let cable = app.product("케이블", 10_000, 5).await;

    let first = app.order(user, tv, 1).await;
    let amount = app.request_payment(user, &first, None, 0).await;
    let (status, paid) = app.confirm(user, &first, "pk-a", amount).await;
    assert_eq!(status, StatusCode::OK, "{paid}");

    // B's confirm times out holding all 1,000 points: the balance is 0.
    let second = app.order(user, cable, 1).await;
    let amount = app.request_payment(user, &second, None, 1_000).await;
    let (status, body) = app.confirm(user, &second, "timeout-b", amount).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(app.points(user).await, 0);

    // Cancel A: nothing to take back, so the whole 1,000 is kept from the refund.
    let (status, canceled) = app
        .post(
            &format!("/v1/orders/{first}/cancel"),
            &app.buyer(user),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{canceled}");
    let first_key: OrderKey = first.parse().unwrap();
    let refunded = payment(&app, first_key).await;
    assert_eq!(refunded.revoked_point, Money::ZERO);
    assert_eq!(refunded.cancel_amount, Some(won(99_000)));
    assert_eq!(app.points(user).await, 0);

    // B is approved later and earns its 1% (of 12,000).
    assert_eq!(reconcile(&app).await, report(1, 0, 0, 0));
    assert_eq!(app.points(user).await, 120);
    let kinds: Vec<String> = ledger(&app, user)
        .await
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, vec!["EARN", "USE", "EARN"]);

    app.stop().await;
}

// ---- 8. expiry vs. confirmation ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiry_never_takes_an_order_whose_payment_is_being_confirmed() {
    let app = TestApp::spawn().await;
    // Three orders of the same kind: one confirming at the gateway, two only requested.
    let confirming = Purchase::new(&app, 7).await;
    let requested = Purchase::new(&app, 8).await;
    let late = Purchase::new(&app, 9).await;
    let (status, body) = confirming.confirm(&app, "timeout-slow-1").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");

    app.clock.advance(Duration::minutes(31));

    // A confirm after the expiry time is refused and reserves nothing, even before the job ran.
    let calls = app.gateway.confirm_calls();
    let (status, problem) = late.confirm(&app, "pk-late-1").await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["code"], "ORDER_EXPIRED");
    assert_eq!(app.gateway.confirm_calls(), calls);
    assert_eq!(app.stock(late.product).await, STOCK);
    assert_eq!(app.points(late.user).await, GRANTED);
    assert_eq!(
        app.owned_coupon_status(late.user, late.coupon).await,
        "ISSUED"
    );
    assert_eq!(payment(&app, late.key()).await.status, PaymentStatus::Ready);
    // The reservation itself refuses too (a confirm that checked just before the deadline).
    let refused = app
        .ports
        .payments
        .reserve(reservation(&app, late.key(), "pk-late-1").await)
        .await;
    assert!(
        matches!(refused, Err(ReserveError::OrderExpired)),
        "{refused:?}"
    );
    assert_eq!(app.stock(late.product).await, STOCK);

    // The job expires the two unpaid orders, not the one being confirmed.
    let mut expired = app.services.maintenance.expire_unpaid().await.unwrap();
    expired.sort();
    let mut expected = vec![requested.key(), late.key()];
    expected.sort();
    assert_eq!(expired, expected);
    for unpaid in [&requested, &late] {
        assert_eq!(order(&app, unpaid.key()).await.status, OrderStatus::Expired);
        assert_eq!(
            payment(&app, unpaid.key()).await.status,
            PaymentStatus::Failed
        );
    }
    confirming.assert_held(&app).await;

    // Confirming an expired order: not payable, nothing reserved.
    let (status, problem) = requested.confirm(&app, "pk-late-2").await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["code"], "ORDER_NOT_PAYABLE");
    assert_eq!(app.gateway.confirm_calls(), calls);
    assert_eq!(app.stock(requested.product).await, STOCK);

    // The buyer was charged, so the confirming order is paid, late or not; expiry never
    // touches it afterwards.
    assert_eq!(reconcile(&app).await, report(1, 0, 0, 0));
    confirming.assert_paid(&app).await;
    assert!(
        app.services
            .maintenance
            .expire_unpaid()
            .await
            .unwrap()
            .is_empty()
    );
    confirming.assert_paid(&app).await;

    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_released_after_its_expiry_is_expired_by_the_next_run() {
    let app = TestApp::spawn().await;
    let purchase = Purchase::new(&app, 7).await;
    let (status, body) = purchase.confirm(&app, "timeout-slow-2").await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");

    app.clock.advance(Duration::minutes(31));
    assert!(
        app.services
            .maintenance
            .expire_unpaid()
            .await
            .unwrap()
            .is_empty()
    );

    // The gateway says declined: released, and the order (past its expiry) is CREATED again…
    let failure = PaymentFailure {
        code: "REJECT_CARD_COMPANY".to_owned(),
        message: "voided".to_owned(),
    };
    assert!(
        app.gateway
            .force_decline(&purchase.key(), "timeout-slow-2", failure)
    );
    assert_eq!(reconcile(&app).await, report(0, 1, 0, 0));
    purchase.assert_released(&app, "REJECT_CARD_COMPANY").await;

    // …so the next expiry run takes it.
    let expired = app.services.maintenance.expire_unpaid().await.unwrap();
    assert_eq!(expired, vec![purchase.key()]);
    assert_eq!(
        order(&app, purchase.key()).await.status,
        OrderStatus::Expired
    );
    assert_eq!(app.stock(purchase.product).await, STOCK);
    assert_eq!(app.points(purchase.user).await, GRANTED);

    app.stop().await;
}
