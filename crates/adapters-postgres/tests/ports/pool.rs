use std::time::Duration;

use adapters_postgres::{Database, DatabaseConfig, PgStore};
use diesel::sql_types::{BigInt, Text};
use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
use domain::model::*;
use domain::ports::is_unavailable;

use crate::common::*;

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[tokio::test]
async fn sessions_are_set_up_by_the_pool() {
    let env = env().await;
    env.database.check().await.unwrap();
    let mut conn = env.sql().await;
    let sessions: Count = diesel::sql_query(
        "SELECT count(*) AS n FROM pg_stat_activity \
         WHERE datname = current_database() AND application_name = $1",
    )
    .bind::<Text, _>("adapters-postgres-test")
    .get_result(&mut conn)
    .await
    .unwrap();
    assert!(sessions.n >= 1);
    let stats = env.database.stats();
    assert_eq!(stats.max_size, 4);
    assert!(stats.size >= 1);
}

#[tokio::test]
async fn an_unreachable_database_is_unavailable() {
    let mut config =
        DatabaseConfig::new("postgres://postgres@/postgres?host=/tmp/no-such-lpg&port=1");
    config.create_timeout = Duration::from_secs(2);
    let database = Database::new(&config).unwrap();
    let error = database.check().await.unwrap_err();
    assert!(is_unavailable(&error), "{error:#}");
    let repos = PgStore::new(database).repositories();
    let error = repos.products.find(ProductId::new(1)).await.unwrap_err();
    assert!(is_unavailable(&error), "{error:#}");
}

/// Checkouts are not pinged (`RecyclingMethod::Fast`), so a connection the server closed must be
/// recognised as broken and replaced, not handed out again.
#[tokio::test]
async fn a_connection_the_server_closed_is_replaced() {
    let env = env().await;
    let p = product(&env, 1_000, 5).await;
    let mut admin = env.sql().await;
    let terminated: Count = diesel::sql_query(
        "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity \
         WHERE datname = current_database() AND application_name = $1",
    )
    .bind::<Text, _>("adapters-postgres-test")
    .get_result(&mut admin)
    .await
    .unwrap();
    assert!(terminated.n >= 1, "the pool had no open connection");
    // A request that races the termination may fail, as "unavailable" (503): it can get the
    // server's FATAL as its own answer, and the next one on that connection "connection closed".
    // By then the connection is known closed and is dropped, so the pool recovers within two
    // failures per connection it had, never by handing a closed connection out again.
    let mut failures = 0;
    loop {
        match env.repos.products.find(p.id).await {
            Ok(found) => {
                assert!(found.is_some());
                break;
            }
            Err(error) => assert!(is_unavailable(&error), "{error:#}"),
        }
        failures += 1;
        assert!(
            failures <= 2 * terminated.n,
            "a closed connection was handed out again"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saturated_pool_is_unavailable_not_stuck() {
    let env = env().await;
    let p = product(&env, 1_000, 5).await;
    let mut config = DatabaseConfig::new(env.db.url());
    config.max_size = 2;
    config.wait_timeout = Duration::from_millis(200);
    let database = Database::new(&config).unwrap();
    let repos = PgStore::new(database.clone()).repositories();

    // Hold the product's row lock elsewhere, so two updates wait on it holding both connections.
    let mut blocker = env.sql().await;
    blocker
        .batch_execute(&format!(
            "BEGIN; SELECT 1 FROM products WHERE id = {} FOR UPDATE",
            p.id
        ))
        .await
        .unwrap();
    let waiting: Vec<_> = (0..2)
        .map(|n| {
            let products = repos.products.clone();
            tokio::spawn(async move {
                let patch = ProductPatch {
                    stock: Some(10 + n),
                    ..ProductPatch::default()
                };
                products.update(p.id, patch).await
            })
        })
        .collect();
    // Wait until both connections are taken by the blocked updates.
    for _ in 0..100 {
        let stats = database.stats();
        if stats.size == 2 && stats.available == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let error = repos.products.find(p.id).await.unwrap_err();
    assert!(is_unavailable(&error), "{error:#}");

    blocker.batch_execute("COMMIT").await.unwrap();
    for handle in waiting {
        handle.await.unwrap().unwrap();
    }
    assert!(repos.products.find(p.id).await.unwrap().is_some());
}

#[tokio::test]
async fn statements_are_bounded_by_the_statement_timeout() {
    let env = env().await;
    let p = product(&env, 1_000, 5).await;
    let mut config = DatabaseConfig::new(env.db.url());
    config.statement_timeout = Duration::from_millis(200);
    let repos = PgStore::new(Database::new(&config).unwrap()).repositories();
    let mut blocker = env.sql().await;
    blocker
        .batch_execute(&format!(
            "BEGIN; SELECT 1 FROM products WHERE id = {} FOR UPDATE",
            p.id
        ))
        .await
        .unwrap();
    let patch = ProductPatch {
        stock: Some(1),
        ..ProductPatch::default()
    };
    let error = repos.products.update(p.id, patch).await.unwrap_err();
    let domain::ports::UpdateProductError::Unknown(error) = error else {
        panic!("expected an infrastructure error, got {error:?}");
    };
    assert!(is_unavailable(&error), "{error:#}");
    blocker.batch_execute("ROLLBACK").await.unwrap();
}
