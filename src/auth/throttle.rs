//! Login throttling that guessers cannot turn against clinics. The state is the central
//! `login_audit` table, so every hmis process counts the same attempts, and only
//! `failure`s count: a throttled attempt (never checked) or a success adds nothing, so a
//! lockout ends when its window ends however often it is tried meanwhile.
//!
//! Three bounds, each a sliding window of `failure_window_seconds`:
//! - **account at address**: failures of one account from one address, since that pair's
//!   last success. Throttles that account at that address only: a guesser elsewhere does
//!   not lock a nurse out of her workstation, a colleague at the same desk is not touched.
//! - **account**: failures of one account from every address together (a guess from many
//!   addresses). Much higher; throttles the account at every address it has *not* logged in
//!   from within `known_address_days`, so the guessing slows while she still logs in.
//! - **address**: failures of any account from one address (spraying one password over
//!   many names). Much higher too; throttles only accounts that have not logged in from
//!   that address lately, so one guesser behind a clinic's NAT address does not lock out
//!   the nurses who work there.
//!
//! A throttled attempt is told, in `Retry-After`, when the bound that holds it releases:
//! when enough of the failures it counted have left the window.

use crate::config::AuthSettings;

/// The bounds, from `[auth]` in `hmis.toml`.
#[derive(Debug, Clone)]
pub struct Limits {
    pub per_account_at_address: u32,
    pub per_account: u32,
    pub per_address: u32,
    pub window_secs: u64,
    pub known_address_days: u32,
}

impl From<&AuthSettings> for Limits {
    fn from(s: &AuthSettings) -> Self {
        Limits {
            per_account_at_address: s.max_failures_per_account_at_address,
            per_account: s.max_failures_per_account,
            per_address: s.max_failures_per_address,
            window_secs: s.failure_window_secs(),
            known_address_days: s.known_address_days,
        }
    }
}

/// Whole seconds until `username` may try again from `address`, if a bound holds it.
/// Call with the account's and the address's advisory locks held (see the login handler),
/// so that parallel attempts are counted one after another.
pub async fn wait(
    conn: &mut sqlx::PgConnection,
    limits: &Limits,
    username: &str,
    address: &str,
) -> sqlx::Result<Option<u64>> {
    // For each bound: the limit-th most recent failure it counts. While one exists, the
    // bound holds until that failure leaves the window.
    let (secs,): (Option<f64>,) = sqlx::query_as(
        "WITH now AS (SELECT clock_timestamp() AS t),
         known AS (
             SELECT max(at) AS last_success FROM login_audit, now
             WHERE username = $1 AND address = $2 AND outcome = 'success'
               AND at > now.t - make_interval(days => $7)
         ),
         failures AS (
             SELECT at, username = $1 AS same_account, address = $2 AS same_address
             FROM login_audit, now
             WHERE outcome = 'failure' AND at > now.t - make_interval(secs => $3)
               AND (username = $1 OR address = $2)
         ),
         holding AS (
             (SELECT at FROM failures, known
              WHERE same_account AND same_address
                AND at > coalesce(known.last_success, '-infinity')
              ORDER BY at DESC OFFSET $4 LIMIT 1)
             UNION ALL
             (SELECT at FROM failures, known
              WHERE same_account AND known.last_success IS NULL
              ORDER BY at DESC OFFSET $5 LIMIT 1)
             UNION ALL
             (SELECT at FROM failures, known
              WHERE same_address AND known.last_success IS NULL
              ORDER BY at DESC OFFSET $6 LIMIT 1)
         )
         SELECT extract(epoch FROM max(at) + make_interval(secs => $3) - (SELECT t FROM now))::float8
         FROM holding",
    )
    .bind(username)
    .bind(address)
    .bind(limits.window_secs as f64)
    .bind(offset(limits.per_account_at_address))
    .bind(offset(limits.per_account))
    .bind(offset(limits.per_address))
    .bind(i32::try_from(limits.known_address_days).unwrap_or(i32::MAX))
    .fetch_one(conn)
    .await?;
    Ok(secs.map(retry_after))
}

/// The row to look at for a limit: the limit-th most recent (a limit of 0 acts as 1).
fn offset(limit: u32) -> i64 {
    i64::from(limit.max(1)) - 1
}

/// `Retry-After` for a bound releasing in `secs`: rounded up, so that a client that waits
/// as told is let through, and at least 1.
fn retry_after(secs: f64) -> u64 {
    secs.ceil().max(1.0) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_rounds_up_so_that_waiting_as_told_is_enough() {
        assert_eq!(retry_after(57.01), 58);
        assert_eq!(retry_after(58.0), 58);
        assert_eq!(retry_after(0.2), 1);
        assert_eq!(
            retry_after(-0.5),
            1,
            "released while we counted: still a whole second"
        );
    }

    #[test]
    fn the_limit_th_most_recent_failure_is_the_one_that_holds() {
        assert_eq!(offset(5), 4);
        assert_eq!(offset(1), 0);
        assert_eq!(offset(0), 0);
    }
}
