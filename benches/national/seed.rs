//! Seeding a region fast: binary COPY of patients, one `create` audit line each (as hmis
//! writes with every create) and vital signs for a tenth of them, with the secondary
//! indexes dropped during the load and rebuilt afterwards from their own definitions
//! (so the schema stays exactly what the migrations made), then VACUUM, ANALYZE and CHECKPOINT.
//!
//! The COPY runs with `session_replication_role = replica`, which skips the triggers:
//! the seeder therefore writes what they would have written itself (the HRN, from
//! `hmis::domain::hrn`, then moves `patient_hrn_seq` past it; the name keys through
//! `name_key`). The one thing left out is the change log: a million `insert` events
//! that the pruner would have removed long ago on a real register.

use super::people::{Person, person};
use chrono::{DateTime, Duration, Utc};
use futures_util::pin_mut;
use hmis::domain::names::name_key;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{Client, NoTls};
use uuid::Uuid;

/// Tables COPY fills, whose secondary indexes are rebuilt after the load.
const TABLES: &[&str] = &["patients", "audit_log", "observations"];

/// What seeding one region produced.
pub struct Seeded {
    pub rows: u64,
}

pub async fn region(
    url: &str,
    name: &str,
    code: u16,
    districts: &[String],
    n: usize,
) -> anyhow::Result<Seeded> {
    let (client, conn) = tokio_postgres::connect(url, NoTls).await?;
    tokio::spawn(conn);
    client
        .batch_execute(
            "SET session_replication_role = replica; SET maintenance_work_mem = '256MB';
             SET synchronous_commit = off",
        )
        .await?;
    let indexes = drop_indexes(&client).await?;
    let mut rng = StdRng::seed_from_u64(u64::from(code));
    let today = Utc::now().date_naive();
    let people: Vec<Person> = (0..n as u64)
        .map(|seq| person(&mut rng, districts, code, seq, today))
        .collect();
    let ids: Vec<Uuid> = people
        .iter()
        .map(|_| hmis::domain::PatientId::new(code).uuid())
        .collect();
    let created: Vec<DateTime<Utc>> = people
        .iter()
        .map(|_| Utc::now() - Duration::seconds(rng.random_range(0..5 * 365 * 86_400)))
        .collect();
    let mut rows = copy_patients(&client, code, &people, &ids, &created).await?;
    rows += copy_audit(&client, name, &ids, &created).await?;
    rows += copy_observations(&client, &ids, &created, &mut rng).await?;
    client
        .execute(
            "SELECT setval('patient_hrn_seq', $1)",
            &[&(n.max(1) as i64)],
        )
        .await?;
    for def in &indexes {
        client.batch_execute(def).await?;
    }
    // VACUUM too: else autovacuum visits the new million rows during the first cells, and
    // index-only scans (list pages, counts) find no page marked all-visible.
    // One statement per call: several in one simple query run as one transaction block,
    // where VACUUM is refused.
    client.batch_execute("VACUUM (ANALYZE)").await?;
    client.batch_execute("CHECKPOINT").await?;
    Ok(Seeded { rows })
}

/// Drops the secondary indexes of [`TABLES`] and returns their definitions.
async fn drop_indexes(client: &Client) -> anyhow::Result<Vec<String>> {
    let rows = client
        .query(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
             FROM pg_index i WHERE i.indrelid::regclass::text = ANY($1) AND NOT i.indisprimary",
            &[&TABLES],
        )
        .await?;
    let mut defs = Vec::new();
    for r in rows {
        let (name, def): (String, String) = (r.get(0), r.get(1));
        client.batch_execute(&format!("DROP INDEX {name}")).await?;
        defs.push(def);
    }
    Ok(defs)
}

