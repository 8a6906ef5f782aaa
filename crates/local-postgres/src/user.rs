//! Who runs the server commands: ourselves, or `postgres` when we are root
//! (`initdb` and `postgres` refuse to run as root; there is no `sudo` here, so
//! `runuser` from util-linux does the switch).

use std::path::Path;
use std::process::{Command, Output, Stdio};

use crate::Error;

/// How to run `initdb`, `pg_ctl` and the watchdog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RunAs {
    CurrentUser,
    /// We are root: run through `runuser -u postgres --`.
    PostgresUser,
}

impl RunAs {
    pub(crate) fn detect() -> Self {
        if effective_uid() == Some(0) {
            RunAs::PostgresUser
        } else {
            RunAs::CurrentUser
        }
    }

    /// A command for `program`, with stdin closed and `/` as working
    /// directory (our own working directory may be unreadable by `postgres`).
    pub(crate) fn command(self, program: impl AsRef<Path>) -> Command {
        let mut command = match self {
            RunAs::CurrentUser => Command::new(program.as_ref()),
            RunAs::PostgresUser => {
                let mut command = Command::new("runuser");
                command.args(["-u", "postgres", "--"]).arg(program.as_ref());
                command
            }
        };
        command.current_dir("/").stdin(Stdio::null());
        command
    }

    /// Gives `path` (recursively) to the user the server runs as.
    pub(crate) fn take_ownership(self, path: &Path) -> Result<(), Error> {
        if self == RunAs::CurrentUser {
            return Ok(());
        }
        let mut chown = Command::new("chown");
        chown
            .arg("-R")
            .arg("postgres:")
            .arg(path)
            .stdin(Stdio::null());
        run(
            &mut chown,
            &format!("giving {} to the postgres user", path.display()),
        )
        .map(drop)
    }

    /// Whether the server's user can write to `dir`: as root, the usual
    /// failure is an unsearchable parent such as `/root`, and `initdb`'s own
    /// error for that does not say what to do.
    pub(crate) fn check_writable(self, dir: &Path) -> Result<(), Error> {
        if self == RunAs::CurrentUser {
            return Ok(());
        }
        let status = self
            .command("test")
            .arg("-w")
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(Error::io("running runuser"))?;
        if status.success() {
            Ok(())
        } else {
            Err(Error::DataDirNotAccessible {
                path: dir.to_path_buf(),
            })
        }
    }
}

/// Runs `command` to completion; a non-zero exit becomes [`Error::Command`]
/// carrying its output.
pub(crate) fn run(command: &mut Command, action: &str) -> Result<Output, Error> {
    let output = command.output().map_err(Error::io(format!(
        "{action}: spawning {}",
        command.get_program().display()
    )))?;
    if output.status.success() {
        Ok(output)
    } else {
        Err(Error::Command {
            action: action.to_owned(),
            detail: describe(&output),
        })
    }
}

/// Exit status plus whatever the command printed, on one line each.
pub(crate) fn describe(output: &Output) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    format!("{}: {}", output.status, text.trim())
}

/// The effective uid, from `/proc/self/status` (`Uid: real effective saved fs`).
/// Avoids a libc dependency; `None` off Linux, where we then assume non-root.
fn effective_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_an_effective_uid() {
        assert!(effective_uid().is_some());
    }
}
