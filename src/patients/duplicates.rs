//! The duplicate check at registration: before a patient is created, the regions the clerk
//! may read are asked in parallel for likely matches (spelling variants of the names, a
//! close birth date, the same phone or national ID). Each region narrows its candidates
//! with indexed keys; [`crate::domain::duplicates`] scores them here. Every candidate
//! shown is a read of a patient record, and is audited in its region.

use super::model::{COLUMNS, Patient, PatientRow};
use crate::app::App;
use crate::authz::Action;
use crate::authz::kinds;
use crate::domain::duplicates::{self, Keyed, Person};
use crate::domain::patient::NewPatient;
use crate::http::{Actor, ApiError};
use crate::records::regions::{self, Asked, Need};
use crate::shards::{Conn, Shard};
use chrono::{Datelike, NaiveDate};
use futures_util::future::join_all;
use serde::Serialize;
use std::sync::LazyLock;
use uuid::Uuid;

/// A record that may be the person being registered.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Candidate {
    #[serde(flatten)]
    pub patient: Patient,
    /// 0 to 1.
    pub score: f64,
    /// What matched, in words.
    pub reasons: Vec<String>,
}

/// What the check found, and which regions it could not ask.
pub struct Found {
    pub candidates: Vec<Candidate>,
    pub unchecked: Vec<String>,
}

/// The most candidates shown: a clerk reads them one by one.
const SHOWN: usize = 10;

/// Candidates each key may bring at most, from each side of the birth date. A region of a
/// million patients holds thousands born within a year whose names start alike; the
/// nearest birth dates are the likeliest matches, and the walk stops after these.
const NEAR: i64 = 25;

/// What a candidate is compared by. The walks fetch only these: up to 22 walks of
/// [`NEAR`] rows each in a dense region, so whole rows would be most of a create's cost;
/// whole rows are read for the few that match.
const KEYS: &str = "id, given_name, family_name, birth_date, phone, national_id";

/// Live, unmerged patients sharing a key: national ID, phone, a name key with a birth
/// date within five years (estimated ages are rough), or a birth date within a year (or
/// with day and month swapped) and the first letters of a name. Each key is its own
/// short walk of an index (`migrations/shard/0008_search.sql`), outward from the
/// birth date, so the rows read do not grow with the region: see [`near`].
static CANDIDATES: LazyLock<String> = LazyLock::new(|| {
    let mut walks = vec![
        format!("(SELECT {KEYS} FROM patients WHERE national_id = $1 AND {LIVE} LIMIT {NEAR})"),
        format!("(SELECT {KEYS} FROM patients WHERE phone = $2 AND {LIVE} LIMIT {NEAR})"),
    ];
    for column in ["family_key", "given_key"] {
        for key in ["$3", "$4"] {
            walks.extend(near(&format!("{column} = {key}"), 1830));
            let prefix = format!("left({column}, 2) = left({key}, 2)");
            walks.extend(near(&prefix, 366));
            walks.push(format!(
                "(SELECT {KEYS} FROM patients WHERE {prefix} AND birth_date = $6 AND {LIVE} LIMIT {NEAR})"
            ));
        }
    }
    // A patient found by several keys comes once per key: [`in_region`] keeps one.
    walks.join(" UNION ALL ")
});

const LIVE: &str = "deleted_at IS NULL AND merged_into IS NULL";

/// The patients matching `key` born nearest the new one (`$5`), at most `days` apart: two
/// walks of the `(key, birth_date)` index, one each way, [`NEAR`] rows each. The window is
/// applied outside the walk: inside it, a two-sided range makes PostgreSQL's generic plan
/// (the one a prepared statement settles on) expect a few rows and fetch and sort all of
/// them instead of walking the index in order.
fn near(key: &str, days: u32) -> [String; 2] {
    let walk = |cmp: &str, order: &str, bound: &str| {
        format!(
            "(SELECT * FROM (SELECT {KEYS} FROM patients WHERE {key} AND {LIVE} \
               AND birth_date {cmp} $5::date ORDER BY birth_date {order} LIMIT {NEAR}) w \
               WHERE birth_date {bound})"
        )
    };
    [
        walk(">=", "ASC", &format!("<= $5::date + {days}")),
        walk("<", "DESC", &format!(">= $5::date - {days}")),
    ]
}

/// Who is asked for duplicates: regions where the clerk may read patients and see who
/// they are. None is no refusal: the check only helps, the create was authorized itself.
const SEERS: Need = Need {
    grants: &[
        (kinds::PATIENT, Action::Read),
        (kinds::PATIENT_IDENTITY, Action::Read),
    ],
    doing: "read who patients are",
    refuse_none: false,
};

/// Asks every region the actor may read patients' identities in.
pub async fn find(
    app: &App,
    actor: &Actor,
    p: &NewPatient,
    skip: &[Uuid],
) -> Result<Found, ApiError> {
    let regions = regions::for_actor(app, actor, &SEERS, Asked::Every).await?;
    let new = Keyed::new(Person {
        given_name: &p.given_name,
        family_name: &p.family_name,
        birth_date: p.birth_date,
        phone: p.phone.as_deref(),
        national_id: p.national_id.as_deref(),
    });
    let asked = join_all(
        regions
            .iter()
            .map(|s| in_region(app, actor, s, p, &new, skip)),
    )
    .await;
    let mut found = Found {
        candidates: Vec::new(),
        unchecked: Vec::new(),
    };
    for (shard, result) in regions.iter().zip(asked) {
        match result {
            Ok(mut c) => found.candidates.append(&mut c),
            Err(e) => {
                // The header names the region only; why it failed is for the log.
                let reason = crate::fanout::Reason::of(&e);
                tracing::warn!(region = shard.name(), %reason, error = %e, "duplicate check: a region did not answer");
                found.unchecked.push(shard.name().to_owned())
            }
        }
    }
    found.candidates.sort_by(|a, b| b.score.total_cmp(&a.score));
    found.candidates.truncate(SHOWN);
    Ok(found)
}

