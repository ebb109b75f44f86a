//! `hmis query`, run as a real process against a spawned hmis: the same counts as the
//! shards' in each format, exit code 2 with the failed regions on stderr, and 1 with the
//! problem's detail when hmis refuses.

use super::{shard_counts, some_patients};
use crate::helpers::{PASSWORD, spawn_app};
use std::collections::BTreeMap;
use std::process::Output;

async fn hmis_query(args: &[&str]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_hmis"))
        .arg("query")
        .args(args)
        .env_remove("HMIS_TOKEN")
        .env_remove("HMIS_URL")
        .env("RUST_LOG", "warn")
        .output()
        .await
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test]
async fn hmis_query_prints_each_regions_count_as_a_table_csv_or_json() {
    let app = spawn_app().await;
    some_patients(&app).await;
    app.user("p.cli", "planner", "*").await;
    let token = app.login("p.cli", PASSWORD).await;
    let expected = shard_counts(&app).await;
    let sql = "SELECT count(*) AS n FROM patients";
    let common = ["--url", app.address.as_str(), "--token", token.as_str()];

    let table = hmis_query(&[&[sql][..], &common].concat()).await;
    assert_eq!(table.status.code(), Some(0), "{}", stderr(&table));
    let text = stdout(&table);
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap().split_whitespace().collect::<Vec<_>>(),
        ["region", "n"]
    );
    assert!(lines.next().unwrap().starts_with("-------"), "{text}");
    let counts: BTreeMap<String, i64> = lines
        .map(|l| {
            let cells: Vec<&str> = l.split_whitespace().collect();
            (cells[0].to_owned(), cells[1].parse().unwrap())
        })
        .collect();
    assert_eq!(counts, expected, "{text}");

    let csv = hmis_query(&[&[sql, "--format", "csv"][..], &common].concat()).await;
    let text = stdout(&csv);
    let mut records: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(records.remove(0), "region,n");
    let counts: BTreeMap<String, i64> = records
        .iter()
        .map(|r| {
            let (region, n) = r.split_once(',').unwrap();
            (region.to_owned(), n.parse().unwrap())
        })
        .collect();
    assert_eq!(counts, expected, "{text}");

    let one = hmis_query(
        &[
            &[sql, "--format", "json", "--region", "leribe"][..],
            &common,
        ]
        .concat(),
    )
    .await;
    assert_eq!(
        stdout(&one),
        "{\"region\":\"leribe\",\"n\":3}\n",
        "{}",
        stderr(&one)
    );
}

#[tokio::test]
async fn hmis_query_exits_2_naming_failed_regions_and_1_when_hmis_refuses() {
    let app = spawn_app().await;
    app.user("p.cli2", "planner", "*").await;
    let token = app.login("p.cli2", PASSWORD).await;
    let common = ["--url", app.address.as_str(), "--token", token.as_str()];

    let failed = hmis_query(&[&["SELECT given_name FROM patients"][..], &common].concat()).await;
    assert_eq!(failed.status.code(), Some(2), "{}", stderr(&failed));
    let errors = stderr(&failed);
    for region in ["quthing", "maseru", "mafeteng", "leribe"] {
        assert!(
            errors.contains(&format!(
                "failed: {region}: refused (42703): column \"given_name\" does not exist"
            )),
            "{errors}"
        );
    }

    let refused = hmis_query(&[&["DELETE FROM patients"][..], &common].concat()).await;
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("422") && stderr(&refused).contains("sql: is a DELETE"),
        "{}",
        stderr(&refused)
    );

    let anonymous = hmis_query(&["SELECT 1", "--url", &app.address, "--token", "nonsense"]).await;
    assert_eq!(anonymous.status.code(), Some(1));
    assert!(stderr(&anonymous).contains("401"), "{}", stderr(&anonymous));

    let unusable = hmis_query(&["SELECT 1", "--format", "xml"]).await;
    assert_eq!(
        unusable.status.code(),
        Some(1),
        "a usage error is not a failed region"
    );

    let tokenless = hmis_query(&["SELECT 1", "--url", &app.address]).await;
    assert_eq!(tokenless.status.code(), Some(1));
    assert!(
        stderr(&tokenless).contains("HMIS_TOKEN"),
        "{}",
        stderr(&tokenless)
    );
}
