//! Races decided by the database, with real parallel connections on a multi-threaded runtime.
// Tests fail by panicking: unwrap, expect and panic are the point here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashSet;

use adapters_postgres::schema::{orders, outbox, owned_coupons, payments};
use adapters_postgres::{Database, DatabaseConfig, PgStore};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use domain::model::*;
use domain::ports::*;
use time::Duration;

use common::*;

/// Runs every future on its own task, so they really run in parallel, and collects the results.
async fn in_parallel<T: Send + 'static>(
    futures: impl IntoIterator<Item = impl Future<Output = T> + Send + 'static>,
) -> Vec<T> {
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut results = Vec::with_capacity(handles.len());
    for handle in handles {
        results.push(handle.await.expect("task panicked"));
    }
    results
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_buyers_fifty_units() {
    let env = env_with_pool(20).await;
    let p = product(&env, 1_000, 50).await;
    let mut reservations = Vec::new();
    for buyer in 0..200 {
        let o = order(&env, UserId::new(buyer), &[(&p, 1)]).await;
        let payment = prepare(&env, &o).await;
        reservations.push(reservation(&o, &payment, &format!("pk_{buyer}")));
    }
    let results = in_parallel(reservations.into_iter().map(|r| {
        let payments = env.repos.payments.clone();
        async move { payments.reserve(r).await }
    }))
    .await;

    let won: Vec<_> = results.iter().filter(|r| r.is_ok()).collect();
    assert_eq!(won.len(), 50);
    for result in &results {
        match result {
            Ok(payment) => assert_eq!(payment.status, PaymentStatus::Confirming),
            Err(ReserveError::OutOfStock { product_id }) => assert_eq!(*product_id, p.id),
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(stock_of(&env, p.id).await, 0);
    let mut conn = env.sql().await;
    let confirming: i64 = payments::table
        .filter(payments::status.eq("CONFIRMING"))
        .count()
        .get_result(&mut conn)
        .await
        .unwrap();
    assert_eq!(confirming, 50);
    let flagged: i64 = orders::table
        .filter(orders::payment_in_progress)
        .count()
        .get_result(&mut conn)
        .await
        .unwrap();
    assert_eq!(flagged, 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_downloads_of_ten_coupons() {
    let env = env_with_pool(20).await;
    let c = coupon(&env, fixed(1_000), Some(10), vec![]).await;
    let results = in_parallel((0..100).map(|user| {
        let coupons = env.repos.coupons.clone();
        async move { coupons.download(UserId::new(user), c.id, now()).await }
    }))
    .await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 10);
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Ok(_) | Err(DownloadCouponError::Exhausted)))
    );
    let stored = env.repos.coupons.find(c.id).await.unwrap().unwrap();
    assert_eq!(stored.issued_count, 10);
    let mut conn = env.sql().await;
    let owned: i64 = owned_coupons::table
        .filter(owned_coupons::coupon_id.eq(c.id.value()))
        .count()
        .get_result(&mut conn)
        .await
        .unwrap();
    assert_eq!(owned, 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_user_downloading_many_times_at_once_gets_one() {
    let env = env_with_pool(20).await;
    let c = coupon(&env, fixed(1_000), Some(10), vec![]).await;
    let results = in_parallel((0..30).map(|_| {
        let coupons = env.repos.coupons.clone();
        async move { coupons.download(UserId::new(1), c.id, now()).await }
    }))
    .await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Ok(_) | Err(DownloadCouponError::AlreadyDownloaded)))
    );
    assert_eq!(
        env.repos
            .coupons
            .find(c.id)
            .await
            .unwrap()
            .unwrap()
            .issued_count,
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_payments_spending_the_same_points() {
    let env = env_with_pool(20).await;
    let user = UserId::new(1);
    let p = product(&env, 1_000, 100).await;
    env.repos
        .points
        .grant(user, won(1_000), "promotion".into(), now())
        .await
        .unwrap();
    let mut reservations = Vec::new();
    for n in 0..20 {
        let o = order(&env, user, &[(&p, 1)]).await;
        let payment = env
            .repos
            .payments
            .prepare(request(&o, None, 70))
            .await
            .unwrap();
        reservations.push(reservation(&o, &payment, &format!("pk_{n}")));
    }
    let results = in_parallel(reservations.into_iter().map(|r| {
        let payments = env.repos.payments.clone();
        async move { payments.reserve(r).await }
    }))
    .await;
    let spent = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(spent, 14);
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Ok(_) | Err(ReserveError::InsufficientPoints)))
    );

    let balance = env.repos.points.balance(user).await.unwrap();
    assert_eq!(balance, won(20));
    let mut entries = ledger(&env, user).await;
    assert_eq!(ledger_sum(&entries), balance.won());
    // Oldest first, each entry's balance follows from the one before.
    entries.reverse();
    let mut running = 0;
    for entry in &entries {
        running += if entry.kind.is_credit() {
            entry.amount.won()
        } else {
            -entry.amount.won()
        };
        assert_eq!(entry.balance_after.won(), running, "{entry:?}");
    }
    assert_eq!(stock_of(&env, p.id).await, 86);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_approvals_of_one_payment_settle_once() {
    let env = env_with_pool(20).await;
    let p = product(&env, 1_000, 100).await;
    for buyer in 0..10 {
        let user = UserId::new(buyer);
        let o = order(&env, user, &[(&p, 1)]).await;
        let ready = prepare(&env, &o).await;
        let confirming = env
            .repos
            .payments
            .reserve(reservation(&o, &ready, "pk_1"))
            .await
            .unwrap();
        let results = in_parallel((0..2).map(|_| {
            let payments = env.repos.payments.clone();
            let approval = approval(&o, &confirming, 40);
            async move { payments.approve(approval).await }
        }))
        .await;
        assert_eq!(
            results.iter().filter(|r| r.is_ok()).count(),
            1,
            "{results:?}"
        );
        assert!(
            results
                .iter()
                .any(|r| matches!(r, Err(SettleError::Lost(PaymentStatus::Approved)))),
            "{results:?}"
        );
        assert_eq!(env.repos.points.balance(user).await.unwrap(), won(40));
        assert_eq!(ledger(&env, user).await.len(), 1);
    }
    let mut conn = env.sql().await;
    let events: i64 = outbox::table.count().get_result(&mut conn).await.unwrap();
    assert_eq!(events, 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn expiry_racing_reservations_never_expires_a_confirming_order() {
    let env = env_with_pool(20).await;
    let p = product(&env, 1_000, 100).await;
    let mut reservations = Vec::new();
    for buyer in 0..60 {
        let o = order(&env, UserId::new(buyer), &[(&p, 1)]).await;
        let payment = prepare(&env, &o).await;
        let mut r = reservation(&o, &payment, "pk_1");
        // Just before expiry for the buyer, just after it for the job: both may act.
        r.now = o.expires_at - Duration::seconds(1);
        reservations.push(r);
    }
    let expire_at = now() + Duration::minutes(31);
    let reserving = in_parallel(reservations.into_iter().map(|r| {
        let payments = env.repos.payments.clone();
        async move { payments.reserve(r).await.map(|_| ()) }
    }));
    let expiring = in_parallel((0..2).map(|_| {
        let orders = env.repos.orders.clone();
        async move {
            let mut expired = Vec::new();
            loop {
                let batch = orders.expire_due(expire_at, 3).await.unwrap();
                if batch.is_empty() {
                    return expired;
                }
                expired.extend(batch);
            }
        }
    }));
    // The job starts first, so both sides win some of the races.
    let (expired, reserved) = tokio::join!(expiring, reserving);

    // A reservation that lost found the order expired (its READY payment failed with it).
    for result in &reserved {
        match result {
            Ok(()) | Err(ReserveError::OrderNotPayable(OrderStatus::Expired)) => {}
            Err(ReserveError::PaymentChanged(p)) if p.status == PaymentStatus::Failed => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    let reserved = reserved.iter().filter(|r| r.is_ok()).count();
    let expired: Vec<OrderKey> = expired.into_iter().flatten().collect();
    eprintln!("reserved {reserved}, expired {}", expired.len());
    let unique: HashSet<_> = expired.iter().collect();
    assert_eq!(unique.len(), expired.len(), "an order expired twice");
    assert_eq!(
        reserved + expired.len(),
        60,
        "reserved {reserved}, expired {}",
        expired.len()
    );
    assert_eq!(
        stock_of(&env, p.id).await,
        100 - u32::try_from(reserved).unwrap()
    );

    let mut conn = env.sql().await;
    let broken: i64 = orders::table
        .inner_join(payments::table)
        .filter(orders::status.eq("EXPIRED"))
        .filter(payments::status.ne("FAILED"))
        .count()
        .get_result(&mut conn)
        .await
        .unwrap();
    assert_eq!(broken, 0, "an expired order kept a live payment");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_never_claim_the_same_payment() {
    let env = env_with_pool(10).await;
    let p = product(&env, 1_000, 100).await;
    let mut pending = HashSet::new();
    for buyer in 0..40 {
        let o = order(&env, UserId::new(buyer), &[(&p, 1)]).await;
        let ready = prepare(&env, &o).await;
        let confirming = env
            .repos
            .payments
            .reserve(reservation(&o, &ready, "pk_1"))
            .await
            .unwrap();
        pending.insert(confirming.id);
    }
    // A second "instance": its own pool on the same database.
    let mut config = DatabaseConfig::new(env.db.url());
    config.max_size = 10;
    let other = PgStore::new(Database::new(&config).unwrap()).repositories();
    let instances = [env.repos.payments.clone(), other.payments.clone()];

    let later = now() + Duration::minutes(1);
    let claims = in_parallel(instances.into_iter().map(|payments| async move {
        let mut claimed = Vec::new();
        loop {
            let batch = payments
                .claim_pending(later - Duration::seconds(30), later, 3)
                .await
                .unwrap();
            if batch.is_empty() {
                return claimed;
            }
            claimed.extend(batch.into_iter().map(|p| p.id));
        }
    }))
    .await;
    let all: Vec<PaymentId> = claims.into_iter().flatten().collect();
    let unique: HashSet<_> = all.iter().copied().collect();
    assert_eq!(unique.len(), all.len(), "a payment was claimed twice");
    assert_eq!(unique, pending);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_cart_adds_are_not_lost() {
    let env = env_with_pool(20).await;
    let p = product(&env, 1_000, 5).await;
    let user = UserId::new(1);
    let results = in_parallel((0..50).map(|_| {
        let carts = env.repos.carts.clone();
        async move { carts.add(user, p.id, qty(2)).await }
    }))
    .await;
    assert!(results.iter().all(Result::is_ok));
    let lines = env.repos.carts.lines(user).await.unwrap();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].item.quantity, qty(100));
}
