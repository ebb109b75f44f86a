//! Database roles for people who use pgAdmin: each region's admins get `<region>_admin`
//! (read and fix that region's records, but never rewrite its audit trail) and
//! `<region>_readonly`; central planners get `planner` (the `planning` schema only).
//! Each region also gets `<region>_planner`, which reads that region's `planning` views and
//! nothing else: planners' queries run as it (`SET LOCAL ROLE`), and the central
//! database's federated views log in as it (see [`crate::federate`]).
//!
//! Roles belong to a PostgreSQL cluster, not to a database, and several regions' databases
//! may share one cluster. Isolation therefore rests on CONNECT: each database revokes it
//! from PUBLIC and grants it to its own roles and to the service role only, so that
//! `maseru_admin` cannot open `hmis_quthing` even on the same server.
//!
//! Everything here is idempotent and runs on every `hmis migrate`: grants are re-applied
//! (so a table added by a later migration is covered, and a grant made by hand on an audit
//! table is taken back), but an existing role's password and LOGIN attribute are left alone
//! unless a password is given, because operators set them with `ALTER ROLE`.

pub mod pgadmin;
mod planner;

pub use planner::region_planner_role;
use planner::{ensure_member, planner_statements};
use sqlx::{PgPool, Postgres, Transaction};
use std::future::Future;
use std::time::Duration;

/// Append-only tables: an admin may read them but never change them. Their triggers guard
/// against the service itself; these grants guard against people.
const AUDIT_TABLES: &[&str] = &["audit_log"];
/// hmis's own bookkeeping: editing it would break `hmis migrate` (the migration history) or
/// its check that a database belongs to its region, so admins only read it.
/// The change log too: only its triggers append to it, and hmis prunes it.
const BOOKKEEPING_TABLES: &[&str] = &[
    "_sqlx_migrations",
    "shard_identity",
    "change_log",
    "change_log_meta",
];
/// The central database's role of planners.
pub const PLANNER: &str = "planner";
const PLANNING_SCHEMA: &str = "planning";
/// Serializes two runs on the same database: two sessions granting on the same table at
/// once can fail with "tuple concurrently updated". Advisory locks are per database, so
/// this does not serialize runs on other databases of the cluster; role creation copes
/// with those by itself (see [`ensure_role`]).
const LOCK_KEY: i64 = 0x686d_6973_726f_6c65; // "hmisrole"
/// PostgreSQL silently truncates longer identifiers, which could merge two regions' roles.
const MAX_IDENT_BYTES: usize = 63;

/// `name` as a PostgreSQL identifier: always quoted, so `-` and reserved words are safe.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// `text` as a PostgreSQL string literal (with standard_conforming_strings, the default
/// since 9.1, a backslash is an ordinary character).
pub fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The admin and read-only role names of `region`, refusing names that could not be a
/// region's (the config already allows only `[a-z0-9-]`; this keeps the SQL safe even if
/// a caller forgets).
pub fn region_role_names(region: &str) -> Result<(String, String), sqlx::Error> {
    // The longest suffix is "_readonly": a name that fits it fits "_planner" too.
    let valid = !region.is_empty()
        && region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    let (admin, readonly) = (format!("{region}_admin"), format!("{region}_readonly"));
    if !valid || readonly.len() > MAX_IDENT_BYTES {
        return Err(sqlx::Error::Configuration(
            format!(
                "region name {region:?}: roles need lower-case letters, digits and - \
                 (at most {} characters)",
                MAX_IDENT_BYTES - "_readonly".len()
            )
            .into(),
        ));
    }
    Ok((admin, readonly))
}

/// Creates or updates, in the cluster of `region`'s database (connected through `pool`, as
/// the service's own role, which owns the tables), the roles `<region>_admin` (read/write
/// on every table of that region's database except the audit tables, which it may only
/// SELECT) and `<region>_readonly` (SELECT only), each able to CONNECT to that region's
/// database only; and `<region>_planner` (SELECT on the `planning` views only, nothing in
/// `public`), of which the service role is made a member so that it can `SET ROLE` to it.
///
/// `login_password`: `Some(p)` gives both roles LOGIN PASSWORD p (hmis dev uses "demo");
/// `None` creates missing roles NOLOGIN and never touches an existing role's password or
/// LOGIN attribute. Idempotent, and safe to run concurrently, also from several databases
/// of one cluster.
pub async fn ensure_region_roles(
    pool: &PgPool,
    region: &str,
    login_password: Option<&str>,
) -> Result<(), sqlx::Error> {
    let (admin, readonly) = region_role_names(region)?;
    let planner = region_planner_role(region)?;
    let roles = [admin.as_str(), readonly.as_str(), planner.as_str()];
    retrying(|| region_once(pool, roles, login_password)).await
}

