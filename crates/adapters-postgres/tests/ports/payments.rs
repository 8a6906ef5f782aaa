use adapters_postgres::schema::orders;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use domain::model::*;
use domain::ports::*;
use time::Duration;

use crate::common::*;

const USER: UserId = UserId::new(1);

async fn grant(env: &Env, user: UserId, points: i64) {
    env.repos
        .points
        .grant(user, won(points), "test".into(), now())
        .await
        .unwrap();
}

async fn owned_coupon(env: &Env, user: UserId) -> OwnedCoupon {
    let c = coupon(env, fixed(500), None, vec![]).await;
    env.repos.coupons.download(user, c.id, now()).await.unwrap()
}

async fn coupon_status(
    env: &Env,
    user: UserId,
    id: OwnedCouponId,
) -> (OwnedCouponStatus, Option<OrderId>) {
    let owned = env
        .repos
        .coupons
        .find_owned(user, id)
        .await
        .unwrap()
        .unwrap();
    (owned.status, owned.used_order_id)
}

async fn balance(env: &Env, user: UserId) -> i64 {
    env.repos.points.balance(user).await.unwrap().won()
}

#[tokio::test]
async fn prepare_creates_then_rewrites_the_ready_payment() {
    let env = env().await;
    let p = product(&env, 1_000, 5).await;
    let q = product(&env, 2_000, 5).await;
    let o = order(&env, USER, &[(&p, 1), (&q, 1)]).await;
    let owned = owned_coupon(&env, USER).await;

    let first = env
        .repos
        .payments
        .prepare(request(&o, Some((owned.id, 500)), 100))
        .await
        .unwrap();
    assert_eq!(first.status, PaymentStatus::Ready);
    assert_eq!(first.order_id, o.id);
    assert_eq!(first.origin_amount, won(3_000));
    assert_eq!(first.coupon_discount, won(500));
    assert_eq!(first.used_point, won(100));
    assert_eq!(first.shipping_fee, won(3_000));
    assert_eq!(first.amount, won(5_400));
    assert_eq!(first.owned_coupon_id, Some(owned.id));
    assert_eq!(first.payment_key, None);
    let stored = env.repos.orders.find_by_id(o.id).await.unwrap().unwrap();
    assert_eq!(stored.shipping_address, Some(address()));
    assert_eq!(stored.items[0].discount, won(500));
    assert_eq!(stored.items[1].discount, Money::ZERO);

    let second = env
        .repos
        .payments
        .prepare(request(&o, None, 0))
        .await
        .unwrap();
    assert_eq!(second.id, first.id);
    assert_eq!(second.owned_coupon_id, None);
    assert_eq!(second.amount, won(6_000));
    let stored = env.repos.orders.find_by_id(o.id).await.unwrap().unwrap();
    assert_eq!(stored.items[0].discount, Money::ZERO);
    assert_eq!(
        env.repos.payments.latest_for_order(o.id).await.unwrap(),
        Some(second)
    );
}

#[tokio::test]
async fn prepare_conflicts() {
    let env = env().await;
    let p = product(&env, 1_000, 5).await;

    let canceled = order(&env, USER, &[(&p, 1)]).await;
    env.repos
        .orders
        .cancel_unpaid(canceled.id, now())
        .await
        .unwrap();
    let refused = env
        .repos
        .payments
        .prepare(request(&canceled, None, 0))
        .await;
    assert!(
        matches!(
            refused,
            Err(PreparePaymentError::OrderNotPayable(OrderStatus::Canceled))
        ),
        "{refused:?}"
    );

    let o = order(&env, USER, &[(&p, 1)]).await;
    let payment = prepare(&env, &o).await;
    env.repos
        .payments
        .reserve(reservation(&o, &payment, "pk_1"))
        .await
        .unwrap();
    let busy = env.repos.payments.prepare(request(&o, None, 0)).await;
    assert!(
        matches!(
            busy,
            Err(PreparePaymentError::PaymentInProgress(
                PaymentStatus::Confirming
            ))
        ),
        "{busy:?}"
    );
    env.repos
        .payments
        .approve(approval(&o, &payment, 0))
        .await
        .unwrap();
    let paid = env.repos.payments.prepare(request(&o, None, 0)).await;
    assert!(
        matches!(
            paid,
            Err(PreparePaymentError::OrderNotPayable(OrderStatus::Paid))
        ),
        "{paid:?}"
    );
}

