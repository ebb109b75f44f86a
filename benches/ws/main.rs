//! The real-time benchmark (issue 12's "Done when"): how many idle WebSockets one hmis
//! process holds, what each costs it in memory, and how long a committed change takes to
//! reach 1,000 subscribers of its region.
//!
//! Run: `cargo bench --bench ws`. Settings by environment: `WS_CONNECTIONS` (10000),
//! `WS_SUBSCRIBERS` (1000, taken from the open sockets), `WS_CHANGES` (200),
//! `WS_INTERVAL_MS` (50). Like `read_by_id` it starts a durable PostgreSQL cluster of its
//! own and the release `hmis serve` as a child process, so that hmis's resident memory
//! (`VmRSS` in /proc) counts no client. It logs in once as a Quthing nurse, opens the
//! sockets with that bearer token, subscribes the first ones to `region:quthing`, then a
//! writer commits one `UPDATE` of a patient (a different patient each time, so that an
//! event names its change) every interval, straight through SQL as pgAdmin would. Every
//! subscriber stamps each event as it arrives; the latency is arrival minus the moment the
//! writer's autocommit returned. A markdown table goes to stdout and the raw figures to
//! `target/ws-bench.json`. Clients, hmis and PostgreSQL share the machine's cores.

use futures_util::{SinkExt, StreamExt};
use hmis::pgcluster::Cluster;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

#[path = "../common/mod.rs"]
mod common;
mod support;
use common::{login, seed, wait_ready};
use support::{Figures, rss_kib};

struct Args {
    connections: usize,
    subscribers: usize,
    changes: usize,
    interval: Duration,
}

fn args() -> Args {
    let get = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let connections = get("WS_CONNECTIONS", 10_000);
    Args {
        connections,
        subscribers: get("WS_SUBSCRIBERS", 1_000).min(connections),
        changes: get("WS_CHANGES", 200),
        interval: Duration::from_millis(get("WS_INTERVAL_MS", 50) as u64),
    }
}

/// Both processes need a descriptor per socket (plus PostgreSQL connections and files);
/// hmis inherits this process's limit. Raises the soft limit to the hard one.
fn raise_open_files(wanted: u64) -> anyhow::Result<u64> {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE)?;
    if soft < hard {
        setrlimit(Resource::RLIMIT_NOFILE, hard, hard)?;
    }
    if hard < wanted {
        eprintln!(
            "open-files hard limit {hard} < {wanted}: connections will stop near it \
             (raise it with `ulimit -Hn` as root, or in /etc/security/limits.conf)"
        );
    }
    Ok(hard)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = args();
    let nofile = raise_open_files(args.connections as u64 + 1_000)?;
    let (cluster, dir) = common::start_cluster("hmis-ws-bench")?;
    let result = run(&cluster, &args, nofile).await;
    cluster.stop()?;
    let _ = std::fs::remove_dir_all(&dir);
    let figures = result?;
    figures.print();
    let out = std::env::var("CARGO_TARGET_DIR")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/target").into());
    let path = std::path::Path::new(&out).join("ws-bench.json");
    std::fs::write(&path, serde_json::to_string_pretty(&figures.json())?)?;
    println!("\nraw figures: {}", path.display());
    Ok(())
}

/// What a socket's reader tells the collector: subscriber, change, arrival.
type Arrival = (usize, usize, Instant);

/// Everything the sockets' readers share.
struct Shared {
    change_of: HashMap<String, usize>,
    acks: AtomicUsize,
    closed: AtomicUsize,
    arrivals: mpsc::UnboundedSender<Arrival>,
}

