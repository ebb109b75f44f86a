//! Configuration: `hmis.toml` (server, central database, paths) and `regions/*.toml`, typed
//! with serde, unknown keys rejected, every default written next to its field, and every
//! setting overridable by an `HMIS_` environment variable (see [`env`]).
//!
//! Load errors name the file, and for syntax or type errors the line and key, because the
//! person reading them is an operator at night with a text editor.

mod auth;
mod changes;
mod env;
mod live;
mod metrics;
mod region;
mod secret;
mod source;

pub use auth::AuthSettings;
pub use changes::ChangesSettings;
pub use live::LiveSettings;
pub use metrics::MetricsSettings;
pub use region::{RegionOverride, RegionSettings, env_prefix};
pub use secret::{DatabaseUrl, Secret};
pub use source::{Chosen, DEV_DIR, choose, dev_file};

use crate::routing::{Catalog, CatalogRegion, RuleSet, Source};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Everything `launch` needs.
#[derive(Debug, Clone)]
pub struct Settings {
    pub file: FileSettings,
    pub regions: Vec<RegionSettings>,
    pub rules: Arc<RuleSet>,
}

/// The contents of `hmis.toml`. A missing file means all defaults.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct FileSettings {
    pub server: ServerSettings,
    pub central: CentralSettings,
    pub paths: PathSettings,
    pub auth: AuthSettings,
    pub changes: ChangesSettings,
    pub live: LiveSettings,
    pub metrics: MetricsSettings,
    /// `[regions.<name>]`: settings of a region that win over its `regions/<name>.toml`
    /// (the file `hmis dev` writes points every region at its local cluster this way).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub regions: BTreeMap<String, RegionOverride>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    /// Address `hmis serve` listens on. Default `127.0.0.1:8000`.
    pub listen: String,
    /// Largest request body accepted, in bytes. Default 65536.
    pub max_body_bytes: usize,
    /// How long one shard may take to hand out a connection before the request fails
    /// with 503, in milliseconds. Default 2000.
    pub shard_timeout_ms: u64,
    /// How long a request that asks several regions waits for each, in milliseconds;
    /// a region slower than that is reported in `regions_failed`. Default 3000.
    pub fanout_deadline_ms: u64,
    /// How long one planner's query (`POST /api/v1/query`) may run in a region before that
    /// region reports it as failed, in milliseconds (PostgreSQL's `statement_timeout`).
    /// Default 10000.
    pub query_timeout_ms: u64,
    /// Planners' queries that may run in one region at once (each holds one of its pooled
    /// connections); more wait, and after `shard_timeout_ms` that region reports itself
    /// busy. Default 2.
    pub planner_queries_per_region: usize,
    /// The key that seals list cursors (`next_cursor`). Default empty: a random key made
    /// at startup, so cursors stop working when hmis restarts; several hmis processes
    /// behind one load balancer must be given the same key (`HMIS_SERVER_CURSOR_KEY`).
    pub cursor_key: Secret,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8000".into(),
            max_body_bytes: 64 * 1024,
            shard_timeout_ms: 2000,
            fanout_deadline_ms: 3000,
            query_timeout_ms: 10_000,
            planner_queries_per_region: 2,
            cursor_key: Secret::default(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct CentralSettings {
    /// The central database (users, sessions, policies, forwarding records).
    /// Default `postgresql://hmis@127.0.0.1:5432/hmis_central`.
    pub url: DatabaseUrl,
    /// Connections kept open to it. Default 8.
    pub pool_size: u32,
}

impl Default for CentralSettings {
    fn default() -> Self {
        Self {
            url: DatabaseUrl::new("postgresql://hmis@127.0.0.1:5432/hmis_central"),
            pool_size: 8,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PathSettings {
    /// Folder of region files, relative to the working directory. Default `regions`.
    pub regions: PathBuf,
    /// Folder of routing rule files. Default `routing-rules`.
    pub rules: PathBuf,
}

impl Default for PathSettings {
    fn default() -> Self {
        Self {
            regions: "regions".into(),
            rules: "routing-rules".into(),
        }
    }
}

/// A configuration problem, always naming the file it is in.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {message}")]
pub struct ConfigError {
    pub file: String,
    pub message: String,
}

impl ConfigError {
    pub fn new(file: &Path, message: impl Into<String>) -> Self {
        Self {
            file: file.display().to_string(),
            message: message.into(),
        }
    }

    fn io(file: &Path, e: std::io::Error) -> Self {
        Self::new(file, format!("cannot read: {e}"))
    }

    /// toml's message already carries line, column and the offending key.
    fn toml(file: &Path, e: &toml::de::Error) -> Self {
        Self::new(file, e.to_string().trim_end().to_owned())
    }
}

impl Settings {
    /// Loads `hmis.toml` (if `config` is None, `./hmis.toml` when present), then the
    /// regions and rules it points at, with `HMIS_` overrides applied.
    pub fn load(config: Option<&Path>) -> Result<Settings, ConfigError> {
        Self::load_with(config, &env::hmis_vars())
    }

    /// As [`Settings::load`], blind to the process environment (for unit tests).
    #[cfg(test)]
    pub(crate) fn load_without_env(config: Option<&Path>) -> Result<Settings, ConfigError> {
        Self::load_with(config, &BTreeMap::new())
    }

    fn load_with(
        config: Option<&Path>,
        vars: &BTreeMap<String, String>,
    ) -> Result<Settings, ConfigError> {
        let (file, regions, rules) = load_parts_with(config, vars)?;
        Ok(Settings {
            file,
            regions,
            rules: Arc::new(rules?),
        })
    }

    pub fn region(&self, name: &str) -> Option<&RegionSettings> {
        self.regions.iter().find(|r| r.name == name)
    }
}

/// `hmis.toml` and the regions, with the rules' outcome apart: what [`Settings::load`]
/// reads, for `hmis doctor`, which checks the databases even when the rules are invalid.
pub type Parts = (
    FileSettings,
    Vec<RegionSettings>,
    Result<RuleSet, ConfigError>,
);

/// As [`Settings::load`], but a rule error is returned beside the settings, not instead.
pub fn load_parts(config: Option<&Path>) -> Result<Parts, ConfigError> {
    load_parts_with(config, &env::hmis_vars())
}

fn load_parts_with(
    config: Option<&Path>,
    vars: &BTreeMap<String, String>,
) -> Result<Parts, ConfigError> {
    let file = load_file_settings(config, vars)?;
    let regions = region::load_dir(&file.paths.regions, &file.regions, vars)?;
    let named = config.unwrap_or(Path::new("hmis.toml"));
    region::check_overrides(named, &file.regions, &regions)?;
    let rules = load_rules(&file.paths.rules, &regions);
    Ok((file, regions, rules))
}

/// `hmis.toml` alone (or `./hmis.toml` when present, else defaults), with `HMIS_`
/// overrides: for commands that need its paths but no databases.
pub fn file_settings(config: Option<&Path>) -> Result<FileSettings, ConfigError> {
    load_file_settings(config, &env::hmis_vars())
}

fn load_file_settings(
    config: Option<&Path>,
    vars: &BTreeMap<String, String>,
) -> Result<FileSettings, ConfigError> {
    let default_path = Path::new("hmis.toml");
    let path = config.unwrap_or(default_path);
    let settings = match std::fs::read_to_string(path) {
        Ok(text) => toml::from_str(&text).map_err(|e| ConfigError::toml(path, &e))?,
        Err(e) if config.is_none() && e.kind() == std::io::ErrorKind::NotFound => {
            FileSettings::default()
        }
        Err(e) => return Err(ConfigError::io(path, e)),
    };
    let settings = with_env(path, settings, "HMIS", vars)?;
    check_counts(path, &settings)?;
    settings.metrics.check(path)?;
    Ok(settings)
}

/// Counts that size something allocated at startup (the central pool's queue, the
/// planners' semaphores): a value no database could serve would abort hmis when it starts
/// instead of being refused here, naming the key.
fn check_counts(path: &Path, s: &FileSettings) -> Result<(), ConfigError> {
    let max = region::MAX_POOL_SIZE;
    for (key, value) in [
        ("central.pool_size", s.central.pool_size as usize),
        (
            "server.planner_queries_per_region",
            s.server.planner_queries_per_region,
        ),
    ] {
        if !(1..=max).contains(&value) {
            return Err(ConfigError::new(
                path,
                format!("{key}: must be between 1 and {max} (PostgreSQL's most connections)"),
            ));
        }
    }
    Ok(())
}

/// Round-trips `value` through a TOML tree so that `HMIS_*` variables can replace leaves.
fn with_env<T: Serialize + DeserializeOwned>(
    file: &Path,
    value: T,
    prefix: &str,
    vars: &BTreeMap<String, String>,
) -> Result<T, ConfigError> {
    let mut tree = toml::Table::try_from(&value)
        .map_err(|e| ConfigError::new(file, format!("internal: {e}")))?;
    let used = env::apply(&mut tree, prefix, vars);
    if used.is_empty() {
        return Ok(value);
    }
    tree.try_into().map_err(|e: toml::de::Error| {
        ConfigError::new(file, format!("after {}: {}", used.join(", "), e.message()))
    })
}

/// Reads every rule file and validates the set against the regions.
pub fn load_rules(dir: &Path, regions: &[RegionSettings]) -> Result<RuleSet, ConfigError> {
    let texts = read_rule_files(dir)?;
    let sources: Vec<Source<'_>> = texts
        .iter()
        .map(|(file, text)| Source { file, text })
        .collect();
    RuleSet::build(&sources, &catalog(regions)).map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        ConfigError::new(
            dir,
            format!("invalid routing rules:\n  {}", lines.join("\n  ")),
        )
    })
}

/// The `*.toml` files of `dir`, sorted by name.
fn toml_files(dir: &Path) -> Result<Vec<PathBuf>, ConfigError> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| ConfigError::io(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    Ok(files)
}

/// The rule files' display names and texts, sorted by file name (evaluation order).
pub fn read_rule_files(dir: &Path) -> Result<Vec<(String, String)>, ConfigError> {
    toml_files(dir)?
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(f).map_err(|e| ConfigError::io(f, e))?;
            Ok((f.display().to_string(), text))
        })
        .collect()
}

/// What the rule engine needs to know about the regions.
pub fn catalog(regions: &[RegionSettings]) -> Catalog {
    Catalog {
        regions: regions
            .iter()
            .map(|r| CatalogRegion {
                name: r.name.clone(),
                districts: r.districts.clone(),
            })
            .collect(),
    }
}

/// The regions in `dir`, with `HMIS_REGION_*` overrides (for commands that need no
/// `hmis.toml`, like `hmis rules check`).
pub fn region_files(dir: &Path) -> Result<Vec<RegionSettings>, ConfigError> {
    region::load_dir(dir, &BTreeMap::new(), &env::hmis_vars())
}

/// The region a patient ID names, from the region code inside it.
pub fn region_of_id(regions: &[RegionSettings], id: &str) -> Option<String> {
    let id: crate::domain::PatientId = id.parse().ok()?;
    regions
        .iter()
        .find(|r| r.code == id.region_code())
        .map(|r| r.name.clone())
}

#[cfg(test)]
mod tests;
