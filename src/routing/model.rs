//! The shape of a rule file exactly as written, for serde. Every table denies unknown keys so
//! that a misspelt key (`regoin = ...`) is an error rather than a rule that quietly does
//! something else. Spans are kept so that later checks can point at a line.

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

/// A whole `routing-rules/*.toml` file: nothing but `[[rule]]` tables.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFile {
    #[serde(default)]
    pub rule: Vec<RawRule>,
}

/// One `[[rule]]` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRule {
    pub name: Spanned<String>,
    pub entity: Spanned<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// Keyed by field name; the order in the file is recovered from the value spans.
    #[serde(default)]
    pub when: BTreeMap<String, Spanned<RawCondition>>,
    pub region: Option<Spanned<String>>,
    pub follow: Option<Spanned<RawFollow>>,
}

/// A condition table. All keys are optional here so that "none" and "two at once" can be
/// reported with a message that names the field, instead of serde's generic enum error.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCondition {
    pub eq: Option<String>,
    #[serde(rename = "in")]
    pub one_of: Option<Vec<String>>,
    pub prefix: Option<String>,
    pub present: Option<bool>,
}

/// `follow = { parent = "...", field = "..." }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFollow {
    pub parent: String,
    pub field: String,
}
