//! Property tests of the region files and of the rule files as `hmis` loads them from
//! disk: whatever an operator leaves in `regions/*.toml`, loading never panics and every
//! refusal names the file and the line or key at fault; an edit that still loads never
//! moves a record that the shipped files place (the rules may then refuse it). Seeded,
//! bounded (see `routing::tests::mutate::config`).

use super::*;
use crate::routing::tests::mutate::{
    self, config, edits, placements, records, same_or_refused, text, toml_string,
};
use proptest::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};

const REGIONS: [(&str, &str); 4] = [
    ("leribe", include_str!("../../../regions/leribe.toml")),
    ("mafeteng", include_str!("../../../regions/mafeteng.toml")),
    ("maseru", include_str!("../../../regions/maseru.toml")),
    ("quthing", include_str!("../../../regions/quthing.toml")),
];

const RULES: [(&str, &str); 2] = [
    (
        "10-patients.toml",
        include_str!("../../../routing-rules/10-patients.toml"),
    ),
    (
        "20-clinical.toml",
        include_str!("../../../routing-rules/20-clinical.toml"),
    ),
];

/// The keys of a region file: a refusal without a line must name one of them.
const REGION_KEYS: &[&str] = &[
    "name",
    "display_name",
    "code",
    "districts",
    "time_zone",
    "database_url",
    "pool_size",
];

/// A fresh folder holding `files`, removed when dropped.
struct Folder(PathBuf);

impl Folder {
    fn new(files: &[(String, String)]) -> Folder {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("hmis-prop-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in files {
            std::fs::write(dir.join(name), text).unwrap();
        }
        Folder(dir)
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn owned(files: &[(&str, &str)]) -> Vec<(String, String)> {
    files
        .iter()
        .map(|(n, t)| ((*n).to_owned(), (*t).to_owned()))
        .collect()
}

fn region_files_with(region: &str, text: &str) -> Vec<(String, String)> {
    REGIONS
        .iter()
        .map(|(name, t)| {
            let t = if *name == region { text } else { t };
            (format!("{name}.toml"), t.to_owned())
        })
        .collect()
}

fn load_regions(files: &[(String, String)]) -> Result<Vec<RegionSettings>, ConfigError> {
    let folder = Folder::new(files);
    region::load_dir(&folder.0, &BTreeMap::new(), &BTreeMap::new())
}

fn load_rules_of(
    files: &[(String, String)],
    regions: &[RegionSettings],
) -> Result<RuleSet, ConfigError> {
    let folder = Folder::new(files);
    load_rules(&folder.0, regions)
}

fn districts() -> Vec<String> {
    REGIONS
        .iter()
        .flat_map(|(_, t)| toml::from_str::<RegionSettings>(t).unwrap().districts)
        .collect()
}

/// Where the shipped rules put the test records against the shipped regions.
fn shipped_placements() -> Vec<Result<String, crate::routing::RouteError>> {
    let regions = load_regions(&region_files_with("", "")).expect("shipped regions load");
    let rules = load_rules_of(&owned(&RULES), &regions).expect("shipped rules load");
    let districts = districts();
    let names: Vec<&str> = districts.iter().map(String::as_str).collect();
    placements(&rules, &records(&names))
}

/// A region folder with `region`'s file replaced by `text` loads and places every record
/// as before (or refuses it), or is refused naming the file and the line or key.
fn check_regions(region: &str, text: &str) -> Result<(), TestCaseError> {
    let files = region_files_with(region, text);
    let regions = match load_regions(&files) {
        Ok(regions) => regions,
        Err(e) => {
            let file = format!("{region}.toml");
            let folder_wide = e.message.contains("both use code");
            prop_assert!(
                e.file.ends_with(&file) || folder_wide,
                "{} does not name {}",
                e,
                file
            );
            let named =
                e.message.contains("line ") || REGION_KEYS.iter().any(|k| e.message.contains(k));
            prop_assert!(named, "{} names neither a line nor a key", e);
            return Ok(());
        }
    };
    let rules = match load_rules_of(&owned(&RULES), &regions) {
        Ok(rules) => rules,
        // Rules that no longer agree with the regions: refused, every line naming a file.
        Err(e) => {
            for line in e.message.lines().skip(1) {
                let line = line.trim();
                let named = line.contains(".toml:") || line.starts_with("regions:");
                prop_assert!(named || line.contains(": district"), "{}", line);
            }
            return Ok(());
        }
    };
    let districts = districts();
    let names: Vec<&str> = districts.iter().map(String::as_str).collect();
    let all = records(&names);
    same_or_refused(&all, &shipped_placements(), &placements(&rules, &all))
}

/// A region file's keys with values of any type, and some keys no region file has.
fn region_table() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        text().prop_map(toml::Value::String),
        any::<i64>().prop_map(toml::Value::Integer),
        any::<f64>().prop_map(toml::Value::Float),
        any::<bool>().prop_map(toml::Value::Boolean),
        prop::collection::vec(text().prop_map(toml::Value::String), 0..4)
            .prop_map(toml::Value::Array),
        Just(toml::Value::Table(toml::Table::new())),
    ];
    let key = prop_oneof![
        4 => prop::sample::select(REGION_KEYS.to_vec()).prop_map(str::to_owned),
        1 => text(),
    ];
    prop::collection::btree_map(key, value, 0..9).prop_filter_map("serializable", |m| {
        toml::to_string(&m.into_iter().collect::<toml::Table>()).ok()
    })
}

