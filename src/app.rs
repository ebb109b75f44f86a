//! The state every handler shares: settings, the rule set, the shard pools, the central
//! pool, and the infrastructure built on them (audit trail, sessions, authz, forwarding).
//! Built once at launch; nothing in it is rebuilt per request. Only the layers above it
//! (the HTTP vocabulary, resources, the router) see an `App`; the infrastructure below is
//! handed the parts it uses, e.g. [`App::transfers`].

use crate::config::Settings;
use crate::domain::PatientId;
use crate::domain::notify::Note;
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
    /// Every region's audit writer.
    pub audit: crate::audit::Trail,
    pub sessions: Arc<crate::auth::sessions::Sessions>,
    pub authz: Arc<crate::authz::Authz>,
    /// Patients who moved region: their ID still names the old one.
    pub forwarding: Arc<crate::transfer::Forwarding>,
    /// Seals and opens cross-region list cursors (`server.cursor_key`, else random).
    pub cursor_key: crate::fanout::cursor::Key,
    /// This process's pushes of users' notifications, for the real-time layer.
    pub notices: crate::notices::Notices,
    /// Login attempts on one account or address, queued before they take a connection.
    pub logins: crate::auth::queue::LoginQueue,
}

impl App {
    pub async fn new(settings: Settings) -> anyhow::Result<App> {
        // Before anything records: the process's one recorder.
        crate::telemetry::handle();
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
        let forwarding = Arc::new(crate::transfer::Forwarding::default());
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
            notices: crate::notices::Notices::default(),
            logins: crate::auth::queue::LoginQueue::default(),
            audit: crate::audit::Trail::new(&shards),
            sessions: Arc::new(crate::auth::sessions::Sessions::new(
                central.clone(),
                limits,
            )),
            authz: Arc::new(crate::authz::Authz::from_central(central.clone()).await),
            settings,
            shards,
            districts,
            central,
        })
    }

    /// What the transfer engine works with.
    pub fn transfers(&self) -> crate::transfer::Ctx<'_> {
        crate::transfer::Ctx {
            shards: &self.shards,
            central: &self.central,
            forwarding: &self.forwarding,
        }
    }

    /// What the central listener ([`crate::bus::listen`]) does with each note: drop the
    /// session, user, policy or forwarding this process cached; everything on `None`.
    pub fn refresher(&self) -> crate::bus::Refresh {
        let (sessions, authz) = (self.sessions.clone(), self.authz.clone());
        let (forwarding, central) = (self.forwarding.clone(), self.central.clone());
        Box::new(move |note| {
            let (sessions, authz) = (sessions.clone(), authz.clone());
            let (forwarding, central) = (forwarding.clone(), central.clone());
            Box::pin(async move {
                match note {
                    None => {
                        sessions.forget_all();
                        authz.reload().await?;
                        forwarding.reload(&central).await?;
                    }
                    Some(Note::Session { hash }) => sessions.forget_session(&hash),
                    Some(Note::User { user_id }) => sessions.forget_user(user_id),
                    Some(Note::Policy) => authz.reload().await?,
                    Some(Note::Forwarding) => {
                        forwarding.reload(&central).await?;
                    }
                    Some(other) => {
                        tracing::warn!(?other, "a shard's event on the auth channel; ignored")
                    }
                }
                Ok(())
            })
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

/// Finishes interrupted transfers at startup and then every few seconds, so that a
/// region that was down when a transfer stopped gets it finished once it is back.
pub fn spawn_resumer(app: std::sync::Weak<App>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let Some(a) = app.upgrade() else { return };
            crate::transfer::resume_all(&a.transfers()).await;
            drop(a);
            tokio::time::sleep(std::time::Duration::from_secs(5)).await;
        }
    })
}

/// What the change-log pruner ([`crate::changes::spawn_pruner`]) works on: it holds the
/// `App` weakly and stops once the `App` is gone.
impl AsRef<Shards> for App {
    fn as_ref(&self) -> &Shards {
        &self.shards
    }
}
