//! Password hashing with argon2id (the argon2 crate's defaults: 19 MiB, 2 passes). Hashing
//! takes tens of milliseconds of CPU on purpose, so it runs on the blocking pool, never on
//! the async workers that serve other requests.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use std::sync::LazyLock;

/// A hash of a password nobody has, verified when the username is unknown so that a
/// wrong username costs as long as a wrong password (no timing oracle for usernames).
static DUMMY: LazyLock<String> = LazyLock::new(|| hash_now("not a password").expect("hash"));

fn hash_now(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// The PHC string (`$argon2id$v=19$...`) of `password`.
pub async fn hash(password: String) -> anyhow::Result<String> {
    Ok(tokio::task::spawn_blocking(move || hash_now(&password)).await??)
}

/// Whether `password` matches `stored`; with `stored` None, spends the same time and fails.
pub async fn verify(password: String, stored: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let known = stored.is_some();
        let phc = stored.unwrap_or_else(|| DUMMY.clone());
        let ok = PasswordHash::new(&phc)
            .map(|h| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &h)
                    .is_ok()
            })
            .unwrap_or(false);
        known && ok
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let h = super::hash("demo".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(super::verify("demo".into(), Some(h.clone())).await);
        assert!(!super::verify("Demo".into(), Some(h)).await);
        assert!(!super::verify("demo".into(), None).await);
    }
}