fn region_name() -> impl Strategy<Value = &'static str> {
    prop::sample::select(REGIONS.iter().map(|(n, _)| *n).collect::<Vec<_>>())
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn an_edit_of_a_shipped_region_file_is_refused_naming_it_or_moves_no_record(
        region in region_name(),
        edits in edits(),
    ) {
        let text = REGIONS.iter().find(|(n, _)| *n == region).unwrap().1;
        check_regions(region, &mutate::apply(text, &edits))?;
    }

    #[test]
    fn any_text_as_a_region_file_is_refused_naming_it_or_moves_no_record(
        region in region_name(),
        text in prop_oneof![any::<String>(), "[a-z_ =\"\\[\\],\n0-9]{0,120}"],
    ) {
        check_regions(region, &text)?;
    }

    #[test]
    fn any_toml_in_the_shape_of_a_region_file_is_refused_naming_it_or_moves_no_record(
        region in region_name(),
        text in region_table(),
    ) {
        check_regions(region, &text)?;
    }

    #[test]
    fn an_edit_of_a_shipped_rule_file_on_disk_is_refused_naming_its_file_and_line(
        which in 0..RULES.len(),
        edits in edits(),
    ) {
        let mut files = owned(&RULES);
        files[which].1 = mutate::apply(&files[which].1, &edits);
        let regions = load_regions(&region_files_with("", "")).unwrap();
        if let Err(e) = load_rules_of(&files, &regions) {
            prop_assert!(e.message.starts_with("invalid routing rules:"), "{}", e);
            for line in e.message.lines().skip(1) {
                let line = line.trim();
                // `<folder>/<file>.toml:<line>: ...`, or the folder for a district no rule places.
                let at_line = line.split(".toml:").nth(1).and_then(|r| r.split(':').next());
                let numbered = at_line.is_some_and(|n| n.parse::<usize>().is_ok());
                prop_assert!(numbered || line.contains(": district"), "{}", line);
            }
        }
    }
}

#[test]
fn a_region_name_in_unicode_is_refused_naming_the_file_and_the_key() {
    let text = REGIONS[3].1.replace(
        "name = \"quthing\"",
        &format!("name = {}", toml_string("qúthing")),
    );
    let e = load_regions(&region_files_with("quthing", &text)).unwrap_err();
    assert!(
        e.file.ends_with("quthing.toml") && e.message.contains("name"),
        "{e}"
    );
}

/// A huge number (one of the region file edits) loaded as `pool_size`, and the pool,
/// which reserves a slot per connection when it is built (deadpool's
/// `VecDeque::with_capacity`), would then fail to allocate and abort hmis at startup.
#[test]
fn a_pool_size_no_database_could_serve_is_refused_naming_the_key() {
    for size in ["262144", "10000000000", "9223372036854775807"] {
        let text = REGIONS[3]
            .1
            .replace("pool_size = 16", &format!("pool_size = {size}"));
        let e = load_regions(&region_files_with("quthing", &text)).unwrap_err();
        assert!(
            e.file.ends_with("quthing.toml") && e.message.contains("pool_size"),
            "{e}"
        );
    }
    let text = REGIONS[3].1.replace("pool_size = 16", "pool_size = 262143");
    assert!(load_regions(&region_files_with("quthing", &text)).is_ok());
}
