//! `hmis pgadmin export` loaded into a real pgAdmin 4 (the `pgadmin4` package from PyPI,
//! installed by scripts/install-pgadmin into a venv): its `setup.py load-servers` takes
//! the file, `dump-servers` reads it back, and every region's servers are there in the
//! region's group, at the configured address, as the roles `hmis migrate` makes, with no
//! password anywhere.

use crate::helpers::{self, hmis_cli, project_databases};
use serde_json::Value;
use sqlx::postgres::PgConnectOptions;
use std::path::{Path, PathBuf};
use std::process::Command;

const EMAIL: &str = "regional.admin@example.org";

/// setup.py of the venv scripts/install-pgadmin makes (`HMIS_PGADMIN_VENV` or its default).
fn pgadmin_setup_py() -> (PathBuf, PathBuf) {
    let venv = std::env::var_os("HMIS_PGADMIN_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(&std::env::var("HOME").unwrap()).join(".cache/hmis/pgadmin-venv")
        });
    let lib = venv.join("lib");
    let setup = std::fs::read_dir(&lib)
        .into_iter()
        .flatten()
        .flatten()
        .map(|d| d.path().join("site-packages/pgadmin4/setup.py"))
        .find(|p| p.is_file());
    let Some(setup) = setup else {
        panic!(
            "pgAdmin 4 is missing in {}: run scripts/install-pgadmin",
            venv.display()
        );
    };
    (venv.join("bin/python"), setup)
}

/// Runs `setup.py ARGS` against a pgAdmin configuration of its own in `dir` (server mode,
/// as in pgAdmin's container, with its SQLite database under `dir/data`).
async fn setup_py(dir: &Path, args: &[&str]) -> String {
    let (python, setup) = pgadmin_setup_py();
    let config = dir.join("config_distro.py");
    let mut cmd = Command::new(python);
    cmd.arg(setup)
        .args(args)
        .env("CONFIG_DISTRO_FILE_PATH", &config)
        .env("PGADMIN_SETUP_EMAIL", EMAIL)
        .env("PGADMIN_SETUP_PASSWORD", "Not-a-real-secret-1")
        .env("COLUMNS", "200");
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "setup.py {args:?}: {text}");
    text
}

#[tokio::test]
async fn the_export_loads_into_a_real_pgadmin_with_every_region_in_its_group_and_no_password() {
    let settings = project_databases().await;
    let dir = std::env::temp_dir().join(format!("hmis-pgadmin-test-{}", helpers::pg::unique()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("servers.json");
    let file_arg = file.to_str().unwrap();
    let out = hmis_cli(&settings, &["pgadmin", "export", "--out", file_arg]).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let exported = std::fs::read_to_string(&file).unwrap();
    let stdout = hmis_cli(&settings, &["pgadmin", "export"]).await;
    assert_eq!(String::from_utf8(stdout.stdout).unwrap(), exported);

    let data = dir.join("data");
    std::fs::write(
        dir.join("config_distro.py"),
        format!(
            "SERVER_MODE = True\nDATA_DIR = {:?}\n",
            data.to_str().unwrap()
        ),
    )
    .unwrap();
    setup_py(&dir, &["setup-db"]).await;
    let groups = settings.regions.len() + 1;
    let servers = settings.regions.len() * 2 + 1;
    let loaded = setup_py(&dir, &["load-servers", file_arg, "--user", EMAIL]).await;
    let added = format!("Added {groups} Server Group(s) and {servers} Server(s)");
    assert!(loaded.contains(&added), "{loaded}");
    let dump = dir.join("dump.json");
    setup_py(
        &dir,
        &["dump-servers", dump.to_str().unwrap(), "--user", EMAIL],
    )
    .await;
    let dumped_text = std::fs::read_to_string(&dump).unwrap();
    let dumped: Value = serde_json::from_str(&dumped_text).unwrap();

    let mut got: Vec<(String, String, String, u64, String, String)> = dumped["Servers"]
        .as_object()
        .unwrap()
        .values()
        .map(|s| {
            let field = |k: &str| s[k].as_str().unwrap_or_default().to_owned();
            assert_eq!(s["ConnectionParameters"]["passfile"], "/pgpass", "{s}");
            assert_eq!(s["ConnectionParameters"]["sslmode"], "prefer", "{s}");
            assert!(s.get("Password").is_none(), "{s}");
            let port = s["Port"].as_u64().unwrap();
            let db = field("MaintenanceDB");
            (
                field("Group"),
                field("Username"),
                field("Host"),
                port,
                db,
                field("Name"),
            )
        })
        .collect();
    got.sort();
    let mut want = Vec::new();
    let central: PgConnectOptions = settings.file.central.url.expose().parse().unwrap();
    let place = |o: &PgConnectOptions| {
        let db = o.get_database().unwrap().to_owned();
        (o.get_host().to_owned(), u64::from(o.get_port()), db)
    };
    let (host, port, db) = place(&central);
    want.push((
        "Central".into(),
        "planner".into(),
        host,
        port,
        db,
        "Central planning (planner)".into(),
    ));
    for region in &settings.regions {
        let opts: PgConnectOptions = region.database_url.expose().parse().unwrap();
        let (host, port, db) = place(&opts);
        for (role, name) in [("admin", ""), ("readonly", " read-only")] {
            let user = format!("{}_{role}", region.name);
            let shown = format!("{}{name} ({user})", region.display_name);
            want.push((
                region.display_name.clone(),
                user,
                host.clone(),
                port,
                db.clone(),
                shown,
            ));
        }
    }
    want.sort();
    assert_eq!(got, want);
    // The test clusters' URLs carry the superuser's password: it reaches neither file.
    for url in settings
        .regions
        .iter()
        .map(|r| &r.database_url)
        .chain([&settings.file.central.url])
    {
        let authority = url
            .expose()
            .split_once("://")
            .unwrap()
            .1
            .split_once('@')
            .unwrap()
            .0;
        let secret = authority.split_once(':').unwrap().1;
        assert!(
            secret.len() >= 8,
            "the test clusters' URLs carry a password"
        );
        assert!(!exported.contains(secret) && !dumped_text.contains(secret));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn an_export_to_a_folder_that_does_not_exist_fails_with_status_1_naming_it() {
    let settings = helpers::project_settings();
    let out = hmis_cli(
        &settings,
        &[
            "pgadmin",
            "export",
            "--out",
            "/nonexistent-dir/servers.json",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--out /nonexistent-dir/servers.json: cannot write"),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}
