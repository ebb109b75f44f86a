//! Why a record went where it did: each rule tried, in order, with the reason it matched or
//! not. This is what an operator reads when a patient lands in an unexpected region, so the
//! text names fields and values the way the rule file does.

use super::RuleSet;
use super::eval::{Record, RouteError, Routed};
use serde::{Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;

/// The decision for one record and the trail of rules that led to it.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    pub entity: String,
    pub fields: BTreeMap<String, String>,
    /// One per rule of the entity that was tried, in order, up to and including the match.
    pub steps: Vec<Step>,
    /// `{"region": .., "rule": ..}` or `{"error": "<message>"}` in JSON.
    #[serde(serialize_with = "outcome")]
    pub outcome: Result<Routed, RouteError>,
}

/// One rule tried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    pub rule: String,
    pub file: String,
    pub line: usize,
    pub matched: bool,
    pub reason: String,
}

impl RuleSet {
    /// Same decision as [`RuleSet::route`], plus why every earlier rule for that entity did
    /// not match.
    pub fn explain(
        &self,
        record: &Record,
        resolve: &dyn Fn(&str, &str) -> Option<String>,
    ) -> Explanation {
        let mut steps = Vec::new();
        let outcome = self.decide(record, resolve, Some(&mut steps));
        Explanation {
            entity: record.entity.clone(),
            fields: record.fields.clone(),
            steps,
            outcome,
        }
    }
}

fn outcome<S: Serializer>(
    outcome: &Result<Routed, RouteError>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Failed {
        error: String,
    }
    match outcome {
        Ok(routed) => routed.serialize(serializer),
        Err(e) => Failed {
            error: e.to_string(),
        }
        .serialize(serializer),
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fields: Vec<String> = self
            .fields
            .iter()
            .map(|(k, v)| format!("{k} = {v:?}"))
            .collect();
        writeln!(f, "{} {{ {} }}", self.entity, fields.join(", "))?;
        for step in &self.steps {
            let mark = if step.matched { '✓' } else { '✗' };
            writeln!(
                f,
                "  {mark} {} ({}:{}): {}",
                step.rule, step.file, step.line, step.reason
            )?;
        }
        match &self.outcome {
            Ok(routed) => write!(f, "→ region {} by rule {}", routed.region, routed.rule),
            Err(e) => write!(f, "→ not placed: {e}"),
        }
    }
}
