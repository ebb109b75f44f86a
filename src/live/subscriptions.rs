//! A socket's subscriptions: the topics it follows and the one feed that serves them
//! (`subscribe` with a cursor restarts the feed from that cursor; without one the feed
//! goes on, or starts from now). Every event frame carries the cursor after it.
//!
//! Restarting the one feed from an older cursor re-reads events the topics followed
//! before have already had. So each topic keeps, per region, the mark of the last event
//! it was sent, and is never sent one at or before it: the topics the new `subscribe`
//! names get everything after its cursor, the others go on without a repeat.
//!
//! A subscription is authorized when made and again whenever the policy or the user's
//! grants change ([`Subscriptions::recheck`]): a topic no longer allowed is dropped with
//! an `error` frame naming it (audited like a refused subscribe), not followed until the
//! socket reconnects.

use super::feed::{Feed, Step};
use super::hub::Hub;
use super::topics::{self, Topic};
use super::ws::Outbox;
use crate::app::AppState;
use crate::changes::{Mark, Reset};
use crate::http::{Actor, ApiError};
use parking_lot::RwLock;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::task::JoinHandle;

/// A topic followed, with the mark of the last event it was sent, per region.
struct Followed {
    topic: Topic,
    sent: BTreeMap<String, Mark>,
}

impl Followed {
    /// Whether `mark` (of `region`) is new to this topic; if so it is now sent.
    fn sends(&mut self, region: &str, mark: Mark) -> bool {
        let sent = self.sent.get(region);
        if sent.is_some_and(|m| m.epoch == mark.epoch && mark.position <= m.position) {
            return false;
        }
        self.sent.insert(region.to_owned(), mark);
        true
    }
}

type Followers = Arc<RwLock<Vec<Followed>>>;

#[derive(Default)]
pub struct Subscriptions {
    topics: Followers,
    feed: Option<JoinHandle<()>>,
    /// Forwards the user's notifications while `user:me` is followed.
    me: Option<JoinHandle<()>>,
}

impl Drop for Subscriptions {
    fn drop(&mut self) {
        for task in [self.feed.take(), self.me.take()].into_iter().flatten() {
            task.abort();
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
        if added.contains(&Topic::Me) && self.me.is_none() {
            let name = ctx.actor.name().to_owned();
            self.me = Some(super::me::follow(
                &ctx.app.notices,
                name,
                ctx.outbox.clone(),
            ));
        }
        {
            let mut topics = self.topics.write();
            for topic in added {
                match topics.iter_mut().find(|f| f.topic == topic) {
                    // Named again with a cursor: from that cursor, as asked.
                    Some(f) if cursor.is_some() => f.sent.clear(),
                    Some(_) => {}
                    None => topics.push(Followed {
                        topic,
                        sent: BTreeMap::new(),
                    }),
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
        if raw.iter().any(|t| t == "user:me")
            && let Some(me) = self.me.take()
        {
            me.abort();
        }
        self.topics
            .write()
            .retain(|f| !raw.contains(&f.topic.name()));
        outbox.push(&json!({"type": "unsubscribed", "id": id, "topics": raw}));
    }
}

impl Subscriptions {
    /// Authorizes every followed topic again (the policy changed): each refused one is
    /// dropped first, then reported. A check that fails for another reason (a region
    /// down) keeps the topic: the next change of policy checks it again.
    pub async fn recheck(&mut self, ctx: Ctx<'_>) {
        let followed: Vec<String> = {
            let topics = self.topics.read();
            let others = topics.iter().filter(|f| f.topic != Topic::Me);
            others.map(|f| f.topic.name()).collect()
        };
        let mut refused = Vec::new();
        for name in followed {
            let checked = topics::resolve(ctx.app, ctx.actor, &name).await;
            if let Err(
                e @ (ApiError::Forbidden(_)
                | ApiError::ForbiddenField { .. }
                | ApiError::NotFound(_)),
            ) = checked
            {
                refused.push((name, topics::reason(e)));
            }
        }
        if refused.is_empty() {
            return;
        }
        self.topics
            .write()
            .retain(|f| !refused.iter().any(|(name, _)| *name == f.topic.name()));
        for (name, reason) in refused {
            ctx.outbox.push(&json!({
                "type": "error", "id": null, "field": "topics", "topic": name, "reason": reason,
            }));
        }
    }
}

fn reset_frame(reset: Reset, cursor: &str) -> Value {
    json!({"type": "reset", "reason": reset.as_str(), "cursor": cursor})
}

async fn serve(mut feed: Feed, app: AppState, topics: Followers, outbox: Outbox) {
    loop {
        match feed.next(&app).await {
            Step::Reset(reset) => outbox.push(&reset_frame(reset, &feed.cursor(&app))),
            Step::Event(d) => {
                let matching: Vec<String> = {
                    let mut topics = topics.write();
                    topics
                        .iter_mut()
                        .filter(|f| f.topic.matches(&d.event))
                        .filter_map(|f| f.sends(&d.event.region, d.mark).then(|| f.topic.name()))
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
