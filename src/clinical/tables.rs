//! The tables behind [`super::vitals`]: which codes hmis records (`CATALOGUE`), how each
//! accepted unit spelling converts (`UNITS`), and the age-banded clinical thresholds
//! (`RANGES`). Correcting a range or adding a unit is an edit here, not in the logic.

use super::vitals::*;
use Cmp::{Above, AtOrAbove, Below};
use Flag::{Critical, High, Low};

pub(super) const BEATS: &[&str] = &["/min", "{beats}/min", "beats/min", "bpm"];
pub(super) const BREATHS: &[&str] = &["/min", "{breaths}/min", "breaths/min"];
pub(super) const CELSIUS_OR_FAHRENHEIT: &[&str] = &[
    "Cel", "°C", "℃", "C", "degC", "[degF]", "°F", "℉", "F", "degF",
];
pub(super) const LENGTH: &[&str] = &["cm", "m", "mm", "[in_i]", "in"];
pub(super) const MASS: &[&str] = &["kg", "g", "[lb_av]", "lb", "lbs"];
pub(super) const PRESSURE: &[&str] = &["mm[Hg]", "mmHg"];
pub(super) const GLUCOSE_BY_MASS: &[&str] = &["mg/dL", "mg/dl", "mmol/L", "mmol/l"];
pub(super) const GLUCOSE_BY_MOLES: &[&str] = &["mmol/L", "mmol/l", "mg/dL", "mg/dl"];
pub(super) const G: f64 = GLUCOSE_MG_DL_PER_MMOL_L;

#[rustfmt::skip]
pub(super) static CATALOGUE: [VitalDef; 12] = [
    VitalDef { code: HEART_RATE, name: "heart rate", label: "Heart rate", unit: "/min", display_unit: "/min",
        accepted_units: BEATS, decimals: 0, min: 1.0, max: 350.0 },
    VitalDef { code: RESPIRATORY_RATE, name: "respiratory rate", label: "Respiratory rate", unit: "/min",
        display_unit: "/min", accepted_units: BREATHS, decimals: 0, min: 1.0, max: 150.0 },
    VitalDef { code: SPO2, name: "oxygen saturation", label: "SpO2", unit: "%", display_unit: "%",
        accepted_units: &["%"], decimals: 0, min: 1.0, max: 100.0 },
    VitalDef { code: TEMPERATURE, name: "body temperature", label: "Temperature", unit: "Cel", display_unit: "°C",
        accepted_units: CELSIUS_OR_FAHRENHEIT, decimals: 1, min: 25.0, max: 46.0 },
    VitalDef { code: HEIGHT, name: "body height", label: "Height", unit: "cm", display_unit: "cm",
        accepted_units: LENGTH, decimals: 1, min: 20.0, max: 272.0 },
    VitalDef { code: WEIGHT, name: "body weight", label: "Weight", unit: "kg", display_unit: "kg",
        accepted_units: MASS, decimals: 2, min: 0.2, max: 650.0 },
    VitalDef { code: BMI, name: "BMI", label: "BMI", unit: "kg/m2", display_unit: "kg/m²",
        accepted_units: &[], decimals: 1, min: 1.0, max: 250.0 },
    VitalDef { code: SYSTOLIC, name: "systolic blood pressure", label: "Systolic BP", unit: "mm[Hg]",
        display_unit: "mmHg", accepted_units: PRESSURE, decimals: 0, min: 20.0, max: 300.0 },
    VitalDef { code: DIASTOLIC, name: "diastolic blood pressure", label: "Diastolic BP", unit: "mm[Hg]",
        display_unit: "mmHg", accepted_units: PRESSURE, decimals: 0, min: 10.0, max: 200.0 },
    VitalDef { code: GLUCOSE_MASS, name: "blood glucose (mass)", label: "Blood glucose", unit: "mg/dL",
        display_unit: "mg/dL", accepted_units: GLUCOSE_BY_MASS, decimals: 0, min: 10.0, max: 2000.0 },
    VitalDef { code: GLUCOSE_MOLAR, name: "blood glucose (moles)", label: "Blood glucose", unit: "mmol/L",
        display_unit: "mmol/L", accepted_units: GLUCOSE_BY_MOLES, decimals: 1, min: 10.0 / G, max: 2000.0 / G },
    VitalDef { code: MUAC, name: "mid-upper arm circumference", label: "MUAC", unit: "cm", display_unit: "cm",
        accepted_units: &["cm", "mm"], decimals: 1, min: 5.0, max: 60.0 },
];

