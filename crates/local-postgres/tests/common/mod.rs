//! Helpers shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use diesel::QueryableByName;
use diesel::sql_types::BigInt;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};

#[derive(QueryableByName)]
struct Number {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Runs `sql`, which must return one row with a bigint column `n`.
pub async fn number(url: &str, sql: &str) -> i64 {
    let mut conn = AsyncPgConnection::establish(url).await.unwrap();
    diesel::sql_query(sql)
        .get_result::<Number>(&mut conn)
        .await
        .unwrap()
        .n
}

pub async fn execute(url: &str, sql: &str) {
    let mut conn = AsyncPgConnection::establish(url).await.unwrap();
    conn.batch_execute(sql).await.unwrap();
}

pub async fn database_exists(server_url: &str, name: &str) -> bool {
    let sql = format!("SELECT count(*) AS n FROM pg_database WHERE datname = '{name}'");
    number(server_url, &sql).await == 1
}

/// A directory under /tmp (reachable by the `postgres` user, unlike a
/// root-owned 0700 temp dir), removed on drop.
pub struct ScratchDir(pub PathBuf);

impl ScratchDir {
    pub fn new() -> Self {
        let dir = PathBuf::from(format!("/tmp/lpg-test-{:016x}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).unwrap();
        ScratchDir(dir)
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").unwrap().uid() == 0
}

/// The postmaster pid recorded in a data directory.
pub fn postmaster_pid(data_dir: &Path) -> u32 {
    let contents = std::fs::read_to_string(data_dir.join("postmaster.pid")).unwrap();
    contents.lines().next().unwrap().trim().parse().unwrap()
}

pub fn process_alive(pid: u32) -> bool {
    // A zombie still has a /proc entry; its state line says "Z".
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        !stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z')
    })
}

/// Polls `condition` for up to `timeout`.
pub fn eventually(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let began = Instant::now();
    while began.elapsed() < timeout {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    condition()
}