async fn run(cluster: &Cluster, args: &Args, nofile: u64) -> anyhow::Result<Figures> {
    let url = |db: &str| cluster.url(db);
    let patients = seed(&url, args.changes).await?;
    let port = hmis::pgcluster::free_port()?;
    let server = common::serve(&url, port)?;
    let server = Server(server);
    let pid = server.0.id();
    let base = format!("127.0.0.1:{port}");
    wait_ready(&format!("http://{base}")).await?;
    let token = login(&format!("http://{base}")).await?;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let shared = Arc::new(Shared {
        change_of: patients
            .iter()
            .enumerate()
            .map(|(k, id)| (id.to_string(), k))
            .collect(),
        acks: AtomicUsize::new(0),
        closed: AtomicUsize::new(0),
        arrivals: tx,
    });
    let mut f = Figures::new(args.connections, args.subscribers, args.changes, nofile);
    // Warm hmis's one-off allocations (router, caches, the first upgrade) before counting.
    drop(open(&base, &token, 16, shared.clone()).await);
    tokio::time::sleep(Duration::from_secs(1)).await;
    f.rss_before_kib = rss_kib(pid)?;
    let start = Instant::now();
    let mut sinks = open(&base, &token, args.connections, shared.clone()).await;
    f.open_seconds = start.elapsed().as_secs_f64();
    f.opened = sinks.len();
    tokio::time::sleep(Duration::from_secs(2)).await;
    f.rss_idle_kib = rss_kib(pid)?;
    f.server_fds = std::fs::read_dir(format!("/proc/{pid}/fd"))?.count();
    for (i, sink) in sinks.iter_mut().take(args.subscribers).enumerate() {
        let frame = serde_json::json!({"type": "subscribe", "id": i, "topics": ["region:quthing"]});
        sink.send(Message::Text(frame.to_string().into())).await?;
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while shared.acks.load(Ordering::Relaxed) < args.subscribers.min(f.opened) {
        anyhow::ensure!(Instant::now() < deadline, "subscriptions not acknowledged");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    f.rss_subscribed_kib = rss_kib(pid)?;
    let commits = write(&url("hmis_quthing"), &patients, args.interval).await?;
    // The hub also polls each second: wait that long and more for stragglers.
    let expected = args.subscribers.min(f.opened) * args.changes;
    let mut arrivals = Vec::with_capacity(expected);
    let deadline = Instant::now() + Duration::from_secs(5);
    while arrivals.len() < expected {
        match tokio::time::timeout_at(deadline.into(), rx.recv()).await {
            Ok(Some(a)) => arrivals.push(a),
            _ => break,
        }
    }
    f.rss_end_kib = rss_kib(pid)?;
    f.closed = shared.closed.load(Ordering::Relaxed);
    f.tally(&arrivals, &commits, expected);
    drop(server);
    Ok(f)
}

/// `hmis serve`, killed however the bench ends (an error must not leave it running).
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

type Sink = futures_util::stream::SplitSink<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    Message,
>;

/// Opens up to `n` sockets, 64 handshakes at a time; each gets a reader task that answers
/// pings (by reading) and reports acks and events. Stops at the first refusal (naming it),
/// so that a limit reached shows as the count opened.
async fn open(base: &str, token: &str, n: usize, shared: Arc<Shared>) -> Vec<Sink> {
    let connects = futures_util::stream::iter(0..n).map(|i| {
        let url = format!("ws://{base}/api/v1/ws");
        let bearer = format!("Bearer {token}");
        let shared = shared.clone();
        async move {
            let mut request = url.into_client_request()?;
            request
                .headers_mut()
                .insert("authorization", bearer.parse()?);
            // Small client buffers: the client's memory is not what is measured.
            let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
                .read_buffer_size(4096)
                .write_buffer_size(0);
            let (socket, _) =
                tokio_tungstenite::connect_async_with_config(request, Some(config), true).await?;
            let (sink, stream) = socket.split();
            tokio::spawn(read(i, stream, shared));
            Ok::<_, anyhow::Error>(sink)
        }
    });
    let mut connects = connects.buffer_unordered(64);
    let mut sinks = Vec::with_capacity(n);
    while let Some(result) = connects.next().await {
        match result {
            Ok(sink) => sinks.push(sink),
            Err(e) => {
                eprintln!("socket {} not opened: {e:#}", sinks.len() + 1);
                break;
            }
        }
    }
    sinks
}

async fn read<S>(subscriber: usize, mut stream: S, shared: Arc<Shared>)
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    while let Some(Ok(message)) = stream.next().await {
        let at = Instant::now();
        let Message::Text(text) = message else {
            continue;
        };
        let frame: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        match frame["type"].as_str() {
            Some("subscribed") => {
                shared.acks.fetch_add(1, Ordering::Relaxed);
            }
            Some("event") => {
                let id = frame["data"]["id"].as_str().unwrap_or_default();
                if let Some(&k) = shared.change_of.get(id) {
                    let _ = shared.arrivals.send((subscriber, k, at));
                }
            }
            _ => {}
        }
    }
    shared.closed.fetch_add(1, Ordering::Relaxed);
}

/// Commits one UPDATE of patient k every `interval` and stamps when each commit returned.
async fn write(
    url: &str,
    patients: &[uuid::Uuid],
    interval: Duration,
) -> anyhow::Result<Vec<Instant>> {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(conn);
    let update = client
        .prepare(
            "UPDATE patients SET phone = '+2665811' || lpad($2::int::text, 4, '0') WHERE id = $1",
        )
        .await?;
    let mut tick = tokio::time::interval(interval);
    let mut commits = Vec::with_capacity(patients.len());
    for (k, id) in patients.iter().enumerate() {
        tick.tick().await;
        let n = client.execute(&update, &[id, &(k as i32)]).await?;
        commits.push(Instant::now());
        anyhow::ensure!(n == 1, "patient {id} not updated");
    }
    Ok(commits)
}
