//! `spawn_app()`: hmis on port 0 against fresh databases made for this test (one per
//! region, spread over the shared clusters, plus a central one), with the project's real
//! `regions/` and `routing-rules/`. Tests talk to it over real HTTP and check the shards
//! with direct SQL.

pub mod logging;
pub mod pg;

use hmis::config::{self, DatabaseUrl, FileSettings, Settings};
use hmis::pgcluster::Cluster;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

pub struct TestApp {
    pub address: String,
    /// Logged in as `admin`, a system admin, with a bearer token.
    pub client: reqwest::Client,
    /// No credentials.
    pub anon: reqwest::Client,
    pub settings: Settings,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// The project's own regions and rules, with this test's databases.
pub fn project_settings() -> Settings {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let regions = config::region_files(&root.join("regions")).unwrap();
    let rules = config::load_rules(&root.join("routing-rules"), &regions).unwrap();
    let mut file = FileSettings::default();
    file.server.shard_timeout_ms = 1500;
    Settings {
        file,
        regions,
        rules: Arc::new(rules),
    }
}

/// hmis against fresh databases on the shared clusters.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// As [`spawn_app`], with the settings adjusted before launch (after the databases are
/// made), e.g. to point a region somewhere else.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let mut settings = project_databases().await;
    adjust(&mut settings);
    launch(settings).await
}

/// The project's settings pointed at fresh, migrated databases of this test.
pub async fn project_databases() -> Settings {
    let pg = pg::pg();
    let n = pg::unique();
    let mut settings = project_settings();
    let central = &pg.shared[0];
    let name = format!("t{n}_central");
    pg::create_database(central, &name, pg::CENTRAL_TEMPLATE).await;
    settings.file.central.url = DatabaseUrl::new(central.url(&name));
    for (i, region) in settings.regions.iter_mut().enumerate() {
        let cluster = &pg.shared[i % pg.shared.len()];
        let name = format!("t{n}_{}", region.name);
        pg::create_database(cluster, &name, pg::SHARD_TEMPLATE).await;
        region.database_url = DatabaseUrl::new(cluster.url(&name));
        region.pool_size = 4;
        hmis::migrate::migrate_region(region, None).await.unwrap();
    }
    settings
}

/// Serves `settings` on a free port, with a system admin `admin` logged in as `client`.
pub async fn launch(settings: Settings) -> TestApp {
    let central = sqlx::PgPool::connect(settings.file.central.url.expose())
        .await
        .unwrap();
    if hmis::auth::users::id_of(&central, "admin")
        .await
        .unwrap()
        .is_none()
    {
        hmis::auth::users::create(&central, "admin", PASSWORD, "Admin")
            .await
            .unwrap();
        hmis::authz::store::grant(&central, true, "admin", "system_admin", "*")
            .await
            .unwrap();
    }
    central.close().await;
    let mut app = serve(settings).await;
    let token = app.login("admin", PASSWORD).await;
    app.client = bearer_client(&token);
    app
}

/// The password of every test user.
pub const PASSWORD: &str = "test-password";

pub fn bearer_client(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap()
}

async fn serve(settings: Settings) -> TestApp {
    logging::init();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let served = settings.clone();
    tokio::spawn(async move {
        hmis::launch(served, listener, async { rx.await.unwrap_or(()) })
            .await
            .expect("hmis serves");
    });
    TestApp {
        address,
        client: reqwest::Client::new(),
        anon: reqwest::Client::new(),
        settings,
        shutdown: Some(tx),
    }
}

