//! The national-scale benchmark (issue 14): hmis against PostgreSQL straight, at the size
//! of a country, in one run. It starts a durable cluster per region and a central one,
//! seeds a million patients into each of three regions (and a thousand into leribe, the
//! small region that creates are compared with) by COPY, starts the release `hmis serve`
//! as a child, and measures at several concurrencies: reads by ID, creates, cross-region
//! pages, searches and statistics, each beside what PostgreSQL does with the same work
//! directly; then WebSocket delivery; and hmis's memory after each scenario.
//!
//! Run: `cargo bench --bench national` (`-- --help` for the options). Writes a markdown
//! table to stdout and target/national-bench.md, raw numbers to target/national-bench.json.

#[path = "../common/mod.rs"]
mod common;

mod cluster;
mod lists;
mod load;
mod people;
mod report;
mod rw;
mod seed;
mod ws;

use report::{Cell, Report};
use std::path::PathBuf;
use std::time::Duration;

const HELP: &str = "cargo bench --bench national -- [options]
  --patients N        patients in each of quthing, maseru, mafeteng (default 1000000; leribe gets 1000)
  --concurrency LIST  closed-loop clients per cell, comma-separated (default 8,32,128)
  --seconds S         measured seconds per cell, after a 1 s warm-up (default 5)
  --only LIST         scenarios to run: reads,creates,first_page,deep_page,search,stats,ws (default all)
  --keep              leave the clusters running and on disk (for EXPLAIN); prints their ports
  --reuse DIR         use the clusters in DIR (made by --keep), seeding only if never seeded";

pub struct Args {
    pub patients: usize,
    pub concurrency: Vec<usize>,
    pub seconds: u64,
    pub only: Vec<String>,
    pub keep: bool,
    pub reuse: Option<PathBuf>,
}

impl Args {
    pub fn runs(&self, scenario: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|s| s == scenario)
    }

    pub fn warm(&self) -> Duration {
        Duration::from_secs(1)
    }

    pub fn time(&self) -> Duration {
        Duration::from_secs(self.seconds)
    }
}

fn args() -> anyhow::Result<Option<Args>> {
    let mut a = Args {
        patients: 1_000_000,
        concurrency: vec![8, 32, 128],
        seconds: 5,
        only: Vec::new(),
        keep: false,
        reuse: None,
    };
    let list = |v: &str| -> Vec<String> {
        v.split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    };
    let mut argv = std::env::args().skip(1);
    while let Some(flag) = argv.next() {
        let mut value = || {
            argv.next()
                .ok_or_else(|| anyhow::anyhow!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--help" | "-h" => return Ok(None),
            "--patients" => a.patients = value()?.replace('_', "").parse()?,
            "--concurrency" => {
                a.concurrency = list(&value()?)
                    .iter()
                    .map(|c| c.parse())
                    .collect::<Result<_, _>>()?
            }
            "--seconds" => a.seconds = value()?.parse()?,
            "--only" => a.only = list(&value()?),
            "--keep" => a.keep = true,
            "--reuse" => a.reuse = Some(PathBuf::from(value()?)),
            // `cargo bench` passes `--bench` to every bench binary.
            "--bench" => {}
            other => anyhow::bail!("unknown option {other}\n{HELP}"),
        }
    }
    Ok(Some(a))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let Some(args) = args()? else {
        println!("{HELP}");
        return Ok(());
    };
    let reused = args.reuse.is_some();
    let dir = args.reuse.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("hmis-national-{}", std::process::id()))
    });
    let keep = args.keep || reused;
    let env = match cluster::prepare(dir.clone(), args.patients, !keep).await {
        Ok(env) => env,
        Err(e) => {
            if !keep {
                let _ = std::fs::remove_dir_all(&dir);
            }
            return Err(e);
        }
    };
    let result = run(&env, &args).await;
    if keep {
        println!(
            "\nclusters kept in {} (user hmis, password bench):",
            dir.display()
        );
        for (name, c) in &env.clusters {
            println!("  {name}: psql {}", c.url(&format!("hmis_{name}")));
        }
        println!(
            "re-run with: cargo bench --bench national -- --reuse {}",
            dir.display()
        );
    } else {
        env.stop();
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

async fn run(env: &cluster::Env, args: &Args) -> anyhow::Result<()> {
    let mut report = Report::new(args, env).await?;
    let port = hmis::pgcluster::free_port()?;
    let url = |db: &str| env.url(db);
    let server = Server(common::serve(&url, port)?);
    let base = format!("http://127.0.0.1:{port}");
    common::wait_ready(&base).await?;
    let ctx = rw::Ctx::new(env, args, &base).await?;
    let pid = server.0.id();
    report.memory("started", pid)?;
    if args.runs("reads") {
        report.add(rw::reads(&ctx).await?);
        report.memory("reads", pid)?;
    }
    if args.runs("creates") {
        report.add(rw::creates(&ctx).await?);
        report.memory("creates", pid)?;
    }
    for scenario in ["first_page", "deep_page", "search", "stats"] {
        if args.runs(scenario) {
            report.add(lists::scenario(&ctx, scenario).await?);
            report.memory(scenario, pid)?;
        }
    }
    if args.runs("ws") {
        report.ws = Some(ws::delivery(&ctx).await?);
        report.memory("ws", pid)?;
    }
    drop(server);
    report.write()?;
    Ok(())
}

/// `hmis serve`, killed however the run ends.
struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The cells of one scenario at one concurrency: hmis's, then the direct sides', with
/// the ratio on hmis's row (hmis's throughput over the direct one named `against`).
pub fn compare(
    scenario: &str,
    concurrency: usize,
    hmis: load::Measured,
    direct: Vec<(String, load::Measured)>,
    against: usize,
) -> Vec<Cell> {
    let ratio = direct
        .get(against)
        .map(|(_, d)| hmis.throughput / d.throughput);
    let mut cells = vec![Cell::new(scenario, concurrency, "hmis", hmis, ratio)];
    cells.extend(
        direct
            .into_iter()
            .map(|(side, m)| Cell::new(scenario, concurrency, &side, m, None)),
    );
    cells
}
