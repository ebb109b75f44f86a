//! `hmis rules check` and `hmis rules explain`: the rule engine for operators, with no
//! database and no server, so rules can be checked in CI before they are deployed.

use crate::config;
use crate::routing::Record;
use clap::Subcommand;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Validate the rules against the regions; list every error.
    Check {
        #[arg(long)]
        rules: Option<PathBuf>,
        #[arg(long)]
        regions: Option<PathBuf>,
    },
    /// Show where a record would go, and why each earlier rule did not match.
    Explain {
        #[arg(long, default_value = "patient")]
        entity: String,
        /// A field of the record, as field=value; repeat for several.
        #[arg(long = "set", value_name = "FIELD=VALUE")]
        set: Vec<String>,
        #[arg(long)]
        rules: Option<PathBuf>,
        #[arg(long)]
        regions: Option<PathBuf>,
    },
}

pub fn run(cmd: RulesCommand, config: Option<&Path>) -> anyhow::Result<ExitCode> {
    let paths = config::file_settings(config)?.paths;
    match cmd {
        RulesCommand::Check { rules, regions } => {
            let regions = config::region_files(&regions.unwrap_or(paths.regions))?;
            match config::load_rules(&rules.unwrap_or(paths.rules), &regions) {
                Ok(set) => {
                    println!("ok: {} rules, {} regions", set.rules().len(), regions.len());
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("{e}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        RulesCommand::Explain {
            entity,
            set,
            rules,
            regions,
        } => {
            let regions = config::region_files(&regions.unwrap_or(paths.regions))?;
            let rule_set = config::load_rules(&rules.unwrap_or(paths.rules), &regions)?;
            let mut record = Record::new(entity);
            for pair in set {
                let (k, v) = pair
                    .split_once('=')
                    .ok_or_else(|| anyhow::anyhow!("--set {pair}: write it as field=value"))?;
                record = record.with(k, v);
            }
            let resolve = |_: &str, id: &str| crate::config::region_of_id(&regions, id);
            let explanation = rule_set.explain(&record, &resolve);
            println!("{explanation}");
            Ok(if explanation.outcome.is_ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}
