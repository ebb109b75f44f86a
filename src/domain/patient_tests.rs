use super::*;

fn ctx_districts() -> BTreeMap<String, String> {
    ["Quthing", "Maseru", "Mohale's Hoek"]
        .iter()
        .map(|d| (d.to_lowercase(), d.to_string()))
        .collect()
}

fn valid() -> PatientInput {
    PatientInput {
        given_name: Some("Palesa".into()),
        family_name: Some("Mokoena".into()),
        sex: Some("female".into()),
        birth_date: Some("1990-04-12".into()),
        district: Some("quthing".into()),
        ..Default::default()
    }
}

fn parse(input: &PatientInput) -> Result<NewPatient, Vec<FieldError>> {
    let districts = ctx_districts();
    let ctx = ParseContext {
        districts: &districts,
        today: NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(),
    };
    input.parse(&ctx)
}

fn fields(errors: Vec<FieldError>) -> Vec<String> {
    errors.into_iter().map(|e| e.field).collect()
}

#[test]
fn a_valid_patient_gets_the_canonical_district_spelling() {
    let p = parse(&valid()).unwrap();
    assert_eq!(p.district, "Quthing");
    assert_eq!(p.sex, Sex::Female);
    assert!(!p.birth_date_estimated);
}

#[test]
fn every_bad_field_is_reported_at_once() {
    let input = PatientInput {
        given_name: Some(" ".into()),
        sex: Some("x".into()),
        birth_date: Some("2026-02-30".into()),
        district: Some("Narnia".into()),
        phone: Some("12".into()),
        ..Default::default()
    };
    let got = fields(parse(&input).unwrap_err());
    for f in [
        "given_name",
        "family_name",
        "sex",
        "birth_date",
        "district",
        "phone",
    ] {
        assert!(got.contains(&f.to_string()), "{f} missing from {got:?}");
    }
}

#[test]
fn impossible_and_future_birth_dates_are_refused_with_the_reason() {
    for (raw, reason) in [
        ("2026-02-30", "not a calendar date"),
        ("2027-01-01", "in the future"),
        ("1899-12-31", "before 1900"),
        ("12/04/1990", "not a calendar date"),
    ] {
        let input = PatientInput {
            birth_date: Some(raw.into()),
            ..valid()
        };
        let errors = parse(&input).unwrap_err();
        assert_eq!(errors[0].field, "birth_date");
        assert!(
            errors[0].reason.contains(reason),
            "{raw}: {}",
            errors[0].reason
        );
    }
}

#[test]
fn an_estimated_age_becomes_an_estimated_birth_date() {
    let input = PatientInput {
        birth_date: None,
        estimated_age_years: Some(40),
        ..valid()
    };
    let p = parse(&input).unwrap();
    assert_eq!(p.birth_date, NaiveDate::from_ymd_opt(1986, 11, 23).unwrap());
    assert!(p.birth_date_estimated);
}

#[test]
fn a_birth_date_and_an_age_together_or_neither_are_refused() {
    let both = PatientInput {
        estimated_age_years: Some(3),
        ..valid()
    };
    assert_eq!(fields(parse(&both).unwrap_err()), ["estimated_age_years"]);
    let neither = PatientInput {
        birth_date: None,
        ..valid()
    };
    assert_eq!(fields(parse(&neither).unwrap_err()), ["birth_date"]);
    let old = PatientInput {
        birth_date: None,
        estimated_age_years: Some(131),
        ..valid()
    };
    assert_eq!(fields(parse(&old).unwrap_err()), ["estimated_age_years"]);
}
