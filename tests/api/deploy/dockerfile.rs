//! `docker/Dockerfile`, read as Docker reads it (continuation lines joined, comments
//! dropped, stages split at `FROM`): the runtime stage runs as a user that is not root,
//! its health check is `hmis healthz` and works against a running hmis, and every file
//! the build copies is in the build context `.dockerignore` leaves.

use super::root;
use crate::helpers::spawn_app;

/// The instructions of the Dockerfile, each as (KEYWORD, arguments), grouped by stage.
fn stages() -> Vec<Vec<(String, String)>> {
    let text = std::fs::read_to_string(root().join("docker/Dockerfile")).unwrap();
    let mut instructions = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && current.is_empty()) {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(part) => current.push_str(part),
            None => {
                current.push_str(trimmed);
                instructions.push(std::mem::take(&mut current));
            }
        }
    }
    let mut stages: Vec<Vec<(String, String)>> = Vec::new();
    for instruction in instructions {
        let (keyword, args) = instruction.split_once(char::is_whitespace).unwrap();
        let keyword = keyword.to_uppercase();
        if keyword == "FROM" {
            stages.push(Vec::new());
        }
        if let Some(stage) = stages.last_mut() {
            stage.push((keyword, args.trim().to_owned()));
        }
    }
    assert!(stages.len() >= 2, "a multi-stage build");
    stages
}

fn runtime_stage() -> Vec<(String, String)> {
    stages().pop().unwrap()
}

fn last<'a>(stage: &'a [(String, String)], keyword: &str) -> Option<&'a str> {
    stage
        .iter()
        .rev()
        .find(|(k, _)| k == keyword)
        .map(|(_, args)| args.as_str())
}

/// The health check's command, from its exec form (`CMD ["hmis", ...]`).
fn health_check() -> Vec<String> {
    let stage = runtime_stage();
    let args = last(&stage, "HEALTHCHECK").expect("the runtime stage has a HEALTHCHECK");
    let exec = args
        .split_once("CMD")
        .expect("HEALTHCHECK ... CMD")
        .1
        .trim();
    serde_json::from_str(exec).expect("the health check in exec form: no shell in the image")
}

#[test]
fn the_runtime_image_runs_as_a_user_that_is_not_root_and_that_the_image_creates() {
    let stage = runtime_stage();
    let user = last(&stage, "USER").expect("the runtime stage sets USER");
    let name = user.split(':').next().unwrap();
    assert!(!["root", "0", ""].contains(&name), "runs as {user}");
    let created = stage
        .iter()
        .any(|(k, args)| k == "RUN" && args.contains("useradd") && args.contains(name));
    assert!(created, "the image creates the user {name}");
    assert_eq!(last(&stage, "ENTRYPOINT"), Some(r#"["hmis"]"#));
}

#[tokio::test]
async fn the_image_health_check_is_hmis_healthz_and_passes_against_a_running_hmis() {
    let argv = health_check();
    assert_eq!(argv[..2], ["hmis", "healthz"], "{argv:?}");
    // The image's own arguments, with the address of this test's hmis instead of :8000.
    let app = spawn_app().await;
    let mut args: Vec<String> = argv[1..].to_vec();
    let url = args.iter().position(|a| a == "--url").expect("--url") + 1;
    assert_eq!(
        args[url], "http://127.0.0.1:8000",
        "the port the image serves on"
    );
    args[url] = app.address.clone();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_hmis"))
        .args(&args)
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{args:?}: {stderr}");
    let stage = runtime_stage();
    let cmd = last(&stage, "CMD").expect("a CMD");
    assert!(
        cmd.contains(r#""--listen", "0.0.0.0:8000""#),
        "serve listens on :8000: {cmd}"
    );
}

#[test]
fn every_file_the_build_copies_is_in_the_build_context() {
    let ignore = std::fs::read_to_string(root().join(".dockerignore")).unwrap();
    let ignored: Vec<&str> = ignore
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .collect();
    for kept_out in [
        "target/",
        ".hmis/",
        "**/node_modules/",
        ".git/",
        "docker/.env",
    ] {
        assert!(ignored.contains(&kept_out), "{kept_out} in .dockerignore");
    }
    let copies: Vec<String> = stages()
        .concat()
        .into_iter()
        .filter(|(k, args)| k == "COPY" && !args.starts_with("--from"))
        .flat_map(|(_, args)| {
            let mut paths: Vec<String> = args.split_whitespace().map(str::to_owned).collect();
            paths.pop(); // the destination
            paths
        })
        .collect();
    assert!(copies.iter().any(|c| c == "src"), "{copies:?}");
    for source in copies {
        let top = source.trim_end_matches('/');
        assert!(
            root().join(top).exists(),
            "COPY {source}: not in the repository"
        );
        let first = format!("{}/", top.split('/').next().unwrap());
        assert!(
            !ignored.contains(&first.as_str()),
            "COPY {source}: .dockerignore drops it"
        );
    }
}
