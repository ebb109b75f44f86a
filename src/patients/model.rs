//! The patient as the API answers it, and the mapping from a `patients` row.

use crate::domain::patient::{NewPatient, PatientInput};
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::Serialize;
use tokio_postgres::Row;
use uuid::Uuid;

/// The columns every query returns, in the order [`PatientRow::from_row`] reads them.
pub const COLUMNS: &str = "id, given_name, family_name, sex, birth_date, birth_date_estimated, \
     district, village, facility, phone, national_id, version, created_at, updated_at, deleted_at, \
     hrn, merged_into, transfer_id";

/// A row of `patients`.
#[derive(Debug, Clone)]
pub struct PatientRow {
    pub id: Uuid,
    pub given_name: String,
    pub family_name: String,
    pub sex: String,
    pub birth_date: NaiveDate,
    pub birth_date_estimated: bool,
    pub district: String,
    pub village: Option<String>,
    pub facility: Option<String>,
    pub phone: Option<String>,
    pub national_id: Option<String>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub hrn: String,
    pub merged_into: Option<Uuid>,
    /// Set while the record moves to another region: it takes no writes meanwhile.
    pub transfer_id: Option<Uuid>,
}

impl PatientRow {
    pub fn from_row(r: &Row) -> PatientRow {
        PatientRow {
            id: r.get(0),
            given_name: r.get(1),
            family_name: r.get(2),
            sex: r.get(3),
            birth_date: r.get(4),
            birth_date_estimated: r.get(5),
            district: r.get(6),
            village: r.get(7),
            facility: r.get(8),
            phone: r.get(9),
            national_id: r.get(10),
            version: r.get(11),
            created_at: r.get(12),
            updated_at: r.get(13),
            deleted_at: r.get(14),
            hrn: r.get(15),
            merged_into: r.get(16),
            transfer_id: r.get(17),
        }
    }

    /// The row as input, so that a PATCH is parsed by the same rules as a create.
    pub fn to_input(&self) -> PatientInput {
        PatientInput {
            given_name: Some(self.given_name.clone()),
            family_name: Some(self.family_name.clone()),
            sex: Some(self.sex.clone()),
            birth_date: Some(self.birth_date.to_string()),
            estimated_age_years: None,
            district: Some(self.district.clone()),
            village: self.village.clone(),
            facility: self.facility.clone(),
            phone: self.phone.clone(),
            national_id: self.national_id.clone(),
            not_duplicate_of: None,
        }
    }

    /// The answer. Without `identity` (planners) it shows what the `planning` views show
    /// (migrations/shard/0005_planning.sql) and nothing finer: names, phone, national ID,
    /// health record number, exact birth date, village and facility are left out, since
    /// together with the district and age they single out most people.
    pub fn into_api(self, region: &str, tz: chrono_tz::Tz, identity: bool) -> Patient {
        let local = |t: DateTime<Utc>| t.with_timezone(&tz).fixed_offset();
        let shown = |v: Option<String>| v.filter(|_| identity);
        let today = Utc::now().with_timezone(&tz).date_naive();
        Patient {
            id: self.id,
            hrn: shown(Some(self.hrn)),
            region: region.to_owned(),
            given_name: shown(Some(self.given_name)),
            family_name: shown(Some(self.family_name)),
            sex: self.sex,
            birth_date: Some(self.birth_date).filter(|_| identity),
            birth_date_estimated: self.birth_date_estimated,
            age_band: age_band(self.birth_date, today),
            district: self.district,
            village: shown(self.village),
            facility: shown(self.facility),
            phone: shown(self.phone),
            national_id: shown(self.national_id),
            version: self.version,
            merged_into: self.merged_into,
            created_at: local(self.created_at),
            updated_at: local(self.updated_at),
        }
    }
}

/// A patient record. `version` is also sent as the `ETag`; send it back in `If-Match`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Patient {
    pub id: Uuid,
    /// Health record number: printable, with a check digit (`011-000-0123`). Null, like
    /// every field that tells who the patient is, for readers without the right to see
    /// that (planners).
    pub hrn: Option<String>,
    /// The region whose database holds the record.
    pub region: String,
    /// Null for readers without the right to see who the patient is (planners), as are
    /// `phone`, `national_id`, `hrn`, `birth_date`, `village` and `facility`.
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub sex: String,
    /// Null for planners: they get `age_band`.
    pub birth_date: Option<NaiveDate>,
    pub birth_date_estimated: bool,
    /// Today's age in five-year bands (`00-04`, ..., `75-79`, `80+`), as the planning
    /// views group it.
    pub age_band: String,
    pub district: String,
    /// Null for planners, as `facility`.
    pub village: Option<String>,
    pub facility: Option<String>,
    pub phone: Option<String>,
    pub national_id: Option<String>,
    pub version: i32,
    /// Set when a records clerk merged this record into another one (which to use now).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<Uuid>,
    /// In the region's local time, with its offset.
    pub created_at: DateTime<FixedOffset>,
    pub updated_at: DateTime<FixedOffset>,
}

