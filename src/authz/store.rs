//! The policy table (`casbin_rule`, in casbin's sqlx adapter layout) written directly, for
//! the commands that run without a serving process: `hmis migrate` (the shipped policy
//! into an empty table), `hmis users grant` and `hmis policy`, `hmis dev`'s demo users.
//! Each change is announced with NOTIFY, so running processes reload at once.
//!
//! Rows carry the casbin names (`user:<name>`, `role:<name>`, see `super::names`); these
//! functions take and give bare names.

use super::names;
use super::policy::{DEFAULT_POLICY, GLOBAL_ROLES, ROLES};

/// Writes the shipped policy if the table has no policy line yet. Returns whether it did.
pub async fn seed_default(pool: &sqlx::PgPool) -> sqlx::Result<bool> {
    let mut tx = pool.begin().await?;
    // Two `hmis migrate` at once must not both seed.
    sqlx::query("LOCK TABLE casbin_rule IN SHARE ROW EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await?;
    let any: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM casbin_rule WHERE ptype = 'p')")
            .fetch_one(&mut *tx)
            .await?;
    if any {
        return Ok(false);
    }
    for rule in DEFAULT_POLICY {
        policy_line(&mut *tx, true, *rule).await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// Checks a grant before it is written: a known role, a known region (or `*`), and the
/// every-region roles only with `*`.
pub fn check_grant(role: &str, region: &str, regions: &[String]) -> Result<(), String> {
    check_role(role)?;
    if GLOBAL_ROLES.contains(&role) && region != "*" {
        return Err(format!("{role} is held in every region: use region \"*\""));
    }
    if region != "*" && !regions.iter().any(|r| r == region) {
        return Err(format!(
            "unknown region \"{region}\"; regions: {}",
            regions.join(", ")
        ));
    }
    Ok(())
}

/// Checks the role of a new policy line: one of the roles hmis knows, since no other could
/// ever be granted.
pub fn check_role(role: &str) -> Result<(), String> {
    if ROLES.contains(&role) {
        Ok(())
    } else {
        Err(format!(
            "unknown role \"{role}\"; roles: {}",
            ROLES.join(", ")
        ))
    }
}

/// Gives (or with `add` false, takes) `role` in `region` to `user`, and tells every process.
/// Returns whether anything changed (false: held already, or not held).
pub async fn grant(
    pool: &sqlx::PgPool,
    add: bool,
    user: &str,
    role: &str,
    region: &str,
) -> anyhow::Result<bool> {
    let changed = grant_line(pool, add, user, role, region).await?;
    crate::bus::send(pool, &crate::domain::notify::Note::Policy).await?;
    Ok(changed)
}

/// Adds or removes one `p` line (role, object kind, action, condition), and tells every
/// process. Returns whether anything changed.
pub async fn policy(pool: &sqlx::PgPool, add: bool, rule: [&str; 4]) -> anyhow::Result<bool> {
    let changed = policy_line(pool, add, rule).await?;
    crate::bus::send(pool, &crate::domain::notify::Note::Policy).await?;
    Ok(changed)
}

/// One `g` line, inside the caller's transaction (no NOTIFY: the caller sends it after the
/// commit). Returns whether a row was added or removed.
pub async fn grant_line<'e>(
    db: impl sqlx::PgExecutor<'e>,
    add: bool,
    user: &str,
    role: &str,
    region: &str,
) -> sqlx::Result<bool> {
    let (user, role) = (names::user(user), names::role(role));
    line(db, add, "g", [&user, &role, region, ""]).await
}

async fn policy_line<'e>(
    db: impl sqlx::PgExecutor<'e>,
    add: bool,
    [role, obj, act, cond]: [&str; 4],
) -> sqlx::Result<bool> {
    line(db, add, "p", [&names::role(role), obj, act, cond]).await
}

/// Every line as (ptype, v0, v1, v2, v3), with bare user and role names.
pub async fn lines(
    pool: &sqlx::PgPool,
) -> sqlx::Result<Vec<(String, String, String, String, String)>> {
    let rows: Vec<(String, String, String, String, String)> = sqlx::query_as(
        "SELECT ptype, v0, v1, v2, v3 FROM casbin_rule ORDER BY ptype DESC, v0, v1, v2, v3",
    )
    .fetch_all(pool)
    .await?;
    let bare = |s: String, strip: fn(&str) -> Option<&str>| strip(&s).unwrap_or(&s).to_owned();
    Ok(rows
        .into_iter()
        .map(|(ptype, a, b, c, d)| match ptype.as_str() {
            "g" => (
                ptype,
                bare(a, names::bare_user),
                bare(b, names::bare_role),
                c,
                d,
            ),
            _ => (ptype, bare(a, names::bare_role), b, c, d),
        })
        .collect())
}

/// How many users other than `except` hold `system_admin` in every region and are not
/// disabled. Holds a lock until the caller's transaction ends, so that two admins disabling
/// (or demoting) each other at once are counted one after the other and cannot both succeed.
pub async fn other_active_system_admins(
    tx: &mut sqlx::PgConnection,
    except: &str,
) -> sqlx::Result<i64> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(SYSTEM_ADMINS_LOCK)
        .execute(&mut *tx)
        .await?;
    sqlx::query_scalar(
        "SELECT count(*) FROM users u JOIN casbin_rule c
           ON c.ptype = 'g' AND c.v0 = $1 || u.username AND c.v1 = $2 AND c.v2 = '*'
         WHERE u.disabled_at IS NULL AND u.username <> $3",
    )
    .bind(names::user(""))
    .bind(names::role("system_admin"))
    .bind(except)
    .fetch_one(&mut *tx)
    .await
}

/// The advisory lock key of [`other_active_system_admins`] ("hmis-sa" in ASCII).
const SYSTEM_ADMINS_LOCK: i64 = 0x0068_6d69_732d_7361;

async fn line<'e>(
    db: impl sqlx::PgExecutor<'e>,
    add: bool,
    ptype: &str,
    v: [&str; 4],
) -> sqlx::Result<bool> {
    let sql = if add {
        "INSERT INTO casbin_rule (ptype, v0, v1, v2, v3, v4, v5) VALUES ($1, $2, $3, $4, $5, '', '')
         ON CONFLICT DO NOTHING"
    } else {
        "DELETE FROM casbin_rule WHERE ptype = $1 AND v0 = $2 AND v1 = $3 AND v2 = $4 AND v3 = $5"
    };
    let done = sqlx::query(sql)
        .bind(ptype)
        .bind(v[0])
        .bind(v[1])
        .bind(v[2])
        .bind(v[3])
        .execute(db)
        .await?;
    Ok(done.rows_affected() > 0)
}
