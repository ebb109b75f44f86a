//! `hmis serve --log-format json`: a real process, its stderr read back. Every line is
//! one JSON object; a request's lines carry its id, user, region and status; and neither
//! a password, a session token nor a patient's name reaches the log.

use crate::helpers::{database_envs, patient, project_databases};
use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const USER: &str = "logs-admin";
const PASSWORD: &str = "Kiwi-Umbrella-7731";
const FAMILY: &str = "Quixotrellan";
const GIVEN: &str = "Zephyrine";

async fn free_port() -> u16 {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    l.local_addr().unwrap().port()
}

#[tokio::test]
async fn json_logs_are_one_object_a_line_with_the_request_fields_and_no_secret_or_name() {
    let settings = project_databases().await;
    let central = sqlx::PgPool::connect(settings.file.central.url.expose())
        .await
        .unwrap();
    hmis::auth::users::create(&central, USER, PASSWORD, "Logs Admin")
        .await
        .unwrap();
    hmis::authz::store::grant(&central, true, USER, "system_admin", "*")
        .await
        .unwrap();
    central.close().await;
    let port = free_port().await;
    let log = std::env::temp_dir().join(format!("hmis-json-logs-{port}.log"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_hmis"))
        .args(["serve", "--log-format", "json", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .envs(database_envs(&settings))
        .env("RUST_LOG", "info")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let anon = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !anon
        .get(format!("{base}/readyz"))
        .send()
        .await
        .is_ok_and(|r| r.status() == 200)
    {
        assert!(Instant::now() < deadline, "hmis serve never became ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let login: Value = anon
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"username": USER, "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["token"].as_str().expect("a token").to_owned();
    let wrong = serde_json::json!({"username": USER, "password": format!("{PASSWORD}x")});
    let refused = anon.post(format!("{base}/api/v1/auth/login")).json(&wrong);
    assert_eq!(refused.send().await.unwrap().status(), 401);
    let client = crate::helpers::bearer_client(&token);
    let mut body = patient("Berea");
    body["family_name"] = FAMILY.into();
    body["given_name"] = GIVEN.into();
    let created = client.post(format!("{base}/api/v1/patients")).json(&body);
    let created = created.send().await.unwrap();
    assert_eq!(created.status(), 201);
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let read = client
        .get(format!("{base}/api/v1/patients/{id}"))
        .send()
        .await;
    assert_eq!(read.unwrap().status(), 200);
    let search = client.get(format!("{base}/api/v1/patients?q={FAMILY}&region=maseru"));
    assert!(search.send().await.unwrap().status().is_success());

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let _ = tokio::task::spawn_blocking(move || child.wait()).await;
    let text = std::fs::read_to_string(&log).unwrap();
    let _ = std::fs::remove_file(&log);

    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(lines.iter().all(Value::is_object), "{text}");
    for secret in [PASSWORD, token.as_str(), FAMILY, GIVEN] {
        assert!(!text.contains(secret), "{secret} is in the log:\n{text}");
    }
    let answered = |status: u64| {
        lines
            .iter()
            .find(|l| l["status"] == status && l["span"]["path"] == "/api/v1/patients")
            .unwrap_or_else(|| panic!("no request line with status {status}:\n{text}"))
    };
    let logged_in = lines
        .iter()
        .find(|l| l["status"] == 200 && l["span"]["path"] == "/api/v1/auth/login")
        .unwrap_or_else(|| panic!("no line of the login:\n{text}"));
    assert_eq!(logged_in["span"]["user"], USER, "{logged_in}");
    let create = answered(201);
    assert_eq!(create["span"]["user"], USER, "{create}");
    assert_eq!(create["span"]["region"], "maseru", "{create}");
    assert!(create["span"]["rule"].is_string(), "{create}");
    let request_id = create["span"]["request_id"].as_str().unwrap();
    assert_eq!(request_id.len(), 36, "{create}");
    let by_id = lines
        .iter()
        .find(|l| l["status"] == 200 && l["span"]["path"] == format!("/api/v1/patients/{id}"))
        .unwrap_or_else(|| panic!("no line of the read:\n{text}"));
    assert_eq!(by_id["span"]["region"], "maseru", "{by_id}");
    assert_ne!(by_id["span"]["request_id"], request_id);
}
