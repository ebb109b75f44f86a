//! `hmis doctor`: checks a deployment's configuration against its databases and says, per
//! check, ok or what is wrong and what to do, for the person on call and for scripts.
//!
//! The settings and rules load with the loaders `hmis serve` uses (their errors name file
//! and line); then the central database and every region's are checked at once, each under
//! a deadline, so that one region that does not answer is reported while the others are
//! still checked (see [`database`]); the clocks are judged together at the end.
//!
//! Exit status: 0 every check passed; 1 some check failed; 2 the settings file or the
//! region files cannot be loaded, so no database could be checked.

mod clock;
mod database;
mod federation;
mod migrations;
mod report;

use crate::config::{self, FileSettings, RegionSettings};
use database::{Kind, Outcome, Target};
use report::{Finding, Status};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct DoctorArgs {
    /// Largest clock difference allowed between this machine and a database, in ms.
    #[arg(long, value_name = "MS", default_value_t = 2000)]
    max_clock_skew_ms: u64,
}

/// How long all the checks of one database may take together.
const DEADLINE: Duration = Duration::from_secs(10);

/// Exit status when the settings cannot be loaded at all.
const CANNOT_LOAD: u8 = 2;

pub async fn run(config: Option<&Path>, args: DoctorArgs) -> anyhow::Result<ExitCode> {
    let named = config.map_or("hmis.toml".to_owned(), |p| p.display().to_string());
    let (file, regions, rules) = match config::load_parts(config) {
        Ok(parts) => parts,
        Err(e) => {
            let fix =
                format!("correct that file; no database was checked (exit status {CANNOT_LOAD})");
            println!(
                "{}",
                Finding::problem("config", "settings", e.to_string(), fix)
            );
            return Ok(ExitCode::from(CANNOT_LOAD));
        }
    };
    let source = match config {
        Some(path) => path.display().to_string(),
        None if Path::new("hmis.toml").exists() => "hmis.toml".to_owned(),
        None => "built-in defaults (no hmis.toml)".to_owned(),
    };
    let mut findings = vec![Finding::ok(
        "config",
        "settings",
        format!(
            "{source}; {} regions in {}/",
            regions.len(),
            file.paths.regions.display()
        ),
    )];
    findings.push(match rules {
        Ok(set) => Finding::ok(
            "config",
            "rules",
            format!(
                "{} rules in {}/, every district placed",
                set.rules().len(),
                file.paths.rules.display()
            ),
        ),
        Err(e) => Finding::problem(
            "config",
            "rules",
            e.to_string(),
            "correct the rule files (`hmis rules check` checks them without databases); \
             `hmis serve` refuses to start until they load",
        ),
    });
    for f in &findings {
        println!("{f}");
    }
    let targets = targets(&file, &regions, &named);
    let outcomes = futures_util::future::join_all(targets.iter().map(within_deadline)).await;
    let mut samples = Vec::new();
    let mut checked = Vec::new();
    for outcome in outcomes {
        checked.extend(outcome.findings);
        samples.extend(outcome.clock);
    }
    let max_skew = i64::try_from(args.max_clock_skew_ms).unwrap_or(i64::MAX);
    checked.extend(clock::judge(&samples, max_skew));
    for f in &checked {
        println!("{f}");
    }
    findings.extend(checked);
    println!("\n{}", report::summary(&findings));
    let failed = findings.iter().any(|f| f.status == Status::Problem);
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The central database, then every region in the order of their files.
fn targets(file: &FileSettings, regions: &[RegionSettings], named: &str) -> Vec<Target> {
    let set_by = |var: &str, otherwise: String| {
        if std::env::var_os(var).is_some() {
            format!("{var} (set in the environment)")
        } else {
            format!("{otherwise} (or {var})")
        }
    };
    let central = Target {
        subject: "central".to_owned(),
        url: file.central.url.clone(),
        url_setting: set_by("HMIS_CENTRAL_URL", format!("central.url in {named}")),
        kind: Kind::Central(regions.to_vec()),
    };
    let regional = regions.iter().map(|r| {
        let var = format!("{}_DATABASE_URL", crate::config::env_prefix(&r.name));
        let otherwise = if file.regions.contains_key(&r.name) {
            format!("database_url of [regions.{}] in {named}", r.name)
        } else {
            let path = file.paths.regions.join(format!("{}.toml", r.name));
            format!("database_url in {}", path.display())
        };
        Target {
            subject: format!("region {}", r.name),
            url: r.database_url.clone(),
            url_setting: set_by(&var, otherwise),
            kind: Kind::Region(r.clone()),
        }
    });
    std::iter::once(central).chain(regional).collect()
}

/// [`database::check`] under [`DEADLINE`], keeping what it found before the deadline.
async fn within_deadline(target: &Target) -> Outcome {
    let out = Mutex::new(Outcome::default());
    let finished = tokio::time::timeout(DEADLINE, database::check(target, &out))
        .await
        .is_ok();
    let mut out = out.into_inner().expect("doctor findings");
    if !finished {
        out.findings.push(Finding::problem(
            &target.subject,
            "deadline",
            format!(
                "its checks did not finish within {} s (those above did)",
                DEADLINE.as_secs()
            ),
            "the database answers too slowly: look at its load and locks \
             (pg_stat_activity), then run `hmis doctor` again",
        ));
    }
    out
}
