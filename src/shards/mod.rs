//! The regional shards: one deadpool-postgres pool per region, found by name or by the
//! region code inside a patient ID. Pools connect lazily, so a region whose database is
//! down neither stops hmis from starting nor slows the other regions; a connection that
//! broke is dropped when it is next checked out, so a region that comes back is used
//! again without a restart.

mod health;

pub use health::{ReadinessReport, RegionStatus, status};

use crate::config::{RegionSettings, Settings};
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use std::collections::HashMap;
use std::time::Duration;

/// One region's database.
pub struct Shard {
    pub settings: RegionSettings,
    pool: Pool,
}

impl Shard {
    pub fn name(&self) -> &str {
        &self.settings.name
    }
}

/// Why a shard could not serve a request. Mapped to 503 at the HTTP edge.
#[derive(Debug, thiserror::Error)]
pub enum ShardError {
    #[error("region {region} is unavailable: {reason}")]
    Unavailable { region: String, reason: String },
    #[error("region {region}: database error: {source}")]
    Query {
        region: String,
        #[source]
        source: tokio_postgres::Error,
    },
}

impl ShardError {
    pub fn query(region: &str, source: tokio_postgres::Error) -> Self {
        // A dropped connection is an outage of the region, not a bad query.
        if source.is_closed() || source.as_db_error().is_none() {
            return ShardError::Unavailable {
                region: region.to_owned(),
                reason: source.to_string(),
            };
        }
        ShardError::Query {
            region: region.to_owned(),
            source,
        }
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
            shards.push(Shard {
                pool: pool_for(region, timeout)?,
                settings: region.clone(),
            });
        }
        let by_name = shards.iter().enumerate().map(|(i, s)| (s.settings.name.clone(), i)).collect();
        let by_code = shards.iter().enumerate().map(|(i, s)| (s.settings.code, i)).collect();
        Ok(Shards { shards, by_name, by_code })
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
    /// A connection from this region's pool, or `Unavailable` within the shard timeout.
    pub async fn conn(&self) -> Result<Object, ShardError> {
        self.pool.get().await.map_err(|e| ShardError::Unavailable {
            region: self.settings.name.clone(),
            reason: e.to_string(),
        })
    }
}

fn pool_for(region: &RegionSettings, timeout: Duration) -> anyhow::Result<Pool> {
    let pg: tokio_postgres::Config = region
        .database_url
        .expose()
        .parse()
        .map_err(|e| anyhow::anyhow!("region {}: database_url: {e}", region.name))?;
    let mut pg = pg;
    pg.connect_timeout(timeout);
    pg.application_name("hmis");
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
        .max_size(region.pool_size)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(timeout))
        .create_timeout(Some(timeout))
        .recycle_timeout(Some(timeout))
        .build()?)
}
