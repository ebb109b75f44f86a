use super::check;

fn refused(sql: &str) -> String {
    match check(sql) {
        Ok(()) => panic!("accepted: {sql}"),
        Err(reason) => reason,
    }
}

/// `sql` is refused with a reason that says `why`.
fn assert_refused(sql: &str, why: &str) {
    let reason = refused(sql);
    assert!(
        reason.contains(why),
        "{sql}: {reason:?} does not say {why:?}"
    );
}

#[test]
fn plain_selects_ctes_values_and_aggregates_are_accepted() {
    for sql in [
        "SELECT count(*) AS n FROM patients",
        "select district, sex, count(*) from patients where not deleted group by 1, 2 order by 3 desc",
        "WITH bp AS (SELECT patient_id, max(value) AS v FROM observations WHERE code = '8480-6' GROUP BY 1) \
         SELECT count(*) FROM bp WHERE v >= 140",
        "VALUES (1, 'a'), (2, 'b')",
        "SELECT 1 UNION ALL SELECT 2;",
        "SELECT * FROM generate_series(1, 10) g -- a comment\n",
        "SELECT current_setting('TimeZone')",
        "SELECT age_band, count(*) FILTER (WHERE sex = 'female') FROM patients GROUP BY age_band",
        "SELECT 'pg_sleep(10)' AS text_not_a_call",
    ] {
        assert_eq!(check(sql), Ok(()), "{sql}");
    }
}

#[test]
fn anything_but_exactly_one_query_is_refused_with_what_it_is() {
    assert_refused("DELETE FROM patients", "DELETE statement");
    assert_refused("CREATE TABLE t (a int)", "CREATE statement");
    assert_refused("SET ROLE hmis", "SET");
    assert_refused("EXPLAIN ANALYZE SELECT 1", "EXPLAIN");
    assert_refused("SELECT 1; SELECT 2", "2 statements");
    assert_refused("   ", "empty");
    assert_refused("SELEC 1", "cannot be parsed");
}

#[test]
fn writes_hidden_inside_a_query_are_refused() {
    assert_refused(
        "WITH x AS (DELETE FROM patients RETURNING 1) SELECT * FROM x",
        "DELETE statement inside",
    );
    assert_refused(
        "WITH x AS (UPDATE patients SET sex = 'male' RETURNING 1) SELECT 1",
        "UPDATE",
    );
    assert_refused("SELECT * INTO copy FROM patients", "INTO");
    assert_refused("SELECT * FROM patients FOR UPDATE", "locks rows");
    assert_refused(
        "SELECT * FROM (SELECT * FROM patients FOR SHARE) p",
        "locks rows",
    );
}

#[test]
fn side_effecting_functions_are_refused_wherever_they_are_called() {
    for (sql, name) in [
        ("SELECT nextval('patient_hrn_seq')", "nextval"),
        ("SELECT pg_sleep(10)", "pg_sleep"),
        ("SELECT * FROM pg_sleep(10)", "pg_sleep"),
        ("SELECT pg_catalog.PG_SLEEP_FOR('1 minute')", "pg_sleep_for"),
        ("SELECT 1 ORDER BY pg_advisory_lock(1)", "pg_advisory_lock"),
        (
            "SELECT pg_try_advisory_xact_lock(7)",
            "pg_try_advisory_xact_lock",
        ),
        ("SELECT set_config('role', 'none', true)", "set_config"),
        (
            "SELECT \"set_config\" /* hidden */ ('role', 'none', true)",
            "set_config",
        ),
        (
            "SELECT x FROM patients WHERE pg_notify('c', 'p') IS NULL",
            "pg_notify",
        ),
        ("SELECT pg_terminate_backend(1)", "pg_terminate_backend"),
        ("SELECT pg_read_file('/etc/passwd')", "pg_read_file"),
        ("SELECT pg_read_binary_file('x')", "pg_read_binary_file"),
        ("SELECT * FROM pg_ls_dir('.')", "pg_ls_dir"),
        ("SELECT lo_import('/etc/passwd')", "lo_import"),
        ("SELECT dblink_exec('x', 'y')", "dblink_exec"),
        ("SELECT txid_current()", "txid_current"),
        ("SELECT pg_current_xact_id()", "pg_current_xact_id"),
        (
            "SELECT query_to_xml('select 1', true, true, '')",
            "query_to_xml",
        ),
        (
            "SELECT table_to_xmlschema('patients', true, true, '')",
            "table_to_xmlschema",
        ),
        ("SELECT ts_stat('select 1')", "ts_stat"),
        ("SELECT pg_reload_conf()", "pg_reload_conf"),
        ("SELECT pg_cancel_backend(1)", "pg_cancel_backend"),
    ] {
        let reason = refused(sql);
        assert!(
            reason.contains(&format!("calls {name}()")),
            "{sql}: {reason}"
        );
    }
}

#[test]
fn unicode_escaped_names_and_parameters_are_refused() {
    assert_refused(
        "SELECT U&\"set_config\"('role', 'none', true)",
        "set_config",
    );
    assert_refused(
        "SELECT U&\"\\0073et_config\"('role', 'none', true)",
        "Unicode",
    );
    assert_refused("SELECT * FROM patients WHERE district = $1", "parameter");
}

#[test]
fn overlong_statements_are_refused_with_their_length() {
    let sql = format!("SELECT 1 {}", " ".repeat(super::MAX_SQL_CHARS));
    assert_refused(&sql, "characters long");
}
