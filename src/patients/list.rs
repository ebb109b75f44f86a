//! Patient lists across regions: `GET /api/v1/patients` without `region`, or with several.
//! Every region the reader may read is asked in parallel under the fan-out deadline, with
//! the filters pushed down and only as many rows as the page needs; the answers are merged
//! in the requested order (a k-way merge), and the page says which regions answered.
//! Pages come by number (`page`, with a `total`) or by cursor (`next_cursor`).

use super::model::{COLUMNS, PatientRow};
use super::repo::Search;
use super::sort::Sort;
use crate::fanout::cursor::Cursor;
use crate::fanout::{self, Consistency, Coverage, merge::merge};
use crate::shards::{Conn, Shard};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use tokio_postgres::types::ToSql;

/// What a list asks every region.
#[derive(Debug, Clone)]
pub struct Query {
    pub search: Search,
    pub district: Option<String>,
    pub sex: Option<String>,
    pub sort: Sort,
    /// Rows each region returns at most: one page (cursor), or all pages up to this one.
    pub limit: i64,
    /// Whether to count the region's matches (page mode).
    pub count: bool,
}

impl Query {
    /// A digest of the filters, so a cursor is not replayed against another query.
    pub fn digest(&self, q: &str) -> String {
        let text = format!("{q}\u{1f}{:?}\u{1f}{:?}", self.district, self.sex);
        hex(&Sha256::digest(text.as_bytes())[..8])
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SQL for one region: `$1`-`$5` the search, `$6` district, `$7` sex, `$8` the limit,
/// `$9`... the position after which to start, if any.
fn sql(q: &Query, after: bool) -> String {
    let total = if q.count {
        ", count(*) OVER () AS total"
    } else {
        ""
    };
    let keyset = if after {
        format!(" AND {}", q.sort.after(9))
    } else {
        String::new()
    };
    format!(
        "SELECT {COLUMNS}{total} FROM patients
         WHERE {matches} AND ($6::text IS NULL OR district = $6) AND ($7::text IS NULL OR sex = $7){keyset}
         ORDER BY {order} LIMIT $8",
        matches = super::repo::MATCHES,
        order = q.sort.order_by()
    )
}

/// One region's rows after `position`, and its total (page mode).
pub async fn in_region(
    shard: &Shard,
    q: &Query,
    position: Option<&[String]>,
) -> Result<(Vec<PatientRow>, i64), String> {
    let sql = sql(q, position.is_some());
    let s = &q.search;
    let filtered =
        !s.tokens.is_empty() || s.phone.is_some() || s.national_id.is_some() || s.id.is_some();
    let id = position
        .and_then(|p| p.last())
        .map(|i| i.parse::<uuid::Uuid>().ok());
    let rows = shard
        .read(|c| {
            let (sql, q, position) = (sql.clone(), q.clone(), position.map(<[String]>::to_vec));
            Box::pin(async move {
                let stmt = c.prepared(&sql).await?;
                let mut params: Vec<&(dyn ToSql + Sync)> = vec![
                    &filtered,
                    &q.search.tokens,
                    &q.search.phone,
                    &q.search.national_id,
                    &q.search.id,
                    &q.district,
                    &q.sex,
                    &q.limit,
                ];
                let values: Vec<String> = position
                    .iter()
                    .flatten()
                    .take(q.sort_len())
                    .cloned()
                    .collect();
                for v in &values {
                    params.push(v);
                }
                let id = id.flatten();
                if position.is_some() {
                    params.push(&id);
                }
                c.client().query(&stmt, &params).await
            })
        })
        .await
        .map_err(|e| e.to_string())?;
    let total = match (q.count, rows.first()) {
        (true, Some(r)) => r.get::<_, i64>(18),
        _ => 0,
    };
    Ok((rows.iter().map(PatientRow::from_row).collect(), total))
}

impl Query {
    fn sort_len(&self) -> usize {
        self.sort.spelled.split(',').count()
    }
}

/// A merged page: its rows with their regions, the total, the next cursor.
pub struct Page<'a> {
    pub rows: Vec<(&'a Shard, PatientRow)>,
    pub total: i64,
    pub next: Option<Cursor>,
    pub coverage: Coverage,
}

/// Asks the regions and merges: skips `offset` rows, keeps `size`.
pub async fn page<'a>(
    shards: &[&'a Shard],
    q: &Query,
    start: &Cursor,
    offset: usize,
    size: usize,
    deadline: std::time::Duration,
    consistency: Consistency,
) -> Result<Page<'a>, crate::http::ApiError> {
    let (answers, coverage) = fanout::ask_all(shards, deadline, consistency, |shard| {
        let position = start.positions.get(shard.name()).cloned();
        async move { in_region(shard, q, position.as_deref()).await }
    })
    .await?;
    let total = answers.iter().map(|(_, (_, t))| t).sum();
    let full: Vec<bool> = answers
        .iter()
        .map(|(_, (rows, _))| rows.len() as i64 == q.limit)
        .collect();
    let regions: Vec<&Shard> = answers.iter().map(|(s, _)| *s).collect();
    let lists: Vec<Vec<_>> = answers
        .into_iter()
        .map(|(_, (rows, _))| rows.into_iter().map(|r| (q.sort.key(&r), r)).collect())
        .collect();
    let sizes: Vec<usize> = lists.iter().map(Vec::len).collect();
    let mut used = vec![0usize; lists.len()];
    let mut positions: BTreeMap<String, Vec<String>> = start.positions.clone();
    let mut rows = Vec::new();
    for (i, row) in merge(lists).take(offset + size) {
        used[i] += 1;
        positions.insert(regions[i].name().to_owned(), q.sort.position(&row));
        rows.push((regions[i], row));
    }
    let rows = rows.into_iter().skip(offset).collect();
    let more = (0..used.len()).any(|i| used[i] < sizes[i] || full[i])
        || !coverage.regions_failed.is_empty();
    let next = more.then(|| Cursor {
        positions,
        ..start.clone()
    });
    Ok(Page {
        rows,
        total,
        next,
        coverage,
    })
}
