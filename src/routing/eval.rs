//! Placing a record: the first rule of its entity whose conditions all hold decides. There is
//! deliberately no default region, because a patient stored in the wrong shard is invisible to
//! the clinics that look for them; a record no rule places is an error for a person to fix.

use super::RuleSet;
use super::explain::Step;
use super::rule::{Condition, Predicate, Rule, Target, list};
use serde::Serialize;
use std::collections::BTreeMap;

/// The facts about one record that rules can test. Values are compared exactly, so the
/// caller canonicalizes them (trimmed, canonical district spelling) first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Record {
    pub entity: String,
    pub fields: BTreeMap<String, String>,
}

impl Record {
    pub fn new(entity: impl Into<String>) -> Self {
        Record {
            entity: entity.into(),
            fields: BTreeMap::new(),
        }
    }

    pub fn with(mut self, field: impl Into<String>, value: impl Into<String>) -> Self {
        self.fields.insert(field.into(), value.into());
        self
    }

    /// The field's value when it is present and non-empty: the rules' meaning of "present".
    pub fn value(&self, field: &str) -> Option<&str> {
        self.fields
            .get(field)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

/// Where a record goes, and which rule said so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Routed {
    pub region: String,
    pub rule: String,
}

/// Why a record could not be placed. Messages avoid field values: they end up in logs and
/// API answers, and a record's values are patient data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RouteError {
    #[error(
        "no rules for entity kind {entity:?} (known: {})",
        super::entities::known_names()
    )]
    UnknownEntity { entity: String },
    #[error(
        "no rule places this {entity} record ({}; tried {tried} rule{})",
        brief(.fields), if *.tried == 1 { "" } else { "s" }
    )]
    NoRuleMatched {
        entity: String,
        tried: usize,
        /// Names (not values) of the record's fields.
        fields: Vec<String>,
    },
    #[error("rule {rule:?} places the record with its parent, but the record has no {field}")]
    MissingParent { rule: String, field: String },
    #[error("rule {rule:?} follows {parent} {id:?}, whose region is unknown")]
    UnknownParent {
        rule: String,
        parent: String,
        id: String,
    },
}

fn brief(fields: &[String]) -> String {
    if fields.is_empty() {
        "no fields".to_owned()
    } else {
        format!("fields: {}", fields.join(", "))
    }
}

impl Condition {
    pub(super) fn holds(&self, record: &Record) -> bool {
        let value = record.value(&self.field);
        match &self.predicate {
            Predicate::Eq(v) => value == Some(v.as_str()),
            Predicate::In(vs) => value.is_some_and(|x| vs.iter().any(|v| v == x)),
            Predicate::Prefix(p) => value.is_some_and(|x| x.starts_with(p.as_str())),
            Predicate::Present(want) => value.is_some() == *want,
        }
    }

    /// Why the condition holds or not for this record, in words for an explanation.
    pub(super) fn reason(&self, record: &Record) -> String {
        let field = &self.field;
        let holds = self.holds(record);
        let missing = match record.fields.get(field) {
            None => Some(format!("{field} is absent")),
            Some(v) if v.is_empty() => Some(format!("{field} is empty")),
            Some(_) => None,
        };
        let value = record.value(field).unwrap_or_default();
        match (&self.predicate, missing) {
            (Predicate::Present(false), Some(m)) => m,
            (Predicate::Present(false), None) => format!("{field} is {value:?}, not absent"),
            (_, Some(m)) => m,
            (Predicate::Present(true), None) => format!("{field} is present"),
            (Predicate::Eq(v), None) if holds => format!("{field} = {v:?}"),
            (Predicate::Eq(v), None) => format!("{field} is {value:?}, not {v:?}"),
            (Predicate::In(vs), None) if holds => {
                format!("{field} {value:?} is one of {}", list(vs))
            }
            (Predicate::In(vs), None) => format!("{field} {value:?} is not one of {}", list(vs)),
            (Predicate::Prefix(p), None) if holds => format!("{field} {value:?} starts with {p:?}"),
            (Predicate::Prefix(p), None) => format!("{field} does not start with {p:?}"),
        }
    }
}

impl Rule {
    pub(super) fn matches(&self, record: &Record) -> bool {
        self.conditions.iter().all(|c| c.holds(record))
    }

    /// For a rule that matched: every condition's reason; for one that did not: the reasons
    /// of the conditions that failed.
    fn reason(&self, record: &Record, matched: bool) -> String {
        let reasons: Vec<String> = self
            .conditions
            .iter()
            .filter(|c| matched || !c.holds(record))
            .map(|c| c.reason(record))
            .collect();
        if reasons.is_empty() {
            "no conditions".to_owned()
        } else {
            reasons.join(" and ")
        }
    }
}

impl RuleSet {
    /// The one decision procedure behind both `route` and `explain`; `trace` collects steps
    /// only when asked, so routing does not build strings it throws away.
    pub(super) fn decide(
        &self,
        record: &Record,
        resolve: &dyn Fn(&str, &str) -> Option<String>,
        mut trace: Option<&mut Vec<Step>>,
    ) -> Result<Routed, RouteError> {
        let Some(indices) = self.by_entity.get(&record.entity) else {
            return Err(RouteError::UnknownEntity {
                entity: record.entity.clone(),
            });
        };
        for &i in indices {
            let rule = &self.rules[i];
            let matched = rule.matches(record);
            if let Some(steps) = trace.as_deref_mut() {
                steps.push(Step {
                    rule: rule.name.clone(),
                    file: rule.file.clone(),
                    line: rule.line,
                    matched,
                    reason: rule.reason(record, matched),
                });
            }
            if matched {
                return place(rule, record, resolve);
            }
        }
        Err(RouteError::NoRuleMatched {
            entity: record.entity.clone(),
            tried: indices.len(),
            fields: record.fields.keys().cloned().collect(),
        })
    }
}

fn place(
    rule: &Rule,
    record: &Record,
    resolve: &dyn Fn(&str, &str) -> Option<String>,
) -> Result<Routed, RouteError> {
    let region = match &rule.target {
        Target::Region(region) => region.clone(),
        Target::Follow { parent, field } => {
            let id = record
                .value(field)
                .ok_or_else(|| RouteError::MissingParent {
                    rule: rule.name.clone(),
                    field: field.clone(),
                })?;
            resolve(parent, id).ok_or_else(|| RouteError::UnknownParent {
                rule: rule.name.clone(),
                parent: parent.clone(),
                id: id.to_owned(),
            })?
        }
    };
    Ok(Routed {
        region,
        rule: rule.name.clone(),
    })
}
