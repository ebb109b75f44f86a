//! Keeping each shard's log to its retention (`[changes] retention_hours`), in the
//! background. Every process may run one: pruning locks the log's meta row, so two
//! pruners take turns and each starts where the other stopped.

use crate::config::ChangesSettings;
use crate::shards::Shards;
use std::sync::Weak;
use tokio::task::JoinHandle;

/// Prunes every shard every `prune_interval_seconds`, until `owner` (whatever holds the
/// shards: the `App`, through `AsRef<Shards>`) is dropped. A region that is down is
/// skipped and pruned on a later round.
pub fn spawn_pruner<H>(owner: Weak<H>, settings: ChangesSettings) -> JoinHandle<()>
where
    H: AsRef<Shards> + Send + Sync + 'static,
{
    tokio::spawn(async move {
        // The first pass waits one interval: at start the regions may still be coming up
        // (`hmis dev` starts its clusters beside hmis), and a pass that cannot connect
        // then would only warn of what the next pass does anyway.
        let period = settings.prune_interval();
        let mut every = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            let Some(owner) = owner.upgrade() else {
                return;
            };
            let retention =
                chrono::Duration::from_std(settings.retention()).unwrap_or(chrono::Duration::MAX);
            let before = chrono::Utc::now()
                .checked_sub_signed(retention)
                .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
            for shard in owner.as_ref().as_ref().iter() {
                match super::prune(shard, before).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(region = shard.name(), events = n, "change log pruned"),
                    Err(e) => {
                        tracing::warn!(region = shard.name(), error = %e, "change log not pruned")
                    }
                }
            }
        }
    })
}

/// So that a bare `Arc<Shards>` can own a pruner too (tools and tests).
impl AsRef<Shards> for Shards {
    fn as_ref(&self) -> &Shards {
        self
    }
}
