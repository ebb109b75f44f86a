//! Group commit for the audit lines of reads. A read's line must be written before its
//! answer leaves, but one INSERT (and one commit) per read would cost more than the read
//! itself. So each region has one writer task: lines queue up while the previous batch
//! is being written, and the next batch writes all of them in one statement. Each reader
//! waits for its own batch, so no answer goes out before its line is in the database,
//! and under load a batch carries many lines for the price of one round trip.

use super::Line;
use crate::shards::{Conn, Readers};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

/// Lines written in one statement at the most.
const MAX_BATCH: usize = 512;

struct Pending {
    line: Line,
    object: Option<Uuid>,
    outcome: &'static str,
    done: oneshot::Sender<Result<(), String>>,
}

/// The audit writer of one region. Cheap to clone; the task ends with the last clone.
#[derive(Clone)]
pub struct AuditWriter {
    queue: mpsc::Sender<Pending>,
}

impl AuditWriter {
    /// Starts the writer task of a region, writing on its shared connections.
    pub fn spawn(region: String, readers: Arc<Readers>) -> AuditWriter {
        let (queue, rx) = mpsc::channel(16 * MAX_BATCH);
        tokio::spawn(run(rx, region, readers));
        AuditWriter { queue }
    }

    /// Writes one line; returns once it is in the database.
    pub async fn record(
        &self,
        line: Line,
        object: Option<Uuid>,
        outcome: &'static str,
    ) -> Result<(), String> {
        let (done, written) = oneshot::channel();
        self.queue
            .send(Pending {
                line,
                object,
                outcome,
                done,
            })
            .await
            .map_err(|_| "the audit writer has stopped".to_owned())?;
        written
            .await
            .map_err(|_| "the audit writer has stopped".to_owned())?
    }
}

async fn run(mut rx: mpsc::Receiver<Pending>, region: String, readers: Arc<Readers>) {
    use crate::telemetry::{AUDIT_BATCH_LINES, AUDIT_BATCH_SECONDS, AUDIT_FAILURES};
    let lines = metrics::histogram!(AUDIT_BATCH_LINES, "region" => region.clone());
    let seconds = metrics::histogram!(AUDIT_BATCH_SECONDS, "region" => region.clone());
    let failures = metrics::counter!(AUDIT_FAILURES, "region" => region);
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let start = std::time::Instant::now();
        let result = write(&readers, &batch).await;
        lines.record(batch.len() as f64);
        seconds.record(start.elapsed());
        if result.is_err() {
            failures.increment(1);
        }
        for pending in batch.drain(..) {
            let _ = pending.done.send(result.clone());
        }
    }
}

const INSERT_MANY: &str = "INSERT INTO audit_log (actor, roles, action, object_kind, object_id, region, outcome, request_id)
     SELECT a, r, act, 'patient', o, reg, out, req
     FROM unnest($1::text[], $2::text[], $3::text[], $4::uuid[], $5::text[], $6::text[], $7::text[])
          AS t(a, r, act, o, reg, out, req)";

async fn write(readers: &Readers, batch: &[Pending]) -> Result<(), String> {
    let column = |f: fn(&Pending) -> &str| batch.iter().map(f).collect::<Vec<&str>>();
    let actors = column(|p| &p.line.actor);
    let roles = column(|p| &p.line.roles);
    let actions = column(|p| &p.line.action);
    let regions = column(|p| &p.line.region);
    let outcomes = column(|p| p.outcome);
    let requests = column(|p| &p.line.request_id);
    let objects: Vec<Option<Uuid>> = batch.iter().map(|p| p.object).collect();
    let reader = readers.get().await?;
    let stmt = reader
        .prepared(INSERT_MANY)
        .await
        .map_err(|e| e.to_string())?;
    reader
        .client()
        .execute(
            &stmt,
            &[
                &actors, &roles, &actions, &objects, &regions, &outcomes, &requests,
            ],
        )
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}
