//! The clinical thresholds, tested at each boundary: a value just inside and just outside
//! every threshold gets the flag the table promises, for each age band.

use super::*;
use crate::clinical::vitals::tests::*;
use Flag::Normal as N;

#[test]
fn flags_change_exactly_at_each_adult_threshold() {
    #[rustfmt::skip]
    let cases: &Steps = &[
        (HEART_RATE, &[(39.0, Critical), (40.0, Low), (59.0, Low), (60.0, N), (100.0, N), (101.0, High),
            (130.0, High), (131.0, Critical)]),
        (RESPIRATORY_RATE, &[(7.0, Critical), (8.0, Low), (11.0, Low), (12.0, N), (20.0, N), (21.0, High),
            (30.0, High), (31.0, Critical)]),
        (SPO2, &[(89.0, Critical), (90.0, Low), (94.0, Low), (95.0, N), (100.0, N)]),
        (TEMPERATURE, &[(34.9, Critical), (35.0, Low), (35.9, Low), (36.0, N), (37.5, N), (37.6, High),
            (39.9, High), (40.0, Critical)]),
        (SYSTOLIC, &[(69.0, Critical), (70.0, Low), (89.0, Low), (90.0, N), (139.0, N), (140.0, High),
            (179.0, High), (180.0, Critical)]),
        (DIASTOLIC, &[(39.0, Critical), (40.0, Low), (59.0, Low), (60.0, N), (89.0, N), (90.0, High),
            (119.0, High), (120.0, Critical)]),
        (GLUCOSE_MASS, &[(53.0, Critical), (54.0, Low), (69.0, Low), (70.0, N), (180.0, N), (181.0, High),
            (400.0, High), (401.0, Critical)]),
        (GLUCOSE_MOLAR, &[(2.9, Critical), (3.0, Low), (3.8, Low), (3.9, N), (10.0, N), (10.1, High),
            (22.2, High), (22.3, Critical)]),
        (BMI, &[(18.4, Low), (18.5, N), (24.9, N), (25.0, High), (29.9, High), (30.0, High)]),
    ];
    assert_steps(ADULT_AGE, cases);
}

#[test]
fn childrens_flags_change_exactly_at_each_threshold_of_their_age_band() {
    #[rustfmt::skip]
    let infant: &Steps = &[
        (HEART_RATE, &[(59.0, Critical), (60.0, Low), (99.0, Low), (100.0, N), (160.0, N), (161.0, High),
            (200.0, High), (201.0, Critical)]),
        (RESPIRATORY_RATE, &[(19.0, Critical), (20.0, Low), (29.0, Low), (30.0, N), (60.0, N), (61.0, High),
            (70.0, High), (71.0, Critical)]),
        (SYSTOLIC, &[(69.0, Critical), (70.0, N), (179.0, N), (180.0, Critical)]),
    ];
    #[rustfmt::skip]
    let aged_1_to_5: &Steps = &[
        (HEART_RATE, &[(59.0, Critical), (60.0, Low), (79.0, Low), (80.0, N), (140.0, N), (141.0, High),
            (180.0, High), (181.0, Critical)]),
        (RESPIRATORY_RATE, &[(14.0, Critical), (15.0, Low), (23.0, Low), (24.0, N), (39.0, N), (40.0, High),
            (50.0, High), (51.0, Critical)]),
    ];
    #[rustfmt::skip]
    let aged_6_to_12: &Steps = &[
        (HEART_RATE, &[(49.0, Critical), (50.0, Low), (69.0, Low), (70.0, N), (120.0, N), (121.0, High),
            (160.0, High), (161.0, Critical)]),
        (RESPIRATORY_RATE, &[(9.0, Critical), (10.0, Low), (17.0, Low), (18.0, N), (30.0, N), (31.0, High),
            (40.0, High), (41.0, Critical)]),
        (DIASTOLIC, &[(20.0, N), (119.0, N), (120.0, Critical)]),
    ];
    #[rustfmt::skip]
    let bands = [(INFANT, infant), (AGED_1_TO_5, aged_1_to_5), (AGED_6_TO_12, aged_6_to_12)];
    for ((first_day, until), steps) in bands {
        assert_steps(first_day, steps);
        assert_steps(until - 1, steps);
    }
    assert_flags(&[
        (SYSTOLIC, 85.0, years(13) - 1, N),
        (SYSTOLIC, 85.0, years(13), Low),
    ]);
}

