//! Where moved patients live now. A patient keeps their ID and health record number when
//! they move region, but both name the region they were registered in; this map (the
//! central `patient_forwarding` table, held in memory) sends a read straight to the new
//! region: one shard asked, no lookup round trip, no fan-out. Every process reloads it when
//! told through the central database's NOTIFY (see `auth::listener`).

use parking_lot::RwLock;
use std::collections::HashMap;
use uuid::Uuid;

#[derive(Default)]
struct Maps {
    by_id: HashMap<Uuid, String>,
    by_hrn: HashMap<String, String>,
}

#[derive(Default)]
pub struct Forwarding {
    maps: RwLock<Maps>,
}

impl Forwarding {
    /// The region a moved patient lives in now; `None` for a patient who never moved.
    pub fn region_of(&self, id: &Uuid) -> Option<String> {
        let maps = self.maps.read();
        if maps.by_id.is_empty() {
            return None;
        }
        maps.by_id.get(id).cloned()
    }

    pub fn region_of_hrn(&self, hrn: &str) -> Option<String> {
        let maps = self.maps.read();
        maps.by_hrn.get(hrn).cloned()
    }

    /// Records a move made by this process (others learn it by NOTIFY).
    pub fn set(&self, id: Uuid, hrn: &str, region: &str) {
        let mut maps = self.maps.write();
        maps.by_id.insert(id, region.to_owned());
        maps.by_hrn.insert(hrn.to_owned(), region.to_owned());
    }

    /// Replaces the map with the central table's content.
    pub async fn reload(&self, central: &sqlx::PgPool) -> Result<usize, sqlx::Error> {
        let rows: Vec<(Uuid, Option<String>, String)> =
            sqlx::query_as("SELECT patient_id, hrn, region FROM patient_forwarding")
                .fetch_all(central)
                .await?;
        let mut fresh = Maps::default();
        for (id, hrn, region) in rows {
            if let Some(hrn) = hrn {
                fresh.by_hrn.insert(hrn, region.clone());
            }
            fresh.by_id.insert(id, region);
        }
        let n = fresh.by_id.len();
        *self.maps.write() = fresh;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_while_the_map_is_held_leaves_later_reads_and_moves_working() {
        let forwarding = std::sync::Arc::new(Forwarding::default());
        let id = Uuid::new_v4();
        forwarding.set(id, "QT-1", "maseru");
        let held = forwarding.clone();
        let panicked = std::thread::spawn(move || {
            let _maps = held.maps.write();
            panic!("a bug while the map is held");
        })
        .join();
        assert!(panicked.is_err());
        assert_eq!(forwarding.region_of(&id).as_deref(), Some("maseru"));
        forwarding.set(id, "QT-1", "leribe");
        assert_eq!(forwarding.region_of_hrn("QT-1").as_deref(), Some("leribe"));
    }
}
