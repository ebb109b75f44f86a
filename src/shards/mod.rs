//! The regional shards: one deadpool-postgres pool per region, found by name or by the
//! region code inside a patient ID. Pools connect lazily, so a region whose database is
//! down neither stops hmis from starting nor slows the other regions; a connection that
//! broke is dropped when it is next checked out, so a region that comes back is used
//! again without a restart.

mod health;
mod readers;
mod write;

pub use health::{ReadinessReport, RegionStatus, status};
pub use readers::{Conn, Reader, Readers};
pub use write::Abort;

use crate::config::{RegionSettings, Settings};
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use futures_util::future::BoxFuture;
use std::collections::HashMap;
use std::time::Duration;

/// One region's database.
pub struct Shard {
    pub settings: RegionSettings,
    /// Exclusive connections, for writes and transactions.
    pool: Pool,
    /// Shared, pipelined connections, for reads.
    readers: std::sync::Arc<readers::Readers>,
    /// A shared connection of its own for the real-time layer's reads of the change log
    /// (`application_name` `hmis follow`), so that polling a region never queues requests'
    /// reads behind it, nor passes for one.
    following: std::sync::Arc<readers::Readers>,
    /// How to connect, for connections of a purpose's own (audit batches, LISTEN).
    config: tokio_postgres::Config,
    timeout: Duration,
    /// Planners' queries running here at once, at most `server.planner_queries_per_region`:
    /// each holds a pooled connection for up to the query timeout, and clinics need the rest.
    pub planner_slots: tokio::sync::Semaphore,
}

impl Shard {
    pub fn name(&self) -> &str {
        &self.settings.name
    }

    /// A set of `count` shared read connections of its own, for work that must not queue
    /// behind requests' reads (the audit writer).
    pub fn own_readers(&self, count: usize) -> std::sync::Arc<Readers> {
        std::sync::Arc::new(Readers::new(self.config.clone(), count, self.timeout))
    }

    /// The pool of exclusive connections, for work that outlives a request (a denied
    /// attempt's audit line, written after the answer).
    pub fn pool(&self) -> Pool {
        self.pool.clone()
    }
}

/// Why a shard could not serve a request. Mapped to 503 at the HTTP edge.
#[derive(Debug, thiserror::Error)]
pub enum ShardError {
    #[error("region {region} is unavailable: {reason}")]
    Unavailable { region: String, reason: String },
    #[error("region {region}: database error: {}", db_message(source))]
    Query {
        region: String,
        #[source]
        source: tokio_postgres::Error,
    },
}

impl ShardError {
    /// The region that failed.
    pub fn region(&self) -> &str {
        match self {
            ShardError::Unavailable { region, .. } | ShardError::Query { region, .. } => region,
        }
    }
}

/// What PostgreSQL said, for the log: its message and SQLSTATE (tokio-postgres's own text
/// is only "db error"), never its detail, which can quote a row's values.
fn db_message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
        None => e.to_string(),
    }
}

/// Every region's pool.
pub struct Shards {
    shards: Vec<Shard>,
    by_name: HashMap<String, usize>,
    by_code: HashMap<u16, usize>,
}

impl Shards {
    /// Builds a pool per region. Nothing connects yet.
    pub fn new(settings: &Settings) -> anyhow::Result<Shards> {
        let timeout = Duration::from_millis(settings.file.server.shard_timeout_ms);
        let mut shards = Vec::new();
        for region in &settings.regions {
            let config = pg_config(region, timeout)?;
            let readers = std::sync::Arc::new(readers::Readers::new(
                config.clone(),
                READERS_PER_REGION,
                timeout,
            ));
            let mut follow = config.clone();
            follow.application_name("hmis follow");
            let following = std::sync::Arc::new(readers::Readers::new(follow, 1, timeout));
            shards.push(Shard {
                following,
                pool: pool_for(config.clone(), region.pool_size, timeout)?,
                config: config.clone(),
                timeout,
                readers,
                settings: region.clone(),
                planner_slots: tokio::sync::Semaphore::new(
                    settings.file.server.planner_queries_per_region,
                ),
            });
        }
        let by_name = shards
            .iter()
            .enumerate()
            .map(|(i, s)| (s.settings.name.clone(), i))
            .collect();
        let by_code = shards
            .iter()
            .enumerate()
            .map(|(i, s)| (s.settings.code, i))
            .collect();
        Ok(Shards {
            shards,
            by_name,
            by_code,
        })
    }

    pub fn get(&self, name: &str) -> Option<&Shard> {
        self.by_name.get(name).map(|&i| &self.shards[i])
    }

    pub fn by_code(&self, code: u16) -> Option<&Shard> {
        self.by_code.get(&code).map(|&i| &self.shards[i])
    }

    pub fn iter(&self) -> impl Iterator<Item = &Shard> {
        self.shards.iter()
    }
}

