//! Cross-region answers as the admin: the first page with its total, a deep page by
//! cursor, a search by a common and by a rare family name, and statistics. Each against
//! the slowest shard answering its own part straight from PostgreSQL: the statements of
//! src/patients/list.rs (page and count pipelined on one connection) and
//! src/stats/queries.rs, reproduced here with hmis's own search terms and columns, at the
//! same concurrency on each big region's cluster. The small region is left out of that
//! comparison (its thousand rows are never the slowest part).

use super::cluster::SMALL;
use super::compare;
use super::load::{Job, Measured, pg_error, pg_jobs};
use super::report::Cell;
use super::rw::Ctx;
use hmis::patients::model::{COLUMNS, search_terms};
use hmis::patients::repo::matches;
use hmis::patients::total::{self, EXACT_UP_TO};
use std::sync::Arc;
use tokio_postgres::types::ToSql;

const SIZE: u32 = 50;
const DEEP_PAGES: usize = 100;
const ORDER: &str = "family_name COLLATE \"C\" ASC, given_name COLLATE \"C\" ASC, id ASC";
const AFTER: &str = "((family_name COLLATE \"C\" > $9::text::text) OR (family_name COLLATE \"C\" = $9::text::text AND given_name COLLATE \"C\" > $10::text::text) OR (family_name COLLATE \"C\" = $9::text::text AND given_name COLLATE \"C\" = $10::text::text AND id > $11::uuid))";
/// The statement hmis sends each region for `GET /api/v1/stats/patients`.
const STATS: &str = hmis::stats::queries::PATIENTS;

/// What one region is asked: its SQL and parameters as text (the search, then the
/// limit, then a keyset position), whether the count goes with it.
#[derive(Clone)]
struct Part {
    q: String,
    after: Option<Vec<String>>,
    count: bool,
}

/// As `list::matching`: the search's conditions, then district and sex.
fn matching(filtered: bool) -> String {
    format!(
        "{} AND ($6::text IS NULL OR district = $6) AND ($7::text IS NULL OR sex = $7)",
        matches(filtered)
    )
}

pub async fn scenario(ctx: &Ctx<'_>, name: &str) -> anyhow::Result<Vec<Cell>> {
    let mut cells = Vec::new();
    let cases: Vec<Case> = match name {
        "first_page" => vec![case("first page of 50 with total", "", true)],
        "deep_page" => vec![deep(ctx).await?],
        "search" => {
            let (common, rare) = names(ctx).await?;
            vec![
                case(&format!("search q={common} (common)"), &common, true),
                case(&format!("search q={rare} (rare)"), &rare, true),
            ]
        }
        "stats" => vec![(
            "stats group_by=district".into(),
            "/api/v1/stats/patients?group_by=district".into(),
            None,
            Vec::new(),
        )],
        other => anyhow::bail!("no scenario {other}"),
    };
    for (label, path, part, positions) in cases {
        for &c in &ctx.args.concurrency {
            let hmis = ctx
                .hmis("admin", c, |http| {
                    let path = path.clone();
                    Arc::new(move |_| {
                        let (http, path) = (http.clone(), path.clone());
                        Box::pin(async move { complete(http.call("GET", &path, None).await?) })
                    })
                })
                .await?;
            let mut direct: Vec<(String, Measured)> = Vec::new();
            for r in ctx.env.regions.iter().filter(|r| r.name != SMALL.0) {
                let part = part.clone().map(|mut p| {
                    p.after = positions
                        .iter()
                        .find(|(n, _)| *n == r.name)
                        .and_then(|(_, a)| a.clone());
                    p
                });
                let jobs = shard_jobs(&ctx.region_url(&r.name), c, part).await?;
                let m = ctx.measure(jobs).await?;
                direct.push((format!("direct {}", r.name), m));
            }
            direct.sort_by(|a, b| a.1.throughput.total_cmp(&b.1.throughput));
            if let Some(first) = direct.first_mut() {
                first.0 = format!("{} (slowest)", first.0);
            }
            cells.extend(compare(&label, c, hmis, direct, 0));
        }
    }
    Ok(cells)
}

/// A 200 is a success only when every region answered: a region that missed the
/// fan-out deadline makes it `200 partial` (its patients are missing from the page).
fn complete((status, body): (u16, hyper::body::Bytes)) -> Result<(), String> {
    if status != 200 {
        return Err(status.to_string());
    }
    let answer: serde_json::Value =
        serde_json::from_slice(&body).map_err(|_| "200 not JSON".to_owned())?;
    match answer["regions_failed"].as_array() {
        Some(failed) if !failed.is_empty() => Err("200 partial".into()),
        _ => Ok(()),
    }
}

type Case = (
    String,
    String,
    Option<Part>,
    Vec<(String, Option<Vec<String>>)>,
);

/// A numbered first page (with its total) of a search for `q` (empty: every patient).
fn case(label: &str, q: &str, count: bool) -> Case {
    let path = format!(
        "/api/v1/patients?size={SIZE}{}",
        if q.is_empty() {
            String::new()
        } else {
            format!("&q={q}")
        }
    );
    let part = Part {
        q: q.to_owned(),
        after: None,
        count,
    };
    (label.to_owned(), path, Some(part), Vec::new())
}

