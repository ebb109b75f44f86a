//! Row counts of every region, read straight from the databases between requests, so that
//! a refused request can be shown to have left nothing behind and an accepted create its
//! row and its audit line together.

use crate::helpers::TestApp;
use std::collections::BTreeMap;

/// The tables a request may write, in the order of [`Counts`]' columns.
pub const TABLES: [&str; 4] = ["patients", "observations", "audit_log", "change_log"];

/// Per region, the row count of each of [`TABLES`].
pub type Counts = BTreeMap<String, [i64; 4]>;

pub struct Ledger {
    pools: Vec<(String, sqlx::PgPool)>,
}

impl Ledger {
    pub async fn open(app: &TestApp) -> Ledger {
        let mut pools = Vec::new();
        for r in &app.settings.regions {
            pools.push((r.name.clone(), app.shard(&r.name).await));
        }
        Ledger { pools }
    }

    pub async fn counts(&self) -> Counts {
        let sql = format!(
            "SELECT {}",
            TABLES
                .map(|t| format!("(SELECT count(*) FROM {t})"))
                .join(", ")
        );
        let each = self.pools.iter().map(|(name, pool)| {
            let sql = sql.clone();
            async move {
                let row: (i64, i64, i64, i64) = sqlx::query_as(&sql).fetch_one(pool).await.unwrap();
                (name.clone(), [row.0, row.1, row.2, row.3])
            }
        });
        futures_util::future::join_all(each)
            .await
            .into_iter()
            .collect()
    }

    /// The counts once they stop changing: work an accepted request started after its
    /// answer (a transfer's remaining steps) must not be blamed on the next request.
    pub async fn settled(&self) -> Counts {
        let mut last = self.counts().await;
        for _ in 0..50 {
            tokio::time::sleep(std::time::Duration::from_millis(40)).await;
            let now = self.counts().await;
            if now == last {
                return now;
            }
            last = now;
        }
        last
    }
}

/// Each changed count as `region.table: before -> after`.
pub fn changes(before: &Counts, after: &Counts) -> Vec<String> {
    let mut out = Vec::new();
    for (region, b) in before {
        let a = after[region];
        for (i, table) in TABLES.iter().enumerate() {
            if a[i] != b[i] {
                out.push(format!("{region}.{table}: {} -> {}", b[i], a[i]));
            }
        }
    }
    out
}

/// Whether an accepted create left exactly one new row of `table` (index into
/// [`TABLES`]), in one region, with its audit line and change-log entry beside it.
pub fn created_with_audit(before: &Counts, after: &Counts, table: usize) -> Result<(), String> {
    let grew: Vec<&String> = before
        .keys()
        .filter(|r| after[*r][table] > before[*r][table])
        .collect();
    let [region] = grew[..] else {
        return Err(format!("{} grew in {grew:?}", TABLES[table]));
    };
    let (b, a) = (before[region], after[region]);
    if a[2] <= b[2] {
        return Err(format!("no audit line in {region} beside the new row"));
    }
    if a[3] <= b[3] {
        return Err(format!(
            "no change-log entry in {region} beside the new row"
        ));
    }
    Ok(())
}

impl Ledger {
    /// Whether a refused request's only trace is what the audit trail is for: one line, in
    /// one region, recording an attempt on a real record that did not succeed (a read of an
    /// observation the patient does not have is on record as `not_found`).
    pub async fn refused_attempt_on_record(
        &self,
        before: &Counts,
        after: &Counts,
    ) -> Result<(), String> {
        let changed: Vec<(&String, usize)> = before
            .keys()
            .flat_map(|r| (0..TABLES.len()).map(move |t| (r, t)))
            .filter(|(r, t)| before[*r][*t] != after[*r][*t])
            .collect();
        let [(region, 2)] = changed[..] else {
            return Err(format!("wrote {:?}", changes(before, after)));
        };
        if after[region][2] != before[region][2] + 1 {
            return Err(format!("wrote {:?}", changes(before, after)));
        }
        let pool = &self.pools.iter().find(|(n, _)| n == region).unwrap().1;
        let (outcome,): (String,) =
            sqlx::query_as("SELECT outcome FROM audit_log ORDER BY id DESC LIMIT 1")
                .fetch_one(pool)
                .await
                .unwrap();
        if outcome == "ok" {
            return Err(format!("refused, but its audit line in {region} says ok"));
        }
        Ok(())
    }
}
