//! Why a region did not answer, in a fixed vocabulary. Clients of cross-region answers
//! see only these words: PostgreSQL's and the pool's own messages name hosts, roles and
//! internals, so they go to the log (with the request id of the request's span) and never
//! into `regions_failed[].reason`, just as single-region errors hide them.

use crate::shards::ShardError;
use serde::Serialize;
use tokio_postgres::error::SqlState;

/// The reason a region is listed in `regions_failed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Reason {
    /// The region's database could not be reached, or its connection broke.
    Down,
    /// No answer within the deadline (the fan-out's, or the query's statement timeout).
    Timeout,
    /// The region is at capacity: no free slot or connection, or out of resources.
    Busy,
    /// The region refused the question itself (a planner's SQL it cannot run).
    Refused,
    /// Anything else; the detail is in the log.
    Error,
}

impl Reason {
    /// The word as it is serialized, for logs and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Down => "down",
            Reason::Timeout => "timeout",
            Reason::Busy => "busy",
            Reason::Refused => "refused",
            Reason::Error => "error",
        }
    }

    /// The reason of a shard's error. A query error is classified by its SQLSTATE.
    pub fn of(e: &ShardError) -> Reason {
        match e {
            ShardError::Unavailable { .. } => Reason::Down,
            ShardError::Query { source, .. } => Reason::of_db(source),
        }
    }

    /// The reason of a database error: cancelled by the statement timeout, out of
    /// resources (class 53), connection lost (08, 57 and a closed socket), or other.
    pub fn of_db(e: &tokio_postgres::Error) -> Reason {
        match e.as_db_error().map(|db| db.code()) {
            Some(code) => Reason::of_sqlstate(code.code()),
            None if e.is_closed() => Reason::Down,
            None if std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>()) => {
                Reason::Down
            }
            None => Reason::Error,
        }
    }

    /// By the SQLSTATE's class (its first two characters).
    pub fn of_sqlstate(code: &str) -> Reason {
        match code.get(..2) {
            _ if code == SqlState::QUERY_CANCELED.code() => Reason::Timeout,
            Some("08" | "57") => Reason::Down,
            Some("53") => Reason::Busy,
            _ => Reason::Error,
        }
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_serialize_as_the_five_words_of_the_vocabulary() {
        let all = [
            Reason::Down,
            Reason::Timeout,
            Reason::Busy,
            Reason::Refused,
            Reason::Error,
        ];
        let words: Vec<String> = all
            .iter()
            .map(|r| {
                serde_json::to_value(r)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(words, ["down", "timeout", "busy", "refused", "error"]);
        assert!(all.iter().zip(&words).all(|(r, w)| r.as_str() == w));
    }

    #[test]
    fn sqlstates_map_to_timeout_down_busy_or_error_never_to_their_text() {
        assert_eq!(Reason::of_sqlstate("57014"), Reason::Timeout);
        assert_eq!(Reason::of_sqlstate("57P01"), Reason::Down);
        assert_eq!(Reason::of_sqlstate("08006"), Reason::Down);
        assert_eq!(Reason::of_sqlstate("53300"), Reason::Busy);
        assert_eq!(Reason::of_sqlstate("42703"), Reason::Error);
        assert_eq!(Reason::of_sqlstate("XX000"), Reason::Error);
        assert_eq!(
            Reason::of(&ShardError::Unavailable {
                region: "maseru".into(),
                reason: "error connecting to server: Connection refused".into(),
            }),
            Reason::Down
        );
    }
}
