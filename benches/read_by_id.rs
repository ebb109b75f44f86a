//! The hot-path benchmark: an authenticated, authorized, audited, routed read of one
//! patient by ID through hmis (as a Quthing nurse with a bearer token), against the
//! same primary-key read sent straight to PostgreSQL, on the same machine, in the same run.
//!
//! Run: `cargo bench --bench read_by_id` (options after `--`: `--seconds 10 --clients 16
//! --patients 20000`). It starts a PostgreSQL cluster of its own from the machine's
//! binaries, migrates and seeds it, starts the release `hmis serve` as a separate process,
//! and drives both loads from this process with the same number of keep-alive clients
//! picking random IDs. Only the ratio means much on a shared 2-core machine; record it in
//! benches/RESULTS.md with the machine, the date and the command.

#[path = "common/mod.rs"]
mod common;

use common::{login, seed, wait_ready};
use hmis::pgcluster::Cluster;
use rand::seq::IndexedRandom;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const COLUMNS: &str = hmis::patients::model::COLUMNS;

struct Args {
    seconds: u64,
    clients: usize,
    patients: usize,
}

fn args() -> Args {
    let mut a = Args {
        seconds: 10,
        clients: 16,
        patients: 20_000,
    };
    let argv: Vec<String> = std::env::args().collect();
    for pair in argv.windows(2) {
        let n = pair[1].parse().ok();
        match (pair[0].as_str(), n) {
            ("--seconds", Some(n)) => a.seconds = n as u64,
            ("--clients", Some(n)) => a.clients = n,
            ("--patients", Some(n)) => a.patients = n,
            _ => {}
        }
    }
    a
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = args();
    let (cluster, dir) = common::start_cluster("hmis-bench")?;
    let result = run(&cluster, &args).await;
    cluster.stop()?;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn run(cluster: &Cluster, args: &Args) -> anyhow::Result<()> {
    let url = |db: &str| cluster.url(db);
    let ids = seed(&url, args.patients).await?;
    let port = hmis::pgcluster::free_port()?;
    let mut server = common::serve(&url, port)?;
    let base = format!("http://127.0.0.1:{port}");
    wait_ready(&base).await?;
    let token = login(&base).await?;
    let ids = Arc::new(ids);
    let secs = Duration::from_secs(args.seconds);
    // Warm both paths (connections, prepared statements, caches) before measuring.
    direct(
        &url("hmis_quthing"),
        ids.clone(),
        args.clients,
        Duration::from_secs(2),
    )
    .await?;
    routed(
        &base,
        &token,
        ids.clone(),
        args.clients,
        Duration::from_secs(2),
    )
    .await?;
    let d = direct(&url("hmis_quthing"), ids.clone(), args.clients, secs).await?;
    let r = routed(&base, &token, ids.clone(), args.clients, secs).await?;
    let check = auth_cost(&url, &token).await?;
    server.kill()?;
    println!(
        "read one patient by ID, {} clients, {} s each, {} patients",
        args.clients, args.seconds, args.patients
    );
    println!("  direct PostgreSQL (prepared PK select): {d:>9.0} reads/s");
    println!("  through hmis (auth, authz, audit, JSON): {r:>9.0} reads/s");
    println!("  ratio routed/direct:                    {:>9.2}", r / d);
    println!("  authentication + authorization, per request, in process: {check:.0} ns");
    Ok(())
}

/// What authenticating and authorizing one request costs hmis, measured in this process
/// with the same code the server runs: session lookup by token, the region decision, and
/// the roles for the audit line, on warm caches (as every request but a session's first).
async fn auth_cost(url: &dyn Fn(&str) -> String, token: &str) -> anyhow::Result<f64> {
    let mut settings = hmis::config::Settings::load(None)?;
    settings.file.central.url = hmis::config::DatabaseUrl::new(url("hmis_central"));
    for r in &mut settings.regions {
        r.database_url = hmis::config::DatabaseUrl::new(url(&format!("hmis_{}", r.name)));
    }
    let app = hmis::app::App::new(settings).await?;
    let kind = hmis::authz::kinds::PATIENT;
    let none = hmis::authz::Relation::None;
    let n = 200_000;
    let start = Instant::now();
    for _ in 0..n {
        let session = app.sessions.lookup(token).await?.expect("a live session");
        let user = &session.username;
        assert!(
            app.authz
                .allowed(user, "quthing", kind, hmis::authz::Action::Read, none)
                .await
        );
        std::hint::black_box(app.authz.roles_in(user, "quthing").await);
    }
    Ok(start.elapsed().as_nanos() as f64 / n as f64)
}

/// `clients` connections, each reading random IDs with a prepared statement.
async fn direct(
    url: &str,
    ids: Arc<Vec<uuid::Uuid>>,
    clients: usize,
    time: Duration,
) -> anyhow::Result<f64> {
    let done = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    let start = Instant::now();
    for _ in 0..clients {
        let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
        tokio::spawn(conn);
        let (ids, done) = (ids.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            let stmt = client
                .prepare(&format!("SELECT {COLUMNS} FROM patients WHERE id = $1"))
                .await?;
            while start.elapsed() < time {
                let id = *ids.choose(&mut rand::rng()).expect("ids");
                client.query_opt(&stmt, &[&id]).await?.expect("row");
                done.fetch_add(1, Ordering::Relaxed);
            }
            Ok::<_, tokio_postgres::Error>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64())
}

/// `clients` keep-alive HTTP/1.1 connections (hyper's bare client, the lightest there
/// is, so that the load generator costs about what tokio-postgres costs on the other
/// side), each reading random IDs through hmis.
async fn routed(
    base: &str,
    token: &str,
    ids: Arc<Vec<uuid::Uuid>>,
    clients: usize,
    time: Duration,
) -> anyhow::Result<f64> {
    use http_body_util::{BodyExt, Empty};
    let done = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    let start = Instant::now();
    let authority = base.trim_start_matches("http://").to_owned();
    for _ in 0..clients {
        let stream = tokio::net::TcpStream::connect(&authority).await?;
        stream.set_nodelay(true)?;
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
        tokio::spawn(conn);
        let (ids, done, authority) = (ids.clone(), done.clone(), authority.clone());
        let bearer = format!("Bearer {token}");
        tasks.push(tokio::spawn(async move {
            while start.elapsed() < time {
                let id = *ids.choose(&mut rand::rng()).expect("ids");
                let request = hyper::Request::get(format!("/api/v1/patients/{id}"))
                    .header("host", &authority)
                    .header("authorization", &bearer)
                    .body(Empty::<hyper::body::Bytes>::new())
                    .expect("request");
                let response = sender.send_request(request).await?;
                assert_eq!(response.status(), 200);
                response.into_body().collect().await?;
                done.fetch_add(1, Ordering::Relaxed);
            }
            Ok::<_, hyper::Error>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64())
}
