//! The PostgreSQL clusters this test binary shares: initialized once per run (three
//! clusters cloned from one initdb), each holding migrated template databases, so that a
//! test gets fresh databases with a cheap `CREATE DATABASE ... TEMPLATE`. A watchdog
//! stops every cluster when the test binary exits, however it exits.

use hmis::pgcluster::{Cluster, ClusterOptions, PgBinaries, spawn_watchdog};
use sqlx::Connection;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

pub const SHARD_TEMPLATE: &str = "hmis_tpl_shard";
pub const CENTRAL_TEMPLATE: &str = "hmis_tpl_central";
const SHARED_CLUSTERS: usize = 3;

pub struct Pg {
    pub bins: PgBinaries,
    pub base: PathBuf,
    /// initdb'd once, never started: the source of every cluster's data directory.
    pub template_dir: PathBuf,
    pub shared: Vec<Cluster>,
}

static PG: OnceLock<Pg> = OnceLock::new();
static NEXT: AtomicUsize = AtomicUsize::new(0);

/// The shared clusters, started on first use.
pub fn pg() -> &'static Pg {
    // A thread of its own: the caller is inside a tokio runtime, and setup blocks.
    PG.get_or_init(|| {
        std::thread::spawn(start)
            .join()
            .expect("cluster setup panicked")
    })
}

/// A number unique in this run, for database and directory names.
pub fn unique() -> usize {
    NEXT.fetch_add(1, Ordering::Relaxed)
}

pub fn options(data_dir: PathBuf) -> ClusterOptions {
    ClusterOptions {
        data_dir,
        superuser: "hmis".into(),
        password: "hmis-test".into(),
        durable: false,
        port: None,
        extra_conf: vec![("max_connections".into(), "300".into())],
    }
}

fn start() -> Pg {
    let bins = PgBinaries::find().expect("PostgreSQL binaries (run .ci/install-deps)");
    remove_stale_runs();
    let base = scratch_root().join(format!("hmis-test-{}", std::process::id()));
    std::fs::create_dir_all(&base).unwrap();
    let template = Cluster::init(&bins, options(base.join("template"))).expect("initdb");
    let template_dir = template.data_dir().to_path_buf();
    let mut shared = Vec::new();
    for i in 0..SHARED_CLUSTERS {
        let dir = base.join(format!("shared{i}"));
        let mut c = Cluster::clone_from(&bins, &template_dir, options(dir)).expect("clone");
        c.start().expect("start shared cluster");
        shared.push(c);
    }
    let dirs: Vec<PathBuf> = shared.iter().map(|c| c.data_dir().to_path_buf()).collect();
    spawn_watchdog(&bins, std::process::id(), &dirs).expect("watchdog");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for c in &shared {
        rt.block_on(make_templates(c)).expect("template databases");
    }
    Pg {
        bins,
        base,
        template_dir,
        shared,
    }
}

async fn make_templates(c: &Cluster) -> anyhow::Result<()> {
    let mut admin = sqlx::PgConnection::connect(&c.url("postgres")).await?;
    for (name, migrator) in [
        (SHARD_TEMPLATE, &hmis::migrate::SHARD),
        (CENTRAL_TEMPLATE, &hmis::migrate::CENTRAL),
    ] {
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await?;
        let pool = sqlx::PgPool::connect(&c.url(name)).await?;
        migrator.run(&pool).await?;
        if name == CENTRAL_TEMPLATE {
            hmis::authz::store::seed_default(&pool).await?;
        }
        pool.close().await;
    }
    Ok(())
}

/// Creates `name` on `cluster` as a copy of `template`.
pub async fn create_database(cluster: &Cluster, name: &str, template: &str) {
    let mut admin = sqlx::PgConnection::connect(&cluster.url("postgres"))
        .await
        .unwrap();
    let sql = format!("CREATE DATABASE \"{name}\" TEMPLATE {template}");
    // Two copies of one template at the same instant can collide; a retry settles it.
    for attempt in 0.. {
        match sqlx::query(&sql).execute(&mut admin).await {
            Ok(_) => return,
            Err(e) if attempt < 20 && e.to_string().contains("being accessed by other users") => {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await
            }
            Err(e) => panic!("{sql}: {e}"),
        }
    }
}

/// A cluster of the test's own (so it can be killed without hurting other tests).
/// Durable: the shared clusters skip fsync and synchronous commit for speed, which would
/// let an immediate kill lose commits acknowledged just before it.
pub fn own_cluster() -> Cluster {
    let pg = pg();
    let dir = pg.base.join(format!("own{}", unique()));
    let opts = ClusterOptions {
        durable: true,
        ..options(dir)
    };
    let mut c = Cluster::clone_from(&pg.bins, &pg.template_dir, opts).expect("clone");
    c.start().expect("start own cluster");
    spawn_watchdog(&pg.bins, std::process::id(), &[c.data_dir().to_path_buf()]).unwrap();
    c
}

/// Where the clusters live: memory-backed `/dev/shm` where there is one (initdb and
/// copying a data directory create ~1000 files, several times faster there), else the
/// temp dir.
fn scratch_root() -> PathBuf {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    }
}

/// Directories of earlier runs whose test process is gone (their watchdog stopped them).
fn remove_stale_runs() {
    let Ok(entries) = std::fs::read_dir(scratch_root()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix("hmis-test-") else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}
