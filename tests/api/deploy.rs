//! The deployment files, checked without a Docker engine (none runs on these machines, nor
//! in CI): `docker/compose.yaml` is validated against the Compose specification by
//! `docker-compose config` (Debian's, installed by scripts/install-deps) with the committed
//! `docker/.env.example`, and every service, port and volume that the README's "Deploying"
//! table names must be in the configuration it resolves, and the other way round. The
//! image's Dockerfile and its health check command are tested beside (`dockerfile`,
//! `healthz`); `compose` reads the files.

mod compose;
mod dockerfile;
mod healthz;

use compose::{
    compose_config, compose_config_with, mounted_volumes, mounts, published_ports, readme_table,
};
use std::collections::BTreeSet;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn every_service_port_and_volume_the_readme_names_is_in_the_validated_compose_file() {
    let config = compose_config();
    for row in readme_table() {
        let service = &config["services"][&row.service];
        assert!(service.is_object(), "README names service {}", row.service);
        if let Some(port) = &row.port {
            let ports = published_ports(service);
            assert!(
                ports.contains(port),
                "{} publishes {ports:?}, not {port}",
                row.service
            );
        }
        if let Some(volume) = &row.volume {
            assert!(
                config["volumes"].get(volume).is_some(),
                "volume {volume} is declared"
            );
            let mounted = mounted_volumes(service);
            assert!(
                mounted.iter().any(|(name, _)| name == volume),
                "{} mounts {mounted:?}, not {volume}",
                row.service
            );
        }
    }
}

#[test]
fn every_compose_service_and_volume_is_in_the_readme_table() {
    let config = compose_config();
    let table = readme_table();
    let named: BTreeSet<&str> = table.iter().map(|r| r.service.as_str()).collect();
    assert_eq!(
        named,
        keys(&config["services"]),
        "the README's table and compose.yaml's services"
    );
    let volumes: BTreeSet<&str> = table.iter().filter_map(|r| r.volume.as_deref()).collect();
    assert_eq!(
        volumes,
        keys(&config["volumes"]),
        "the README's table and compose.yaml's volumes"
    );
}

/// The names a mapping of the compose file declares (its services, its volumes).
fn keys(mapping: &serde_json::Value) -> BTreeSet<&str> {
    let mapping = mapping.as_object().expect("a mapping");
    mapping.keys().map(String::as_str).collect()
}

/// The names of regions/*.toml, from the files themselves.
fn region_names() -> Vec<String> {
    hmis::config::region_files(&root().join("regions"))
        .unwrap()
        .into_iter()
        .map(|r| r.name)
        .collect()
}

#[test]
fn every_region_and_the_central_database_has_a_healthy_checked_database_that_migrate_waits_for() {
    let config = compose_config();
    let services = &config["services"];
    let env = &services["hmis"]["environment"];
    let mut databases = vec![(
        "central".to_owned(),
        env["HMIS_CENTRAL_URL"].as_str().unwrap().to_owned(),
    )];
    for name in region_names() {
        let var = format!("HMIS_REGION_{}_DATABASE_URL", name.to_uppercase());
        let url = env[&var]
            .as_str()
            .unwrap_or_else(|| panic!("hmis has {var}"));
        databases.push((name, url.to_owned()));
    }
    for (name, url) in databases {
        let db = format!("{name}-db");
        let service = &services[&db];
        let test: Vec<&str> = service["healthcheck"]["test"]
            .as_array()
            .unwrap_or_else(|| panic!("{db} has a health check"))
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        assert!(
            test.contains(&"pg_isready") && test.windows(2).any(|w| w == ["-h", "127.0.0.1"]),
            "{db} checks over TCP: {test:?}"
        );
        let condition = &services["migrate"]["depends_on"][&db]["condition"];
        assert_eq!(condition, "service_healthy", "migrate waits for {db}");
        let mounted = mounted_volumes(service);
        assert!(
            mounted.contains(&(
                format!("{name}-data"),
                "/var/lib/postgresql/data".to_owned()
            )),
            "{db} keeps its data in a named volume: {mounted:?}"
        );
        let host = url.split('@').nth(1).unwrap_or_default();
        assert!(
            host.starts_with(&format!("{db}:5432/")),
            "{name}'s URL: {host}"
        );
        let password = &service["environment"]["POSTGRES_PASSWORD"];
        assert!(
            url.contains(&format!(":{}@", password.as_str().unwrap())),
            "{name}'s password"
        );
    }
}

