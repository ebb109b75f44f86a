//! Reading the deployment files: `docker-compose config`'s resolved configuration as JSON,
//! the README's "Deploying" table, and the ports and mounts of a compose service in either
//! of the Compose file's syntaxes (docker-compose 1 prints the short one, 2 the long one).

use super::root;
use serde_json::Value;
use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// `docker-compose config` of docker/compose.yaml with `env_file`, in an environment
/// holding only PATH and HOME (a variable of the caller's would win over the file).
pub fn compose_config_with(env_file: &Path) -> Output {
    let mut command = Command::new("docker-compose");
    command
        .args(["-f", "docker/compose.yaml", "--env-file"])
        .arg(env_file)
        .arg("config")
        .current_dir(root())
        .env_clear();
    for var in ["PATH", "HOME"] {
        if let Some(value) = std::env::var_os(var) {
            command.env(var, value);
        }
    }
    command
        .output()
        .expect("docker-compose is missing: run scripts/install-deps")
}

/// The validated configuration, as JSON: its YAML read by PyYAML, the parser
/// docker-compose itself is built on (so no YAML crate is needed).
pub fn compose_config() -> Value {
    let out = compose_config_with(Path::new("docker/.env.example"));
    assert!(
        out.status.success(),
        "docker-compose config refused docker/compose.yaml:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut python = Command::new("python3")
        .args([
            "-c",
            "import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    python.stdin.take().unwrap().write_all(&out.stdout).unwrap();
    let json = python.wait_with_output().unwrap();
    assert!(json.status.success(), "python3 -c 'import yaml' failed");
    serde_json::from_slice(&json.stdout).unwrap()
}

/// One row of the README's "Deploying" table: a service, the port it publishes, the
/// volume it mounts (either may be empty).
#[derive(Debug)]
pub struct Row {
    pub service: String,
    pub port: Option<String>,
    pub volume: Option<String>,
}

pub fn readme_table() -> Vec<Row> {
    let readme = include_str!("../../../README.md");
    let section = readme
        .split("\n## Deploying\n")
        .nth(1)
        .expect("the README has no `## Deploying` section");
    let section = section.split("\n## ").next().unwrap();
    let cell = |text: &str| {
        let text = text.trim().trim_matches('`');
        (!text.is_empty()).then(|| text.to_owned())
    };
    let rows: Vec<Row> = section
        .lines()
        .skip_while(|line| !line.starts_with("| service |"))
        .skip(2)
        .take_while(|line| line.starts_with('|'))
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split('|').collect();
            assert_eq!(cells.len(), 4, "a row of four cells: {line}");
            Row {
                service: cell(cells[0]).expect("a service name"),
                port: cell(cells[2]),
                volume: cell(cells[3]),
            }
        })
        .collect();
    assert!(
        rows.len() >= 5,
        "the Deploying table lost its rows: {rows:?}"
    );
    rows
}

/// The ports a service publishes on the host (short or long syntax, number or string).
pub fn published_ports(service: &Value) -> BTreeSet<String> {
    let ports = service["ports"].as_array().cloned().unwrap_or_default();
    ports
        .iter()
        .map(|p| match p {
            Value::String(short) => short.split(':').rev().nth(1).unwrap_or(short).to_owned(),
            long => match &long["published"] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            },
        })
        .collect()
}

/// What a service mounts, as (source, target): short `source:/path[:mode]` or long syntax.
pub fn mounts(service: &Value) -> Vec<(String, String)> {
    let volumes = service["volumes"].as_array().cloned().unwrap_or_default();
    volumes
        .iter()
        .filter_map(|v| match v {
            Value::String(short) => {
                let mut parts = short.split(':');
                Some((parts.next()?.to_owned(), parts.next()?.to_owned()))
            }
            long => Some((
                long["source"].as_str()?.to_owned(),
                long["target"].as_str()?.to_owned(),
            )),
        })
        .collect()
}

/// The named volumes among them (a bind mount's source is a path).
pub fn mounted_volumes(service: &Value) -> Vec<(String, String)> {
    mounts(service)
        .into_iter()
        .filter(|(source, _)| !source.starts_with('/') && !source.starts_with('.'))
        .collect()
}
