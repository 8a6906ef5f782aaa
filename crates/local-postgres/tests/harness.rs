//! `TestDatabases`, used the way other crates' tests use it: many
//! `#[tokio::test]`s (one runtime each) asking for databases at once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};

use common::{database_exists, execute, number};
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use local_postgres::TestDatabases;

static MIGRATIONS: AtomicUsize = AtomicUsize::new(0);

/// Stands in for a project's migrations. It leaves a connection open on
/// purpose: the harness must still be able to copy the template.
async fn migrate(url: String) -> anyhow::Result<()> {
    MIGRATIONS.fetch_add(1, Ordering::SeqCst);
    let mut conn = AsyncPgConnection::establish(&url).await?;
    conn.batch_execute(
        "CREATE TABLE widgets (id serial PRIMARY KEY, name text NOT NULL);
         INSERT INTO widgets (name) VALUES ('seeded by the migration');",
    )
    .await?;
    std::mem::forget(conn);
    Ok(())
}

async fn harness() -> &'static TestDatabases {
    TestDatabases::get(migrate).await.unwrap()
}

/// One test's life: a fresh database with the migrated table, isolated from
/// the others, gone after the guard drops.
async fn use_a_fresh_database() {
    let dbs = harness().await;
    let db = dbs.fresh().await.unwrap();
    execute(db.url(), "INSERT INTO widgets (name) VALUES ('mine')").await;
    assert_eq!(
        number(db.url(), "SELECT count(*) AS n FROM widgets").await,
        2
    );
    assert_eq!(
        MIGRATIONS.load(Ordering::SeqCst),
        1,
        "the template is migrated once"
    );

    let name = db.name().to_owned();
    assert!(database_exists(dbs.server_url(), &name).await);
    drop(db);
    assert!(!database_exists(dbs.server_url(), &name).await);
}

macro_rules! parallel_tests {
    ($($name:ident)*) => { $(
        #[tokio::test]
        async fn $name() {
            use_a_fresh_database().await;
        }
    )* };
}

parallel_tests! {
    db_01 db_02 db_03 db_04 db_05 db_06 db_07 db_08 db_09 db_10
    db_11 db_12 db_13 db_14 db_15 db_16 db_17 db_18 db_19 db_20
}

/// The default test runner runs as many tests at once as there are CPUs;
/// this makes 20 requests truly concurrent whatever the machine.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_databases_at_once() {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        tasks.spawn(async {
            let dbs = harness().await;
            let db = dbs.fresh().await.unwrap();
            assert_eq!(
                number(db.url(), "SELECT count(*) AS n FROM widgets").await,
                1
            );
            db
        });
    }
    let mut databases = Vec::new();
    while let Some(db) = tasks.join_next().await {
        databases.push(db.unwrap());
    }
    let dbs = harness().await;
    let names: Vec<String> = databases.iter().map(|db| db.name().to_owned()).collect();
    assert_eq!(
        names.iter().collect::<std::collections::HashSet<_>>().len(),
        20
    );
    drop(databases);
    for name in names {
        assert!(
            !database_exists(dbs.server_url(), &name).await,
            "{name} was dropped"
        );
    }
}

#[tokio::test]
async fn the_template_refuses_connections() {
    let dbs = harness().await;
    let url = local_postgres::with_database(dbs.server_url(), dbs.template_name()).unwrap();
    assert!(AsyncPgConnection::establish(&url).await.is_err());
}

#[tokio::test]
async fn sweeping_drops_databases_of_dead_processes_only() {
    let dbs = harness().await;
    // pid_max is at most 2^22, so this pid can never be alive.
    let dead = "lpgtest_99999999_0123456789abcdef";
    let live = format!("lpgtest_{}_sweep_keep", std::process::id());
    execute(dbs.server_url(), &format!("CREATE DATABASE {dead}")).await;
    execute(dbs.server_url(), &format!("CREATE DATABASE {live}")).await;

    let dropped = dbs.sweep().await.unwrap();

    assert!(dropped.contains(&dead.to_owned()), "{dropped:?}");
    assert!(!dropped.contains(&live));
    assert!(!database_exists(dbs.server_url(), dead).await);
    assert!(database_exists(dbs.server_url(), &live).await);
    assert!(database_exists(dbs.server_url(), dbs.template_name()).await);
    execute(dbs.server_url(), &format!("DROP DATABASE {live}")).await;
}
