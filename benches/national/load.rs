//! The closed-loop load generator: `concurrency` workers, each sending its next request
//! as soon as the previous answer has arrived, on its own keep-alive connection (a hyper
//! HTTP/1.1 connection to hmis, or a tokio-postgres connection straight to a shard). A
//! short warm-up first (connections, prepared statements, caches), then the measured
//! seconds. Every answer is counted: successes give the latencies, every other outcome
//! is tallied by its status (or error) so that nothing is silently dropped.

use futures_util::future::BoxFuture;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One request: `Ok` on success, else what to count it under (`409`, `500`, `io`).
pub type Job = Arc<dyn Fn(u64) -> BoxFuture<'static, Result<(), String>> + Send + Sync>;

/// What one side of one cell measured.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Measured {
    pub requests: u64,
    pub ok: u64,
    pub errors: BTreeMap<String, u64>,
    pub seconds: f64,
    /// Successful answers per second.
    pub throughput: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// How long a cell may run past its measured seconds for every worker to finish at
/// least one request (slow requests at a million patients); what is still running then
/// is counted as `unfinished` and cancelled.
pub const GRACE: Duration = Duration::from_secs(30);

/// What one worker saw in its measured span.
#[derive(Default)]
struct Seen {
    lat: Vec<u32>,
    errors: BTreeMap<String, u64>,
    span: f64,
}

/// Runs one job per worker: a warm-up of `warm` (and at least one request), then
/// measured requests for `time` (and at least one, within [`GRACE`]). Throughput is the
/// sum over workers of their answers over their own measured span, so that a request
/// slower than the cell still counts for what it is.
pub async fn measure(jobs: Vec<Job>, warm: Duration, time: Duration) -> Measured {
    let start = Instant::now() + Duration::from_millis(20);
    let (warm_end, end) = (start + warm, start + warm + time);
    let cap = end + GRACE;
    let tasks: Vec<_> = jobs
        .into_iter()
        .enumerate()
        .map(|(w, job)| tokio::spawn(worker(job, (w as u64) << 32, start, warm_end, end, cap)))
        .collect();
    let (mut lat, mut errors, mut throughput, mut spans) =
        (Vec::new(), BTreeMap::<String, u64>::new(), 0.0, 0.0);
    let workers = tasks.len().max(1) as f64;
    for t in tasks {
        let Ok(seen) = t.await else {
            *errors.entry("worker panicked".into()).or_default() += 1;
            continue;
        };
        if seen.span > 0.0 {
            throughput += seen.lat.len() as f64 / seen.span;
        }
        spans += seen.span;
        lat.extend(seen.lat);
        for (k, n) in seen.errors {
            *errors.entry(k).or_default() += n;
        }
    }
    lat.sort_unstable();
    let q = |p: f64| match lat.len() {
        0 => f64::NAN,
        n => f64::from(lat[((n as f64 * p).ceil() as usize).clamp(1, n) - 1]) / 1e3,
    };
    let ok = lat.len() as u64;
    Measured {
        requests: ok + errors.values().sum::<u64>(),
        ok,
        throughput,
        p50_ms: q(0.5),
        p99_ms: q(0.99),
        errors,
        seconds: spans / workers,
    }
}

