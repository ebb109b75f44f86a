//! A patient as a clinic registers one. [`PatientInput`] is what a client sends;
//! [`NewPatient`] is what may be stored: every field parsed, the district spelled the way
//! the routing rules expect it.

use super::{FieldError, text};
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;
use std::collections::BTreeMap;

/// What `POST /api/v1/patients` accepts. Give `birth_date` or, when only an age is known,
/// `estimated_age_years`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatientInput {
    #[schema(example = "Palesa")]
    pub given_name: Option<String>,
    #[schema(example = "Mokoena")]
    pub family_name: Option<String>,
    /// `female`, `male`, `other` or `unknown`.
    #[schema(example = "female")]
    pub sex: Option<String>,
    /// `YYYY-MM-DD`, not in the future, not before 1900.
    #[schema(example = "1990-04-12")]
    pub birth_date: Option<String>,
    /// Age in whole years when the birth date is not known (0 to 130).
    pub estimated_age_years: Option<i64>,
    /// One of the districts the regions serve, e.g. `Quthing` (case does not matter).
    #[schema(example = "Quthing")]
    pub district: Option<String>,
    pub village: Option<String>,
    pub facility: Option<String>,
    /// 8 digits for a Lesotho number, or `+` and the country code.
    pub phone: Option<String>,
    pub national_id: Option<String>,
    /// At registration only: the IDs of the likely duplicates a 409 named that the clerk
    /// checked and found to be other people. Registration goes ahead if no other
    /// candidate turns up.
    pub not_duplicate_of: Option<Vec<uuid::Uuid>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sex {
    Female,
    Male,
    Other,
    Unknown,
}

impl Sex {
    /// The stored spelling, as a statement parameter that outlives any borrow.
    pub fn as_static(self) -> &'static &'static str {
        match self {
            Sex::Female => &"female",
            Sex::Male => &"male",
            Sex::Other => &"other",
            Sex::Unknown => &"unknown",
        }
    }

    pub fn as_str(self) -> &'static str {
        self.as_static()
    }

    fn parse(raw: &str) -> Result<Sex, String> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "female" | "f" => Ok(Sex::Female),
            "male" | "m" => Ok(Sex::Male),
            "other" => Ok(Sex::Other),
            "unknown" => Ok(Sex::Unknown),
            _ => Err(format!(
                "\"{raw}\" is not one of female, male, other, unknown"
            )),
        }
    }
}

/// A patient ready to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPatient {
    pub given_name: String,
    pub family_name: String,
    pub sex: Sex,
    pub birth_date: NaiveDate,
    pub birth_date_estimated: bool,
    pub district: String,
    pub village: Option<String>,
    pub facility: Option<String>,
    pub phone: Option<String>,
    pub national_id: Option<String>,
}

/// What parsing needs to know about the world: the districts (canonical spelling, keyed
/// by lower case) and today's date where the patient lives.
pub struct ParseContext<'a> {
    pub districts: &'a BTreeMap<String, String>,
    pub today: NaiveDate,
}

impl PatientInput {
    /// Parses every field, reporting all problems at once.
    pub fn parse(&self, ctx: &ParseContext<'_>) -> Result<NewPatient, Vec<FieldError>> {
        let mut errors = Vec::new();
        let e = &mut errors;
        let given = check(
            e,
            "given_name",
            required(&self.given_name).and_then(text::name),
        );
        let family = check(
            e,
            "family_name",
            required(&self.family_name).and_then(text::name),
        );
        let sex = check(e, "sex", required(&self.sex).and_then(Sex::parse));
        let district = check(
            e,
            "district",
            required(&self.district).and_then(|d| district(d, ctx)),
        );
        let village = check(
            e,
            "village",
            optional(&self.village, |v| text::label(v, 100)),
        );
        let facility = check(
            e,
            "facility",
            optional(&self.facility, |v| text::label(v, 100)),
        );
        let phone = check(e, "phone", optional(&self.phone, text::phone));
        let national_id = check(
            e,
            "national_id",
            optional(&self.national_id, text::national_id),
        );
        let birth = self.birth(ctx.today, e);
        match (
            given,
            family,
            sex,
            district,
            village,
            facility,
            phone,
            national_id,
            birth,
        ) {
            (Some(g), Some(f), Some(s), Some(d), Some(v), Some(fa), Some(p), Some(n), Some(b))
                if errors.is_empty() =>
            {
                Ok(NewPatient {
                    given_name: g,
                    family_name: f,
                    sex: s,
                    birth_date: b.0,
                    birth_date_estimated: b.1,
                    district: d,
                    village: v,
                    facility: fa,
                    phone: p,
                    national_id: n,
                })
            }
            _ => Err(errors),
        }
    }

    fn birth(&self, today: NaiveDate, errors: &mut Vec<FieldError>) -> Option<(NaiveDate, bool)> {
        let r = match (&self.birth_date, self.estimated_age_years) {
            (Some(_), Some(_)) => Err((
                "estimated_age_years",
                "give either birth_date or estimated_age_years, not both".to_owned(),
            )),
            (None, None) => Err((
                "birth_date",
                "required (or give estimated_age_years)".to_owned(),
            )),
            (Some(raw), None) => birth_date(raw, today)
                .map(|d| (d, false))
                .map_err(|e| ("birth_date", e)),
            (None, Some(age)) => estimated(age, today)
                .map(|d| (d, true))
                .map_err(|e| ("estimated_age_years", e)),
        };
        r.map_err(|(field, reason)| errors.push(FieldError::new(field, reason)))
            .ok()
    }
}

/// Keeps a parsed value, or records why the field was refused.
fn check<T>(errors: &mut Vec<FieldError>, field: &str, r: Result<T, String>) -> Option<T> {
    r.map_err(|reason| errors.push(FieldError::new(field, reason)))
        .ok()
}

fn required(v: &Option<String>) -> Result<&str, String> {
    v.as_deref().ok_or_else(|| "required".to_owned())
}

fn optional<T>(
    v: &Option<String>,
    parse: impl Fn(&str) -> Result<Option<T>, String>,
) -> Result<Option<T>, String> {
    v.as_deref().map_or(Ok(None), parse)
}

fn district(raw: &str, ctx: &ParseContext<'_>) -> Result<String, String> {
    ctx.districts
        .get(&raw.trim().to_lowercase())
        .cloned()
        .ok_or_else(|| {
            let known: Vec<&str> = ctx.districts.values().map(String::as_str).collect();
            format!("unknown district \"{raw}\"; known: {}", known.join(", "))
        })
}

fn birth_date(raw: &str, today: NaiveDate) -> Result<NaiveDate, String> {
    let d = NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .map_err(|_| format!("\"{raw}\" is not a calendar date (YYYY-MM-DD)"))?;
    if d > today {
        return Err(format!("{d} is in the future"));
    }
    if d.year() < 1900 {
        return Err(format!("{d} is before 1900"));
    }
    Ok(d)
}

/// Today's day and month, `age` years ago: the convention clinics use for "about 40".
fn estimated(age: i64, today: NaiveDate) -> Result<NaiveDate, String> {
    if !(0..=130).contains(&age) {
        return Err(format!("{age} is not an age between 0 and 130"));
    }
    let year = today.year() - age as i32;
    Ok(NaiveDate::from_ymd_opt(year, today.month(), today.day())
        .or_else(|| NaiveDate::from_ymd_opt(year, 2, 28))
        .unwrap_or(today))
}

#[cfg(test)]
#[path = "patient_tests.rs"]
mod tests;
