//! Users in the central database: created by `hmis users add` or the admin API, never by
//! `hmis serve` on its own (only `hmis dev` makes demo users).

use uuid::Uuid;

/// Usernames: lower-case letters, digits, `.`, `_`, `-`; 2 to 63 characters.
pub fn valid_username(name: &str) -> Result<(), String> {
    let ok = (2..=63).contains(&name.len())
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || ".-_".contains(c));
    if ok {
        Ok(())
    } else {
        Err("2 to 63 lower-case letters, digits, '.', '_' or '-'".into())
    }
}

pub fn valid_password(password: &str) -> Result<(), String> {
    if password.chars().count() < 4 || password.len() > 1024 {
        return Err("must be 4 to 1024 characters".into());
    }
    Ok(())
}

/// Creates a user; fails if the name is taken.
pub async fn create(
    pool: &sqlx::PgPool,
    username: &str,
    password: &str,
    display_name: &str,
) -> anyhow::Result<Uuid> {
    valid_username(username).map_err(|e| anyhow::anyhow!("username: {e}"))?;
    valid_password(password).map_err(|e| anyhow::anyhow!("password: {e}"))?;
    let hash = super::password::hash(password.to_owned()).await?;
    let id = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO users (id, username, display_name, password_hash) VALUES ($1, $2, $3, $4)",
    )
    .bind(id)
    .bind(username)
    .bind(display_name)
    .bind(hash)
    .execute(pool)
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            anyhow::anyhow!("user {username} exists")
        }
        _ => e.into(),
    })?;
    Ok(id)
}

/// The id of `username`, if there is such a user.
pub async fn id_of(pool: &sqlx::PgPool, username: &str) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar("SELECT id FROM users WHERE username = $1")
        .bind(username)
        .fetch_optional(pool)
        .await
}

/// Disables a user; the caller then revokes their sessions everywhere.
pub async fn disable(pool: &sqlx::PgPool, username: &str) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar("UPDATE users SET disabled_at = coalesce(disabled_at, now()) WHERE username = $1 RETURNING id")
        .bind(username)
        .fetch_optional(pool)
        .await
}

/// (username, display name, disabled)
pub async fn list(pool: &sqlx::PgPool) -> sqlx::Result<Vec<(String, String, bool)>> {
    sqlx::query_as(
        "SELECT username, display_name, disabled_at IS NOT NULL FROM users ORDER BY username",
    )
    .fetch_all(pool)
    .await
}