async fn in_region(
    app: &App,
    actor: &Actor,
    shard: &Shard,
    p: &NewPatient,
    new: &Keyed<'_>,
    skip: &[Uuid],
) -> Result<Vec<Candidate>, crate::shards::ShardError> {
    let keys = new.keys().map(str::to_owned);
    let swapped = swapped(p.birth_date);
    let rows = shard
        .read(|c| {
            let (keys, p) = (keys.clone(), p.clone());
            Box::pin(async move { query(c, &p, &keys, swapped).await })
        })
        .await?;
    let mut seen = std::collections::HashSet::new();
    let mut matched = std::collections::HashMap::new();
    for row in &rows {
        let id: Uuid = row.get(0);
        if skip.contains(&id) || !seen.insert(id) {
            continue;
        }
        let existing = Person {
            given_name: row.get(1),
            family_name: row.get(2),
            birth_date: row.get(3),
            phone: row.get(4),
            national_id: row.get(5),
        };
        if let Some(m) = duplicates::compare_keyed(new, &existing) {
            matched.insert(id, m);
        }
    }
    if matched.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = matched.keys().copied().collect();
    let whole = shard
        .read(|c| {
            let ids = ids.clone();
            Box::pin(async move { whole_rows(c, &ids).await })
        })
        .await?;
    let line = actor
        .line(&app.authz, shard.name(), "duplicate check")
        .await;
    // Shown only once its audit line is written.
    let written = join_all(
        whole
            .iter()
            .map(|row| app.audit.record(line.clone(), Some(row.id), "ok")),
    )
    .await;
    let mut out = Vec::new();
    for (row, written) in whole.into_iter().zip(written) {
        if let (Ok(()), Some(m)) = (written, matched.remove(&row.id)) {
            out.push(Candidate {
                patient: row.into_api(shard.name(), shard.settings.tz(), true),
                score: m.score,
                reasons: m.reasons,
            });
        }
    }
    Ok(out)
}

async fn query(
    c: &impl Conn,
    p: &NewPatient,
    keys: &[String; 2],
    swapped: Option<NaiveDate>,
) -> Result<Vec<tokio_postgres::Row>, tokio_postgres::Error> {
    let stmt = c.prepared(&CANDIDATES).await?;
    c.client()
        .query(
            &stmt,
            &[
                &p.national_id,
                &p.phone,
                &keys[0],
                &keys[1],
                &p.birth_date,
                &swapped,
            ],
        )
        .await
}

/// The whole rows of the candidates that matched (still live: a merge may have come
/// between the two statements).
async fn whole_rows(c: &impl Conn, ids: &[Uuid]) -> Result<Vec<PatientRow>, tokio_postgres::Error> {
    static WHOLE: LazyLock<String> =
        LazyLock::new(|| format!("SELECT {COLUMNS} FROM patients WHERE id = ANY($1) AND {LIVE}"));
    let stmt = c.prepared(&WHOLE).await?;
    let rows = c.client().query(&stmt, &[&ids]).await?;
    Ok(rows.iter().map(PatientRow::from_row).collect())
}

/// The birth date with day and month swapped, when that is a different valid date.
fn swapped(d: NaiveDate) -> Option<NaiveDate> {
    (d.day() <= 12 && d.day() != d.month())
        .then(|| NaiveDate::from_ymd_opt(d.year(), d.day(), d.month()))
        .flatten()
}

/// The check a create runs: nothing when the request is a retry of a create that already
/// happened (its own record would look like a duplicate), 409 with the candidates when
/// any, otherwise the regions that could not be asked.
pub async fn before_create(
    app: &App,
    actor: &Actor,
    p: &NewPatient,
    confirmed: &[Uuid],
    key: Option<(&Shard, &str)>,
) -> Result<Vec<String>, ApiError> {
    if key_used(key).await? {
        return Ok(Vec::new());
    }
    let found = find(app, actor, p, confirmed).await?;
    if found.candidates.is_empty() {
        return Ok(found.unchecked);
    }
    // A concurrent retry may have created the record meanwhile: the key and the patient
    // commit together, so a candidate that is that record means the key is now taken.
    if key_used(key).await? {
        return Ok(Vec::new());
    }
    let candidates = serde_json::to_value(&found.candidates).map_err(anyhow::Error::from)?;
    Err(ApiError::PossibleDuplicates(candidates))
}

async fn key_used(key: Option<(&Shard, &str)>) -> Result<bool, crate::shards::ShardError> {
    let Some((shard, key)) = key else {
        return Ok(false);
    };
    let key = key.to_owned();
    shard
        .read(|c| {
            let key = key.clone();
            Box::pin(async move {
                let stmt = c
                    .prepared("SELECT 1 FROM idempotency_keys WHERE key = $1")
                    .await?;
                Ok(c.client().query_opt(&stmt, &[&key]).await?.is_some())
            })
        })
        .await
}
