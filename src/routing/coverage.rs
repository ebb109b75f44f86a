//! The rules must agree with the region catalog: every district a region serves has to be
//! routed by the rules, and routed to that region. Otherwise a clinic's new patient would be
//! refused (no rule) or stored where the region's own staff never look (wrong rule).

use super::parse::Parsed;
use super::rule::Target;
use super::{Catalog, Record, RuleError};
use std::collections::BTreeMap;

/// Checks each catalog district with a patient record that has only `district` set. `dir` is
/// what errors that no single rule is to blame for point at (the rule directory).
pub(super) fn check(
    parsed: &[Parsed],
    broken: &[bool],
    catalog: &Catalog,
    dir: &str,
) -> Vec<RuleError> {
    let mut errors = Vec::new();
    let mut owner: BTreeMap<&str, &str> = BTreeMap::new();
    let mut twice: Vec<&str> = Vec::new();
    for region in &catalog.regions {
        for district in &region.districts {
            if let Some(first) = owner.insert(district, &region.name) {
                twice.push(district);
                errors.push(RuleError {
                    file: "regions".to_owned(),
                    line: None,
                    message: format!(
                        "district {district:?} is listed by two regions: {first} and {}",
                        region.name
                    ),
                });
            }
        }
    }

    for region in &catalog.regions {
        for district in &region.districts {
            if twice.contains(&district.as_str()) {
                // Which region is right is unknown; the catalog error above says so.
                continue;
            }
            let record = Record::new("patient").with("district", district.as_str());
            let decider = parsed
                .iter()
                .enumerate()
                .find(|(_, p)| p.rule.entity == "patient" && p.rule.matches(&record));
            let Some((i, p)) = decider else {
                errors.push(RuleError {
                    file: dir.to_owned(),
                    line: None,
                    message: format!("district {district:?} is placed by no rule"),
                });
                continue;
            };
            if broken[i] {
                continue; // already reported; a second error about it would only add noise
            }
            if let Target::Region(placed) = &p.rule.target
                && placed != &region.name
            {
                errors.push(RuleError {
                    file: p.rule.file.clone(),
                    line: Some(p.rule.line),
                    message: format!(
                        "district {district:?} is served by region {} (regions/) but rule {:?} ({}) places it in {placed}",
                        region.name,
                        p.rule.name,
                        p.rule.location()
                    ),
                });
            }
        }
    }
    errors
}
