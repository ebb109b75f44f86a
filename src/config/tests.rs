//! Loading settings: defaults, errors that name file and line, `HMIS_` overrides.

use super::*;

mod proptests;

fn write(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hmis-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn an_unknown_key_is_refused_naming_the_file_line_and_key() {
    let path = write(
        "unknown.toml",
        "[server]\nlisten = \"0.0.0.0:1\"\nlsiten = \"x\"\n",
    );
    let e = load_file_settings(Some(&path), &BTreeMap::new())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("unknown.toml") && e.contains("line 3") && e.contains("lsiten"),
        "{e}"
    );
}

#[test]
fn every_default_applies_when_the_file_is_empty() {
    let path = write("empty.toml", "");
    let s = load_file_settings(Some(&path), &BTreeMap::new()).unwrap();
    assert_eq!(s.server.listen, "127.0.0.1:8000");
    assert_eq!(s.server.max_body_bytes, 65536);
    assert_eq!(s.paths.rules, PathBuf::from("routing-rules"));
}

#[test]
fn hmis_variables_override_file_settings_and_a_bad_value_names_the_variable() {
    let path = write("env.toml", "[server]\nlisten = \"127.0.0.1:1\"\n");
    let vars = BTreeMap::from([
        ("HMIS_SERVER_LISTEN".to_owned(), "0.0.0.0:9".to_owned()),
        ("HMIS_CENTRAL_POOL_SIZE".to_owned(), "3".to_owned()),
    ]);
    let s = load_file_settings(Some(&path), &vars).unwrap();
    assert_eq!(
        (s.server.listen.as_str(), s.central.pool_size),
        ("0.0.0.0:9", 3)
    );
    let bad = BTreeMap::from([("HMIS_CENTRAL_POOL_SIZE".to_owned(), "many".to_owned())]);
    let e = load_file_settings(Some(&path), &bad)
        .unwrap_err()
        .to_string();
    assert!(e.contains("HMIS_CENTRAL_POOL_SIZE"), "{e}");
}

#[test]
fn a_region_database_url_is_overridden_by_its_region_variable() {
    let dir = std::env::temp_dir().join(format!("hmis-regions-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("quthing.toml"),
        "name = \"quthing\"\ndisplay_name = \"Quthing\"\ncode = 1\ndistricts = [\"Quthing\"]\n\
         database_url = \"postgresql://a:secret@h/db\"\n",
    )
    .unwrap();
    let vars = BTreeMap::from([(
        "HMIS_REGION_QUTHING_DATABASE_URL".to_owned(),
        "postgresql://b@h2/db2".to_owned(),
    )]);
    let regions = region::load_dir(&dir, &BTreeMap::new(), &vars).unwrap();
    assert_eq!(regions[0].database_url.expose(), "postgresql://b@h2/db2");
    assert_eq!(regions[0].pool_size, 16);
    assert!(
        !format!(
            "{:?}",
            region::load_dir(&dir, &BTreeMap::new(), &BTreeMap::new()).unwrap()
        )
        .contains("secret")
    );
}

#[test]
fn the_throttling_window_is_in_seconds_and_a_file_in_minutes_keeps_its_meaning() {
    let path = write("window.toml", "");
    let s = load_file_settings(Some(&path), &BTreeMap::new()).unwrap();
    assert_eq!(s.auth.failure_window_secs(), 900);
    let vars = BTreeMap::from([(
        "HMIS_AUTH_FAILURE_WINDOW_SECONDS".to_owned(),
        "3".to_owned(),
    )]);
    let s = load_file_settings(Some(&path), &vars).unwrap();
    assert_eq!(s.auth.failure_window_secs(), 3);
    let old = write("old-window.toml", "[auth]\nfailure_window_minutes = 20\n");
    let s = load_file_settings(Some(&old), &BTreeMap::new()).unwrap();
    assert_eq!(s.auth.failure_window_secs(), 20 * 60);
}

/// A folder with one region file, `quthing`, whose URL is `postgresql://file@h/db`.
fn one_region(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hmis-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("quthing.toml"),
        "name = \"quthing\"\ndisplay_name = \"Quthing\"\ncode = 1\ndistricts = [\"Quthing\"]\n\
         database_url = \"postgresql://file@h/db\"\n",
    )
    .unwrap();
    dir
}

