//! Loading settings: defaults, errors that name file and line, `HMIS_` overrides.

use super::*;

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
    let regions = region::load_dir(&dir, &vars).unwrap();
    assert_eq!(regions[0].database_url.expose(), "postgresql://b@h2/db2");
    assert_eq!(regions[0].pool_size, 16);
    assert!(!format!("{:?}", region::load_dir(&dir, &BTreeMap::new()).unwrap()).contains("secret"));
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
