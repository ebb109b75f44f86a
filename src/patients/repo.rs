//! The patients table's SQL. Every statement is parameterized and prepared once per
//! connection (`prepare_cached`), so a read by ID is one round trip on a warm connection.

use super::model::{COLUMNS, PatientRow};
use super::total::Total;
use crate::audit::{self, Line};
use crate::domain::names::name_key;
use crate::domain::patient::NewPatient;
use crate::shards::Conn;
use deadpool_postgres::GenericClient;
use std::sync::LazyLock;
use uuid::Uuid;

pub type DbResult<T> = Result<T, tokio_postgres::Error>;

static GET: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {COLUMNS} FROM patients WHERE id = $1"));

pub async fn get(conn: &impl Conn, id: Uuid) -> DbResult<Option<PatientRow>> {
    let stmt = conn.prepared(&GET).await?;
    let row = conn.client().query_opt(&stmt, &[&id]).await?;
    Ok(row.as_ref().map(PatientRow::from_row))
}

/// What an insert with an idempotency key found.
pub enum Inserted {
    Created(Box<PatientRow>),
    /// The key was used before: the patient it created, and whether the request matched.
    Replayed {
        patient_id: Uuid,
        same_request: bool,
    },
}

/// Inserts a patient in `tx`; with a key, claims the key first in the same transaction so
/// that a concurrent retry waits for this one and then sees its result.
pub async fn insert(
    tx: &impl GenericClient,
    id: Uuid,
    p: &NewPatient,
    key: Option<(&str, &[u8])>,
    line: &Line,
) -> DbResult<Inserted> {
    if let Some((key, hash)) = key {
        let claim = tx
            .prepare_cached(
                "INSERT INTO idempotency_keys (key, request_sha256, patient_id) VALUES ($1, $2, $3)
                 ON CONFLICT (key) DO NOTHING RETURNING key",
            )
            .await?;
        if tx.query_opt(&claim, &[&key, &hash, &id]).await?.is_none() {
            let prior = tx
                .query_one(
                    "SELECT patient_id, request_sha256 FROM idempotency_keys WHERE key = $1",
                    &[&key],
                )
                .await?;
            let stored: Vec<u8> = prior.get(1);
            return Ok(Inserted::Replayed {
                patient_id: prior.get(0),
                same_request: stored == hash,
            });
        }
    }
    let sql = format!(
        "INSERT INTO patients (id, given_name, family_name, sex, birth_date, birth_date_estimated,
             district, village, facility, phone, national_id, given_key, family_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING {COLUMNS}"
    );
    let stmt = tx.prepare_cached(&sql).await?;
    let keys = name_keys(p);
    let row = tx.query_one(&stmt, &fields(&id, p, &keys)).await?;
    audit::write(tx, line, Some(id), "ok").await?;
    Ok(Inserted::Created(Box::new(PatientRow::from_row(&row))))
}

type Param<'a> = &'a (dyn tokio_postgres::types::ToSql + Sync);

/// The spelling-variant keys the duplicate check looks names up by.
fn name_keys(p: &NewPatient) -> [String; 2] {
    [name_key(&p.given_name), name_key(&p.family_name)]
}

/// $1 to $13 of the insert and the update: the ID, every field of the patient, the keys.
fn fields<'a>(id: &'a Uuid, p: &'a NewPatient, keys: &'a [String; 2]) -> [Param<'a>; 13] {
    [
        id,
        &p.given_name,
        &p.family_name,
        p.sex.as_static(),
        &p.birth_date,
        &p.birth_date_estimated,
        &p.district,
        &p.village,
        &p.facility,
        &p.phone,
        &p.national_id,
        &keys[0],
        &keys[1],
    ]
}

/// Locks the row for an update in `tx`.
pub async fn lock(tx: &impl GenericClient, id: Uuid) -> DbResult<Option<PatientRow>> {
    let sql = format!("SELECT {COLUMNS} FROM patients WHERE id = $1 FOR UPDATE");
    let stmt = tx.prepare_cached(&sql).await?;
    Ok(tx
        .query_opt(&stmt, &[&id])
        .await?
        .as_ref()
        .map(PatientRow::from_row))
}

pub async fn update(tx: &impl GenericClient, id: Uuid, p: &NewPatient) -> DbResult<PatientRow> {
    let sql = format!(
        "UPDATE patients SET given_name = $2, family_name = $3, sex = $4, birth_date = $5,
             birth_date_estimated = $6, district = $7, village = $8, facility = $9, phone = $10,
             national_id = $11, given_key = $12, family_key = $13, version = version + 1,
             updated_at = now()
         WHERE id = $1 RETURNING {COLUMNS}"
    );
    let stmt = tx.prepare_cached(&sql).await?;
    let keys = name_keys(p);
    let row = tx.query_one(&stmt, &fields(&id, p, &keys)).await?;
    Ok(PatientRow::from_row(&row))
}

