//! One fresh database per test, cloned from a template migrated once per
//! test process (the pattern of crates.io's test harness).
//!
//! Cloning with `CREATE DATABASE .. TEMPLATE` takes milliseconds, where
//! migrating every test's database would take far longer, and tests never
//! share data, so they can all run in parallel.
//!
//! Database names carry the creating process id (`lpgtest_<pid>_..`), so
//! leftovers of a crashed run are recognised (their pid is gone) and dropped.
//!
//! `#[tokio::test]` gives every test its own runtime, which ends with the
//! test. Nothing shared may therefore hold a connection or a task: every
//! admin statement opens its own short-lived connection.

use std::future::Future;
use std::path::Path;

use anyhow::Context as _;
use diesel::QueryableByName;
use diesel::sql_types::Text;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use tokio::sync::OnceCell;

use crate::{Error, LocalPostgres, Options};

/// Every database the harness creates starts with this.
const PREFIX: &str = "lpgtest_";

/// The process-wide harness; an `Err` keeps the first setup failure so that
/// every test reports it instead of retrying it.
static SHARED: OnceCell<Result<TestDatabases, String>> = OnceCell::const_new();

/// The per-process source of test databases.
///
/// The server is the one in `TEST_DATABASE_URL` if set (its user must be
/// allowed to create databases), else a throwaway [`LocalPostgres`] started
/// on first use. That server is never dropped (statics are not); the
/// watchdog stops it and deletes its data when the test process exits.
#[derive(Debug)]
pub struct TestDatabases {
    server_url: String,
    template: String,
    /// Held only to keep the throwaway server alive.
    _server: Option<LocalPostgres>,
}

impl TestDatabases {
    /// The shared harness, set up by the first call in the process: start
    /// or find the server, sweep leftovers of crashed runs, create the
    /// template database and run `migrate` on it with the template's URL.
    ///
    /// `migrate` runs once per process, and only the first caller's is used,
    /// so every test in one test binary must pass the same migrations. It
    /// must close its connections before returning (any still open are
    /// terminated, since a template cannot be copied while in use).
    ///
    /// ```no_run
    /// # async fn example() -> anyhow::Result<()> {
    /// use local_postgres::TestDatabases;
    /// let dbs = TestDatabases::get(|url| async move {
    ///     // e.g. run embedded diesel migrations against `url`
    ///     Ok(())
    /// })
    /// .await?;
    /// let db = dbs.fresh().await?; // dropped (with the database) at the end of the test
    /// let url = db.url();
    /// # Ok(()) }
    /// ```
    pub async fn get<F, Fut>(migrate: F) -> anyhow::Result<&'static TestDatabases>
    where
        F: FnOnce(String) -> Fut,
        Fut: Future<Output = anyhow::Result<()>>,
    {
        let shared = SHARED
            .get_or_init(|| async {
                Self::set_up(migrate)
                    .await
                    .map_err(|err| format!("{err:#}"))
            })
            .await;
        shared
            .as_ref()
            .map_err(|err| anyhow::anyhow!("setting up the test databases failed: {err}"))
    }

    /// Creates a new database, a copy of the migrated template.
    pub async fn fresh(&self) -> anyhow::Result<TestDatabase> {
        let name = new_name("");
        let mut admin = connect(&self.server_url).await?;
        admin
            .batch_execute(&format!(
                "CREATE DATABASE {} TEMPLATE {}",
                quote_ident(&name),
                quote_ident(&self.template)
            ))
            .await
            .with_context(|| format!("creating test database {name}"))?;
        Ok(TestDatabase {
            url: with_database(&self.server_url, &name)?,
            name,
            server_url: self.server_url.clone(),
        })
    }

    /// URL of the database used for admin statements (`postgres` on the
    /// throwaway server, or `TEST_DATABASE_URL` as given).
    pub fn server_url(&self) -> &str {
        &self.server_url
    }

    /// Name of this process's template database.
    pub fn template_name(&self) -> &str {
        &self.template
    }

