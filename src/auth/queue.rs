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

use std::hash::{Hash, Hasher};
use std::sync::Arc;
use tokio::sync::{Mutex, OwnedMutexGuard};

const STRIPES: usize = 64;

pub struct LoginQueue {
    stripes: Vec<Arc<Mutex<()>>>,
}

/// Held while an attempt runs; dropping it lets the next attempt on its keys go.
pub struct Turn {
    _guards: Vec<OwnedMutexGuard<()>>,
}

impl Default for LoginQueue {
    fn default() -> Self {
        Self {
            stripes: (0..STRIPES).map(|_| Arc::new(Mutex::new(()))).collect(),
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
