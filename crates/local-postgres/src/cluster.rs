//! One private PostgreSQL cluster: `initdb` when needed, start, stop.

use std::fs::DirBuilder;
use std::io::ErrorKind;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::user::{RunAs, run};
use crate::watchdog::Watchdog;
use crate::{Error, PgBinaries};

/// Name of the server log, inside the data directory (the one place the
/// server's user can always write to).
const LOG_FILE: &str = "local-postgres.log";

/// Settings for a [`LocalPostgres`]; `Options::default()` suits the app.
#[derive(Debug, Clone)]
pub struct Options {
    /// Only names the socket file (`.s.PGSQL.<port>`): the server listens on
    /// no TCP address, so this cannot collide with another server's port.
    pub port: u16,
    /// `false` turns off `fsync` and `full_page_writes`: much faster, and
    /// committed data still survives a crash of the server (even an
    /// `immediate` stop), just not a crash of the machine. For tests; keep
    /// `true` for data that must survive a power cut.
    pub fsync: bool,
    pub max_connections: u32,
    /// A PostgreSQL size, e.g. `"128MB"`.
    pub shared_buffers: String,
    /// Where to look for the server binaries; `None` searches
    /// [`PgBinaries::default_search_dirs`].
    pub search_dirs: Option<Vec<PathBuf>>,
    /// How long `pg_ctl` may wait for the server to start or stop.
    pub timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            port: 5432,
            fsync: true,
            max_connections: 200,
            shared_buffers: "128MB".to_owned(),
            search_dirs: None,
            timeout: Duration::from_secs(60),
        }
    }
}

/// A PostgreSQL server of our own, reachable only through a unix socket in a
/// private directory `/tmp/lpg-<random>`.
///
/// Two kinds:
/// * [`LocalPostgres::persistent`]: the data directory is the caller's and is
///   kept. A server left running on it by a crashed earlier run is stopped
///   before ours starts (its settings, such as the socket directory, may
///   differ); a stale `postmaster.pid` is removed.
/// * [`LocalPostgres::throwaway`]: the data lives under the socket
///   directory and is deleted with it.
///
/// The server never outlives this value or this process: [`Drop`] stops it,
/// and a watchdog (see the crate docs) stops it if the process dies first.
/// All methods block (they run `pg_ctl`); from async code call them inside
/// `tokio::task::spawn_blocking`. `initdb` plus start takes about 1.7 s.
#[derive(Debug)]
pub struct LocalPostgres {
    binaries: PgBinaries,
    options: Options,
    run_as: RunAs,
    data_dir: PathBuf,
    /// Also the root of everything a throwaway cluster owns.
    socket_dir: PathBuf,
    throwaway: bool,
    /// Present exactly while the server we started is running.
    watchdog: Option<Watchdog>,
}

impl LocalPostgres {
    /// A cluster in `data_dir` (created, and initialised on first start).
    /// Fails with [`Error::BinariesNotFound`] before touching anything.
    pub fn persistent(data_dir: impl AsRef<Path>, options: Options) -> Result<Self, Error> {
        let data_dir = std::path::absolute(data_dir.as_ref()).map_err(Error::io(format!(
            "resolving {}",
            data_dir.as_ref().display()
        )))?;
        Self::new(Some(data_dir), options)
    }

    /// A cluster whose data is deleted when it is dropped or the process ends.
    pub fn throwaway(options: Options) -> Result<Self, Error> {
        Self::new(None, options)
    }

    fn new(data_dir: Option<PathBuf>, options: Options) -> Result<Self, Error> {
        let binaries = match &options.search_dirs {
            Some(dirs) => PgBinaries::find_in(dirs)?,
            None => PgBinaries::find()?,
        };
        let socket_dir = PathBuf::from(format!("/tmp/lpg-{:016x}", rand::random::<u64>()));
        let throwaway = data_dir.is_none();
        let data_dir = data_dir.unwrap_or_else(|| socket_dir.join("data"));
        Ok(LocalPostgres {
            binaries,
            options,
            run_as: RunAs::detect(),
            data_dir,
            socket_dir,
            throwaway,
            watchdog: None,
        })
    }

    /// Initialises the data directory if it has no `PG_VERSION`, then starts
    /// the server and waits until it accepts connections. Does nothing if it
    /// is already running.
    pub fn start(&mut self) -> Result<(), Error> {
        if self.watchdog.is_some() {
            return Ok(());
        }
        let began = Instant::now();
        self.prepare_dirs()?;
        if !self.data_dir.join("PG_VERSION").exists() {
            self.initdb()?;
        }
        self.clear_leftover()?;
        // Armed before the server exists, so no moment is left uncovered.
        let watchdog = Watchdog::spawn(
            self.run_as,
            &self.binaries.pg_ctl(),
            &self.data_dir,
            if self.throwaway { "immediate" } else { "fast" },
            &[&self.socket_dir],
        )?;
        // On failure dropping `watchdog` fires it, which stops a server that
        // may have come up after pg_ctl gave up waiting.
        self.pg_ctl_start()?;
        self.watchdog = Some(watchdog);
        tracing::info!(
            pg.data_dir = %self.data_dir.display(),
            pg.socket_dir = %self.socket_dir.display(),
            pg.elapsed_ms = began.elapsed().as_millis(),
            "started local PostgreSQL"
        );
        Ok(())
    }

