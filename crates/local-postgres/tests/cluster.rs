//! `LocalPostgres`: init, start, connect, stop, restart, leftovers, errors.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{ScratchDir, execute, number, postmaster_pid, process_alive};
use diesel::QueryableByName;
use diesel::sql_types::Text;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use local_postgres::{Error, LocalPostgres, Options};

fn test_options() -> Options {
    Options {
        fsync: false,
        ..Options::default()
    }
}

#[derive(QueryableByName)]
struct Setting {
    #[diesel(sql_type = Text)]
    value: String,
}

async fn setting(url: &str, name: &str) -> String {
    let mut conn = AsyncPgConnection::establish(url).await.unwrap();
    diesel::sql_query(format!("SELECT current_setting('{name}') AS value"))
        .get_result::<Setting>(&mut conn)
        .await
        .unwrap()
        .value
}

#[tokio::test]
async fn persistent_cluster_keeps_its_data_across_stops_and_restarts() {
    let scratch = ScratchDir::new();
    let data_dir = scratch.0.join("data");
    let mut pg = LocalPostgres::persistent(&data_dir, test_options()).unwrap();
    pg.start().unwrap();
    assert!(pg.is_running());

    // The URL reaches our server over its socket, not the system one on 5432.
    let url = pg.connection_url();
    assert!(
        url.starts_with("postgres://postgres@/postgres?host=/tmp/lpg-"),
        "{url}"
    );
    assert_eq!(
        setting(&url, "data_directory").await,
        data_dir.display().to_string()
    );
    assert_eq!(setting(&url, "listen_addresses").await, "");
    assert_eq!(setting(&url, "max_connections").await, "200");
    assert_eq!(setting(&url, "server_encoding").await, "UTF8");
    execute(
        &url,
        "CREATE TABLE kept (id int); INSERT INTO kept VALUES (1)",
    )
    .await;

    pg.stop().unwrap();
    assert!(!pg.is_running());
    assert!(!data_dir.join("postmaster.pid").exists());
    assert!(AsyncPgConnection::establish(&url).await.is_err());

    // Same value: start again.
    pg.start().unwrap();
    assert_eq!(number(&url, "SELECT count(*) AS n FROM kept").await, 1);

    // A crash-like stop, then recovery on start.
    execute(&url, "INSERT INTO kept VALUES (2)").await;
    pg.stop_immediately().unwrap();
    pg.restart().unwrap();
    assert_eq!(number(&url, "SELECT count(*) AS n FROM kept").await, 2);

    // A new value on the same directory: no initdb, data still there.
    let socket_dir = pg.socket_dir().to_owned();
    drop(pg);
    assert!(!socket_dir.exists(), "drop removes the socket directory");
    assert!(
        data_dir.join("PG_VERSION").exists(),
        "drop keeps persistent data"
    );
    let mut pg = LocalPostgres::persistent(&data_dir, test_options()).unwrap();
    pg.start().unwrap();
    assert_eq!(
        number(&pg.connection_url(), "SELECT count(*) AS n FROM kept").await,
        2
    );
    pg.stop().unwrap();
}

#[tokio::test]
async fn a_server_left_running_by_a_crashed_run_is_replaced() {
    let scratch = ScratchDir::new();
    let data_dir = scratch.0.join("data");
    let mut crashed = LocalPostgres::persistent(&data_dir, test_options()).unwrap();
    crashed.start().unwrap();
    execute(
        &crashed.connection_url(),
        "CREATE TABLE kept (id int); INSERT INTO kept VALUES (1)",
    )
    .await;
    let old_pid = postmaster_pid(&data_dir);
    let old_socket_dir = crashed.socket_dir().to_owned();
    // As if the process had died without its watchdog: the server runs on.
    std::mem::forget(crashed);

    let mut pg = LocalPostgres::persistent(&data_dir, test_options()).unwrap();
    pg.start().unwrap();
    assert!(!process_alive(old_pid), "the leftover server was stopped");
    assert!(!old_socket_dir.exists(), "its socket directory was removed");
    assert_ne!(postmaster_pid(&data_dir), old_pid);
    assert_eq!(
        number(&pg.connection_url(), "SELECT count(*) AS n FROM kept").await,
        1
    );
    pg.stop().unwrap();
}