#[tokio::test]
async fn reserve_takes_stock_coupon_and_points() {
    let env = env().await;
    let p = product(&env, 1_000, 5).await;
    let q = product(&env, 2_000, 1).await;
    let o = order(&env, USER, &[(&q, 1), (&p, 3)]).await;
    let owned = owned_coupon(&env, USER).await;
    grant(&env, USER, 1_000).await;
    let ready = env
        .repos
        .payments
        .prepare(request(&o, Some((owned.id, 500)), 300))
        .await
        .unwrap();

    let confirming = env
        .repos
        .payments
        .reserve(reservation(&o, &ready, "pk_123"))
        .await
        .unwrap();
    assert_eq!(confirming.id, ready.id);
    assert_eq!(confirming.status, PaymentStatus::Confirming);
    assert_eq!(
        confirming.payment_key,
        Some(PaymentKey::new("pk_123").unwrap())
    );
    assert_eq!(stock_of(&env, p.id).await, 2);
    assert_eq!(stock_of(&env, q.id).await, 0);
    assert_eq!(
        coupon_status(&env, USER, owned.id).await,
        (OwnedCouponStatus::Used, Some(o.id))
    );
    assert_eq!(balance(&env, USER).await, 700);
    let entries = ledger(&env, USER).await;
    assert_eq!(entries[0].kind, PointEntryKind::Use);
    assert_eq!(entries[0].amount, won(300));
    assert_eq!(entries[0].balance_after, won(700));
    assert_eq!(entries[0].order_key, Some(o.key));
    assert!(order_flag(&env, o.id).await);
}

/// Everything a failed reservation must have left alone.
async fn assert_untouched(env: &Env, o: &Order, payment: PaymentId, stocks: &[(ProductId, u32)]) {
    for (product, stock) in stocks {
        assert_eq!(stock_of(env, *product).await, *stock, "stock of {product}");
    }
    let payment = env.repos.payments.find(payment).await.unwrap().unwrap();
    assert_eq!(payment.status, PaymentStatus::Ready);
    assert_eq!(payment.payment_key, None);
    assert!(!order_flag(env, o.id).await);
}

#[tokio::test]
async fn out_of_stock_rolls_everything_back() {
    let env = env().await;
    let plenty = product(&env, 1_000, 5).await;
    let scarce = product(&env, 2_000, 1).await;
    let o = order(&env, USER, &[(&plenty, 2), (&scarce, 2)]).await;
    let owned = owned_coupon(&env, USER).await;
    grant(&env, USER, 1_000).await;
    let ready = env
        .repos
        .payments
        .prepare(request(&o, Some((owned.id, 500)), 300))
        .await
        .unwrap();
    let failed = env
        .repos
        .payments
        .reserve(reservation(&o, &ready, "pk_1"))
        .await;
    assert!(
        matches!(failed, Err(ReserveError::OutOfStock { product_id }) if product_id == scarce.id),
        "{failed:?}"
    );
    assert_untouched(&env, &o, ready.id, &[(plenty.id, 5), (scarce.id, 1)]).await;
    assert_eq!(
        coupon_status(&env, USER, owned.id).await,
        (OwnedCouponStatus::Issued, None)
    );
    assert_eq!(balance(&env, USER).await, 1_000);
    assert_eq!(ledger(&env, USER).await.len(), 1);
}

#[tokio::test]
async fn a_coupon_used_elsewhere_or_not_ours_is_unavailable() {
    let env = env().await;
    let p = product(&env, 1_000, 5).await;
    let owned = owned_coupon(&env, USER).await;
    let first = order(&env, USER, &[(&p, 1)]).await;
    let second = order(&env, USER, &[(&p, 1)]).await;
    let pay_first = env
        .repos
        .payments
        .prepare(request(&first, Some((owned.id, 500)), 0))
        .await
        .unwrap();
    let pay_second = env
        .repos
        .payments
        .prepare(request(&second, Some((owned.id, 500)), 0))
        .await
        .unwrap();
    env.repos
        .payments
        .reserve(reservation(&first, &pay_first, "pk_1"))
        .await
        .unwrap();
    let used = env
        .repos
        .payments
        .reserve(reservation(&second, &pay_second, "pk_2"))
        .await;
    assert!(
        matches!(used, Err(ReserveError::CouponUnavailable)),
        "{used:?}"
    );
    assert_untouched(&env, &second, pay_second.id, &[(p.id, 4)]).await;

    // Another user's coupon, on that user's order.
    let other = UserId::new(2);
    let theirs = order(&env, other, &[(&p, 1)]).await;
    let pay_theirs = env
        .repos
        .payments
        .prepare(request(&theirs, Some((owned.id, 500)), 0))
        .await
        .unwrap();
    let not_ours = env
        .repos
        .payments
        .reserve(reservation(&theirs, &pay_theirs, "pk_3"))
        .await;
    assert!(
        matches!(not_ours, Err(ReserveError::CouponUnavailable)),
        "{not_ours:?}"
    );
}

