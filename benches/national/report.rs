//! The bench's answer: a markdown table (stdout and target/national-bench.md) and the raw
//! numbers (target/national-bench.json), both with the machine, the date, the PostgreSQL
//! version and the exact command, so that a figure can be traced to its run.

use super::Args;
use super::cluster::Env;
use super::load::Measured;
use super::ws::Delivery;
use serde::Serialize;
use std::fmt::Write;

#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    pub scenario: String,
    pub concurrency: usize,
    pub side: String,
    #[serde(flatten)]
    pub measured: Measured,
    /// hmis's throughput over the direct side it is compared with (hmis's rows only).
    pub ratio: Option<f64>,
}

impl Cell {
    pub fn new(
        scenario: &str,
        concurrency: usize,
        side: &str,
        measured: Measured,
        ratio: Option<f64>,
    ) -> Cell {
        Cell {
            scenario: scenario.to_owned(),
            concurrency,
            side: side.to_owned(),
            measured,
            ratio,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Memory {
    pub after: String,
    pub vm_hwm_kib: u64,
    pub vm_rss_kib: u64,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub command: String,
    pub date: String,
    pub machine: String,
    pub postgres: String,
    pub patients_per_region: std::collections::BTreeMap<String, i64>,
    pub seeding: Option<String>,
    pub cells: Vec<Cell>,
    pub memory: Vec<Memory>,
    pub ws: Option<Delivery>,
}

fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name")?.split(':').nth(1))
        .unwrap_or("?")
        .trim()
        .to_owned();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let kib: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    format!(
        "{cores} cores ({model}), {:.1} GiB RAM",
        kib as f64 / 1048576.0
    )
}

impl Report {
    pub async fn new(args: &Args, env: &Env) -> anyhow::Result<Report> {
        let _ = args;
        let (client, conn) =
            tokio_postgres::connect(&env.url("hmis_central"), tokio_postgres::NoTls).await?;
        tokio::spawn(conn);
        let postgres: String = client.query_one("SELECT version()", &[]).await?.get(0);
        let argv: Vec<String> = std::env::args()
            .skip(1)
            .filter(|a| a != "--bench")
            .collect();
        Ok(Report {
            command: format!("cargo bench --bench national -- {}", argv.join(" "))
                .trim_end()
                .to_owned(),
            date: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
            machine: machine(),
            postgres,
            patients_per_region: env.sizes.clone(),
            seeding: env.seed_report.clone(),
            cells: Vec::new(),
            memory: Vec::new(),
            ws: None,
        })
    }

    pub fn add(&mut self, cells: Vec<Cell>) {
        for c in &cells {
            eprintln!(
                "{} c={} {}: {:.0}/s p50 {:.2} ms p99 {:.2} ms{}{}",
                c.scenario,
                c.concurrency,
                c.side,
                c.measured.throughput,
                c.measured.p50_ms,
                c.measured.p99_ms,
                c.ratio.map_or(String::new(), |r| format!(" ratio {r:.2}")),
                errors(&c.measured)
            );
        }
        self.cells.extend(cells);
    }

    /// hmis's peak and current resident memory, after a scenario.
    pub fn memory(&mut self, after: &str, pid: u32) -> anyhow::Result<()> {
        self.memory.push(Memory {
            after: after.to_owned(),
            vm_hwm_kib: super::common::proc_kib(pid, "VmHWM")?,
            vm_rss_kib: super::common::proc_kib(pid, "VmRSS")?,
        });
        Ok(())
    }

    pub fn markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "# hmis national bench\n\n`{}`\n", self.command);
        let _ = writeln!(
            s,
            "- date: {}\n- machine: {}\n- PostgreSQL: {}",
            self.date, self.machine, self.postgres
        );
        let sizes: Vec<String> = self
            .patients_per_region
            .iter()
            .map(|(r, n)| format!("{r} {n}"))
            .collect();
        let _ = writeln!(
            s,
            "- patients per region at the start: {}",
            sizes.join(", ")
        );
        let _ = writeln!(
            s,
            "- seeding: {}\n",
            self.seeding
                .as_deref()
                .unwrap_or("reused (not seeded in this run)")
        );
        let _ = writeln!(
            s,
            "| scenario | clients | side | requests | not ok | per s | p50 ms | p99 ms | hmis / direct |"
        );
        let _ = writeln!(s, "|---|---:|---|---:|---|---:|---:|---:|---:|");
        for c in &self.cells {
            // The other big shards are in the JSON; the table shows the slowest.
            if c.side.starts_with("direct ") && !c.side.ends_with("(slowest)") {
                continue;
            }
            let m = &c.measured;
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {:.0} | {:.2} | {:.2} | {} |",
                c.scenario,
                c.concurrency,
                c.side,
                m.requests,
                if m.errors.is_empty() {
                    "0".into()
                } else {
                    errors(m).trim().to_owned()
                },
                m.throughput,
                m.p50_ms,
                m.p99_ms,
                c.ratio.map_or(String::new(), |r| format!("{r:.2}"))
            );
        }
        self.growth(&mut s);
        if !self.memory.is_empty() {
            let _ = writeln!(
                s,
                "\n| hmis memory after | VmHWM MiB | VmRSS MiB |\n|---|---:|---:|"
            );
            for m in &self.memory {
                let _ = writeln!(
                    s,
                    "| {} | {:.1} | {:.1} |",
                    m.after,
                    m.vm_hwm_kib as f64 / 1024.0,
                    m.vm_rss_kib as f64 / 1024.0
                );
            }
        }
        if let Some(w) = &self.ws {
            let _ = writeln!(
                s,
                "\nWebSocket: {} subscribers of region:quthing, {} commits by SQL: expected {} / received {} / lost {} / duplicates {}; commit to arrival p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
                w.subscribers,
                w.changes,
                w.expected,
                w.received,
                w.lost,
                w.duplicates,
                w.p50_ms,
                w.p99_ms,
                w.max_ms
            );
        }
        s
    }

    /// Create throughput in the big region over the small one, per concurrency and side.
    fn growth(&self, s: &mut String) {
        let of = |big: bool, c: usize, side: &str| {
            self.cells
                .iter()
                .find(|x| {
                    x.concurrency == c
                        && x.side == side
                        && x.scenario.starts_with("create in")
                        && x.scenario.contains("quthing") == big
                })
                .map(|x| x.measured.throughput)
        };
        let mut lines = Vec::new();
        for c in self
            .cells
            .iter()
            .filter(|x| x.scenario.starts_with("create in"))
            .map(|x| x.concurrency)
        {
            if lines.iter().any(|(k, _)| *k == c) {
                continue;
            }
            let ratio = |side| Some(of(true, c, side)? / of(false, c, side)?);
            lines.push((c, (ratio("hmis"), ratio("direct"))));
        }
        if lines.is_empty() {
            return;
        }
        let _ = writeln!(
            s,
            "\n| creates: quthing / leribe throughput | clients | hmis | direct |\n|---|---:|---:|---:|"
        );
        let f = |r: Option<f64>| r.map_or("-".into(), |r| format!("{r:.2}"));
        for (c, (h, d)) in lines {
            let _ = writeln!(s, "| growth | {c} | {} | {} |", f(h), f(d));
        }
    }

    pub fn write(&self) -> anyhow::Result<()> {
        let md = self.markdown();
        println!("{md}");
        let target = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
        std::fs::write(target.join("national-bench.md"), &md)?;
        std::fs::write(
            target.join("national-bench.json"),
            serde_json::to_string_pretty(self)?,
        )?;
        eprintln!("wrote target/national-bench.md and target/national-bench.json");
        Ok(())
    }
}

fn errors(m: &Measured) -> String {
    m.errors
        .iter()
        .map(|(k, n)| format!(" {k}: {n}"))
        .collect::<Vec<_>>()
        .join(",")
}
