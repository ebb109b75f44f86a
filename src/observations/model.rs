//! Observations and alerts as the API answers them, and their mapping from rows. Times are
//! stored in UTC and answered in the region's local time with its offset.

use crate::clinical::status::Status;
use crate::clinical::vitals::{self, Flag};
use chrono::{DateTime, FixedOffset, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use tokio_postgres::Row;
use uuid::Uuid;

/// The columns [`Observation::from_row`] reads, in order.
pub const COLUMNS: &str = "id, patient_id, set_id, code, panel, value, unit, entered_value, \
    entered_unit, flag, flag_reason, derived, status, taken_at, recorded_by, recorded_at, version, \
    changed_by, changed_at, change_reason";

/// One vital sign. `version` is also the `ETag`; an amendment sends it back in `If-Match`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Observation {
    pub id: Uuid,
    pub patient_id: Uuid,
    /// The vital signs taken together share it.
    pub set_id: Uuid,
    /// LOINC code, e.g. `8867-4`.
    pub code: String,
    /// What the code means, e.g. `heart rate`.
    pub name: &'static str,
    /// `85354-9` for the components of a blood pressure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub panel: Option<String>,
    /// In the code's canonical unit.
    pub value: f64,
    pub unit: String,
    /// As the nurse typed it (e.g. 98.6 `[degF]`).
    pub entered_value: f64,
    pub entered_unit: String,
    /// `normal`, `low`, `high` or `critical`.
    pub flag: Flag,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flag_reason: Option<String>,
    /// Computed by hmis (BMI), not typed.
    pub derived: bool,
    /// `final`, `amended` or `entered-in-error`.
    pub status: Status,
    pub taken_at: DateTime<FixedOffset>,
    pub recorded_by: String,
    pub recorded_at: DateTime<FixedOffset>,
    pub version: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changed_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changed_at: Option<DateTime<FixedOffset>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change_reason: Option<String>,
}

pub fn local(tz: Tz) -> impl Fn(DateTime<Utc>) -> DateTime<FixedOffset> {
    move |t| t.with_timezone(&tz).fixed_offset()
}

/// A flag or status column; the database admits only the spellings the enums know (its
/// `CHECK` constraints, and the history trigger copies from the checked table), so another
/// one is a broken schema, as a column of the wrong type would be.
pub fn typed<T: std::str::FromStr<Err = String>>(r: &Row, i: usize) -> T {
    let text: &str = r.get(i);
    text.parse()
        .unwrap_or_else(|e| panic!("column {i} breaks the schema: {e}"))
}

pub fn name_of(code: &str) -> &'static str {
    vitals::def(code).map_or("unknown", |d| d.name)
}

impl Observation {
    pub fn from_row(r: &Row, tz: Tz) -> Observation {
        let local = local(tz);
        let code: String = r.get(3);
        Observation {
            id: r.get(0),
            patient_id: r.get(1),
            set_id: r.get(2),
            name: name_of(&code),
            code,
            panel: r.get(4),
            value: r.get(5),
            unit: r.get(6),
            entered_value: r.get(7),
            entered_unit: r.get(8),
            flag: typed(r, 9),
            flag_reason: r.get(10),
            derived: r.get(11),
            status: typed(r, 12),
            taken_at: local(r.get(13)),
            recorded_by: r.get(14),
            recorded_at: local(r.get(15)),
            version: r.get(16),
            changed_by: r.get(17),
            changed_at: r.get::<_, Option<DateTime<Utc>>>(18).map(&local),
            change_reason: r.get(19),
        }
    }
}

/// An earlier version of an observation, as it was before a change.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Version {
    pub version: i32,
    pub value: f64,
    pub unit: String,
    pub entered_value: f64,
    pub entered_unit: String,
    pub flag: Flag,
    pub flag_reason: Option<String>,
    pub status: Status,
    pub taken_at: DateTime<FixedOffset>,
    /// Who wrote this version, when, and why (for versions after the first).
    pub written_by: String,
    pub written_at: DateTime<FixedOffset>,
    pub reason: Option<String>,
}

pub const VERSION_COLUMNS: &str = "version, value, unit, entered_value, entered_unit, flag, \
    flag_reason, status, taken_at, written_by, written_at, reason";

impl Version {
    pub fn from_row(r: &Row, tz: Tz) -> Version {
        let local = local(tz);
        Version {
            version: r.get(0),
            value: r.get(1),
            unit: r.get(2),
            entered_value: r.get(3),
            entered_unit: r.get(4),
            flag: typed(r, 5),
            flag_reason: r.get(6),
            status: typed(r, 7),
            taken_at: local(r.get(8)),
            written_by: r.get(9),
            written_at: local(r.get(10)),
            reason: r.get(11),
        }
    }
}

/// An observation with every earlier version, oldest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ObservationWithHistory {
    #[serde(flatten)]
    pub observation: Observation,
    pub history: Vec<Version>,
}

/// A critical value waiting for a clinician.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Alert {
    pub id: Uuid,
    pub patient_id: Uuid,
    pub observation_id: Uuid,
    pub code: String,
    pub name: &'static str,
    pub value: f64,
    pub unit: String,
    pub reason: String,
    pub raised_at: DateTime<FixedOffset>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acknowledged_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acknowledged_at: Option<DateTime<FixedOffset>>,
    /// Why it stopped being active without an acknowledgement (`amended`, `entered-in-error`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resolution: Option<String>,
}

pub const ALERT_COLUMNS: &str = "id, patient_id, observation_id, code, value, unit, reason, \
    raised_at, acknowledged_by, acknowledged_at, resolution";

impl Alert {
    pub fn from_row(r: &Row, tz: Tz) -> Alert {
        let local = local(tz);
        let code: String = r.get(3);
        Alert {
            id: r.get(0),
            patient_id: r.get(1),
            observation_id: r.get(2),
            name: name_of(&code),
            code,
            value: r.get(4),
            unit: r.get(5),
            reason: r.get(6),
            raised_at: local(r.get(7)),
            acknowledged_by: r.get(8),
            acknowledged_at: r.get::<_, Option<DateTime<Utc>>>(9).map(&local),
            resolution: r.get(10),
        }
    }
}

/// The answer to recording a set: what was stored (converted, flagged, BMI added) and the
/// alerts it raised.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RecordedSet {
    pub set_id: Uuid,
    pub patient_id: Uuid,
    pub region: String,
    pub taken_at: DateTime<FixedOffset>,
    pub observations: Vec<Observation>,
    pub alerts: Vec<Alert>,
}
