//! Waking this process's readers when a region's log has news: one task per shard LISTENs
//! on `hmis_changes` over a dedicated connection (a pooled one would lose its LISTEN when
//! recycled) and broadcasts the region's name. A notification is only a hint: readers read
//! from their marks, so a NOTIFY missed while the connection was down loses nothing, as
//! long as everyone re-reads once it is back; so every (re)connection wakes everyone.

use crate::domain::notify::{self, CHANGES_CHANNEL, Note};
use crate::shards::Shard;
use futures_util::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;
use tokio_postgres::AsyncMessage;

/// "Region X has news": read its log from your mark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct News {
    pub region: Arc<str>,
}

/// The listeners of every shard; dropping it stops them.
pub struct Wake {
    news: broadcast::Sender<News>,
    tasks: Vec<JoinHandle<()>>,
}

/// Wake-ups waiting for a slow reader; beyond it the reader gets `Lagged` and should
/// re-read every region (news only ever means "read").
const BACKLOG: usize = 1024;
/// Reconnection waits double from the first to the last.
const RETRY_FIRST: Duration = Duration::from_millis(200);
const RETRY_LAST: Duration = Duration::from_secs(5);

impl Wake {
    /// Starts a listener per shard. Nothing waits for them to connect: a region that is
    /// down is listened to once it is up (and its readers woken then).
    pub fn spawn<'a>(shards: impl IntoIterator<Item = &'a Shard>) -> Wake {
        let (news, _) = broadcast::channel(BACKLOG);
        let tasks = shards
            .into_iter()
            .map(|shard| {
                let region: Arc<str> = shard.name().into();
                let url = shard.settings.database_url.expose().to_owned();
                tokio::spawn(listen_forever(region, url, news.clone()))
            })
            .collect();
        Wake { news, tasks }
    }

    /// Wake-ups from now on, of every region.
    pub fn subscribe(&self) -> broadcast::Receiver<News> {
        self.news.subscribe()
    }
}

/// Waits until `region` has news or `poll` has passed (a missed wake-up then costs no more
/// than a poll); `false` once the waker has stopped (hmis is shutting down). A reader
/// that lagged behind the broadcast is woken: it re-reads from its mark anyway.
pub async fn news_or_poll(
    news: &mut broadcast::Receiver<News>,
    region: &str,
    poll: Duration,
) -> bool {
    let woken = tokio::time::timeout(poll, async {
        loop {
            match news.recv().await {
                Ok(n) if *n.region == *region => return true,
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(_)) => return true,
                Err(broadcast::error::RecvError::Closed) => return false,
            }
        }
    })
    .await;
    woken != Ok(false)
}

impl Drop for Wake {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

async fn listen_forever(region: Arc<str>, url: String, news: broadcast::Sender<News>) {
    let mut wait = RETRY_FIRST;
    loop {
        match listen(&region, &url, &news).await {
            // It was listening: try again at once, then back off.
            Ok(()) => wait = RETRY_FIRST,
            Err(e) => {
                tracing::debug!(region = %region, error = %e, "change listener cannot connect")
            }
        }
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(RETRY_LAST);
    }
}

/// Listens until the connection ends; an error only when it could not start.
async fn listen(
    region: &Arc<str>,
    url: &str,
    news: &broadcast::Sender<News>,
) -> Result<(), tokio_postgres::Error> {
    let mut config: tokio_postgres::Config = url.parse()?;
    config
        .application_name("hmis changes")
        .connect_timeout(Duration::from_secs(5))
        // A server that vanished without closing the socket is noticed within a minute.
        .keepalives_idle(Duration::from_secs(30));
    let (client, mut connection) = config.connect(tokio_postgres::NoTls).await?;
    // The connection must be polled for LISTEN to complete; its notifications come here.
    let (tx, mut notes) = mpsc::unbounded_channel();
    let polling = tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(|cx| connection.poll_message(cx));
        while let Some(Ok(message)) = messages.next().await {
            if let AsyncMessage::Notification(n) = message {
                let _ = tx.send(n.payload().to_owned());
            }
        }
    });
    if let Err(e) = client
        .batch_execute(&format!("LISTEN {CHANGES_CHANNEL}"))
        .await
    {
        polling.abort();
        return Err(e);
    }
    tracing::debug!(region = %region, "change listener listening");
    // Whatever was committed while nobody listened: everyone re-reads.
    wake(news, region);
    while let Some(payload) = notes.recv().await {
        match notify::decode(&payload) {
            Ok(Note::Changes { .. }) => {}
            other => tracing::warn!(region = %region, ?other, "unexpected note on hmis_changes"),
        }
        // Whatever it says, the region is the one this connection listens to.
        wake(news, region);
    }
    tracing::warn!(region = %region, "change listener lost its shard; reconnecting");
    drop(client);
    Ok(())
}

fn wake(news: &broadcast::Sender<News>, region: &Arc<str>) {
    // No receiver is no error: nobody is reading yet.
    let _ = news.send(News {
        region: region.clone(),
    });
}
