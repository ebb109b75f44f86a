//! The crate's layers, checked: a top-level module of `src/` may use only modules listed
//! before it in [`LAYERS`], so imports run one way and no module can reach, directly or
//! through others, one that reaches it back; the modules of an independent layer (the
//! resources) use none of each other. `src/lib.rs` declares its modules in the same
//! order, and its `# Layout` shows them, top to bottom.
//!
//! The [`scanner`] reads each module as the compiler does: from its root file through its
//! `mod` declarations (`src/x.rs` and the files of `src/x/` it declares), as Rust tokens.
//! Test code is not checked: a `#[cfg(test)]` module, inline or in files of its own, and
//! everything it declares. A file of `src/` no module declares fails the test too.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

mod scanner;
mod scanner_tests;

use scanner::scan_module;
use scanner_tests::Tree;

struct Layer {
    name: &'static str,
    modules: &'static [&'static str],
    /// Its modules use none of each other (`src/lib.rs` says so under its heading).
    independent: bool,
}

/// Bottom to top; within a layer that is not independent, a module may use only those
/// before it. Adding a module: put it in the lowest layer whose modules it needs.
const LAYERS: &[Layer] = &[
    Layer {
        name: "pure",
        modules: &["domain", "routing", "clinical", "config"],
        independent: false,
    },
    Layer {
        name: "infrastructure",
        modules: &[
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
        independent: false,
    },
    Layer {
        name: "state",
        modules: &["app"],
        independent: false,
    },
    Layer {
        name: "http vocabulary",
        modules: &["http", "records"],
        independent: false,
    },
    Layer {
        name: "resources",
        modules: &[
            "ui",
            "regions",
            "notifications",
            "live",
            "planning",
            "stats",
            "observations",
            "patients",
            "admin",
            "login",
        ],
        independent: true,
    },
    Layer {
        name: "router",
        modules: &["server"],
        independent: false,
    },
    Layer {
        name: "commands",
        modules: &["dev", "cli"],
        independent: false,
    },
];

fn order() -> Vec<&'static str> {
    LAYERS
        .iter()
        .flat_map(|l| l.modules.iter().copied())
        .collect()
}

fn layer_of(module: &str) -> Option<&'static Layer> {
    LAYERS.iter().find(|l| l.modules.contains(&module))
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

