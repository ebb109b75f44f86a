//! The WebSocket bench's arithmetic: hmis's resident memory and the figures it reports
//! (the setup it shares with `read_by_id` is `benches/common`).

use std::time::Instant;

/// A process's resident memory, from the kernel (`VmRSS`, in KiB).
pub fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no VmRSS for {pid}"))
}

#[derive(Debug, Default)]
pub struct Figures {
    pub connections: usize,
    pub subscribers: usize,
    pub changes: usize,
    pub open_files_limit: u64,
    pub opened: usize,
    pub open_seconds: f64,
    pub closed: usize,
    pub server_fds: usize,
    pub rss_before_kib: u64,
    pub rss_idle_kib: u64,
    pub rss_subscribed_kib: u64,
    pub rss_end_kib: u64,
    pub expected: usize,
    pub received: usize,
    pub lost: usize,
    pub duplicates: usize,
    /// Arrival minus commit, ms, sorted.
    latencies_ms: Vec<f64>,
}

impl Figures {
    pub fn new(connections: usize, subscribers: usize, changes: usize, nofile: u64) -> Self {
        Figures {
            connections,
            subscribers,
            changes,
            open_files_limit: nofile,
            ..Default::default()
        }
    }

    /// Matches every arrival (subscriber, change, when) to its change's commit.
    pub fn tally(
        &mut self,
        arrivals: &[(usize, usize, Instant)],
        commits: &[Instant],
        expected: usize,
    ) {
        let mut seen = std::collections::HashSet::new();
        for &(s, k, at) in arrivals {
            if !seen.insert((s, k)) {
                self.duplicates += 1;
                continue;
            }
            let ms = match at.checked_duration_since(commits[k]) {
                Some(d) => d.as_secs_f64() * 1e3,
                // The event overtook the writer's commit acknowledgement.
                None => -(commits[k] - at).as_secs_f64() * 1e3,
            };
            self.latencies_ms.push(ms);
        }
        self.latencies_ms.sort_by(f64::total_cmp);
        self.expected = expected;
        self.received = seen.len();
        self.lost = expected - seen.len();
    }

    fn quantile(&self, q: f64) -> f64 {
        let n = self.latencies_ms.len();
        if n == 0 {
            return f64::NAN;
        }
        self.latencies_ms[((n as f64 * q).ceil() as usize).clamp(1, n) - 1]
    }

    /// hmis's memory per idle socket: the growth while opening them, per socket.
    fn per_socket_kib(&self, after: u64) -> f64 {
        after.saturating_sub(self.rss_before_kib) as f64 / self.opened.max(1) as f64
    }

    pub fn print(&self) {
        let held = self.opened - self.closed;
        println!("| figure | value |\n|---|---|");
        println!(
            "| idle sockets asked / opened / still open at the end | {} / {} / {held} |",
            self.connections, self.opened
        );
        println!("| time to open them | {:.1} s |", self.open_seconds);
        println!(
            "| hmis open files with them open (limit {}) | {} |",
            self.open_files_limit, self.server_fds
        );
        println!(
            "| hmis RSS before / idle sockets open | {} / {} KiB |",
            self.rss_before_kib, self.rss_idle_kib
        );
        println!(
            "| hmis memory per idle socket | {:.1} KiB |",
            self.per_socket_kib(self.rss_idle_kib)
        );
        println!(
            "| hmis RSS with {} subscribed / after the changes | {} / {} KiB |",
            self.subscribers, self.rss_subscribed_kib, self.rss_end_kib
        );
        println!(
            "| changes x subscribers: expected / received / lost / duplicates | {} / {} / {} / {} |",
            self.expected, self.received, self.lost, self.duplicates
        );
        println!(
            "| commit to arrival p50 / p90 / p99 / max | {:.1} / {:.1} / {:.1} / {:.1} ms |",
            self.quantile(0.5),
            self.quantile(0.9),
            self.quantile(0.99),
            self.quantile(1.0)
        );
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "connections": self.connections, "subscribers": self.subscribers,
            "changes": self.changes, "open_files_limit": self.open_files_limit,
            "opened": self.opened, "closed": self.closed, "open_seconds": self.open_seconds,
            "server_fds": self.server_fds,
            "rss_kib": {"before": self.rss_before_kib, "idle": self.rss_idle_kib,
                        "subscribed": self.rss_subscribed_kib, "end": self.rss_end_kib},
            "per_idle_socket_kib": self.per_socket_kib(self.rss_idle_kib),
            "expected": self.expected, "received": self.received, "lost": self.lost,
            "duplicates": self.duplicates,
            "latency_ms": {"p50": self.quantile(0.5), "p90": self.quantile(0.9),
                           "p99": self.quantile(0.99), "max": self.quantile(1.0),
                           "all_sorted": self.latencies_ms},
        })
    }
}