pub async fn soft_delete(tx: &impl GenericClient, id: Uuid) -> DbResult<()> {
    let stmt = tx
        .prepare_cached(
            "UPDATE patients SET deleted_at = now(), version = version + 1, updated_at = now()
             WHERE id = $1",
        )
        .await?;
    tx.execute(&stmt, &[&id]).await.map(|_| ())
}

/// A search within one region. `tokens` are lower-case name prefixes (all must match the
/// given or the family name); `exact` is tried against phone, national ID and ID.
#[derive(Debug, Clone)]
pub struct Search {
    pub tokens: Vec<String>,
    pub phone: Option<String>,
    pub national_id: Option<String>,
    pub id: Option<Uuid>,
    pub limit: i64,
    pub offset: i64,
}

impl Search {
    /// Whether anything narrows the search (`$1` of [`MATCHES`]).
    pub fn filtered(&self) -> bool {
        !self.tokens.is_empty()
            || self.phone.is_some()
            || self.national_id.is_some()
            || self.id.is_some()
    }
}

/// Which live patients a search matches ($1: any filter at all; $2 name prefixes, each
/// of which must start the given or the family name; $3 phone; $4 national ID; $5
/// patient ID). Two texts, one per value of `$1`, so that each gets a plan of its own: a
/// list without a search reads the list orders' indexes (a generic plan, cached); a search
/// is planned for its words ([`super::total::statement`]), with the statistics of
/// `migrations/shard/0008_search.sql`: a rare name is a union of index range scans (the
/// first prefix on either name's `lower(...) text_pattern_ops` index, the others checked on
/// those rows), a common one a walk of the list order's index that stops after a page. In
/// one text, `NOT $1 OR ...` would leave the plan a scan of every patient.
pub fn matches(filtered: bool) -> String {
    if filtered {
        SEARCHED.replace("EVERY_TOKEN", EVERY_TOKEN)
    } else {
        UNFILTERED.to_owned()
    }
}

const SEARCHED: &str = "deleted_at IS NULL AND merged_into IS NULL AND $1::boolean AND (
       (lower(given_name) LIKE (($2::text[])[1] || '%') AND EVERY_TOKEN)
    OR (lower(family_name) LIKE (($2::text[])[1] || '%') AND EVERY_TOKEN)
    OR phone = $3 OR national_id = $4 OR id = $5)";

/// The `EVERY_TOKEN` of [`SEARCHED`]: every prefix starts one of the names.
const EVERY_TOKEN: &str =
    "(SELECT bool_and(lower(given_name) LIKE t || '%' OR lower(family_name) LIKE t || '%')
         FROM unnest($2::text[]) AS t)";

/// `$2` to `$5` are named only so that their types are known (the statement takes the same
/// parameters either way); a one-time filter, never evaluated per row.
const UNFILTERED: &str = "deleted_at IS NULL AND merged_into IS NULL AND NOT $1::boolean
    AND num_nulls($2::text[], $3::text, $4::text, $5::uuid) >= 0";

/// Names in byte order, the order of `patients_list_name_idx` (and of the lists across
/// regions), so that a search for a common prefix can walk that index and stop.
const NAME_ORDER: &str = r#"family_name COLLATE "C", given_name COLLATE "C", id"#;

/// One region's search: a page with an audit line for every patient on it (one
/// statement), and the total, sent together on the same connection.
struct SearchSql {
    page: String,
    total: [String; 2],
}

static SEARCH: LazyLock<[SearchSql; 2]> = LazyLock::new(|| {
    [false, true].map(|filtered| {
        let m = matches(filtered);
        SearchSql {
            page: format!(
                "WITH page AS (SELECT {COLUMNS} FROM {}
                               ORDER BY {NAME_ORDER} LIMIT $6 OFFSET $7),
                      a AS (INSERT INTO audit_log (actor, roles, action, object_kind, object_id, region, outcome, request_id)
                            SELECT $8, $9, 'search', 'patient', id, $10, 'ok', $11 FROM page)
                 SELECT * FROM page ORDER BY {NAME_ORDER}",
                super::total::source(&m, filtered)
            ),
            total: super::total::statements(&m, filtered),
        }
    })
});

/// One page of a search and the total number of matches.
pub async fn search(
    conn: &impl Conn,
    s: &Search,
    line: &Line,
) -> DbResult<(Vec<PatientRow>, Total)> {
    let filtered = s.filtered();
    let sql = &SEARCH[usize::from(filtered)];
    let stmt = super::total::statement(conn, &sql.page, filtered).await?;
    let matching: [&(dyn tokio_postgres::types::ToSql + Sync); 5] =
        [&filtered, &s.tokens, &s.phone, &s.national_id, &s.id];
    let mut params = matching.to_vec();
    params.extend([
        &s.limit as Param,
        &s.offset,
        &line.actor,
        &line.roles,
        &line.region,
        &line.request_id,
    ]);
    let (rows, total) = tokio::try_join!(
        conn.client().query(&stmt, &params),
        super::total::count(conn, &sql.total, &matching, filtered)
    )?;
    Ok((rows.iter().map(PatientRow::from_row).collect(), total))
}
