//! Where an observation is in its life: as first recorded, corrected, or withdrawn as a
//! mistake (FHIR's `final`, `amended`, `entered-in-error`). Typed, because the difference
//! decides what counts: a value entered in error is in no summary, chart or statistic.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Final,
    Amended,
    EnteredInError,
}

impl Status {
    pub const ALL: [Status; 3] = [Status::Final, Status::Amended, Status::EnteredInError];

    /// The spelling stored in the database and sent over the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Final => "final",
            Status::Amended => "amended",
            Status::EnteredInError => "entered-in-error",
        }
    }

    /// Still a reading: counted, charted, summarised.
    pub fn is_valid(self) -> bool {
        self != Status::EnteredInError
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Status {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| {
                format!("unknown status \"{s}\"; expected final, amended or entered-in-error")
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_reads_back_from_the_text_the_database_stores() {
        for status in Status::ALL {
            assert_eq!(status.as_str().parse::<Status>(), Ok(status));
            assert_eq!(status.to_string(), status.as_str());
        }
    }

    #[test]
    fn every_status_is_sent_and_read_as_json_in_the_spelling_the_database_stores() {
        for status in Status::ALL {
            let json = serde_json::to_value(status).unwrap();
            assert_eq!(json, serde_json::Value::from(status.as_str()));
            assert_eq!(serde_json::from_value::<Status>(json).unwrap(), status);
        }
        assert_eq!(Status::EnteredInError.as_str(), "entered-in-error");
    }

    #[test]
    fn a_status_the_database_does_not_admit_is_an_error() {
        for text in ["valid", "", "Final", "entered_in_error"] {
            assert!(text.parse::<Status>().is_err(), "{text:?}");
        }
    }

    #[test]
    fn only_an_observation_entered_in_error_is_not_a_valid_reading() {
        let valid: Vec<Status> = Status::ALL.into_iter().filter(|s| s.is_valid()).collect();
        assert_eq!(valid, [Status::Final, Status::Amended]);
    }
}
