//! `hmis doctor` against real databases: a healthy deployment passes every check with exit
//! 0; a region that does not answer, one without its migrations and one missing a role are
//! each named with what fixes them, exit 1, while the other regions are still checked; and
//! settings that cannot load exit 2. The binary runs as an operator would run it.

use crate::helpers::{database_envs, pg, project_databases, region_on_own_cluster};
use hmis::config::{DatabaseUrl, Settings};

/// `hmis doctor` against `settings`' databases: its exit status and what it printed.
async fn doctor(settings: &Settings) -> (Option<i32>, String) {
    doctor_with(settings, Vec::new()).await
}

/// As [`doctor`], with more environment variables.
async fn doctor_with(settings: &Settings, more: Vec<(String, String)>) -> (Option<i32>, String) {
    let mut envs = database_envs(settings);
    envs.extend(more);
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_hmis"))
            .arg("doctor")
            .envs(envs)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let printed = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    (out.status.code(), format!("{printed}{stderr}"))
}

/// Fresh databases as `hmis migrate` leaves them: migrated, roles made, federated.
async fn healthy() -> Settings {
    let settings = project_databases().await;
    for outcome in hmis::migrate::migrate_all(&settings, None).await {
        assert!(outcome.result.is_ok(), "{}: {:?}", outcome.target, outcome);
    }
    settings
}

/// The line of one check (`ok    region quthing: roles: ...`), and the `fix:` line under
/// it if any.
fn check<'a>(printed: &'a str, status: &str, subject: &str, name: &str) -> (&'a str, &'a str) {
    let start = format!("{status:<4}  {subject}: {name}:");
    let mut lines = printed.lines();
    let Some(line) = lines.find(|l| l.starts_with(&start)) else {
        panic!("no line {start:?} in:\n{printed}");
    };
    let fix = lines
        .next()
        .filter(|l| l.trim_start().starts_with("fix:"))
        .unwrap_or("");
    (line, fix)
}

fn assert_region_ok(printed: &str, region: &str) {
    for name in ["reachable", "migrations", "identity", "roles"] {
        check(printed, "ok", &format!("region {region}"), name);
    }
}

#[tokio::test]
async fn a_healthy_deployment_passes_every_check_and_lists_every_region_ok() {
    let settings = healthy().await;
    let (code, printed) = doctor(&settings).await;
    assert_eq!(code, Some(0), "{printed}");
    assert!(!printed.contains("FAIL"), "{printed}");
    for name in ["settings", "rules"] {
        check(&printed, "ok", "config", name);
    }
    for name in ["reachable", "migrations", "roles", "federation"] {
        check(&printed, "ok", "central", name);
    }
    for region in &settings.regions {
        assert_region_ok(&printed, &region.name);
    }
    let (clocks, _) = check(&printed, "ok", "clocks", "in step");
    assert!(clocks.contains("5 databases within 2.0 s"), "{clocks}");
    assert!(printed.contains("checks passed"), "{printed}");
}

#[tokio::test]
async fn a_region_that_does_not_answer_is_named_with_its_fix_and_the_others_are_still_checked() {
    let mut settings = healthy().await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let maseru = settings.regions.iter_mut().find(|r| r.name == "maseru");
    maseru.unwrap().database_url = DatabaseUrl::new(format!(
        "postgresql://hmis:s3cret@127.0.0.1:{port}/hmis_maseru"
    ));
    let (code, printed) = doctor(&settings).await;
    assert_eq!(code, Some(1), "{printed}");
    let (line, fix) = check(&printed, "FAIL", "region maseru", "reachable");
    assert!(
        line.contains(&format!(
            "postgresql://hmis:***@127.0.0.1:{port}/hmis_maseru"
        )),
        "{line}"
    );
    assert!(fix.contains("start its PostgreSQL"), "{fix}");
    assert!(fix.contains("HMIS_REGION_MASERU_DATABASE_URL"), "{fix}");
    check(&printed, "skip", "region maseru", "the rest");
    assert!(
        !printed.contains("s3cret"),
        "a password printed:\n{printed}"
    );
    for region in ["leribe", "mafeteng", "quthing"] {
        assert_region_ok(&printed, region);
    }
    let last = printed.lines().last().unwrap_or("");
    assert!(last.contains("region maseru (reachable)"), "{last}");
}

