//! The checks of one database: it answers, its migrations are those compiled into this
//! binary ([`super::migrations`]), it is the region's own (`shard_identity`), and the roles
//! `hmis migrate` makes are there; its clock is read for [`super::clock`]. Everything read
//! is catalog or bookkeeping, never patient data, and nothing is written.

use super::clock::ClockSample;
use super::report::Finding;
use crate::cli::connect::{self, Unreachable};
use crate::config::{DatabaseUrl, RegionSettings};
use crate::dbroles::{PLANNER, region_planner_role, region_role_names};
use sqlx::{Connection, PgConnection};
use std::sync::Mutex;

/// A database to check: the central one or a region's.
pub struct Target {
    /// `central` or `region <name>`: how the output names it.
    pub subject: String,
    pub url: DatabaseUrl,
    /// Where its URL is set, for the fix of a wrong one.
    pub url_setting: String,
    pub kind: Kind,
}

pub enum Kind {
    /// The central database, whose federation is checked against these regions.
    Central(Vec<RegionSettings>),
    Region(RegionSettings),
}

/// What the checks of one database found so far (kept if the deadline cuts them short).
#[derive(Default)]
pub struct Outcome {
    pub findings: Vec<Finding>,
    pub clock: Option<ClockSample>,
}

pub(super) const MIGRATE: &str = "run `hmis migrate` (safe while hmis serves)";
const SERVICE_ROLE: &str =
    "check that database_url logs in as hmis's own role (the one `hmis migrate` ran as)";

/// Runs every check of `target`, adding what it finds to `out` as it goes.
pub async fn check(target: &Target, out: &Mutex<Outcome>) {
    let push = |f: Finding| out.lock().expect("doctor findings").findings.push(f);
    let subject = target.subject.as_str();
    let region = match &target.kind {
        Kind::Region(r) => Some(r),
        Kind::Central(_) => None,
    };
    let name = region.map_or(connect::CENTRAL.to_owned(), |r| connect::region(&r.name));
    let mut conn = match connect::open(&name, &target.url).await {
        Ok(conn) => conn,
        Err(e) => {
            push(unreachable(target, &e));
            let skipped = "migrations, roles, clock: not checked, the database did not answer";
            push(Finding::skipped(subject, "the rest", skipped));
            return;
        }
    };
    let queries = async {
        // An answer that takes longer than this is a finding of its own, not a hang.
        sqlx::query("SET statement_timeout = '5s'")
            .execute(&mut conn)
            .await?;
        let version: String = sqlx::query_scalar("SHOW server_version")
            .fetch_one(&mut conn)
            .await?;
        push(Finding::ok(
            subject,
            "reachable",
            format!("{} (PostgreSQL {version})", target.url.redacted()),
        ));
        let before = chrono::Utc::now();
        let db: chrono::DateTime<chrono::Utc> = sqlx::query_scalar("SELECT clock_timestamp()")
            .fetch_one(&mut conn)
            .await?;
        let sample = ClockSample::measure(subject, before, db, chrono::Utc::now());
        out.lock().expect("doctor findings").clock = Some(sample);
        let migrator = match region {
            Some(_) => &crate::migrate::SHARD,
            None => &crate::migrate::CENTRAL,
        };
        for f in super::migrations::check(&mut conn, subject, migrator).await? {
            push(f);
        }
        if let Some(region) = region {
            push(identity(&mut conn, subject, region, &target.url_setting).await?);
        }
        push(roles(&mut conn, subject, region).await?);
        if let Kind::Central(regions) = &target.kind {
            push(super::federation::check(&mut conn, regions).await?);
        }
        Ok::<_, sqlx::Error>(())
    };
    if let Err(e) = queries.await {
        push(Finding::problem(
            subject,
            "catalog",
            format!("a check's query failed: {e}"),
            SERVICE_ROLE,
        ));
    }
    let _ = conn.close().await;
}

/// Why it did not answer, and what to change.
fn unreachable(target: &Target, e: &Unreachable) -> Finding {
    let setting = &target.url_setting;
    let fix = match e.code.as_deref() {
        Some("3D000") => format!(
            "the database does not exist yet: `hmis migrate` creates it (or correct {setting})"
        ),
        Some("28P01" | "28000") => {
            format!("the server refused that user or password: correct {setting}")
        }
        _ => format!(
            "start its PostgreSQL, or correct {setting} if the database is elsewhere; \
             then run `hmis doctor` again"
        ),
    };
    Finding::problem(
        &target.subject,
        "reachable",
        format!("cannot connect at {}: {}", e.url, e.reason),
        fix,
    )
}

