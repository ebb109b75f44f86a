//! The authorization matrix: every role against every endpoint, for a patient of the
//! role's own region (quthing) and one of another region (maseru). One table says what is
//! allowed; everything else must be a 403 that changed nothing. A second check makes sure
//! the table names every route the API describes, so a new endpoint cannot be forgotten.

use crate::helpers::{TestApp, patient, spawn_app};
use reqwest::{Client, Method};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Ep {
    Get,
    Patch,
    Delete,
    Create,
    Search,
    Audit,
    Record,
    Chart,
    Summary,
    Merge,
    /// A planner's query (`POST /api/v1/query`) naming the patient's region.
    Query,
    /// Searches that say who the patient is: `q` as a name, a phone number, a national ID;
    /// and the lookup by health record number (`?hrn=`).
    ByName,
    ByPhone,
    ByNationalId,
    ByHrn,
}

/// (path as the OpenAPI document spells it, method) of each endpoint in the matrix.
const ENDPOINTS: &[(Ep, &str, &str)] = &[
    (Ep::Get, "/api/v1/patients/{id}", "get"),
    (Ep::Patch, "/api/v1/patients/{id}", "patch"),
    (Ep::Delete, "/api/v1/patients/{id}", "delete"),
    (Ep::Create, "/api/v1/patients", "post"),
    (Ep::Search, "/api/v1/patients", "get"),
    (Ep::Audit, "/api/v1/patients/{id}/audit", "get"),
    (Ep::Record, "/api/v1/patients/{id}/observations", "post"),
    (Ep::Chart, "/api/v1/patients/{id}/observations", "get"),
    (Ep::Summary, "/api/v1/patients/{id}/summary", "get"),
    (Ep::Merge, "/api/v1/patients/{id}/merge", "post"),
    (Ep::Query, "/api/v1/query", "post"),
    (Ep::ByName, "/api/v1/patients", "get"),
    (Ep::ByPhone, "/api/v1/patients", "get"),
    (Ep::ByNationalId, "/api/v1/patients", "get"),
    (Ep::ByHrn, "/api/v1/patients", "get"),
];

/// Routes on an existing observation, alert or merge: the same `authorize` as the routes
/// above, checked against another region's nurse in the named tests.
const TESTED_ELSEWHERE: &[(&str, &str, &str)] = &[
    (
        "/api/v1/patients/{id}/observations/{observation_id}",
        "get",
        "clinical::vitals::a_nurse_of_another_region_may_neither_record_nor_read_vitals",
    ),
    (
        "/api/v1/patients/{id}/observations/{observation_id}",
        "patch",
        "clinical::vitals::a_nurse_of_another_region_may_neither_record_nor_read_vitals",
    ),
    (
        "/api/v1/patients/{id}/alerts/{alert_id}/acknowledge",
        "post",
        "clinical::vitals::a_nurse_of_another_region_may_neither_record_nor_read_vitals",
    ),
    (
        "/api/v1/patients/{id}/unmerge",
        "post",
        "clinical::identity::a_records_clerk_merges_two_records_of_one_person_and_can_undo_it",
    ),
    // Topics are authorized like the reads they stand for (`live::topics`).
    (
        "/api/v1/events",
        "get",
        "live::longpoll::a_quthing_nurse_polling_a_maseru_patient_gets_403_naming_the_topic_and_is_audited",
    ),
    // Needs rights in two regions; the matrix's users hold one.
    (
        "/api/v1/patients/{id}/transfer",
        "post",
        "transfer::a_transfer_is_refused_for_a_district_of_the_same_region_or_without_the_right",
    ),
];

