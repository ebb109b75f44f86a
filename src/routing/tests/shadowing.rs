//! Rules hidden behind earlier rules, and coverage of the catalog's districts: the two checks
//! that look at the rule set as a whole.

use super::*;
use crate::routing::rule::{Condition, Predicate, Rule, Target};
use crate::routing::validate::implies;

/// A rule's conditions as written in a test table.
type Conditions = Vec<(&'static str, Predicate)>;

fn rule(conditions: &[(&str, Predicate)]) -> Rule {
    Rule {
        name: "r".into(),
        entity: "patient".into(),
        file: "f".into(),
        line: 1,
        description: None,
        conditions: conditions
            .iter()
            .map(|(field, predicate)| Condition {
                field: (*field).to_owned(),
                predicate: predicate.clone(),
            })
            .collect(),
        target: Target::Region("north".into()),
    }
}

fn eq(v: &str) -> Predicate {
    Predicate::Eq(v.into())
}

fn one_of(vs: &[&str]) -> Predicate {
    Predicate::In(vs.iter().map(|v| (*v).to_owned()).collect())
}

fn prefix(p: &str) -> Predicate {
    Predicate::Prefix(p.into())
}

#[test]
fn a_later_rule_is_shadowed_exactly_when_it_constrains_every_field_at_least_as_tightly() {
    use Predicate::Present;
    let d = "district";
    #[rustfmt::skip]
    let cases: Vec<(&str, Conditions, Conditions, bool)> = vec![
        ("no earlier conditions", vec![(d, eq("Berea"))], vec![], true),
        ("no conditions at all", vec![], vec![], true),
        ("no later conditions", vec![], vec![(d, eq("Berea"))], false),
        ("same eq", vec![(d, eq("Berea"))], vec![(d, eq("Berea"))], true),
        ("other eq", vec![(d, eq("Maseru"))], vec![(d, eq("Berea"))], false),
        ("in of one value under eq", vec![(d, one_of(&["Berea"]))], vec![(d, eq("Berea"))], true),
        ("in of two under eq", vec![(d, one_of(&["Berea", "Maseru"]))], vec![(d, eq("Berea"))], false),
        ("eq inside in", vec![(d, eq("Berea"))], vec![(d, one_of(&["Maseru", "Berea"]))], true),
        ("eq outside in", vec![(d, eq("Leribe"))], vec![(d, one_of(&["Maseru", "Berea"]))], false),
        ("subset in", vec![(d, one_of(&["Berea"]))], vec![(d, one_of(&["Maseru", "Berea"]))], true),
        ("overlapping in", vec![(d, one_of(&["Berea", "Leribe"]))], vec![(d, one_of(&["Maseru", "Berea"]))], false),
        ("eq with the prefix", vec![(d, eq("QT-1"))], vec![(d, prefix("QT-"))], true),
        ("eq without the prefix", vec![(d, eq("MS-1"))], vec![(d, prefix("QT-"))], false),
        ("in all with the prefix", vec![(d, one_of(&["QT-1", "QT-2"]))], vec![(d, prefix("QT-"))], true),
        ("in not all with the prefix", vec![(d, one_of(&["QT-1", "MS-2"]))], vec![(d, prefix("QT-"))], false),
        ("longer prefix", vec![(d, prefix("QT-0"))], vec![(d, prefix("QT-"))], true),
        ("shorter prefix", vec![(d, prefix("Q"))], vec![(d, prefix("QT-"))], false),
        ("eq implies present", vec![(d, eq("Berea"))], vec![(d, Present(true))], true),
        ("in implies present", vec![(d, one_of(&["Berea"]))], vec![(d, Present(true))], true),
        ("prefix implies present", vec![(d, prefix("B"))], vec![(d, Present(true))], true),
        ("present implies present", vec![(d, Present(true))], vec![(d, Present(true))], true),
        ("absent does not imply present", vec![(d, Present(false))], vec![(d, Present(true))], false),
        ("absent implies absent", vec![(d, Present(false))], vec![(d, Present(false))], true),
        ("eq does not imply absent", vec![(d, eq("Berea"))], vec![(d, Present(false))], false),
        ("present does not imply eq", vec![(d, Present(true))], vec![(d, eq("Berea"))], false),
        ("another field", vec![("village", eq("Berea"))], vec![(d, eq("Berea"))], false),
        ("one of two earlier fields", vec![(d, eq("Berea"))], vec![(d, eq("Berea")), ("village", Present(true))], false),
        ("both fields and more", vec![(d, eq("Berea")), ("village", eq("Ha Foso")), ("sex", eq("F"))],
            vec![(d, eq("Berea")), ("village", Present(true))], true),
    ];
    for (case, later, earlier, shadowed) in cases {
        assert_eq!(implies(&rule(&later), &rule(&earlier)), shadowed, "{case}");
    }
}

#[test]
fn a_shadowed_rule_is_reported_naming_the_rule_that_hides_it() {
    let extra = "[[rule]]\nname = \"berea-villages\"\nentity = \"patient\"\n\
                 when = { district = { eq = \"Berea\" }, village = { present = true } }\nregion = \"maseru\"\n";
    let errors = errors_of(&[
        (PATIENTS_FILE, PATIENTS),
        ("routing-rules/30-extra.toml", extra),
    ]);
    assert_eq!(
        errors,
        [RuleError {
            file: "routing-rules/30-extra.toml".into(),
            line: Some(2),
            message: "rule \"berea-villages\" can never apply: every patient it matches is already matched by rule \"maseru-region\" (routing-rules/10-patients.toml:8), which comes first".into(),
        }]
    );
}

#[test]
fn a_narrower_rule_before_a_broader_one_is_fine() {
    let first = "[[rule]]\nname = \"quthing-clinic\"\nentity = \"patient\"\n\
                 when = { facility = { prefix = \"QT-\" } }\nregion = \"quthing\"\n";
    let rules = build(&[
        ("routing-rules/05-first.toml", first),
        (PATIENTS_FILE, PATIENTS),
    ]);
    assert_eq!(rules.expect("builds").rules().len(), 5);
}

#[test]
fn a_district_no_rule_covers_is_reported_with_its_name() {
    // The fixture without its first rule (Quthing).
    let without_quthing = PATIENTS.split_once("\n\n").unwrap().1;
    let errors = errors_of(&[(PATIENTS_FILE, without_quthing)]);
    assert_eq!(
        errors,
        [RuleError {
            file: "routing-rules".into(),
            line: None,
            message: "district \"Quthing\" is placed by no rule".into(),
        }]
    );
}

#[test]
fn a_district_placed_in_another_region_than_the_catalog_says_is_reported_at_the_rule() {
    let text = PATIENTS.replace(r#""Thaba-Tseka"]"#, r#""Thaba-Tseka", "Mafeteng"]"#);
    let errors = errors_of(&[(PATIENTS_FILE, &text)]);
    assert_eq!(
        errors,
        [RuleError {
            file: PATIENTS_FILE.into(),
            line: Some(8),
            message: "district \"Mafeteng\" is served by region mafeteng (regions/) but rule \"maseru-region\" (routing-rules/10-patients.toml:8) places it in maseru".into(),
        }]
    );
}

#[test]
fn a_district_listed_by_two_regions_is_an_error() {
    let mut catalog = lesotho();
    catalog.regions[0].districts.push("Berea".into());
    let source = Source {
        file: PATIENTS_FILE,
        text: PATIENTS,
    };
    let errors = RuleSet::build(&[source], &catalog).unwrap_err();
    assert_eq!(
        errors,
        [RuleError {
            file: "regions".into(),
            line: None,
            message: "district \"Berea\" is listed by two regions: quthing and maseru".into(),
        }]
    );
}

#[test]
fn coverage_adds_no_noise_to_rules_already_reported() {
    let cases = [
        (
            "a file that does not parse",
            PATIENTS.replace("[[rule]]\nname = \"quthing\"", "[[rule]]\nname = quthing"),
        ),
        (
            "a rule with an unknown region",
            PATIENTS.replace("region = \"quthing\"", "region = \"quthng\""),
        ),
    ];
    for (case, text) in cases {
        let errors = errors_of(&[(PATIENTS_FILE, &text)]);
        assert_eq!(errors.len(), 1, "{case}: {errors:#?}");
        assert_eq!(errors[0].file, PATIENTS_FILE, "{case}");
    }
}