/// The five-year age band of someone born on `birth` (`25-29`; `80+` from 80 on), as the
/// `planning.patients` view computes it: zero-padded, so that bands sort as text.
pub fn age_band(birth: NaiveDate, today: NaiveDate) -> String {
    let years = today.years_since(birth).unwrap_or(0);
    if years >= 80 {
        return "80+".into();
    }
    let low = years / 5 * 5;
    format!("{low:02}-{:02}", low + 4)
}

/// One page of patients, from one region or merged from several.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PatientPage {
    /// The region, when one region was searched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// In the requested order; each says its region.
    pub items: Vec<Patient>,
    /// The page number (pages by number).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
    pub size: u32,
    /// Matching patients over all pages, in the regions that answered (pages by number).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<i64>,
    /// Whether `total` was counted (`true`) or, above 1,000 matches in a region,
    /// estimated by the database's planner (`false`: show it as "about").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_exact: Option<bool>,
    /// The order, as applied (`family_name,given_name`; the patient ID breaks ties).
    pub sort: String,
    /// Send it back as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    pub regions_ok: Vec<String>,
    /// Regions that did not answer, with the reason: their patients are missing here.
    pub regions_failed: Vec<crate::fanout::Failed>,
}

impl PatientPage {
    /// A page from one region that answered.
    pub fn one_region(
        region: &str,
        items: Vec<Patient>,
        page: u32,
        size: u32,
        total: super::total::Total,
    ) -> Self {
        PatientPage {
            region: Some(region.to_owned()),
            items,
            page: Some(page),
            size,
            total: Some(total.n),
            total_exact: Some(total.exact),
            sort: "family_name,given_name".into(),
            next_cursor: None,
            regions_ok: vec![region.to_owned()],
            regions_failed: Vec::new(),
        }
    }
}

/// The fields a routing rule may look at.
pub fn routing_record(p: &NewPatient) -> crate::routing::Record {
    let mut record = crate::routing::Record::new("patient")
        .with("district", p.district.clone())
        .with("sex", p.sex.as_str());
    for (field, value) in [
        ("village", &p.village),
        ("facility", &p.facility),
        ("national_id", &p.national_id),
    ] {
        if let Some(v) = value {
            record = record.with(field, v.clone());
        }
    }
    record
}

/// Turns the search box's text into a query: name prefixes (LIKE wildcards escaped, so
/// `%` finds a literal percent sign), and the same text tried as a phone number, a
/// national ID and a patient ID.
pub fn search_terms(q: &str, size: u32, page: u32) -> super::repo::Search {
    let q = q.trim();
    let tokens = q
        .split_whitespace()
        .map(|t| {
            t.to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        })
        .collect();
    let has_text = !q.is_empty();
    super::repo::Search {
        tokens,
        phone: has_text
            .then(|| crate::domain::text::phone(q).ok().flatten())
            .flatten(),
        national_id: has_text
            .then(|| crate::domain::text::national_id(q).ok().flatten())
            .flatten(),
        id: q.parse().ok(),
        limit: i64::from(size),
        offset: i64::from(size) * i64::from(page - 1),
    }
}

#[cfg(test)]
mod tests {
    use super::age_band;
    use chrono::NaiveDate;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn age_bands_are_five_years_wide_turn_on_the_birthday_and_end_at_eighty() {
        let today = day("2025-06-15");
        for (birth, band) in [
            ("2025-06-15", "00-04"),
            ("2020-06-16", "00-04"),
            ("2020-06-15", "05-09"),
            ("1995-06-16", "25-29"),
            ("1995-06-15", "30-34"),
            ("1946-01-01", "75-79"),
            ("1945-06-15", "80+"),
            ("1901-01-01", "80+"),
        ] {
            assert_eq!(age_band(day(birth), today), band, "born {birth}");
        }
    }

    #[test]
    fn a_birth_date_after_today_is_in_the_first_band() {
        assert_eq!(age_band(day("2025-06-16"), day("2025-06-15")), "00-04");
    }
}