/// Follows `next_cursor` for [`DEEP_PAGES`] pages once; the case is the page after them,
/// and each region's part starts after the last of its rows shown so far (what the
/// cursor holds).
async fn deep(ctx: &Ctx<'_>) -> anyhow::Result<Case> {
    let client = reqwest::Client::new();
    let mut path = format!("/api/v1/patients?size={SIZE}&cursor=");
    let mut first = format!("/api/v1/patients?size={SIZE}");
    let mut positions: Vec<(String, Option<Vec<String>>)> = Vec::new();
    for _ in 0..DEEP_PAGES {
        let page: serde_json::Value = client
            .get(format!("{}{first}", ctx.base))
            .bearer_auth(&ctx.tokens["admin"])
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        for item in page["items"].as_array().into_iter().flatten() {
            let text = |k: &str| item[k].as_str().unwrap_or_default().to_owned();
            let region = text("region");
            positions.retain(|(r, _)| *r != region);
            positions.push((
                region,
                Some(vec![text("family_name"), text("given_name"), text("id")]),
            ));
        }
        let next = page["next_cursor"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("no next_cursor before page {DEEP_PAGES}"))?;
        first = format!("{path}{next}");
    }
    path = first;
    let part = Part {
        q: String::new(),
        after: None,
        count: false,
    };
    Ok((
        format!("page {} by cursor", DEEP_PAGES + 1),
        path,
        Some(part),
        positions,
    ))
}

/// The most and the least common family names of quthing's register.
async fn names(ctx: &Ctx<'_>) -> anyhow::Result<(String, String)> {
    let (client, conn) =
        tokio_postgres::connect(&ctx.region_url("quthing"), tokio_postgres::NoTls).await?;
    tokio::spawn(conn);
    let rows = client
        .query(
            "(SELECT family_name FROM patients GROUP BY 1 ORDER BY count(*) DESC LIMIT 1)
             UNION ALL (SELECT family_name FROM patients GROUP BY 1 ORDER BY count(*), 1 LIMIT 1)",
            &[],
        )
        .await?;
    anyhow::ensure!(rows.len() == 2, "quthing has no patients");
    Ok((rows[0].get(0), rows[1].get(0)))
}

/// `c` connections to one region, each sending that region's part (or the statistics).
async fn shard_jobs(url: &str, c: usize, part: Option<Part>) -> anyhow::Result<Vec<Job>> {
    pg_jobs(url, c, move |client| {
        let part = part.clone();
        Box::pin(async move {
            let Some(part) = part else {
                let stmt = client.prepare(STATS).await?;
                let job: Job = Arc::new(move |_| {
                    let (client, stmt) = (client.clone(), stmt.clone());
                    Box::pin(
                        async move { client.query(&stmt, &[]).await.map(|_| ()).map_err(pg_error) },
                    )
                });
                return Ok(job);
            };
            let keyset = if part.after.is_some() {
                format!(" AND {AFTER}")
            } else {
                String::new()
            };
            let filtered = search_terms(&part.q, SIZE, 1).filtered();
            let page = format!(
                "SELECT {COLUMNS} FROM {} ORDER BY {ORDER} LIMIT $8",
                total::source(&format!("{}{keyset}", matching(filtered)), filtered)
            );
            let [bounded, estimate] = total::statements(&matching(filtered), filtered);
            // As hmis: a search is planned for its words each time, a list once.
            let cached = if filtered {
                None
            } else {
                Some([
                    client.prepare(&page).await?,
                    client.prepare(&bounded).await?,
                    client.prepare(&estimate).await?,
                ])
            };
            let sql = Arc::new(Sql {
                text: [page, bounded, estimate],
                cached,
            });
            let part = Arc::new(part);
            let job: Job = Arc::new(move |_| {
                let (client, sql, part) = (client.clone(), sql.clone(), part.clone());
                Box::pin(async move { ask(&client, &sql, &part).await.map_err(pg_error) })
            });
            Ok(job)
        })
    })
    .await
}

/// One region's statements, as `list::in_region` has them: the page, the bounded count
/// and the estimate; prepared once for a list, planned for each search.
struct Sql {
    text: [String; 3],
    cached: Option<[tokio_postgres::Statement; 3]>,
}

impl Sql {
    async fn statement(
        &self,
        client: &tokio_postgres::Client,
        i: usize,
    ) -> Result<tokio_postgres::Statement, tokio_postgres::Error> {
        match &self.cached {
            Some(s) => Ok(s[i].clone()),
            None => client.prepare(&self.text[i]).await,
        }
    }
}

/// One region's part of a page, as `list::in_region` sends it: one row more than the
/// page for the probe, and the bounded count beside it on the same connection (with the
/// planner's estimate above the bound).
async fn ask(
    client: &tokio_postgres::Client,
    sql: &Sql,
    part: &Part,
) -> Result<(), tokio_postgres::Error> {
    let s = search_terms(&part.q, SIZE, 1);
    let (district, sex): (Option<String>, Option<String>) = (None, None);
    let filtered = s.filtered();
    let search: [&(dyn ToSql + Sync); 7] = [
        &filtered,
        &s.tokens,
        &s.phone,
        &s.national_id,
        &s.id,
        &district,
        &sex,
    ];
    let limit = i64::from(SIZE) + 1;
    let mut params = search.to_vec();
    params.push(&limit);
    let after = part.after.clone().unwrap_or_default();
    let id: Option<uuid::Uuid> = after.last().and_then(|i| i.parse().ok());
    if part.after.is_some() {
        params.push(&after[0]);
        params.push(&after[1]);
        params.push(&id);
    }
    let page = sql.statement(client, 0).await?;
    if part.count {
        let bounded = sql.statement(client, 1).await?;
        let (_, n) = tokio::try_join!(
            client.query(&page, &params),
            client.query_one(&bounded, &search)
        )?;
        if n.get::<_, i64>(0) > EXACT_UP_TO {
            let estimate = sql.statement(client, 2).await?;
            client.query_one(&estimate, &search).await?;
        }
    } else {
        client.query(&page, &params).await?;
    }
    Ok(())
}