#[tokio::test]
async fn an_expired_coupon_is_unavailable() {
    let env = env().await;
    let p = product(&env, 1_000, 5).await;
    let owned = owned_coupon(&env, USER).await;
    let o = order(&env, USER, &[(&p, 1)]).await;
    let ready = env
        .repos
        .payments
        .prepare(request(&o, Some((owned.id, 500)), 0))
        .await
        .unwrap();
    let mut late = reservation(&o, &ready, "pk_1");
    // Past the coupon's validity, but the order itself is still payable at that time.
    late.now = owned.coupon.valid_until + Duration::seconds(1);
    let mut conn = env.sql().await;
    diesel::update(orders::table.find(o.id.value()))
        .set(orders::expires_at.eq(late.now + Duration::minutes(1)))
        .execute(&mut conn)
        .await
        .unwrap();
    let expired = env.repos.payments.reserve(late).await;
    assert!(
        matches!(expired, Err(ReserveError::CouponUnavailable)),
        "{expired:?}"
    );
}

#[tokio::test]
async fn too_few_points_roll_everything_back() {
    let env = env().await;
    let p = product(&env, 1_000, 5).await;
    grant(&env, USER, 100).await;
    let o = order(&env, USER, &[(&p, 1)]).await;
    let ready = env
        .repos
        .payments
        .prepare(request(&o, None, 500))
        .await
        .unwrap();
    let refused = env
        .repos
        .payments
        .reserve(reservation(&o, &ready, "pk_1"))
        .await;
    assert!(
        matches!(refused, Err(ReserveError::InsufficientPoints)),
        "{refused:?}"
    );
    assert_untouched(&env, &o, ready.id, &[(p.id, 5)]).await;
    assert_eq!(balance(&env, USER).await, 100);

    // A user who never had points has no balance row at all.
    let stranger = UserId::new(3);
    let theirs = order(&env, stranger, &[(&p, 1)]).await;
    let ready = env
        .repos
        .payments
        .prepare(request(&theirs, None, 1))
        .await
        .unwrap();
    let refused = env
        .repos
        .payments
        .reserve(reservation(&theirs, &ready, "pk_2"))
        .await;
    assert!(
        matches!(refused, Err(ReserveError::InsufficientPoints)),
        "{refused:?}"
    );
}

#[tokio::test]
async fn an_expired_or_closed_order_cannot_be_reserved() {
    let env = env().await;
    let p = product(&env, 1_000, 5).await;
    let o = order(&env, USER, &[(&p, 1)]).await;
    let ready = prepare(&env, &o).await;
    let mut late = reservation(&o, &ready, "pk_1");
    late.now = o.expires_at;
    let expired = env.repos.payments.reserve(late).await;
    assert!(
        matches!(expired, Err(ReserveError::OrderExpired)),
        "{expired:?}"
    );
    assert_untouched(&env, &o, ready.id, &[(p.id, 5)]).await;

    // An order closed behind the payment's back (the ports always fail the READY payment too).
    let mut conn = env.sql().await;
    diesel::update(orders::table.find(o.id.value()))
        .set((orders::status.eq("CANCELED"), orders::canceled_at.eq(now())))
        .execute(&mut conn)
        .await
        .unwrap();
    let closed = env
        .repos
        .payments
        .reserve(reservation(&o, &ready, "pk_1"))
        .await;
    assert!(
        matches!(
            closed,
            Err(ReserveError::OrderNotPayable(OrderStatus::Canceled))
        ),
        "{closed:?}"
    );
}

