//! Each condition form, matching and not matching, with the reason `explain` gives. Uses a
//! catalog without districts so that a one-rule set builds without coverage errors.

use super::*;
use crate::routing::{Record, RouteError, Routed};

fn one_rule(when: &str) -> RuleSet {
    let text = format!(
        "[[rule]]\nname = \"r\"\nentity = \"patient\"\nwhen = {{ {when} }}\nregion = \"north\"\n"
    );
    let catalog = Catalog {
        regions: vec![CatalogRegion {
            name: "north".into(),
            districts: vec![],
        }],
    };
    let source = Source {
        file: "rules.toml",
        text: &text,
    };
    RuleSet::build(&[source], &catalog).unwrap_or_else(|e| panic!("{when}: {e:?}"))
}

/// A record's fields as written in a test table.
type Fields = &'static [(&'static str, &'static str)];

fn record(fields: Fields) -> Record {
    fields
        .iter()
        .fold(Record::new("patient"), |r, &(k, v)| r.with(k, v))
}

#[test]
fn each_condition_form_matches_or_not_and_says_why() {
    const QUTHING: &str = r#"district = { eq = "Quthing" }"#;
    const MASERU_BEREA: &str = r#"district = { in = ["Maseru", "Berea"] }"#;
    const NORTH: &str = r#"district = { in = ["Leribe", "Butha-Buthe"] }"#;
    const QT: &str = r#"facility = { prefix = "QT-" }"#;
    const VILLAGE: &str = "village = { present = true }";
    const NO_VILLAGE: &str = "village = { present = false }";
    #[rustfmt::skip]
    let cases: &[(&str, Fields, bool, &str)] = &[
        (QUTHING, &[("district", "Quthing")], true, r#"district = "Quthing""#),
        (QUTHING, &[("district", "Maseru")], false, r#"district is "Maseru", not "Quthing""#),
        (QUTHING, &[("district", "quthing")], false, r#"district is "quthing", not "Quthing""#),
        (QUTHING, &[], false, "district is absent"),
        (QUTHING, &[("district", "")], false, "district is empty"),
        (MASERU_BEREA, &[("district", "Berea")], true, r#"district "Berea" is one of [Maseru, Berea]"#),
        (NORTH, &[("district", "Maseru")], false, r#"district "Maseru" is not one of [Leribe, Butha-Buthe]"#),
        (NORTH, &[], false, "district is absent"),
        (QT, &[("facility", "QT-014")], true, r#"facility "QT-014" starts with "QT-""#),
        (QT, &[("facility", "MS-002")], false, r#"facility does not start with "QT-""#),
        (QT, &[("facility", "qt-014")], false, r#"facility does not start with "QT-""#),
        (QT, &[], false, "facility is absent"),
        (VILLAGE, &[("village", "Ha Foso")], true, "village is present"),
        (VILLAGE, &[], false, "village is absent"),
        (VILLAGE, &[("village", "")], false, "village is empty"),
        (NO_VILLAGE, &[], true, "village is absent"),
        (NO_VILLAGE, &[("village", "")], true, "village is empty"),
        (NO_VILLAGE, &[("village", "Ha Foso")], false, r#"village is "Ha Foso", not absent"#),
    ];
    for &(when, fields, matches, reason) in cases {
        let rules = one_rule(when);
        let record = record(fields);
        let routed = rules.route(&record, &no_parents);
        if matches {
            let expected = Routed {
                region: "north".into(),
                rule: "r".into(),
            };
            assert_eq!(routed, Ok(expected), "{when} {fields:?}");
        } else {
            assert!(
                matches!(routed, Err(RouteError::NoRuleMatched { .. })),
                "{when} {fields:?}: {routed:?}"
            );
        }
        let explanation = rules.explain(&record, &no_parents);
        assert_eq!(explanation.steps.len(), 1);
        assert_eq!(explanation.steps[0].matched, matches, "{when} {fields:?}");
        assert_eq!(explanation.steps[0].reason, reason, "{when} {fields:?}");
    }
}

#[test]
fn all_conditions_must_hold_and_only_the_failing_ones_are_given_as_reasons() {
    let rules = one_rule(
        r#"district = { eq = "Quthing" }, facility = { prefix = "QT-" }, village = { present = true }"#,
    );
    let cases: &[(Fields, bool, &str)] = &[
        (
            &[
                ("district", "Quthing"),
                ("facility", "QT-1"),
                ("village", "Ha Foso"),
            ],
            true,
            r#"district = "Quthing" and facility "QT-1" starts with "QT-" and village is present"#,
        ),
        (
            &[("district", "Quthing"), ("facility", "MS-1")],
            false,
            r#"facility does not start with "QT-" and village is absent"#,
        ),
        (
            &[
                ("district", "Maseru"),
                ("facility", "QT-1"),
                ("village", "Ha Foso"),
            ],
            false,
            r#"district is "Maseru", not "Quthing""#,
        ),
    ];
    for &(fields, matches, reason) in cases {
        let step = &rules.explain(&record(fields), &no_parents).steps[0];
        assert_eq!((step.matched, step.reason.as_str()), (matches, reason));
    }
}

#[test]
fn conditions_are_listed_in_the_order_they_were_written() {
    let rules = one_rule(r#"village = { present = true }, district = { eq = "Quthing" }"#);
    assert_eq!(
        rules.rules()[0].to_string(),
        "r: patient where village is present and district = \"Quthing\" → region north"
    );
}

#[test]
fn a_rule_without_conditions_matches_every_record_of_its_entity() {
    let text = "[[rule]]\nname = \"all\"\nentity = \"patient\"\nregion = \"north\"\n";
    let catalog = Catalog {
        regions: vec![CatalogRegion {
            name: "north".into(),
            districts: vec!["Leribe".into()],
        }],
    };
    let source = Source {
        file: "rules.toml",
        text,
    };
    let rules = RuleSet::build(&[source], &catalog).expect("builds");
    for record in [
        Record::new("patient"),
        Record::new("patient").with("district", "Anywhere"),
    ] {
        assert_eq!(rules.route(&record, &no_parents).unwrap().region, "north");
        let step = &rules.explain(&record, &no_parents).steps[0];
        assert_eq!(step.reason, "no conditions");
    }
    let other = Record::new("observation").with("patient_id", "P-north-1");
    assert!(matches!(
        rules.route(&other, &no_parents),
        Err(RouteError::UnknownEntity { .. })
    ));
}
