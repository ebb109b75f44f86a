-- The audit trail of a region's patients: who did what to which record, when, and whether
-- it was allowed. It lives beside the patients it speaks of, so that it moves with them.
-- Append-only for everyone, the service included: triggers refuse UPDATE, DELETE and
-- TRUNCATE (and pgAdmin roles are granted SELECT only).
CREATE TABLE IF NOT EXISTS audit_log (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    actor text NOT NULL,
    roles text NOT NULL,
    action text NOT NULL,
    object_kind text NOT NULL,
    object_id uuid,
    region text NOT NULL,
    outcome text NOT NULL,
    request_id text
);
CREATE INDEX IF NOT EXISTS audit_log_object_idx ON audit_log (object_id, at);

CREATE OR REPLACE FUNCTION hmis_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$;

DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION hmis_refuse_change();
DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log;
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION hmis_refuse_change();
