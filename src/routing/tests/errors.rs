//! Build errors: each kind with its file, line and message, and that a build reports all of
//! them at once. Each bad rule is added as a third file next to the sound Lesotho rules, so
//! the bad rule must be the only thing reported.

use super::*;

const EXTRA: &str = "routing-rules/30-extra.toml";

fn only_error(extra: &str) -> RuleError {
    let mut errors = errors_of(&[
        (PATIENTS_FILE, PATIENTS),
        (CLINICAL_FILE, CLINICAL),
        (EXTRA, extra),
    ]);
    assert_eq!(errors.len(), 1, "{extra}\n{errors:#?}");
    errors.remove(0)
}

#[test]
fn each_mistake_in_a_rule_is_reported_at_its_line() {
    #[rustfmt::skip]
    let cases: &[(&str, &str, usize, &str)] = &[
        ("a TOML syntax error",
         "[[rule]]\nname = \"x\nentity = \"patient\"\n", 2, "string"),
        ("an unknown top-level table",
         "[[rules]]\nname = \"x\"\n", 1, "unknown field `rules`, expected `rule`"),
        ("an unknown key in a rule",
         "[[rule]]\nname = \"x\"\nentity = \"patient\"\nregoin = \"maseru\"\n", 4, "unknown field `regoin`"),
        ("an unknown key in a condition",
         "[[rule]]\nname = \"x\"\nentity = \"patient\"\nwhen = { district = { equals = \"Maseru\" } }\nregion = \"maseru\"\n",
         4, "unknown field `equals`, expected one of `eq`, `in`, `prefix`, `present`"),
        ("an unknown key in follow",
         "[[rule]]\nname = \"x\"\nentity = \"observation\"\nfollow = { parent = \"patient\", via = \"patient_id\" }\n",
         4, "unknown field `via`"),
        ("a region that is not a string",
         "[[rule]]\nname = \"x\"\nentity = \"patient\"\nregion = 5\n", 4, "invalid type: integer `5`, expected a string"),
        ("an in list that is not a list",
         "[[rule]]\nname = \"x\"\nentity = \"patient\"\nwhen = { district = { in = \"Maseru\" } }\nregion = \"maseru\"\n",
         4, "expected a sequence"),
        ("a condition without a test",
         "[[rule]]\nname = \"x\"\nentity = \"patient\"\nwhen = { village = {} }\nregion = \"maseru\"\n",
         4, "rule \"x\": condition on village has no test (use one of eq, in, prefix, present)"),
        ("a condition with two tests",
         "[[rule]]\nname = \"x\"\nentity = \"patient\"\nwhen = { village = { eq = \"Ha Foso\", prefix = \"Ha\" } }\nregion = \"maseru\"\n",
         4, "rule \"x\": condition on village has 2 tests (eq, prefix); use exactly one"),
        ("both region and follow",
         "[[rule]]\nname = \"x\"\nentity = \"observation\"\nregion = \"maseru\"\nfollow = { parent = \"patient\", field = \"patient_id\" }\n",
         4, "rule \"x\" has both region and follow"),
        ("neither region nor follow",
         "[[rule]]\nname = \"x\"\nentity = \"patient\"\nwhen = { village = { present = true } }\n",
         2, "rule \"x\" has neither region nor follow"),
        ("a name used before",
         "[[rule]]\nname = \"maseru-region\"\nentity = \"patient\"\nwhen = { village = { present = true } }\nregion = \"maseru\"\n",
         2, "rule name \"maseru-region\" is used twice: first at routing-rules/10-patients.toml:8"),
        ("an unknown entity",
         "[[rule]]\nname = \"x\"\nentity = \"patiant\"\nregion = \"maseru\"\n",
         3, "rule \"x\" names unknown entity \"patiant\" (known: appointment, observation, patient)"),
        ("an unknown field",
         "[[rule]]\nname = \"x\"\nentity = \"patient\"\n\nwhen = { distrct = { eq = \"Maseru\" } }\nregion = \"maseru\"\n",
         5, "rule \"x\": patient has no field \"distrct\" (fields: district, village, facility, national_id, sex)"),
        ("a follow on an entity without a parent",
         "[[rule]]\nname = \"x\"\nentity = \"patient\"\nwhen = { village = { present = true } }\nfollow = { parent = \"patient\", field = \"patient_id\" }\n",
         5, "rule \"x\": patient records have no parent to follow"),
        ("a follow of the wrong parent",
         "[[rule]]\nname = \"x\"\nentity = \"observation\"\nfollow = { parent = \"visit\", field = \"patient_id\" }\n",
         4, "rule \"x\" follows \"visit\", but observation records belong to a patient (via patient_id)"),
        ("a follow through the wrong field",
         "[[rule]]\nname = \"x\"\nentity = \"observation\"\nfollow = { parent = \"patient\", field = \"pid\" }\n",
         4, "rule \"x\" follows patient via \"pid\", but observation records hold their patient's id in patient_id"),
        ("an empty in list",
         "[[rule]]\nname = \"x\"\nentity = \"patient\"\nwhen = { village = { in = [] } }\nregion = \"maseru\"\n",
         4, "rule \"x\": the in list for village is empty, so the rule could never match"),
        ("an empty value",
         "[[rule]]\nname = \"x\"\nentity = \"patient\"\nwhen = { village = { eq = \"\" } }\nregion = \"maseru\"\n",
         4, "rule \"x\": condition on village compares with an empty string; use { present = false }"),
    ];
    for &(case, text, line, message) in cases {
        let error = only_error(text);
        assert_eq!(error.file, EXTRA, "{case}");
        assert_eq!(error.line, Some(line), "{case}: {error}");
        assert!(error.message.contains(message), "{case}: {error}");
    }
}

