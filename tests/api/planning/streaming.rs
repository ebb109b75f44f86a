//! How an answer travels: whole under gzip (what browsers and python-requests ask for),
//! and with hmis's memory bounded by a small buffer however large the answer and however
//! slowly the client reads it.

use super::ask;
use crate::helpers::spawn_app;
use hmis::config::Settings;
use serde_json::json;
use std::io::Read;
use std::time::Duration;

/// Several chunks of rows from one region, then the summary.
const MANY: &str =
    "SELECT g, repeat('x', 50) AS filler FROM generate_series(1, 20000) g ORDER BY g";

#[tokio::test]
async fn a_gzip_compressed_answer_decompresses_to_exactly_the_uncompressed_answer() {
    let app = spawn_app().await;
    let body = json!({"sql": MANY, "regions": ["mafeteng"]});
    let plain = ask(&app, &app.client, body.clone()).await;
    assert_eq!(plain.rows().len(), 20_000, "{}", plain.text);
    for _ in 0..3 {
        let response = app
            .client
            .post(app.url("/api/v1/query"))
            .header("accept-encoding", "gzip")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-encoding"], "gzip");
        let compressed = response.bytes().await.expect("the whole compressed answer");
        let mut text = String::new();
        flate2::read::GzDecoder::new(&compressed[..])
            .read_to_string(&mut text)
            .expect("a complete gzip stream");
        assert_eq!(text, plain.text);
    }
}

/// The resident memory of process `pid`, in bytes.
fn resident(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb * 1024
}

/// `hmis serve` as a process of its own (so that its memory is its answer's alone), on the
/// databases of `settings`; killed when dropped.
async fn serve_process(settings: &Settings) -> (tokio::process::Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_hmis"));
    command
        .args(["serve", "--listen", &listen])
        .env("HMIS_CENTRAL_URL", settings.file.central.url.expose())
        .env("HMIS_SERVER_QUERY_TIMEOUT_MS", "60000")
        .env("RUST_LOG", "warn")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .kill_on_drop(true);
    for r in &settings.regions {
        let name = format!("HMIS_REGION_{}_DATABASE_URL", r.name.to_uppercase());
        command.env(name, r.database_url.expose());
    }
    let child = command.spawn().unwrap();
    let address = format!("http://{listen}");
    for _ in 0..200 {
        if reqwest::get(format!("{address}/healthz")).await.is_ok() {
            return (child, address);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("hmis serve did not start on {listen}");
}

#[tokio::test]
async fn a_huge_answer_read_slowly_holds_hmis_memory_to_a_small_buffer() {
    let app = spawn_app().await;
    let (child, address) = serve_process(&app.settings).await;
    let pid = child.id().unwrap();
    // About 400 MB of JSON lines, over gzip as a browser would ask.
    let sql = "SELECT g, repeat('x', 100) AS filler FROM generate_series(1, 3000000) g";
    let mut response = app
        .client
        .post(format!("{address}/api/v1/query"))
        .header("accept-encoding", "gzip")
        .json(&json!({"sql": sql, "regions": ["quthing"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.chunk().await.unwrap().expect("a first chunk");
    let before = resident(pid);
    // Not reading at all for a while, then reading slowly: neither may let rows pile up.
    let mut most = before;
    for _ in 0..20 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        most = most.max(resident(pid));
    }
    for _ in 0..200 {
        response.chunk().await.unwrap().expect("more of the answer");
        most = most.max(resident(pid));
    }
    let grown = most.saturating_sub(before);
    assert!(
        grown < 64 << 20,
        "hmis grew by {} MB while serving one answer",
        grown >> 20
    );
}