fn file_settings_of(text: &str, name: &str) -> (PathBuf, FileSettings) {
    let path = write(name, text);
    let file = load_file_settings(Some(&path), &BTreeMap::new()).unwrap();
    (path, file)
}

#[test]
fn a_regions_table_in_hmis_toml_overrides_the_region_file_and_the_environment_wins_over_both() {
    let dir = one_region("override");
    let (_, file) = file_settings_of(
        "[regions.quthing]\ndatabase_url = \"postgresql://toml@h/db\"\n",
        "override.toml",
    );
    let regions = region::load_dir(&dir, &file.regions, &BTreeMap::new()).unwrap();
    assert_eq!(regions[0].database_url.expose(), "postgresql://toml@h/db");
    let vars = BTreeMap::from([(
        "HMIS_REGION_QUTHING_DATABASE_URL".to_owned(),
        "postgresql://env@h/db".to_owned(),
    )]);
    let regions = region::load_dir(&dir, &file.regions, &vars).unwrap();
    assert_eq!(regions[0].database_url.expose(), "postgresql://env@h/db");
}

#[test]
fn an_unknown_key_in_a_regions_table_is_refused_naming_the_file_line_and_key() {
    let path = write(
        "override-typo.toml",
        "[regions.quthing]\ndatabase_url = \"postgresql://h/db\"\ndatabse_url = \"x\"\n",
    );
    let e = load_file_settings(Some(&path), &BTreeMap::new())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("override-typo.toml") && e.contains("line 3") && e.contains("databse_url"),
        "{e}"
    );
}

#[test]
fn a_regions_table_for_a_region_without_a_file_is_refused_naming_it_and_the_known_ones() {
    let dir = one_region("override-unknown");
    let (path, file) = file_settings_of(
        "[regions.qutihng]\ndatabase_url = \"postgresql://h/db\"\n",
        "override-unknown.toml",
    );
    let regions = region::load_dir(&dir, &file.regions, &BTreeMap::new()).unwrap();
    let e = region::check_overrides(&path, &file.regions, &regions)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("override-unknown.toml") && e.contains("qutihng") && e.contains("quthing"),
        "{e}"
    );
}

#[test]
fn counts_in_hmis_toml_that_would_abort_startup_are_refused_naming_the_key() {
    for (text, key) in [
        ("[central]\npool_size = 4000000000\n", "central.pool_size"),
        ("[central]\npool_size = 0\n", "central.pool_size"),
        (
            "[server]\nplanner_queries_per_region = 9000000000000000000\n",
            "server.planner_queries_per_region",
        ),
    ] {
        let path = write("counts.toml", text);
        let e = load_file_settings(Some(&path), &BTreeMap::new())
            .unwrap_err()
            .to_string();
        assert!(e.contains(key) && e.contains("counts.toml"), "{e}");
    }
    let path = write("counts.toml", "[central]\npool_size = 40\n");
    assert_eq!(
        load_file_settings(Some(&path), &BTreeMap::new())
            .unwrap()
            .central
            .pool_size,
        40
    );
}

#[test]
fn metrics_are_off_by_default_and_a_short_token_or_a_bad_address_is_refused_naming_the_key() {
    let path = write("metrics-empty.toml", "");
    let s = load_file_settings(Some(&path), &BTreeMap::new()).unwrap();
    assert_eq!((s.metrics.token(), s.metrics.listen()), (None, None));
    for (text, key) in [
        ("[metrics]\ntoken = \"short\"\n", "metrics.token"),
        ("[metrics]\nlisten = \"localhost\"\n", "metrics.listen"),
    ] {
        let path = write("metrics.toml", text);
        let e = load_file_settings(Some(&path), &BTreeMap::new())
            .unwrap_err()
            .to_string();
        assert!(e.contains(key) && e.contains("metrics.toml"), "{e}");
    }
    let vars = BTreeMap::from([("HMIS_METRICS_TOKEN".into(), "0123456789abcdefXYZ".into())]);
    let path = write(
        "metrics-ok.toml",
        "[metrics]\nlisten = \"127.0.0.1:9464\"\n",
    );
    let s = load_file_settings(Some(&path), &vars).unwrap();
    assert_eq!(s.metrics.token(), Some("0123456789abcdefXYZ"));
    assert_eq!(s.metrics.listen().unwrap().port(), 9464);
    // Printed settings never show it.
    assert!(!format!("{s:?}").contains("0123456789abcdef"));
}