#[test]
fn heart_rate_flags_depend_on_age() {
    #[rustfmt::skip]
    assert_flags(&[
        (HEART_RATE, 150.0, 100, N), (HEART_RATE, 150.0, ADULT_AGE, Critical),
        (HEART_RATE, 150.0, TODDLER_AGE, High), (HEART_RATE, 150.0, years(8), High),
        (HEART_RATE, 90.0, 100, Low), (HEART_RATE, 90.0, years(8), N),
        (HEART_RATE, 150.0, years(1) - 1, N), (HEART_RATE, 150.0, years(1), High),
    ]);
}

#[test]
fn respiratory_rate_flags_depend_on_age() {
    #[rustfmt::skip]
    assert_flags(&[
        (RESPIRATORY_RATE, 55.0, 100, N), (RESPIRATORY_RATE, 55.0, ADULT_AGE, Critical),
        (RESPIRATORY_RATE, 40.0, TODDLER_AGE, High), (RESPIRATORY_RATE, 25.0, years(8), N),
        (RESPIRATORY_RATE, 25.0, ADULT_AGE, High),
    ]);
}

#[test]
fn a_childs_blood_pressure_is_flagged_only_at_dangerous_extremes() {
    let child = years(8);
    #[rustfmt::skip]
    assert_flags(&[
        (SYSTOLIC, 85.0, child, N), (SYSTOLIC, 150.0, child, N), (SYSTOLIC, 69.0, child, Critical),
        (DIASTOLIC, 50.0, child, N), (DIASTOLIC, 100.0, child, N), (DIASTOLIC, 120.0, child, Critical),
    ]);
}

#[test]
fn muac_is_flagged_only_for_children_aged_6_to_59_months() {
    #[rustfmt::skip]
    assert_flags(&[
        (MUAC, 11.4, TODDLER_AGE, Critical), (MUAC, 11.5, TODDLER_AGE, Low),
        (MUAC, 12.4, TODDLER_AGE, Low), (MUAC, 12.5, TODDLER_AGE, N),
        (MUAC, 11.0, months(6), Critical), (MUAC, 11.0, months(60) - 1, Critical),
        (MUAC, 11.0, months(6) - 1, N), (MUAC, 11.0, months(60), N), (MUAC, 11.0, ADULT_AGE, N),
    ]);
    let why = reason(MUAC, 11.0, TODDLER_AGE);
    assert_eq!(
        why,
        "MUAC 11.0 cm is below 11.5 cm: severe acute malnutrition"
    );
}

#[test]
fn a_reason_names_the_value_the_threshold_and_what_it_means() {
    let m = measure(SPO2, 88.0, "%", ADULT_AGE).unwrap();
    assert_eq!(m.reason.unwrap(), "SpO2 88 % is below 90 %: hypoxaemia");
    #[rustfmt::skip]
    let cases = [
        (TEMPERATURE, 40.2, "Temperature 40.2 °C is at or above 40.0 °C: very high fever"),
        (GLUCOSE_MOLAR, 2.5, "Blood glucose 2.5 mmol/L is below 3.0 mmol/L: severe hypoglycaemia"),
        (SYSTOLIC, 150.0, "Systolic BP 150 mmHg is at or above 140 mmHg: hypertension"),
        (HEART_RATE, 131.0, "Heart rate 131 /min is above 130 /min: severe tachycardia"),
    ];
    for (code, value, expected) in cases {
        assert_eq!(reason(code, value, ADULT_AGE), expected);
    }
}

#[test]
fn a_value_is_flagged_at_its_stored_precision() {
    assert_eq!(flag(TEMPERATURE, 37.54, ADULT_AGE), (N, None));
    assert_eq!(flag(TEMPERATURE, 37.55, ADULT_AGE).0, High);
}

#[test]
fn age_bands_are_counted_in_days_of_a_365_and_a_quarter_day_year() {
    let edges = [
        years(1),
        years(6),
        years(13),
        years(18),
        months(6),
        months(60),
    ];
    assert_eq!(edges, [365, 2191, 4748, 6574, 182, 1826]);
}

#[test]
fn height_and_weight_are_never_flagged() {
    #[rustfmt::skip]
    assert_flags(&[
        (HEIGHT, 21.0, ADULT_AGE, N), (HEIGHT, 270.0, ADULT_AGE, N), (HEIGHT, 21.0, 10, N),
        (WEIGHT, 0.3, ADULT_AGE, N), (WEIGHT, 600.0, ADULT_AGE, N), (WEIGHT, 0.3, 10, N),
    ]);
}
