-- The change log: one row per insert, update or delete of a record clinicians watch,
-- appended by trigger in the writing transaction itself, so that a change made in pgAdmin
-- is logged exactly like one made through hmis, and a write that rolls back leaves no
-- event. Readers read it by cursor (`src/changes/`); NOTIFY only wakes them.
--
-- Events name records, never copy them: IDs, the kind, the operation, the region and the
-- time; no name, no value. A reader that wants the record reads it, authorized.

-- The log's identity and how far it was pruned. A cursor of another epoch (the log was
-- recreated) or below the pruned position cannot resume, and is told so.
CREATE TABLE IF NOT EXISTS change_log_meta (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    epoch uuid NOT NULL DEFAULT gen_random_uuid(),
    -- The position (xid, seq) of the last event pruned; ('0', 0) while none was.
    pruned_xid xid8 NOT NULL DEFAULT '0',
    pruned_seq bigint NOT NULL DEFAULT 0,
    pruned_at timestamptz
);
INSERT INTO change_log_meta DEFAULT VALUES ON CONFLICT DO NOTHING;

CREATE TABLE IF NOT EXISTS change_log (
    -- Order within a transaction (and a tie-break); alone it is NOT a safe cursor: a
    -- transaction that took a lower number may commit after a higher one was read.
    seq bigint GENERATED ALWAYS AS IDENTITY,
    -- The writing (top-level) transaction. Readers only read below the oldest running
    -- one, in (xid, seq) order: see the proof in src/changes/mod.rs.
    xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    at timestamptz NOT NULL DEFAULT clock_timestamp(),
    region text NOT NULL,
    kind text NOT NULL,
    entity_id uuid NOT NULL,
    -- For topics `patient:<id>`; NULL for an entity that belongs to no patient.
    patient_id uuid,
    op text NOT NULL CHECK (op IN ('insert', 'update', 'delete')),
    -- The reading order; a read after a cursor is one index range scan.
    PRIMARY KEY (xid, seq)
);

-- Appends the event of one row. Generic, so that a later entity joins with one
-- `CREATE TRIGGER ... AFTER INSERT OR UPDATE OR DELETE ... FOR EACH ROW EXECUTE FUNCTION
-- hmis_change_log(kind, patient_column[, soft_delete_column])`:
--   kind               the entity kind in the event (`patient`, `observation`, ...);
--   patient_column     the row's column holding its patient's ID (`id` for patients,
--                      '' for none);
--   soft_delete_column optional: an update that sets it (from NULL) is a `delete`.
-- The row must have a uuid `id`. SECURITY DEFINER: a regional admin editing in pgAdmin
-- may not write the log directly, but their edits must still append to it.
CREATE OR REPLACE FUNCTION hmis_change_log() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    changed jsonb;
    op text := lower(TG_OP);
    region_name text := (SELECT region FROM shard_identity);
BEGIN
    IF TG_OP = 'DELETE' THEN
        changed := to_jsonb(OLD);
    ELSE
        changed := to_jsonb(NEW);
    END IF;
    IF TG_OP = 'UPDATE' AND TG_NARGS > 2
        AND to_jsonb(OLD) ->> TG_ARGV[2] IS NULL AND changed ->> TG_ARGV[2] IS NOT NULL THEN
        op := 'delete';
    END IF;
    INSERT INTO change_log (region, kind, entity_id, patient_id, op)
    VALUES (region_name, TG_ARGV[0], (changed ->> 'id')::uuid,
            (changed ->> nullif(TG_ARGV[1], ''))::uuid, op);
    -- One identical payload per transaction: PostgreSQL delivers it once, at commit (never
    -- for a rollback). It only wakes readers (`Note::Changes` in src/domain/notify.rs).
    PERFORM pg_notify('hmis_changes',
        json_build_object('kind', 'changes', 'region', region_name)::text);
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS patients_change_log ON patients;
CREATE TRIGGER patients_change_log AFTER INSERT OR UPDATE OR DELETE ON patients
    FOR EACH ROW EXECUTE FUNCTION hmis_change_log('patient', 'id', 'deleted_at');

-- Amendments and entered-in-error are updates; observations are deleted only when their
-- patient moves region.
DROP TRIGGER IF EXISTS observations_change_log ON observations;
CREATE TRIGGER observations_change_log AFTER INSERT OR UPDATE OR DELETE ON observations
    FOR EACH ROW EXECUTE FUNCTION hmis_change_log('observation', 'patient_id');

DROP TRIGGER IF EXISTS alerts_change_log ON alerts;
CREATE TRIGGER alerts_change_log AFTER INSERT OR UPDATE OR DELETE ON alerts
    FOR EACH ROW EXECUTE FUNCTION hmis_change_log('alert', 'patient_id');
