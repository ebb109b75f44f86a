//! What a nurse sends to record vital signs, and its parsing in two steps: the shape first
//! (no database needed, every field's problem at once), then the values against the
//! patient's age, which needs the patient's row.

use crate::clinical::vitals::{self, BP_PANEL, DIASTOLIC, Measurement, SYSTOLIC};
use crate::domain::FieldError;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Deserialize;

/// `POST /api/v1/patients/{id}/observations`: vital signs taken at one time.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObservationSetInput {
    /// When they were taken, with its UTC offset (`2026-11-23T10:00:00+02:00`).
    pub taken_at: Option<String>,
    /// One to twenty vital signs.
    pub vitals: Option<Vec<VitalInput>>,
}

/// One vital sign: a LOINC code, a number and its unit. A blood pressure is sent as the
/// panel `85354-9` with `components` (systolic `8480-6`, diastolic `8462-4`), or as the
/// two codes on their own.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VitalInput {
    #[schema(example = "8867-4")]
    pub code: Option<String>,
    #[schema(example = 72)]
    pub value: Option<f64>,
    /// UCUM (`/min`, `Cel`, `[degF]`, `kg`, `[lb_av]`...) or a common spelling (`°F`, `lb`).
    #[schema(example = "/min")]
    pub unit: Option<String>,
    #[schema(no_recursion)]
    pub components: Option<Vec<VitalInput>>,
}

/// One value to measure, with the JSON path to blame.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub field: String,
    pub code: String,
    pub value: f64,
    pub unit: String,
    pub panel: Option<&'static str>,
}

/// A set whose shape is right; its values are judged by [`ParsedSet::measure`].
#[derive(Debug, Clone)]
pub struct ParsedSet {
    pub taken_at: DateTime<Utc>,
    pub entries: Vec<Entry>,
}

/// A measured entry, ready to store.
#[derive(Debug, Clone)]
pub struct Measured {
    pub entry: Entry,
    pub m: Measurement,
}

const MAX_VITALS: usize = 20;
/// An age for checks that do not depend on it.
const ANY_AGE: i64 = 30 * 365;

impl ObservationSetInput {
    pub fn parse(&self, now: DateTime<Utc>) -> Result<ParsedSet, Vec<FieldError>> {
        let mut errors = Vec::new();
        let taken_at = match self.taken_at.as_deref() {
            None => Ok(now),
            Some(raw) => taken_at(raw, now),
        }
        .map_err(|reason| errors.push(FieldError::new("taken_at", reason)))
        .ok();
        let mut entries = Vec::new();
        match self.vitals.as_deref() {
            None | Some([]) => {
                errors.push(FieldError::new("vitals", "send at least one vital sign"))
            }
            Some(list) if list.len() > MAX_VITALS => errors.push(FieldError::new(
                "vitals",
                format!("at most {MAX_VITALS} vital signs in one set"),
            )),
            Some(list) => {
                for (i, v) in list.iter().enumerate() {
                    flatten(v, &format!("vitals[{i}]"), &mut entries, &mut errors);
                }
            }
        }
        // Codes, units and physical limits do not depend on the patient's age: judged now,
        // so that every field's problem is reported in one answer.
        let mut canonical = Vec::new();
        for e in &entries {
            match vitals::measure(&e.code, e.value, &e.unit, ANY_AGE) {
                Ok(m) => canonical.push((e, m.value)),
                Err(err) => errors.push(FieldError::new(
                    format!("{}.{}", e.field, err.part.as_str()),
                    err.reason,
                )),
            }
        }
        let value = |code: &str| canonical.iter().find(|(e, _)| e.code == code);
        if let (Some((_, sys)), Some((dia, d))) = (value(SYSTOLIC), value(DIASTOLIC))
            && let Err(reason) = vitals::check_bp_pair(*sys, *d)
        {
            errors.push(FieldError::new(format!("{}.value", dia.field), reason));
        }
        for (i, e) in entries.iter().enumerate() {
            if entries[..i].iter().any(|o| o.code == e.code) {
                errors.push(FieldError::new(
                    format!("{}.code", e.field),
                    format!("{} appears twice in one set", e.code),
                ));
            }
        }
        match (taken_at, errors.is_empty()) {
            (Some(taken_at), true) => Ok(ParsedSet { taken_at, entries }),
            _ => Err(errors),
        }
    }
}

