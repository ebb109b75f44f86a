//! Sessions: an opaque random token, known to the client only; the central database keeps
//! its SHA-256. Each process caches the sessions it has seen, so that an authenticated
//! request costs a hash and a map lookup, not a database round trip. Revocations reach
//! the cache through NOTIFY (see `listener`); expiry is checked on every request:
//! an absolute limit from login, and an idle limit since the last request. The last-seen
//! time is written back at most once a minute, off the request path.

use crate::domain::notify::Note;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use parking_lot::{Mutex, RwLock};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use uuid::Uuid;

/// How long sessions live.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub absolute: Duration,
    pub idle: Duration,
}

/// An authenticated session, as a request sees it.
#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: Uuid,
    pub username: String,
    pub token_sha256: [u8; 32],
}

struct Cached {
    session: Session,
    expires_at: DateTime<Utc>,
    last_seen: Mutex<(DateTime<Utc>, DateTime<Utc>)>, // (seen, written to the database)
}

pub struct Sessions {
    pool: sqlx::PgPool,
    limits: Limits,
    cache: RwLock<HashMap<[u8; 32], std::sync::Arc<Cached>>>,
}

/// A new random token (256 bits), as sent to the client.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn sha256(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// The CSRF token of a session: derived from the session token, so nothing is stored,
/// and unknowable to a page that cannot read the session cookie.
pub fn csrf_token(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(format!("hmis-csrf:{token}").as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Sessions {
    pub fn new(pool: sqlx::PgPool, limits: Limits) -> Self {
        Sessions {
            pool,
            limits,
            cache: RwLock::default(),
        }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Stores a new session for `user_id` and returns its token and expiry.
    pub async fn create(
        &self,
        user_id: Uuid,
        address: Option<&str>,
        user_agent: Option<&str>,
    ) -> sqlx::Result<(String, DateTime<Utc>)> {
        let token = new_token();
        let expires_at = Utc::now() + self.limits.absolute;
        sqlx::query(
            "INSERT INTO sessions (token_sha256, user_id, expires_at, address, user_agent)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&sha256(&token)[..])
        .bind(user_id)
        .bind(expires_at)
        .bind(address)
        .bind(user_agent.map(|u| u.chars().take(200).collect::<String>()))
        .execute(&self.pool)
        .await?;
        Ok((token, expires_at))
    }

    /// The live session of `token`, or None (unknown, revoked, expired, user disabled).
    pub async fn lookup(&self, token: &str) -> sqlx::Result<Option<Session>> {
        let hash = sha256(token);
        let cached = self.cache.read().get(&hash).cloned();
        let cached = match cached {
            Some(c) => c,
            None => match self.load(hash).await? {
                Some(c) => c,
                None => return Ok(None),
            },
        };
        let now = Utc::now();
        if now >= cached.expires_at {
            self.cache.write().remove(&hash);
            return Ok(None);
        }
        let locally_idle = now - cached.last_seen.lock().0 >= self.limits.idle;
        // Idle here may still be busy on another process: ask the database, which every
        // process updates more often than the idle limit.
        if locally_idle && !self.recently_seen(hash, now).await? {
            self.cache.write().remove(&hash);
            return Ok(None);
        }
        let write_back = {
            let mut seen = cached.last_seen.lock();
            seen.0 = now;
            let due = now - seen.1 >= self.write_back_every();
            if due {
                seen.1 = now;
            }
            due
        };
        if write_back {
            let pool = self.pool.clone();
            tokio::spawn(async move {
                let _ = sqlx::query("UPDATE sessions SET last_seen_at = greatest(last_seen_at, $2) WHERE token_sha256 = $1")
                    .bind(&hash[..])
                    .bind(now)
                    .execute(&pool)
                    .await;
            });
        }
        Ok(Some(cached.session.clone()))
    }

    /// How often a busy session's last-seen time is written back: often enough that
    /// another process judging idleness sees it, rarely enough to stay off the hot path.
    fn write_back_every(&self) -> Duration {
        (self.limits.idle / 4).min(Duration::minutes(1))
    }

    async fn recently_seen(&self, hash: [u8; 32], now: DateTime<Utc>) -> sqlx::Result<bool> {
        let seen: Option<DateTime<Utc>> = sqlx::query_scalar(
            "SELECT last_seen_at FROM sessions WHERE token_sha256 = $1 AND revoked_at IS NULL",
        )
        .bind(&hash[..])
        .fetch_optional(&self.pool)
        .await?;
        Ok(seen.is_some_and(|seen| now - seen < self.limits.idle))
    }

    async fn load(&self, hash: [u8; 32]) -> sqlx::Result<Option<std::sync::Arc<Cached>>> {
        let row: Option<(Uuid, String, DateTime<Utc>, DateTime<Utc>)> = sqlx::query_as(
            "SELECT s.user_id, u.username, s.expires_at, s.last_seen_at
             FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_sha256 = $1 AND s.revoked_at IS NULL AND u.disabled_at IS NULL",
        )
        .bind(&hash[..])
        .fetch_optional(&self.pool)
        .await?;
        let Some((user_id, username, expires_at, last_seen)) = row else {
            return Ok(None);
        };
        let cached = std::sync::Arc::new(Cached {
            session: Session {
                user_id,
                username,
                token_sha256: hash,
            },
            expires_at,
            last_seen: Mutex::new((last_seen, last_seen)),
        });
        self.cache.write().insert(hash, cached.clone());
        Ok(Some(cached))
    }

    /// Revokes one session everywhere.
    pub async fn revoke(&self, hash: [u8; 32]) -> anyhow::Result<()> {
        sqlx::query(
            "UPDATE sessions SET revoked_at = now() WHERE token_sha256 = $1 AND revoked_at IS NULL",
        )
        .bind(&hash[..])
        .execute(&self.pool)
        .await?;
        self.forget_session(&hex(&hash));
        let note = Note::Session { hash: hex(&hash) };
        crate::bus::send(&self.pool, &note).await
    }

    /// Revokes every session of a user, everywhere (logout everywhere, disabled user).
    pub async fn revoke_user(&self, user_id: Uuid) -> anyhow::Result<()> {
        sqlx::query(
            "UPDATE sessions SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL",
        )
        .bind(user_id)
        .execute(&self.pool)
        .await?;
        self.forget_user(user_id);
        crate::bus::send(&self.pool, &Note::User { user_id }).await
    }

    pub fn forget_session(&self, hex_hash: &str) {
        self.cache.write().retain(|k, _| hex(k) != hex_hash);
    }

    pub fn forget_user(&self, user_id: Uuid) {
        self.cache
            .write()
            .retain(|_, c| c.session.user_id != user_id);
    }

    pub fn forget_all(&self) {
        self.cache.write().clear();
    }
}