#[tokio::test]
async fn a_second_reservation_sees_the_payment_as_it_is() {
    let env = env().await;
    let p = product(&env, 1_000, 5).await;
    let o = order(&env, USER, &[(&p, 1)]).await;
    let ready = prepare(&env, &o).await;
    let confirming = env
        .repos
        .payments
        .reserve(reservation(&o, &ready, "pk_1"))
        .await
        .unwrap();
    let again = env
        .repos
        .payments
        .reserve(reservation(&o, &ready, "pk_1"))
        .await;
    match again {
        Err(ReserveError::PaymentChanged(now)) => assert_eq!(*now, confirming),
        other => panic!("expected PaymentChanged, got {other:?}"),
    }
    env.repos
        .payments
        .approve(approval(&o, &confirming, 0))
        .await
        .unwrap();
    // After approval too: the payment, not "the order is paid".
    let late = env
        .repos
        .payments
        .reserve(reservation(&o, &ready, "pk_1"))
        .await;
    assert!(
        matches!(&late, Err(ReserveError::PaymentChanged(p)) if p.status == PaymentStatus::Approved),
        "{late:?}"
    );
    assert_eq!(stock_of(&env, p.id).await, 4);
}

/// The order could be flagged but the payment is not READY (failed at the buyer's redirect, or
/// a payment of another order): the reservation answers with the payment, and the flag it set
/// on the way is rolled back.
#[tokio::test]
async fn a_payment_no_longer_ready_is_not_reserved_and_the_order_stays_unflagged() {
    let env = env().await;
    let p = product(&env, 1_000, 5).await;
    let o = order(&env, USER, &[(&p, 1)]).await;
    let ready = prepare(&env, &o).await;
    let failure = PaymentFailure {
        code: "PAY_PROCESS_CANCELED".into(),
        message: "사용자가 결제를 취소했습니다".into(),
    };
    env.repos
        .payments
        .record_failure(ready.id, failure, now())
        .await
        .unwrap();
    let refused = env
        .repos
        .payments
        .reserve(reservation(&o, &ready, "pk_1"))
        .await;
    assert!(
        matches!(&refused, Err(ReserveError::PaymentChanged(p)) if p.status == PaymentStatus::Failed),
        "{refused:?}"
    );
    assert!(!order_flag(&env, o.id).await);
    assert_eq!(stock_of(&env, p.id).await, 5);

    // Another order's READY payment: not a conflict of this order, an error.
    let other = order(&env, USER, &[(&p, 1)]).await;
    let others_payment = prepare(&env, &other).await;
    let mixed = env
        .repos
        .payments
        .reserve(reservation(&o, &others_payment, "pk_2"))
        .await;
    assert!(matches!(mixed, Err(ReserveError::Unknown(_))), "{mixed:?}");
    assert!(!order_flag(&env, o.id).await);
    assert_untouched(&env, &other, others_payment.id, &[(p.id, 5)]).await;
}

#[tokio::test]
async fn approve_settles_the_order() {
    let env = env().await;
    let p = product(&env, 1_000, 5).await;
    let q = product(&env, 2_000, 5).await;
    let item = env.repos.carts.add(USER, p.id, qty(1)).await.unwrap();
    let kept = env.repos.carts.add(USER, q.id, qty(1)).await.unwrap();
    grant(&env, USER, 1_000).await;
    let owned = owned_coupon(&env, USER).await;
    let mut o = order(&env, USER, &[(&p, 1)]).await;
    o.source_cart_item_ids = vec![item.id];
    let ready = env
        .repos
        .payments
        .prepare(request(&o, Some((owned.id, 500)), 200))
        .await
        .unwrap();
    let confirming = env
        .repos
        .payments
        .reserve(reservation(&o, &ready, "pk_1"))
        .await
        .unwrap();
    env.repos
        .payments
        .approve(approval(&o, &confirming, 33))
        .await
        .unwrap();

    let paid = env.repos.orders.find_by_id(o.id).await.unwrap().unwrap();
    assert_eq!(paid.status, OrderStatus::Paid);
    assert_eq!(paid.paid_at, Some(now()));
    assert_eq!(paid.amounts.coupon_discount, won(500));
    assert_eq!(paid.amounts.used_point, won(200));
    assert_eq!(paid.amounts.paid_amount, won(3_300));
    assert_eq!(paid.amounts.earned_point, won(33));
    assert!(!order_flag(&env, o.id).await);
    let payment = env.repos.payments.find(ready.id).await.unwrap().unwrap();
    assert_eq!(payment.status, PaymentStatus::Approved);
    assert_eq!(payment.method.as_deref(), Some("카드"));
    assert_eq!(payment.approved_at, Some(now()));
    assert_eq!(balance(&env, USER).await, 833);
    let entries = ledger(&env, USER).await;
    assert_eq!(entries[0].kind, PointEntryKind::Earn);
    assert_eq!(entries[0].balance_after, won(833));
    let left: Vec<_> = env
        .repos
        .carts
        .lines(USER)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.item.id)
        .collect();
    assert_eq!(left, vec![kept.id]);
    assert_eq!(outbox_topics(&env).await, vec!["order.paid"]);

    let twice = env
        .repos
        .payments
        .approve(approval(&o, &confirming, 33))
        .await;
    assert!(
        matches!(twice, Err(SettleError::Lost(PaymentStatus::Approved))),
        "{twice:?}"
    );
    assert_eq!(balance(&env, USER).await, 833);
}

