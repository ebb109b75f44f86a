//! The opaque cursor of a fanned-out list: for every region, the sort key of the last row
//! that region contributed. The next page asks each region only for rows after its own
//! position, so page 1000 costs what page 1 costs, and a region that failed on one page is
//! asked again from where it stopped. The cursor also names the sort and a digest of the
//! filters, so it cannot be replayed against another query.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    /// Format version.
    pub v: u8,
    /// The sort, as the request spelled it (`family_name,-birth_date`).
    pub sort: String,
    /// A digest of the filters.
    pub filter: String,
    /// Region name to the key of the last row it contributed (sort values, then ID).
    pub positions: BTreeMap<String, Vec<String>>,
}

impl Cursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).expect("a cursor serializes"))
    }

    /// Reads a cursor; `None` for anything this version did not write.
    pub fn decode(raw: &str) -> Option<Cursor> {
        let bytes = URL_SAFE_NO_PAD.decode(raw.trim()).ok()?;
        let cursor: Cursor = serde_json::from_slice(&bytes).ok()?;
        (cursor.v == 1).then_some(cursor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_reads_back_as_it_was_written() {
        let mut positions = BTreeMap::new();
        positions.insert("quthing".into(), vec!["Mokoena".into(), "0194-...".into()]);
        let c = Cursor {
            v: 1,
            sort: "family_name".into(),
            filter: "ab".into(),
            positions,
        };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
    }

    #[test]
    fn garbage_and_other_versions_are_not_cursors() {
        assert_eq!(Cursor::decode("not a cursor"), None);
        let other = URL_SAFE_NO_PAD.encode(br#"{"v":2,"sort":"","filter":"","positions":{}}"#);
        assert_eq!(Cursor::decode(&other), None);
    }
}
