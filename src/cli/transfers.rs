//! `hmis transfers [--resume]`: the operator's view of patient transfers that have not
//! finished (a region was down, hmis was stopped mid-way), and a way to finish them now
//! rather than wait for a running hmis to retry.

use super::connect;
use crate::app::App;
use crate::config::Settings;
use std::process::ExitCode;

pub async fn run(settings: Settings, resume: bool) -> anyhow::Result<ExitCode> {
    connect::check(connect::CENTRAL, &settings.file.central.url).await?;
    if resume {
        // A region that is down leaves its transfers unfinished (listed below with their
        // error); say which one it is before waiting on it.
        for r in &settings.regions {
            if let Err(e) = connect::check(&connect::region(&r.name), &r.database_url).await {
                eprintln!("warning: {e}");
            }
        }
    }
    let app = App::new(settings).await?;
    if resume {
        let left = crate::transfer::resume_all(&app.transfers()).await;
        println!("resumed; {left} still unfinished");
    }
    let pending = crate::transfer::journal::unfinished(&app.central).await?;
    if pending.is_empty() {
        println!("no unfinished transfer");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<36}  {:<36}  {:<22}  {:<8}  last error",
        "transfer", "patient", "from -> to", "state"
    );
    for pending in &pending {
        match pending {
            Ok(t) => {
                let route = format!("{} -> {}", t.from_region, t.to_region);
                let error = t.last_error.as_deref().unwrap_or("-");
                println!(
                    "{:<36}  {:<36}  {route:<22}  {:<8}  {error}",
                    t.id, t.patient_id, t.state
                );
            }
            // Listed, so that the operator sees it, though this hmis will not drive it.
            Err(u) => println!(
                "{:<36}  {:<36}  {:<22}  {:<8}  {}",
                u.id, u.patient_id, "?", u.state.0, u.state
            ),
        }
    }
    Ok(ExitCode::from(2))
}
