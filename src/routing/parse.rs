//! Turns one rule file's text into [`Rule`]s, checking only what the file alone can tell:
//! TOML syntax, known keys and types, one test per condition, one target per rule. Checks
//! that need other files or the catalog live in `validate` and `coverage`.

use super::model::{RawCondition, RawFile, RawRule};
use super::rule::{Condition, Predicate, Rule, Target};
use super::{RuleError, Source};
use std::ops::Range;

/// A parsed rule plus the lines of its parts, so later checks can point at the right key.
#[derive(Debug)]
pub(super) struct Parsed {
    pub rule: Rule,
    pub entity_line: usize,
    pub target_line: usize,
    /// One per entry of `rule.conditions`, same order.
    pub condition_lines: Vec<usize>,
}

/// What one file yields. A TOML or shape error stops the whole file, because serde does not
/// resume after one; the other files are still checked.
#[derive(Debug, Default)]
pub(super) struct FileOutcome {
    pub rules: Vec<Parsed>,
    pub errors: Vec<RuleError>,
}

pub(super) fn parse_source(source: &Source<'_>) -> FileOutcome {
    let lines = Lines(source.text);
    let raw: RawFile = match toml::from_str(source.text) {
        Ok(raw) => raw,
        Err(e) => {
            let error = RuleError {
                file: source.file.to_owned(),
                line: e.span().map(|s| lines.at(s.start)),
                message: e.message().trim_end().to_owned(),
            };
            return FileOutcome {
                rules: Vec::new(),
                errors: vec![error],
            };
        }
    };
    let mut out = FileOutcome::default();
    for raw_rule in raw.rule {
        match convert(source.file, &lines, raw_rule) {
            Ok(parsed) => out.rules.push(parsed),
            Err(mut errors) => out.errors.append(&mut errors),
        }
    }
    out
}

/// Byte offsets to 1-based line numbers in one text.
struct Lines<'a>(&'a str);

impl Lines<'_> {
    fn at(&self, offset: usize) -> usize {
        let end = offset.min(self.0.len());
        self.0.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    fn of(&self, span: Range<usize>) -> usize {
        self.at(span.start)
    }
}

fn convert(file: &str, lines: &Lines<'_>, raw: RawRule) -> Result<Parsed, Vec<RuleError>> {
    let name = raw.name.get_ref().clone();
    let line = lines.of(raw.name.span());
    let error = |line: usize, message: String| RuleError {
        file: file.to_owned(),
        line: Some(line),
        message,
    };
    let mut errors = Vec::new();

    // Conditions in the order they were written, so explanations read like the file.
    let mut when: Vec<_> = raw.when.into_iter().collect();
    when.sort_by_key(|(_, c)| c.span().start);
    let mut conditions = Vec::new();
    let mut condition_lines = Vec::new();
    for (field, cond) in when {
        let at = lines.of(cond.span());
        match predicate(cond.into_inner()) {
            Ok(predicate) => {
                conditions.push(Condition { field, predicate });
                condition_lines.push(at);
            }
            Err(tests) if tests.is_empty() => errors.push(error(
                at,
                format!(
                    "rule {name:?}: condition on {field} has no test (use one of eq, in, prefix, present)"
                ),
            )),
            Err(tests) => errors.push(error(
                at,
                format!(
                    "rule {name:?}: condition on {field} has {} tests ({}); use exactly one",
                    tests.len(),
                    tests.join(", ")
                ),
            )),
        }
    }

    let target = match (raw.region, raw.follow) {
        (Some(region), None) => {
            Some((lines.of(region.span()), Target::Region(region.into_inner())))
        }
        (None, Some(follow)) => {
            let at = lines.of(follow.span());
            let follow = follow.into_inner();
            let target = Target::Follow {
                parent: follow.parent,
                field: follow.field,
            };
            Some((at, target))
        }
        (Some(region), Some(_)) => {
            let message = format!(
                "rule {name:?} has both region and follow; a rule either places records in a region or follows their parent"
            );
            errors.push(error(lines.of(region.span()), message));
            None
        }
        (None, None) => {
            let message = format!(
                "rule {name:?} has neither region nor follow, so it does not say where records go"
            );
            errors.push(error(line, message));
            None
        }
    };

    match target {
        Some((target_line, target)) if errors.is_empty() => Ok(Parsed {
            entity_line: lines.of(raw.entity.span()),
            rule: Rule {
                name,
                entity: raw.entity.into_inner(),
                file: file.to_owned(),
                line,
                description: raw.description,
                conditions,
                target,
            },
            target_line,
            condition_lines,
        }),
        _ => Err(errors),
    }
}

/// The single test of a condition table, or the names of the tests present when there is not
/// exactly one.
fn predicate(raw: RawCondition) -> Result<Predicate, Vec<&'static str>> {
    let mut found = Vec::new();
    if let Some(v) = raw.eq {
        found.push(("eq", Predicate::Eq(v)));
    }
    if let Some(vs) = raw.one_of {
        found.push(("in", Predicate::In(vs)));
    }
    if let Some(p) = raw.prefix {
        found.push(("prefix", Predicate::Prefix(p)));
    }
    if let Some(b) = raw.present {
        found.push(("present", Predicate::Present(b)));
    }
    if found.len() == 1 {
        Ok(found.remove(0).1)
    } else {
        Err(found.into_iter().map(|(k, _)| k).collect())
    }
}
