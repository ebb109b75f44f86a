//! `hmis healthz`, the image's health check, run as the real binary: exit 0 when hmis
//! answers `/healthz`, 1 when nothing listens, when the answer is an error, and, within
//! its timeout, when the server accepts the connection but never answers.

use crate::helpers::spawn_app;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Output;
use std::time::{Duration, Instant};

fn healthz(url: &str, timeout_ms: u64) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_hmis"))
        .args([
            "healthz",
            "--url",
            url,
            "--timeout-ms",
            &timeout_ms.to_string(),
        ])
        .env_remove("HMIS_URL")
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A server on a free port that answers every connection with `response` (None: reads
/// the request and never answers), for as long as the test runs.
fn fake_server(response: Option<&'static str>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for mut stream in listener.incoming().flatten() {
            let mut request = [0u8; 1024];
            let _ = stream.read(&mut request);
            if let Some(response) = response {
                let _ = stream.write_all(response.as_bytes());
            }
            held.push(stream);
        }
    });
    url
}

#[tokio::test]
async fn healthz_exits_zero_when_hmis_answers() {
    let app = spawn_app().await;
    let url = app.address.clone();
    let out = tokio::task::spawn_blocking(move || healthz(&url, 2000))
        .await
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("/healthz: 200 OK"));
}

#[test]
fn healthz_exits_one_naming_the_url_when_nothing_listens() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = healthz(&format!("http://127.0.0.1:{port}"), 2000);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let message = stderr(&out);
    assert!(
        message.contains(&format!("127.0.0.1:{port}/healthz: unhealthy")),
        "{message}"
    );
}

#[test]
fn healthz_exits_one_when_the_server_answers_an_error() {
    let url = fake_server(Some(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
    ));
    let out = healthz(&url, 2000);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("unhealthy: 503"), "{}", stderr(&out));
}

#[test]
fn healthz_exits_one_within_its_timeout_when_the_server_never_answers() {
    let url = fake_server(None);
    let start = Instant::now();
    let out = healthz(&url, 300);
    let took = start.elapsed();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no answer within 300 ms"),
        "{}",
        stderr(&out)
    );
    assert!(took < Duration::from_secs(5), "took {took:?}");
}
