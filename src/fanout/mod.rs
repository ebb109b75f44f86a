//! Asking several regions at once: every region in parallel, each under the same deadline,
//! and an answer that says exactly which regions answered and why the others did not.
//! A slow or dead region costs at most the deadline, never a hang; whether a partial
//! answer is acceptable is the caller's choice (`consistency=partial|strict`).

pub mod cursor;
pub mod merge;
mod reason;

pub use reason::Reason;

use crate::shards::{Shard, ShardError};
use futures_util::future::join_all;
use serde::Serialize;
use std::future::Future;
use std::time::Duration;

/// A region that did not answer, and why, in the words of [`Reason`].
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Failed {
    pub region: String,
    pub reason: Reason,
}

/// What every fanned-out answer carries.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Coverage {
    pub regions_ok: Vec<String>,
    pub regions_failed: Vec<Failed>,
}

/// Why a fan-out gave no answer; the HTTP layer turns it into a 400 or a 503.
#[derive(Debug, thiserror::Error)]
pub enum FanoutError {
    /// `consistency=` was neither `partial` nor `strict`.
    #[error("\"{0}\" is not partial or strict")]
    BadConsistency(String),
    /// Under `Strict`, some regions did not answer: `first` of them, and all with reasons.
    #[error("regions did not answer: {failed}")]
    RegionsFailed { first: String, failed: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Consistency {
    /// Answer with the regions that answered, and name the others (default).
    #[default]
    Partial,
    /// Fail (503) unless every region answered.
    Strict,
}

impl Consistency {
    pub fn parse(raw: Option<&str>) -> Result<Self, FanoutError> {
        match raw {
            None | Some("partial") => Ok(Consistency::Partial),
            Some("strict") => Ok(Consistency::Strict),
            Some(other) => Err(FanoutError::BadConsistency(other.to_owned())),
        }
    }
}

/// Runs `ask` on every shard in parallel, each under `deadline`; the answers in the order
/// of `shards`, and the coverage. Under `Strict`, any failure is a 503 naming the regions.
/// A region's error is logged with its detail (inside the request's span, so with its
/// request id); the answer carries only its [`Reason`].
pub async fn ask_all<'a, T, F, Fut>(
    shards: &[&'a Shard],
    deadline: Duration,
    consistency: Consistency,
    ask: F,
) -> Result<(Vec<(&'a Shard, T)>, Coverage), FanoutError>
where
    F: Fn(&'a Shard) -> Fut,
    Fut: Future<Output = Result<T, ShardError>>,
{
    let asked = join_all(shards.iter().map(|&s| {
        let fut = ask(s);
        async move {
            match tokio::time::timeout(deadline, fut).await {
                Ok(Ok(t)) => Ok(t),
                Ok(Err(e)) => Err((Reason::of(&e), e.to_string())),
                Err(_) => Err((
                    Reason::Timeout,
                    format!("no answer within {} ms", deadline.as_millis()),
                )),
            }
        }
    }))
    .await;
    let mut answers = Vec::new();
    let mut coverage = Coverage::default();
    for (&shard, result) in shards.iter().zip(asked) {
        match result {
            Ok(t) => {
                coverage.regions_ok.push(shard.name().to_owned());
                answers.push((shard, t));
            }
            Err((reason, detail)) => {
                tracing::warn!(region = shard.name(), %reason, %detail, "a region did not answer a fan-out");
                let region = shard.name().to_owned();
                metrics::counter!(crate::telemetry::FANOUT_FAILED,
                    "region" => region, "reason" => reason.as_str())
                .increment(1);
                coverage.regions_failed.push(Failed {
                    region: shard.name().to_owned(),
                    reason,
                })
            }
        }
    }
    if !coverage.regions_failed.is_empty() {
        metrics::counter!(crate::telemetry::FANOUT_PARTIAL).increment(1);
    }
    if consistency == Consistency::Strict && !coverage.regions_failed.is_empty() {
        let names: Vec<String> = coverage
            .regions_failed
            .iter()
            .map(|f| format!("{} ({})", f.region, f.reason))
            .collect();
        return Err(FanoutError::RegionsFailed {
            first: coverage.regions_failed[0].region.clone(),
            failed: names.join(", "),
        });
    }
    Ok((answers, coverage))
}