#[test]
fn an_unknown_region_is_reported_with_file_line_and_the_known_regions() {
    let text = "[[rule]]\nname = \"x\"\nentity = \"patient\"\nwhen = { village = { present = true } }\nregion = \"lerib\"\n";
    assert_eq!(
        only_error(text).to_string(),
        "routing-rules/30-extra.toml:5: rule \"x\" names unknown region \"lerib\" (known: leribe, mafeteng, maseru, quthing)"
    );
}

#[test]
fn every_error_of_every_file_is_reported_in_file_and_line_order() {
    let broken_syntax = "[[rule]]\nname = \"a\"\nentity = = \"patient\"\n";
    let many = "[[rule]]\nname = \"b\"\nentity = \"patient\"\nwhen = { village = { present = true } }\nregion = \"lerib\"\n\n\
                [[rule]]\nname = \"c\"\nentity = \"visit\"\nregion = \"maseru\"\n\n\
                [[rule]]\nname = \"b\"\nentity = \"observation\"\nfollow = { parent = \"patient\", field = \"pid\" }\n";
    let errors = errors_of(&[
        ("routing-rules/40-many.toml", many),
        ("routing-rules/05-syntax.toml", broken_syntax),
        (PATIENTS_FILE, PATIENTS),
    ]);
    let places: Vec<(&str, Option<usize>)> =
        errors.iter().map(|e| (e.file.as_str(), e.line)).collect();
    assert_eq!(
        places,
        [
            ("routing-rules/05-syntax.toml", Some(3)),
            ("routing-rules/40-many.toml", Some(5)),
            ("routing-rules/40-many.toml", Some(9)),
            ("routing-rules/40-many.toml", Some(13)),
            ("routing-rules/40-many.toml", Some(15)),
        ],
        "{errors:#?}"
    );
    assert!(errors[4].message.contains("pid"));
    assert!(
        errors[3]
            .message
            .contains("used twice: first at routing-rules/40-many.toml:2")
    );
}

#[test]
fn a_rule_error_without_a_line_displays_just_the_file() {
    let error = RuleError {
        file: "routing-rules".into(),
        line: None,
        message: "district \"Berea\" is placed by no rule".into(),
    };
    assert_eq!(
        error.to_string(),
        "routing-rules: district \"Berea\" is placed by no rule"
    );
}
