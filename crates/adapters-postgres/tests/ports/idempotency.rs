use domain::model::UserId;
use domain::ports::*;
use time::Duration;

use crate::common::*;

const USER: UserId = UserId::new(1);

fn key(k: &str) -> IdempotencyKey {
    IdempotencyKey::new(k).unwrap()
}

/// Claims at `at`, with records expiring after a day and abandoned after a minute.
async fn claim(
    env: &Env,
    k: &str,
    fingerprint: &str,
    at: time::OffsetDateTime,
) -> IdempotencyClaim {
    env.repos
        .idempotency
        .claim(
            USER,
            key(k),
            fingerprint.into(),
            at,
            at - Duration::hours(24),
            at - Duration::minutes(1),
        )
        .await
        .unwrap()
}

fn response() -> StoredResponse {
    StoredResponse {
        status: 201,
        content_type: "application/json".into(),
        body: br#"{"orderKey":"x"}"#.to_vec(),
    }
}

#[tokio::test]
async fn a_key_runs_once_then_replays() {
    let env = env().await;
    assert_eq!(
        claim(&env, "k1", "f1", now()).await,
        IdempotencyClaim::Acquired
    );
    assert_eq!(
        claim(&env, "k1", "f1", now()).await,
        IdempotencyClaim::InProgress
    );
    assert_eq!(
        claim(&env, "k1", "other", now()).await,
        IdempotencyClaim::KeyReused
    );
    env.repos
        .idempotency
        .complete(USER, key("k1"), response())
        .await
        .unwrap();
    assert_eq!(
        claim(&env, "k1", "f1", now()).await,
        IdempotencyClaim::Replay(response())
    );
    assert_eq!(
        claim(&env, "k1", "other", now()).await,
        IdempotencyClaim::KeyReused
    );
    // Keys are per user.
    let theirs = env
        .repos
        .idempotency
        .claim(UserId::new(2), key("k1"), "f1".into(), now(), now(), now())
        .await
        .unwrap();
    assert_eq!(theirs, IdempotencyClaim::Acquired);
}

#[tokio::test]
async fn released_expired_and_abandoned_keys_can_be_claimed_again() {
    let env = env().await;
    assert_eq!(
        claim(&env, "k1", "f1", now()).await,
        IdempotencyClaim::Acquired
    );
    env.repos
        .idempotency
        .release(USER, key("k1"))
        .await
        .unwrap();
    assert_eq!(
        claim(&env, "k1", "f1", now()).await,
        IdempotencyClaim::Acquired
    );

    // Abandoned: unfinished and locked more than a minute ago. Only by the same request.
    let later = now() + Duration::minutes(2);
    assert_eq!(
        claim(&env, "k1", "other", later).await,
        IdempotencyClaim::KeyReused
    );
    assert_eq!(
        claim(&env, "k1", "f1", later).await,
        IdempotencyClaim::Acquired
    );
    assert_eq!(
        claim(&env, "k1", "f1", later).await,
        IdempotencyClaim::InProgress
    );

    // Expired: a completed record older than a day counts as absent, whatever the request.
    env.repos
        .idempotency
        .complete(USER, key("k1"), response())
        .await
        .unwrap();
    let next_day = now() + Duration::hours(25);
    assert_eq!(
        claim(&env, "k1", "new", next_day).await,
        IdempotencyClaim::Acquired
    );
    assert_eq!(
        claim(&env, "k1", "new", next_day).await,
        IdempotencyClaim::InProgress
    );
    // Releasing never forgets a completed response.
    env.repos
        .idempotency
        .complete(USER, key("k1"), response())
        .await
        .unwrap();
    env.repos
        .idempotency
        .release(USER, key("k1"))
        .await
        .unwrap();
    assert_eq!(
        claim(&env, "k1", "new", next_day).await,
        IdempotencyClaim::Replay(response())
    );
}

#[tokio::test]
async fn purge_deletes_old_records() {
    let env = env().await;
    claim(&env, "old", "f", now()).await;
    claim(&env, "new", "f", now() + Duration::hours(2)).await;
    let purged = env
        .repos
        .idempotency
        .purge(now() + Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(purged, 1);
    assert_eq!(
        claim(&env, "old", "f", now()).await,
        IdempotencyClaim::Acquired
    );
    assert_eq!(
        claim(&env, "new", "f", now() + Duration::hours(2)).await,
        IdempotencyClaim::InProgress
    );
}

#[tokio::test]
async fn concurrent_claims_of_one_key_let_one_through() {
    let env = env_with_pool(10).await;
    let claims = futures::future::join_all((0..10).map(|_| claim(&env, "race", "f", now()))).await;
    let acquired = claims
        .iter()
        .filter(|c| **c == IdempotencyClaim::Acquired)
        .count();
    assert_eq!(acquired, 1, "{claims:?}");
    assert!(
        claims
            .iter()
            .all(|c| matches!(c, IdempotencyClaim::Acquired | IdempotencyClaim::InProgress))
    );
}
