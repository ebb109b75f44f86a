//! The clusters of one `hmis dev` run, split by who started them.
//!
//! On its way out `hmis dev` stops the clusters it started, and only those. A cluster that
//! was already running when it came (adopted: left by an earlier run that was killed, or
//! started by hand with pg_ctl) is reused, and left running on exit, since this run cannot
//! know who else relies on it; both moments say so, with how to stop it. (Another `hmis dev`
//! on the same data directory is no such case: it is refused before it gets here.)

use crate::pgcluster::{Cluster, PgError, Start};

#[derive(Debug, Default)]
pub struct DevClusters {
    started: Vec<Cluster>,
    adopted: Vec<(String, Cluster, u32)>,
}

impl DevClusters {
    /// Records `cluster` after `start()`: as ours to stop when this run started it, and also
    /// when the start failed (pg_ctl may give up waiting on a server that still comes up).
    pub fn record(
        &mut self,
        name: &str,
        cluster: Cluster,
        start: Result<Start, PgError>,
    ) -> Result<&Cluster, PgError> {
        match start {
            Ok(Start::Adopted { pid }) => {
                say!(
                    "{name}: reusing the PostgreSQL server (PID {pid}) that was already running \
                     from {}; it stays running when hmis dev exits",
                    cluster.data_dir().display()
                );
                self.adopted.push((name.to_owned(), cluster, pid));
                Ok(&self.adopted.last().expect("just pushed").1)
            }
            Ok(Start::Started) => {
                self.started.push(cluster);
                Ok(self.started.last().expect("just pushed"))
            }
            Err(e) => {
                self.started.push(cluster);
                Err(e)
            }
        }
    }

    /// Stops (fast shutdown) every cluster this run started, all of them even if one fails,
    /// and says which adopted ones it leaves running.
    pub async fn stop(self) -> anyhow::Result<()> {
        let DevClusters { started, adopted } = self;
        if !started.is_empty() {
            say!("stopping the dev clusters");
        }
        let failures = tokio::task::spawn_blocking(move || {
            started
                .iter()
                .filter_map(|c| {
                    c.stop()
                        .err()
                        .map(|e| format!("{}: {e}", c.data_dir().display()))
                })
                .collect::<Vec<_>>()
        })
        .await?;
        for (name, cluster, pid) in &adopted {
            say!(
                "{name}: left running (PID {pid}), as it was running before this hmis dev \
                 started; stop it with `kill -INT {pid}`, or leave it for the next hmis dev \
                 on {}",
                cluster
                    .data_dir()
                    .parent()
                    .unwrap_or(cluster.data_dir())
                    .display()
            );
        }
        if !failures.is_empty() {
            anyhow::bail!("stopping the dev clusters failed:\n{}", failures.join("\n"));
        }
        Ok(())
    }
}
