use super::*;
use crate::clinical::tables::*;
use Flag::Normal as N;

pub(crate) const ADULT_AGE: i64 = years(30);
pub(crate) const TODDLER_AGE: i64 = years(2);

pub(crate) fn stored(code: &str, value: f64, unit: &str) -> f64 {
    match measure(code, value, unit, ADULT_AGE) {
        Ok(m) => m.value,
        Err(e) => panic!("{value} {unit} under {code} was refused: {e}"),
    }
}

pub(crate) fn refused(code: &str, value: f64, unit: &str) -> VitalError {
    match measure(code, value, unit, ADULT_AGE) {
        Ok(m) => panic!("{value} {unit} under {code} was accepted as {m:?}"),
        Err(e) => e,
    }
}

pub(crate) fn reason(code: &str, value: f64, age: i64) -> String {
    flag(code, value, age).1.expect("a reason")
}

/// `(code, value, age in days, expected flag)`, checked against `flag`.
pub(crate) fn assert_flags(cases: &[(&str, f64, i64, Flag)]) {
    for &(code, value, age, expected) in cases {
        let (got, why) = flag(code, value, age);
        assert_eq!(got, expected, "{code} {value} at {age} days: {why:?}");
    }
}

/// Values just inside and just outside each threshold, with the flag each must get.
pub(crate) type Steps<'a> = [(&'a str, &'a [(f64, Flag)])];

pub(crate) fn assert_steps(age: i64, cases: &Steps) {
    for &(code, steps) in cases {
        for &(value, expected) in steps {
            let (got, why) = flag(code, value, age);
            assert_eq!(got, expected, "{code} {value} at {age} days: {why:?}");
            let explained = why.is_some_and(|r| !r.is_empty());
            assert_eq!(explained, got != N, "{code} {value}: reason iff abnormal");
        }
    }
}

#[test]
fn fahrenheit_is_stored_as_celsius() {
    for unit in ["[degF]", "°F", "℉", "F", "degF"] {
        let m = measure(TEMPERATURE, 98.6, unit, ADULT_AGE).unwrap();
        assert_eq!((m.value, m.unit), (37.0, "Cel"), "98.6 {unit}");
    }
    assert_eq!(stored(TEMPERATURE, 104.0, "°F"), 40.0);
}

#[test]
fn other_units_are_converted_to_the_canonical_unit() {
    #[rustfmt::skip]
    let cases = [
        (WEIGHT, 154.0, "lb", 69.85), (WEIGHT, 154.0, "[lb_av]", 69.85), (WEIGHT, 10.0, "lbs", 4.54),
        (WEIGHT, 3250.0, "g", 3.25), (WEIGHT, 70.0, "kg", 70.0),
        (HEIGHT, 69.0, "in", 175.3), (HEIGHT, 69.0, "[in_i]", 175.3), (HEIGHT, 1.75, "m", 175.0),
        (HEIGHT, 1753.0, "mm", 175.3), (MUAC, 115.0, "mm", 11.5),
        (GLUCOSE_MASS, 5.5, "mmol/L", 99.0), (GLUCOSE_MASS, 5.5, "mmol/l", 99.0),
        (GLUCOSE_MOLAR, 99.0, "mg/dL", 5.5), (GLUCOSE_MOLAR, 180.0, "mg/dl", 10.0),
        (GLUCOSE_MOLAR, 1000.0, "mg/dL", 55.5), (GLUCOSE_MASS, 33.3, "mmol/L", 600.0),
        (TEMPERATURE, 37.0, "°C", 37.0), (TEMPERATURE, 36.55, "degC", 36.6),
        (HEART_RATE, 72.0, "bpm", 72.0), (RESPIRATORY_RATE, 16.0, "breaths/min", 16.0),
        (SYSTOLIC, 120.0, "mmHg", 120.0), (DIASTOLIC, 80.0, "mm[Hg]", 80.0),
    ];
    for (code, value, unit, expected) in cases {
        assert_eq!(stored(code, value, unit), expected, "{value} {unit}");
    }
}

#[test]
fn the_stored_unit_is_the_canonical_one_whatever_was_sent() {
    let m = measure(GLUCOSE_MOLAR, 99.0, "mg/dL", ADULT_AGE).unwrap();
    assert_eq!((m.code, m.unit), (GLUCOSE_MOLAR, "mmol/L"));
    assert_eq!(measure(HEIGHT, 1.6, " m ", ADULT_AGE).unwrap().unit, "cm");
}

