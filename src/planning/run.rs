//! Runs one checked query in several regions at once and streams the rows out as they
//! come, each region's in its own order, regions interleaved by chunk.
//!
//! In each region, on a connection of its pool: the audit line first (autocommit, by the
//! service role: a query never runs unrecorded), then `BEGIN READ ONLY`, `SET LOCAL`
//! `statement_timeout`, `ROLE <region>_planner` and `search_path = planning`, and the
//! query, whose rows are read as a stream (`query_raw`), so that a large answer is never
//! held in memory. A region that fails (down, timed out, refused by the database) is
//! reported in the summary as a [`Failure`] (PostgreSQL's message only for errors of the
//! planner's own SQL); rows it sent before failing stay sent, so a failed region's rows
//! may be incomplete.

use super::encode::{self, Format};
use super::failure::Failure;
use crate::app::App;
use crate::audit::{self, Line};
use crate::fanout::Reason;
use futures_util::TryStreamExt;
use serde_json::json;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::{Mutex, mpsc};
use tokio_postgres::types::ToSql;

/// Rows are sent in chunks of about this many bytes: one channel message and one HTTP
/// chunk per row would cost more than the row.
const CHUNK: usize = 16 * 1024;

/// One planner's query, checked and authorized.
pub struct Job {
    pub sql: String,
    /// What the audit line keeps: the SQL, or its SHA-256 when it is long.
    pub audit_text: String,
    pub format: Format,
    pub timeout_ms: u64,
    /// One per region asked, in the order the summary lists them.
    pub lines: Vec<Line>,
}

/// The answer's body, as it is produced. Dropping the receiver (the client went away)
/// stops every region's query at its next chunk.
pub fn start(app: crate::app::AppState, job: Job) -> mpsc::Receiver<Vec<u8>> {
    let (out, body) = mpsc::channel(8);
    tokio::spawn(async move { drive(&app, &job, &out).await });
    body
}

async fn drive(app: &App, job: &Job, out: &mpsc::Sender<Vec<u8>>) {
    let header = Mutex::new(None);
    let sent = AtomicU64::new(0);
    let runs = job.lines.iter().map(|line| async {
        let result = run_region(app, job, line, out, &header, &sent).await;
        match &result {
            Ok(rows) => tracing::info!(region = %line.region, rows, "planner query answered"),
            Err(f) => tracing::warn!(
                region = %line.region,
                request_id = %line.request_id,
                reason = %f.reason,
                detail = %f.detail,
                "planner query failed"
            ),
        }
        (line.region.as_str(), result)
    });
    let results = futures_util::future::join_all(runs).await;
    if job.format == Format::Jsonl {
        let _ = out.send(summary(&results, sent.into_inner())).await;
    }
}

