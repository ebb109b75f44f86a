//! Why a region did not answer a planner's query, as the `_summary` tells it.
//!
//! The `reason` is one word of [`Reason`], as in every cross-region answer. A planner also
//! needs to know what was wrong with their SQL, so an error the planner's own statement
//! caused (SQLSTATE classes 21 cardinality, 22 data, 42 syntax, undefined names and
//! permissions, 0A not supported, 54 program limits) is `refused` with PostgreSQL's
//! `sqlstate`, `message` and `hint`: those name the columns and tables of the planning
//! views, nothing secret. Errors of hmis's own statements around it (the audit line,
//! `SET LOCAL ROLE`), connection losses and internal errors carry only their word, and
//! their detail goes to the log. A few failures carry hmis's own words in `message`
//! (a timeout's limit, a full region, columns the answer cannot use).

use crate::fanout::Reason;
use crate::shards::{Shard, ShardError};
use serde::Serialize;
use tokio_postgres::error::SqlState;

/// SQLSTATE classes of errors the planner's SQL causes, whose text the planner is told.
const PLANNERS_CLASSES: [&str; 5] = ["21", "22", "42", "0A", "54"];

/// One region's failure: what the summary says, and what only the log says.
#[derive(Debug, Serialize)]
pub struct Failure {
    pub reason: Reason,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sqlstate: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// For the log only.
    #[serde(skip)]
    pub detail: String,
}

impl Failure {
    /// A failure told by its word alone.
    pub fn bare(reason: Reason, detail: impl Into<String>) -> Failure {
        Failure {
            reason,
            sqlstate: None,
            message: None,
            hint: None,
            detail: detail.into(),
        }
    }

    /// A failure with hmis's own words for the planner.
    pub fn told(reason: Reason, message: impl Into<String>) -> Failure {
        let message = message.into();
        Failure {
            message: Some(message.clone()),
            ..Failure::bare(reason, message)
        }
    }

    /// An error of one of hmis's own statements: the word only. A lost connection goes
    /// through [`Shard::fail`], so that the region's idle connections are dropped too.
    pub fn own(shard: &Shard, e: tokio_postgres::Error) -> Failure {
        let reason = Reason::of_db(&e);
        Failure::bare(reason, shard.fail(e).to_string())
    }

    /// An error while running the planner's statement.
    pub fn planners(shard: &Shard, e: tokio_postgres::Error, timeout_ms: u64) -> Failure {
        let Some(db) = e.as_db_error() else {
            return Failure::own(shard, e);
        };
        let code = db.code().code();
        if *db.code() == SqlState::QUERY_CANCELED {
            let said = format!("no answer within query_timeout_ms ({timeout_ms} ms)");
            return Failure {
                detail: db.to_string(),
                ..Failure::told(Reason::Timeout, said)
            };
        }
        if !PLANNERS_CLASSES.contains(&&code[..2]) {
            return Failure::own(shard, e);
        }
        Failure {
            reason: Reason::Refused,
            sqlstate: Some(code.to_owned()),
            message: Some(db.message().to_owned()),
            hint: db.hint().map(str::to_owned),
            detail: db.to_string(),
        }
    }

    /// The pool gave no connection.
    pub fn unavailable(e: &ShardError) -> Failure {
        Failure::bare(Reason::of(e), e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_failure_serializes_as_its_word_and_keeps_its_detail_for_the_log() {
        let f = Failure::bare(Reason::Down, "error connecting to server: 10.0.0.5:5432");
        let json = serde_json::to_value(&f).unwrap();
        assert_eq!(json, serde_json::json!({"reason": "down"}));
        assert!(!json.to_string().contains("10.0.0.5"));
    }

    #[test]
    fn a_refusal_names_the_sqlstate_and_message_and_leaves_out_what_is_absent() {
        let f = Failure {
            reason: Reason::Refused,
            sqlstate: Some("42703".into()),
            message: Some("column \"given_name\" does not exist".into()),
            hint: None,
            detail: "the log's".into(),
        };
        assert_eq!(
            serde_json::to_value(&f).unwrap(),
            serde_json::json!({"reason": "refused", "sqlstate": "42703",
                "message": "column \"given_name\" does not exist"})
        );
    }
}
