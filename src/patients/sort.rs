//! Sort orders of patient lists: `sort=family_name,-birth_date` (a `-` for descending),
//! always ending in the patient ID so that the order is total and the same in every region.
//! Text is compared byte by byte (`COLLATE "C"`) in SQL and in Rust alike: the merge of the
//! regions' answers must agree exactly with each region's own order.

use super::model::PatientRow;
use crate::http::ApiError;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use std::cmp::Ordering;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    FamilyName,
    GivenName,
    BirthDate,
    CreatedAt,
    District,
    Sex,
    Hrn,
}

const COLUMNS: &[(&str, Column)] = &[
    ("family_name", Column::FamilyName),
    ("given_name", Column::GivenName),
    ("birth_date", Column::BirthDate),
    ("created_at", Column::CreatedAt),
    ("district", Column::District),
    ("sex", Column::Sex),
    ("hrn", Column::Hrn),
];

impl Column {
    fn name(self) -> &'static str {
        COLUMNS
            .iter()
            .find(|(_, c)| *c == self)
            .map(|(n, _)| *n)
            .expect("listed")
    }

    fn sql(self) -> String {
        match self {
            Column::BirthDate | Column::CreatedAt => self.name().to_owned(),
            _ => format!("{} COLLATE \"C\"", self.name()),
        }
    }

    fn cast(self) -> &'static str {
        match self {
            Column::BirthDate => "date",
            Column::CreatedAt => "timestamptz",
            _ => "text",
        }
    }

    fn value(self, r: &PatientRow) -> Part {
        match self {
            Column::FamilyName => Part::Text(r.family_name.clone()),
            Column::GivenName => Part::Text(r.given_name.clone()),
            Column::BirthDate => Part::Date(r.birth_date),
            Column::CreatedAt => Part::Time(r.created_at),
            Column::District => Part::Text(r.district.clone()),
            Column::Sex => Part::Text(r.sex.clone()),
            Column::Hrn => Part::Text(r.hrn.clone()),
        }
    }
}

/// One sort value; a column always gives the same variant.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Part {
    Text(String),
    Date(NaiveDate),
    Time(DateTime<Utc>),
}

impl Part {
    fn text(&self) -> String {
        match self {
            Part::Text(s) => s.clone(),
            Part::Date(d) => d.to_string(),
            Part::Time(t) => t.to_rfc3339_opts(SecondsFormat::Micros, true),
        }
    }
}

/// A row's place in the order: its sort values (with their directions), then its ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    parts: Vec<(Part, bool)>,
    id: Uuid,
}

impl Ord for Key {
    fn cmp(&self, other: &Self) -> Ordering {
        for ((a, desc), (b, _)) in self.parts.iter().zip(&other.parts) {
            let o = if *desc { b.cmp(a) } else { a.cmp(b) };
            if o != Ordering::Equal {
                return o;
            }
        }
        self.id.cmp(&other.id)
    }
}

impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Sort {
    keys: Vec<(Column, bool)>,
    /// As the request spelled it, normalized.
    pub spelled: String,
}

impl Sort {
    /// `None` is the default: family name, then given name.
    pub fn parse(raw: Option<&str>) -> Result<Sort, ApiError> {
        let raw = raw.unwrap_or("family_name,given_name");
        let mut keys = Vec::new();
        for word in raw.split(',').map(str::trim) {
            let (name, desc) = word.strip_prefix('-').map_or((word, false), |n| (n, true));
            let Some((_, col)) = COLUMNS.iter().find(|(n, _)| *n == name) else {
                let known: Vec<&str> = COLUMNS.iter().map(|(n, _)| *n).collect();
                return Err(bad(&format!(
                    "\"{word}\" is not a sort key; use {}",
                    known.join(", ")
                )));
            };
            if keys.iter().any(|(c, _)| c == col) {
                return Err(bad(&format!("{name} appears twice")));
            }
            keys.push((*col, desc));
        }
        let spelled = keys
            .iter()
            .map(|(c, d)| format!("{}{}", if *d { "-" } else { "" }, c.name()))
            .collect::<Vec<_>>()
            .join(",");
        Ok(Sort { keys, spelled })
    }

