//! A socket's subscriptions: the topics it follows and the one feed that serves them
//! (`subscribe` with a cursor restarts the feed from that cursor; without one the feed
//! goes on, or starts from now). Every event frame carries the cursor after it.

use super::feed::{Feed, Step};
use super::hub::Hub;
use super::topics::{self, Topic};
use super::ws::Outbox;
use crate::app::AppState;
use crate::changes::Reset;
use crate::http::Actor;
use serde_json::{Value, json};
use std::sync::{Arc, RwLock};
use tokio::task::JoinHandle;

#[derive(Default)]
pub struct Subscriptions {
    topics: Arc<RwLock<Vec<Topic>>>,
    feed: Option<JoinHandle<()>>,
}

impl Drop for Subscriptions {
    fn drop(&mut self) {
        if let Some(feed) = self.feed.take() {
            feed.abort();
        }
    }
}

pub struct Ctx<'a> {
    pub app: &'a AppState,
    pub hub: &'a Hub,
    pub actor: &'a Actor,
    pub outbox: &'a Outbox,
}

impl Subscriptions {
    pub async fn subscribe(
        &mut self,
        ctx: Ctx<'_>,
        id: Value,
        raw: Vec<String>,
        cursor: Option<String>,
    ) {
        let mut added = Vec::new();
        for name in raw {
            match topics::authorize(ctx.app, ctx.actor, &name).await {
                Ok(topic) => added.push(topic),
                Err(reason) => ctx.outbox.push(&json!({
                    "type": "error", "id": id, "field": "topics", "topic": name, "reason": reason,
                })),
            }
        }
        let names: Vec<String> = added.iter().map(Topic::name).collect();
        {
            let mut topics = self.topics.write().expect("never poisoned");
            for topic in added {
                if !topics.contains(&topic) {
                    topics.push(topic);
                }
            }
        }
        if cursor.is_some() || self.feed.is_none() {
            let feed = match cursor.as_deref().map(|c| Feed::resume(ctx.hub, ctx.app, c)) {
                None => Feed::from_now(ctx.hub),
                Some(Ok(feed)) => feed,
                Some(Err(reset)) => {
                    let feed = Feed::from_now(ctx.hub);
                    ctx.outbox.push(&reset_frame(reset, &feed.cursor(ctx.app)));
                    feed
                }
            };
            if let Some(old) = self.feed.take() {
                old.abort();
            }
            let (app, topics, outbox) = (ctx.app.clone(), self.topics.clone(), ctx.outbox.clone());
            self.feed = Some(tokio::spawn(serve(feed, app, topics, outbox)));
        }
        ctx.outbox
            .push(&json!({"type": "subscribed", "id": id, "topics": names}));
    }

    pub fn unsubscribe(&mut self, outbox: &Outbox, id: Value, raw: Vec<String>) {
        self.topics
            .write()
            .expect("never poisoned")
            .retain(|t| !raw.contains(&t.name()));
        outbox.push(&json!({"type": "unsubscribed", "id": id, "topics": raw}));
    }
}

fn reset_frame(reset: Reset, cursor: &str) -> Value {
    json!({"type": "reset", "reason": reset.as_str(), "cursor": cursor})
}

async fn serve(mut feed: Feed, app: AppState, topics: Arc<RwLock<Vec<Topic>>>, outbox: Outbox) {
    loop {
        match feed.next(&app).await {
            Step::Reset(reset) => outbox.push(&reset_frame(reset, &feed.cursor(&app))),
            Step::Event(d) => {
                let matching: Vec<String> = {
                    let topics = topics.read().expect("never poisoned");
                    topics
                        .iter()
                        .filter(|t| t.matches(&d.event))
                        .map(Topic::name)
                        .collect()
                };
                if matching.is_empty() {
                    continue;
                }
                let cursor = feed.cursor(&app);
                for topic in matching {
                    outbox.push(&event_frame(&topic, &cursor, &d.event));
                }
            }
        }
    }
}

/// An event as clients see it, on the socket and in a long-poll's answer.
pub fn event_frame(topic: &str, cursor: &str, event: &crate::changes::Event) -> Value {
    json!({
        "type": "event", "topic": topic, "cursor": cursor, "kind": event.kind,
        "data": {
            "id": event.entity_id, "patient_id": event.patient_id,
            "op": event.op, "region": event.region, "at": event.at,
        },
    })
}
