//! The schema migrations of `migrations/`, embedded in the binary.
//!
//! They run through diesel's synchronous migration harness on an `AsyncConnectionWrapper`, on a
//! blocking thread: that works from any tokio runtime, including the current-thread ones of
//! actix workers and `#[tokio::test]` (diesel-async's `AsyncMigrationHarness` does not).

use anyhow::Context as _;
use diesel::connection::{Connection as _, SimpleConnection as _};
use diesel_async::AsyncPgConnection;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations");

type SyncConnection = AsyncConnectionWrapper<AsyncPgConnection>;

/// Serialises migration runs of several instances starting at once (an arbitrary constant,
/// the same for every instance).
const MIGRATION_LOCK: i64 = 0x636f_6d6d_6572_6365;

/// Applies every pending migration; returns the versions applied (empty when up to date).
/// Safe to run from several instances at once: they take turns on an advisory lock, and the
/// later ones find nothing pending.
pub async fn run_migrations(url: &str) -> anyhow::Result<Vec<String>> {
    with_connection(url, |conn| {
        conn.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
            .context("waiting for other instances' migrations")?;
        let applied = conn
            .run_pending_migrations(MIGRATIONS)
            .map_err(|e| anyhow::anyhow!("running migrations: {e}"))?;
        Ok(applied.iter().map(ToString::to_string).collect())
    })
    .await
}

/// Reverts every applied migration, newest first (for tests and tools); returns the versions
/// reverted.
pub async fn revert_all_migrations(url: &str) -> anyhow::Result<Vec<String>> {
    with_connection(url, |conn| {
        conn.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))
            .context("waiting for other instances' migrations")?;
        let reverted = conn
            .revert_all_migrations(MIGRATIONS)
            .map_err(|e| anyhow::anyhow!("reverting migrations: {e}"))?;
        Ok(reverted.iter().map(ToString::to_string).collect())
    })
    .await
}

/// Runs `work` on a fresh synchronous connection on a blocking thread; the connection is closed
/// when it returns.
async fn with_connection<T, F>(url: &str, work: F) -> anyhow::Result<T>
where
    T: Send + 'static,
    F: FnOnce(&mut SyncConnection) -> anyhow::Result<T> + Send + 'static,
{
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut conn = SyncConnection::establish(&url).context("connecting to run migrations")?;
        work(&mut conn)
    })
    .await
    .context("the migration thread panicked")?
}
