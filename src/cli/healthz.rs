//! `hmis healthz`: asks a running hmis for `GET /healthz` and exits 0 when it answers 2xx,
//! 1 otherwise. It is the container image's `HEALTHCHECK`: the runtime image carries no
//! curl or wget, and the binary that serves is the one that knows where it listens.
//!
//! The timeout is short and covers connecting and the whole answer, so a process that
//! accepts connections but never answers is reported unhealthy instead of hanging the
//! check. Proxies from the environment are ignored: the check is about this host's hmis.

use anyhow::Context;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct HealthzArgs {
    /// The running hmis; `/healthz` is asked of it.
    #[arg(long, env = "HMIS_URL", default_value = "http://127.0.0.1:8000")]
    url: String,
    /// How long to wait for the answer, connecting included, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 2000)]
    timeout_ms: u64,
}

pub async fn run(args: HealthzArgs) -> anyhow::Result<ExitCode> {
    let url = format!("{}/healthz", args.url.trim_end_matches('/'));
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_millis(args.timeout_ms))
        .build()
        .context("cannot build the HTTP client")?;
    match client.get(&url).send().await {
        Ok(response) if response.status().is_success() => {
            println!("{url}: {}", response.status());
            Ok(ExitCode::SUCCESS)
        }
        Ok(response) => {
            eprintln!("{url}: unhealthy: {}", response.status());
            Ok(ExitCode::FAILURE)
        }
        Err(e) if e.is_timeout() => {
            eprintln!("{url}: unhealthy: no answer within {} ms", args.timeout_ms);
            Ok(ExitCode::FAILURE)
        }
        Err(e) => {
            // reqwest's top-level message is "error sending request"; the cause says why.
            let cause = std::error::Error::source(&e).map_or(e.to_string(), |c| c.to_string());
            eprintln!("{url}: unhealthy: {cause}");
            Ok(ExitCode::FAILURE)
        }
    }
}