#[tokio::test]
async fn a_stale_postmaster_pid_does_not_block_the_start() {
    let scratch = ScratchDir::new();
    let data_dir = scratch.0.join("data");
    let mut pg = LocalPostgres::persistent(&data_dir, test_options()).unwrap();
    pg.start().unwrap();
    let stale = std::fs::read_to_string(data_dir.join("postmaster.pid")).unwrap();
    let old_pid = postmaster_pid(&data_dir);
    pg.stop().unwrap();
    drop(pg);
    // pg_ctl returns once the pid file is gone, which can be a moment
    // before the process is.
    assert!(common::eventually(
        std::time::Duration::from_secs(10),
        || !process_alive(old_pid)
    ));

    // The file a killed server leaves behind, naming a pid that is gone ..
    std::fs::write(data_dir.join("postmaster.pid"), &stale).unwrap();
    let mut pg = LocalPostgres::persistent(&data_dir, test_options()).unwrap();
    pg.start().unwrap();
    assert_eq!(
        number(&pg.connection_url(), "SELECT 1::bigint AS n").await,
        1
    );
    pg.stop().unwrap();

    // .. or a pid now used by an unrelated process (ours).
    let pid_taken = stale.replacen(
        stale.lines().next().unwrap(),
        &std::process::id().to_string(),
        1,
    );
    std::fs::write(data_dir.join("postmaster.pid"), pid_taken).unwrap();
    pg.start().unwrap();
    assert_eq!(
        number(&pg.connection_url(), "SELECT 1::bigint AS n").await,
        1
    );
}

#[tokio::test]
async fn a_throwaway_cluster_disappears_when_dropped() {
    let mut pg = LocalPostgres::throwaway(test_options()).unwrap();
    pg.start().unwrap();
    assert_eq!(
        number(&pg.connection_url(), "SELECT 1::bigint AS n").await,
        1
    );
    let pid = postmaster_pid(pg.data_dir());
    let dir = pg.socket_dir().to_owned();
    assert!(pg.data_dir().starts_with(&dir));
    drop(pg);
    assert!(!process_alive(pid));
    assert!(!dir.exists());
}

#[test]
fn missing_binaries_give_one_clear_line() {
    let scratch = ScratchDir::new();
    let options = Options {
        search_dirs: Some(vec![scratch.0.clone()]),
        ..Options::default()
    };
    let err = LocalPostgres::throwaway(options.clone()).unwrap_err();
    assert!(matches!(err, Error::BinariesNotFound));
    assert_eq!(
        err.to_string(),
        "PostgreSQL server binaries (initdb, postgres) not found: install PostgreSQL (e.g. apt-get install postgresql) or set DATABASE_URL"
    );
    let data_dir = scratch.0.join("data");
    assert!(matches!(
        LocalPostgres::persistent(&data_dir, options),
        Err(Error::BinariesNotFound)
    ));
    assert!(
        !data_dir.exists(),
        "nothing is created before the binaries are found"
    );
}

#[test]
fn as_root_an_unreachable_data_dir_is_explained() {
    use std::os::unix::fs::PermissionsExt;
    if !common::running_as_root() {
        return;
    }
    let scratch = ScratchDir::new();
    let private = scratch.0.join("private");
    std::fs::create_dir(&private).unwrap();
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o700)).unwrap();
    let mut pg = LocalPostgres::persistent(private.join("data"), test_options()).unwrap();
    let err = pg.start().unwrap_err();
    assert!(matches!(err, Error::DataDirNotAccessible { .. }), "{err}");
}