/// The central database: role `planner` may CONNECT and SELECT the tables of schema
/// `planning` (created if missing, owned by the service role), and nothing else: no access
/// to central tables such as users, sessions or `patient_forwarding`. Same password rule
/// as [`ensure_region_roles`].
pub async fn ensure_central_roles(
    pool: &PgPool,
    login_password: Option<&str>,
) -> Result<(), sqlx::Error> {
    retrying(|| central_once(pool, login_password)).await
}

async fn region_once(
    pool: &PgPool,
    [admin, readonly, planner]: [&str; 3],
    password: Option<&str>,
) -> Result<(), sqlx::Error> {
    let mut tx = begin_locked(pool).await?;
    ensure_role(&mut tx, admin, password).await?;
    ensure_role(&mut tx, readonly, password).await?;
    // Never a pgAdmin password: `hmis federate` gives it the one the central database's
    // foreign servers log in with.
    ensure_role(&mut tx, planner, None).await?;
    ensure_member(&mut tx, planner).await?;
    let db = quote_ident(&current_database(&mut tx).await?);
    let (a, r, p) = (
        quote_ident(admin),
        quote_ident(readonly),
        quote_ident(planner),
    );
    let mut statements = vec![
        // The service role first: if it reached the database only through PUBLIC, the
        // revoke below would lock hmis out of its own region.
        format!("GRANT CONNECT ON DATABASE {db} TO CURRENT_USER, {a}, {r}, {p}"),
        format!("REVOKE CONNECT ON DATABASE {db} FROM PUBLIC"),
        // Already so on clusters made by PostgreSQL 15+; older ones let anyone create
        // tables in public, which a read-only role must not.
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC".to_owned(),
        format!("GRANT USAGE ON SCHEMA public TO {a}, {r}"),
        format!("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {a}"),
        // Never TRUNCATE: it bypasses row triggers, so an audit of deletes would miss it.
        format!("REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public FROM {a}"),
        format!("GRANT SELECT ON ALL TABLES IN SCHEMA public TO {r}"),
        // Takes back anything granted by hand: read-only means read-only.
        format!(
            "REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER \
             ON ALL TABLES IN SCHEMA public FROM {r}"
        ),
        // Inserting into a table with a serial key needs the sequence.
        format!("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {a}"),
        format!("GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO {r}"),
        // Tables made by later migrations (run as this same role) get the same grants
        // without waiting for the next run; audit tables are revoked again just below.
        format!(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public \
             GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {a}"
        ),
        format!("ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO {r}"),
        format!(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {a}"
        ),
        format!("ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON SEQUENCES TO {r}"),
    ];
    statements.extend(planner_statements(&p));
    let read_only: Vec<&str> = AUDIT_TABLES
        .iter()
        .chain(BOOKKEEPING_TABLES)
        .copied()
        .collect();
    // Only the tables that exist: an audit table added by a later migration is covered on
    // the run that follows it.
    let present: Vec<String> = sqlx::query_scalar(
        "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' AND tablename = ANY($1)",
    )
    .bind(&read_only)
    .fetch_all(&mut *tx)
    .await?;
    for table in present {
        let t = quote_ident(&table);
        statements.push(format!(
            "REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON public.{t} FROM {a}"
        ));
    }
    execute_all(&mut tx, &statements).await?;
    check_public_cannot_connect(&mut tx).await?;
    tx.commit().await
}

