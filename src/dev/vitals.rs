//! Demo vital signs for `hmis dev`: twelve weeks of readings for every demo patient, around
//! a baseline of their own (some hypertensive, some with a fever spell, a few with a
//! critical reading last week), judged by the same tables as the API's, with alerts for
//! the critical ones. Deterministic, like the patients.

use crate::clinical::vitals;
use crate::shards::Shard;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

/// Readings of one region, as the columns of one multi-row insert.
#[derive(Default)]
struct Columns {
    id: Vec<Uuid>,
    patient: Vec<Uuid>,
    set: Vec<Uuid>,
    code: Vec<String>,
    panel: Vec<Option<String>>,
    value: Vec<f64>,
    unit: Vec<String>,
    flag: Vec<String>,
    reason: Vec<Option<String>>,
    derived: Vec<bool>,
    taken_at: Vec<DateTime<Utc>>,
}

impl Columns {
    fn push(
        &mut self,
        p: Uuid,
        set: Uuid,
        at: DateTime<Utc>,
        m: vitals::Measurement,
        derived: bool,
    ) {
        let panel = [vitals::SYSTOLIC, vitals::DIASTOLIC].contains(&m.code);
        self.id.push(Uuid::now_v7());
        self.patient.push(p);
        self.set.push(set);
        self.code.push(m.code.to_owned());
        self.panel.push(panel.then(|| vitals::BP_PANEL.to_owned()));
        self.value.push(m.value);
        self.unit.push(m.unit.to_owned());
        self.flag.push(m.flag.as_str().to_owned());
        self.reason.push(m.reason);
        self.derived.push(derived);
        self.taken_at.push(at);
    }
}

/// Seeds the regions whose observations table is empty.
pub async fn seed(shards: &[&Shard], now: DateTime<Utc>) -> anyhow::Result<usize> {
    let mut total = 0;
    for shard in shards {
        let conn = shard.conn().await?;
        let empty: bool = conn
            .query_one("SELECT NOT EXISTS (SELECT 1 FROM observations)", &[])
            .await?
            .get(0);
        if !empty {
            continue;
        }
        let patients = conn
            .query(
                "SELECT id, birth_date FROM patients WHERE deleted_at IS NULL ORDER BY id",
                &[],
            )
            .await?;
        let mut rng = StdRng::seed_from_u64(u64::from(shard.settings.code));
        let mut cols = Columns::default();
        for p in &patients {
            history(&mut rng, &mut cols, p.get(0), p.get(1), now);
        }
        total += cols.id.len();
        insert(&conn, &cols).await?;
    }
    Ok(total)
}

async fn insert(conn: &deadpool_postgres::Object, c: &Columns) -> anyhow::Result<()> {
    conn.execute(
        "INSERT INTO observations (id, patient_id, set_id, code, panel, value, unit, entered_value,
             entered_unit, flag, flag_reason, derived, taken_at, recorded_by, recorded_at)
         SELECT i, p, s, c, pa, v, u, v, u, f, r, d, t, 'hmis-dev-seed', t
         FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::float8[],
                     $7::text[], $8::text[], $9::text[], $10::bool[], $11::timestamptz[])
              AS x(i, p, s, c, pa, v, u, f, r, d, t)",
        &[
            &c.id,
            &c.patient,
            &c.set,
            &c.code,
            &c.panel,
            &c.value,
            &c.unit,
            &c.flag,
            &c.reason,
            &c.derived,
            &c.taken_at,
        ],
    )
    .await?;
    conn.execute(
        "INSERT INTO alerts (id, patient_id, observation_id, code, value, unit, reason, raised_at)
         SELECT gen_random_uuid(), patient_id, id, code, value, unit, flag_reason, taken_at
         FROM observations WHERE flag = 'critical'",
        &[],
    )
    .await?;
    Ok(())
}

/// Twelve weeks of a patient's readings, every 3 to 10 days.
fn history(
    rng: &mut StdRng,
    cols: &mut Columns,
    patient: Uuid,
    birth: NaiveDate,
    now: DateTime<Utc>,
) {
    let age_days = (now.date_naive() - birth).num_days().max(1);
    let years = age_days as f64 / 365.25;
    let hypertensive = years > 35.0 && rng.random_bool(0.25);
    let (sys0, dia0) = if hypertensive {
        (155.0, 95.0)
    } else {
        (118.0, 76.0)
    };
    let hr0: f64 = if years < 1.0 {
        130.0
    } else if years < 6.0 {
        105.0
    } else {
        74.0
    };
    let rr0: f64 = if years < 1.0 {
        40.0
    } else if years < 6.0 {
        26.0
    } else {
        16.0
    };
    let height = if years < 18.0 {
        50.0 + 6.5 * years.min(17.0)
    } else {
        rng.random_range(150.0..182.0)
    };
    let mut weight = if years < 18.0 {
        3.5 + 2.6 * years
    } else {
        rng.random_range(48.0..95.0)
    };
    let critical_at = rng.random_bool(0.06).then(|| rng.random_range(1..7));
    let mut day = 84;
    let mut first = true;
    while day > 0 {
        let at = now - Duration::days(day) + Duration::minutes(rng.random_range(480..960));
        let set = Uuid::now_v7();
        let fever = rng.random_bool(0.08);
        let critical = critical_at.is_some_and(|d| day <= d && day + 10 > d);
        let mut put = |code: &str, value: f64, unit: &str| {
            if let Ok(m) = vitals::measure(code, value, unit, age_days) {
                cols.push(patient, set, at, m, false);
            }
        };
        put(
            "8867-4",
            (hr0 + rng.random_range(-8.0..8.0) + if fever { 18.0 } else { 0.0 }).round(),
            "/min",
        );
        put(
            "9279-1",
            (rr0 + rng.random_range(-3.0..3.0)).round(),
            "/min",
        );
        let spo2 = if critical {
            86.0
        } else {
            rng.random_range(95.0..99.5_f64).round()
        };
        put("2708-6", spo2, "%");
        let temp = if fever {
            rng.random_range(38.0..39.6)
        } else {
            rng.random_range(36.2..37.3)
        };
        put("8310-5", (temp * 10.0_f64).round() / 10.0, "Cel");
        if years >= 12.0 {
            put(
                "8480-6",
                (sys0 + rng.random_range(-10.0..12.0_f64)).round(),
                "mm[Hg]",
            );
            put(
                "8462-4",
                (dia0 + rng.random_range(-8.0..8.0_f64)).round(),
                "mm[Hg]",
            );
        }
        if (0.5..5.0).contains(&years) {
            put(
                "56072-2",
                (rng.random_range(11.0..15.5_f64) * 10.0).round() / 10.0,
                "cm",
            );
        }
        weight += rng.random_range(-0.4..0.4);
        put("29463-7", (weight * 10.0_f64).round() / 10.0, "kg");
        if first {
            put("8302-2", (height * 10.0_f64).round() / 10.0, "cm");
            first = false;
        }
        let bmi = vitals::bmi(
            (weight * 10.0_f64).round() / 10.0,
            (height * 10.0_f64).round() / 10.0,
            age_days,
        );
        cols.push(patient, set, at, bmi, true);
        day -= rng.random_range(3..=10);
    }
}
