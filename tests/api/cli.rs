//! The `hmis` command line, run as a real process: rule checks and explanations with
//! file-and-line errors, config errors, and `hmis migrate` against real databases.

use crate::helpers::{pg, project_databases};
use std::path::PathBuf;
use std::process::{Command, Output};

fn hmis(args: &[&str], envs: &[(String, String)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hmis"))
        .args(args)
        .envs(envs.iter().cloned())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A scratch folder holding `files`.
fn folder(files: &[(&str, &str)]) -> PathBuf {
    let dir = pg::pg().base.join(format!("files{}", pg::unique()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, body) in files {
        std::fs::write(dir.join(name), body).unwrap();
    }
    dir
}

const GOOD_RULES: &str = include_str!("../../routing-rules/10-patients.toml");

#[test]
fn rules_check_accepts_the_shipped_rules() {
    let out = hmis(&["rules", "check"], &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).starts_with("ok: "), "{}", text(&out));
}

#[test]
fn rules_check_lists_every_kind_of_error_with_file_and_line_and_fails() {
    let bad = r#"
[[rule]]
name = "quthing"
entity = "patient"
when = { district = { eq = "Quthing" } }
region = "qutihng"

[[rule]]
name = "everyone"
entity = "patient"
region = "maseru"

[[rule]]
name = "berea"
entity = "patient"
when = { district = { eq = "Berea" } }
region = "maseru"

[[rule]]
name = "everyone"
entity = "patient"
when = { colour = { eq = "blue" } }
region = "leribe"
"#;
    let rules = folder(&[
        ("10-bad.toml", bad),
        (
            "20-syntax.toml",
            "[[rule]]\nname = \"x\"\nentity = \"patient\"\nregion = \"quthing\"\nwhen = { district = { eq = \"A\", in = [\"B\"] } }\n",
        ),
    ]);
    let out = hmis(&["rules", "check", "--rules", rules.to_str().unwrap()], &[]);
    let msg = text(&out);
    assert!(!out.status.success(), "{msg}");
    for expected in [
        "10-bad.toml:6: ", // the unknown region, on its line
        "unknown region \"qutihng\"",
        "\"berea\"",        // shadowed by the catch-all ...
        "\"everyone\"",     // ... which also appears twice
        "colour",           // unknown field
        "20-syntax.toml:5", // a condition with two keys
    ] {
        assert!(msg.contains(expected), "missing {expected:?} in:\n{msg}");
    }
    assert!(msg.contains("can never apply"), "{msg}");
    assert!(msg.contains("is used twice"), "{msg}");
}

#[test]
fn rules_check_reports_a_district_that_no_rule_covers() {
    let without_leribe: String = GOOD_RULES
        .split("[[rule]]")
        .filter(|r| !r.contains("region = \"leribe\""))
        .collect::<Vec<_>>()
        .join("[[rule]]");
    let rules = folder(&[("10-patients.toml", &without_leribe)]);
    let out = hmis(&["rules", "check", "--rules", rules.to_str().unwrap()], &[]);
    assert!(!out.status.success());
    assert!(text(&out).contains("\"Mokhotlong\""), "{}", text(&out));
}

#[test]
fn rules_explain_names_the_region_the_rule_and_why_earlier_rules_did_not_match() {
    let out = hmis(
        &[
            "rules",
            "explain",
            "--entity",
            "patient",
            "--set",
            "district=Butha-Buthe",
        ],
        &[],
    );
    let msg = text(&out);
    assert!(out.status.success(), "{msg}");
    assert!(msg.contains("leribe"), "{msg}");
    assert!(
        msg.contains("not one of") || msg.contains("not \"Quthing\""),
        "{msg}"
    );
    let out = hmis(
        &[
            "rules",
            "explain",
            "--entity",
            "patient",
            "--set",
            "district=Narnia",
        ],
        &[],
    );
    assert!(
        !out.status.success(),
        "an unplaced record is a failure: {}",
        text(&out)
    );
}

#[test]
fn a_region_file_with_an_unknown_key_is_refused_naming_the_file_line_and_key() {
    let region = "name = \"quthing\"\ndisplay_name = \"Quthing\"\ncode = 1\ndistricts = [\"Quthing\"]\ndatabase_url = \"postgresql://x@y/z\"\npool_sise = 3\n";
    let regions = folder(&[("quthing.toml", region)]);
    let out = hmis(
        &["rules", "check", "--regions", regions.to_str().unwrap()],
        &[],
    );
    let msg = text(&out);
    assert!(!out.status.success());
    assert!(
        msg.contains("quthing.toml") && msg.contains("line 6") && msg.contains("pool_sise"),
        "{msg}"
    );
}

#[tokio::test]
async fn migrate_is_idempotent_and_refuses_a_database_that_belongs_to_another_region() {
    let settings = project_databases().await;
    let url_var = |region: &str| format!("HMIS_REGION_{}_DATABASE_URL", region.to_uppercase());
    let mut envs = vec![(
        "HMIS_CENTRAL_URL".to_owned(),
        settings.file.central.url.expose().to_owned(),
    )];
    for r in &settings.regions {
        envs.push((url_var(&r.name), r.database_url.expose().to_owned()));
    }
    let migrate = |envs: Vec<(String, String)>| {
        tokio::task::spawn_blocking(move || hmis(&["migrate"], &envs))
    };
    for _ in 0..2 {
        let out = migrate(envs.clone()).await.unwrap();
        assert!(out.status.success(), "{}", text(&out));
        // Central, four regions, and the federated planning views.
        assert_eq!(
            text(&out).matches("up to date").count(),
            6,
            "{}",
            text(&out)
        );
    }
    // Point maseru at quthing's database: migrate must notice.
    let quthing = settings
        .region("quthing")
        .unwrap()
        .database_url
        .expose()
        .to_owned();
    for (k, v) in envs.iter_mut() {
        if *k == url_var("maseru") {
            *v = quthing.clone();
        }
    }
    let out = migrate(envs).await.unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out).contains("is the database of region quthing"),
        "{}",
        text(&out)
    );
    assert!(
        !text(&out).contains("hmis-test"),
        "no password in output: {}",
        text(&out)
    );
}

