//! A read after a cursor costs what it returns, not the log's size: at 100,000 events the
//! read is one range scan of the primary key that stops after `limit` rows, also as the
//! generic plan a long-lived prepared statement ends up with.

use crate::helpers::project_databases;
use sqlx::Connection;

#[tokio::test]
async fn a_read_after_a_cursor_at_100k_events_scans_only_the_events_it_returns() {
    let settings = project_databases().await;
    let url = settings.region("quthing").unwrap().database_url.expose();
    let mut db = sqlx::PgConnection::connect(url).await.unwrap();
    // Ten transactions of 10,000 events each: ten xids, as many sequence numbers.
    for _ in 0..10 {
        sqlx::query(
            "INSERT INTO change_log (region, kind, entity_id, patient_id, op) \
             SELECT 'quthing', 'patient', gen_random_uuid(), gen_random_uuid(), 'insert' \
             FROM generate_series(1, 10000)",
        )
        .execute(&mut db)
        .await
        .unwrap();
    }
    sqlx::query("ANALYZE change_log")
        .execute(&mut db)
        .await
        .unwrap();
    let (xid, seq): (String, i64) = sqlx::query_as(
        "SELECT xid::text, seq FROM change_log ORDER BY xid, seq OFFSET 50000 LIMIT 1",
    )
    .fetch_one(&mut db)
    .await
    .unwrap();
    // As hmis's own connections run (see `shards::pg_config`): without JIT, which would
    // compile the generic plan for 100+ ms.
    sqlx::query("SET jit = off").execute(&mut db).await.unwrap();
    sqlx::query("SET plan_cache_mode = force_generic_plan")
        .execute(&mut db)
        .await
        .unwrap();
    let prepare = format!(
        "PREPARE read_after(xid8, bigint, bigint) AS {}",
        hmis::changes::READ_SQL
    );
    sqlx::raw_sql(&prepare).execute(&mut db).await.unwrap();
    let explain =
        format!("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE read_after('{xid}', {seq}, 100)");
    // Twice: the first execution also sets the new rows' hint bits.
    sqlx::query_scalar::<_, String>(&explain)
        .fetch_all(&mut db)
        .await
        .unwrap();
    let plan: Vec<String> = sqlx::query_scalar(&explain)
        .fetch_all(&mut db)
        .await
        .unwrap();
    let plan = plan.join("\n");
    println!("{plan}");
    assert!(
        plan.contains("Index Scan using change_log_pkey on change_log"),
        "{plan}"
    );
    assert!(!plan.contains("Seq Scan on change_log c"), "{plan}");
    let scanned = plan
        .lines()
        .find(|l| l.contains("change_log_pkey"))
        .and_then(|l| l.split("rows=").nth(1))
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or(u64::MAX);
    assert_eq!(scanned, 100, "{plan}");
}
