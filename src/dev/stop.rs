//! Ctrl-C and SIGTERM for `hmis dev`, from its first instant to its last.
//!
//! Without handlers a Ctrl-C during startup (seven seconds on a new data directory) kills
//! hmis where it stands and leaves the clusters it started running. So the handlers are
//! installed before anything else happens; from then on a signal only records a request to
//! stop, which startup checks between its steps (a step that runs a PostgreSQL tool is let
//! finish, so that what it started is known and can be stopped), and serving takes as its
//! shutdown. The exit code is then 128 + the signal's number, as a shell reports a process
//! that a signal stopped (130 for Ctrl-C).

use std::process::ExitCode;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

/// A stop request's signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopSignal {
    Interrupt,
    Terminate,
}

impl StopSignal {
    pub fn name(self) -> &'static str {
        match self {
            StopSignal::Interrupt => "SIGINT",
            StopSignal::Terminate => "SIGTERM",
        }
    }

    /// 128 + signal number: 130 for SIGINT, 143 for SIGTERM.
    pub fn exit_code(self) -> ExitCode {
        ExitCode::from(match self {
            StopSignal::Interrupt => 130,
            StopSignal::Terminate => 143,
        })
    }
}

/// Startup was cut short by a stop request (an error so that `?` unwinds to the cleanup).
#[derive(Debug, thiserror::Error)]
#[error("stopped by {}", .0.name())]
pub struct Interrupted(pub StopSignal);

/// Whether a stop was requested, and a way to wait for one. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Stop {
    rx: watch::Receiver<Option<StopSignal>>,
}

impl Stop {
    /// Installs the SIGINT and SIGTERM handlers (for the rest of the process' life).
    pub fn install() -> anyhow::Result<Stop> {
        let mut int = signal(SignalKind::interrupt())?;
        let mut term = signal(SignalKind::terminate())?;
        let (tx, rx) = watch::channel(None);
        tokio::spawn(async move {
            let mut first = true;
            loop {
                let got = tokio::select! {
                    Some(()) = int.recv() => StopSignal::Interrupt,
                    Some(()) = term.recv() => StopSignal::Terminate,
                    else => return,
                };
                if first {
                    say!(
                        "\n{}: stopping hmis dev and the clusters it started",
                        got.name()
                    );
                    tx.send_replace(Some(got));
                    first = false;
                } else {
                    // Killing us now would orphan the clusters; stopping them takes seconds.
                    say!("still stopping the clusters, a moment");
                }
            }
        });
        Ok(Stop { rx })
    }

    /// The signal, once one came.
    pub fn requested(&self) -> Option<StopSignal> {
        *self.rx.borrow()
    }

    /// Err(Interrupted) once a stop was requested: a checkpoint between startup steps.
    pub fn check(&self) -> Result<(), Interrupted> {
        match self.requested() {
            Some(sig) => Err(Interrupted(sig)),
            None => Ok(()),
        }
    }

    /// Resolves when a stop is requested (at once if it already was).
    pub async fn wait(mut self) -> StopSignal {
        let got = self
            .rx
            .wait_for(Option::is_some)
            .await
            .ok()
            .and_then(|sig| *sig);
        match got {
            Some(sig) => sig,
            // The handler task is gone only if the runtime shuts down: never resolve.
            None => std::future::pending().await,
        }
    }

    /// Runs `step` unless a stop is requested first; an async step (no child process) is
    /// simply dropped, since the clusters it talks to are stopped right after.
    pub async fn unless_stopped<T>(
        &self,
        step: impl std::future::Future<Output = anyhow::Result<T>>,
    ) -> anyhow::Result<T> {
        self.check()?;
        tokio::select! {
            out = step => out,
            sig = self.clone().wait() => Err(Interrupted(sig).into()),
        }
    }
}
