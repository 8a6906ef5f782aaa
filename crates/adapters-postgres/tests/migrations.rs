//! The migrations on an empty database, and `schema.rs` against what they create.
// Tests fail by panicking: unwrap, expect and panic are the point here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use adapters_postgres::{revert_all_migrations, run_migrations};
use diesel::sql_types::Text;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};

/// An empty database (not a copy of the migrated template), dropped at the end. Named like the
/// harness's own so a crashed run's leftover is swept.
struct EmptyDatabase {
    server_url: String,
    name: String,
    url: String,
}

impl EmptyDatabase {
    async fn create() -> Self {
        let server_url = common::databases().await.server_url().to_owned();
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let name = format!("lpgtest_{}_empty{nanos:x}", std::process::id());
        let mut admin = AsyncPgConnection::establish(&server_url).await.unwrap();
        admin
            .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE template0"))
            .await
            .unwrap();
        let url = local_postgres::with_database(&server_url, &name).unwrap();
        Self {
            server_url,
            name,
            url,
        }
    }
}

impl Drop for EmptyDatabase {
    fn drop(&mut self) {
        let (server_url, name) = (self.server_url.clone(), self.name.clone());
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let mut admin = AsyncPgConnection::establish(&server_url).await.unwrap();
                admin
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await
                    .unwrap();
            });
        })
        .join();
    }
}

#[derive(diesel::QueryableByName, Debug, PartialEq, Eq)]
struct Column {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    udt_name: String,
    #[diesel(sql_type = Text)]
    is_nullable: String,
}

/// Each table's columns as `name -> Type`, in order, as the database has them.
async fn database_tables(url: &str) -> BTreeMap<String, Vec<String>> {
    let mut conn = AsyncPgConnection::establish(url).await.unwrap();
    let columns: Vec<Column> = diesel::sql_query(
        "SELECT table_name::text, column_name::text, udt_name::text, is_nullable::text \
         FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name <> '__diesel_schema_migrations' \
         ORDER BY table_name, ordinal_position",
    )
    .load(&mut conn)
    .await
    .unwrap();
    let mut tables: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for c in columns {
        let base = match c.udt_name.as_str() {
            "int2" => "Int2",
            "int4" => "Int4",
            "int8" => "Int8",
            "text" => "Text",
            "bool" => "Bool",
            "timestamptz" => "Timestamptz",
            "jsonb" => "Jsonb",
            "bytea" => "Bytea",
            "_int8" => "Array<Int8>",
            other => panic!("no diesel type mapped for {other}"),
        };
        let ty = if c.is_nullable == "YES" {
            format!("Nullable<{base}>")
        } else {
            base.to_owned()
        };
        tables
            .entry(c.table_name)
            .or_default()
            .push(format!("{} -> {ty}", c.column_name));
    }
    tables
}

/// The same, read from `src/schema.rs`.
fn schema_rs_tables() -> BTreeMap<String, Vec<String>> {
    let mut tables: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in include_str!("../src/schema.rs").lines() {
        let trimmed = line.trim();
        if line.starts_with("    ") && !line.starts_with("        ") && trimmed.ends_with('{') {
            current = trimmed.split_whitespace().next().map(str::to_owned);
            tables.entry(current.clone().unwrap()).or_default();
        } else if let (Some(table), Some(column)) = (&current, trimmed.strip_suffix(',')) {
            if line.starts_with("        ") && column.contains("->") {
                tables.get_mut(table).unwrap().push(column.to_owned());
            }
        } else if trimmed == "}" && line.starts_with("    ") {
            current = None;
        }
    }
    tables
}

#[tokio::test]
async fn up_down_up_on_an_empty_database() {
    let db = EmptyDatabase::create().await;
    assert!(database_tables(&db.url).await.is_empty());

    let applied = run_migrations(&db.url).await.unwrap();
    assert_eq!(applied.len(), 8, "{applied:?}");
    assert_eq!(database_tables(&db.url).await, schema_rs_tables());
    assert!(
        run_migrations(&db.url).await.unwrap().is_empty(),
        "up to date"
    );

    let reverted = revert_all_migrations(&db.url).await.unwrap();
    assert_eq!(reverted.len(), 8);
    assert!(
        database_tables(&db.url).await.is_empty(),
        "down left tables behind"
    );

    let again = run_migrations(&db.url).await.unwrap();
    assert_eq!(again, applied);
    assert_eq!(database_tables(&db.url).await, schema_rs_tables());
}

#[tokio::test]
async fn instances_starting_together_migrate_once() {
    let db = EmptyDatabase::create().await;
    let (a, b) = tokio::join!(run_migrations(&db.url), run_migrations(&db.url));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.len() + b.len(), 8, "{a:?} {b:?}");
}

#[test]
fn schema_rs_names_every_table() {
    let tables = schema_rs_tables();
    assert_eq!(tables.len(), 12, "{:?}", tables.keys());
    assert!(tables.values().all(|columns| !columns.is_empty()));
}

/// The adapter speaks the wire protocol itself (tokio-postgres): libpq is never linked.
#[test]
fn libpq_is_not_loaded() {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
    assert!(
        !maps.contains("libpq"),
        "libpq is mapped into the test binary"
    );
}
