-- Users, sessions, authorization policies and the login audit.

CREATE TABLE IF NOT EXISTS users (
    id uuid PRIMARY KEY,
    username text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9][a-z0-9._-]{1,62}$'),
    display_name text NOT NULL DEFAULT '',
    -- argon2id, in the PHC string format.
    password_hash text NOT NULL,
    disabled_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- A session is found by the SHA-256 of its token: the token itself is never stored, so a
-- copy of this table does not log anyone in.
CREATE TABLE IF NOT EXISTS sessions (
    token_sha256 bytea PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    address text,
    user_agent text
);
CREATE INDEX IF NOT EXISTS sessions_user_idx ON sessions (user_id) WHERE revoked_at IS NULL;

-- casbin's policy lines (the layout of casbin's sqlx adapter, which reads and writes them).
CREATE TABLE IF NOT EXISTS casbin_rule (
    id SERIAL PRIMARY KEY,
    ptype VARCHAR NOT NULL,
    v0 VARCHAR NOT NULL,
    v1 VARCHAR NOT NULL,
    v2 VARCHAR NOT NULL,
    v3 VARCHAR NOT NULL,
    v4 VARCHAR NOT NULL,
    v5 VARCHAR NOT NULL,
    CONSTRAINT unique_key_sqlx_adapter UNIQUE (ptype, v0, v1, v2, v3, v4, v5)
);

-- Every login attempt, successful or not. Also what throttling counts.
CREATE TABLE IF NOT EXISTS login_audit (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    username text NOT NULL,
    address text,
    outcome text NOT NULL CHECK (outcome IN ('success', 'failure', 'throttled', 'disabled')),
    request_id text
);
CREATE INDEX IF NOT EXISTS login_audit_username_idx ON login_audit (username, at) WHERE outcome <> 'success';
CREATE INDEX IF NOT EXISTS login_audit_address_idx ON login_audit (address, at) WHERE outcome <> 'success';

CREATE OR REPLACE FUNCTION hmis_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$;

DROP TRIGGER IF EXISTS login_audit_append_only ON login_audit;
CREATE TRIGGER login_audit_append_only BEFORE UPDATE OR DELETE ON login_audit
    FOR EACH ROW EXECUTE FUNCTION hmis_refuse_change();
DROP TRIGGER IF EXISTS login_audit_no_truncate ON login_audit;
CREATE TRIGGER login_audit_no_truncate BEFORE TRUNCATE ON login_audit
    FOR EACH STATEMENT EXECUTE FUNCTION hmis_refuse_change();
