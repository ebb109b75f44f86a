//! `regions/<name>.toml`: one file per region, naming its database and the districts it
//! serves. The file name and `name` must agree so that an operator finds a region's file
//! from the name in any log line.

use super::{ConfigError, DatabaseUrl};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// One region: a shard of patient data.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RegionSettings {
    /// Lower-case identifier used in URLs, rules and logs (`quthing`).
    pub name: String,
    /// Name shown to people (`Quthing`).
    pub display_name: String,
    /// Stable number embedded in every patient ID created here, and the first two digits
    /// of its health record numbers (1 to 99, unique).
    pub code: u16,
    /// Districts whose patients live in this region, spelled as clinics write them.
    pub districts: Vec<String>,
    /// IANA time zone used for local dates (today's date for an estimated age, answers).
    #[serde(default = "default_time_zone")]
    pub time_zone: String,
    /// Where the region's database is.
    pub database_url: DatabaseUrl,
    /// Connections kept open to it by each hmis process. Default 16.
    #[serde(default = "default_pool_size")]
    pub pool_size: usize,
}

/// `[regions.<name>]` in `hmis.toml`: what it may change in that region's file.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RegionOverride {
    /// Replaces the region file's `database_url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<DatabaseUrl>,
}

fn default_time_zone() -> String {
    "Africa/Maseru".to_owned()
}

/// PostgreSQL's own ceiling on `max_connections`.
pub(super) const MAX_POOL_SIZE: usize = 262_143;

fn default_pool_size() -> usize {
    16
}

impl RegionSettings {
    /// The parsed time zone (validated at load, so this cannot fail afterwards).
    pub fn tz(&self) -> chrono_tz::Tz {
        self.time_zone.parse().unwrap_or(chrono_tz::Africa::Maseru)
    }
}

/// Loads every `*.toml` in `dir`, sorted by file name, applying `overrides` (from
/// `hmis.toml`), then `HMIS_REGION_<NAME>_*` (the environment wins, as everywhere).
pub fn load_dir(
    dir: &Path,
    overrides: &BTreeMap<String, RegionOverride>,
    vars: &BTreeMap<String, String>,
) -> Result<Vec<RegionSettings>, ConfigError> {
    let files = super::toml_files(dir)?;
    if files.is_empty() {
        return Err(ConfigError::new(dir, "no region files (*.toml) found"));
    }
    let regions = files
        .iter()
        .map(|f| load_file(f, overrides, vars))
        .collect::<Result<Vec<_>, _>>()?;
    check_unique(dir, &regions)?;
    Ok(regions)
}

fn load_file(
    file: &Path,
    overrides: &BTreeMap<String, RegionOverride>,
    vars: &BTreeMap<String, String>,
) -> Result<RegionSettings, ConfigError> {
    let text = std::fs::read_to_string(file).map_err(|e| ConfigError::io(file, e))?;
    let mut region: RegionSettings =
        toml::from_str(&text).map_err(|e| ConfigError::toml(file, &e))?;
    if let Some(url) = overrides
        .get(&region.name)
        .and_then(|o| o.database_url.clone())
    {
        region.database_url = url;
    }
    let prefix = env_prefix(&region.name);
    let region: RegionSettings = super::with_env(file, region, &prefix, vars)?;
    validate(file, &region)?;
    Ok(region)
}

fn validate(file: &Path, r: &RegionSettings) -> Result<(), ConfigError> {
    let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    let fail = |msg: String| Err(ConfigError::new(file, msg));
    if r.name != stem {
        return fail(format!(
            "name \"{}\" must match the file name \"{stem}\"",
            r.name
        ));
    }
    if !r
        .name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c == '-' || c.is_ascii_digit())
    {
        return fail(format!(
            "name \"{}\": use lower-case letters, digits and -",
            r.name
        ));
    }
    if !(1..=99).contains(&r.code) {
        return fail(
            "code: must be between 1 and 99 (it is the first two digits of health record numbers)"
                .into(),
        );
    }
    if r.districts.is_empty() {
        return fail("districts: a region serves at least one district".into());
    }
    if r.time_zone.parse::<chrono_tz::Tz>().is_err() {
        return fail(format!(
            "time_zone: \"{}\" is not an IANA time zone",
            r.time_zone
        ));
    }
    // The pool allocates a slot per connection up front: a size no database could serve
    // would abort hmis at startup instead of being refused here, naming the key.
    if !(1..=MAX_POOL_SIZE).contains(&r.pool_size) {
        return fail(format!(
            "pool_size: must be between 1 and {MAX_POOL_SIZE} (PostgreSQL's most connections)"
        ));
    }
    Ok(())
}

/// A `[regions.<name>]` table for a region that has no file is a typo or a stale file:
/// refused, like any unknown key, rather than silently ignored.
pub fn check_overrides(
    file: &Path,
    overrides: &BTreeMap<String, RegionOverride>,
    regions: &[RegionSettings],
) -> Result<(), ConfigError> {
    match overrides
        .keys()
        .find(|name| !regions.iter().any(|r| &r.name == *name))
    {
        None => Ok(()),
        Some(name) => {
            let known: Vec<&str> = regions.iter().map(|r| r.name.as_str()).collect();
            Err(ConfigError::new(
                file,
                format!(
                    "[regions.{name}]: no region named {name} (regions: {})",
                    known.join(", ")
                ),
            ))
        }
    }
}

fn check_unique(dir: &Path, regions: &[RegionSettings]) -> Result<(), ConfigError> {
    let mut codes = BTreeMap::new();
    for r in regions {
        if let Some(other) = codes.insert(r.code, &r.name) {
            return Err(ConfigError::new(
                dir,
                format!("regions {other} and {} both use code {}", r.name, r.code),
            ));
        }
    }
    Ok(())
}

/// The prefix of the environment variables that override a region's settings, before
/// `_` and the key: `HMIS_REGION_QUTHING` for `HMIS_REGION_QUTHING_DATABASE_URL`.
pub fn env_prefix(region: &str) -> String {
    format!("HMIS_REGION_{}", region.to_uppercase().replace('-', "_"))
}
