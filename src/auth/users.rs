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

/// Why a user was not created.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("user {0} exists")]
    Exists(String),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// Creates a user; fails if the name is taken. `db` may be a transaction, so that the
/// user and their first roles are written together or not at all.
pub async fn create<'e>(
    db: impl sqlx::PgExecutor<'e>,
    username: &str,
    password: &str,
    display_name: &str,
) -> Result<Uuid, CreateError> {
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
    .execute(db)
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            CreateError::Exists(username.to_owned())
        }
        _ => CreateError::Other(e.into()),
    })?;
    Ok(id)
}

/// The id of `username`, if there is such a user.
pub async fn id_of<'e>(
    db: impl sqlx::PgExecutor<'e>,
    username: &str,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar("SELECT id FROM users WHERE username = $1")
        .bind(username)
        .fetch_optional(db)
        .await
}

/// Disables (`disabled` true) or enables a user; returns their id, or None if there is no
/// such user. After disabling, the caller revokes their sessions everywhere.
pub async fn set_disabled<'e>(
    db: impl sqlx::PgExecutor<'e>,
    username: &str,
    disabled: bool,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar(
        "UPDATE users SET disabled_at = CASE WHEN $2 THEN coalesce(disabled_at, now()) END
         WHERE username = $1 RETURNING id",
    )
    .bind(username)
    .bind(disabled)
    .fetch_optional(db)
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
