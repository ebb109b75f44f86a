//! Users and roles live in separate casbin namespaces: every user is `user:<name>` and every
//! role `role:<name>` inside casbin and the `casbin_rule` table.
//!
//! casbin's `g(a, b, domain)` is true when `a == b`, so with bare names a user called
//! `system_admin` would hold the `system_admin` policy in every region, and the audit roles
//! of a user called `planner` came out empty. With the prefixes a user's name can never equal
//! a role's. The API, the command line and the audit trail keep speaking bare names: the
//! prefixes are added on the way into casbin and taken off on the way out, here only.

const USER: &str = "user:";
const ROLE: &str = "role:";

/// The casbin subject of a user.
pub fn user(name: &str) -> String {
    format!("{USER}{name}")
}

/// The casbin name of a role.
pub fn role(name: &str) -> String {
    format!("{ROLE}{name}")
}

/// The bare user name of a casbin subject, or None if it is not a user.
pub fn bare_user(subject: &str) -> Option<&str> {
    subject.strip_prefix(USER)
}

/// The bare role name of a casbin role, or None if it is not a role.
pub fn bare_role(name: &str) -> Option<&str> {
    name.strip_prefix(ROLE)
}
