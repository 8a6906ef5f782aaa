//! The connection pool: deadpool over diesel-async's `AsyncPgConnection` (tokio-postgres, no
//! libpq), with bounded waits so a saturated or unreachable database answers "unavailable"
//! quickly instead of hanging requests.

use std::fmt;
use std::time::Duration;

use deadpool::Runtime;
use deadpool::managed::{PoolError, TimeoutType};
use diesel_async::pooled_connection::deadpool::{Hook, HookError, Object, Pool};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, PoolError as ConnError, RecyclingMethod,
};
use diesel_async::{AsyncPgConnection, SimpleAsyncConnection};
use domain::ports::StoreUnavailable;

use crate::error::db_error;

/// How to reach PostgreSQL and how patient to be with it.
#[derive(Clone)]
pub struct DatabaseConfig {
    /// `postgres://user:password@host:port/database?..`
    pub url: String,
    /// At most this many connections; keep it at least 2 (a request never holds two).
    pub max_size: usize,
    /// How long a caller waits for a free connection before getting `StoreUnavailable`.
    pub wait_timeout: Duration,
    /// How long opening a new connection may take.
    pub create_timeout: Duration,
    /// Every statement is cancelled after this long (PostgreSQL's `statement_timeout`), which is
    /// how a stuck query is bounded: a transaction future must never be dropped half-way.
    pub statement_timeout: Duration,
    /// Shown in `pg_stat_activity`, to tell this service's sessions apart.
    pub application_name: String,
}

impl DatabaseConfig {
    /// Defaults: 16 connections, 5 s to get one, 5 s to open one, 15 s per statement.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            max_size: 16,
            wait_timeout: Duration::from_secs(5),
            create_timeout: Duration::from_secs(5),
            statement_timeout: Duration::from_secs(15),
            application_name: "commerce".to_owned(),
        }
    }
}

impl fmt::Debug for DatabaseConfig {
    /// Leaves the URL out: it may carry a password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("max_size", &self.max_size)
            .field("wait_timeout", &self.wait_timeout)
            .field("create_timeout", &self.create_timeout)
            .field("statement_timeout", &self.statement_timeout)
            .field("application_name", &self.application_name)
            .finish_non_exhaustive()
    }
}

/// A snapshot of the pool, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    pub max_size: usize,
    /// Connections open now.
    pub size: usize,
    /// Open connections not in use.
    pub available: usize,
    /// Callers waiting for a connection.
    pub waiting: usize,
}

/// The pool. Cheap to clone; every clone shares the connections.
#[derive(Clone)]
pub struct Database {
    pool: Pool<AsyncPgConnection>,
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Database")
            .field("pool", &self.stats())
            .finish()
    }
}

impl Database {
    /// Builds the pool. No connection is opened until one is needed, so this succeeds while the
    /// database is down; use [`Database::check`] to find out whether it is up.
    ///
    /// A connection handed out again is not pinged (`RecyclingMethod::Fast`: no `SELECT 1` round
    /// trip per checkout). diesel-async still refuses to recycle a connection it knows is broken
    /// (its socket closed, or its transaction state unknown after a failed `ROLLBACK`), so after
    /// a database restart a dead connection is dropped as soon as its closed socket is noticed.
    /// A request that races that notice fails with [`StoreUnavailable`] (503): at most two per
    /// pooled connection (the server's FATAL as the reply, then "connection closed"), where the
    /// ping would have replaced the connection silently. That is the price of one round trip
    /// less on every checkout.
    pub fn new(config: &DatabaseConfig) -> anyhow::Result<Self> {
        let mut manager_config = ManagerConfig::<AsyncPgConnection>::default();
        manager_config.recycling_method = RecyclingMethod::Fast;
        let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(
            config.url.clone(),
            manager_config,
        );
        let setup = session_setup(config);
        let pool = Pool::builder(manager)
            .max_size(config.max_size.max(2))
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(config.wait_timeout))
            .create_timeout(Some(config.create_timeout))
            .recycle_timeout(Some(config.create_timeout))
            .post_create(Hook::async_fn(move |conn, _| {
                Box::pin(set_up_session(conn, setup.clone()))
            }))
            .build()?;
        Ok(Self { pool })
    }

    /// A pooled connection. Failing to get one (every connection busy past the wait timeout, or
    /// the server unreachable) is [`StoreUnavailable`].
    pub(crate) async fn conn(&self) -> anyhow::Result<Object<AsyncPgConnection>> {
        self.pool.get().await.map_err(|e| pool_error(&e))
    }

    /// Runs `SELECT 1` on a pooled connection: the readiness check.
    pub async fn check(&self) -> anyhow::Result<()> {
        let mut conn = self.conn().await?;
        conn.batch_execute("SELECT 1").await.map_err(db_error)
    }

    pub fn stats(&self) -> PoolStats {
        let status = self.pool.status();
        PoolStats {
            max_size: status.max_size,
            size: status.size,
            available: status.available,
            waiting: status.waiting,
        }
    }

    /// Closes the pool: connections are closed as they are returned, and waiting callers fail.
    pub fn close(&self) {
        self.pool.close();
    }
}

async fn set_up_session(conn: &mut AsyncPgConnection, setup: String) -> Result<(), HookError> {
    conn.batch_execute(&setup)
        .await
        .map_err(|e| HookError::Backend(ConnError::QueryError(e)))
}

/// The statements every new session runs first.
fn session_setup(config: &DatabaseConfig) -> String {
    let statement_ms = config.statement_timeout.as_millis().max(1);
    // A transaction left open (its future dropped mid-way) must not hold locks for long.
    let idle_ms = statement_ms.saturating_mul(2);
    format!(
        "SET statement_timeout = {statement_ms}; \
         SET idle_in_transaction_session_timeout = {idle_ms}; \
         SET application_name = {}",
        quote_literal(&config.application_name)
    )
}

/// A SQL string literal (standard_conforming_strings is on in every supported PostgreSQL).
fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn pool_error(error: &PoolError<ConnError>) -> anyhow::Error {
    let reason = match error {
        PoolError::Timeout(TimeoutType::Wait) => {
            "no database connection became free in time".to_owned()
        }
        PoolError::Timeout(_) => "connecting to the database timed out".to_owned(),
        PoolError::Closed => "the connection pool is closed".to_owned(),
        PoolError::Backend(e) => format!("cannot connect to the database: {e}"),
        PoolError::PostCreateHook(e) => format!("cannot set up a database session: {e}"),
        PoolError::NoRuntimeSpecified => {
            return anyhow::anyhow!("the connection pool has no async runtime");
        }
    };
    anyhow::Error::new(StoreUnavailable(reason))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_setup_quotes_the_application_name() {
        let mut config = DatabaseConfig::new("postgres://x");
        config.application_name = "o'clock".to_owned();
        config.statement_timeout = Duration::from_millis(1500);
        let setup = session_setup(&config);
        assert!(setup.contains("statement_timeout = 1500;"), "{setup}");
        assert!(
            setup.contains("idle_in_transaction_session_timeout = 3000;"),
            "{setup}"
        );
        assert!(setup.ends_with("application_name = 'o''clock'"), "{setup}");
    }

    #[test]
    fn the_url_is_not_printed() {
        let config = DatabaseConfig::new("postgres://u:secret@h/db");
        assert!(!format!("{config:?}").contains("secret"));
    }
}
