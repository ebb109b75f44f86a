//! WebSocket delivery at national size, a small version of benches/ws: subscribers of
//! `region:quthing` (the Quthing nurse's token), changes committed by SQL straight into
//! quthing's database, and for each event the time from the writer's commit returning to
//! its arrival, with events lost and delivered twice.

use super::rw::Ctx;
use futures_util::{SinkExt, StreamExt};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

const SUBSCRIBERS: usize = 100;
const CHANGES: usize = 100;
const INTERVAL: Duration = Duration::from_millis(20);

#[derive(Debug, Clone, serde::Serialize)]
pub struct Delivery {
    pub subscribers: usize,
    pub changes: usize,
    pub expected: usize,
    pub received: usize,
    pub lost: usize,
    pub duplicates: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

pub async fn delivery(ctx: &Ctx<'_>) -> anyhow::Result<Delivery> {
    let patients: Vec<uuid::Uuid> = ctx.ids.iter().take(CHANGES).copied().collect();
    let change_of: HashMap<String, usize> = patients
        .iter()
        .enumerate()
        .map(|(k, id)| (id.to_string(), k))
        .collect();
    let (tx, mut rx) = mpsc::unbounded_channel::<Option<(usize, usize, Instant)>>();
    let url = format!("{}/api/v1/ws", ctx.base.replace("http://", "ws://"));
    let mut sinks = Vec::new();
    for s in 0..SUBSCRIBERS {
        let mut request = url.as_str().into_client_request()?;
        request.headers_mut().insert(
            "authorization",
            format!("Bearer {}", ctx.tokens["nurse.quthing"]).parse()?,
        );
        let (socket, _) = tokio_tungstenite::connect_async(request).await?;
        let (mut sink, mut stream) = socket.split();
        let frame = serde_json::json!({"type": "subscribe", "id": s, "topics": ["region:quthing"]});
        sink.send(Message::Text(frame.to_string().into())).await?;
        let (tx, change_of) = (tx.clone(), change_of.clone());
        tokio::spawn(async move {
            while let Some(Ok(Message::Text(text))) = stream.next().await {
                let at = Instant::now();
                let frame: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
                match frame["type"].as_str() {
                    Some("subscribed") => {
                        let _ = tx.send(None);
                    }
                    Some("event") => {
                        if let Some(&k) =
                            change_of.get(frame["data"]["id"].as_str().unwrap_or_default())
                        {
                            let _ = tx.send(Some((s, k, at)));
                        }
                    }
                    _ => {}
                }
            }
        });
        sinks.push(sink);
    }
    let mut acks = 0;
    let deadline = Instant::now() + Duration::from_secs(30);
    while acks < SUBSCRIBERS {
        match tokio::time::timeout_at(deadline.into(), rx.recv()).await {
            Ok(Some(None)) => acks += 1,
            Ok(Some(Some(_))) => {}
            _ => anyhow::bail!("only {acks} of {SUBSCRIBERS} subscriptions acknowledged"),
        }
    }
    let commits = write(&ctx.region_url("quthing"), &patients).await?;
    let expected = SUBSCRIBERS * patients.len();
    let mut arrivals = Vec::with_capacity(expected);
    // The hub also polls each second: wait that long and more for stragglers.
    let deadline = Instant::now() + Duration::from_secs(5);
    while arrivals.len() < expected {
        match tokio::time::timeout_at(deadline.into(), rx.recv()).await {
            Ok(Some(Some(a))) => arrivals.push(a),
            Ok(Some(None)) => {}
            _ => break,
        }
    }
    drop(sinks);
    Ok(tally(&arrivals, &commits, expected))
}

fn tally(arrivals: &[(usize, usize, Instant)], commits: &[Instant], expected: usize) -> Delivery {
    let (mut seen, mut duplicates, mut ms) = (HashSet::new(), 0, Vec::new());
    for &(s, k, at) in arrivals {
        if !seen.insert((s, k)) {
            duplicates += 1;
            continue;
        }
        // Negative when the event overtook the writer's commit acknowledgement.
        ms.push(match at.checked_duration_since(commits[k]) {
            Some(d) => d.as_secs_f64() * 1e3,
            None => -(commits[k] - at).as_secs_f64() * 1e3,
        });
    }
    ms.sort_by(f64::total_cmp);
    let q = |p: f64| match ms.len() {
        0 => f64::NAN,
        n => ms[((n as f64 * p).ceil() as usize).clamp(1, n) - 1],
    };
    Delivery {
        subscribers: SUBSCRIBERS,
        changes: commits.len(),
        expected,
        received: seen.len(),
        lost: expected - seen.len(),
        duplicates,
        p50_ms: q(0.5),
        p99_ms: q(0.99),
        max_ms: q(1.0),
    }
}

/// Commits one UPDATE of patient k every [`INTERVAL`], stamping when each commit returned.
async fn write(url: &str, patients: &[uuid::Uuid]) -> anyhow::Result<Vec<Instant>> {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(conn);
    let update = client
        .prepare("UPDATE patients SET village = 'Ha Bench ' || $2::int::text, version = version + 1, updated_at = now() WHERE id = $1")
        .await?;
    let mut tick = tokio::time::interval(INTERVAL);
    let mut commits = Vec::with_capacity(patients.len());
    for (k, id) in patients.iter().enumerate() {
        tick.tick().await;
        let n = client.execute(&update, &[id, &(k as i32)]).await?;
        commits.push(Instant::now());
        anyhow::ensure!(n == 1, "patient {id} not updated");
    }
    Ok(commits)
}
