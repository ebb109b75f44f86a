-- Moving a patient to another region: the record is frozen while it moves (`transfer_id`),
-- and hmis, inside its transfer transactions only (`SET LOCAL hmis.transfer = 'on'`), may
-- delete what the append-only rules otherwise protect, once the target region holds a copy.

ALTER TABLE patients ADD COLUMN IF NOT EXISTS transfer_id uuid;

-- A merge's history may name a record that has since moved to another region.
ALTER TABLE patient_merges DROP CONSTRAINT IF EXISTS patient_merges_survivor_id_fkey;
ALTER TABLE patient_merges DROP CONSTRAINT IF EXISTS patient_merges_duplicate_id_fkey;

CREATE OR REPLACE FUNCTION hmis_transferring() RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT coalesce(current_setting('hmis.transfer', true), '') = 'on'
$$;

CREATE OR REPLACE FUNCTION observations_keep_history() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF hmis_transferring() THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'observations are never deleted: mark them entered-in-error';
    END IF;
    INSERT INTO observation_history VALUES (OLD.id, OLD.version, OLD.value, OLD.unit,
        OLD.entered_value, OLD.entered_unit, OLD.flag, OLD.flag_reason, OLD.status, OLD.taken_at,
        coalesce(OLD.changed_by, OLD.recorded_by), coalesce(OLD.changed_at, OLD.recorded_at),
        OLD.change_reason);
    NEW.version := OLD.version + 1;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION observation_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND hmis_transferring() THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'observation_history is append-only';
END $$;

-- A copied alert is not a new one: no second notification.
CREATE OR REPLACE FUNCTION alerts_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF hmis_transferring() THEN
        RETURN NEW;
    END IF;
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