#[test]
fn every_code_refuses_values_just_outside_its_physical_limits() {
    // (code, unit, lowest accepted, highest accepted); the next 0.01 either side is refused.
    #[rustfmt::skip]
    let limits = [
        (HEART_RATE, "/min", 1.0, 350.0), (RESPIRATORY_RATE, "/min", 1.0, 150.0), (SPO2, "%", 1.0, 100.0),
        (TEMPERATURE, "Cel", 25.0, 46.0), (HEIGHT, "cm", 20.0, 272.0), (WEIGHT, "kg", 0.2, 650.0),
        (SYSTOLIC, "mm[Hg]", 20.0, 300.0), (DIASTOLIC, "mm[Hg]", 10.0, 200.0),
        (GLUCOSE_MASS, "mg/dL", 10.0, 2000.0), (GLUCOSE_MOLAR, "mmol/L", 0.56, 111.01), (MUAC, "cm", 5.0, 60.0),
    ];
    let sendable = catalogue().iter().filter(|d| !d.accepted_units.is_empty());
    let codes: Vec<&str> = sendable.map(|d| d.code).collect();
    assert_eq!(codes, limits.map(|l| l.0), "a limits case per code");
    for (code, unit, min, max) in limits {
        stored(code, min, unit);
        stored(code, max, unit);
        assert_eq!(refused(code, min - 0.01, unit).part, Part::Value);
        assert_eq!(refused(code, max + 0.01, unit).part, Part::Value);
    }
}

#[test]
fn limits_are_checked_after_conversion() {
    assert_eq!(stored(WEIGHT, 700.0, "g"), 0.7);
    assert_eq!(refused(WEIGHT, 0.3, "lb").part, Part::Value);
    assert_eq!(refused(HEIGHT, 3.0, "m").part, Part::Value);
    assert_eq!(refused(TEMPERATURE, 70.0, "°F").part, Part::Value);
}

#[test]
fn a_refused_limit_is_stated_in_the_unit_the_nurse_sent() {
    #[rustfmt::skip]
    let cases = [
        (TEMPERATURE, 120.0, "°F", "body temperature 120 °F is above the possible maximum of 114.8 °F (46 °C)"),
        (TEMPERATURE, 70.0, "°F", "body temperature 70 °F is below the possible minimum of 77 °F (25 °C)"),
        (WEIGHT, 700.0, "kg", "body weight 700 kg is above the possible maximum of 650 kg"),
        (GLUCOSE_MOLAR, 5.0, "mg/dL",
            "blood glucose (moles) 5 mg/dL is below the possible minimum of 10 mg/dL (0.56 mmol/L)"),
    ];
    for (code, value, unit, expected) in cases {
        assert_eq!(refused(code, value, unit).reason, expected);
    }
}

#[test]
fn values_that_are_not_finite_are_refused() {
    for value in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let error = refused(HEART_RATE, value, "/min");
        assert_eq!(error.part, Part::Value);
        assert_eq!(error.reason, "heart rate must be a finite number");
    }
}

#[test]
fn bmi_is_computed_from_weight_and_height_to_one_decimal() {
    let m = bmi(70.0, 175.0, ADULT_AGE);
    assert_eq!((m.code, m.value, m.unit), (BMI, 22.9, "kg/m2"));
    assert_eq!((m.flag, m.reason), (N, None));
}

#[test]
fn adult_bmi_is_flagged_as_underweight_overweight_or_obese() {
    #[rustfmt::skip]
    let cases = [
        (50.0, 16.3, Low, "BMI 16.3 kg/m² is below 18.5 kg/m²: underweight"),
        (80.0, 26.1, High, "BMI 26.1 kg/m² is at or above 25.0 kg/m²: overweight"),
        (95.0, 31.0, High, "BMI 31.0 kg/m² is at or above 30.0 kg/m²: obese"),
    ];
    for (kg, value, expected, why) in cases {
        let m = bmi(kg, 175.0, ADULT_AGE);
        assert_eq!(
            (m.value, m.flag, m.reason.unwrap()),
            (value, expected, why.into())
        );
    }
}

