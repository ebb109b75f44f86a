//! One `hmis dev` per data directory.
//!
//! A second `hmis dev` on the same directory would adopt the first one's clusters and, on its
//! way out, stop them under the first one's feet. So `hmis dev` holds an exclusive `flock` on
//! `<data dir>/hmis-dev.lock` for as long as it runs, and a second one refuses before it
//! touches anything. The kernel releases the lock when the holder exits, however it exits
//! (a crash, `kill -9`), so a lock file left behind never blocks: whoever finds it unlocked
//! takes it over, whatever PID it names. The PID and port written into the file are only
//! there to tell the second one whom it met.

use anyhow::Context;
use nix::fcntl::{Flock, FlockArg};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The lock file's name inside the data directory.
pub const LOCK_FILE: &str = "hmis-dev.lock";

/// How long to wait for the holder to write its PID when we meet it between its lock and write.
const CONTENT_WAIT: Duration = Duration::from_millis(500);

/// Held for the life of the `hmis dev` run; dropping it (or exiting) releases the lock.
#[derive(Debug)]
pub struct DevLock {
    _file: Flock<File>,
}

/// Who holds the lock, as its file says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub pid: Option<u32>,
    pub port: Option<u16>,
}

impl DevLock {
    /// Takes the lock of `data_dir` (created if missing) and records our PID and `port`, or
    /// fails naming the running `hmis dev` that holds it.
    pub fn acquire(data_dir: &Path, port: u16) -> anyhow::Result<DevLock> {
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("creating the data directory {}", data_dir.display()))?;
        let path = data_dir.join(LOCK_FILE);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false) // the holder's PID must survive our look at it
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        let mut file = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(locked) => locked,
            Err((file, nix::errno::Errno::EWOULDBLOCK)) => {
                anyhow::bail!(already_running(data_dir, &read_holder(file)))
            }
            Err((_, errno)) => {
                return Err(std::io::Error::from(errno))
                    .with_context(|| format!("locking {}", path.display()));
            }
        };
        let record = format!("{}\n{port}\n", std::process::id());
        file.set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| file.write_all(record.as_bytes()))
            .with_context(|| format!("writing {}", path.display()))?;
        Ok(DevLock { _file: file })
    }
}

/// The holder's PID and port; it may have locked the file but not written them yet.
fn read_holder(mut file: File) -> Holder {
    let deadline = Instant::now() + CONTENT_WAIT;
    loop {
        let mut text = String::new();
        let read = file.rewind().and_then(|()| file.read_to_string(&mut text));
        let holder = parse(&text);
        if read.is_err() || holder.pid.is_some() || Instant::now() > deadline {
            return holder;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Line 1 is the PID, line 2 the HTTP port.
pub fn parse(text: &str) -> Holder {
    let mut lines = text.lines().map(str::trim);
    Holder {
        pid: lines.next().and_then(|l| l.parse().ok()),
        port: lines.next().and_then(|l| l.parse().ok()),
    }
}

/// What the second `hmis dev` says: who runs, where it serves, and the two ways out.
pub fn already_running(data_dir: &Path, holder: &Holder) -> String {
    let dir = absolute(data_dir);
    let who = match holder.pid {
        Some(pid) => format!("PID {pid}"),
        None => "PID unknown".to_owned(),
    };
    let serving = match holder.port {
        Some(port) => format!(", serving http://127.0.0.1:{port}/"),
        None => String::new(),
    };
    format!(
        "another hmis dev ({who}{serving}) is already running on the data directory {}; \
         use that one, stop it first (Ctrl-C in its terminal), or run this one side by side \
         with another --data-dir and another --port",
        dir.display()
    )
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_file_names_the_pid_then_the_port() {
        let holder = parse("4242\n8000\n");
        assert_eq!(
            holder,
            Holder {
                pid: Some(4242),
                port: Some(8000)
            }
        );
        assert_eq!(parse("").pid, None);
        assert_eq!(parse("junk\n").port, None);
    }

    #[test]
    fn the_refusal_names_the_pid_the_address_and_the_ways_out() {
        let msg = already_running(
            Path::new("/tmp/dev"),
            &Holder {
                pid: Some(4242),
                port: Some(8000),
            },
        );
        for part in [
            "PID 4242",
            "http://127.0.0.1:8000/",
            "/tmp/dev",
            "--data-dir",
            "--port",
        ] {
            assert!(msg.contains(part), "{part} missing in: {msg}");
        }
    }

    #[test]
    fn a_second_lock_on_one_directory_is_refused_and_freed_when_the_first_is_dropped() {
        let dir = std::env::temp_dir().join(format!("hmis-lock-test-{}", std::process::id()));
        let first = DevLock::acquire(&dir, 8123).unwrap();
        let refused = DevLock::acquire(&dir, 8124).unwrap_err().to_string();
        assert!(
            refused.contains(&format!("PID {}", std::process::id())),
            "{refused}"
        );
        assert!(refused.contains("127.0.0.1:8123"), "{refused}");
        drop(first);
        // A lock file left behind (as by a crash) is taken over.
        let again = DevLock::acquire(&dir, 8125).unwrap();
        let text = std::fs::read_to_string(dir.join(LOCK_FILE)).unwrap();
        assert_eq!(parse(&text).port, Some(8125));
        drop(again);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
