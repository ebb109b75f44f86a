//! Vital signs as a nurse sends them: one reading (LOINC code, number, unit as typed) becomes a
//! measurement stored in the FHIR vital-signs canonical unit. Physically impossible values are
//! refused; abnormal ones are flagged with a short reason that names the threshold crossed.
//!
//! Three static tables (in [`super::tables`]) drive everything: `CATALOGUE` (codes, canonical units, physical limits),
//! `UNITS` (how each accepted spelling converts) and `RANGES` (age-banded clinical thresholds),
//! so adding or correcting a vital sign means editing rows, not logic.

use std::fmt;
use std::str::FromStr;

use super::tables::Cmp::{Above, AtOrAbove, Below};
use super::tables::{CATALOGUE, RANGES, UNITS};
use Flag::{Critical, High, Low};
use serde::{Deserialize, Serialize};

pub const HEART_RATE: &str = "8867-4";
pub const RESPIRATORY_RATE: &str = "9279-1";
pub const SPO2: &str = "2708-6";
pub const TEMPERATURE: &str = "8310-5";
pub const HEIGHT: &str = "8302-2";
pub const WEIGHT: &str = "29463-7";
pub const BMI: &str = "39156-5";
/// Never measured here: the caller splits the panel into [`SYSTOLIC`] and [`DIASTOLIC`].
pub const BP_PANEL: &str = "85354-9";
pub const SYSTOLIC: &str = "8480-6";
pub const DIASTOLIC: &str = "8462-4";
pub const GLUCOSE_MASS: &str = "2339-0";
pub const GLUCOSE_MOLAR: &str = "15074-8";
pub const MUAC: &str = "56072-2";

/// mg/dL per mmol/L of glucose (molar mass 180.16 g/mol).
pub const GLUCOSE_MG_DL_PER_MMOL_L: f64 = 18.016;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Flag {
    Normal,
    Low,
    High,
    Critical,
}

impl Flag {
    pub const ALL: [Flag; 4] = [Flag::Normal, Low, High, Critical];

    /// The spelling stored in the database and sent over the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Flag::Normal => "normal",
            Low => "low",
            High => "high",
            Critical => "critical",
        }
    }
}

impl fmt::Display for Flag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Flag {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Flag::ALL
            .into_iter()
            .find(|flag| flag.as_str() == s)
            .ok_or_else(|| format!("unknown flag \"{s}\"; expected normal, low, high or critical"))
    }
}

/// Which field of the submitted vital was wrong, so the caller can point at `vitals[2].unit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Part {
    Code,
    Unit,
    Value,
}

impl Part {
    pub fn as_str(self) -> &'static str {
        match self {
            Part::Code => "code",
            Part::Unit => "unit",
            Part::Value => "value",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VitalError {
    pub part: Part,
    pub reason: String,
}

impl VitalError {
    fn new(part: Part, reason: String) -> Self {
        VitalError { part, reason }
    }
}

impl fmt::Display for VitalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.part.as_str(), self.reason)
    }
}

impl std::error::Error for VitalError {}

/// A vital as stored: `value` is in `unit`, the canonical UCUM unit of `code`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Measurement {
    pub code: &'static str,
    pub value: f64,
    pub unit: &'static str,
    pub flag: Flag,
    /// Present exactly when `flag` is not [`Flag::Normal`].
    pub reason: Option<String>,
}

#[derive(Debug, PartialEq, Serialize)]
pub struct VitalDef {
    pub code: &'static str,
    pub name: &'static str,
    /// How reasons name the vital, in the words used on the ward ("SpO2").
    pub label: &'static str,
    /// Canonical UCUM unit, as stored.
    pub unit: &'static str,
    /// The canonical unit as a nurse reads it ("°C" for "Cel").
    pub display_unit: &'static str,
    /// Empty for vitals derived here and never accepted from a client (BMI).
    pub accepted_units: &'static [&'static str],
    /// Stored precision: finer digits are measurement noise or conversion artefacts.
    pub decimals: u8,
    /// Physical limits in the canonical unit, inclusive; anything outside is refused. BMI is
    /// never measured, so its limits only describe what `bmi` can plausibly yield.
    pub min: f64,
    pub max: f64,
}

pub fn catalogue() -> &'static [VitalDef] {
    &CATALOGUE
}

pub fn def(code: &str) -> Option<&'static VitalDef> {
    let code = code.trim();
    CATALOGUE.iter().find(|def| def.code == code)
}

/// Whole days from `birth` to `on`; negative if the reading predates the birth date.
pub fn age_days(birth: chrono::NaiveDate, on: chrono::NaiveDate) -> i64 {
    (on - birth).num_days()
}