#[test]
fn hmis_starts_after_migrate_succeeds_and_pgadmin_loads_the_servers_file_hmis_exports() {
    let config = compose_config();
    let services = &config["services"];
    let after = |service: &str, on: &str| services[service]["depends_on"][on]["condition"].clone();
    assert_eq!(after("hmis", "migrate"), "service_completed_successfully");
    assert_eq!(
        services["migrate"]["command"],
        serde_json::json!(["migrate"])
    );
    assert_eq!(
        after("pgadmin", "pgadmin-servers"),
        "service_completed_successfully"
    );
    let command = serde_json::json!(["pgadmin", "export", "--out", "/pgadmin/servers.json"]);
    assert_eq!(services["pgadmin-servers"]["command"], command);
    let env = &services["pgadmin"]["environment"];
    assert_eq!(env["PGADMIN_SERVER_JSON_FILE"], "/pgadmin/servers.json");
    assert_eq!(env["PGADMIN_REPLACE_SERVERS_ON_STARTUP"], "True");
    let at_pgadmin = |service: &str| {
        mounted_volumes(&services[service])
            .into_iter()
            .find(|(_, target)| target == "/pgadmin")
            .map(|(name, _)| name)
    };
    assert_eq!(
        at_pgadmin("pgadmin-servers"),
        Some("pgadmin-servers".to_owned())
    );
    assert_eq!(at_pgadmin("pgadmin"), at_pgadmin("pgadmin-servers"));
}

#[test]
fn the_compose_file_refuses_to_resolve_while_a_secret_is_missing_from_the_env_file() {
    let example = std::fs::read_to_string(root().join("docker/.env.example")).unwrap();
    let partial: String = example
        .lines()
        .filter(|line| !line.starts_with("MASERU_DB_PASSWORD="))
        .map(|line| format!("{line}\n"))
        .collect();
    let file = std::env::temp_dir().join(format!("hmis-partial-{}.env", std::process::id()));
    std::fs::write(&file, partial).unwrap();
    let out = compose_config_with(&file);
    std::fs::remove_file(&file).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "resolved without MASERU_DB_PASSWORD");
    assert!(stderr.contains("docker/.env"), "{stderr}");
}

#[test]
fn the_example_env_file_holds_placeholders_and_the_real_one_is_ignored_by_git() {
    let example = std::fs::read_to_string(root().join("docker/.env.example")).unwrap();
    let secrets: Vec<&str> = example
        .lines()
        .filter(|line| !line.starts_with('#') && line.contains('='))
        .filter(|line| line.contains("PASSWORD=") || line.contains("KEY="))
        .collect();
    assert!(secrets.len() >= 6, "{secrets:?}");
    for line in secrets {
        assert!(line.contains("=change-me"), "not a placeholder: {line}");
    }
    let gitignore = std::fs::read_to_string(root().join(".gitignore")).unwrap();
    assert!(
        gitignore.lines().any(|l| l == "/docker/.env"),
        "{gitignore}"
    );
}

#[test]
fn the_mounted_hmis_toml_is_valid_and_points_at_the_folders_compose_mounts() {
    let file = hmis::config::file_settings(Some(&root().join("docker/hmis.toml"))).unwrap();
    let config = compose_config();
    let mounts = mounts(&config["services"]["hmis"]);
    let mounted = |file: &str, target: &Path| {
        mounts
            .iter()
            .any(|(source, at)| source.ends_with(file) && Path::new(at) == target)
    };
    for (folder, path) in [
        ("/regions", &file.paths.regions),
        ("/routing-rules", &file.paths.rules),
    ] {
        assert!(path.is_absolute(), "{folder}: {}", path.display());
        assert!(
            mounted(folder, path),
            "{folder} at {} in {mounts:?}",
            path.display()
        );
    }
    let target = config["services"]["hmis"]["environment"]["HMIS_CONFIG"]
        .as_str()
        .unwrap();
    assert!(mounted("docker/hmis.toml", Path::new(target)), "{mounts:?}");
}
