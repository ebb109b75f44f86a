//! Reads by ID and creates: hmis's authenticated, authorized, audited answer against the
//! same work sent straight to the region's PostgreSQL (a prepared primary-key select; a
//! durable transaction with the patient INSERT hmis sends and its audit line).

use super::cluster::{Env, PASSWORD, SMALL};
use super::load::{Job, Measured, http_jobs, measure, pg_error, pg_jobs};
use super::people::{Newcomer, newcomer};
use super::report::Cell;
use super::{Args, common, compare};
use hmis::patients::model::COLUMNS;
use std::collections::BTreeMap;
use std::sync::Arc;
use uuid::Uuid;

/// What every scenario needs: the server, the users' tokens, the clusters, the options.
pub struct Ctx<'a> {
    pub env: &'a Env,
    pub args: &'a Args,
    pub base: String,
    pub tokens: BTreeMap<&'static str, String>,
    pub ids: Arc<Vec<Uuid>>,
}

impl<'a> Ctx<'a> {
    pub async fn new(env: &'a Env, args: &'a Args, base: &str) -> anyhow::Result<Ctx<'a>> {
        let mut tokens = BTreeMap::new();
        for (user, _, _) in super::cluster::USERS {
            tokens.insert(*user, common::login_as(base, user, PASSWORD).await?);
        }
        Ok(Ctx {
            env,
            args,
            base: base.to_owned(),
            tokens,
            ids: Arc::new(env.quthing_ids.clone()),
        })
    }

    pub fn region_url(&self, region: &str) -> String {
        self.env.url(&format!("hmis_{region}"))
    }

    pub async fn hmis(
        &self,
        user: &str,
        c: usize,
        make: impl Fn(super::load::Http) -> Job,
    ) -> anyhow::Result<Measured> {
        let jobs = http_jobs(&self.base, &self.tokens[user], c, make).await?;
        self.measure(jobs).await
    }

    /// Measures one side of a cell; statements left running (requests unfinished, or
    /// regions hmis stopped waiting for) are cancelled in every cluster, so that they do
    /// not slow the next cell down.
    pub async fn measure(&self, jobs: Vec<Job>) -> anyhow::Result<Measured> {
        let m = measure(jobs, self.args.warm(), self.args.time()).await;
        // hmis gives up on a region at its fan-out deadline, but the region's statement
        // runs on: cancel it too.
        if m.errors
            .keys()
            .any(|k| k.starts_with("unfinished") || k.contains("partial"))
        {
            for name in self.env.clusters.keys() {
                let (client, conn) = tokio_postgres::connect(
                    &self.env.url(&format!("hmis_{name}")),
                    tokio_postgres::NoTls,
                )
                .await?;
                tokio::spawn(conn);
                client
                    .execute(
                        "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE backend_type = 'client backend'
                         AND state = 'active' AND pid <> pg_backend_pid()",
                        &[],
                    )
                    .await?;
            }
        }
        Ok(m)
    }
}

/// A random seeded quthing patient.
fn pick(ids: &[Uuid]) -> Uuid {
    ids[rand::random_range(0..ids.len())]
}

pub async fn reads(ctx: &Ctx<'_>) -> anyhow::Result<Vec<Cell>> {
    anyhow::ensure!(!ctx.ids.is_empty(), "quthing has no seeded patients");
    let mut cells = Vec::new();
    for &c in &ctx.args.concurrency {
        let ids = ctx.ids.clone();
        let jobs = pg_jobs(&ctx.region_url("quthing"), c, |client| {
            let ids = ids.clone();
            Box::pin(async move {
                let stmt = client
                    .prepare(&format!("SELECT {COLUMNS} FROM patients WHERE id = $1"))
                    .await?;
                let job: Job = Arc::new(move |_| {
                    let (client, stmt, id) = (client.clone(), stmt.clone(), pick(&ids));
                    Box::pin(async move {
                        let row = client.query_opt(&stmt, &[&id]).await.map_err(pg_error)?;
                        row.map(|_| ()).ok_or_else(|| "no row".to_owned())
                    })
                });
                Ok(job)
            })
        })
        .await?;
        let direct = ctx.measure(jobs).await?;
        let hmis = ctx
            .hmis("nurse.quthing", c, |http| {
                let ids = ctx.ids.clone();
                Arc::new(move |_| {
                    let (http, id) = (http.clone(), pick(&ids));
                    Box::pin(async move {
                        http.send("GET", &format!("/api/v1/patients/{id}"), None, 200)
                            .await
                    })
                })
            })
            .await?;
        cells.extend(compare(
            "read by ID",
            c,
            hmis,
            vec![("direct".into(), direct)],
            0,
        ));
    }
    Ok(cells)
}