/// The last JSON line: which regions answered, which did not and why, and how many row
/// lines came before it (with those a failed region sent before it failed).
fn summary(results: &[(&str, Result<u64, Failure>)], rows: u64) -> Vec<u8> {
    let ok: Vec<&str> = results
        .iter()
        .filter(|(_, r)| r.is_ok())
        .map(|(region, _)| *region)
        .collect();
    let failed: Vec<_> = results
        .iter()
        .filter_map(|(region, r)| {
            let failure = r.as_ref().err()?;
            let mut entry = json!({"region": region});
            if let (Some(e), Ok(serde_json::Value::Object(f))) =
                (entry.as_object_mut(), serde_json::to_value(failure))
            {
                e.extend(f);
            }
            Some(entry)
        })
        .collect();
    let line = json!({"_summary": {"regions_ok": ok, "regions_failed": failed, "rows": rows}});
    let mut bytes = serde_json::to_vec(&line).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

async fn run_region(
    app: &App,
    job: &Job,
    line: &Line,
    out: &mpsc::Sender<Vec<u8>>,
    header: &Mutex<Option<Vec<String>>>,
    sent: &AtomicU64,
) -> Result<u64, Failure> {
    let shard = app
        .shards
        .get(&line.region)
        .ok_or_else(|| Failure::bare(Reason::Error, "not a configured region"))?;
    let own = |e| Failure::own(shard, e);
    let fail = |e| Failure::planners(shard, e, job.timeout_ms);
    let wait = std::time::Duration::from_millis(app.settings.file.server.shard_timeout_ms);
    let _slot = match tokio::time::timeout(wait, shard.planner_slots.acquire()).await {
        Ok(Ok(permit)) => permit,
        _ => {
            let most = app.settings.file.server.planner_queries_per_region;
            return Err(Failure::told(
                Reason::Busy,
                format!("{most} planners' queries already run in this region; try again"),
            ));
        }
    };
    let mut conn = shard.conn().await.map_err(|e| Failure::unavailable(&e))?;
    audit::write_query(&conn, line, &job.audit_text)
        .await
        .map_err(own)?;
    let tx = conn
        .build_transaction()
        .read_only(true)
        .start()
        .await
        .map_err(own)?;
    let role = crate::dbroles::region_planner_role(&line.region)
        .map_err(|e| Failure::bare(Reason::Error, e.to_string()))?;
    tx.batch_execute(&format!(
        "SET LOCAL statement_timeout = {}; SET LOCAL ROLE {}; SET LOCAL search_path = planning",
        job.timeout_ms,
        crate::dbroles::quote_ident(&role)
    ))
    .await
    .map_err(own)?;
    let statement = tx.prepare(&job.sql).await.map_err(fail)?;
    let names: Vec<String> = statement
        .columns()
        .iter()
        .map(|c| c.name().to_owned())
        .collect();
    encode::check_columns(&names).map_err(|e| Failure::told(Reason::Refused, e))?;
    if job.format == Format::Csv {
        agree_on_header(header, &names, out).await?;
    }
    let no_params: [&(dyn ToSql + Sync); 0] = [];
    let rows = tx.query_raw(&statement, no_params).await.map_err(fail)?;
    futures_util::pin_mut!(rows);
    let (mut chunk, mut in_chunk, mut count) = (Vec::with_capacity(CHUNK), 0, 0);
    while let Some(row) = rows.try_next().await.map_err(fail)? {
        encode::write_row(&mut chunk, job.format, &line.region, &names, &row).map_err(|e| {
            Failure::bare(Reason::Error, format!("a row could not be encoded: {e}"))
        })?;
        (in_chunk, count) = (in_chunk + 1, count + 1);
        if chunk.len() >= CHUNK {
            send(out, std::mem::take(&mut chunk)).await?;
            sent.fetch_add(std::mem::take(&mut in_chunk), Ordering::Relaxed);
        }
    }
    if !chunk.is_empty() {
        send(out, chunk).await?;
        sent.fetch_add(in_chunk, Ordering::Relaxed);
    }
    Ok(count)
}

/// The CSV header comes from the first region to know its columns; every other region
/// must have the same ones (the same migrations ran everywhere, so they do unless a
/// region lags behind).
async fn agree_on_header(
    header: &Mutex<Option<Vec<String>>>,
    names: &[String],
    out: &mpsc::Sender<Vec<u8>>,
) -> Result<(), Failure> {
    let mut header = header.lock().await;
    match &*header {
        Some(first) if first != names => Err(Failure::told(
            Reason::Refused,
            format!(
                "its columns ({}) differ from the other regions' ({})",
                names.join(", "),
                first.join(", ")
            ),
        )),
        Some(_) => Ok(()),
        None => {
            let mut bytes = Vec::new();
            encode::csv_header(&mut bytes, names);
            send(out, bytes).await?;
            *header = Some(names.to_vec());
            Ok(())
        }
    }
}

async fn send(out: &mpsc::Sender<Vec<u8>>, bytes: Vec<u8>) -> Result<(), Failure> {
    out.send(bytes)
        .await
        .map_err(|_| Failure::bare(Reason::Error, "the client went away"))
}
