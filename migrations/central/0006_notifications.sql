-- Notifications: what a user should look at (a critical or abnormal vital sign of a patient
-- of their region; later chat messages and appointments), one row per user, kept in the
-- central database because that is where users are. The text names the reading, never
-- the patient: a badge or a lock screen may show it.

CREATE TABLE IF NOT EXISTS notifications (
    -- A UUIDv7: in creation order, so "newest first" and keyset paging are by id alone.
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- `critical_vital`, `abnormal_vital`; other features add theirs.
    kind text NOT NULL CHECK (kind ~ '^[a-z][a-z_]{0,40}$'),
    region text NOT NULL,
    patient_id uuid,
    -- What raised it: the alert of a critical value, the observation of an abnormal one.
    -- With the user, the key that makes generation idempotent across hmis processes.
    source_id uuid NOT NULL,
    observation_id uuid,
    text text NOT NULL CHECK (length(text) <= 200),
    created_at timestamptz NOT NULL DEFAULT now(),
    read_at timestamptz,
    CONSTRAINT notifications_once UNIQUE (source_id, user_id)
);

-- A user's notifications newest first (and the page after a cursor: one range scan).
CREATE INDEX IF NOT EXISTS notifications_user_idx ON notifications (user_id, id DESC);
-- The unread badge and "my unread, newest first".
CREATE INDEX IF NOT EXISTS notifications_unread_idx ON notifications (user_id, id DESC)
    WHERE read_at IS NULL;

-- How far generation has read each region's change log (`src/notices/generate.rs`):
-- advanced in the transaction that inserts the notifications of the events read, so a
-- process that dies midway leaves both as they were, and the next reader (any process)
-- goes on from there. Its row lock makes the processes take turns per region.
CREATE TABLE IF NOT EXISTS notice_positions (
    region text PRIMARY KEY,
    epoch uuid NOT NULL,
    xid bigint NOT NULL CHECK (xid >= 0),
    seq bigint NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