impl ParsedSet {
    /// Converts and judges every value for a patient born on `birth`.
    pub fn measure(&self, birth: NaiveDate) -> Result<Vec<Measured>, Vec<FieldError>> {
        let mut errors = Vec::new();
        if self.taken_at.date_naive() < birth {
            errors.push(FieldError::new(
                "taken_at",
                format!("is before the patient's birth date {birth}"),
            ));
        }
        let age = vitals::age_days(birth, self.taken_at.date_naive());
        let mut out = Vec::new();
        for e in &self.entries {
            match vitals::measure(&e.code, e.value, &e.unit, age) {
                Ok(m) => out.push(Measured {
                    entry: e.clone(),
                    m,
                }),
                Err(err) => errors.push(FieldError::new(
                    format!("{}.{}", e.field, err.part.as_str()),
                    err.reason,
                )),
            }
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(errors)
        }
    }
}

/// A time with its offset, not more than five minutes ahead of the server's clock (phones'
/// clocks drift), and not absurdly old.
pub fn taken_at(raw: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let t = DateTime::parse_from_rfc3339(raw.trim()).map_err(|_| {
        format!("\"{raw}\" is not a time with its UTC offset, e.g. 2026-11-23T10:00:00+02:00")
    })?;
    let t = t.with_timezone(&Utc);
    if t > now + Duration::minutes(5) {
        return Err(format!("{raw} is in the future"));
    }
    if t.date_naive() < NaiveDate::from_ymd_opt(1900, 1, 1).expect("valid date") {
        return Err(format!("{raw} is before 1900"));
    }
    Ok(t)
}

/// A vital or a panel's components, as entries; a panel needs both of its components.
fn flatten(v: &VitalInput, path: &str, out: &mut Vec<Entry>, errors: &mut Vec<FieldError>) {
    let Some(code) = v.code.as_deref().map(str::trim) else {
        errors.push(FieldError::new(format!("{path}.code"), "is required"));
        return;
    };
    if code == BP_PANEL {
        let Some(parts) = v.components.as_deref().filter(|c| !c.is_empty()) else {
            errors.push(FieldError::new(
                format!("{path}.components"),
                "a blood pressure needs its systolic (8480-6) and diastolic (8462-4) components",
            ));
            return;
        };
        let (before, errors_before) = (out.len(), errors.len());
        for (j, c) in parts.iter().enumerate() {
            let cpath = format!("{path}.components[{j}]");
            match c.code.as_deref().map(str::trim) {
                Some(SYSTOLIC) | Some(DIASTOLIC) => {}
                _ => {
                    errors.push(FieldError::new(
                        format!("{cpath}.code"),
                        "must be 8480-6 (systolic) or 8462-4 (diastolic)",
                    ));
                    continue;
                }
            }
            single(c, &cpath, Some(BP_PANEL), out, errors);
        }
        let got = |code: &str| out[before..].iter().any(|e| e.code == code);
        if errors.len() == errors_before && !(got(SYSTOLIC) && got(DIASTOLIC)) {
            errors.push(FieldError::new(
                format!("{path}.components"),
                "a blood pressure needs both systolic (8480-6) and diastolic (8462-4)",
            ));
        }
        return;
    }
    if v.components.is_some() {
        errors.push(FieldError::new(
            format!("{path}.components"),
            format!("only the blood pressure panel {BP_PANEL} has components"),
        ));
    }
    single(v, path, None, out, errors);
}

fn single(
    v: &VitalInput,
    path: &str,
    panel: Option<&'static str>,
    out: &mut Vec<Entry>,
    errors: &mut Vec<FieldError>,
) {
    let code = v.code.as_deref().unwrap_or_default().trim();
    let mut ok = true;
    if v.value.is_none() {
        errors.push(FieldError::new(format!("{path}.value"), "is required"));
        ok = false;
    }
    let unit = v.unit.as_deref().map(str::trim).filter(|u| !u.is_empty());
    if unit.is_none() {
        errors.push(FieldError::new(format!("{path}.unit"), "is required"));
        ok = false;
    }
    if ok {
        out.push(Entry {
            field: path.to_owned(),
            code: code.to_owned(),
            value: v.value.unwrap_or_default(),
            unit: unit.unwrap_or_default().to_owned(),
            panel,
        });
    }
}