/// A region's database records which region it is: a URL pointing at another region's
/// database would place patients in the wrong one.
async fn identity(
    conn: &mut PgConnection,
    subject: &str,
    region: &RegionSettings,
    setting: &str,
) -> Result<Finding, sqlx::Error> {
    let present: bool = sqlx::query_scalar("SELECT to_regclass('shard_identity') IS NOT NULL")
        .fetch_one(&mut *conn)
        .await?;
    if !present {
        return Ok(Finding::skipped(
            subject,
            "identity",
            "no shard_identity table yet",
        ));
    }
    let recorded: Option<(String, i32)> = sqlx::query_as("SELECT region, code FROM shard_identity")
        .fetch_optional(&mut *conn)
        .await?;
    Ok(match recorded {
        None => Finding::problem(
            subject,
            "identity",
            "no region recorded in shard_identity",
            format!("{MIGRATE}: it records the region"),
        ),
        Some((name, code)) if name == region.name && code == i32::from(region.code) => {
            Finding::ok(subject, "identity", format!("region {name} (code {code})"))
        }
        Some((name, code)) => Finding::problem(
            subject,
            "identity",
            format!(
                "this is the database of region {name} (code {code}), not of {} (code {})",
                region.name, region.code
            ),
            format!("correct {setting}"),
        ),
    })
}

/// The roles `hmis migrate` makes ([`crate::dbroles`]), each able to connect here; the
/// service role a member of the region's planner role (planners' queries `SET ROLE` to
/// it); and no CONNECT for PUBLIC, which would open this database to every role of the
/// cluster.
async fn roles(
    conn: &mut PgConnection,
    subject: &str,
    region: Option<&RegionSettings>,
) -> Result<Finding, sqlx::Error> {
    let (wanted, planner) = match region {
        Some(r) => {
            let (admin, readonly) = region_role_names(&r.name)?;
            let planner = region_planner_role(&r.name)?;
            (vec![admin, readonly, planner.clone()], Some(planner))
        }
        None => (vec![PLANNER.to_owned()], None),
    };
    let rows: Vec<(String, bool, bool, bool, bool)> = sqlx::query_as(
        "SELECT w.role, p.oid IS NOT NULL,
                coalesce(has_database_privilege(p.oid, current_database(), 'CONNECT'), false),
                coalesce(pg_has_role(current_user, p.oid, 'MEMBER'), false),
                coalesce(p.rolcanlogin, false)
         FROM unnest($1::text[]) WITH ORDINALITY AS w(role, n)
         LEFT JOIN pg_roles p ON p.rolname = w.role ORDER BY w.n",
    )
    .bind(&wanted)
    .fetch_all(&mut *conn)
    .await?;
    let public_connects: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT FROM pg_database d,
                 aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
             WHERE d.datname = current_database() AND a.grantee = 0
               AND a.privilege_type = 'CONNECT')",
    )
    .fetch_one(&mut *conn)
    .await?;
    let mut problems = Vec::new();
    let missing: Vec<&str> = rows.iter().filter(|r| !r.1).map(|r| r.0.as_str()).collect();
    if !missing.is_empty() {
        problems.push(format!("missing: {}", missing.join(", ")));
    }
    let barred: Vec<&str> = rows
        .iter()
        .filter(|r| r.1 && !r.2)
        .map(|r| r.0.as_str())
        .collect();
    if !barred.is_empty() {
        problems.push(format!("may not connect here: {}", barred.join(", ")));
    }
    if let Some(p) = &planner
        && rows.iter().any(|r| &r.0 == p && r.1 && !r.3)
    {
        problems.push(format!("hmis's role is not a member of {p}"));
    }
    if public_connects {
        problems.push("every role of the cluster may connect (CONNECT granted to PUBLIC)".into());
    }
    if !problems.is_empty() {
        return Ok(Finding::problem(
            subject,
            "roles",
            problems.join("; "),
            format!(
                "{MIGRATE}: it creates missing roles without login (give a person's role a \
                 password with ALTER ROLE <role> LOGIN PASSWORD '...') and grants CONNECT"
            ),
        ));
    }
    let nologin: Vec<&str> = rows
        .iter()
        .filter(|r| !r.4 && Some(&r.0) != planner.as_ref())
        .map(|r| r.0.as_str())
        .collect();
    let note = if nologin.is_empty() {
        String::new()
    } else {
        format!(" (cannot log in yet: {})", nologin.join(", "))
    };
    Ok(Finding::ok(
        subject,
        "roles",
        format!("{}{note}", wanted.join(", ")),
    ))
}
