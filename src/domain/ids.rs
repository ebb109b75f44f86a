//! Patient IDs carry their region. A UUIDv7 (time-ordered, so B-tree inserts stay cheap)
//! whose last two random bytes are replaced by the region's `code`: a read by ID goes
//! straight to one shard, with no lookup and no fan-out, and the column is still a plain
//! `uuid` for pgAdmin users.

use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PatientId(Uuid);

impl PatientId {
    /// A new ID for a patient placed in the region with `region_code`.
    pub fn new(region_code: u16) -> Self {
        let mut bytes = *Uuid::now_v7().as_bytes();
        bytes[14..16].copy_from_slice(&region_code.to_be_bytes());
        Self(Uuid::from_bytes(bytes))
    }

    pub fn from_uuid(uuid: Uuid) -> Self {
        Self(uuid)
    }

    /// The code of the region the patient was created in.
    pub fn region_code(&self) -> u16 {
        let b = self.0.as_bytes();
        u16::from_be_bytes([b[14], b[15]])
    }

    pub fn uuid(&self) -> Uuid {
        self.0
    }
}

impl FromStr for PatientId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(Self)
    }
}

impl fmt::Display for PatientId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_remembers_the_region_code_it_was_made_for() {
        for code in [1u16, 2, 255, 256, 65535] {
            let id = PatientId::new(code);
            assert_eq!(id.region_code(), code);
            let parsed: PatientId = id.to_string().parse().unwrap();
            assert_eq!(parsed.region_code(), code);
            assert_eq!(id.uuid().get_version_num(), 7);
        }
    }

    #[test]
    fn ids_made_one_after_another_are_distinct_and_ordered_by_time() {
        let a = PatientId::new(1);
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = PatientId::new(1);
        assert_ne!(a, b);
        assert!(a < b);
    }
}
