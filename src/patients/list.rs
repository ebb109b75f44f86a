//! Patient lists across regions: `GET /api/v1/patients` without `region`, or with several.
//! Every region the reader may read is asked in parallel under the fan-out deadline, with
//! the filters pushed down and only as many rows as the page needs; the answers are merged
//! in the requested order (a k-way merge), and the page says which regions answered.
//! Pages come by number (`page`, with a `total`) or by cursor (`next_cursor`).

use super::model::{COLUMNS, PatientRow};
use super::repo::Search;
use super::sort::Sort;
use super::total::{self, Total};
use crate::fanout::cursor::Cursor;
use crate::fanout::{self, Consistency, Coverage, merge::merge};
use crate::shards::{Conn, Shard, ShardError};
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

/// Which live patients a list matches: `$1`-`$5` the search, `$6` district, `$7` sex.
fn matching(filtered: bool) -> String {
    format!(
        "{} AND ($6::text IS NULL OR district = $6) AND ($7::text IS NULL OR sex = $7)",
        super::repo::matches(filtered)
    )
}

/// One region's page: `$8` the limit, `$9`... the position after which to start, if any.
fn page_sql(q: &Query, after: bool) -> String {
    let keyset = if after {
        format!(" AND {}", q.sort.after(9))
    } else {
        String::new()
    };
    let source = total::source(
        &format!("{}{keyset}", matching(q.search.filtered())),
        q.search.filtered(),
    );
    format!(
        "SELECT {COLUMNS} FROM {source} ORDER BY {} LIMIT $8",
        q.sort.order_by()
    )
}

/// One region's rows after `position`, and its total (page mode). The count is its own
/// statements ([`total`], bounded), sent with the page on the same connection: the page
/// can then stop after `limit` rows of an index instead of reading every match.
pub async fn in_region(
    shard: &Shard,
    q: &Query,
    position: Option<&[String]>,
) -> Result<(Vec<PatientRow>, Total), ShardError> {
    let (page, count) = (
        page_sql(q, position.is_some()),
        total::statements(&matching(q.search.filtered()), q.search.filtered()),
    );
    let filtered = q.search.filtered();
    let mut after: Vec<String> = position.map(<[String]>::to_vec).unwrap_or_default();
    let id = after.pop().map(|i| i.parse::<uuid::Uuid>().ok());
    let (rows, total) = shard
        .read(|c| {
            let (page, count, q, after) = (page.clone(), count.clone(), q.clone(), after.clone());
            Box::pin(async move {
                let page_stmt = total::statement(c, &page, filtered).await?;
                let search: [&(dyn ToSql + Sync); 7] = [
                    &filtered,
                    &q.search.tokens,
                    &q.search.phone,
                    &q.search.national_id,
                    &q.search.id,
                    &q.district,
                    &q.sex,
                ];
                let mut params = search.to_vec();
                params.push(&q.limit);
                params.extend(after.iter().map(|v| v as &(dyn ToSql + Sync)));
                let id = id.flatten();
                if id.is_some() || !after.is_empty() {
                    params.push(&id);
                }
                let db = c.client();
                if q.count {
                    Ok(tokio::try_join!(
                        db.query(&page_stmt, &params),
                        total::count(c, &count, &search, filtered)
                    )?)
                } else {
                    Ok((db.query(&page_stmt, &params).await?, Total::NONE))
                }
            })
        })
        .await?;
    Ok((rows.iter().map(PatientRow::from_row).collect(), total))
}

/// A merged page: its rows with their regions, the total, the next cursor.
pub struct Page<'a> {
    pub rows: Vec<(&'a Shard, PatientRow)>,
    pub total: Total,
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
    // One row more than a page can use tells whether a region has more: a region with
    // exactly a page of matches then gives no cursor to an empty page.
    let probe = Query {
        limit: q.limit + 1,
        ..q.clone()
    };
    let (answers, coverage) = fanout::ask_all(shards, deadline, consistency, |shard| {
        let position = start.positions.get(shard.name()).cloned();
        let probe = &probe;
        async move { in_region(shard, probe, position.as_deref()).await }
    })
    .await?;
    let total = Total::sum(answers.iter().map(|(_, (_, t))| *t));
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
    let more = (0..used.len()).any(|i| used[i] < sizes[i]) || !coverage.regions_failed.is_empty();
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
