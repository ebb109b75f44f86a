//! The roles hmis ships with and what each may do. `hmis migrate` writes these lines into
//! an empty policy table; after that the table is the truth and is changed through the
//! admin API or `hmis policy`.

/// Object kinds and actions that requests are checked against.
pub mod kinds {
    pub const PATIENT: &str = "patient";
    /// Names, phone numbers and national IDs: planners read patients without them.
    pub const PATIENT_IDENTITY: &str = "patient_identity";
    pub const PATIENT_AUDIT: &str = "patient_audit";
    pub const OBSERVATION: &str = "observation";
    pub const USER: &str = "user";
    pub const POLICY: &str = "policy";
    pub const ROUTING: &str = "routing";
    pub const STATS: &str = "stats";
    pub const HEALTH: &str = "health";
    /// Planners' SQL over the `planning` views (`POST /api/v1/query`), action `run`.
    pub const QUERY: &str = "query";
}

/// What a request asks to do with an object: the action of a policy line. The policy
/// table stores these as text (and `*` for all); code names them only through this type,
/// so a misspelt action is a compile error, not a silent denial.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Read,
    Create,
    Update,
    Delete,
    Merge,
    Transfer,
    /// A planner's query (`query` objects).
    Run,
    /// Managing users and the policy (`user`, `policy` objects).
    Admin,
    /// Acknowledging an alert (`observation` objects).
    Acknowledge,
}

impl Action {
    pub const ALL: [Action; 9] = [
        Action::Read,
        Action::Create,
        Action::Update,
        Action::Delete,
        Action::Merge,
        Action::Transfer,
        Action::Run,
        Action::Admin,
        Action::Acknowledge,
    ];

    /// The word in policy lines and audit lines.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Read => "read",
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
            Action::Merge => "merge",
            Action::Transfer => "transfer",
            Action::Run => "run",
            Action::Admin => "admin",
            Action::Acknowledge => "acknowledge",
        }
    }
}

impl std::str::FromStr for Action {
    type Err = String;

    fn from_str(word: &str) -> Result<Action, String> {
        Action::ALL
            .into_iter()
            .find(|a| a.as_str() == word)
            .ok_or_else(|| format!("\"{word}\" is not an action"))
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The roles, for validation and for `hmis users` help.
pub const ROLES: &[&str] = &[
    "nurse",
    "clinician",
    "records_clerk",
    "regional_admin",
    "planner",
    "system_admin",
];

/// Roles that only make sense in every region at once.
pub const GLOBAL_ROLES: &[&str] = &["planner", "system_admin"];

/// (role, object kind, action, condition)
pub const DEFAULT_POLICY: &[[&str; 4]] = &[
    ["nurse", "patient", "read", "any"],
    ["nurse", "patient", "create", "any"],
    ["nurse", "patient", "update", "any"],
    ["nurse", "patient_identity", "read", "any"],
    ["nurse", "observation", "*", "any"],
    ["nurse", "routing", "read", "any"],
    ["nurse", "notification", "*", "own"],
    ["clinician", "patient", "read", "any"],
    ["clinician", "patient", "create", "any"],
    ["clinician", "patient", "update", "any"],
    ["clinician", "patient_identity", "read", "any"],
    ["clinician", "observation", "*", "any"],
    ["clinician", "draft_note", "*", "own"],
    ["clinician", "routing", "read", "any"],
    ["clinician", "notification", "*", "own"],
    ["records_clerk", "patient", "*", "any"],
    ["records_clerk", "patient_identity", "read", "any"],
    ["records_clerk", "observation", "read", "any"],
    ["records_clerk", "routing", "read", "any"],
    ["records_clerk", "notification", "*", "own"],
    ["regional_admin", "*", "*", "any"],
    ["planner", "patient", "read", "any"],
    ["planner", "observation", "read", "any"],
    ["planner", "stats", "read", "any"],
    ["planner", "query", "run", "any"],
    ["planner", "routing", "read", "any"],
    ["planner", "health", "read", "any"],
    ["system_admin", "*", "*", "any"],
];
