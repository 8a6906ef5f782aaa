use adapters_postgres::schema::outbox;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use domain::model::*;
use domain::ports::DomainEvent;
use time::{Duration, OffsetDateTime};

use crate::common::*;

#[tokio::test]
async fn events_are_claimed_oldest_first_and_published_once() {
    let env = env().await;
    let p = product(&env, 1_000, 5).await;
    let user = UserId::new(1);
    let (paid, _) = paid_order(&env, user, &p, |o| request(o, None, 0), 0).await;
    let unpaid = order(&env, user, &[(&p, 1)]).await;
    env.repos
        .orders
        .cancel_unpaid(unpaid.id, now())
        .await
        .unwrap();

    let until = OffsetDateTime::now_utc() + Duration::hours(1);
    let claimed = env
        .repos
        .outbox
        .claim_unpublished(10, OffsetDateTime::now_utc(), until)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 2);
    assert_eq!(
        claimed[0].event,
        DomainEvent::OrderPaid {
            order_key: paid.key,
            user_id: user,
            paid_amount: won(4_000),
        }
    );
    assert_eq!(
        claimed[1].event,
        DomainEvent::OrderCanceled {
            order_key: unpaid.key,
            user_id: user,
            refunded_amount: Money::ZERO,
        }
    );
    assert!(claimed[0].id < claimed[1].id);
    assert_eq!(claimed[0].created_at, now());
    // Claimed: another relay sees nothing.
    assert!(
        env.repos
            .outbox
            .claim_unpublished(10, OffsetDateTime::now_utc(), until)
            .await
            .unwrap()
            .is_empty()
    );

    env.repos
        .outbox
        .mark_published(vec![claimed[0].id], now())
        .await
        .unwrap();
    // A lapsed claim is taken again, a published message never.
    let lapsed = OffsetDateTime::now_utc() - Duration::hours(1);
    let mut conn = env.sql().await;
    diesel::update(outbox::table)
        .set(outbox::claimed_until.eq(lapsed))
        .execute(&mut conn)
        .await
        .unwrap();
    let again = env
        .repos
        .outbox
        .claim_unpublished(10, OffsetDateTime::now_utc(), until)
        .await
        .unwrap();
    assert_eq!(
        again.iter().map(|m| m.id).collect::<Vec<_>>(),
        vec![claimed[1].id]
    );
}
