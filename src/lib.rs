//! hmis: the regional health data router.
//!
//! Every patient record lives in the PostgreSQL database of its region. hmis places each
//! record with declarative rules, reads it back from that one database, and keeps the
//! regions independent: a region that is down is reported, not fatal.
//!
//! # Layout
//!
//! Top to bottom; a module uses only modules below it (checked by
//! `tests/api/architecture.rs`, which lists the same order).
//!
//! **Commands**
//! - [`cli`]: the `hmis` command line (`dev`, `serve`, `migrate`, `federate`, `rules`,
//!   `users`, `policy`, `query`, `transfers`, `doctor`, `healthz`, `pgadmin export`).
//! - [`dev`]: the embedded default: clusters, migration, demo data, serve.
//!
//! **Router**
//! - [`server`]: every resource's `router()` merged, the request layers (request id,
//!   tracing, body limit, security headers), health, OpenAPI.
//!
//! **Resources** (each exports its `router()`; none uses another)
//! - [`login`]: log in and out, who the session is.
//! - [`admin`]: the admin API for users, roles and the policy.
//! - [`patients`]: registration, reads, search, merges, the audit trail, transfers.
//! - [`observations`]: vital signs of a patient, their history, the summary, charts, alerts.
//! - [`stats`]: statistics across regions, merged exactly.
//! - [`planning`]: planners' read-only SQL across regions (`POST /api/v1/query`).
//! - [`live`]: the WebSocket speaking the REST API, subscriptions to change events,
//!   `user:me` notifications, the long-poll, `X-Hmis-Cursor` on reads.
//! - [`notifications`]: the user's own notifications, paged, and marking them read.
//! - [`regions`]: the configured regions, their districts and time zones (`GET /api/v1/regions`).
//! - [`ui`]: the clinic UI (`ui/dist`, embedded): `/` and its content-hashed `/assets/`.
//!
//! **HTTP vocabulary**
//! - [`records`]: the patient-record guard the resources share: locate by ID (with
//!   forwarding), authorize without revealing moves, moving/merged conflicts, headers.
//! - [`http`]: `ApiError` and problem+json, the extractors (`ApiJson`, `ApiQuery`,
//!   `ApiPath`, `Subject`, `Actor`), shared OpenAPI pieces, `record_route`.
//!
//! **State**
//! - [`app`]: `App`, built from the infrastructure; hands each part only what it uses.
//!
//! **Infrastructure** (takes handles, never the `App`)
//! - [`notices`]: users' notifications: stored centrally, generated once from the
//!   regions' change logs whatever the number of processes, pushed in-process.
//! - [`transfer`]: the engine moving a patient between regions, journaled and restartable.
//! - [`migrate`]: the shard and central migrations compiled into the binary.
//! - [`federate`]: the central database's views over every region's planning views.
//! - [`changes`]: each shard's change log, read by cursor without skipping late commits;
//!   the wake-up listener and the pruner the real-time layer builds on.
//! - [`fanout`]: asking every region at once under a deadline; the k-way merge; cursors.
//! - [`authz`]: casbin with regions as domains; the shipped roles and policy.
//! - [`auth`]: users, passwords, sessions, login throttling.
//! - [`bus`]: NOTIFY/LISTEN on the central database, so every process drops stale caches.
//! - [`audit`]: the audit trail of patient records, group-committed per region.
//! - [`shards`]: a connection pool per region, shared read connections, health checks.
//! - [`pgcluster`]: local PostgreSQL clusters for `hmis dev` and the tests.
//! - [`dbroles`]: the database roles regional admins and planners use in pgAdmin.
//! - [`telemetry`]: the process's Prometheus recorder and the names of every metric.
//!
//! **Pure** (no I/O; tested without a database)
//! - [`config`]: `hmis.toml` and `regions/*.toml`, typed, with `HMIS_` overrides.
//! - [`clinical`]: what vital signs mean (codes, units, ranges).
//! - [`routing`]: the rule engine.
//! - [`domain`]: parsed types (patient input, IDs that carry their region, health record
//!   numbers, name keys and duplicate scoring, the notification vocabulary).
//!
//! [`launch`] is the one entry point that `serve`, `dev` and the tests share.
#![forbid(unsafe_code)]

