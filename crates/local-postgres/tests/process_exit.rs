//! A server must not outlive the process that started it, however that
//! process ends. Each test runs this test binary again as a child (filtered
//! to the `owner` function below), which starts a server and reports it;
//! the test then ends the child and watches the server go.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{ScratchDir, database_exists, eventually, execute, postmaster_pid, process_alive};
use local_postgres::{LocalPostgres, Options, TestDatabases};

const ROLE: &str = "LPG_TEST_OWNER_ROLE";
const DATA_DIR: &str = "LPG_TEST_OWNER_DATA_DIR";

fn options() -> Options {
    Options {
        fsync: false,
        ..Options::default()
    }
}

/// Not a test by itself (it returns at once): the body of the child
/// processes. Prints `READY <postmaster pid> <socket dir> ..`.
#[test]
fn owner() {
    let Ok(role) = std::env::var(ROLE) else {
        return;
    };
    if role == "harness" {
        // Like a `cargo test` process: the shared harness lives in a static
        // that is never dropped, and the process exits normally.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let dbs = TestDatabases::get(|url| async move {
                execute(&url, "CREATE TABLE t (id int)").await;
                Ok(())
            })
            .await
            .unwrap();
            let db = dbs.fresh().await.unwrap();
            let socket_dir = socket_dir_of(dbs.server_url());
            let pid = postmaster_pid(&socket_dir.join("data")).to_string();
            println!(
                "READY {pid} {} {} {}",
                socket_dir.display(),
                dbs.template_name(),
                db.name()
            );
            // As if the test had crashed: its database is left behind.
            std::mem::forget(db);
        });
        return;
    }
    let mut pg = if role == "persistent" {
        LocalPostgres::persistent(std::env::var(DATA_DIR).unwrap(), options()).unwrap()
    } else {
        LocalPostgres::throwaway(options()).unwrap()
    };
    pg.start().unwrap();
    println!(
        "READY {} {}",
        postmaster_pid(pg.data_dir()),
        pg.socket_dir().display()
    );
    loop {
        std::thread::sleep(Duration::from_secs(60));
    }
}

/// The directory in `?host=` of a server URL.
fn socket_dir_of(url: &str) -> PathBuf {
    let host = url
        .split("host=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    PathBuf::from(host)
}

struct Owner {
    child: Child,
    pid: u32,
    socket_dir: PathBuf,
    rest: Vec<String>,
}

fn spawn_owner(role: &str, envs: &[(&str, &str)]) -> Owner {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["owner", "--exact", "--nocapture", "--test-threads=1"])
        .env(ROLE, role)
        .env_remove("TEST_DATABASE_URL")
        .envs(envs.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped());
    let mut child = command.spawn().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while stdout.read_line(&mut line).unwrap() > 0 {
        // libtest prints "test owner ... " first, on the same line.
        if let Some((_, ready)) = line.split_once("READY ") {
            let mut words = ready.split_whitespace().map(str::to_owned);
            let pid = words.next().unwrap().parse().unwrap();
            let socket_dir = PathBuf::from(words.next().unwrap());
            // Keep reading, or the child dies of a broken pipe.
            std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
            return Owner {
                child,
                pid,
                socket_dir,
                rest: words.collect(),
            };
        }
        line.clear();
    }
    panic!(
        "the owner process ended without starting a server: {:?}",
        child.wait()
    );
}

fn gone(pid: u32, dir: &Path) -> bool {
    eventually(Duration::from_secs(30), || {
        !process_alive(pid) && !dir.exists()
    })
}

#[test]
fn a_killed_owner_takes_its_throwaway_server_along() {
    let mut owner = spawn_owner("throwaway", &[]);
    assert!(process_alive(owner.pid));
    owner.child.kill().unwrap(); // SIGKILL: no destructor, no handler runs
    owner.child.wait().unwrap();
    assert!(
        gone(owner.pid, &owner.socket_dir),
        "server {} still there",
        owner.pid
    );
}

#[test]
fn a_killed_owner_stops_its_persistent_server_cleanly() {
    let scratch = ScratchDir::new();
    let data_dir = scratch.0.join("data");
    let mut owner = spawn_owner("persistent", &[(DATA_DIR, data_dir.to_str().unwrap())]);
    owner.child.kill().unwrap();
    owner.child.wait().unwrap();
    assert!(
        gone(owner.pid, &owner.socket_dir),
        "server {} still there",
        owner.pid
    );
    assert!(data_dir.join("PG_VERSION").exists(), "the data is kept");
    assert!(
        !data_dir.join("postmaster.pid").exists(),
        "a clean shutdown"
    );
    let mut pg = LocalPostgres::persistent(&data_dir, options()).unwrap();
    pg.start().unwrap();
    pg.stop().unwrap();
}

#[test]
fn the_harness_server_stops_when_the_test_process_exits() {
    let mut owner = spawn_owner("harness", &[]);
    assert!(owner.child.wait().unwrap().success());
    assert!(
        gone(owner.pid, &owner.socket_dir),
        "server {} still there",
        owner.pid
    );
}

#[tokio::test]
async fn with_test_database_url_the_harness_uses_that_server_and_sweeps_leftovers() {
    let mut pg = LocalPostgres::throwaway(options()).unwrap();
    pg.start().unwrap();
    let url = pg.connection_url();
    let envs = [("TEST_DATABASE_URL", url.as_str())];

    let mut first = spawn_owner("harness", &envs);
    assert!(first.child.wait().unwrap().success());
    assert_eq!(first.socket_dir, pg.socket_dir(), "it used our server");
    let [first_template, first_db] = [&first.rest[0], &first.rest[1]];
    assert!(database_exists(&url, first_template).await);
    assert!(database_exists(&url, first_db).await);

    // The next run finds the first one's databases and drops them.
    let mut second = spawn_owner("harness", &envs);
    assert!(second.child.wait().unwrap().success());
    assert!(!database_exists(&url, first_template).await);
    assert!(!database_exists(&url, first_db).await);
    assert!(database_exists(&url, &second.rest[0]).await);
    assert!(
        process_alive(postmaster_pid(pg.data_dir())),
        "the server is not ours to stop"
    );
}