async fn worker(
    job: Job,
    mut i: u64,
    start: Instant,
    warm_end: Instant,
    end: Instant,
    cap: Instant,
) -> Seen {
    let mut seen = Seen::default();
    tokio::time::sleep_until(start.into()).await;
    let (mut from, mut last) = (start, start);
    for first in std::iter::once(true).chain(std::iter::repeat(false)) {
        let t = Instant::now();
        let Ok(outcome) = tokio::time::timeout_at(cap.into(), job(i)).await else {
            *seen.errors.entry("unfinished".into()).or_default() += 1;
            return seen;
        };
        (i, last) = (i + 1, Instant::now());
        if first && last > warm_end {
            // A first request slower than the whole warm-up is measured, not thrown
            // away: at a million patients some answers take longer than a cell.
            match outcome {
                Ok(()) => seen.lat.push((last - t).as_micros() as u32),
                Err(e) => *seen.errors.entry(e).or_default() += 1,
            }
            from = t;
            break;
        }
        from = last;
        if last >= warm_end {
            break;
        }
    }
    loop {
        let t = Instant::now();
        let answered = seen.lat.len() + seen.errors.values().sum::<u64>() as usize;
        if t >= end && answered > 0 {
            break;
        }
        let Ok(outcome) = tokio::time::timeout_at(cap.into(), job(i)).await else {
            *seen.errors.entry("unfinished".into()).or_default() += 1;
            break;
        };
        i += 1;
        last = Instant::now();
        match outcome {
            Ok(()) => seen.lat.push((last - t).as_micros() as u32),
            Err(e) => *seen.errors.entry(e).or_default() += 1,
        }
    }
    seen.span = (last - from).as_secs_f64();
    seen
}

/// One keep-alive HTTP/1.1 connection to hmis, shared by the requests of one worker.
#[derive(Clone)]
pub struct Http {
    sender: Arc<tokio::sync::Mutex<hyper::client::conn::http1::SendRequest<Full<Bytes>>>>,
    authority: String,
    bearer: String,
}

impl Http {
    pub async fn connect(base: &str, token: &str) -> anyhow::Result<Http> {
        let authority = base.trim_start_matches("http://").to_owned();
        let stream = tokio::net::TcpStream::connect(&authority).await?;
        stream.set_nodelay(true)?;
        let io = hyper_util::rt::TokioIo::new(stream);
        let (sender, conn) = hyper::client::conn::http1::handshake(io).await?;
        tokio::spawn(conn);
        Ok(Http {
            sender: Arc::new(tokio::sync::Mutex::new(sender)),
            authority,
            bearer: format!("Bearer {token}"),
        })
    }

    /// Sends one request and reads the whole body: `want` is the success status.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<String>,
        want: u16,
    ) -> Result<(), String> {
        let (status, _) = self.call(method, path, body).await?;
        if status == want {
            Ok(())
        } else {
            Err(status.to_string())
        }
    }

    /// Sends one request: the status and the body.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<String>,
    ) -> Result<(u16, Bytes), String> {
        let mut request = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header("host", &self.authority)
            .header("authorization", &self.bearer);
        if body.is_some() {
            request = request.header("content-type", "application/json");
        }
        let request = request
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|_| "bad request".to_owned())?;
        let mut sender = self.sender.lock().await;
        sender
            .ready()
            .await
            .map_err(|_| "connection closed".to_owned())?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|_| "io".to_owned())?;
        let status = response.status().as_u16();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|_| "io".to_owned())?
            .to_bytes();
        Ok((status, bytes))
    }
}

/// `n` HTTP connections, each turned into a job by `make`.
pub async fn http_jobs(
    base: &str,
    token: &str,
    n: usize,
    make: impl Fn(Http) -> Job,
) -> anyhow::Result<Vec<Job>> {
    let mut jobs = Vec::with_capacity(n);
    for _ in 0..n {
        jobs.push(make(Http::connect(base, token).await?));
    }
    Ok(jobs)
}

/// `n` PostgreSQL connections to `url`, each turned into a job by `make`.
pub async fn pg_jobs<F>(url: &str, n: usize, make: F) -> anyhow::Result<Vec<Job>>
where
    F: Fn(Arc<tokio_postgres::Client>) -> BoxFuture<'static, anyhow::Result<Job>>,
{
    let mut jobs = Vec::with_capacity(n);
    for _ in 0..n {
        let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
        tokio::spawn(conn);
        jobs.push(make(Arc::new(client)).await?);
    }
    Ok(jobs)
}

/// What a database error counts under: its SQLSTATE, or `db` when it has none.
pub fn pg_error(e: tokio_postgres::Error) -> String {
    e.code()
        .map_or_else(|| "db".to_owned(), |c| format!("sqlstate {}", c.code()))
}