// Bottom to top (see `# Layout`): pure, infrastructure, state, HTTP vocabulary,
// resources, router, commands.
pub mod domain;
pub mod routing;
pub mod clinical;
pub mod config;

pub mod telemetry;
pub mod dbroles;
pub mod pgcluster;
pub mod shards;
pub mod audit;
pub mod bus;
pub mod auth;
pub mod authz;
pub mod fanout;
pub mod changes;
pub mod federate;
pub mod migrate;
pub mod transfer;
pub mod notices;

pub mod app;

pub mod http;
pub mod records;

pub mod ui;
pub mod regions;
pub mod notifications;
pub mod live;
pub mod planning;
pub mod stats;
pub mod observations;
pub mod patients;
pub mod admin;
pub mod login;

pub mod server;

pub mod dev;
pub mod cli;

use std::future::Future;
use std::sync::Arc;

/// Serves hmis on `listener` until `shutdown` resolves, then drains in-flight requests.
pub async fn launch(
    settings: config::Settings,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let app = Arc::new(app::App::new(settings).await?);
    // Background work's own central connections, so that it never takes the request
    // pool's (a `PgListener` holds its connection for good; with `central.pool_size = 2`
    // two of them would leave logins none): the two LISTENs and notification generation.
    let background = sqlx::postgres::PgPoolOptions::new()
        .max_connections(3)
        .connect_lazy_with((*app.central.connect_options()).clone());
    let (ready, listening) = tokio::sync::oneshot::channel();
    let listener_task = tokio::spawn(bus::listen(background.clone(), app.refresher(), ready));
    let resumer = app::spawn_resumer(Arc::downgrade(&app));
    // Change events: each shard's waker, the hub reading every region for this
    // process's subscribers, and the pruner keeping the logs to their retention.
    let wake = changes::Wake::spawn(app.shards.iter());
    let hub = live::Hub::start(&app, &wake);
    let pruner = changes::spawn_pruner(Arc::downgrade(&app), app.settings.file.changes.clone());
    // Notifications: generated from every region's log, pushed from the central channel.
    let mut notice_tasks = notices::spawn_generators(&app, &background, &wake);
    notice_tasks.push(tokio::spawn(notices::listen(
        background.clone(),
        app.notices.clone(),
    )));
    // Revocations must reach this process from the first request on; if the central
    // database is down, serve anyway (nothing can log in until it is back).
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), listening).await;
    let metrics = match app.settings.file.metrics.listen() {
        Some(addr) => Some(serve_metrics(addr, server::metrics_router(app.clone())).await?),
        None => None,
    };
    let router = server::router(app.clone(), hub.clone())
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    // Streamed answers (planners' queries) go out in several small writes; without
    // TCP_NODELAY each waits for the client's delayed ACK, about 40 ms.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let served = axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await;
    // Its LISTEN connection would otherwise outlive the server, and `hmis dev`, stopping
    // its clusters next, would log a clean shutdown as "lost the central database".
    listener_task.abort();
    resumer.abort();
    if let Some(task) = metrics {
        task.abort();
    }
    // Their LISTEN connections and reads, likewise.
    hub.stop();
    drop(wake);
    pruner.abort();
    for task in notice_tasks {
        task.abort();
    }
    // Likewise the central pool: closed now, before whoever started the databases stops
    // them, instead of warning about connections the database ended.
    app.central.close().await;
    background.close().await;
    Ok(served?)
}

/// `[metrics] listen`: the scrape on an address of its own, until `launch` ends.
async fn serve_metrics(
    addr: std::net::SocketAddr,
    router: axum::Router,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("metrics.listen {addr}: {e}"))?;
    tracing::info!(%addr, "serving /metrics");
    Ok(tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    }))
}
