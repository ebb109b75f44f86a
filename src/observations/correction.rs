//! What a correction writes: the new version of the observation (from the nurse's new
//! value, or its mark of entered-in-error), the alerts that follow the new value, and the
//! BMI that follows the weight or height it was computed from.

use super::model::Observation;
use super::repo::{self, Change};
use crate::clinical::status::Status;
use crate::clinical::vitals::{self, BMI, Flag, WEIGHT};
use crate::http::ApiError;
use chrono::Utc;
use chrono_tz::Tz;
use deadpool_postgres::Transaction;
use uuid::Uuid;

pub fn entered_in_error(o: &Observation, by: &str, reason: &str) -> Change {
    Change {
        value: o.value,
        unit: o.unit.clone(),
        entered_value: o.entered_value,
        entered_unit: o.entered_unit.clone(),
        flag: o.flag,
        flag_reason: o.flag_reason.clone(),
        status: Status::EnteredInError,
        taken_at: o.taken_at.with_timezone(&Utc),
        by: by.to_owned(),
        reason: reason.to_owned(),
    }
}

pub fn corrected(
    o: &Observation,
    input: &super::amend::AmendInput,
    birth: chrono::NaiveDate,
    by: &str,
    reason: &str,
) -> Result<Change, ApiError> {
    let taken_at = match input.taken_at.as_deref() {
        Some(raw) => {
            super::input::taken_at(raw, Utc::now()).map_err(|r| ApiError::field("taken_at", r))?
        }
        None => o.taken_at.with_timezone(&Utc),
    };
    let value = input.value.unwrap_or(o.entered_value);
    let unit = input.unit.clone().unwrap_or_else(|| o.entered_unit.clone());
    let age = vitals::age_days(birth, taken_at.date_naive());
    let m = vitals::measure(&o.code, value, &unit, age).map_err(|e| {
        let field = match e.part {
            vitals::Part::Unit => "unit",
            _ => "value",
        };
        ApiError::field(field, e.reason)
    })?;
    Ok(Change {
        value: m.value,
        unit: m.unit.to_owned(),
        entered_value: value,
        entered_unit: unit,
        flag: m.flag,
        flag_reason: m.reason,
        status: Status::Amended,
        taken_at,
        by: by.to_owned(),
        reason: reason.to_owned(),
    })
}

/// An alert stands only while its value does: a corrected or withdrawn critical value
/// ends its alert, a corrected value that is critical raises one.
pub async fn follow_alerts(
    tx: &Transaction<'_>,
    before: &Observation,
    after: &Observation,
    tz: Tz,
) -> Result<(), tokio_postgres::Error> {
    if before.flag == Flag::Critical {
        let why = if after.status == Status::EnteredInError {
            "entered-in-error"
        } else {
            "amended"
        };
        repo::resolve_alerts(tx, before.id, why).await?;
    }
    if after.flag == Flag::Critical && after.status != Status::EnteredInError {
        repo::raise_alert(tx, after, tz).await?;
    }
    Ok(())
}

/// Recomputes (or withdraws) the BMI of the set whose weight or height changed.
pub async fn recompute_bmi(
    tx: &Transaction<'_>,
    patient: Uuid,
    changed: &Observation,
    birth: chrono::NaiveDate,
    by: &str,
) -> Result<(), tokio_postgres::Error> {
    let Some(bmi) = repo::in_set(tx, changed.set_id, BMI).await? else {
        return Ok(());
    };
    let taken_at = bmi.taken_at.with_timezone(&Utc);
    let weight = repo::in_set(tx, changed.set_id, WEIGHT).await?;
    let weight = weight
        .filter(|w| w.status != Status::EnteredInError)
        .map(|w| w.value);
    let height = repo::height_at(tx, patient, taken_at).await?;
    let reason = format!("recomputed: {} {}", changed.name, changed.status);
    let change = match (weight, height) {
        (Some(w), Some(h)) => {
            let m = vitals::bmi(w, h, vitals::age_days(birth, taken_at.date_naive()));
            Change {
                value: m.value,
                unit: m.unit.to_owned(),
                entered_value: m.value,
                entered_unit: m.unit.to_owned(),
                flag: m.flag,
                flag_reason: m.reason,
                status: Status::Amended,
                taken_at,
                by: by.to_owned(),
                reason,
            }
        }
        _ => entered_in_error(&bmi, by, &reason),
    };
    repo::change(tx, bmi.id, &change, Tz::UTC).await.map(|_| ())
}
