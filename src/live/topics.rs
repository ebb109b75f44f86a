//! What a client may subscribe to, authorized exactly like the read it stands for: a
//! `patient:<id>` like a read of that patient ([`crate::records::reach`], which audits a
//! denial), a `region:<name>` like reading patients there, `user:me` always (its events,
//! the user's own notifications, come from [`super::me`]). A refusal says why and nothing
//! about the patient.

use crate::app::App;
use crate::authz::kinds::PATIENT;
use crate::changes::Event;
use crate::http::{Actor, ApiError};
use std::sync::Arc;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Topic {
    Patient { name: String, id: Uuid },
    Region(String),
    Me,
}

impl Topic {
    pub fn name(&self) -> String {
        match self {
            Topic::Patient { name, .. } => name.clone(),
            Topic::Region(r) => format!("region:{r}"),
            Topic::Me => "user:me".into(),
        }
    }

    pub fn matches(&self, event: &Event) -> bool {
        match self {
            Topic::Patient { id, .. } => event.patient_id == Some(*id),
            Topic::Region(r) => event.region == *r,
            Topic::Me => false,
        }
    }
}

/// The topic `raw` names, if `actor` may follow it; else the reason.
pub async fn authorize(app: &Arc<App>, actor: &Actor, raw: &str) -> Result<Topic, String> {
    resolve(app, actor, raw).await.map_err(reason)
}

/// As [`authorize`], with the refusal as the API error it stands for (the long-poll
/// answers it over HTTP).
pub async fn resolve(app: &Arc<App>, actor: &Actor, raw: &str) -> Result<Topic, ApiError> {
    if raw == "user:me" {
        return Ok(Topic::Me);
    }
    if let Some(id) = raw.strip_prefix("patient:") {
        let at = crate::records::reach(app, actor, id, PATIENT, crate::authz::Action::Read).await?;
        return Ok(Topic::Patient {
            name: raw.to_owned(),
            id: at.id,
        });
    }
    if let Some(region) = raw.strip_prefix("region:") {
        if app.shards.get(region).is_none() {
            return Err(ApiError::NotFound(format!("no region named \"{region}\"")));
        }
        crate::records::authorize(
            app,
            actor,
            region,
            PATIENT,
            crate::authz::Action::Read,
            None,
        )
        .await?;
        return Ok(Topic::Region(region.to_owned()));
    }
    Err(ApiError::BadRequest {
        field: Some("topics".into()),
        detail: "not a topic: patient:<id>, region:<name> or user:me".into(),
    })
}

/// What a client may learn of a refusal: the API's own wording, never internal text.
pub fn reason(e: ApiError) -> String {
    match e {
        ApiError::BadRequest { detail, .. }
        | ApiError::Forbidden(detail)
        | ApiError::ForbiddenField { detail, .. }
        | ApiError::NotFound(detail) => detail,
        _ => "cannot be followed now; try again".into(),
    }
}
