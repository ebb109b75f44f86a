//! Property tests of the rule loader: whatever text is in `routing-rules/`, building never
//! panics, every problem names its file and line, and an edit of the shipped files that
//! still builds never moves a record the shipped rules placed (it may only refuse it).
//! Seeded (see `mutate::config`): the same cases run everywhere, in about a second.

use super::mutate::{self, config, edits, records, same_or_refused, text};
use super::*;
use proptest::prelude::*;

const SHIPPED: [(&str, &str); 2] = [
    (
        "routing-rules/10-patients.toml",
        include_str!("../../../routing-rules/10-patients.toml"),
    ),
    (
        "routing-rules/20-clinical.toml",
        include_str!("../../../routing-rules/20-clinical.toml"),
    ),
];

fn shipped() -> RuleSet {
    build(&SHIPPED).expect("the shipped rules build")
}

fn districts() -> Vec<&'static str> {
    vec![
        "Quthing",
        "Maseru",
        "Berea",
        "Thaba-Tseka",
        "Mafeteng",
        "Mohale's Hoek",
        "Qacha's Nek",
        "Leribe",
        "Butha-Buthe",
        "Mokhotlong",
    ]
}

/// Every error points into one of `files` at a line it has, or at the rule folder or the
/// region catalog for what no single rule is to blame for (a district no rule places).
fn located(errors: &[RuleError], files: &[(&str, &str)]) -> Result<(), TestCaseError> {
    prop_assert!(!errors.is_empty(), "a failed build reports why");
    for e in errors {
        prop_assert!(!e.message.trim().is_empty(), "{:?} says nothing", e);
        match files.iter().find(|(f, _)| *f == e.file) {
            Some((_, text)) => {
                let line = e.line;
                prop_assert!(line.is_some(), "{} names no line", e);
                let last = text.lines().count().max(1) + 1;
                prop_assert!(
                    (1..=last).contains(&line.unwrap_or(0)),
                    "{} is past the end",
                    e
                );
            }
            None => prop_assert!(
                ["routing-rules", "regions"].contains(&e.file.as_str()) && e.line.is_none(),
                "{} names no file it was given",
                e
            ),
        }
    }
    Ok(())
}

/// Builds the shipped files with `text` beside them (or in place of the file of that
/// name): refused with every error located, or placing each record where they did.
fn check_build(file: &str, text: &str) -> Result<(), TestCaseError> {
    let mut files: Vec<(&str, &str)> = SHIPPED
        .iter()
        .copied()
        .filter(|(f, _)| *f != file)
        .collect();
    files.push((file, text));
    let before = mutate::placements(&shipped(), &records(&districts()));
    match build(&files) {
        Err(errors) => located(&errors, &files),
        Ok(rules) => {
            let after = mutate::placements(&rules, &records(&districts()));
            same_or_refused(&records(&districts()), &before, &after)
        }
    }
}

/// TOML values of every type, nested, with the rule files' own keys among random ones.
fn toml_value() -> impl Strategy<Value = toml::Value> {
    let leaf = prop_oneof![
        text().prop_map(toml::Value::String),
        any::<i64>().prop_map(toml::Value::Integer),
        any::<f64>().prop_map(toml::Value::Float),
        any::<bool>().prop_map(toml::Value::Boolean),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(toml::Value::Array),
            prop::collection::btree_map(key(), inner, 0..6)
                .prop_map(|m| toml::Value::Table(m.into_iter().collect())),
        ]
    })
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "name",
            "entity",
            "description",
            "when",
            "region",
            "follow",
            "parent",
            "field",
            "district",
            "patient_id",
            "eq",
            "in",
            "prefix",
            "present",
        ])
        .prop_map(str::to_owned),
        text(),
    ]
}

/// A file of `[[rule]]` tables whose keys and values are drawn from `toml_value`.
fn rule_file() -> impl Strategy<Value = String> {
    let rule = prop::collection::btree_map(key(), toml_value(), 0..7);
    prop::collection::vec(rule, 0..4).prop_filter_map("serializable", |rules| {
        let rules = rules
            .into_iter()
            .map(|r| toml::Value::Table(r.into_iter().collect()))
            .collect();
        let mut file = toml::Table::new();
        file.insert("rule".to_owned(), toml::Value::Array(rules));
        toml::to_string(&file).ok()
    })
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn any_text_as_a_rule_file_is_refused_with_its_file_and_line_or_moves_no_record(
        text in prop_oneof![any::<String>(), "[\\[\\]a-z_ =\"{},\n0-9#]{0,200}"],
    ) {
        check_build("routing-rules/30-extra.toml", &text)?;
    }

    #[test]
    fn any_toml_in_the_shape_of_rules_is_refused_with_its_file_and_line_or_moves_no_record(
        text in rule_file(),
    ) {
        check_build("routing-rules/30-extra.toml", &text)?;
    }

    #[test]
    fn an_edit_of_the_shipped_patient_rules_is_refused_with_its_line_or_moves_no_record(
        edits in edits(),
    ) {
        let (file, text) = SHIPPED[0];
        check_build(file, &mutate::apply(text, &edits))?;
    }

    #[test]
    fn an_edit_of_the_shipped_clinical_rules_is_refused_with_its_line_or_moves_no_record(
        edits in edits(),
    ) {
        let (file, text) = SHIPPED[1];
        check_build(file, &mutate::apply(text, &edits))?;
    }
}

#[test]
fn the_records_the_properties_compare_are_placed_by_the_shipped_rules() {
    // Without this, "moves no record" would hold vacuously.
    let placed = mutate::placements(&shipped(), &records(&districts()));
    let ok = placed.iter().filter(|p| p.is_ok()).count();
    assert!(ok >= 2 * districts().len() + 6, "{placed:?}");
}