/// Validates one reading and converts it to the canonical unit of `code`. Limits are checked on
/// the converted value, so "1500 lb" and "680 kg" are refused alike.
pub fn measure(
    code: &str,
    value: f64,
    unit: &str,
    age_days: i64,
) -> Result<Measurement, VitalError> {
    let def = accepted_def(code)?;
    let sent = unit.trim();
    if !def.accepted_units.contains(&sent) {
        let (name, code, units) = (def.name, def.code, def.accepted_units.join(", "));
        let reason =
            format!("unit \"{unit}\" is not accepted for {name} ({code}); accepted units: {units}");
        return Err(VitalError::new(Part::Unit, reason));
    }
    if !value.is_finite() {
        return Err(VitalError::new(
            Part::Value,
            format!("{} must be a finite number", def.name),
        ));
    }
    let canonical = convert(value, sent, def.unit);
    let breach = if canonical < def.min {
        Some(("below the possible minimum", def.min))
    } else if canonical > def.max {
        Some(("above the possible maximum", def.max))
    } else {
        None
    };
    if let Some((words, limit)) = breach {
        let (in_sent, in_canonical) = (tidy(convert(limit, def.unit, sent)), tidy(limit));
        // The nurse thinks in the unit they typed; the canonical figure is added when it differs.
        let also = if in_sent == in_canonical {
            String::new()
        } else {
            format!(" ({in_canonical} {})", def.display_unit)
        };
        let reason = format!(
            "{} {value} {sent} is {words} of {in_sent} {sent}{also}",
            def.name
        );
        return Err(VitalError::new(Part::Value, reason));
    }
    let value = round(canonical, def.decimals);
    let (flag, reason) = flag(def.code, value, age_days);
    Ok(Measurement {
        code: def.code,
        value,
        unit: def.unit,
        flag,
        reason,
    })
}

fn accepted_def(code: &str) -> Result<&'static VitalDef, VitalError> {
    let reason = match def(code) {
        Some(def) if !def.accepted_units.is_empty() => return Ok(def),
        Some(def) => format!(
            "{} ({}) is derived from body height ({HEIGHT}) and body weight ({WEIGHT}); send those",
            def.name, def.code
        ),
        None => {
            let accepted = CATALOGUE
                .iter()
                .filter(|def| !def.accepted_units.is_empty());
            let known: Vec<String> = accepted
                .map(|d| format!("{} ({})", d.code, d.name))
                .collect();
            format!(
                "unknown vital sign code \"{code}\"; known codes: {}",
                known.join(", ")
            )
        }
    };
    Err(VitalError::new(Part::Code, reason))
}

/// Flags a value already in the canonical unit of `code` (a stored one, when an amendment is
/// re-flagged). Unknown codes, unflagged vitals and ages outside every band (including a
/// negative age, which the caller should have refused) give `Normal`.
/// BMI is flagged only from 18 years: a child's BMI needs growth charts, which this module lacks.
pub fn flag(code: &str, value_canonical: f64, age_days: i64) -> (Flag, Option<String>) {
    let Some(def) = def(code) else {
        return (Flag::Normal, None);
    };
    let Some(range) = RANGES.iter().find(|range| {
        range.codes.contains(&def.code) && (range.ages.0..range.ages.1).contains(&age_days)
    }) else {
        return (Flag::Normal, None);
    };
    // Compare at stored precision so the flag agrees with the figures shown, and so glucose
    // thresholds land on the familiar mmol/L values (180 mg/dL is "10.0", not 9.99).
    let value = round(value_canonical, def.decimals);
    for &(cmp, at, level, meaning) in range.rules {
        let threshold = round(convert(at, range.unit, def.unit), def.decimals);
        let (crossed, words) = match cmp {
            Below => (value < threshold, "below"),
            Above => (value > threshold, "above"),
            AtOrAbove => (value >= threshold, "at or above"),
        };
        if crossed {
            let (d, unit) = (usize::from(def.decimals), def.display_unit);
            let reason = format!(
                "{} {value:.d$} {unit} is {words} {threshold:.d$} {unit}: {}",
                def.label, meaning
            );
            return (level, Some(reason));
        }
    }
    (Flag::Normal, None)
}

/// BMI from stored weight and height (already within physical limits, so never a division by
/// zero), rounded to 1 decimal and flagged as [`flag`] does: adults only.
pub fn bmi(weight_kg: f64, height_cm: f64, age_days: i64) -> Measurement {
    let metres = height_cm / 100.0;
    let value = round(weight_kg / (metres * metres), 1);
    let (flag, reason) = flag(BMI, value, age_days);
    Measurement {
        code: BMI,
        value,
        unit: "kg/m2",
        flag,
        reason,
    }
}

/// The caller holds both halves of a blood pressure, so the pair is checked there.
pub fn check_bp_pair(systolic: f64, diastolic: f64) -> Result<(), String> {
    if diastolic < systolic {
        Ok(())
    } else {
        Err(format!(
            "diastolic {diastolic} mmHg must be below systolic {systolic} mmHg"
        ))
    }
}

fn scale(unit: &str) -> (f64, f64) {
    let row = UNITS.iter().find(|(spelling, ..)| *spelling == unit);
    let &(_, scale, offset) =
        row.expect("every accepted and canonical unit has a UNITS row (tested)");
    (scale, offset)
}

fn convert(value: f64, from: &str, to: &str) -> f64 {
    let ((from_scale, from_offset), (to_scale, to_offset)) = (scale(from), scale(to));
    (value * from_scale + from_offset - to_offset) / to_scale
}

fn round(value: f64, decimals: u8) -> f64 {
    let factor = 10f64.powi(i32::from(decimals));
    (value * factor).round() / factor
}

/// Limits in a converted unit rarely come out round; two decimals are plenty to read them.
fn tidy(value: f64) -> String {
    let text = format!("{value:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
#[path = "vitals_tests.rs"]
pub(crate) mod tests;
