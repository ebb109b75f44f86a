//! A rule after parsing: what records it applies to and where it sends them. These are the
//! values other code inspects (`hmis rules` lists them), so each has a one-line Display that
//! reads like the rule file.

use serde::Serialize;
use std::fmt;

/// One validated rule, in evaluation order within its [`RuleSet`](super::RuleSet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rule {
    pub name: String,
    pub entity: String,
    /// Display path of the file it came from.
    pub file: String,
    /// 1-based line of its `name` key.
    pub line: usize,
    pub description: Option<String>,
    /// All must hold (in file order); none means the rule matches every record of its entity.
    pub conditions: Vec<Condition>,
    pub target: Target,
}

/// A test on one field of the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Condition {
    pub field: String,
    pub predicate: Predicate,
}

/// The four condition forms of the rule file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Predicate {
    /// `{ eq = "x" }`: the field equals the value exactly.
    Eq(String),
    /// `{ in = [...] }`: the field equals one of the values.
    In(Vec<String>),
    /// `{ prefix = "x" }`: the field starts with the value.
    Prefix(String),
    /// `{ present = true|false }`: the field is (not) present and non-empty.
    Present(bool),
}

/// Where the records a rule matches go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// Straight to this region.
    Region(String),
    /// To the region of the parent record whose id is in `field`.
    Follow { parent: String, field: String },
}

impl Rule {
    /// "file:line", the way messages point at a rule.
    pub fn location(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }
}

impl fmt::Display for Rule {
    /// `quthing: patient where district = "Quthing" → region quthing`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name, self.entity)?;
        for (i, c) in self.conditions.iter().enumerate() {
            f.write_str(if i == 0 { " where " } else { " and " })?;
            write!(f, "{c}")?;
        }
        write!(f, " → {}", self.target)
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.predicate {
            Predicate::Eq(v) => write!(f, "{} = {v:?}", self.field),
            Predicate::In(vs) => write!(f, "{} in {}", self.field, list(vs)),
            Predicate::Prefix(p) => write!(f, "{} starts with {p:?}", self.field),
            Predicate::Present(true) => write!(f, "{} is present", self.field),
            Predicate::Present(false) => write!(f, "{} is absent", self.field),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Region(r) => write!(f, "region {r}"),
            Target::Follow { parent, field } => write!(f, "its {parent}'s region (via {field})"),
        }
    }
}

/// `[a, b, c]`: values unquoted, because district names read better that way in messages.
pub(super) fn list(values: &[String]) -> String {
    format!("[{}]", values.join(", "))
}