impl Shard {
    /// Runs a read on a pooled connection. When the connection turns out dead (the
    /// region's server restarted since it was pooled), the read is tried once more on a
    /// fresh one, so a region that came back answers at once. Reads only: a write whose
    /// connection died may have committed, and must not be sent twice.
    pub async fn read<T>(
        &self,
        f: impl for<'c> Fn(&'c Reader) -> BoxFuture<'c, Result<T, tokio_postgres::Error>>,
    ) -> Result<T, ShardError> {
        self.read_on(&self.readers, f).await
    }

    /// As [`Shard::read`], on the real-time layer's own connection.
    pub async fn read_following<T>(
        &self,
        f: impl for<'c> Fn(&'c Reader) -> BoxFuture<'c, Result<T, tokio_postgres::Error>>,
    ) -> Result<T, ShardError> {
        self.read_on(&self.following, f).await
    }

    async fn read_on<T>(
        &self,
        readers: &Readers,
        f: impl for<'c> Fn(&'c Reader) -> BoxFuture<'c, Result<T, tokio_postgres::Error>>,
    ) -> Result<T, ShardError> {
        let reader = self.reader(readers).await?;
        match f(&reader).await {
            Err(e) if is_connection_error(&e) => {
                self.evict_idle();
                let reader = self.reader(readers).await?;
                f(&reader).await.map_err(|e| self.fail(e))
            }
            result => result.map_err(|e| self.fail(e)),
        }
    }

    async fn reader(&self, readers: &Readers) -> Result<std::sync::Arc<Reader>, ShardError> {
        readers.get().await.map_err(|reason| {
            self.count_error("unavailable");
            ShardError::Unavailable {
                region: self.settings.name.clone(),
                reason,
            }
        })
    }

    /// Classifies a database error. A lost connection means the region is down or has
    /// restarted: every idle connection went with it, so they are dropped now rather than
    /// failing one request each.
    pub fn fail(&self, source: tokio_postgres::Error) -> ShardError {
        let region = self.settings.name.clone();
        if is_connection_error(&source) {
            self.evict_idle();
            self.count_error("unavailable");
            return ShardError::Unavailable {
                region,
                reason: source.to_string(),
            };
        }
        self.count_error("query");
        ShardError::Query { region, source }
    }

    fn count_error(&self, kind: &'static str) {
        let region = self.settings.name.clone();
        metrics::counter!(crate::telemetry::REGION_ERRORS, "region" => region, "kind" => kind)
            .increment(1);
    }

    fn evict_idle(&self) {
        self.pool.retain(|_, _| false);
        self.readers.reset();
        self.following.reset();
    }

    /// A connection from this region's pool, or `Unavailable` within the shard timeout.
    pub async fn conn(&self) -> Result<Object, ShardError> {
        self.pool.get().await.map_err(|e| {
            self.count_error("unavailable");
            ShardError::Unavailable {
                region: self.settings.name.clone(),
                reason: e.to_string(),
            }
        })
    }
}

/// A closed socket, an I/O error, or the server saying it is shutting down (SQLSTATE
/// class 57) or that the connection failed (class 08).
fn is_connection_error(e: &tokio_postgres::Error) -> bool {
    if e.is_closed() {
        return true;
    }
    if let Some(db) = e.as_db_error() {
        return matches!(&db.code().code()[..2], "08" | "57");
    }
    std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>())
}

/// Shared read connections per region: two keep both of a small machine's cores busy
/// while still batching most concurrent reads.
const READERS_PER_REGION: usize = 2;

fn pg_config(region: &RegionSettings, timeout: Duration) -> anyhow::Result<tokio_postgres::Config> {
    let mut pg: tokio_postgres::Config = region
        .database_url
        .expose()
        .parse()
        .map_err(|e| anyhow::anyhow!("region {}: database_url: {e}", region.name))?;
    pg.connect_timeout(timeout);
    pg.application_name("hmis");
    // No JIT: hmis's statements read a few rows by index, but a generic plan's estimate can
    // pass `jit_above_cost` and spend 100+ ms compiling what runs in 0.1 ms (the change
    // log's read after a cursor did, at 100,000 events).
    add_options(&mut pg, "-c jit=off");
    Ok(pg)
}

/// Appends server settings to those the URL's `options` already gives.
pub(crate) fn add_options(pg: &mut tokio_postgres::Config, more: &str) {
    let options = match pg.get_options() {
        Some(given) if !given.trim().is_empty() => format!("{given} {more}"),
        _ => more.to_owned(),
    };
    pg.options(options);
}

fn pool_for(pg: tokio_postgres::Config, size: usize, timeout: Duration) -> anyhow::Result<Pool> {
    let manager = Manager::from_config(
        pg,
        tokio_postgres::NoTls,
        ManagerConfig {
            // Fast: a closed connection is noticed without a round trip; a connection that
            // died silently fails its query and is not returned to the pool.
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Ok(Pool::builder(manager)
        .max_size(size)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(timeout))
        .create_timeout(Some(timeout))
        .recycle_timeout(Some(timeout))
        .build()?)
}
