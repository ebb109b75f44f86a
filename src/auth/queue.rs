//! Login attempts on the same account or address wait for each other in this process
//! before they take a central connection. The advisory locks in the central database
//! serialize them across processes, but an attempt waiting on one holds its pool
//! connection meanwhile: twenty parallel guesses at one account would hold the whole pool
//! and every other clinic's logins would get 503. Queued here, those guesses wait holding
//! nothing, and the pool stays free for everyone else.
//!
//! Striped: a fixed set of locks, a key takes the one its hash names. Two keys may share a
//! stripe (they then wait for each other needlessly, briefly); the set never grows, however
//! many names a guesser makes up.
//!
//! With the central database out of reach, each attempt fails only after the pool's
//! acquire timeout; queued, ten attempts from one clinic's address would take ten
//! timeouts one after another. So an attempt that finds it unreachable says so here
//! ([`LoginQueue::central_failed`]), and those that were waiting meanwhile fail at once.

use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::{Mutex, OwnedMutexGuard};

const STRIPES: usize = 64;

pub struct LoginQueue {
    stripes: Vec<Arc<Mutex<()>>>,
    /// How many attempts found the central database unavailable, ever.
    central_failures: AtomicU64,
}

/// Held while an attempt runs; dropping it lets the next attempt on its keys go.
pub struct Turn {
    _guards: Vec<OwnedMutexGuard<()>>,
}

impl Default for LoginQueue {
    fn default() -> Self {
        Self {
            stripes: (0..STRIPES).map(|_| Arc::new(Mutex::new(()))).collect(),
            central_failures: AtomicU64::new(0),
        }
    }
}

impl LoginQueue {
    /// Waits until no other attempt of this process holds any of `keys`. Stripes are taken
    /// in ascending order, so two attempts never wait on each other in a cycle.
    pub async fn turn(&self, keys: &[&str]) -> Turn {
        let mut stripes: Vec<usize> = keys.iter().map(|k| stripe(k)).collect();
        stripes.sort_unstable();
        stripes.dedup();
        let mut guards = Vec::with_capacity(stripes.len());
        for i in stripes {
            guards.push(self.stripes[i].clone().lock_owned().await);
        }
        Turn { _guards: guards }
    }

    /// A mark to take before [`LoginQueue::turn`]: [`LoginQueue::failed_since`] then says
    /// whether the central database was found unavailable while this attempt waited.
    pub fn mark(&self) -> u64 {
        self.central_failures.load(Ordering::SeqCst)
    }

    pub fn failed_since(&self, mark: u64) -> bool {
        self.mark() != mark
    }

    /// An attempt found the central database unavailable.
    pub fn central_failed(&self) {
        self.central_failures.fetch_add(1, Ordering::SeqCst);
    }
}

fn stripe(key: &str) -> usize {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut hasher);
    (hasher.finish() % STRIPES as u64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_second_attempt_on_the_same_account_waits_for_the_first() {
        let queue = Arc::new(LoginQueue::default());
        let first = queue.turn(&["login-user:a", "login-address:1"]).await;
        let waiting = {
            let queue = queue.clone();
            tokio::spawn(async move { queue.turn(&["login-user:a", "login-address:2"]).await })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(
            !waiting.is_finished(),
            "it went while the first held the account"
        );
        drop(first);
        tokio::time::timeout(Duration::from_secs(1), waiting)
            .await
            .expect("it goes once the first is done")
            .unwrap();
    }

    #[test]
    fn only_a_failure_after_the_mark_counts_for_the_attempt_that_took_it() {
        let queue = LoginQueue::default();
        queue.central_failed();
        let mark = queue.mark();
        assert!(
            !queue.failed_since(mark),
            "a failure before it is not its own"
        );
        queue.central_failed();
        assert!(queue.failed_since(mark));
    }

    #[tokio::test]
    async fn attempts_whose_keys_share_a_stripe_in_either_order_do_not_deadlock() {
        let queue = Arc::new(LoginQueue::default());
        let runs = (0..200).map(|i| {
            let queue = queue.clone();
            tokio::spawn(async move {
                let (a, b) = (
                    format!("login-user:{}", i % 7),
                    format!("login-address:{}", i % 5),
                );
                let keys: [&str; 2] = if i % 2 == 0 { [&a, &b] } else { [&b, &a] };
                let _turn = queue.turn(&keys).await;
                tokio::task::yield_now().await;
            })
        });
        let all = futures_util::future::join_all(runs);
        tokio::time::timeout(Duration::from_secs(5), all)
            .await
            .expect("every attempt had its turn");
    }
}
