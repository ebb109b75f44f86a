//! Shared read connections. A read that needs no transaction does not need a connection
//! of its own: tokio-postgres pipelines the queries of concurrent callers on one
//! connection, so many requests' reads travel in one write and come back in one read.
//! That halves the system calls and context switches per read on both sides, which on a
//! small machine is most of what a read by ID costs. Writes keep exclusive pooled
//! connections (`Shard::conn`), since a transaction must not share its connection.

use parking_lot::{Mutex, RwLock};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio_postgres::{Client, Statement};

/// One shared connection and the statements prepared on it.
pub struct Reader {
    client: Client,
    statements: Mutex<HashMap<String, Statement>>,
}

impl Reader {
    /// The statement for `sql`, prepared on this connection once.
    pub async fn prepare(&self, sql: &str) -> Result<Statement, tokio_postgres::Error> {
        if let Some(stmt) = self.statements.lock().get(sql) {
            return Ok(stmt.clone());
        }
        let stmt = self.client.prepare(sql).await?;
        self.statements.lock().insert(sql.to_owned(), stmt.clone());
        Ok(stmt)
    }
}

/// A fixed number of shared connections to one region, used round-robin, each opened on
/// first use and opened again once it is found closed.
pub struct Readers {
    config: tokio_postgres::Config,
    slots: Vec<RwLock<Option<Arc<Reader>>>>,
    /// Serializes reconnects so that a region coming back is not hit by a stampede.
    connecting: tokio::sync::Mutex<()>,
    next: AtomicUsize,
    timeout: Duration,
}

impl Readers {
    pub fn new(mut config: tokio_postgres::Config, count: usize, timeout: Duration) -> Self {
        // Reads write their audit line in the same statement. Waiting for that line to
        // reach the disk before answering would bound every region's reads by the disk's
        // flush rate; with asynchronous commit the line is on disk within a fraction of a
        // second (3 x wal_writer_delay at most), and a database crash in that window is the
        // only way to lose one. Writes of records use the pool, which keeps synchronous
        // commit.
        super::add_options(&mut config, "-c synchronous_commit=off");
        Readers {
            config,
            slots: (0..count.max(1)).map(|_| RwLock::new(None)).collect(),
            connecting: tokio::sync::Mutex::new(()),
            next: AtomicUsize::new(0),
            timeout,
        }
    }

    /// The next shared connection, opening it if needed (within the shard timeout).
    pub async fn get(&self) -> Result<Arc<Reader>, String> {
        let slot = &self.slots[self.next.fetch_add(1, Ordering::Relaxed) % self.slots.len()];
        if let Some(reader) = live(slot) {
            return Ok(reader);
        }
        let _one_at_a_time = tokio::time::timeout(self.timeout, self.connecting.lock())
            .await
            .map_err(|_| "timed out waiting to connect".to_owned())?;
        if let Some(reader) = live(slot) {
            return Ok(reader);
        }
        let (client, connection) =
            tokio::time::timeout(self.timeout, self.config.connect(tokio_postgres::NoTls))
                .await
                .map_err(|_| "timed out connecting".to_owned())?
                .map_err(|e| e.to_string())?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "shared read connection ended");
            }
        });
        let reader = Arc::new(Reader {
            client,
            statements: Mutex::default(),
        });
        *slot.write() = Some(reader.clone());
        Ok(reader)
    }

    /// Forgets every shared connection (the region went away; they died with it).
    pub fn reset(&self) {
        for slot in &self.slots {
            *slot.write() = None;
        }
    }
}

fn live(slot: &RwLock<Option<Arc<Reader>>>) -> Option<Arc<Reader>> {
    slot.read()
        .as_ref()
        .filter(|r| !r.client.is_closed())
        .cloned()
}

/// A connection a read can run on: a shared [`Reader`] or an exclusive pooled one.
pub trait Conn: Sync {
    fn client(&self) -> &Client;
    fn prepared(
        &self,
        sql: &str,
    ) -> impl std::future::Future<Output = Result<Statement, tokio_postgres::Error>> + Send;
}

impl Conn for Reader {
    fn client(&self) -> &Client {
        &self.client
    }

    async fn prepared(&self, sql: &str) -> Result<Statement, tokio_postgres::Error> {
        self.prepare(sql).await
    }
}

impl Conn for deadpool_postgres::Object {
    fn client(&self) -> &Client {
        self
    }

    async fn prepared(&self, sql: &str) -> Result<Statement, tokio_postgres::Error> {
        self.prepare_cached(sql).await
    }
}