async fn central_once(pool: &PgPool, password: Option<&str>) -> Result<(), sqlx::Error> {
    let mut tx = begin_locked(pool).await?;
    ensure_role(&mut tx, PLANNER, password).await?;
    let db = quote_ident(&current_database(&mut tx).await?);
    let (p, s) = (quote_ident(PLANNER), quote_ident(PLANNING_SCHEMA));
    let statements = [
        format!("CREATE SCHEMA IF NOT EXISTS {s} AUTHORIZATION CURRENT_USER"),
        // As for regions: when central shares a cluster with regions, their roles must not
        // open it (users and sessions live here).
        format!("GRANT CONNECT ON DATABASE {db} TO CURRENT_USER, {p}"),
        format!("REVOKE CONNECT ON DATABASE {db} FROM PUBLIC"),
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC".to_owned(),
        // Planners see aggregates, never the central tables themselves, even if someone
        // granted them by hand.
        format!("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {p}"),
        format!("GRANT USAGE ON SCHEMA {s} TO {p}"),
        format!("GRANT SELECT ON ALL TABLES IN SCHEMA {s} TO {p}"),
        format!(
            "REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER \
             ON ALL TABLES IN SCHEMA {s} FROM {p}"
        ),
        format!("ALTER DEFAULT PRIVILEGES IN SCHEMA {s} GRANT SELECT ON TABLES TO {p}"),
    ];
    execute_all(&mut tx, &statements).await?;
    check_public_cannot_connect(&mut tx).await?;
    tx.commit().await
}

async fn begin_locked(pool: &PgPool) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(LOCK_KEY)
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

async fn current_database(tx: &mut Transaction<'_, Postgres>) -> Result<String, sqlx::Error> {
    sqlx::query_scalar("SELECT current_database()::text")
        .fetch_one(&mut **tx)
        .await
}

/// Creates `role` if it is missing, then sets its password if one is given.
///
/// The existence check comes first so that a service role without CREATEROLE still works
/// when an operator made the roles. Two runs on different databases of one cluster can
/// both find the role missing; the loser gets `unique_violation` (or `duplicate_object`)
/// and carries on, because the role it wanted now exists.
async fn ensure_role(
    tx: &mut Transaction<'_, Postgres>,
    role: &str,
    password: Option<&str>,
) -> Result<(), sqlx::Error> {
    // DO blocks take no parameters, so the name is quoted into the text; role names are
    // validated and quoted, and `$roles$` cannot occur in them.
    let create = format!(
        "DO $roles$ BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {lit}) THEN
                CREATE ROLE {ident} NOLOGIN;
            END IF;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END $roles$",
        lit = quote_literal(role),
        ident = quote_ident(role),
    );
    sqlx::query(&create).execute(&mut **tx).await?;
    if let Some(password) = password {
        // format() quotes server-side (%I, %L), so no password can escape its literal.
        let alter: String = sqlx::query_scalar(
            "SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', $1::text, $2::text)",
        )
        .bind(role)
        .bind(password)
        .fetch_one(&mut **tx)
        .await?;
        sqlx::query(&alter).execute(&mut **tx).await?;
    }
    Ok(())
}

async fn execute_all(
    tx: &mut Transaction<'_, Postgres>,
    statements: &[String],
) -> Result<(), sqlx::Error> {
    for sql in statements {
        sqlx::query(sql).execute(&mut **tx).await?;
    }
    Ok(())
}

/// A service role that neither owns the database nor holds grant options only gets a
/// warning from REVOKE, and every role of the cluster could still connect; better to fail
/// `hmis migrate` loudly.
async fn check_public_cannot_connect(
    tx: &mut Transaction<'_, Postgres>,
) -> Result<(), sqlx::Error> {
    let (db, open): (String, bool) = sqlx::query_as(
        "SELECT d.datname::text, EXISTS (
             SELECT FROM aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
             WHERE a.grantee = 0 AND a.privilege_type = 'CONNECT')
         FROM pg_database d WHERE d.datname = current_database()",
    )
    .fetch_one(&mut **tx)
    .await?;
    if open {
        return Err(sqlx::Error::Configuration(
            format!(
                "every role may still connect to database {db}: the service role must own it \
                 to restrict CONNECT to its own roles"
            )
            .into(),
        ));
    }
    Ok(())
}

/// Runs `attempt` again when PostgreSQL reports a conflict that a retry settles: ALTER
/// ROLE on the same role from two databases of one cluster can fail with "tuple
/// concurrently updated" (the advisory lock only covers one database), and deadlocks.
async fn retrying<F, Fut>(mut attempt: F) -> Result<(), sqlx::Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), sqlx::Error>>,
{
    let mut tries = 1;
    loop {
        match attempt().await {
            Err(e) if tries < 5 && is_transient(&e) => {
                tokio::time::sleep(Duration::from_millis(20 * tries)).await;
                tries += 1;
            }
            other => return other,
        }
    }
}

fn is_transient(e: &sqlx::Error) -> bool {
    let Some(db) = e.as_database_error() else {
        return false;
    };
    matches!(db.code().as_deref(), Some("40001" | "40P01"))
        || db.message().contains("tuple concurrently updated")
}