    /// Drops the harness's databases whose creating process no longer
    /// exists, and returns their names; [`TestDatabases::get`] does this once.
    ///
    /// Process ids are only meaningful on this machine: do not point test
    /// runs on several machines at one `TEST_DATABASE_URL` server.
    pub async fn sweep(&self) -> anyhow::Result<Vec<String>> {
        if !Path::new("/proc/self").exists() {
            // Without /proc every pid would look dead.
            return Ok(Vec::new());
        }
        let mut admin = connect(&self.server_url).await?;
        let databases: Vec<DatabaseName> =
            diesel::sql_query("SELECT datname::text AS name FROM pg_database")
                .load(&mut admin)
                .await
                .context("listing databases")?;
        let mut dropped = Vec::new();
        for DatabaseName { name } in databases {
            let Some(pid) = creator_pid(&name) else {
                continue;
            };
            if Path::new(&format!("/proc/{pid}")).exists() {
                continue;
            }
            // Another process may be sweeping the same database right now.
            match admin.batch_execute(&drop_statement(&name)).await {
                Ok(()) => dropped.push(name),
                Err(err) => {
                    eprintln!("local-postgres: could not drop leftover database {name}: {err}");
                }
            }
        }
        Ok(dropped)
    }

    async fn set_up<F, Fut>(migrate: F) -> anyhow::Result<TestDatabases>
    where
        F: FnOnce(String) -> Fut,
        Fut: Future<Output = anyhow::Result<()>>,
    {
        let (server_url, server) = match std::env::var("TEST_DATABASE_URL") {
            Ok(url) if !url.trim().is_empty() => (url, None),
            _ => {
                let server = tokio::task::spawn_blocking(start_throwaway_server)
                    .await
                    .context("starting the test PostgreSQL panicked")??;
                (server.connection_url(), Some(server))
            }
        };
        let harness = TestDatabases {
            server_url,
            template: new_name("template_"),
            _server: server,
        };
        match harness.sweep().await {
            Ok(dropped) if !dropped.is_empty() => {
                eprintln!(
                    "local-postgres: dropped {} leftover test databases",
                    dropped.len()
                );
            }
            Ok(_) => {}
            Err(err) => {
                eprintln!("local-postgres: sweeping leftover test databases failed: {err:#}");
            }
        }
        harness.create_template(migrate).await?;
        Ok(harness)
    }

    async fn create_template<F, Fut>(&self, migrate: F) -> anyhow::Result<()>
    where
        F: FnOnce(String) -> Fut,
        Fut: Future<Output = anyhow::Result<()>>,
    {
        let template = quote_ident(&self.template);
        let mut admin = connect(&self.server_url).await?;
        admin
            .batch_execute(&format!("CREATE DATABASE {template}"))
            .await
            .context("creating the template database")?;
        if let Err(err) = migrate(with_database(&self.server_url, &self.template)?).await {
            let _ = admin.batch_execute(&drop_statement(&self.template)).await;
            return Err(err.context("migrating the template database"));
        }
        // CREATE DATABASE .. TEMPLATE fails while anyone is connected to the
        // template: forbid new connections, end any the migration left open.
        admin
            .batch_execute(&format!(
                "ALTER DATABASE {template} WITH ALLOW_CONNECTIONS false"
            ))
            .await
            .context("closing the template database to connections")?;
        diesel::sql_query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
        )
        .bind::<Text, _>(&self.template)
        .execute(&mut admin)
        .await
        .context("closing connections to the template database")?;
        Ok(())
    }
}

/// One test's database; dropping it drops the database, ending any
/// connections still open to it.
#[derive(Debug)]
pub struct TestDatabase {
    name: String,
    url: String,
    server_url: String,
}

