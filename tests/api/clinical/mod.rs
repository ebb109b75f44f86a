//! Clinical records: vital signs, their history, the patient report, health record
//! numbers, the duplicate check and merges.

mod history;
mod identity;
mod notify;
mod report;
mod vitals;

use crate::helpers::{TestApp, patient};
use reqwest::Client;
use serde_json::Value;

/// An adult patient of `district` made by the admin (adult ranges apply); its JSON.
pub async fn new_patient(app: &TestApp, district: &str) -> Value {
    let mut body = patient(district);
    body["birth_date"] = serde_json::json!("1980-06-15");
    app.create_patient(&body).await
}

/// Posts a set of vitals as `client`; the status and the body.
pub async fn record(app: &TestApp, client: &Client, patient: &str, body: &Value) -> (u16, Value) {
    let response = client
        .post(app.url(&format!("/api/v1/patients/{patient}/observations")))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The stored observation of `code` in a recorded set.
pub fn of<'a>(set: &'a Value, code: &str) -> &'a Value {
    set["observations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["code"] == code)
        .unwrap_or_else(|| panic!("no {code} in {set}"))
}

/// Rows of `observations` in a region's database.
pub async fn observations_in(app: &TestApp, region: &str) -> i64 {
    let pool = app.shard(region).await;
    let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM observations")
        .fetch_one(&pool)
        .await
        .unwrap();
    pool.close().await;
    n
}

/// A listener on `region`'s events channel, where the shards' triggers NOTIFY at commit.
pub async fn events_of(app: &TestApp, region: &str) -> sqlx::postgres::PgListener {
    let shard = app.shard(region).await;
    let mut listener = sqlx::postgres::PgListener::connect_with(&shard)
        .await
        .unwrap();
    listener
        .listen(hmis::domain::notify::EVENTS_CHANNEL)
        .await
        .unwrap();
    listener
}
