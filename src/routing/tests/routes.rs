//! Routing decisions with the realistic Lesotho rule set: districts, follow rules, and the
//! errors a record can get instead of a region.

use super::*;
use crate::routing::{Record, RouteError, Routed};
use std::cell::RefCell;

fn routed(region: &str, rule: &str) -> Result<Routed, RouteError> {
    Ok(Routed {
        region: region.to_owned(),
        rule: rule.to_owned(),
    })
}

#[test]
fn every_district_of_lesotho_is_routed_to_the_region_that_serves_it() {
    let rules = lesotho_rules();
    let cases = [
        ("Quthing", "quthing", "quthing"),
        ("Maseru", "maseru", "maseru-region"),
        ("Berea", "maseru", "maseru-region"),
        ("Thaba-Tseka", "maseru", "maseru-region"),
        ("Mafeteng", "mafeteng", "mafeteng-region"),
        ("Mohale's Hoek", "mafeteng", "mafeteng-region"),
        ("Qacha's Nek", "mafeteng", "mafeteng-region"),
        ("Leribe", "leribe", "leribe-region"),
        ("Butha-Buthe", "leribe", "leribe-region"),
        ("Mokhotlong", "leribe", "leribe-region"),
    ];
    for (district, region, rule) in cases {
        let record = Record::new("patient")
            .with("district", district)
            .with("sex", "F");
        assert_eq!(
            rules.route(&record, &no_parents),
            routed(region, rule),
            "{district}"
        );
    }
}

#[test]
fn a_record_no_rule_places_gets_an_error_and_never_a_region() {
    let rules = lesotho_rules();
    let cases: [(&str, Option<&str>); 5] = [
        ("a district outside Lesotho", Some("Natal")),
        ("a district in the wrong case", Some("maseru")),
        ("a district with a trailing space", Some("Maseru ")),
        ("an empty district", Some("")),
        ("no district at all", None),
    ];
    for (case, district) in cases {
        let mut record = Record::new("patient").with("sex", "M");
        if let Some(d) = district {
            record = record.with("district", d);
        }
        match rules.route(&record, &no_parents) {
            Err(RouteError::NoRuleMatched { entity, tried, .. }) => {
                assert_eq!((entity.as_str(), tried), ("patient", 4), "{case}");
            }
            other => panic!("{case}: {other:?}"),
        }
    }
}

#[test]
fn the_no_match_message_names_the_fields_but_not_their_values() {
    let record = Record::new("patient")
        .with("district", "Natal")
        .with("national_id", "123");
    let err = lesotho_rules().route(&record, &no_parents).unwrap_err();
    let text = err.to_string();
    assert_eq!(
        text,
        "no rule places this patient record (fields: district, national_id; tried 4 rules)"
    );
    assert!(!text.contains("123") && !text.contains("Natal"));
}

