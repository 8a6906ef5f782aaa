//! Locating the PostgreSQL server binaries.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::Error;

/// A directory holding `initdb`, `pg_ctl` and `postgres`.
///
/// All three must come from the same directory so that they are the same
/// version (`pg_ctl` starts the `postgres` next to its own real path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgBinaries {
    dir: PathBuf,
}

impl PgBinaries {
    /// Searches [`PgBinaries::default_search_dirs`].
    pub fn find() -> Result<Self, Error> {
        Self::find_in(&Self::default_search_dirs())
    }

    /// Returns the first of `dirs` that holds all three binaries.
    pub fn find_in(dirs: &[PathBuf]) -> Result<Self, Error> {
        dirs.iter()
            .find(|dir| {
                ["initdb", "pg_ctl", "postgres"]
                    .iter()
                    .all(|name| is_executable(&dir.join(name)))
            })
            .map(|dir| PgBinaries { dir: dir.clone() })
            .ok_or(Error::BinariesNotFound)
    }

    /// `PATH` first (the user's explicit choice), then
    /// `/usr/lib/postgresql/<version>/bin` newest version first (Debian and
    /// Ubuntu do not put the server binaries on `PATH`).
    pub fn default_search_dirs() -> Vec<PathBuf> {
        let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
            .map(|path| std::env::split_paths(&path).collect())
            .unwrap_or_default();
        dirs.extend(versioned_dirs(Path::new("/usr/lib/postgresql")));
        dirs
    }

    /// The directory the binaries are in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub(crate) fn initdb(&self) -> PathBuf {
        self.dir.join("initdb")
    }

    pub(crate) fn pg_ctl(&self) -> PathBuf {
        self.dir.join("pg_ctl")
    }
}

/// `<root>/<version>/bin` for every version directory, newest first.
fn versioned_dirs(root: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    let mut versions: Vec<(Vec<u32>, PathBuf)> = entries
        .filter_map(Result::ok)
        .map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            (version_key(&name), entry.path().join("bin"))
        })
        .collect();
    versions.sort_by(|a, b| b.0.cmp(&a.0));
    versions.into_iter().map(|(_, dir)| dir).collect()
}

/// "9.6" -> [9, 6], "16" -> [16]: numeric so that 16 sorts above 9.6.
fn version_key(name: &str) -> Vec<u32> {
    name.split('.')
        .map(|part| part.parse().unwrap_or(0))
        .collect()
}

fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path)
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newer_versions_sort_first() {
        let mut keys = vec![version_key("9.6"), version_key("16"), version_key("15")];
        keys.sort_by(|a, b| b.cmp(a));
        assert_eq!(keys, vec![vec![16], vec![15], vec![9, 6]]);
    }

    #[test]
    fn an_empty_directory_has_no_binaries() {
        let dir = std::env::temp_dir().join(format!("lpg-empty-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let err = PgBinaries::find_in(std::slice::from_ref(&dir)).unwrap_err();
        std::fs::remove_dir(&dir).unwrap();
        assert!(matches!(err, Error::BinariesNotFound));
    }
}
