//! `GET /metrics`: Prometheus text naming every region (its pool and whether it is up),
//! requests counted by route template and status (never a raw path with an ID), a
//! region that is down shown down and counted in fan-outs; never served to anyone
//! without the token, and not at all when no token or listen address is configured.

use crate::helpers::{TestApp, bearer_client, patient, spawn_app_with};
use hmis::config::{DatabaseUrl, Secret};

const TOKEN: &str = "scrape-token-0123456789";

/// The value of the first sample of `name` whose labels include every one of `labels`.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
        .find(|l| {
            labels
                .iter()
                .all(|(k, v)| l.contains(&format!("{k}=\"{v}\"")))
        })
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

async fn scrape(app: &TestApp) -> String {
    let res = bearer_client(TOKEN)
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let kind = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(kind.starts_with("text/plain"), "{kind}");
    res.text().await.unwrap()
}

const BY_ID: &[(&str, &str)] = &[
    ("route", "/api/v1/patients/{id}"),
    ("method", "GET"),
    ("status", "200"),
];

#[tokio::test]
async fn a_scrape_names_every_region_counts_requests_by_route_template_and_shows_a_dead_region_down()
 {
    let app = spawn_app_with(|s| {
        s.file.metrics.token = Secret::new(TOKEN);
        let quthing = s.regions.iter_mut().find(|r| r.name == "quthing").unwrap();
        // Nothing listens on port 1: the region is down from the start.
        quthing.database_url = DatabaseUrl::new("postgresql://hmis@127.0.0.1:1/gone");
    })
    .await;
    let before = sample(&scrape(&app).await, "hmis_http_requests_total", BY_ID).unwrap_or(0.0);

    let created = app.create_patient(&patient("Berea")).await;
    let id = created["id"].as_str().unwrap();
    for _ in 0..2 {
        let res = app
            .client
            .get(app.url(&format!("/api/v1/patients/{id}")))
            .send()
            .await;
        assert_eq!(res.unwrap().status(), 200);
    }
    let list = app
        .client
        .get(app.url("/api/v1/patients"))
        .send()
        .await
        .unwrap();
    assert_eq!(list.status(), 200);
    let text = scrape(&app).await;

    for region in &app.settings.regions {
        let r = [("region", region.name.as_str())];
        assert!(
            sample(&text, "hmis_region_pool_connections", &r).is_some(),
            "{}:\n{text}",
            region.name
        );
        assert!(
            sample(&text, "hmis_region_pool_in_use", &r).is_some(),
            "{}",
            region.name
        );
        assert!(
            sample(&text, "hmis_region_pool_waiting", &r).is_some(),
            "{}",
            region.name
        );
        let up = sample(&text, "hmis_region_up", &r).unwrap();
        assert_eq!(
            up,
            if region.name == "quthing" { 0.0 } else { 1.0 },
            "{}",
            region.name
        );
    }
    let after = sample(&text, "hmis_http_requests_total", BY_ID).unwrap();
    assert!(after >= before + 2.0, "{before} -> {after}");
    let created = [
        ("route", "/api/v1/patients"),
        ("method", "POST"),
        ("status", "201"),
    ];
    assert!(sample(&text, "hmis_http_requests_total", &created).unwrap() >= 1.0);
    let timed = [
        ("route", "/api/v1/patients/{id}"),
        ("method", "GET"),
        ("le", "+Inf"),
    ];
    assert!(sample(&text, "hmis_http_request_duration_seconds_bucket", &timed).unwrap() >= 2.0);
    assert!(!text.contains(id), "a patient ID became a label:\n{text}");
    let down = [("region", "quthing"), ("reason", "down")];
    assert!(
        sample(&text, "hmis_fanout_region_failures_total", &down).unwrap() >= 1.0,
        "{text}"
    );
    let audited = [("region", "maseru")];
    assert!(
        sample(&text, "hmis_audit_batch_lines_count", &audited).unwrap() >= 1.0,
        "{text}"
    );
    // The real-time hub reads the create's change event soon after it commits.
    let maseru = [("region", "maseru")];
    let mut lag = sample(&text, "hmis_change_log_lag_seconds", &maseru);
    for _ in 0..50 {
        if lag.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        lag = sample(&scrape(&app).await, "hmis_change_log_lag_seconds", &maseru);
    }
    assert!(lag.is_some_and(|s| (0.0..60.0).contains(&s)), "{lag:?}");
    let errors = [("region", "quthing"), ("kind", "unavailable")];
    assert!(
        sample(&text, "hmis_region_errors_total", &errors).unwrap() >= 1.0,
        "{text}"
    );
}

#[tokio::test]
async fn the_scrape_is_refused_without_the_token_and_not_served_when_none_is_configured() {
    let guarded = spawn_app_with(|s| s.file.metrics.token = Secret::new(TOKEN)).await;
    let anon = guarded
        .anon
        .get(guarded.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(anon.status(), 401);
    let wrong = bearer_client("scrape-token-012345678X").get(guarded.url("/metrics"));
    assert_eq!(wrong.send().await.unwrap().status(), 401);
    // A session, even a system admin's, is not the scrape token.
    let admin = guarded
        .client
        .get(guarded.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(admin.status(), 401);

    let open = spawn_app_with(|_| {}).await;
    for client in [&open.anon, &open.client, &bearer_client(TOKEN)] {
        let res = client.get(open.url("/metrics")).send().await.unwrap();
        assert_eq!(res.status(), 404);
    }
}

#[tokio::test]
async fn metrics_listen_serves_the_scrape_on_its_own_address_and_not_on_the_api_port() {
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = free.local_addr().unwrap();
    drop(free);
    let app = spawn_app_with(|s| s.file.metrics.listen = addr.to_string()).await;
    let res = app.anon.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    let own = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap();
    assert_eq!(own.status(), 200);
    let text = own.text().await.unwrap();
    assert!(
        text.contains("hmis_region_up{region=\"maseru\"} 1"),
        "{text}"
    );
}

#[tokio::test]
async fn open_websockets_are_counted_while_they_are_open() {
    use crate::live::{connect, next_frame, send};
    let app = spawn_app_with(|s| s.file.metrics.token = Secret::new(TOKEN)).await;
    let token = app.login("admin", crate::helpers::PASSWORD).await;
    let mut sockets = Vec::new();
    for _ in 0..3 {
        let mut ws = connect(&app, &token).await;
        // Answered, so the server side of the socket is up and counted.
        send(
            &mut ws,
            &serde_json::json!({"id": 1, "method": "GET", "path": "/api/v1/notifications"}),
        )
        .await;
        assert_eq!(next_frame(&mut ws).await["status"], 200);
        sockets.push(ws);
    }
    // The gauge is one per process and other tests open sockets too: it counts at least ours.
    let open = sample(&scrape(&app).await, "hmis_websocket_connections", &[]);
    assert!(open.is_some_and(|n| n >= 3.0), "{open:?}");
}