/// Moves one region of a running test's settings onto a cluster of its own, migrated.
pub async fn region_on_own_cluster(settings: &mut Settings, region: &str) -> Cluster {
    let cluster = tokio::task::spawn_blocking(pg::own_cluster).await.unwrap();
    let r = settings
        .regions
        .iter_mut()
        .find(|r| r.name == region)
        .unwrap();
    r.database_url = DatabaseUrl::new(cluster.url(&format!("hmis_{region}")));
    hmis::migrate::migrate_region(r, None).await.unwrap();
    cluster
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn central(&self) -> sqlx::PgPool {
        sqlx::PgPool::connect(self.settings.file.central.url.expose())
            .await
            .unwrap()
    }

    /// Logs in and returns the bearer token, failing the test if login fails.
    pub async fn login(&self, username: &str, password: &str) -> String {
        let body = serde_json::json!({"username": username, "password": password});
        let response = self
            .anon
            .post(self.url("/api/v1/auth/login"))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let json: Value = response.json().await.unwrap();
        assert_eq!(status, 200, "login {username}: {json}");
        json["token"].as_str().unwrap().to_owned()
    }

    /// Creates `username` with `role` in `region` (unless it exists), waits until this hmis
    /// has loaded the grant, and returns a client logged in as that user.
    pub async fn user(&self, username: &str, role: &str, region: &str) -> reqwest::Client {
        let central = self.central().await;
        if hmis::auth::users::id_of(&central, username)
            .await
            .unwrap()
            .is_none()
        {
            hmis::auth::users::create(&central, username, PASSWORD, username)
                .await
                .unwrap();
        }
        hmis::authz::store::grant(&central, true, username, role, region)
            .await
            .unwrap();
        central.close().await;
        let client = bearer_client(&self.login(username, PASSWORD).await);
        for _ in 0..100 {
            let me: Value = client
                .get(self.url("/api/v1/auth/me"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let has = me["grants"]
                .as_array()
                .is_some_and(|g| g.iter().any(|g| g["role"] == role && g["region"] == region));
            if has {
                return client;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("the grant of {role} in {region} to {username} never reached hmis");
    }

    pub async fn post_patient(&self, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url("/api/v1/patients"))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// Creates a patient and returns its JSON, failing the test if it is not 201.
    pub async fn create_patient(&self, body: &Value) -> Value {
        let response = self.post_patient(body).await;
        let status = response.status();
        let json: Value = response.json().await.unwrap();
        assert_eq!(status, 201, "create failed: {json}");
        json
    }

    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        let response = self.client.get(self.url(path)).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// A direct connection to a region's database, bypassing hmis.
    pub async fn shard(&self, region: &str) -> sqlx::PgPool {
        let r = self.settings.region(region).expect("known region");
        sqlx::PgPool::connect(r.database_url.expose())
            .await
            .unwrap()
    }

    /// Rows of `patients` in each region, straight from the databases.
    pub async fn patients_per_region(&self) -> BTreeMap<String, Vec<String>> {
        let mut out = BTreeMap::new();
        for r in &self.settings.regions {
            let pool = self.shard(&r.name).await;
            let ids: Vec<(uuid::Uuid,)> = sqlx::query_as("SELECT id FROM patients")
                .fetch_all(&pool)
                .await
                .unwrap();
            out.insert(
                r.name.clone(),
                ids.into_iter().map(|(id,)| id.to_string()).collect(),
            );
            pool.close().await;
        }
        out
    }
}

/// A valid patient body for `district`: a different person at every call (names and
/// birth date spread by a counter), so that the duplicate check at registration never
/// mistakes two test patients for one.
pub fn patient(district: &str) -> Value {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    const SYLLABLES: [&str; 16] = [
        "ba", "ko", "ne", "mo", "gu", "pa", "ro", "se", "tu", "ka", "vi", "zo", "fe", "ra", "xu",
        "ta",
    ];
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let h = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let word = |shift: u32, len: u32| -> String {
        let w: String = (0..len)
            .map(|i| SYLLABLES[((h >> (shift + 4 * i)) & 15) as usize])
            .collect();
        let mut c = w.chars();
        c.next().unwrap().to_uppercase().chain(c).collect()
    };
    let birth = chrono::NaiveDate::from_ymd_opt(1940, 1, 1).unwrap()
        + chrono::Duration::days(((h >> 40) % 29_000) as i64);
    serde_json::json!({
        "given_name": word(0, 3),
        "family_name": word(12, 4),
        "sex": "female",
        "birth_date": birth.to_string(),
        "district": district,
    })
}

/// The environment that points the `hmis` binary at `settings`' databases.
pub fn database_envs(settings: &Settings) -> Vec<(String, String)> {
    let mut envs = vec![(
        "HMIS_CENTRAL_URL".to_owned(),
        settings.file.central.url.expose().to_owned(),
    )];
    for r in &settings.regions {
        envs.push((
            format!("HMIS_REGION_{}_DATABASE_URL", r.name.to_uppercase()),
            r.database_url.expose().to_owned(),
        ));
    }
    envs
}

/// Runs the real `hmis` binary against the test's databases.
pub async fn hmis_cli(settings: &Settings, args: &[&str]) -> std::process::Output {
    let envs = database_envs(settings);
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_hmis"))
            .args(args)
            .envs(envs)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

/// Moves the central database of a test's settings onto a cluster of its own, migrated
/// and seeded with the shipped policy, so that a test can kill it.
pub async fn central_on_own_cluster(settings: &mut Settings) -> Cluster {
    let cluster = tokio::task::spawn_blocking(pg::own_cluster).await.unwrap();
    let url = DatabaseUrl::new(cluster.url("hmis_central"));
    hmis::migrate::migrate_central(&url, None).await.unwrap();
    settings.file.central.url = url;
    cluster
}
