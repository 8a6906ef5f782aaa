//! The embedded default: with no `DATABASE_URL`, a private PostgreSQL in the data directory,
//! and a JWT secret generated once and kept beside it.

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::Context;
use local_postgres::{LocalPostgres, Options};

use crate::config::Secret;

/// The running private server; stop it with [`EmbeddedPostgres::stop`] (also done on drop).
#[derive(Debug)]
pub struct EmbeddedPostgres {
    server: LocalPostgres,
}

impl EmbeddedPostgres {
    /// Starts (and on first run initialises) the server in `<data_dir>/postgres`. Blocking: call
    /// from `spawn_blocking`.
    pub fn start(data_dir: &Path, bin_dir: Option<&Path>) -> anyhow::Result<Self> {
        let options = Options {
            search_dirs: bin_dir.map(|dir| vec![dir.to_path_buf()]),
            ..Options::default()
        };
        // Looks for the binaries before creating anything, so a machine without PostgreSQL gets
        // one clear line and no empty data directory.
        let mut server = LocalPostgres::persistent(data_dir.join("postgres"), options.clone())?;
        fs::create_dir_all(data_dir)
            .with_context(|| format!("creating DATA_DIR {}", data_dir.display()))?;
        match server.start() {
            Ok(()) => Ok(Self { server }),
            // As root the server runs as `postgres`, which cannot reach a data directory under a
            // private home (a clone in /root): keep the cluster where it can, under /var/lib.
            Err(local_postgres::Error::DataDirNotAccessible { path }) => {
                let fallback = fallback_dir(data_dir)?;
                tracing::warn!(
                    unreachable = %path.display(),
                    data_dir = %fallback.display(),
                    "the postgres user cannot reach DATA_DIR; keeping the embedded cluster elsewhere"
                );
                let mut server = LocalPostgres::persistent(fallback, options)?;
                server.start().context("starting the embedded PostgreSQL")?;
                Ok(Self { server })
            }
            Err(error) => {
                Err(anyhow::Error::new(error).context("starting the embedded PostgreSQL"))
            }
        }
    }

    /// The URL of the `postgres` database over the private unix socket.
    pub fn url(&self) -> String {
        self.server.connection_url()
    }

    /// Stops the server (blocking), flushing everything to disk.
    pub fn stop(mut self) -> anyhow::Result<()> {
        self.server
            .stop()
            .context("stopping the embedded PostgreSQL")
    }
}

/// Where the cluster of `data_dir` lives when the `postgres` user cannot reach `data_dir`: a
/// directory under `/var/lib/commerce` named after the absolute `data_dir`, so the same
/// `DATA_DIR` always finds the same cluster.
fn fallback_dir(data_dir: &Path) -> anyhow::Result<std::path::PathBuf> {
    let absolute = std::path::absolute(data_dir)?;
    let name: String = absolute
        .to_string_lossy()
        .trim_start_matches('/')
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    Ok(Path::new("/var/lib/commerce").join(name).join("postgres"))
}

/// The JWT secret of the embedded mode: read from `<data_dir>/jwt-secret`, or generated (64
/// random hex characters) and written there with mode 0600 on first start.
pub fn jwt_secret(data_dir: &Path) -> anyhow::Result<Secret> {
    let path = data_dir.join("jwt-secret");
    if let Ok(existing) = fs::read_to_string(&path) {
        let existing = existing.trim();
        if existing.len() >= 32 {
            return Ok(Secret::new(existing));
        }
    }
    fs::create_dir_all(data_dir)
        .with_context(|| format!("creating DATA_DIR {}", data_dir.display()))?;
    let bytes: [u8; 32] = rand::random();
    let secret: String = bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .concat();
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("writing {}", path.display()))?;
    file.write_all(secret.as_bytes())?;
    Ok(Secret::new(secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fallback_is_named_after_the_data_dir() {
        assert_eq!(
            fallback_dir(Path::new("/root/shop/.data")).unwrap(),
            Path::new("/var/lib/commerce/root_shop_.data/postgres")
        );
    }

    #[test]
    fn the_secret_is_generated_once_and_kept() {
        let dir = std::env::temp_dir().join(format!("commerce-secret-{}", rand::random::<u64>()));
        let first = jwt_secret(&dir).unwrap();
        let second = jwt_secret(&dir).unwrap();
        assert_eq!(first, second);
        assert_eq!(first.expose().len(), 64);
        fs::remove_dir_all(&dir).unwrap();
    }
}