/// The layers `src/lib.rs`'s `# Layout` shows, top to bottom: each heading (`**Resources**`,
/// lower case) with its modules (`- [`login`]: ...`) and what the heading's line says.
fn layout(lib: &str) -> Vec<(String, String, Vec<String>)> {
    let mut out: Vec<(String, String, Vec<String>)> = Vec::new();
    let docs = lib.lines().map_while(|l| l.strip_prefix("//!"));
    let section = docs
        .skip_while(|l| l.trim() != "# Layout")
        .skip(1)
        .take_while(|l| !l.trim_start().starts_with('#'));
    for line in section {
        let line = line.trim();
        if let Some(heading) = line.strip_prefix("**") {
            let (name, said) = heading.split_once("**").unwrap_or((heading, ""));
            out.push((name.to_lowercase(), said.trim().to_owned(), Vec::new()));
        } else if let Some(item) = line.strip_prefix("- [`")
            && let Some((module, _)) = item.split_once("`]")
            && let Some((_, _, modules)) = out.last_mut()
        {
            modules.push(module.to_owned());
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
}

#[test]
fn lib_rs_layout_shows_the_layers_and_their_modules_top_to_bottom_in_the_order_of_the_test() {
    let lib = std::fs::read_to_string(src().join("lib.rs")).unwrap();
    let shown: Vec<(String, Vec<String>)> = layout(&lib)
        .into_iter()
        .map(|(name, _, modules)| (name, modules))
        .collect();
    let listed: Vec<(String, Vec<String>)> = LAYERS
        .iter()
        .rev()
        .map(|l| {
            let modules = l.modules.iter().rev().map(|m| m.to_string()).collect();
            (l.name.to_owned(), modules)
        })
        .collect();
    assert_eq!(
        shown, listed,
        "src/lib.rs's # Layout lists LAYERS (tests/api/architecture.rs) reversed"
    );
    for (name, said, _) in layout(&lib) {
        let independent = LAYERS.iter().any(|l| l.name == name && l.independent);
        assert_eq!(
            said.contains("none uses another"),
            independent,
            "# Layout's {name}: \"none uses another\" if and only if LAYERS says independent"
        );
    }
}

/// What is wrong with the imports of the crate rooted at `root` (`order` bottom to top).
fn against_the_layers(root: &Path, order: &[&str]) -> Vec<String> {
    let rank: BTreeMap<&str, usize> = order.iter().enumerate().map(|(i, m)| (*m, i)).collect();
    let mut wrong = Vec::new();
    for &module in order {
        for (file, used, line) in scan_module(root, module).uses {
            let Some(&r) = rank.get(used.as_str()) else {
                continue;
            };
            let at = file.strip_prefix(root).unwrap().display();
            let independent = layer_of(module)
                .is_some_and(|l| l.independent && l.modules.contains(&used.as_str()));
            if r > rank[module] {
                wrong.push(format!(
                    "src/{at}:{line}: {module} uses crate::{used}, above it"
                ));
            } else if independent && used != module {
                wrong.push(format!(
                    "src/{at}:{line}: {module} uses crate::{used} of its own layer, whose modules are independent"
                ));
            }
        }
    }
    wrong
}

#[test]
fn no_module_imports_a_module_above_it_or_another_of_an_independent_layer() {
    let wrong = against_the_layers(&src(), &order());
    assert!(
        wrong.is_empty(),
        "imports against the layers:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn every_file_of_src_is_read_as_code_or_known_as_a_test() {
    let (mut code, mut tests) = (Vec::new(), Vec::new());
    for module in order() {
        let scan = scan_module(&src(), module);
        code.extend(scan.code);
        tests.extend(scan.tests);
    }
    let mut unread = Vec::new();
    rust_files(&src(), &mut unread);
    unread.retain(|f| {
        let top = f.strip_prefix(src()).unwrap();
        !code.contains(f)
            && !tests.contains(f)
            && !matches!(top.to_str(), Some("lib.rs" | "main.rs"))
    });
    assert!(unread.is_empty(), "files no module declares: {unread:?}");
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn an_import_of_a_module_above_or_of_another_resource_is_against_the_layers() {
    let tree = Tree::new(
        "layers",
        &[
            ("domain.rs", "use crate::app::App;\n"),
            ("app.rs", "use crate::domain;\n"),
            ("login.rs", "use crate::{http, admin::Admin};\n"),
            ("admin.rs", "use crate::app;\n"),
            ("http.rs", "use crate::shards;\n"),
        ],
    );
    let wrong = against_the_layers(&tree.0, &["domain", "app", "http", "admin", "login"]);
    assert_eq!(
        wrong,
        [
            "src/domain.rs:1: domain uses crate::app, above it",
            "src/login.rs:1: login uses crate::admin of its own layer, whose modules are independent",
        ]
    );
}
#[test]
fn the_layout_reader_sees_headings_in_order_with_their_modules() {
    let lib = "//! hmis\n//!\n//! # Layout\n//!\n//! **Router**\n//! - [`server`]: merged.\n//!\n\
               //! **Resources** (each exports its `router()`; none uses another)\n//! - [`login`]: in.\n\
               //! - [`admin`]: the admin API,\n//!   over two lines.\n//!\n//! # Other\n//! - [`cli`]: no.\n";
    let shown = layout(lib);
    assert_eq!(
        shown,
        [
            ("router".into(), String::new(), vec!["server".into()]),
            (
                "resources".into(),
                "(each exports its `router()`; none uses another)".into(),
                vec!["login".into(), "admin".into()]
            ),
        ]
    );
}