async fn copy_patients(
    client: &Client,
    code: u16,
    people: &[Person],
    ids: &[Uuid],
    created: &[DateTime<Utc>],
) -> anyhow::Result<u64> {
    let sink = client
        .copy_in(
            "COPY patients (id, given_name, family_name, sex, birth_date, birth_date_estimated,
                 district, village, phone, national_id, created_at, updated_at, hrn, given_key,
                 family_key) FROM STDIN BINARY",
        )
        .await?;
    let t = [
        Type::UUID,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::DATE,
        Type::BOOL,
    ];
    let types = [
        &t[..],
        &[Type::TEXT; 4],
        &[Type::TIMESTAMPTZ; 2],
        &[Type::TEXT; 3],
    ]
    .concat();
    let writer = BinaryCopyInWriter::new(sink, &types);
    pin_mut!(writer);
    for (seq, ((p, id), at)) in people.iter().zip(ids).zip(created).enumerate() {
        let hrn = hmis::domain::hrn::Hrn::new(code as u8, seq as u32 + 1)?.to_string();
        let keys = (name_key(&p.given_name), name_key(&p.family_name));
        let row: [&(dyn ToSql + Sync); 15] = [
            id,
            &p.given_name,
            &p.family_name,
            &p.sex,
            &p.birth_date,
            &p.birth_date_estimated,
            &p.district,
            &p.village,
            &p.phone,
            &p.national_id,
            at,
            at,
            &hrn,
            &keys.0,
            &keys.1,
        ];
        writer.as_mut().write(&row).await?;
    }
    Ok(writer.finish().await?)
}

/// The `create` line hmis writes with every patient, so that the audit table and its
/// index have the size a real register's have.
async fn copy_audit(
    client: &Client,
    region: &str,
    ids: &[Uuid],
    at: &[DateTime<Utc>],
) -> anyhow::Result<u64> {
    let sink = client
        .copy_in(
            "COPY audit_log (at, actor, roles, action, object_kind, object_id, region, outcome)
             FROM STDIN BINARY",
        )
        .await?;
    let mut types = vec![Type::TIMESTAMPTZ];
    types.extend([Type::TEXT; 4]);
    types.extend([Type::UUID, Type::TEXT, Type::TEXT]);
    let writer = BinaryCopyInWriter::new(sink, &types);
    pin_mut!(writer);
    let (actor, roles) = (format!("clerk.{region}"), "records_clerk".to_owned());
    for (id, at) in ids.iter().zip(at) {
        let row: [&(dyn ToSql + Sync); 8] = [
            at, &actor, &roles, &"create", &"patient", id, &region, &"ok",
        ];
        writer.as_mut().write(&row).await?;
    }
    Ok(writer.finish().await?)
}

/// Weight, heart rate and temperature, taken together, for every tenth patient.
async fn copy_observations(
    client: &Client,
    ids: &[Uuid],
    created: &[DateTime<Utc>],
    rng: &mut StdRng,
) -> anyhow::Result<u64> {
    use hmis::clinical::vitals::{self, HEART_RATE, TEMPERATURE, WEIGHT};
    let sink = client
        .copy_in(
            "COPY observations (id, patient_id, set_id, code, value, unit, entered_value,
                 entered_unit, flag, taken_at, recorded_by, recorded_at) FROM STDIN BINARY",
        )
        .await?;
    let mut types = vec![Type::UUID; 3];
    types.extend([
        Type::TEXT,
        Type::FLOAT8,
        Type::TEXT,
        Type::FLOAT8,
        Type::TEXT,
        Type::TEXT,
    ]);
    types.extend([Type::TIMESTAMPTZ, Type::TEXT, Type::TIMESTAMPTZ]);
    let writer = BinaryCopyInWriter::new(sink, &types);
    pin_mut!(writer);
    for (id, registered) in ids.iter().zip(created).step_by(10) {
        let set = Uuid::now_v7();
        let taken = *registered + Duration::minutes(rng.random_range(5..60));
        for (code, low, high) in [
            (WEIGHT, 8.0, 90.0),
            (HEART_RATE, 55.0, 110.0),
            (TEMPERATURE, 36.0, 37.6),
        ] {
            let unit = vitals::def(code).map_or("", |d| d.unit);
            let value: f64 = (rng.random_range(low..high) * 10.0_f64).round() / 10.0;
            let row: [&(dyn ToSql + Sync); 12] = [
                &Uuid::now_v7(),
                id,
                &set,
                &code,
                &value,
                &unit,
                &value,
                &unit,
                &"normal",
                &taken,
                &"nurse.seed",
                &taken,
            ];
            writer.as_mut().write(&row).await?;
        }
    }
    Ok(writer.finish().await?)
}
