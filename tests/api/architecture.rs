//! The crate's layers, checked: a top-level module of `src/` may use only modules listed
//! before it in [`LAYERS`], so imports run one way and no module can reach, directly or
//! through others, one that reaches it back. `src/lib.rs` declares its modules in the
//! same order, and its `# Layout` shows them. Test code (`#[cfg(test)]` modules,
//! `*_tests.rs`, `tests/` folders) and comments are not checked.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Bottom to top. Adding a module: put it in the lowest layer whose modules it needs.
const LAYERS: &[(&str, &[&str])] = &[
    ("pure", &["domain", "routing", "clinical", "config"]),
    (
        "infrastructure",
        &[
            "telemetry",
            "dbroles",
            "pgcluster",
            "shards",
            "audit",
            "bus",
            "auth",
            "authz",
            "fanout",
            "changes",
            "federate",
            "migrate",
            "transfer",
            "notices",
        ],
    ),
    ("state", &["app"]),
    ("http vocabulary", &["http", "records"]),
    (
        "resources",
        &[
            "admin",
            "login",
            "observations",
            "patients",
            "planning",
            "stats",
            "live",
            "notifications",
            "regions",
            "ui",
        ],
    ),
    ("router", &["server"]),
    ("commands", &["dev", "cli"]),
];

fn order() -> Vec<&'static str> {
    LAYERS
        .iter()
        .flat_map(|(_, mods)| mods.iter().copied())
        .collect()
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The top-level modules `src/` has: `src/x.rs` and `src/x/`.
fn modules_on_disk() -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(src())
        .unwrap()
        .filter_map(|e| {
            let e = e.unwrap();
            let name = e.file_name().into_string().unwrap();
            if e.path().is_dir() {
                Some(name)
            } else {
                name.strip_suffix(".rs")
                    .filter(|n| !matches!(*n, "lib" | "main"))
                    .map(str::to_owned)
            }
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Every non-test `.rs` file under `dir`.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if name != "tests" {
                sources(&path, out);
            }
        } else if name.ends_with(".rs") && !name.ends_with("_tests.rs") && name != "tests.rs" {
            out.push(path);
        }
    }
}

/// The code of a file without comments and without its `#[cfg(test)] mod` (always last).
fn code(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod ") {
        Some(i) => &text[..i],
        None => text,
    };
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules a file's code names through `crate::`, with the line.
fn uses(text: &str) -> Vec<(String, usize)> {
    let mut out = Vec::new();
    for (n, line) in code(text).lines().enumerate() {
        let mut rest = line;
        while let Some(i) = rest.find("crate::") {
            rest = &rest[i + "crate::".len()..];
            if let Some(group) = rest.strip_prefix('{') {
                let inner = &group[..group.find('}').unwrap_or(group.len())];
                for part in inner.split(',') {
                    let m = part.trim().split("::").next().unwrap_or("").trim();
                    if !m.is_empty() {
                        out.push((m.to_owned(), n + 1));
                    }
                }
            } else {
                let m: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                out.push((m, n + 1));
            }
        }
    }
    out
}

#[test]
fn every_module_of_src_has_a_place_in_the_layers() {
    let mut listed: Vec<String> = order().iter().map(|m| m.to_string()).collect();
    listed.sort();
    assert_eq!(
        modules_on_disk(),
        listed,
        "every top-level module of src/ must be listed once in LAYERS (tests/api/architecture.rs)"
    );
}

#[test]
fn lib_rs_declares_the_modules_in_the_order_of_the_layers() {
    let lib = std::fs::read_to_string(src().join("lib.rs")).unwrap();
    let declared: Vec<&str> = lib
        .lines()
        .filter_map(|l| l.strip_prefix("pub mod "))
        .map(|l| l.trim_end_matches(';'))
        .collect();
    assert_eq!(
        declared,
        order(),
        "src/lib.rs declares its modules bottom to top"
    );
    for (layer, mods) in LAYERS {
        for m in *mods {
            assert!(
                lib.contains(&format!("[`{m}`]")),
                "src/lib.rs's # Layout names [`{m}`] ({layer})"
            );
        }
    }
}

#[test]
fn no_module_imports_a_module_above_it() {
    let rank: BTreeMap<&str, usize> = order()
        .into_iter()
        .enumerate()
        .map(|(i, m)| (m, i))
        .collect();
    let mut wrong = Vec::new();
    for module in order() {
        let mut files = Vec::new();
        let dir = src().join(module);
        if dir.is_dir() {
            sources(&dir, &mut files);
        } else {
            files.push(src().join(format!("{module}.rs")));
        }
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for (used, line) in uses(&text) {
                if let Some(&r) = rank.get(used.as_str())
                    && r > rank[module]
                {
                    let at = file.strip_prefix(src()).unwrap().display();
                    wrong.push(format!(
                        "src/{at}:{line}: {module} uses crate::{used}, above it"
                    ));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layers:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_import_scanner_sees_paths_groups_and_skips_comments_and_tests() {
    let text = "use crate::a::B;\nuse crate::{b, c::D};\n// crate::e\nlet x = crate::f::g();\n#[cfg(test)]\nmod tests { use crate::h; }\n";
    let names: Vec<String> = uses(text).into_iter().map(|(m, _)| m).collect();
    assert_eq!(names, ["a", "b", "c", "f"]);
}