impl TestDatabase {
    /// URL of this database (same server, user and options as the harness).
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for TestDatabase {
    /// `Drop` cannot await, and a runtime cannot be started inside the
    /// test's own, so the DROP runs on a short-lived thread with its own
    /// runtime. We wait for it: the database is gone when `drop` returns.
    fn drop(&mut self) {
        let server_url = self.server_url.clone();
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || -> anyhow::Result<()> {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let mut admin = connect(&server_url).await?;
                admin.batch_execute(&drop_statement(&name)).await?;
                anyhow::Ok(())
            })
        })
        .join();
        // Test output is where a leaked database gets noticed; the next run's
        // sweep removes it anyway.
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(err)) => eprintln!("local-postgres: could not drop {}: {err:#}", self.name),
            Err(_) => eprintln!("local-postgres: dropping {} panicked", self.name),
        }
    }
}

/// Replaces the database of a `postgres://` URL, keeping user, host and
/// query options: `postgres://u@/postgres?host=/tmp/x` with `shop` gives
/// `postgres://u@/shop?host=/tmp/x`.
///
/// Splits like tokio-postgres does: credentials end at the first `@`, the
/// host at the next `/` or `?`.
pub fn with_database(url: &str, database: &str) -> anyhow::Result<String> {
    let scheme_len = ["postgres://", "postgresql://"]
        .iter()
        .find(|scheme| url.starts_with(*scheme))
        .map(|scheme| scheme.len())
        .context("the database URL must start with postgres:// or postgresql://")?;
    let rest = &url[scheme_len..];
    let host_start = rest.find('@').map_or(0, |at| at + 1);
    let host_end = rest[host_start..]
        .find(['/', '?'])
        .map_or(rest.len(), |end| host_start + end);
    let query = rest[host_end..]
        .find('?')
        .map_or("", |start| &rest[host_end + start..]);
    Ok(format!(
        "{}/{database}{query}",
        &url[..scheme_len + host_end]
    ))
}

#[derive(QueryableByName)]
struct DatabaseName {
    #[diesel(sql_type = Text)]
    name: String,
}

fn start_throwaway_server() -> Result<LocalPostgres, Error> {
    let mut server = LocalPostgres::throwaway(Options {
        fsync: false,
        ..Options::default()
    })?;
    server.start()?;
    Ok(server)
}

async fn connect(url: &str) -> anyhow::Result<AsyncPgConnection> {
    AsyncPgConnection::establish(url)
        .await
        .context("connecting to the test PostgreSQL server")
}

/// `lpgtest_<pid>_<kind><random>`
fn new_name(kind: &str) -> String {
    format!(
        "{PREFIX}{}_{kind}{:016x}",
        std::process::id(),
        rand::random::<u64>()
    )
}

/// The pid encoded in a harness database name; `None` for other databases.
fn creator_pid(name: &str) -> Option<u32> {
    name.strip_prefix(PREFIX)?.split('_').next()?.parse().ok()
}

fn drop_statement(name: &str) -> String {
    format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(name))
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_database_in_urls() {
        let cases = [
            (
                "postgres://postgres@/postgres?host=/tmp/lpg-1&port=5432",
                "postgres://postgres@/db1?host=/tmp/lpg-1&port=5432",
            ),
            (
                "postgres://u:p@localhost:5432/app",
                "postgres://u:p@localhost:5432/db1",
            ),
            ("postgresql://localhost", "postgresql://localhost/db1"),
            (
                "postgres://u:a/b@h/app?sslmode=disable",
                "postgres://u:a/b@h/db1?sslmode=disable",
            ),
            (
                "postgres://h?application_name=x",
                "postgres://h/db1?application_name=x",
            ),
        ];
        for (url, expected) in cases {
            assert_eq!(with_database(url, "db1").unwrap(), expected, "{url}");
        }
        assert!(with_database("host=/tmp dbname=x", "db1").is_err());
    }

    #[test]
    fn names_carry_the_creating_pid() {
        let name = new_name("template_");
        assert!(name.len() < 64, "{name}");
        assert_eq!(creator_pid(&name), Some(std::process::id()));
        assert_eq!(creator_pid(&new_name("")), Some(std::process::id()));
        assert_eq!(creator_pid("postgres"), None);
        assert_eq!(creator_pid("lpgtest_x_1"), None);
    }

    #[test]
    fn quotes_identifiers() {
        assert_eq!(quote_ident(r#"a"b"#), r#""a""b""#);
    }
}