#[test]
fn an_entity_without_rules_is_refused_naming_the_known_kinds() {
    let err = lesotho_rules()
        .route(&Record::new("visit"), &no_parents)
        .unwrap_err();
    assert_eq!(
        err,
        RouteError::UnknownEntity {
            entity: "visit".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "no rules for entity kind \"visit\" (known: appointment, observation, patient)"
    );
}

#[test]
fn clinical_records_go_to_the_region_of_their_patient() {
    let rules = lesotho_rules();
    let cases = [
        (
            "observation",
            "P-quthing-1",
            "quthing",
            "observations-follow-patient",
        ),
        (
            "observation",
            "P-leribe-9",
            "leribe",
            "observations-follow-patient",
        ),
        (
            "appointment",
            "P-maseru-3",
            "maseru",
            "appointments-follow-patient",
        ),
        (
            "appointment",
            "P-mafeteng-4",
            "mafeteng",
            "appointments-follow-patient",
        ),
    ];
    for (entity, patient, region, rule) in cases {
        let calls = RefCell::new(Vec::new());
        let spy = |e: &str, id: &str| {
            calls.borrow_mut().push((e.to_owned(), id.to_owned()));
            resolve(e, id)
        };
        let record = Record::new(entity).with("patient_id", patient);
        assert_eq!(rules.route(&record, &spy), routed(region, rule), "{entity}");
        assert_eq!(
            calls.into_inner(),
            [("patient".to_owned(), patient.to_owned())]
        );
    }
}

#[test]
fn a_follow_rule_without_the_parent_id_is_an_error_not_a_guess() {
    let rules = lesotho_rules();
    for record in [
        Record::new("observation").with("code", "BP"),
        Record::new("observation").with("patient_id", ""),
    ] {
        let err = rules.route(&record, &resolve).unwrap_err();
        assert_eq!(
            err,
            RouteError::MissingParent {
                rule: "observations-follow-patient".into(),
                field: "patient_id".into()
            }
        );
        assert_eq!(
            err.to_string(),
            "rule \"observations-follow-patient\" places the record with its parent, but the record has no patient_id"
        );
    }
}

#[test]
fn a_parent_the_resolver_does_not_know_is_an_error() {
    let record = Record::new("appointment").with("patient_id", "P-natal-1");
    let err = lesotho_rules().route(&record, &resolve).unwrap_err();
    assert_eq!(
        err,
        RouteError::UnknownParent {
            rule: "appointments-follow-patient".into(),
            parent: "patient".into(),
            id: "P-natal-1".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "rule \"appointments-follow-patient\" follows patient \"P-natal-1\", whose region is unknown"
    );
}

#[test]
fn route_errors_serialize_with_a_kind_tag() {
    let err = RouteError::MissingParent {
        rule: "r".into(),
        field: "patient_id".into(),
    };
    assert_eq!(
        serde_json::to_value(&err).unwrap(),
        serde_json::json!({"kind": "missing_parent", "rule": "r", "field": "patient_id"})
    );
}

#[test]
fn files_are_evaluated_in_file_name_order_whatever_order_they_are_given_in() {
    // If 20-catch-all ran first it would shadow 10-quthing and the build would fail.
    let quthing = "[[rule]]\nname = \"q\"\nentity = \"patient\"\nwhen = { district = { eq = \"Quthing\" } }\nregion = \"quthing\"\n";
    let rest = "[[rule]]\nname = \"rest\"\nentity = \"patient\"\nregion = \"maseru\"\n";
    let catalog = Catalog {
        regions: vec![
            CatalogRegion {
                name: "quthing".into(),
                districts: vec!["Quthing".into()],
            },
            CatalogRegion {
                name: "maseru".into(),
                districts: vec!["Maseru".into()],
            },
        ],
    };
    let sources = [
        Source {
            file: "rules/20-catch-all.toml",
            text: rest,
        },
        Source {
            file: "rules/10-quthing.toml",
            text: quthing,
        },
    ];
    let rules = RuleSet::build(&sources, &catalog).expect("builds");
    let names: Vec<&str> = rules.rules().iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["q", "rest"]);
    let record = Record::new("patient").with("district", "Quthing");
    assert_eq!(rules.route(&record, &no_parents), routed("quthing", "q"));
}

#[test]
fn rules_are_listed_in_evaluation_order_with_a_readable_summary() {
    let rules = lesotho_rules();
    let summary: Vec<String> = rules.rules().iter().map(|r| r.to_string()).collect();
    assert_eq!(
        summary,
        [
            "quthing: patient where district = \"Quthing\" → region quthing",
            "maseru-region: patient where district in [Maseru, Berea, Thaba-Tseka] → region maseru",
            "mafeteng-region: patient where district in [Mafeteng, Mohale's Hoek, Qacha's Nek] → region mafeteng",
            "leribe-region: patient where district in [Leribe, Butha-Buthe, Mokhotlong] → region leribe",
            "observations-follow-patient: observation → its patient's region (via patient_id)",
            "appointments-follow-patient: appointment → its patient's region (via patient_id)",
        ]
    );
    let places: Vec<(&str, usize)> = rules
        .rules()
        .iter()
        .map(|r| (r.file.as_str(), r.line))
        .collect();
    assert_eq!(places[1], (PATIENTS_FILE, 8));
    assert_eq!(places[5], (CLINICAL_FILE, 7));
    let entities: Vec<&str> = rules.entities().collect();
    assert_eq!(entities, ["appointment", "observation", "patient"]);
}

#[test]
fn a_rule_set_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync + Clone + std::fmt::Debug>() {}
    shareable::<RuleSet>();
}
