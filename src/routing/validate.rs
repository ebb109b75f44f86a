//! Checks across rules: unique names, known entities, fields, parents and regions, and rules
//! that an earlier rule makes unreachable. Every problem is collected, not only the first, so
//! an operator fixes a rule file in one pass.

use super::Catalog;
use super::RuleError;
use super::entities;
use super::parse::Parsed;
use super::rule::{Predicate, Rule, Target};
use std::collections::HashMap;

/// Errors found, and per rule whether it is unusable (so coverage does not pile a second
/// error onto a rule that is already reported).
pub(super) struct Verdict {
    pub errors: Vec<RuleError>,
    pub broken: Vec<bool>,
}

pub(super) fn check(parsed: &[Parsed], catalog: &Catalog) -> Verdict {
    let mut errors = Vec::new();
    let mut broken = vec![false; parsed.len()];
    let mut first_by_name: HashMap<&str, &Rule> = HashMap::new();
    let mut regions: Vec<&str> = catalog.regions.iter().map(|r| r.name.as_str()).collect();
    regions.sort_unstable();

    for (i, p) in parsed.iter().enumerate() {
        let rule = &p.rule;
        let mut report = |line: usize, message: String| {
            errors.push(RuleError {
                file: rule.file.clone(),
                line: Some(line),
                message,
            });
        };
        if let Some(first) = first_by_name.get(rule.name.as_str()) {
            report(
                rule.line,
                format!(
                    "rule name {:?} is used twice: first at {}",
                    rule.name,
                    first.location()
                ),
            );
        } else {
            first_by_name.insert(&rule.name, rule);
        }
        let problems = rule_problems(p, &regions);
        broken[i] = !problems.is_empty();
        for (line, message) in problems {
            report(line, message);
        }
    }

    // Shadowing is only meaningful between rules that are otherwise sound.
    for (j, later) in parsed.iter().enumerate() {
        if broken[j] {
            continue;
        }
        let earlier = parsed[..j].iter().enumerate().find(|(i, e)| {
            !broken[*i] && e.rule.entity == later.rule.entity && implies(&later.rule, &e.rule)
        });
        if let Some((_, e)) = earlier {
            errors.push(RuleError {
                file: later.rule.file.clone(),
                line: Some(later.rule.line),
                message: format!(
                    "rule {:?} can never apply: every {} it matches is already matched by rule {:?} ({}), which comes first",
                    later.rule.name,
                    later.rule.entity,
                    e.rule.name,
                    e.rule.location()
                ),
            });
        }
    }
    Verdict { errors, broken }
}

/// Problems of one rule on its own against the entity table and the region catalog, each
/// with the line of the key at fault.
fn rule_problems(p: &Parsed, regions: &[&str]) -> Vec<(usize, String)> {
    let rule = &p.rule;
    let name = &rule.name;
    let mut out = Vec::new();
    let Some(kind) = entities::entity(&rule.entity) else {
        let message = format!(
            "rule {name:?} names unknown entity {:?} (known: {})",
            rule.entity,
            entities::known_names()
        );
        return vec![(p.entity_line, message)];
    };

    for (c, &line) in rule.conditions.iter().zip(&p.condition_lines) {
        if !kind.fields.contains(&c.field.as_str()) {
            let message = format!(
                "rule {name:?}: {} has no field {:?} (fields: {})",
                kind.name,
                c.field,
                kind.fields.join(", ")
            );
            out.push((line, message));
        }
        let empty = match &c.predicate {
            Predicate::Eq(v) | Predicate::Prefix(v) => v.is_empty(),
            Predicate::In(vs) if vs.is_empty() => {
                let message = format!(
                    "rule {name:?}: the in list for {} is empty, so the rule could never match",
                    c.field
                );
                out.push((line, message));
                false
            }
            Predicate::In(vs) => vs.iter().any(String::is_empty),
            Predicate::Present(_) => false,
        };
        if empty {
            let message = format!(
                "rule {name:?}: condition on {} compares with an empty string; use {{ present = false }} to match a missing value",
                c.field
            );
            out.push((line, message));
        }
    }

    match &rule.target {
        Target::Region(region) if !regions.contains(&region.as_str()) => {
            let known = if regions.is_empty() {
                "none".to_owned()
            } else {
                regions.join(", ")
            };
            let message = format!("rule {name:?} names unknown region {region:?} (known: {known})");
            out.push((p.target_line, message));
        }
        Target::Region(_) => {}
        Target::Follow { parent, field } => match kind.parent {
            None => out.push((
                p.target_line,
                format!(
                    "rule {name:?}: {} records have no parent to follow",
                    kind.name
                ),
            )),
            Some(link) if link.entity != parent => out.push((
                p.target_line,
                format!(
                    "rule {name:?} follows {parent:?}, but {} records belong to a {} (via {})",
                    kind.name, link.entity, link.field
                ),
            )),
            Some(link) if link.field != field => out.push((
                p.target_line,
                format!(
                    "rule {name:?} follows {parent} via {field:?}, but {} records hold their {}'s id in {}",
                    kind.name, link.entity, link.field
                ),
            )),
            Some(_) => {}
        },
    }
    out
}

/// Whether every record `later` matches is also matched by `earlier`: each field `earlier`
/// constrains must be constrained at least as tightly by `later`.
pub(super) fn implies(later: &Rule, earlier: &Rule) -> bool {
    earlier.conditions.iter().all(|e| {
        later
            .conditions
            .iter()
            .any(|l| l.field == e.field && tighter(&l.predicate, &e.predicate))
    })
}

/// Whether a field satisfying `l` always satisfies `e`.
fn tighter(l: &Predicate, e: &Predicate) -> bool {
    use Predicate::{Eq, In, Prefix, Present};
    // The values `l` admits, when it admits a finite set.
    let values: Option<Vec<&String>> = match l {
        Eq(v) => Some(vec![v]),
        In(vs) => Some(vs.iter().collect()),
        _ => None,
    };
    match (e, l) {
        (Eq(ev), _) => values.is_some_and(|vs| vs.iter().all(|v| *v == ev)),
        (In(es), _) => values.is_some_and(|vs| vs.iter().all(|v| es.contains(v))),
        (Prefix(p), Prefix(q)) => q.starts_with(p.as_str()),
        (Prefix(p), _) => values.is_some_and(|vs| vs.iter().all(|v| v.starts_with(p.as_str()))),
        // A rule that names a value requires the field to be there; empty values are
        // rejected at build, but stay exact here in case that check ever moves.
        (Present(true), Present(true)) => true,
        (Present(true), Prefix(q)) => !q.is_empty(),
        (Present(true), _) => values.is_some_and(|vs| vs.iter().all(|v| !v.is_empty())),
        (Present(false), Present(false)) => true,
        (Present(false), _) => false,
    }
}