/// Creates in the small region and in quthing, through hmis (201 counted as success,
/// 409 and the rest shown) and straight to PostgreSQL.
pub async fn creates(ctx: &Ctx<'_>) -> anyhow::Result<Vec<Cell>> {
    let mut cells = Vec::new();
    for (region, district, user) in [
        (SMALL.0, "Leribe", "nurse.leribe"),
        ("quthing", "Quthing", "nurse.quthing"),
    ] {
        let size = ctx.env.sizes.get(region).copied().unwrap_or(0);
        let code = ctx
            .env
            .regions
            .iter()
            .find(|r| r.name == region)
            .map_or(0, |r| r.code);
        for &c in &ctx.args.concurrency {
            let jobs =
                direct_creates(&ctx.region_url(region), c, (code, region), district, user).await?;
            let direct = ctx.measure(jobs).await?;
            trim(ctx, region, size).await?;
            let hmis = ctx
                .hmis(user, c, |http| {
                    Arc::new(move |_| {
                        let body = newcomer(&mut rand::rng(), district).json().to_string();
                        let http = http.clone();
                        Box::pin(async move {
                            http.send("POST", "/api/v1/patients", Some(body), 201).await
                        })
                    })
                })
                .await?;
            trim(ctx, region, size).await?;
            let name = format!("create in {region} ({size} patients)");
            cells.extend(compare(&name, c, hmis, vec![("direct".into(), direct)], 0));
        }
    }
    Ok(cells)
}

/// Puts the small region back to its size after a side of a cell: a few seconds of creates
/// add tens of thousands of patients, which would make "a thousand patients" forty
/// thousand by the last cell, and leave prepared statements planned for a table forty
/// times smaller than it has become. The big region keeps what it gains (a few percent).
async fn trim(ctx: &Ctx<'_>, region: &str, size: i64) -> anyhow::Result<()> {
    if region != SMALL.0 {
        return Ok(());
    }
    let (client, conn) =
        tokio_postgres::connect(&ctx.region_url(region), tokio_postgres::NoTls).await?;
    tokio::spawn(conn);
    client
        .execute(
            "DELETE FROM patients WHERE id IN (SELECT id FROM patients ORDER BY created_at, id \
             OFFSET $1)",
            &[&size],
        )
        .await?;
    client.batch_execute("VACUUM (ANALYZE) patients").await?;
    Ok(())
}

/// The INSERT of src/patients/repo.rs and the audit line of src/audit/, in one durable
/// transaction per create, as the nurse would have written it.
async fn direct_creates(
    url: &str,
    c: usize,
    (code, region): (u16, &'static str),
    district: &'static str,
    user: &'static str,
) -> anyhow::Result<Vec<Job>> {
    pg_jobs(url, c, |client| {
        Box::pin(async move {
            let insert = client
                .prepare(&format!(
                    "INSERT INTO patients (id, given_name, family_name, sex, birth_date, birth_date_estimated,
                         district, village, facility, phone, national_id, given_key, family_key)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING {COLUMNS}"
                ))
                .await?;
            let audit = client.prepare(hmis::audit::INSERT).await?;
            let job: Job = Arc::new(move |i| {
                let (client, insert, audit) = (client.clone(), insert.clone(), audit.clone());
                let p = newcomer(&mut rand::rng(), district);
                Box::pin(async move { one_create(&client, (&insert, &audit), (code, region), user, &p, i).await.map_err(pg_error) })
            });
            Ok(job)
        })
    })
    .await
}

async fn one_create(
    client: &tokio_postgres::Client,
    (insert, audit): (&tokio_postgres::Statement, &tokio_postgres::Statement),
    (code, region): (u16, &str),
    user: &str,
    p: &Newcomer,
    i: u64,
) -> Result<(), tokio_postgres::Error> {
    let id = hmis::domain::PatientId::new(code).uuid();
    let keys = (
        hmis::domain::names::name_key(&p.given_name),
        hmis::domain::names::name_key(&p.family_name),
    );
    let none: Option<String> = None;
    client.batch_execute("BEGIN").await?;
    let result = async {
        client
            .query_one(
                insert,
                &[
                    &id,
                    &p.given_name,
                    &p.family_name,
                    &p.sex,
                    &p.birth_date,
                    &false,
                    &p.district,
                    &p.village,
                    &none,
                    &none,
                    &none,
                    &keys.0,
                    &keys.1,
                ],
            )
            .await?;
        let request = format!("bench-{i}");
        client
            .execute(
                audit,
                &[
                    &user,
                    &"nurse",
                    &"create",
                    &Some(id),
                    &region,
                    &"ok",
                    &request,
                ],
            )
            .await?;
        client.batch_execute("COMMIT").await
    }
    .await;
    if result.is_err() {
        let _ = client.batch_execute("ROLLBACK").await;
    }
    result
}
