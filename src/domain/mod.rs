//! Domain types: parse, don't validate. Request bodies arrive as loose `*Input` structs and
//! are parsed once into types that cannot hold a bad value, collecting every field's
//! problem so that a clerk fixes a form in one round trip, not five.

pub mod duplicates;
pub mod hrn;
pub mod ids;
pub mod names;
pub mod notify;
pub mod patient;
pub mod text;

pub use ids::PatientId;

/// One field's problem, as it appears in a problem+json `errors` list.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// The JSON field, as the client sent it (`birth_date`, `vitals[2].value`).
    pub field: String,
    /// Why it was refused, in words a clerk understands.
    pub reason: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }
}
