-- Clinical records: health record numbers, duplicate-check keys, merges, vital signs with
-- their history, and alerts on critical values.

-- Health record number (HRN): region code (2 digits) + sequence (7 digits) + a Damm check
-- digit, shown 3-3-4 (`011-234-5678`). The same algorithm as `src/domain/hrn.rs`, here so
-- that pgAdmin users and planners see the number the API shows.
CREATE OR REPLACE FUNCTION hmis_hrn(region_code integer, sequence bigint) RETURNS text LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
    -- Damm quasigroup of order 10; PostgreSQL arrays are 1-based, so the
    -- entry for (interim, digit) is damm_table[interim + 1][digit + 1].
    damm_table CONSTANT integer[] := ARRAY[
        [0, 3, 1, 7, 5, 9, 8, 6, 4, 2],
        [7, 0, 9, 2, 1, 5, 4, 8, 6, 3],
        [4, 2, 0, 6, 8, 7, 1, 3, 5, 9],
        [1, 7, 5, 0, 9, 8, 3, 4, 2, 6],
        [6, 1, 2, 3, 0, 4, 5, 9, 7, 8],
        [3, 6, 7, 4, 2, 0, 9, 5, 8, 1],
        [5, 8, 6, 9, 7, 2, 0, 1, 3, 4],
        [8, 9, 4, 5, 3, 6, 2, 0, 1, 7],
        [9, 4, 3, 8, 6, 1, 7, 2, 0, 5],
        [2, 5, 8, 1, 4, 3, 6, 7, 9, 0]
    ];
    body text;
    interim integer := 0;
    i integer;
BEGIN
    IF region_code < 1 OR region_code > 99 THEN
        RAISE EXCEPTION 'hmis_hrn: region code % is outside 1..99', region_code;
    END IF;
    IF sequence < 1 OR sequence > 9999999 THEN
        RAISE EXCEPTION 'hmis_hrn: sequence % is outside 1..9999999', sequence;
    END IF;
    body := lpad(region_code::text, 2, '0') || lpad(sequence::text, 7, '0');
    FOR i IN 1..9 LOOP
        interim := damm_table[interim + 1][substr(body, i, 1)::integer + 1];
    END LOOP;
    body := body || interim::text;
    RETURN substr(body, 1, 3) || '-' || substr(body, 4, 3) || '-' || substr(body, 7, 4);
END;
$$;

CREATE SEQUENCE IF NOT EXISTS patient_hrn_seq MINVALUE 1 MAXVALUE 9999999;

ALTER TABLE patients
    ADD COLUMN IF NOT EXISTS hrn text,
    -- Lower-case spelling-variant keys of the names (`src/domain/names.rs`), written by
    -- hmis, for the duplicate check at registration.
    ADD COLUMN IF NOT EXISTS given_key text,
    ADD COLUMN IF NOT EXISTS family_key text,
    -- A record merged into another one stays, pointing at the record that kept going.
    ADD COLUMN IF NOT EXISTS merged_into uuid REFERENCES patients (id);

-- A patient transferred in keeps the number on their card; a new one gets the next.
CREATE OR REPLACE FUNCTION patients_assign_hrn() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.hrn IS NULL THEN
        NEW.hrn := hmis_hrn((SELECT code FROM shard_identity), nextval('patient_hrn_seq'));
    END IF;
    RETURN NEW;
END $$;

DROP TRIGGER IF EXISTS patients_assign_hrn ON patients;
CREATE TRIGGER patients_assign_hrn BEFORE INSERT ON patients
    FOR EACH ROW EXECUTE FUNCTION patients_assign_hrn();

UPDATE patients SET hrn = hmis_hrn((SELECT code FROM shard_identity), nextval('patient_hrn_seq'))
WHERE hrn IS NULL AND id IN (SELECT id FROM patients ORDER BY created_at, id);

ALTER TABLE patients ALTER COLUMN hrn SET NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS patients_hrn_idx ON patients (hrn);
CREATE INDEX IF NOT EXISTS patients_family_key_idx ON patients (family_key) WHERE deleted_at IS NULL;
CREATE INDEX IF NOT EXISTS patients_given_key_idx ON patients (given_key) WHERE deleted_at IS NULL;
CREATE INDEX IF NOT EXISTS patients_birth_date_idx ON patients (birth_date) WHERE deleted_at IS NULL;
CREATE INDEX IF NOT EXISTS patients_merged_into_idx ON patients (merged_into) WHERE merged_into IS NOT NULL;

-- Every merge and its undoing: a merge is reversible and its history stays.
CREATE TABLE IF NOT EXISTS patient_merges (
    id uuid PRIMARY KEY,
    survivor_id uuid NOT NULL REFERENCES patients (id),
    duplicate_id uuid NOT NULL REFERENCES patients (id),
    reason text NOT NULL,
    merged_by text NOT NULL,
    merged_at timestamptz NOT NULL DEFAULT now(),
    undone_by text,
    undone_at timestamptz,
    undo_reason text
);
CREATE UNIQUE INDEX IF NOT EXISTS patient_merges_active_idx
    ON patient_merges (duplicate_id) WHERE undone_at IS NULL;

