//! A private PostgreSQL server started from the machine's own binaries, and a
//! per-test database harness built on it.
//!
//! Two users:
//!
//! * The app's embedded default ([`LocalPostgres::persistent`]): a cluster in a
//!   data directory that survives restarts, started at boot and stopped on
//!   shutdown.
//! * Integration tests ([`TestDatabases`]): one throwaway cluster per test
//!   process (or the server in `TEST_DATABASE_URL`), one migrated template
//!   database, and a fresh copy of it per test, dropped when the test ends.
//!
//! Choices that matter to callers:
//!
//! * The server listens only on a unix socket in a short directory under
//!   `/tmp` (socket paths must stay under ~100 bytes), never on TCP, so it cannot
//!   collide with a system PostgreSQL. The URL has an *empty* host and the
//!   socket directory in `?host=`: `postgres://postgres@/postgres?host=/tmp/lpg-..&port=..`.
//!   (`postgres://postgres@localhost/..?host=/tmp/..` would make tokio-postgres
//!   try TCP `localhost` first.)
//! * `initdb` and `postgres` refuse to run as root, so as root the directories
//!   are given to the `postgres` user and every server command runs through
//!   `runuser -u postgres --`. As any other user they run directly.
//! * A server must not outlive the process that started it, even when that
//!   process is killed: a small watchdog process (see [`LocalPostgres`]) stops
//!   it when our end of a pipe closes, which the kernel does on any exit.

mod binaries;
mod cluster;
mod error;
mod harness;
mod user;
mod watchdog;

pub use binaries::PgBinaries;
pub use cluster::{LocalPostgres, Options};
pub use error::Error;
pub use harness::{TestDatabase, TestDatabases, with_database};