    /// Stops the server with a clean (`fast`) shutdown: open sessions are
    /// ended, data is checkpointed. Does nothing if it is not running.
    pub fn stop(&mut self) -> Result<(), Error> {
        self.stop_with("fast")
    }

    /// Stops the server like a crash would (`immediate`): no checkpoint, so
    /// the next start runs recovery. For reliability tests, and for
    /// throwaway data.
    pub fn stop_immediately(&mut self) -> Result<(), Error> {
        self.stop_with("immediate")
    }

    /// [`LocalPostgres::stop`], then [`LocalPostgres::start`].
    pub fn restart(&mut self) -> Result<(), Error> {
        self.stop()?;
        self.start()
    }

    /// Whether the server started by this value is running (as far as we
    /// know: a server that crashed on its own still counts until stopped).
    pub fn is_running(&self) -> bool {
        self.watchdog.is_some()
    }

    /// URL of the `postgres` database, for diesel-async / tokio-postgres.
    pub fn connection_url(&self) -> String {
        self.database_url("postgres")
    }

    /// URL of `database` on this server, as user `postgres` (trust auth: only
    /// we can reach the socket directory).
    ///
    /// The host part is empty on purpose: with `localhost` there,
    /// tokio-postgres would try TCP `localhost:<port>` before the socket.
    pub fn database_url(&self, database: &str) -> String {
        format!(
            "postgres://postgres@/{database}?host={}&port={}",
            self.socket_dir.display(),
            self.options.port
        )
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn socket_dir(&self) -> &Path {
        &self.socket_dir
    }

    pub fn port(&self) -> u16 {
        self.options.port
    }

    pub fn binaries(&self) -> &PgBinaries {
        &self.binaries
    }

    fn stop_with(&mut self, mode: &str) -> Result<(), Error> {
        let Some(watchdog) = self.watchdog.take() else {
            return Ok(());
        };
        if let Err(err) = self.pg_ctl_stop(mode) {
            self.watchdog = Some(watchdog);
            return Err(err);
        }
        watchdog.dismiss();
        tracing::info!(pg.data_dir = %self.data_dir.display(), pg.mode = mode, "stopped local PostgreSQL");
        Ok(())
    }

    /// Creates the socket and data directories (mode 0700) and, as root,
    /// gives them to `postgres`.
    fn prepare_dirs(&self) -> Result<(), Error> {
        create_private_dir(&self.socket_dir)?;
        create_private_dir(&self.data_dir)?;
        self.run_as.take_ownership(&self.socket_dir)?;
        if !self.data_dir.join("PG_VERSION").exists() {
            self.run_as.take_ownership(&self.data_dir)?;
        }
        self.run_as.check_writable(&self.data_dir)
    }

    fn initdb(&self) -> Result<(), Error> {
        let mut initdb = self.run_as.command(self.binaries.initdb());
        initdb.arg("-D").arg(&self.data_dir).args([
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
        ]);
        if !self.options.fsync {
            initdb.arg("--no-sync");
        }
        run(&mut initdb, "initdb")?;
        Ok(())
    }

    /// Deals with what a crashed earlier run may have left on a persistent
    /// data directory: a server still running (stopped, since its settings
    /// may differ from ours) or a `postmaster.pid` naming a dead process,
    /// or one whose pid now belongs to an unrelated process (removed: the
    /// server would otherwise refuse to start).
    fn clear_leftover(&self) -> Result<(), Error> {
        let pid_file = self.data_dir.join("postmaster.pid");
        let Ok(contents) = std::fs::read_to_string(&pid_file) else {
            return Ok(());
        };
        let mut lines = contents.lines();
        let pid = lines
            .next()
            .and_then(|line| line.trim().parse::<u32>().ok());
        // Line 5 of postmaster.pid is the socket directory.
        let old_socket_dir = lines.nth(3).map(PathBuf::from);
        if pid.is_some_and(is_live_postgres) {
            tracing::warn!(
                pg.data_dir = %self.data_dir.display(),
                "stopping a PostgreSQL server left running by an earlier run"
            );
            let stopped = self.pg_ctl_stop("fast");
            // pg_ctl also fails when the server dies without removing its
            // pid file; only a server still running is a real failure.
            if stopped.is_err() && pid.is_some_and(is_live_postgres) {
                return stopped;
            }
            // Only a directory of ours: the server does not remove it.
            if let Some(dir) =
                old_socket_dir.filter(|dir| dir.to_string_lossy().starts_with("/tmp/lpg-"))
            {
                let _ = std::fs::remove_dir_all(dir);
            }
        } else {
            tracing::warn!(
                pg.data_dir = %self.data_dir.display(),
                "removing a stale postmaster.pid left by an earlier run"
            );
        }
        match std::fs::remove_file(&pid_file) {
            Err(err) if err.kind() != ErrorKind::NotFound => {
                Err(Error::io(format!("removing {}", pid_file.display()))(err))
            }
            _ => Ok(()),
        }
    }

    fn pg_ctl_start(&self) -> Result<(), Error> {
        let mut server_options = format!(
            "-k {} -p {} -h '' -c max_connections={} -c shared_buffers={}",
            sh_quote(&self.socket_dir.to_string_lossy()),
            self.options.port,
            self.options.max_connections,
            sh_quote(&self.options.shared_buffers),
        );
        if !self.options.fsync {
            server_options.push_str(" -c fsync=off -c full_page_writes=off");
        }
        let log = self.data_dir.join(LOG_FILE);
        let mut pg_ctl = self.run_as.command(self.binaries.pg_ctl());
        pg_ctl
            .arg("start")
            .arg("-D")
            .arg(&self.data_dir)
            .arg("-l")
            .arg(&log)
            .args(["-w", "-s", "-t"])
            .arg(self.options.timeout.as_secs().to_string())
            .arg("-o")
            .arg(server_options);
        run(&mut pg_ctl, "starting PostgreSQL").map_err(|err| match err {
            Error::Command { action, detail } => Error::Command {
                action,
                detail: format!("{detail}\nserver log:\n{}", log_tail(&log)),
            },
            other => other,
        })?;
        Ok(())
    }

    fn pg_ctl_stop(&self, mode: &str) -> Result<(), Error> {
        let mut pg_ctl = self.run_as.command(self.binaries.pg_ctl());
        pg_ctl
            .arg("stop")
            .arg("-D")
            .arg(&self.data_dir)
            .args(["-m", mode, "-w", "-s", "-t"])
            .arg(self.options.timeout.as_secs().to_string());
        match run(&mut pg_ctl, "stopping PostgreSQL") {
            // No postmaster.pid: the server is gone already (it crashed).
            Err(_) if !self.data_dir.join("postmaster.pid").exists() => Ok(()),
            result => result.map(drop),
        }
    }
}

impl Drop for LocalPostgres {
    /// Stops the server and removes the socket directory (which, for a
    /// throwaway cluster, holds the data). If stopping fails, the watchdog
    /// is fired instead and does both.
    fn drop(&mut self) {
        let stopped = if self.throwaway {
            self.stop_immediately()
        } else {
            self.stop()
        };
        match stopped {
            Ok(()) => {
                let _ = std::fs::remove_dir_all(&self.socket_dir);
            }
            Err(err) => tracing::warn!(error = %err, "could not stop local PostgreSQL"),
        }
    }
}

/// Creates `path` with mode 0700; its parents get default permissions, so
/// that the server's user can still reach a data directory we create.
fn create_private_dir(path: &Path) -> Result<(), Error> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(Error::io(format!("creating {}", parent.display())))?;
    }
    match DirBuilder::new().mode(0o700).create(path) {
        Err(err) if err.kind() != ErrorKind::AlreadyExists => {
            Err(Error::io(format!("creating {}", path.display()))(err))
        }
        _ => Ok(()),
    }
}