-- One vital sign. Values are stored in the canonical unit of their LOINC code; the unit
-- the nurse typed is kept in `entered_unit`/`entered_value`.
CREATE TABLE IF NOT EXISTS observations (
    id uuid PRIMARY KEY,
    patient_id uuid NOT NULL REFERENCES patients (id),
    -- The vitals taken together (one POST).
    set_id uuid NOT NULL,
    code text NOT NULL,
    -- '85354-9' for the two components of a blood pressure.
    panel text,
    value double precision NOT NULL,
    unit text NOT NULL,
    entered_value double precision NOT NULL,
    entered_unit text NOT NULL,
    flag text NOT NULL CHECK (flag IN ('normal', 'low', 'high', 'critical')),
    flag_reason text,
    -- BMI is computed from height and weight, never typed.
    derived boolean NOT NULL DEFAULT false,
    status text NOT NULL DEFAULT 'final' CHECK (status IN ('final', 'amended', 'entered-in-error')),
    taken_at timestamptz NOT NULL,
    recorded_by text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1,
    changed_by text,
    changed_at timestamptz,
    change_reason text
);
CREATE INDEX IF NOT EXISTS observations_chart_idx
    ON observations (patient_id, code, taken_at) WHERE status <> 'entered-in-error';
CREATE INDEX IF NOT EXISTS observations_set_idx ON observations (set_id);

-- Every earlier version of an observation, written by the trigger below whatever changes
-- the row (the API or a regional admin in pgAdmin): history is never overwritten.
CREATE TABLE IF NOT EXISTS observation_history (
    observation_id uuid NOT NULL REFERENCES observations (id),
    version integer NOT NULL,
    value double precision NOT NULL,
    unit text NOT NULL,
    entered_value double precision NOT NULL,
    entered_unit text NOT NULL,
    flag text NOT NULL,
    flag_reason text,
    status text NOT NULL,
    taken_at timestamptz NOT NULL,
    -- Who wrote this version, and when.
    written_by text NOT NULL,
    written_at timestamptz NOT NULL,
    reason text,
    PRIMARY KEY (observation_id, version)
);

CREATE OR REPLACE FUNCTION observations_keep_history() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'observations are never deleted: mark them entered-in-error';
    END IF;
    INSERT INTO observation_history VALUES (OLD.id, OLD.version, OLD.value, OLD.unit,
        OLD.entered_value, OLD.entered_unit, OLD.flag, OLD.flag_reason, OLD.status, OLD.taken_at,
        coalesce(OLD.changed_by, OLD.recorded_by), coalesce(OLD.changed_at, OLD.recorded_at),
        OLD.change_reason);
    NEW.version := OLD.version + 1;
    RETURN NEW;
END $$;

DROP TRIGGER IF EXISTS observations_keep_history ON observations;
CREATE TRIGGER observations_keep_history BEFORE UPDATE OR DELETE ON observations
    FOR EACH ROW EXECUTE FUNCTION observations_keep_history();

CREATE OR REPLACE FUNCTION observation_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'observation_history is append-only';
END $$;

DROP TRIGGER IF EXISTS observation_history_append_only ON observation_history;
CREATE TRIGGER observation_history_append_only BEFORE UPDATE OR DELETE ON observation_history
    FOR EACH ROW EXECUTE FUNCTION observation_history_append_only();

-- A critical value, for the region's clinicians until someone acknowledges it (or the
-- value is amended or marked entered in error).
CREATE TABLE IF NOT EXISTS alerts (
    id uuid PRIMARY KEY,
    patient_id uuid NOT NULL REFERENCES patients (id),
    observation_id uuid NOT NULL REFERENCES observations (id),
    code text NOT NULL,
    value double precision NOT NULL,
    unit text NOT NULL,
    reason text NOT NULL,
    raised_at timestamptz NOT NULL DEFAULT now(),
    acknowledged_by text,
    acknowledged_at timestamptz,
    resolved_at timestamptz,
    resolution text
);
CREATE INDEX IF NOT EXISTS alerts_active_idx ON alerts (patient_id)
    WHERE acknowledged_at IS NULL AND resolved_at IS NULL;

-- Raising an alert notifies listeners on channel `hmis_events` when the transaction
-- commits (never for a write that rolled back). The real-time layer fans it out to the
-- region's clinicians; the payload names no patient, only IDs.
CREATE OR REPLACE FUNCTION alerts_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('hmis_events', json_build_object(
        'kind', 'alert',
        'region', (SELECT region FROM shard_identity),
        'alert_id', NEW.id,
        'patient_id', NEW.patient_id,
        'observation_id', NEW.observation_id,
        'code', NEW.code,
        'value', NEW.value,
        'unit', NEW.unit,
        'reason', NEW.reason,
        'raised_at', NEW.raised_at)::text);
    RETURN NEW;
END $$;

DROP TRIGGER IF EXISTS alerts_notify ON alerts;
CREATE TRIGGER alerts_notify AFTER INSERT ON alerts
    FOR EACH ROW EXECUTE FUNCTION alerts_notify();
