//! The typed error of the cluster side. The test harness returns `anyhow`
//! errors, since only test code reads them.

use std::path::PathBuf;

/// Why a local PostgreSQL could not be set up, started or stopped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No directory holds `initdb`, `pg_ctl` and `postgres` together. The
    /// message is meant to be shown to a user as is.
    #[error(
        "PostgreSQL server binaries (initdb, postgres) not found: install PostgreSQL (e.g. apt-get install postgresql) or set DATABASE_URL"
    )]
    BinariesNotFound,

    /// Running as root, the server runs as `postgres`, which cannot write to
    /// the data directory (usually a parent directory such as `/root` is not
    /// searchable by other users).
    #[error(
        "the postgres user cannot write to {path}: as root the server runs as `postgres`, so every parent directory must be searchable by it (e.g. chmod o+x), or set DATABASE_URL"
    )]
    DataDirNotAccessible { path: PathBuf },

    /// A server command (`initdb`, `pg_ctl`, `chown`, ..) failed; `detail`
    /// holds its output and, for a failed start, the end of the server log.
    #[error("{action} failed: {detail}")]
    Command { action: String, detail: String },

    /// A file system operation or spawning a process failed.
    #[error("{action}")]
    Io {
        action: String,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    pub(crate) fn io(action: impl Into<String>) -> impl FnOnce(std::io::Error) -> Self {
        let action = action.into();
        move |source| Error::Io { action, source }
    }
}