#[test]
fn a_childs_bmi_is_not_flagged() {
    let thin = bmi(14.0, 100.0, years(5));
    assert_eq!((thin.value, thin.flag, thin.reason), (14.0, N, None));
    assert_eq!(bmi(50.0, 175.0, years(18) - 1).flag, N);
    assert_eq!(bmi(50.0, 175.0, years(18)).flag, Low);
}

#[test]
fn bmi_sent_by_a_client_is_refused() {
    let error = measure(BMI, 22.0, "kg/m2", ADULT_AGE).unwrap_err();
    assert_eq!(error.part, Part::Code);
    assert!(error.reason.contains("derived from body height"), "{error}");
}

#[test]
fn an_unknown_code_is_refused_with_the_known_codes() {
    let error = measure("1234-5", 1.0, "/min", ADULT_AGE).unwrap_err();
    assert_eq!(error.part, Part::Code);
    for def in catalogue().iter().filter(|d| d.code != BMI) {
        assert!(error.reason.contains(def.code), "{} in {error}", def.code);
    }
    assert!(!error.reason.contains(BMI), "BMI is not sendable: {error}");
    let panel = measure(BP_PANEL, 120.0, "mm[Hg]", ADULT_AGE);
    assert_eq!(panel.unwrap_err().part, Part::Code);
}

#[test]
fn an_unknown_unit_is_refused_with_the_accepted_units() {
    let error = refused(WEIGHT, 70.0, "stone");
    assert_eq!(error.part, Part::Unit);
    let listed = "accepted units: kg, g, [lb_av], lb, lbs";
    assert!(error.reason.ends_with(listed), "{error}");
    assert_eq!(refused(HEART_RATE, 70.0, "cm").part, Part::Unit);
    assert_eq!(
        refused(RESPIRATORY_RATE, 16.0, "beats/min").part,
        Part::Unit
    );
}

#[test]
fn unit_spellings_are_case_sensitive_like_ucum() {
    assert_eq!(refused(WEIGHT, 70.0, "KG").part, Part::Unit);
    assert_eq!(refused(TEMPERATURE, 37.0, "cel").part, Part::Unit);
}

#[test]
fn every_spelling_in_the_catalogue_has_a_conversion() {
    for def in catalogue() {
        for unit in def.accepted_units.iter().chain([&def.unit]) {
            let known = UNITS.iter().any(|row| row.0 == *unit);
            assert!(known, "{unit} for {}", def.code);
        }
        let sendable = !def.accepted_units.is_empty();
        assert!(!sendable || def.accepted_units.contains(&def.unit));
    }
}

#[test]
fn no_two_age_bands_of_one_vital_overlap() {
    for (i, a) in RANGES.iter().enumerate() {
        for b in &RANGES[i + 1..] {
            let shared = a.codes.iter().any(|code| b.codes.contains(code));
            let overlap = a.ages.0 < b.ages.1 && b.ages.0 < a.ages.1;
            assert!(!(shared && overlap), "{:?} at {:?}", a.codes, a.ages);
        }
    }
}

#[test]
fn flags_read_back_from_their_stored_spelling() {
    for flag in Flag::ALL {
        assert_eq!(flag.as_str().parse::<Flag>(), Ok(flag));
        let json = serde_json::to_string(&flag).unwrap();
        assert_eq!(json, format!("\"{}\"", flag.as_str()));
    }
    assert_eq!(Critical.as_str(), "critical");
    assert!("Critical".parse::<Flag>().is_err());
}

#[test]
fn diastolic_must_be_below_systolic() {
    assert_eq!(check_bp_pair(120.0, 80.0), Ok(()));
    let error = check_bp_pair(80.0, 80.0).unwrap_err();
    assert_eq!(error, "diastolic 80 mmHg must be below systolic 80 mmHg");
    assert!(check_bp_pair(70.0, 90.0).is_err());
}

#[test]
fn age_in_days_counts_leap_days() {
    let day = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap();
    assert_eq!(age_days(day(2024, 1, 1), day(2025, 1, 1)), 366);
    assert_eq!(age_days(day(2025, 1, 1), day(2025, 1, 1)), 0);
    assert_eq!(age_days(day(2025, 1, 2), day(2025, 1, 1)), -1);
}
