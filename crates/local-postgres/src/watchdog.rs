//! A dead man's switch that stops the server when the process that started
//! it goes away.
//!
//! `pg_ctl start` detaches the server, and a test process ends without
//! running `Drop` for statics (or is killed), so nothing in our process can be
//! relied on to stop it. Instead, every run gets a tiny `sh` process whose
//! stdin is a pipe from us. The kernel closes our end when we exit for any
//! reason (even `SIGKILL`); the shell then reads end-of-file, stops the
//! server and removes the throwaway directories. A clean `stop()` first
//! writes a line to the pipe, which tells the shell to just exit.
//!
//! The shell runs in its own process group so that Ctrl-C in a terminal
//! (sent to the foreground group) cannot kill it before it has done its job.

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, ChildStdin, Stdio};

use crate::Error;
use crate::user::RunAs;

/// `$1` = pg_ctl, `$2` = data dir, `$3` = shutdown mode, rest = dirs to remove.
const SCRIPT: &str = r#"trap '' INT HUP
if read -r word; then exit 0; fi
pg_ctl="$1"; data="$2"; mode="$3"; shift 3
"$pg_ctl" stop -D "$data" -m "$mode" -w -t 60 >/dev/null 2>&1
if [ "$#" -gt 0 ]; then rm -rf -- "$@"; fi
"#;

/// The running watchdog; dropping it without [`Watchdog::dismiss`] fires it.
#[derive(Debug)]
pub(crate) struct Watchdog {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Watchdog {
    pub(crate) fn spawn(
        run_as: RunAs,
        pg_ctl: &Path,
        data_dir: &Path,
        shutdown_mode: &str,
        remove_on_fire: &[&Path],
    ) -> Result<Self, Error> {
        let mut command = run_as.command("/bin/sh");
        command
            .arg("-c")
            .arg(SCRIPT)
            .arg("local-postgres-watchdog")
            .arg(pg_ctl)
            .arg(data_dir)
            .arg(shutdown_mode)
            .args(remove_on_fire)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0);
        let mut child = command
            .spawn()
            .map_err(Error::io("spawning the PostgreSQL watchdog"))?;
        let stdin = child.stdin.take();
        Ok(Watchdog { child, stdin })
    }

    /// Tells the watchdog the server was stopped on purpose, and reaps it.
    pub(crate) fn dismiss(mut self) {
        if let Some(mut stdin) = self.stdin.take() {
            // An error means the watchdog is already gone: nothing to dismiss.
            let _ = stdin.write_all(b"dismiss\n");
        }
        let _ = self.child.wait();
    }
}

impl Drop for Watchdog {
    /// Closing the pipe without a word fires the watchdog; we do not wait
    /// for it, since stopping the server can take seconds.
    fn drop(&mut self) {
        drop(self.stdin.take());
    }
}
