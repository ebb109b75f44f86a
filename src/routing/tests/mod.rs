//! Unit tests of the rule engine, with fixtures shared by the test files: the Lesotho region
//! catalog, a realistic rule set whose line numbers the error tests rely on, and a parent
//! resolver that reads the region out of test patient ids.

mod conditions;
mod errors;
mod explain;
pub(crate) mod mutate;
mod proptests;
mod routes;
mod shadowing;
mod shipped;

use super::{Catalog, CatalogRegion, RuleError, RuleSet, Source};

/// The four regions of Lesotho and the ten districts they serve.
pub(super) fn lesotho() -> Catalog {
    let region = |name: &str, districts: &[&str]| CatalogRegion {
        name: name.to_owned(),
        districts: districts.iter().map(|d| (*d).to_owned()).collect(),
    };
    Catalog {
        regions: vec![
            region("quthing", &["Quthing"]),
            region("maseru", &["Maseru", "Berea", "Thaba-Tseka"]),
            region("mafeteng", &["Mafeteng", "Mohale's Hoek", "Qacha's Nek"]),
            region("leribe", &["Leribe", "Butha-Buthe", "Mokhotlong"]),
        ],
    }
}

pub(super) const PATIENTS_FILE: &str = "routing-rules/10-patients.toml";

/// Rules at lines 2, 8, 14 and 20 (their `name` keys); tests below depend on that.
pub(super) const PATIENTS: &str = r#"[[rule]]
name = "quthing"
entity = "patient"
when = { district = { eq = "Quthing" } }
region = "quthing"

[[rule]]
name = "maseru-region"
entity = "patient"
when = { district = { in = ["Maseru", "Berea", "Thaba-Tseka"] } }
region = "maseru"

[[rule]]
name = "mafeteng-region"
entity = "patient"
when = { district = { in = ["Mafeteng", "Mohale's Hoek", "Qacha's Nek"] } }
region = "mafeteng"

[[rule]]
name = "leribe-region"
entity = "patient"
when = { district = { in = ["Leribe", "Butha-Buthe", "Mokhotlong"] } }
region = "leribe"
"#;

pub(super) const CLINICAL_FILE: &str = "routing-rules/20-clinical.toml";

pub(super) const CLINICAL: &str = r#"[[rule]]
name = "observations-follow-patient"
entity = "observation"
follow = { parent = "patient", field = "patient_id" }

[[rule]]
name = "appointments-follow-patient"
entity = "appointment"
follow = { parent = "patient", field = "patient_id" }
"#;

/// Builds from (file, text) pairs against the Lesotho catalog.
pub(super) fn build(files: &[(&str, &str)]) -> Result<RuleSet, Vec<RuleError>> {
    let sources: Vec<Source<'_>> = files
        .iter()
        .map(|&(file, text)| Source { file, text })
        .collect();
    RuleSet::build(&sources, &lesotho())
}

/// The realistic rule set: patients by district, clinical records following the patient.
pub(super) fn lesotho_rules() -> RuleSet {
    build(&[(PATIENTS_FILE, PATIENTS), (CLINICAL_FILE, CLINICAL)]).expect("fixture builds")
}

/// Test patient ids look like `P-maseru-17`: the region is the middle part.
pub(super) fn resolve(entity: &str, id: &str) -> Option<String> {
    let rest = id.strip_prefix("P-").filter(|_| entity == "patient")?;
    let region = rest.split('-').next()?;
    ["quthing", "maseru", "mafeteng", "leribe"]
        .contains(&region)
        .then(|| region.to_owned())
}

/// For rule sets without follow rules: any call would be a bug in the test.
pub(super) fn no_parents(_: &str, _: &str) -> Option<String> {
    None
}

/// The errors of a build that must fail.
pub(super) fn errors_of(files: &[(&str, &str)]) -> Vec<RuleError> {
    match build(files) {
        Ok(set) => panic!("expected errors, built {} rules", set.rules().len()),
        Err(errors) => errors,
    }
}
