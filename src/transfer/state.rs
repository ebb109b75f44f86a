//! Where a transfer is, typed: the journal stores it as text, and a text this version of
//! hmis does not know (a newer one wrote it, or someone edited the row in pgAdmin) is an
//! error to report, never a transfer to treat as finished: guessing there could delete a
//! patient's only copy or leave it frozen for good.

use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// The steps of [`super::steps`], in order; `RolledBack` ends a refused copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Started,
    Copied,
    Switched,
    Done,
    RolledBack,
}

impl State {
    pub const ALL: [State; 5] = [
        State::Started,
        State::Copied,
        State::Switched,
        State::Done,
        State::RolledBack,
    ];

    /// The spelling the journal stores and the API sends (the same as serde's).
    pub fn as_str(self) -> &'static str {
        match self {
            State::Started => "started",
            State::Copied => "copied",
            State::Switched => "switched",
            State::Done => "done",
            State::RolledBack => "rolled_back",
        }
    }

    /// Nothing is left to do: the patient moved, or stayed where they were.
    pub fn is_finished(self) -> bool {
        matches!(self, State::Done | State::RolledBack)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A journal state this hmis does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown transfer state \"{0}\"")]
pub struct UnknownState(pub String);

impl FromStr for State {
    type Err = UnknownState;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        State::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| UnknownState(s.to_owned()))
    }
}

/// How `sqlx::FromRow` decodes the journal's `state` column.
impl TryFrom<String> for State {
    type Error = UnknownState;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_reads_back_from_the_text_the_journal_stores() {
        for state in State::ALL {
            assert_eq!(state.as_str().parse::<State>(), Ok(state));
            assert_eq!(state.to_string(), state.as_str());
        }
    }

    #[test]
    fn every_state_is_sent_as_json_in_the_spelling_the_journal_stores() {
        for state in State::ALL {
            let json = serde_json::to_value(state).unwrap();
            assert_eq!(json, serde_json::Value::from(state.as_str()));
        }
        assert_eq!(State::RolledBack.as_str(), "rolled_back");
    }

    #[test]
    fn a_state_this_hmis_does_not_know_is_an_error_not_a_finished_transfer() {
        for text in ["paused", "", "Done", "rolled-back", " done"] {
            assert_eq!(
                State::try_from(text.to_owned()),
                Err(UnknownState(text.to_owned())),
                "{text:?}"
            );
        }
    }

    #[test]
    fn only_done_and_rolled_back_are_finished() {
        let finished: Vec<State> = State::ALL.into_iter().filter(|s| s.is_finished()).collect();
        assert_eq!(finished, [State::Done, State::RolledBack]);
    }
}
