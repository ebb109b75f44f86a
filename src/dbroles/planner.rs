//! `<region>_planner`: the role planners' queries run as in a region (hmis `SET LOCAL
//! ROLE`s to it) and the role the central database's foreign servers log in as. It reads
//! the `planning` views (`migrations/shard/0005_planning.sql`) and nothing else.

use super::{PLANNING_SCHEMA, quote_ident, region_role_names};
use sqlx::{Postgres, Transaction};

/// The role planners' queries in `region` run as: it may read the `planning` views.
pub fn region_planner_role(region: &str) -> Result<String, sqlx::Error> {
    region_role_names(region)?;
    Ok(format!("{region}_planner"))
}

/// `<region>_planner` reads the `planning` views and nothing in `public`: not even its
/// functions, hence USAGE on `public` taken from PUBLIC (the roles that need it hold it
/// by name). Grants made by hand are taken back.
pub(super) fn planner_statements(p: &str) -> Vec<String> {
    vec![
        "REVOKE USAGE ON SCHEMA public FROM PUBLIC".to_owned(),
        format!("REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {p}"),
        format!("REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {p}"),
        format!("REVOKE ALL ON SCHEMA public FROM {p}"),
        format!("GRANT USAGE ON SCHEMA {PLANNING_SCHEMA} TO {p}"),
        format!("GRANT SELECT ON ALL TABLES IN SCHEMA {PLANNING_SCHEMA} TO {p}"),
        // The views are simple enough to be updatable: only SELECT, ever.
        format!(
            "REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER \
             ON ALL TABLES IN SCHEMA {PLANNING_SCHEMA} FROM {p}"
        ),
        format!(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA {PLANNING_SCHEMA} GRANT SELECT ON TABLES TO {p}"
        ),
    ]
}

/// Makes the service role a member of `role`, so that it may `SET ROLE` to it (a
/// superuser already may). Two runs on one cluster may race: the loser's grant is a no-op.
pub(super) async fn ensure_member(
    tx: &mut Transaction<'_, Postgres>,
    role: &str,
) -> Result<(), sqlx::Error> {
    let member: bool = sqlx::query_scalar("SELECT pg_has_role(current_user, $1, 'MEMBER')")
        .bind(role)
        .fetch_one(&mut **tx)
        .await?;
    if !member {
        let grant = format!(
            "DO $roles$ BEGIN GRANT {} TO CURRENT_USER;
             EXCEPTION WHEN unique_violation THEN NULL; END $roles$",
            quote_ident(role)
        );
        sqlx::query(&grant).execute(&mut **tx).await?;
    }
    Ok(())
}
