-- Patient transfers between regions: a journal that survives hmis or a database dying at
-- any step, so that every transfer is finished (or rolled back) on restart, and the
-- forwarding that lets an old ID or health record number reach the patient's new region
-- with one shard asked.

ALTER TABLE patient_forwarding
    ADD COLUMN IF NOT EXISTS hrn text,
    ADD COLUMN IF NOT EXISTS transfer_id uuid;
CREATE UNIQUE INDEX IF NOT EXISTS patient_forwarding_hrn_idx ON patient_forwarding (hrn);

CREATE TABLE IF NOT EXISTS transfers (
    id uuid PRIMARY KEY,
    patient_id uuid NOT NULL,
    hrn text NOT NULL,
    from_region text NOT NULL,
    to_region text NOT NULL,
    district text NOT NULL,
    -- started: the source record is frozen; copied: the target holds everything;
    -- switched: reads and writes go to the target; done: the source copy is gone.
    state text NOT NULL CHECK (state IN ('started', 'copied', 'switched', 'done', 'rolled_back')),
    reason text,
    requested_by text NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    last_error text
);
-- One transfer of a patient at a time.
CREATE UNIQUE INDEX IF NOT EXISTS transfers_active_idx ON transfers (patient_id)
    WHERE state NOT IN ('done', 'rolled_back');
