//! The unit of work for writes: one pooled connection, one transaction, one place where a
//! database error becomes a [`ShardError`]. Before it, each write path wrote its own
//! `.map_err(|e| shard.fail(e))` after every statement (some sixty of them); one that was
//! forgotten would have leaked PostgreSQL's message or skipped evicting a dead pool.
//!
//! A write is never retried, unlike [`Shard::read`]: a write whose connection died may
//! have committed, and must not be sent twice.

use super::{Shard, ShardError};
use deadpool_postgres::Transaction;

/// Why a write's closure stopped: the database failed (mapped by [`Shard::write`], once),
/// or the request was refused (`E`, passed on as it is). Either way nothing is committed.
#[derive(Debug)]
pub enum Abort<E> {
    Db(tokio_postgres::Error),
    Refused(E),
}

impl<E> From<tokio_postgres::Error> for Abort<E> {
    fn from(e: tokio_postgres::Error) -> Self {
        Abort::Db(e)
    }
}

impl Shard {
    /// Runs `work` in a transaction on a pooled connection and commits it when `work`
    /// succeeds; when it fails the transaction is rolled back (dropped). Connecting,
    /// beginning, every statement of `work` and the commit fail as one [`ShardError`]
    /// (`Unavailable` for a lost connection, which also drops the idle ones).
    pub async fn write<T, E: From<ShardError>>(
        &self,
        work: impl AsyncFnOnce(&Transaction<'_>) -> Result<T, Abort<E>>,
    ) -> Result<T, E> {
        let mut conn = self.conn().await?;
        let outcome = async {
            let tx = conn.transaction().await?;
            let value = work(&tx).await?;
            tx.commit().await?;
            Ok(value)
        }
        .await;
        match outcome {
            Ok(value) => Ok(value),
            Err(Abort::Refused(e)) => Err(e),
            Err(Abort::Db(e)) => {
                // A connection that died under a write must not go back to the pool: the
                // pool's check (is it closed?) can pass before the client has noticed, and
                // the next write would fail on it too. Taken, it is dropped and replaced.
                if super::is_connection_error(&e) {
                    drop(deadpool_postgres::Object::take(conn));
                }
                Err(self.fail(e).into())
            }
        }
    }
}