/// Every spelling accepted anywhere, as `value * scale + offset` in the base unit of its kind
/// (/min, %, Cel, cm, kg, kg/m2, mm[Hg], mg/dL), so any two spellings of one kind interconvert.
#[rustfmt::skip]
pub(super) static UNITS: &[(&str, f64, f64)] = &[
    ("/min", 1.0, 0.0), ("{beats}/min", 1.0, 0.0), ("beats/min", 1.0, 0.0), ("bpm", 1.0, 0.0),
    ("{breaths}/min", 1.0, 0.0), ("breaths/min", 1.0, 0.0), ("%", 1.0, 0.0),
    ("Cel", 1.0, 0.0), ("°C", 1.0, 0.0), ("℃", 1.0, 0.0), ("C", 1.0, 0.0), ("degC", 1.0, 0.0),
    ("[degF]", 5.0 / 9.0, -160.0 / 9.0), ("°F", 5.0 / 9.0, -160.0 / 9.0), ("℉", 5.0 / 9.0, -160.0 / 9.0),
    ("F", 5.0 / 9.0, -160.0 / 9.0), ("degF", 5.0 / 9.0, -160.0 / 9.0),
    ("cm", 1.0, 0.0), ("m", 100.0, 0.0), ("mm", 0.1, 0.0), ("[in_i]", 2.54, 0.0), ("in", 2.54, 0.0),
    ("kg", 1.0, 0.0), ("g", 0.001, 0.0), ("[lb_av]", 0.453_592_37, 0.0), ("lb", 0.453_592_37, 0.0),
    ("lbs", 0.453_592_37, 0.0), ("kg/m2", 1.0, 0.0), ("mm[Hg]", 1.0, 0.0), ("mmHg", 1.0, 0.0),
    ("mg/dL", 1.0, 0.0), ("mg/dl", 1.0, 0.0), ("mmol/L", G, 0.0), ("mmol/l", G, 0.0),
];

/// Ages are whole days, `[from, until)`.
pub(super) type Ages = (i64, i64);

/// A year is taken as 365.25 days, so a band edge may fall a day off the birthday; that does not
/// matter clinically and keeps the bands plain numbers.
pub(super) const fn years(n: i64) -> i64 {
    n * 1461 / 4
}

pub(super) const fn months(n: i64) -> i64 {
    n * 1461 / 48
}

pub(super) const ANY_AGE: Ages = (0, i64::MAX);
pub(super) const INFANT: Ages = (0, years(1));
pub(super) const AGED_1_TO_5: Ages = (years(1), years(6));
pub(super) const AGED_6_TO_12: Ages = (years(6), years(13));
pub(super) const UNDER_13: Ages = (0, years(13));
pub(super) const FROM_13: Ages = (years(13), i64::MAX);
pub(super) const ADULT: Ages = (years(18), i64::MAX);
pub(super) const AGED_6_TO_59_MONTHS: Ages = (months(6), months(60));

#[derive(Clone, Copy, Debug)]
pub(super) enum Cmp {
    Below,
    Above,
    AtOrAbove,
}

/// One threshold: `(comparison, threshold, flag, meaning)`.
pub(super) type Rule = (Cmp, f64, Flag, &'static str);

/// A code absent from `RANGES` (height, weight), or an age no band covers, is never flagged.
pub(super) struct Range {
    pub codes: &'static [&'static str],
    /// The unit `rules` are written in: mg/dL serves both glucose codes, so it is written once.
    pub unit: &'static str,
    pub ages: Ages,
    /// First match wins, so critical rules come before low and high.
    pub rules: &'static [Rule],
}

