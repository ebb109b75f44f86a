-- The transaction that created each notification and the one that marked it read, so
-- that the long-poll's `user:me` can be read by cursor without skipping a late commit,
-- exactly as the shards' change log is (`src/notices/since.rs`): a reader takes only rows
-- whose transaction ID is below its snapshot's horizon, `pg_snapshot_xmin`, where every
-- transaction has finished. Rows from before this migration carry its own ID: old news.

ALTER TABLE notifications
    ADD COLUMN IF NOT EXISTS created_xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    ADD COLUMN IF NOT EXISTS read_xid xid8;

CREATE INDEX IF NOT EXISTS notifications_created_xid_idx
    ON notifications (user_id, created_xid);
CREATE INDEX IF NOT EXISTS notifications_read_xid_idx
    ON notifications (user_id, read_xid) WHERE read_xid IS NOT NULL;
