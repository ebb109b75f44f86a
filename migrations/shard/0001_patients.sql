-- One region's patients. Column names are the API's field names, because regional
-- admins read and fix this table in pgAdmin.
CREATE TABLE IF NOT EXISTS shard_identity (
    -- Which region this database belongs to, written by `hmis migrate`, so that a
    -- database URL pasted into the wrong region file is caught before data goes astray.
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    region text NOT NULL,
    code integer NOT NULL
);

CREATE TABLE IF NOT EXISTS patients (
    id uuid PRIMARY KEY,
    given_name text NOT NULL CHECK (length(given_name) BETWEEN 1 AND 100),
    family_name text NOT NULL CHECK (length(family_name) BETWEEN 1 AND 100),
    sex text NOT NULL CHECK (sex IN ('female', 'male', 'other', 'unknown')),
    birth_date date NOT NULL,
    birth_date_estimated boolean NOT NULL DEFAULT false,
    district text NOT NULL,
    village text,
    facility text,
    phone text,
    national_id text,
    -- Optimistic concurrency: every update bumps it; clients send it back as If-Match.
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    -- Soft delete: the row stays for the audit trail and for pgAdmin.
    deleted_at timestamptz
);

CREATE INDEX IF NOT EXISTS patients_family_name_idx
    ON patients (lower(family_name) text_pattern_ops) WHERE deleted_at IS NULL;
CREATE INDEX IF NOT EXISTS patients_given_name_idx
    ON patients (lower(given_name) text_pattern_ops) WHERE deleted_at IS NULL;
CREATE INDEX IF NOT EXISTS patients_phone_idx ON patients (phone) WHERE phone IS NOT NULL;
CREATE INDEX IF NOT EXISTS patients_national_id_idx
    ON patients (national_id) WHERE national_id IS NOT NULL;

-- A retried POST with the same Idempotency-Key returns the patient the first one made.
CREATE TABLE IF NOT EXISTS idempotency_keys (
    key text PRIMARY KEY,
    request_sha256 bytea NOT NULL,
    -- Deferred: the key is claimed first (so a concurrent retry waits for it), the
    -- patient row follows in the same transaction.
    patient_id uuid NOT NULL REFERENCES patients (id) DEFERRABLE INITIALLY DEFERRED,
    created_at timestamptz NOT NULL DEFAULT now()
);
