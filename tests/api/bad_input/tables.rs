//! Every row of every table of a test's databases, to show that refused requests wrote
//! nothing anywhere, without listing the tables each route might touch.

use crate::helpers::TestApp;

/// ("database schema.table", its rows as JSON text, sorted), for the central database and
/// every region. `sessions.last_seen_at` is left out: every request moves it. So is
/// `notice_positions`: the notification generator advances it in the background over the
/// events of the requests made before, whenever it gets round to them (under load, after
/// the first snapshot was taken), and no request writes it.
pub(super) async fn everything(app: &TestApp) -> Vec<(String, String)> {
    let mut databases = vec![("central".to_owned(), app.settings.file.central.url.clone())];
    for r in &app.settings.regions {
        databases.push((r.name.clone(), r.database_url.clone()));
    }
    let mut out = Vec::new();
    for (db, url) in databases {
        let pool = sqlx::PgPool::connect(url.expose()).await.unwrap();
        let tables: Vec<(String,)> = sqlx::query_as(
            "SELECT format('%I.%I', table_schema, table_name) FROM information_schema.tables
             WHERE table_type = 'BASE TABLE'
               AND table_schema NOT IN ('pg_catalog', 'information_schema')
               AND table_name <> 'notice_positions'
             ORDER BY 1",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        for (table,) in tables {
            // The table name comes from the catalog, quoted by format('%I').
            let sql = format!(
                "SELECT coalesce(string_agg(r, E'\\n' ORDER BY r), '') FROM
                 (SELECT (to_jsonb(t) - 'last_seen_at')::text AS r FROM {table} t) rows"
            );
            let (rows,): (String,) = sqlx::query_as(&sql).fetch_one(&pool).await.unwrap();
            out.push((format!("{db} {table}"), rows));
        }
        pool.close().await;
    }
    out
}
