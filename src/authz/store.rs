//! The policy table (`casbin_rule`, in casbin's sqlx adapter layout) written directly, for
//! the commands that run without a serving process: `hmis migrate` (the shipped policy
//! into an empty table), `hmis users grant` and `hmis policy`, `hmis dev`'s demo users.
//! Each change is announced with NOTIFY, so running processes reload at once.

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
    for [role, obj, act, cond] in DEFAULT_POLICY {
        line(&mut *tx, true, "p", [role, obj, act, cond]).await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// Checks a grant before it is written: a known role, a known region (or `*`), and the
/// every-region roles only with `*`.
pub fn check_grant(role: &str, region: &str, regions: &[String]) -> Result<(), String> {
    if !ROLES.contains(&role) {
        return Err(format!(
            "unknown role \"{role}\"; roles: {}",
            ROLES.join(", ")
        ));
    }
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

/// Gives (or with `add` false, takes) `role` in `region` to `user`.
pub async fn grant(
    pool: &sqlx::PgPool,
    add: bool,
    user: &str,
    role: &str,
    region: &str,
) -> anyhow::Result<()> {
    line(pool, add, "g", [user, role, region, ""]).await?;
    crate::auth::listener::notify(pool, "policy").await
}

/// Adds or removes one `p` line (role, object kind, action, condition).
pub async fn policy(pool: &sqlx::PgPool, add: bool, rule: [&str; 4]) -> anyhow::Result<()> {
    line(pool, add, "p", rule).await?;
    crate::auth::listener::notify(pool, "policy").await
}

/// Every line as (ptype, v0, v1, v2, v3).
pub async fn lines(
    pool: &sqlx::PgPool,
) -> sqlx::Result<Vec<(String, String, String, String, String)>> {
    sqlx::query_as(
        "SELECT ptype, v0, v1, v2, v3 FROM casbin_rule ORDER BY ptype DESC, v0, v1, v2, v3",
    )
    .fetch_all(pool)
    .await
}

async fn line<'e>(
    db: impl sqlx::PgExecutor<'e>,
    add: bool,
    ptype: &str,
    v: [&str; 4],
) -> sqlx::Result<()> {
    let sql = if add {
        "INSERT INTO casbin_rule (ptype, v0, v1, v2, v3, v4, v5) VALUES ($1, $2, $3, $4, $5, '', '')
         ON CONFLICT DO NOTHING"
    } else {
        "DELETE FROM casbin_rule WHERE ptype = $1 AND v0 = $2 AND v1 = $3 AND v2 = $4 AND v3 = $5"
    };
    sqlx::query(sql)
        .bind(ptype)
        .bind(v[0])
        .bind(v[1])
        .bind(v[2])
        .bind(v[3])
        .execute(db)
        .await?;
    Ok(())
}