#[tokio::test]
async fn users_add_creates_the_first_admin_who_can_then_log_in_and_act_everywhere() {
    let settings = project_databases().await;
    let central = settings.file.central.url.expose().to_owned();
    let run = |args: Vec<&'static str>, stdin: &'static str| {
        let central = central.clone();
        tokio::task::spawn_blocking(move || {
            use std::io::Write;
            let mut child = Command::new(env!("CARGO_BIN_EXE_hmis"))
                .args(args)
                .env("HMIS_CENTRAL_URL", central)
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            child
                .stdin
                .take()
                .unwrap()
                .write_all(stdin.as_bytes())
                .unwrap();
            child.wait_with_output().unwrap()
        })
    };
    let out = run(
        vec![
            "users",
            "add",
            "boss",
            "--role",
            "system_admin",
            "--region",
            "*",
        ],
        "first-secret\n",
    )
    .await
    .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let out = run(vec!["users", "grant", "boss", "planner", "quthing"], "")
        .await
        .unwrap();
    assert!(
        !out.status.success(),
        "planner is an every-region role: {}",
        text(&out)
    );
    let out = run(vec!["users", "list"], "").await.unwrap();
    assert!(
        text(&out).contains("boss") && text(&out).contains("system_admin in *"),
        "{}",
        text(&out)
    );
    let app = crate::helpers::launch(settings).await;
    let boss = crate::helpers::bearer_client(&app.login("boss", "first-secret").await);
    let created = boss
        .post(app.url("/api/v1/patients"))
        .json(&crate::helpers::patient("Leribe"))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
}