/// Whether `pid` is a live `postgres` process: not an unrelated process that
/// got the same pid after a reboot, and not a server that has exited but
/// is not yet reaped (a zombie, which `pg_ctl stop` would wait on in vain).
fn is_live_postgres(pid: u32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // "<pid> (<command name>) <state> ..."; the name may contain ')'.
    let Some((head, tail)) = stat.rsplit_once(')') else {
        return false;
    };
    let name = head.split_once('(').map(|(_, name)| name);
    let state = tail.trim_start().chars().next();
    name == Some("postgres") && !matches!(state, Some('Z' | 'X'))
}

/// Quotes `value` for the shell that `pg_ctl` runs the server through.
fn sh_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

/// The last lines of the server log, to explain a failed start.
fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_for_the_shell() {
        assert_eq!(sh_quote("/tmp/lpg-1"), "'/tmp/lpg-1'");
        assert_eq!(sh_quote("a'b"), r"'a'\''b'");
    }

    #[test]
    fn urls_name_the_socket_and_no_tcp_host() {
        let pg = LocalPostgres::throwaway(Options::default()).unwrap();
        let url = pg.database_url("shop");
        assert_eq!(
            url,
            format!(
                "postgres://postgres@/shop?host={}&port=5432",
                pg.socket_dir().display()
            )
        );
        assert!(url.len() < 100);
    }
}
