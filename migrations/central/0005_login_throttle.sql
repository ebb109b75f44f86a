-- Login throttling (src/auth/throttle.rs) counts only failures, per account and address,
-- and asks whether an account logged in from an address lately. The state stays in
-- login_audit (every hmis process counts the same attempts); these indexes keep both
-- questions to a few index pages however long the audit grows.

CREATE INDEX IF NOT EXISTS login_audit_failure_idx
    ON login_audit (username, address, at) WHERE outcome = 'failure';
CREATE INDEX IF NOT EXISTS login_audit_failure_address_idx
    ON login_audit (address, at) WHERE outcome = 'failure';
CREATE INDEX IF NOT EXISTS login_audit_success_idx
    ON login_audit (username, address, at) WHERE outcome = 'success';
