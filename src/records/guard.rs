//! What a request may do with a patient's record in the state it is in: the one answer, for
//! every resource, to "missing, deleted, merged or moving?".
//!
//! It was six hand-written variants that disagreed (a delete went through on a merged
//! record, an update did not; an alert could be acknowledged on a deleted patient or while
//! the patient's records were being copied to another region). Now every handler asks
//! [`check`] with what it is about to do ([`Intent`]), and the answer is this table:
//!
//! | record   | `Record` (read it)      | `Belongings` (read its data) | `Write`                      |
//! |----------|-------------------------|------------------------------|------------------------------|
//! | missing  | 404                     | 404                          | 404                          |
//! | deleted  | 410                     | 410                          | 410                          |
//! | merged   | answered, `merged_into` | 409 `merged`, the survivor   | 409 `merged`, the survivor   |
//! | moving   | answered (frozen copy)  | answered (frozen copy)       | 409 `transfer-in-progress`   |
//!
//! The checks run in that order (deleted before merged before moving), so a record in two
//! states gets the same answer from every operation.

use crate::http::ApiError;
use crate::http::ConflictKind;
use crate::shards::Conn;
use uuid::Uuid;

/// What every guard decision needs to know of a patient's record, and nothing else.
#[derive(Debug, Clone, Copy)]
pub struct Status {
    pub deleted: bool,
    pub merged_into: Option<Uuid>,
    pub transferring: bool,
}

/// A row that carries a patient's [`Status`] (the patient row, the state a write locks).
pub trait Guarded {
    fn status(&self) -> Status;
}

impl Guarded for Status {
    fn status(&self) -> Status {
        *self
    }
}

/// What the request is about to do with the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    /// Read the record itself: a merged one is shown with `merged_into`, so that a client
    /// holding the old ID learns the survivor's.
    Record,
    /// Read what belongs to the patient (observations, alerts): a merged record's data is
    /// read through its survivor, which the 409 names.
    Belongings,
    /// Change the record or anything that belongs to it.
    Write,
}

/// The record as `intent` may use it, or the answer for why not (see the module's table).
pub fn check<T: Guarded>(found: Option<T>, id: Uuid, intent: Intent) -> Result<T, ApiError> {
    let Some(row) = found else {
        return Err(ApiError::NotFound(format!("no patient with ID {id}")));
    };
    let s = row.status();
    if s.deleted {
        return Err(ApiError::Gone(format!("patient {id} was deleted")));
    }
    if let Some(survivor) = s.merged_into.filter(|_| intent != Intent::Record) {
        return Err(merged(id, survivor));
    }
    if s.transferring && intent == Intent::Write {
        return Err(moving(id));
    }
    Ok(row)
}

/// The record, for a read of the record itself: 404 or 410 else.
pub fn readable<T: Guarded>(found: Option<T>, id: Uuid) -> Result<T, ApiError> {
    check(found, id, Intent::Record)
}

/// The record, for any change to it or to what belongs to it: 404, 410 or 409 else.
pub fn writable<T: Guarded>(found: Option<T>, id: Uuid) -> Result<T, ApiError> {
    check(found, id, Intent::Write)
}

/// Compares the version in `If-Match` (when sent) with the record's: 412 naming the
/// current one when they differ.
pub fn fresh(expected: Option<i32>, current: i32) -> Result<(), ApiError> {
    match expected {
        Some(v) if v != current => Err(ApiError::PreconditionFailed { current }),
        _ => Ok(()),
    }
}

/// A record frozen while it moves region: the write is for a few seconds later.
pub fn moving(id: Uuid) -> ApiError {
    ApiError::Conflict(
        ConflictKind::TransferInProgress,
        format!("patient {id} is moving to another region; try again in a moment"),
    )
}

pub fn merged(id: Uuid, survivor: Uuid) -> ApiError {
    ApiError::Conflict(
        ConflictKind::Merged,
        format!("patient {id} was merged into {survivor}: use /api/v1/patients/{survivor}"),
    )
}

/// The status of patient `id` in this shard, if it has the record.
pub async fn status(conn: &impl Conn, id: Uuid) -> Result<Option<Status>, tokio_postgres::Error> {
    let sql = "SELECT deleted_at IS NOT NULL, merged_into, transfer_id IS NOT NULL FROM patients WHERE id = $1";
    let stmt = conn.prepared(sql).await?;
    let row = conn.client().query_opt(&stmt, &[&id]).await?;
    Ok(row.map(|r| Status {
        deleted: r.get(0),
        merged_into: r.get(1),
        transferring: r.get(2),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FINE: Status = Status {
        deleted: false,
        merged_into: None,
        transferring: false,
    };
    const INTENTS: [Intent; 3] = [Intent::Record, Intent::Belongings, Intent::Write];

    fn answer(s: Option<Status>, intent: Intent) -> Result<(), (u16, &'static str)> {
        check(s, Uuid::nil(), intent)
            .map(|_| ())
            .map_err(|e| match e {
                ApiError::NotFound(_) => (404, "not-found"),
                ApiError::Gone(_) => (410, "gone"),
                ApiError::Conflict(kind, _) => (409, kind.as_str()),
                other => panic!("unexpected {other:?}"),
            })
    }

    #[test]
    fn a_missing_or_deleted_record_is_refused_for_every_intent() {
        let deleted = Status {
            deleted: true,
            merged_into: Some(Uuid::max()),
            transferring: true,
        };
        for intent in INTENTS {
            assert_eq!(answer(None, intent), Err((404, "not-found")));
            assert_eq!(answer(Some(deleted), intent), Err((410, "gone")));
            assert_eq!(answer(Some(FINE), intent), Ok(()));
        }
    }

    #[test]
    fn a_merged_record_is_shown_but_its_data_and_writes_go_to_the_survivor() {
        let merged = Some(Status {
            merged_into: Some(Uuid::max()),
            transferring: true,
            ..FINE
        });
        assert_eq!(answer(merged, Intent::Record), Ok(()));
        assert_eq!(answer(merged, Intent::Belongings), Err((409, "merged")));
        assert_eq!(answer(merged, Intent::Write), Err((409, "merged")));
    }

    #[test]
    fn a_moving_record_is_readable_and_refuses_writes() {
        let moving = Some(Status {
            transferring: true,
            ..FINE
        });
        assert_eq!(answer(moving, Intent::Record), Ok(()));
        assert_eq!(answer(moving, Intent::Belongings), Ok(()));
        assert_eq!(
            answer(moving, Intent::Write),
            Err((409, "transfer-in-progress"))
        );
    }

    #[test]
    fn an_if_match_is_optional_but_must_name_the_current_version() {
        assert!(fresh(None, 3).is_ok());
        assert!(fresh(Some(3), 3).is_ok());
        assert!(matches!(
            fresh(Some(2), 3),
            Err(ApiError::PreconditionFailed { current: 3 })
        ));
    }
}
