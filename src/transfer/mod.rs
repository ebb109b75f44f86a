//! Moving a patient to another region, the engine: the patient keeps their ID and health
//! record number; everything they have moves with them in a journaled, restartable
//! sequence of steps ([`steps`]); the old region keeps its audit trail and the forwarding
//! ([`forwarding`]) sends every later request to the new region. The HTTP side
//! (`POST /api/v1/patients/{id}/transfer`, who may ask) is `crate::patients::transfer`.

mod copy;
pub mod forwarding;
pub mod journal;
mod state;
pub mod steps;

pub use copy::{NOT_PATIENT_DATA, TABLES};
pub use forwarding::Forwarding;
pub use journal::{Transfer, Unreadable};
pub use state::{State, UnknownState};
pub use steps::{Faults, POINTS, Point, Refusal, TransferError, drive, no_faults, resume_all};

use crate::shards::Shards;

/// What the engine works with, and nothing more: the regions' databases, the central
/// database (the journal, the forwarding table), and this process's forwarding map.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub shards: &'a Shards,
    pub central: &'a sqlx::PgPool,
    pub forwarding: &'a Forwarding,
}
