//! The state every handler shares: settings, the rule set, the shard pools and the
//! central pool. Built once at launch; nothing in it is rebuilt per request.

use crate::config::Settings;
use crate::domain::PatientId;
use crate::routing::RuleSet;
use crate::shards::{Shard, Shards};
use std::collections::BTreeMap;
use std::sync::Arc;

pub type AppState = Arc<App>;

pub struct App {
    pub settings: Settings,
    pub rules: Arc<RuleSet>,
    pub shards: Shards,
    /// Lower-case district name to its canonical spelling, for parsing input.
    pub districts: BTreeMap<String, String>,
    /// The central database; connects lazily so that hmis starts while it is down.
    pub central: sqlx::PgPool,
    pub sessions: crate::auth::sessions::Sessions,
    pub authz: crate::authz::Authz,
    /// Patients who moved region: their ID still names the old one.
    pub forwarding: crate::transfer::Forwarding,
    /// Seals and opens cross-region list cursors (`server.cursor_key`, else random).
    pub cursor_key: crate::fanout::cursor::Key,
}

impl App {
    pub async fn new(settings: Settings) -> anyhow::Result<App> {
        let shards = Shards::new(&settings)?;
        let districts = settings
            .regions
            .iter()
            .flat_map(|r| r.districts.iter())
            .map(|d| (d.to_lowercase(), d.clone()))
            .collect();
        let central = sqlx::postgres::PgPoolOptions::new()
            .max_connections(settings.file.central.pool_size)
            .acquire_timeout(std::time::Duration::from_millis(
                settings.file.server.shard_timeout_ms,
            ))
            .connect_lazy(settings.file.central.url.expose())?;
        let auth = &settings.file.auth;
        let limits = crate::auth::sessions::Limits {
            absolute: chrono::Duration::seconds(auth.session_seconds),
            idle: chrono::Duration::seconds(auth.idle_seconds),
        };
        let forwarding = crate::transfer::Forwarding::default();
        if let Err(e) = forwarding.reload(&central).await {
            // The listener reloads it once the central database answers.
            tracing::warn!(error = %e, "could not load patient forwarding yet");
        }
        Ok(App {
            forwarding,
            cursor_key: crate::fanout::cursor::Key::from_setting(
                settings.file.server.cursor_key.expose(),
            ),
            rules: settings.rules.clone(),
            sessions: crate::auth::sessions::Sessions::new(central.clone(), limits),
            authz: crate::authz::Authz::from_central(central.clone()).await,
            settings,
            shards,
            districts,
            central,
        })
    }

    /// Today's date: the latest of the regions' local dates, so that a birth date typed
    /// just after midnight somewhere is never "in the future".
    pub fn today(&self) -> chrono::NaiveDate {
        let now = chrono::Utc::now();
        self.settings
            .regions
            .iter()
            .map(|r| now.with_timezone(&r.tz()).date_naive())
            .max()
            .unwrap_or_else(|| now.date_naive())
    }

    /// The shard holding a patient: the region code inside the ID, unless the patient
    /// moved (an in-memory map, no lookup round trip).
    pub fn shard_of(&self, id: PatientId) -> Option<&Shard> {
        if let Some(region) = self.forwarding.region_of(&id.uuid()) {
            return self.shards.get(&region);
        }
        self.shards.by_code(id.region_code())
    }

    /// The region name for a parent record, for `follow` rules.
    pub fn resolve_parent(&self, entity: &str, id: &str) -> Option<String> {
        match entity {
            "patient" => {
                let id: PatientId = id.parse().ok()?;
                self.shard_of(id).map(|s| s.name().to_owned())
            }
            _ => None,
        }
    }
}