    /// Whether the order reveals a field that tells who patients are (names, exact birth
    /// date, health record number): refused to readers who may not see those fields.
    pub fn identifying(&self) -> bool {
        self.keys.iter().any(|(c, _)| {
            matches!(
                c,
                Column::FamilyName | Column::GivenName | Column::BirthDate | Column::Hrn
            )
        })
    }

    pub fn order_by(&self) -> String {
        let mut parts: Vec<String> = self
            .keys
            .iter()
            .map(|(c, d)| format!("{} {}", c.sql(), if *d { "DESC" } else { "ASC" }))
            .collect();
        parts.push("id ASC".into());
        parts.join(", ")
    }

    /// Rows after a position, with its values as text parameters `$first`, `$first+1`, ...
    /// (the ID last): `(k1 > a) OR (k1 = a AND k2 > b) OR (... AND id > i)`.
    pub fn after(&self, first: usize) -> String {
        let mut ors = Vec::new();
        let n = self.keys.len();
        for i in 0..=n {
            let mut ands: Vec<String> = (0..i)
                .map(|j| {
                    let (c, _) = self.keys[j];
                    format!("{} = ${}::text::{}", c.sql(), first + j, c.cast())
                })
                .collect();
            if i < n {
                let (c, desc) = self.keys[i];
                let op = if desc { "<" } else { ">" };
                ands.push(format!(
                    "{} {op} ${}::text::{}",
                    c.sql(),
                    first + i,
                    c.cast()
                ));
            } else {
                ands.push(format!("id > ${}::uuid", first + n));
            }
            ors.push(format!("({})", ands.join(" AND ")));
        }
        format!("({})", ors.join(" OR "))
    }

    pub fn key(&self, r: &PatientRow) -> Key {
        Key {
            parts: self.keys.iter().map(|(c, d)| (c.value(r), *d)).collect(),
            id: r.id,
        }
    }

    /// A row's position as the cursor stores it: its values as text, then its ID.
    pub fn position(&self, r: &PatientRow) -> Vec<String> {
        let mut out: Vec<String> = self.keys.iter().map(|(c, _)| c.value(r).text()).collect();
        out.push(r.id.to_string());
        out
    }

    /// Whether a position read from a cursor fits this sort.
    pub fn fits(&self, position: &[String]) -> bool {
        position.len() == self.keys.len() + 1
            && position.last().is_some_and(|id| id.parse::<Uuid>().is_ok())
    }
}

fn bad(detail: &str) -> ApiError {
    ApiError::bad("sort", detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sort_is_spelled_back_normalized_and_ends_in_the_id() {
        let s = Sort::parse(Some(" -birth_date , family_name")).unwrap();
        assert_eq!(s.spelled, "-birth_date,family_name");
        assert_eq!(
            s.order_by(),
            "birth_date DESC, family_name COLLATE \"C\" ASC, id ASC"
        );
    }

    #[test]
    fn names_birth_dates_and_record_numbers_are_identifying_orders_the_rest_are_not() {
        for key in [
            "family_name",
            "-given_name",
            "birth_date",
            "-hrn",
            "sex,birth_date",
        ] {
            assert!(Sort::parse(Some(key)).unwrap().identifying(), "{key}");
        }
        for key in ["created_at", "-district", "sex,-created_at"] {
            assert!(!Sort::parse(Some(key)).unwrap().identifying(), "{key}");
        }
    }

    #[test]
    fn unknown_and_repeated_sort_keys_are_refused() {
        assert!(Sort::parse(Some("phone")).is_err());
        assert!(Sort::parse(Some("sex,-sex")).is_err());
    }

    #[test]
    fn the_keyset_condition_follows_each_keys_direction() {
        let s = Sort::parse(Some("-birth_date,district")).unwrap();
        assert_eq!(
            s.after(9),
            "((birth_date < $9::text::date) OR (birth_date = $9::text::date AND district COLLATE \"C\" > \
             $10::text::text) OR (birth_date = $9::text::date AND district COLLATE \"C\" = $10::text::text \
             AND id > $11::uuid))"
        );
    }
}