/// Routes that are not about a region's records: open to anyone signed in (or to anyone).
const NOT_REGIONAL: &[(&str, &str)] = &[
    ("/api/v1/auth/login", "post"),
    ("/api/v1/auth/logout", "post"),
    ("/api/v1/auth/me", "get"),
    // The configured regions, their districts and time zones: the same for everyone.
    ("/api/v1/regions", "get"),
    ("/api/v1/routing/explain", "get"),
    ("/healthz", "get"),
    ("/readyz", "get"),
    // The admin API is authorized per region of the grant, not per record: see admin.rs.
    ("/api/v1/admin/users", "get"),
    ("/api/v1/admin/users", "post"),
    ("/api/v1/admin/users/{username}/grants", "post"),
    ("/api/v1/admin/users/{username}/grants", "delete"),
    ("/api/v1/admin/users/{username}/disable", "post"),
    ("/api/v1/admin/users/{username}/enable", "post"),
    ("/api/v1/admin/policies", "get"),
    ("/api/v1/admin/policies", "post"),
    ("/api/v1/admin/policies", "delete"),
    // Statistics are authorized per region asked (kind `stats`): see stats.rs.
    ("/api/v1/stats/patients", "get"),
    ("/api/v1/stats/observations", "get"),
    // Notifications are the reader's own, whatever the region: see notifications.rs.
    ("/api/v1/notifications", "get"),
    ("/api/v1/notifications/{id}/read", "post"),
    ("/api/v1/notifications/read-all", "post"),
];

use Ep::*;

mod oracles;

/// (user, role, region, allowed in own region, allowed in the other region)
type Row = (
    &'static str,
    &'static str,
    &'static str,
    &'static [Ep],
    &'static [Ep],
);

/// Kept one role to a row: the table is read, not scrolled.
#[rustfmt::skip]
const MATRIX: &[Row] = &[
    ("m.nurse", "nurse", "quthing",
        &[Get, Patch, Create, Search, Record, Chart, Summary, ByName, ByPhone, ByNationalId, ByHrn],
        &[]),
    ("m.clinician", "clinician", "quthing",
        &[Get, Patch, Create, Search, Record, Chart, Summary, ByName, ByPhone, ByNationalId, ByHrn],
        &[]),
    ("m.clerk", "records_clerk", "quthing",
        &[Get, Patch, Delete, Create, Search, Chart, Summary, Merge, ByName, ByPhone, ByNationalId,
          ByHrn],
        &[]),
    ("m.radmin", "regional_admin", "quthing",
        &[Get, Patch, Delete, Create, Search, Audit, Record, Chart, Summary, Merge, Query, ByName,
          ByPhone, ByNationalId, ByHrn],
        &[]),
    // Planners read everywhere, but nothing that says who a patient is: not even whether
    // someone of a given name, phone, national ID or record number is registered.
    ("m.planner", "planner", "*",
        &[Get, Search, Chart, Summary, Query],
        &[Get, Search, Chart, Summary, Query]),
    ("m.sysadmin", "system_admin", "*",
        &[Get, Patch, Delete, Create, Search, Audit, Record, Chart, Summary, Merge, Query, ByName,
          ByPhone, ByNationalId, ByHrn],
        &[Get, Patch, Delete, Create, Search, Audit, Record, Chart, Summary, Merge, Query, ByName,
          ByPhone, ByNationalId, ByHrn]),
    ("m.nobody", "", "", &[], &[]),
];

async fn client_for(app: &TestApp, user: &str, role: &str, region: &str) -> Client {
    if role.is_empty() {
        let central = app.central().await;
        hmis::auth::users::create(&central, user, crate::helpers::PASSWORD, "")
            .await
            .unwrap();
        return crate::helpers::bearer_client(&app.login(user, crate::helpers::PASSWORD).await);
    }
    app.user(user, role, region).await
}

