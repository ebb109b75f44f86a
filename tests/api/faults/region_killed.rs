//! A region's PostgreSQL killed with SIGKILL while reads and creates run against every
//! region. `regions_down.rs` takes a quiet region down with `pg_ctl -m immediate` and asks
//! one request at a time; this one kills every process of the server under load, counts
//! every answer, and times the recovery from the restart.

use super::{ANSWER_BOUND, bounded_bearer, restart, sigkill_cluster};
use crate::helpers::{PASSWORD, launch, patient, project_databases, region_on_own_cluster};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Each region with a district it places in.
const REGIONS: [(&str, &str); 4] = [
    ("maseru", "Berea"),
    ("quthing", "Quthing"),
    ("leribe", "Leribe"),
    ("mafeteng", "Mafeteng"),
];
const KILLED: &str = "maseru";
const WORKERS: usize = 8;

/// One answer of the load.
struct Answer {
    region: &'static str,
    sent: Instant,
    took: Duration,
    /// 0: no answer within the client's bound.
    status: u16,
    problem_json: bool,
    problem_region: Option<String>,
}

#[tokio::test]
async fn a_region_killed_with_sigkill_under_load_fails_fast_while_the_others_all_succeed_and_serves_within_five_seconds_of_its_restart()
 {
    let mut settings = project_databases().await;
    // Room for the load on a loaded 2-core machine: no request of a live region waits for
    // a pooled connection, and one slowed by other builds is not taken for an outage. The
    // dead region's answers do not depend on it: its connections are refused at once.
    settings.file.server.shard_timeout_ms = 3000;
    for r in &mut settings.regions {
        r.pool_size = WORKERS + 2;
    }
    let cluster = region_on_own_cluster(&mut settings, KILLED).await;
    let app = launch(settings).await;
    let token = app.login("admin", PASSWORD).await;
    let client = bounded_bearer(&token);
    let mut ids = Vec::new();
    for (region, district) in REGIONS {
        let created = app.create_patient(&patient(district)).await;
        assert_eq!(created["region"], region);
        ids.push(created["id"].as_str().unwrap().to_owned());
    }
    let ids = Arc::new(ids);
    let answers = Arc::new(Mutex::new(Vec::<Answer>::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut workers = Vec::new();
    for w in 0..WORKERS {
        let (client, url, ids) = (client.clone(), app.url(""), ids.clone());
        let (answers, stop) = (answers.clone(), stop.clone());
        workers.push(tokio::spawn(async move {
            let mut n = w;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let (region, district) = REGIONS[n % REGIONS.len()];
                // Every other round a create, else a read of that region's patient.
                let request = if (n / REGIONS.len()).is_multiple_of(2) {
                    client
                        .post(format!("{url}/api/v1/patients"))
                        .json(&patient(district))
                } else {
                    client.get(format!("{url}/api/v1/patients/{}", ids[n % REGIONS.len()]))
                };
                let sent = Instant::now();
                let answer = match request.send().await {
                    Ok(r) => {
                        let status = r.status().as_u16();
                        let problem_json = r
                            .headers()
                            .get("content-type")
                            .is_some_and(|v| v == "application/problem+json");
                        let body: serde_json::Value = r.json().await.unwrap_or_default();
                        let problem_region = body["region"].as_str().map(str::to_owned);
                        (status, problem_json, problem_region)
                    }
                    Err(_) => (0, false, None),
                };
                answers.lock().unwrap().push(Answer {
                    region,
                    sent,
                    took: sent.elapsed(),
                    status: answer.0,
                    problem_json: answer.1,
                    problem_region: answer.2,
                });
                n += WORKERS;
            }
        }));
    }

    tokio::time::sleep(Duration::from_millis(800)).await;
    let killing = Instant::now();
    let cluster = tokio::task::spawn_blocking(move || {
        sigkill_cluster(&cluster);
        cluster
    })
    .await
    .unwrap();
    let killed = Instant::now();
    // Down for at least a second and until the dead region has answered a few requests
    // (few come when other builds load the machine), at most ten.
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let answered = answers
            .lock()
            .unwrap()
            .iter()
            .filter(|a| a.region == KILLED && a.sent >= killed)
            .count();
        let long = killed.elapsed();
        if (answered >= 10 && long >= Duration::from_secs(1)) || long >= Duration::from_secs(10) {
            break;
        }
    }
    let restarting = Instant::now();
    let cluster = restart(cluster).await;
    let restarted = Instant::now();
    // The first read and the first create of the killed region that succeed after it is back.
    let maseru_id = ids[0].clone();
    let (mut read_back, mut create_back) = (None, None);
    while read_back.is_none() || create_back.is_none() {
        assert!(
            restarted.elapsed() < Duration::from_secs(10),
            "{KILLED} did not serve again"
        );
        if read_back.is_none() {
            let url = app.url(&format!("/api/v1/patients/{maseru_id}"));
            if client
                .get(url)
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
            {
                read_back = Some(restarted.elapsed());
            }
        }
        if create_back.is_none() {
            let url = app.url("/api/v1/patients");
            let sent = client.post(url).json(&patient("Berea")).send().await;
            if sent.is_ok_and(|r| r.status() == 201) {
                create_back = Some(restarted.elapsed());
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for w in workers {
        w.await.unwrap();
    }
    cluster.stop().unwrap();

    let answers = answers.lock().unwrap();
    let others: Vec<&Answer> = answers.iter().filter(|a| a.region != KILLED).collect();
    let failed: Vec<(u16, &str)> = others
        .iter()
        .filter(|a| !(200..300).contains(&a.status))
        .map(|a| (a.status, a.region))
        .collect();
    assert!(
        failed.is_empty(),
        "every request to another region succeeds; failed: {failed:?}"
    );
    // While it was down: sent after the kill, answered before the restart began.
    let down: Vec<&Answer> = answers
        .iter()
        .filter(|a| a.region == KILLED && a.sent >= killed && a.sent + a.took <= restarting)
        .collect();
    // A few suffice; on a machine loaded by other builds there may be no more.
    assert!(
        down.len() >= 3,
        "only {} requests hit the dead region",
        down.len()
    );
    for a in &down {
        assert_eq!(a.status, 503, "the dead region's answer");
        assert!(a.problem_json, "503 as problem+json");
        assert_eq!(a.problem_region.as_deref(), Some(KILLED));
    }
    let slowest = answers.iter().map(|a| a.took).max().unwrap();
    let slowest_down = down.iter().map(|a| a.took).max().unwrap();
    assert!(slowest < ANSWER_BOUND, "an answer took {slowest:?}");
    let (read_back, create_back) = (read_back.unwrap(), create_back.unwrap());
    assert!(
        read_back < Duration::from_secs(5),
        "read back after {read_back:?}"
    );
    assert!(
        create_back < Duration::from_secs(5),
        "create back after {create_back:?}"
    );
    eprintln!(
        "faults::region_killed: {} answers from the other regions, all 2xx; {} from {KILLED} while \
         down, all 503 (slowest {slowest_down:?}); slowest answer overall {slowest:?}; kill took \
         {:?}; restart took {:?}; serving again {read_back:?} (read) and {create_back:?} (create) \
         after the restart",
        others.len(),
        down.len(),
        killed - killing,
        restarted - restarting,
    );
}
