//! hmis: the regional health data router.
//!
//! Every patient record lives in the PostgreSQL database of its region. hmis places each
//! record with declarative rules, reads it back from that one database, and keeps the
//! regions independent: a region that is down is reported, not fatal.
//!
//! # Layout
//!
//! - [`cli`]: the `hmis` command line (`dev`, `serve`, `migrate`, `federate`, `rules`,
//!   `users`, `policy`, `query`).
//! - [`config`]: `hmis.toml` and `regions/*.toml`, typed, with `HMIS_` overrides.
//! - [`routing`]: the rule engine. Pure: no I/O, so it is tested without a database.
//! - [`shards`]: a connection pool per region, health checks.
//! - [`changes`]: each shard's change log, read by cursor without skipping late commits;
//!   the wake-up listener and the pruner the real-time layer builds on.
//! - [`auth`]: users, sessions (cookie or bearer), CSRF, login throttling.
//! - [`authz`]: casbin with regions as domains; the shipped roles and policy.
//! - [`admin`]: the admin API for users, roles and the policy.
//! - [`domain`]: parsed types (patient input, IDs that carry their region, health record
//!   numbers, name keys and duplicate scoring).
//! - [`fanout`]: asking every region at once under a deadline; the k-way merge; cursors.
//! - [`patients`]: the patients resource: its `router()`, handlers and SQL; health record
//!   numbers, the duplicate check at registration, merges.
//! - [`clinical`]: what vital signs mean (codes, units, ranges). Pure.
//! - [`observations`]: vital signs of a patient, their history, the summary, charts, alerts.
//! - [`http`]: the router, problem+json errors, extractors, health, OpenAPI.
//! - [`migrate`]: the shard and central migrations compiled into the binary.
//! - [`dbroles`]: the database roles regional admins and planners use in pgAdmin.
//! - [`planning`]: planners' read-only SQL across regions (`POST /api/v1/query`).
//! - [`federate`]: the central database's views over every region's planning views.
//! - [`pgcluster`]: local PostgreSQL clusters for `hmis dev` and the tests.
//! - [`stats`]: statistics across regions, merged exactly.
//! - [`transfer`]: moving a patient and all their records to another region, restartably.
//! - [`dev`]: the embedded default: clusters, migration, demo data, serve.
//!
//! [`launch`] is the one entry point that `serve`, `dev` and the tests share.
#![forbid(unsafe_code)]

pub mod admin;
pub mod app;
pub mod audit;
pub mod auth;
pub mod authz;
pub mod changes;
pub mod cli;
pub mod clinical;
pub mod config;
pub mod dbroles;
pub mod dev;
pub mod domain;
pub mod fanout;
pub mod federate;
pub mod http;
pub mod migrate;
pub mod observations;
pub mod patients;
pub mod pgcluster;
pub mod planning;
pub mod routing;
pub mod shards;
pub mod stats;
pub mod transfer;

use std::future::Future;
use std::sync::Arc;

/// Serves hmis on `listener` until `shutdown` resolves, then drains in-flight requests.
pub async fn launch(
    settings: config::Settings,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let app = Arc::new(app::App::new(settings).await?);
    let (ready, listening) = tokio::sync::oneshot::channel();
    let listener_task = tokio::spawn(auth::listener::run(Arc::downgrade(&app), ready));
    let resumer = transfer::spawn_resumer(Arc::downgrade(&app));
    // Revocations must reach this process from the first request on; if the central
    // database is down, serve anyway (nothing can log in until it is back).
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), listening).await;
    let router =
        http::router(app.clone()).into_make_service_with_connect_info::<std::net::SocketAddr>();
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
    // Likewise the central pool: closed now, before whoever started the databases stops
    // them, instead of warning about connections the database ended.
    app.central.close().await;
    Ok(served?)
}