/// Sends `ep` against a fresh patient of `district` (made by the admin) and returns the
/// status and the patient's version afterwards, as the admin reads it.
async fn attempt(app: &TestApp, client: &Client, ep: Ep, district: &str) -> (u16, Option<i64>) {
    let created = app.create_patient(&identified(district)).await;
    let id = created["id"].as_str().unwrap();
    let region = created["region"].as_str().unwrap();
    let by = |q: &Value| {
        (
            Method::GET,
            format!("/api/v1/patients?region={region}&q={}", q.as_str().unwrap()),
            None,
        )
    };
    let (method, path, body) = match ep {
        Get => (Method::GET, format!("/api/v1/patients/{id}"), None),
        Patch => (
            Method::PATCH,
            format!("/api/v1/patients/{id}"),
            Some(serde_json::json!({"village": "Ha Matrix"})),
        ),
        Delete => (Method::DELETE, format!("/api/v1/patients/{id}"), None),
        Create => (
            Method::POST,
            "/api/v1/patients".into(),
            Some(patient(district)),
        ),
        Search => (
            Method::GET,
            format!("/api/v1/patients?region={region}"),
            None,
        ),
        Audit => (Method::GET, format!("/api/v1/patients/{id}/audit"), None),
        Record => (
            Method::POST,
            format!("/api/v1/patients/{id}/observations"),
            Some(serde_json::json!({"vitals": [{"code": "8867-4", "value": 70, "unit": "/min"}]})),
        ),
        Chart => (
            Method::GET,
            format!("/api/v1/patients/{id}/observations?code=8867-4"),
            None,
        ),
        Summary => (Method::GET, format!("/api/v1/patients/{id}/summary"), None),
        Merge => {
            let mut body = patient(district);
            body["not_duplicate_of"] = serde_json::json!([id]);
            let other = app.create_patient(&body).await;
            let merge = serde_json::json!({"duplicate": other["id"], "reason": "matrix"});
            (
                Method::POST,
                format!("/api/v1/patients/{id}/merge"),
                Some(merge),
            )
        }
        Query => (
            Method::POST,
            "/api/v1/query".into(),
            Some(
                serde_json::json!({"sql": "SELECT count(*) AS n FROM patients", "regions": [region]}),
            ),
        ),
        ByName => by(&created["family_name"]),
        ByPhone => by(&created["phone"]),
        ByNationalId => by(&created["national_id"]),
        ByHrn => (
            Method::GET,
            format!("/api/v1/patients?hrn={}", created["hrn"].as_str().unwrap()),
            None,
        ),
    };
    let mut request = client
        .request(method, app.url(&path))
        .header("if-match", "\"1\"");
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    if status == 403 {
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["type"], "urn:hmis:problem:forbidden", "{problem}");
    }
    let (_, after) = app.get_json(&format!("/api/v1/patients/{id}")).await;
    (status, after["version"].as_i64())
}

/// A patient with a phone number and a national ID of their own, so that a search by
/// either finds exactly them.
fn identified(district: &str) -> Value {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let mut body = patient(district);
    body["phone"] = serde_json::json!(format!("6{n:07}"));
    body["national_id"] = serde_json::json!(format!("MX-{n}"));
    body
}

#[tokio::test]
async fn every_role_may_do_exactly_what_the_matrix_allows_in_its_own_and_another_region() {
    let app = spawn_app().await;
    let mut failures = Vec::new();
    for (user, role, region, own, other) in MATRIX {
        let client = client_for(&app, user, role, region).await;
        for (district, allowed) in [("Quthing", *own), ("Maseru", *other)] {
            for (ep, _, _) in ENDPOINTS {
                let (status, version) = attempt(&app, &client, *ep, district).await;
                let expected_ok = allowed.contains(ep);
                let ok = (200..300).contains(&status);
                if ok != expected_ok || (!ok && status != 403) {
                    failures.push(format!("{user} ({role}) {ep:?} in {district}: {status}"));
                }
                if !ok && version != Some(1) {
                    failures.push(format!(
                        "{user} {ep:?} in {district} was refused but changed the record"
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "matrix violations:\n{}",
        failures.join("\n")
    );
}

#[tokio::test]
async fn the_matrix_names_every_route_of_the_api() {
    let app = spawn_app().await;
    let (_, doc) = app.get_json("/api/v1/openapi.json").await;
    let mut missing = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let known = ENDPOINTS.iter().any(|(_, p, m)| p == path && m == method)
                || NOT_REGIONAL.iter().any(|(p, m)| p == path && m == method)
                || TESTED_ELSEWHERE
                    .iter()
                    .any(|(p, m, _)| p == path && m == method);
            if !known {
                missing.push(format!("{method} {path}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "add these to the authorization matrix: {missing:?}"
    );
}
