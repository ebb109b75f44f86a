//! Planners' queries: `POST /api/v1/query` (here and in `refusals.rs`), its client
//! `hmis query` (`cli.rs`), and the central database's federated views (`federation.rs`).
//!
//! This file holds the helpers they share: asking a query and reading the streamed
//! answer, and each shard's own count of patients, straight from its database.

mod answers;
mod cli;
mod federation;
mod refusals;
mod streaming;

use crate::helpers::{TestApp, patient};
use reqwest::Client;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The answer to a query: status, content type, and the JSON lines (or the CSV text).
pub(super) struct Answer {
    pub status: u16,
    pub content_type: String,
    pub regions_header: String,
    pub text: String,
}

impl Answer {
    /// Every line as JSON; the summary is the last.
    pub fn lines(&self) -> Vec<Value> {
        self.text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }

    pub fn rows(&self) -> Vec<Value> {
        let mut lines = self.lines();
        let summary = lines.pop().expect("a summary line");
        assert!(summary.get("_summary").is_some(), "last line: {summary}");
        lines
    }

    pub fn summary(&self) -> Value {
        self.lines().pop().expect("a summary line")["_summary"].clone()
    }

    /// Region to its failure (`reason`, and `sqlstate`, `message`, `hint` when told),
    /// for every region that failed.
    pub fn failures(&self) -> BTreeMap<String, Value> {
        let summary = self.summary();
        summary["regions_failed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (f["region"].as_str().unwrap().to_owned(), f.clone()))
            .collect()
    }

    /// The problem document of a refusal.
    pub fn problem(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("{e}: {}", self.text))
    }
}

pub(super) async fn ask(app: &TestApp, client: &Client, body: Value) -> Answer {
    let response = client
        .post(app.url("/api/v1/query"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    let (status, content_type) = (response.status().as_u16(), header("content-type"));
    let regions_header = header("x-hmis-regions");
    Answer {
        status,
        content_type,
        regions_header,
        text: response.text().await.unwrap(),
    }
}

pub(super) async fn ask_sql(app: &TestApp, client: &Client, sql: &str) -> Answer {
    ask(app, client, json!({"sql": sql})).await
}

/// Six patients: two in Quthing, one in Maseru, three in Leribe (two districts), none in
/// Mafeteng, so that every region's count is different.
pub(super) async fn some_patients(app: &TestApp) {
    for district in [
        "Quthing",
        "Quthing",
        "Berea",
        "Leribe",
        "Leribe",
        "Mokhotlong",
    ] {
        app.create_patient(&patient(district)).await;
    }
}

/// Each region's `SELECT count(*) FROM patients`, asked of its database directly.
pub(super) async fn shard_counts(app: &TestApp) -> BTreeMap<String, i64> {
    let mut counts = BTreeMap::new();
    for region in &app.settings.regions {
        let pool = app.shard(&region.name).await;
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM patients")
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;
        counts.insert(region.name.clone(), n);
    }
    counts
}

/// Audit lines of planners' queries, per region.
pub(super) async fn query_audit_lines(app: &TestApp) -> BTreeMap<String, Vec<(String, String)>> {
    let mut lines = BTreeMap::new();
    for region in &app.settings.regions {
        let pool = app.shard(&region.name).await;
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT actor, coalesce(query_text, '') FROM audit_log
             WHERE object_kind = 'query' OR action LIKE '%query%' ORDER BY id",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        pool.close().await;
        lines.insert(region.name.clone(), rows);
    }
    lines
}