/// Paediatric heart and breathing rates follow WHO/IMCI-style bands (IMCI's fast breathing is
/// 40 or more from 1 to 5 years). Children's blood pressure needs height centile tables, so
/// under 13 only the extremes that are dangerous at any age are flagged. BMI in children needs
/// growth charts, so it is flagged only from 18; MUAC cut-offs are defined for 6-59 months only.
#[rustfmt::skip]
pub(super) static RANGES: &[Range] = &[
    Range { codes: &[HEART_RATE], unit: "/min", ages: INFANT, rules: &[
        (Below, 60.0, Critical, "severe bradycardia"), (Above, 200.0, Critical, "severe tachycardia"),
        (Below, 100.0, Low, "bradycardia"), (Above, 160.0, High, "tachycardia")] },
    Range { codes: &[HEART_RATE], unit: "/min", ages: AGED_1_TO_5, rules: &[
        (Below, 60.0, Critical, "severe bradycardia"), (Above, 180.0, Critical, "severe tachycardia"),
        (Below, 80.0, Low, "bradycardia"), (Above, 140.0, High, "tachycardia")] },
    Range { codes: &[HEART_RATE], unit: "/min", ages: AGED_6_TO_12, rules: &[
        (Below, 50.0, Critical, "severe bradycardia"), (Above, 160.0, Critical, "severe tachycardia"),
        (Below, 70.0, Low, "bradycardia"), (Above, 120.0, High, "tachycardia")] },
    Range { codes: &[HEART_RATE], unit: "/min", ages: FROM_13, rules: &[
        (Below, 40.0, Critical, "severe bradycardia"), (Above, 130.0, Critical, "severe tachycardia"),
        (Below, 60.0, Low, "bradycardia"), (Above, 100.0, High, "tachycardia")] },
    Range { codes: &[RESPIRATORY_RATE], unit: "/min", ages: INFANT, rules: &[
        (Below, 20.0, Critical, "very slow breathing"), (Above, 70.0, Critical, "very fast breathing"),
        (Below, 30.0, Low, "slow breathing"), (Above, 60.0, High, "fast breathing")] },
    Range { codes: &[RESPIRATORY_RATE], unit: "/min", ages: AGED_1_TO_5, rules: &[
        (Below, 15.0, Critical, "very slow breathing"), (Above, 50.0, Critical, "very fast breathing"),
        (Below, 24.0, Low, "slow breathing"), (AtOrAbove, 40.0, High, "fast breathing")] },
    Range { codes: &[RESPIRATORY_RATE], unit: "/min", ages: AGED_6_TO_12, rules: &[
        (Below, 10.0, Critical, "very slow breathing"), (Above, 40.0, Critical, "very fast breathing"),
        (Below, 18.0, Low, "slow breathing"), (Above, 30.0, High, "fast breathing")] },
    Range { codes: &[RESPIRATORY_RATE], unit: "/min", ages: FROM_13, rules: &[
        (Below, 8.0, Critical, "very slow breathing"), (Above, 30.0, Critical, "very fast breathing"),
        (Below, 12.0, Low, "slow breathing"), (Above, 20.0, High, "fast breathing")] },
    Range { codes: &[SPO2], unit: "%", ages: ANY_AGE, rules: &[
        (Below, 90.0, Critical, "hypoxaemia"), (Below, 95.0, Low, "low oxygen saturation")] },
    Range { codes: &[TEMPERATURE], unit: "Cel", ages: ANY_AGE, rules: &[
        (Below, 35.0, Critical, "hypothermia"), (AtOrAbove, 40.0, Critical, "very high fever"),
        (Below, 36.0, Low, "low temperature"), (Above, 37.5, High, "fever")] },
    Range { codes: &[SYSTOLIC], unit: "mm[Hg]", ages: UNDER_13, rules: &[
        (Below, 70.0, Critical, "severe hypotension"), (AtOrAbove, 180.0, Critical, "hypertensive crisis")] },
    Range { codes: &[SYSTOLIC], unit: "mm[Hg]", ages: FROM_13, rules: &[
        (Below, 70.0, Critical, "severe hypotension"), (AtOrAbove, 180.0, Critical, "hypertensive crisis"),
        (Below, 90.0, Low, "hypotension"), (AtOrAbove, 140.0, High, "hypertension")] },
    Range { codes: &[DIASTOLIC], unit: "mm[Hg]", ages: UNDER_13, rules: &[
        (AtOrAbove, 120.0, Critical, "hypertensive crisis")] },
    Range { codes: &[DIASTOLIC], unit: "mm[Hg]", ages: FROM_13, rules: &[
        (Below, 40.0, Critical, "severe hypotension"), (AtOrAbove, 120.0, Critical, "hypertensive crisis"),
        (Below, 60.0, Low, "low diastolic pressure"), (AtOrAbove, 90.0, High, "hypertension")] },
    Range { codes: &[GLUCOSE_MASS, GLUCOSE_MOLAR], unit: "mg/dL", ages: ANY_AGE, rules: &[
        (Below, 54.0, Critical, "severe hypoglycaemia"), (Above, 400.0, Critical, "severe hyperglycaemia"),
        (Below, 70.0, Low, "hypoglycaemia"), (Above, 180.0, High, "hyperglycaemia")] },
    Range { codes: &[BMI], unit: "kg/m2", ages: ADULT, rules: &[
        (AtOrAbove, 30.0, High, "obese"), (AtOrAbove, 25.0, High, "overweight"), (Below, 18.5, Low, "underweight")] },
    Range { codes: &[MUAC], unit: "cm", ages: AGED_6_TO_59_MONTHS, rules: &[
        (Below, 11.5, Critical, "severe acute malnutrition"), (Below, 12.5, Low, "moderate acute malnutrition")] },
];

#[cfg(test)]
#[path = "tables_tests.rs"]
mod tests;