#[tokio::test]
async fn release_gives_everything_back() {
    let env = env().await;
    let p = product(&env, 1_000, 5).await;
    grant(&env, USER, 1_000).await;
    let owned = owned_coupon(&env, USER).await;
    let o = order(&env, USER, &[(&p, 2)]).await;
    let ready = env
        .repos
        .payments
        .prepare(request(&o, Some((owned.id, 500)), 200))
        .await
        .unwrap();
    let confirming = env
        .repos
        .payments
        .reserve(reservation(&o, &ready, "pk_1"))
        .await
        .unwrap();
    let failure = PaymentFailure {
        code: "REJECT_CARD_PAYMENT".into(),
        message: "한도 초과".into(),
    };
    let release = Release {
        payment_id: confirming.id,
        order_id: o.id,
        order_key: o.key,
        user_id: USER,
        stock: o.stock_lines(),
        owned_coupon_id: Some(owned.id),
        used_point: won(200),
        failure: failure.clone(),
        now: now(),
    };
    env.repos.payments.release(release.clone()).await.unwrap();

    assert_eq!(stock_of(&env, p.id).await, 5);
    assert_eq!(
        coupon_status(&env, USER, owned.id).await,
        (OwnedCouponStatus::Issued, None)
    );
    assert_eq!(balance(&env, USER).await, 1_000);
    let entries = ledger(&env, USER).await;
    assert_eq!(entries[0].kind, PointEntryKind::Refund);
    assert_eq!(entries[0].balance_after, won(1_000));
    assert_eq!(ledger_sum(&entries), 1_000);
    let failed = env
        .repos
        .payments
        .find(confirming.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(failed.status, PaymentStatus::Failed);
    assert_eq!(failed.failure, Some(failure));
    let order_now = env.repos.orders.find_by_id(o.id).await.unwrap().unwrap();
    assert_eq!(order_now.status, OrderStatus::Created);
    assert!(!order_flag(&env, o.id).await);

    let twice = env.repos.payments.release(release).await;
    assert!(
        matches!(twice, Err(SettleError::Lost(PaymentStatus::Failed))),
        "{twice:?}"
    );
    assert_eq!(stock_of(&env, p.id).await, 5);

    // The buyer can pay again: a new payment, since the failed one is no longer live.
    let retry = prepare(&env, &o).await;
    assert_ne!(retry.id, confirming.id);
    env.repos
        .payments
        .reserve(reservation(&o, &retry, "pk_2"))
        .await
        .unwrap();
}

#[tokio::test]
async fn record_failure_only_fails_a_ready_payment() {
    let env = env().await;
    let p = product(&env, 1_000, 5).await;
    let o = order(&env, USER, &[(&p, 1)]).await;
    let ready = prepare(&env, &o).await;
    let failure = PaymentFailure {
        code: "PAY_PROCESS_CANCELED".into(),
        message: "사용자가 결제를 취소했습니다".into(),
    };
    env.repos
        .payments
        .record_failure(ready.id, failure.clone(), now())
        .await
        .unwrap();
    let failed = env.repos.payments.find(ready.id).await.unwrap().unwrap();
    assert_eq!(failed.status, PaymentStatus::Failed);
    assert_eq!(failed.failure, Some(failure.clone()));
    let twice = env
        .repos
        .payments
        .record_failure(ready.id, failure, now())
        .await;
    assert!(
        matches!(twice, Err(SettleError::Lost(PaymentStatus::Failed))),
        "{twice:?}"
    );
}

#[tokio::test]
async fn pending_payments_are_claimed_once_per_delay() {
    let env = env().await;
    let p = product(&env, 1_000, 5).await;
    let mut pending = Vec::new();
    for key in ["pk_1", "pk_2"] {
        let o = order(&env, USER, &[(&p, 1)]).await;
        let ready = prepare(&env, &o).await;
        let confirming = env
            .repos
            .payments
            .reserve(reservation(&o, &ready, key))
            .await
            .unwrap();
        pending.push(confirming.id);
    }
    let (_, canceling) = paid_order(&env, USER, &p, |o| request(o, None, 0), 0).await;
    let o = env
        .repos
        .orders
        .find_by_id(canceling.order_id)
        .await
        .unwrap()
        .unwrap();
    env.repos
        .payments
        .begin_cancel(CancelStart {
            payment_id: canceling.id,
            order_id: o.id,
            order_key: o.key,
            user_id: USER,
            earned_point: Money::ZERO,
            now: now(),
        })
        .await
        .unwrap();
    pending.push(canceling.id);
    // A READY payment is never claimed.
    let idle = order(&env, USER, &[(&p, 1)]).await;
    prepare(&env, &idle).await;

    let payments = &env.repos.payments;
    assert!(
        payments
            .claim_pending(now(), now(), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let later = now() + Duration::seconds(31);
    let claimed = payments
        .claim_pending(later - Duration::seconds(30), later, 10)
        .await
        .unwrap();
    assert_eq!(claimed.iter().map(|p| p.id).collect::<Vec<_>>(), pending);
    assert_eq!(claimed[2].status, PaymentStatus::Canceling);
    // Claimed at `later`: skipped until the delay has passed again.
    assert!(
        payments
            .claim_pending(later - Duration::seconds(30), later, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let much_later = later + Duration::seconds(31);
    let one = payments
        .claim_pending(much_later - Duration::seconds(30), much_later, 1)
        .await
        .unwrap();
    assert_eq!(one.len(), 1);
}

/// A paid order whose buyer spent `spent` of the points it earned on another order.
async fn paid_with_spent_earnings(
    env: &Env,
    p: &Product,
    earned: i64,
    spent: i64,
) -> (Order, Payment) {
    let owned = owned_coupon(env, USER).await;
    grant(env, USER, 300).await;
    let (o, payment) = paid_order(
        env,
        USER,
        p,
        |o| request(o, Some((owned.id, 500)), 300),
        earned,
    )
    .await;
    assert_eq!(balance(env, USER).await, earned);
    if spent > 0 {
        let other = order(env, USER, &[(p, 1)]).await;
        let ready = env
            .repos
            .payments
            .prepare(request(&other, None, spent))
            .await
            .unwrap();
        env.repos
            .payments
            .reserve(reservation(&other, &ready, "pk_other"))
            .await
            .unwrap();
    }
    (o, payment)
}

fn cancel_start(o: &Order, payment: &Payment) -> CancelStart {
    CancelStart {
        payment_id: payment.id,
        order_id: o.id,
        order_key: o.key,
        user_id: o.user_id,
        earned_point: o.amounts.earned_point,
        now: now(),
    }
}

#[tokio::test]
async fn begin_cancel_revokes_what_it_can_and_deducts_the_rest() {
    let env = env().await;
    let p = product(&env, 10_000, 5).await;
    // Paid 10,000 - 500 + 3,000 - 300 = 12,200, earned 100, of which 70 were spent since.
    let (o, payment) = paid_with_spent_earnings(&env, &p, 100, 70).await;
    assert_eq!(payment.amount, won(12_200));
    let canceling = env
        .repos
        .payments
        .begin_cancel(cancel_start(&o, &payment))
        .await
        .unwrap();
    assert_eq!(canceling.status, PaymentStatus::Canceling);
    assert_eq!(canceling.revoked_point, won(30));
    assert_eq!(canceling.cancel_amount, Some(won(12_130)));
    assert_eq!(balance(&env, USER).await, 0);
    let entries = ledger(&env, USER).await;
    assert_eq!(entries[0].kind, PointEntryKind::EarnRevoke);
    assert_eq!(entries[0].amount, won(30));
    assert_eq!(entries[0].balance_after, Money::ZERO);
    assert_eq!(ledger_sum(&entries), 0);

    let twice = env
        .repos
        .payments
        .begin_cancel(cancel_start(&o, &payment))
        .await;
    assert!(
        matches!(
            twice,
            Err(BeginCancelError::PaymentChanged(PaymentStatus::Canceling))
        ),
        "{twice:?}"
    );
    let unpaid = order(&env, USER, &[(&p, 1)]).await;
    let ready = prepare(&env, &unpaid).await;
    let refused = env
        .repos
        .payments
        .begin_cancel(cancel_start(&unpaid, &ready))
        .await;
    assert!(
        matches!(
            refused,
            Err(BeginCancelError::OrderNotCancelable(OrderStatus::Created))
        ),
        "{refused:?}"
    );
}

#[tokio::test]
async fn complete_cancel_restores_everything() {
    let env = env().await;
    let p = product(&env, 10_000, 5).await;
    let (o, payment) = paid_with_spent_earnings(&env, &p, 100, 0).await;
    let canceling = env
        .repos
        .payments
        .begin_cancel(cancel_start(&o, &payment))
        .await
        .unwrap();
    assert_eq!(canceling.cancel_amount, Some(payment.amount));
    assert_eq!(stock_of(&env, p.id).await, 4);
    let completion = CancelCompletion {
        payment_id: payment.id,
        order_id: o.id,
        order_key: o.key,
        user_id: USER,
        stock: o.stock_lines(),
        owned_coupon_id: payment.owned_coupon_id,
        used_point: payment.used_point,
        now: now(),
    };
    env.repos
        .payments
        .complete_cancel(completion.clone())
        .await
        .unwrap();

    let canceled = env.repos.orders.find_by_id(o.id).await.unwrap().unwrap();
    assert_eq!(canceled.status, OrderStatus::Canceled);
    assert_eq!(canceled.canceled_at, Some(now()));
    let payment_now = env.repos.payments.find(payment.id).await.unwrap().unwrap();
    assert_eq!(payment_now.status, PaymentStatus::Canceled);
    assert_eq!(stock_of(&env, p.id).await, 5);
    let coupon = payment.owned_coupon_id.unwrap();
    assert_eq!(
        coupon_status(&env, USER, coupon).await,
        (OwnedCouponStatus::Issued, None)
    );
    // 300 granted, 300 used, 100 earned, 100 revoked, 300 refunded.
    assert_eq!(balance(&env, USER).await, 300);
    assert_eq!(ledger_sum(&ledger(&env, USER).await), 300);
    assert_eq!(
        outbox_topics(&env).await,
        vec!["order.paid", "order.canceled"]
    );

    let twice = env.repos.payments.complete_cancel(completion).await;
    assert!(
        matches!(twice, Err(SettleError::Lost(PaymentStatus::Canceled))),
        "{twice:?}"
    );
    assert_eq!(stock_of(&env, p.id).await, 5);
}

#[tokio::test]
async fn reject_cancel_credits_the_revoked_points_back() {
    let env = env().await;
    let p = product(&env, 10_000, 5).await;
    let (o, payment) = paid_with_spent_earnings(&env, &p, 100, 0).await;
    let canceling = env
        .repos
        .payments
        .begin_cancel(cancel_start(&o, &payment))
        .await
        .unwrap();
    assert_eq!(balance(&env, USER).await, 0);
    let rejection = CancelRejection {
        payment_id: payment.id,
        order_key: o.key,
        user_id: USER,
        revoked_point: canceling.revoked_point,
        failure: PaymentFailure {
            code: "NOT_CANCELABLE_PAYMENT".into(),
            message: "취소할 수 없는 결제입니다".into(),
        },
        now: now(),
    };
    env.repos
        .payments
        .reject_cancel(rejection.clone())
        .await
        .unwrap();
    let approved = env.repos.payments.find(payment.id).await.unwrap().unwrap();
    assert_eq!(approved.status, PaymentStatus::Approved);
    assert_eq!(approved.cancel_amount, None);
    assert_eq!(approved.revoked_point, Money::ZERO);
    assert_eq!(balance(&env, USER).await, 100);
    let entries = ledger(&env, USER).await;
    assert_eq!(entries[0].kind, PointEntryKind::Earn);
    assert_eq!(ledger_sum(&entries), 100);
    let still_paid = env.repos.orders.find_by_id(o.id).await.unwrap().unwrap();
    assert_eq!(still_paid.status, OrderStatus::Paid);

    let twice = env.repos.payments.reject_cancel(rejection).await;
    assert!(
        matches!(twice, Err(SettleError::Lost(PaymentStatus::Approved))),
        "{twice:?}"
    );
    assert_eq!(balance(&env, USER).await, 100);
}
