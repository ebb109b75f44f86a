//! Explanations: the steps, the text the CLI prints and the JSON the API returns, and that
//! they always agree with `route`.

use super::*;
use crate::routing::{Record, RouteError, Step};

fn step(rule: &str, line: usize, matched: bool, reason: &str) -> Step {
    Step {
        rule: rule.into(),
        file: PATIENTS_FILE.into(),
        line,
        matched,
        reason: reason.into(),
    }
}

#[test]
fn an_explanation_gives_every_rule_tried_up_to_the_match() {
    let record = Record::new("patient").with("district", "Mafeteng");
    let explanation = lesotho_rules().explain(&record, &no_parents);
    assert_eq!(
        explanation.steps,
        [
            step(
                "quthing",
                2,
                false,
                r#"district is "Mafeteng", not "Quthing""#
            ),
            step(
                "maseru-region",
                8,
                false,
                r#"district "Mafeteng" is not one of [Maseru, Berea, Thaba-Tseka]"#
            ),
            step(
                "mafeteng-region",
                14,
                true,
                r#"district "Mafeteng" is one of [Mafeteng, Mohale's Hoek, Qacha's Nek]"#
            ),
        ]
    );
    assert_eq!(
        explanation.to_string(),
        "patient { district = \"Mafeteng\" }\n\
         \x20 ✗ quthing (routing-rules/10-patients.toml:2): district is \"Mafeteng\", not \"Quthing\"\n\
         \x20 ✗ maseru-region (routing-rules/10-patients.toml:8): district \"Mafeteng\" is not one of [Maseru, Berea, Thaba-Tseka]\n\
         \x20 ✓ mafeteng-region (routing-rules/10-patients.toml:14): district \"Mafeteng\" is one of [Mafeteng, Mohale's Hoek, Qacha's Nek]\n\
         → region mafeteng by rule mafeteng-region"
    );
}

#[test]
fn an_explanation_of_a_record_no_rule_places_shows_every_rule_failing_and_the_error() {
    let record = Record::new("patient").with("village", "Ha Foso");
    let explanation = lesotho_rules().explain(&record, &no_parents);
    assert_eq!(explanation.steps.len(), 4);
    assert!(explanation.steps.iter().all(|s| !s.matched));
    assert!(
        explanation
            .steps
            .iter()
            .all(|s| s.reason == "district is absent")
    );
    let text = explanation.to_string();
    assert!(
        text.ends_with(
            "→ not placed: no rule places this patient record (fields: village; tried 4 rules)"
        ),
        "{text}"
    );
}

#[test]
fn an_explanation_serializes_its_outcome_as_a_region_or_an_error() {
    let rules = lesotho_rules();
    let placed = rules.explain(
        &Record::new("patient").with("district", "Quthing"),
        &no_parents,
    );
    assert_eq!(
        serde_json::to_value(&placed).unwrap(),
        serde_json::json!({
            "entity": "patient",
            "fields": {"district": "Quthing"},
            "steps": [{
                "rule": "quthing",
                "file": PATIENTS_FILE,
                "line": 2,
                "matched": true,
                "reason": "district = \"Quthing\""
            }],
            "outcome": {"region": "quthing", "rule": "quthing"}
        })
    );
    let refused = rules.explain(&Record::new("visit"), &no_parents);
    let json = serde_json::to_value(&refused).unwrap();
    assert_eq!(json["steps"], serde_json::json!([]));
    assert_eq!(
        json["outcome"],
        serde_json::json!({"error": "no rules for entity kind \"visit\" (known: appointment, observation, patient)"})
    );
}

#[test]
fn an_explanation_always_reaches_the_same_decision_as_route() {
    let rules = lesotho_rules();
    let records = [
        Record::new("patient").with("district", "Berea"),
        Record::new("patient").with("district", "Natal"),
        Record::new("patient"),
        Record::new("observation").with("patient_id", "P-leribe-2"),
        Record::new("observation").with("patient_id", "P-natal-2"),
        Record::new("appointment"),
        Record::new("visit"),
    ];
    for record in &records {
        let explanation = rules.explain(record, &resolve);
        assert_eq!(
            explanation.outcome,
            rules.route(record, &resolve),
            "{record:?}"
        );
        // A rule decided exactly when the outcome is not "no rule" for the record.
        let decided = !matches!(
            explanation.outcome,
            Err(RouteError::NoRuleMatched { .. } | RouteError::UnknownEntity { .. })
        );
        assert_eq!(
            explanation.steps.last().is_some_and(|s| s.matched),
            decided,
            "{record:?}"
        );
    }
}

#[test]
fn a_follow_rule_explains_the_parent_lookup_failure() {
    let record = Record::new("observation").with("patient_id", "P-natal-2");
    let explanation = lesotho_rules().explain(&record, &resolve);
    assert_eq!(explanation.steps.len(), 1);
    assert!(explanation.steps[0].matched);
    assert_eq!(explanation.steps[0].reason, "no conditions");
    assert!(explanation.to_string().ends_with(
        "→ not placed: rule \"observations-follow-patient\" follows patient \"P-natal-2\", whose region is unknown"
    ));
}