#[tokio::test]
async fn a_region_database_without_its_migrations_names_them_with_hmis_migrate_as_the_fix() {
    let mut settings = healthy().await;
    let cluster = &pg::pg().shared[1];
    let name = format!("t{}_unmigrated", pg::unique());
    pg::create_database(cluster, &name, "template0").await;
    let quthing = settings.regions.iter_mut().find(|r| r.name == "quthing");
    quthing.unwrap().database_url = DatabaseUrl::new(cluster.url(&name));
    let (code, printed) = doctor(&settings).await;
    assert_eq!(code, Some(1), "{printed}");
    let (line, fix) = check(&printed, "FAIL", "region quthing", "migrations");
    let all = hmis::migrate::SHARD.iter().count();
    assert!(
        line.contains(&format!(
            "{all} of {all} not applied: 0001_patients, 0002_audit"
        )),
        "{line}"
    );
    assert!(fix.contains("hmis migrate"), "{fix}");
    check(&printed, "ok", "region quthing", "reachable");
    for region in ["leribe", "mafeteng", "maseru"] {
        assert_region_ok(&printed, region);
    }
}

#[tokio::test]
async fn a_missing_database_role_is_named_with_hmis_migrate_as_the_fix() {
    let mut settings = project_databases().await;
    // Roles belong to a cluster: this one is dropped on a cluster of the test's own.
    let _cluster = region_on_own_cluster(&mut settings, "leribe").await;
    for outcome in hmis::migrate::migrate_all(&settings, None).await {
        assert!(outcome.result.is_ok(), "{}: {:?}", outcome.target, outcome);
    }
    let leribe = settings.region("leribe").unwrap();
    let shard = sqlx::PgPool::connect(leribe.database_url.expose())
        .await
        .unwrap();
    for sql in ["DROP OWNED BY leribe_readonly", "DROP ROLE leribe_readonly"] {
        sqlx::query(sql).execute(&shard).await.unwrap();
    }
    shard.close().await;
    let (code, printed) = doctor(&settings).await;
    assert_eq!(code, Some(1), "{printed}");
    let (line, fix) = check(&printed, "FAIL", "region leribe", "roles");
    assert!(line.contains("missing: leribe_readonly"), "{line}");
    assert!(fix.contains("hmis migrate"), "{fix}");
    check(&printed, "ok", "region leribe", "migrations");
    for region in ["mafeteng", "maseru", "quthing"] {
        assert_region_ok(&printed, region);
    }
}

#[tokio::test]
async fn invalid_rules_are_named_with_file_and_reason_and_the_databases_are_still_checked() {
    let settings = healthy().await;
    let rules = pg::pg().base.join(format!("bad-rules{}", pg::unique()));
    std::fs::create_dir_all(&rules).unwrap();
    let bad = "[[rule]]\nname = \"nowhere\"\nentity = \"patient\"\nregion = \"atlantis\"\n";
    std::fs::write(rules.join("10-bad.toml"), bad).unwrap();
    let envs = vec![("HMIS_PATHS_RULES".to_owned(), rules.display().to_string())];
    let (code, printed) = doctor_with(&settings, envs).await;
    assert_eq!(code, Some(1), "{printed}");
    let (line, _) = check(&printed, "FAIL", "config", "rules");
    assert!(line.contains("invalid routing rules"), "{line}");
    // The rule engine's errors follow, indented, each naming its file.
    let errors: Vec<&str> = printed
        .lines()
        .skip_while(|l| !l.starts_with("FAIL  config: rules:"))
        .skip(1)
        .take_while(|l| l.starts_with("      ") && !l.trim_start().starts_with("fix:"))
        .collect();
    assert!(
        errors
            .iter()
            .any(|l| l.contains("10-bad.toml") && l.contains("atlantis")),
        "{printed}"
    );
    assert!(printed.contains("      fix: correct the rule files (`hmis rules check`"));
    for region in &settings.regions {
        assert_region_ok(&printed, &region.name);
    }
}

#[tokio::test]
async fn settings_that_cannot_load_exit_2_naming_the_file_and_check_no_database() {
    let missing = std::env::temp_dir().join(format!("hmis-no-regions-{}", std::process::id()));
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_hmis"))
            .arg("doctor")
            .env("HMIS_PATHS_REGIONS", &missing)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let printed = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(2), "{printed}");
    let (line, fix) = check(&printed, "FAIL", "config", "settings");
    assert!(
        line.contains("no-regions") && line.contains("cannot read"),
        "{line}"
    );
    assert!(fix.contains("no database was checked"), "{fix}");
    assert!(!printed.contains("central: reachable"), "{printed}");
}
