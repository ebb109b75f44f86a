//! The scanner's own tests, on crates written for them into a temporary folder.

use super::scanner::scan_module;
use std::path::{Path, PathBuf};

/// A crate's `src/` with these files, in a folder of its own.
pub struct Tree(pub PathBuf);

impl Tree {
    pub fn new(name: &str, files: &[(&str, &str)]) -> Tree {
        let root =
            std::env::temp_dir().join(format!("hmis-architecture-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for (path, text) in files {
            let path = root.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        Tree(root)
    }

    /// The modules `module` names, with their lines, and the files read as code.
    fn uses(&self, module: &str) -> (Vec<(String, usize)>, Vec<String>) {
        let scan = scan_module(&self.0, module);
        let uses = scan.uses.into_iter().map(|(_, m, l)| (m, l)).collect();
        let files = scan.code.iter().map(|f| self.name(f)).collect();
        (uses, files)
    }

    fn name(&self, file: &Path) -> String {
        file.strip_prefix(&self.0).unwrap().display().to_string()
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn names(uses: &[(String, usize)]) -> Vec<&str> {
    uses.iter().map(|(m, _)| m.as_str()).collect()
}

#[test]
fn the_import_scanner_sees_paths_groups_and_skips_comments_and_tests() {
    let text = "use crate::a::B;\nuse crate::{b, c::D};\n// crate::e\nlet x = crate::f::g();\n\
                /* crate::i */ /// crate::j\nconst S: &str = \"crate::k\";\n\
                #[cfg(test)]\nmod tests { use crate::h; }\nfn after() { crate::l::m() }\n";
    let tree = Tree::new("paths", &[("x.rs", text)]);
    let (uses, _) = tree.uses("x");
    assert_eq!(names(&uses), ["a", "b", "c", "f", "l"]);
    assert_eq!(uses[4].1, 9, "the line of crate::l");
}

#[test]
fn the_import_scanner_reads_groups_over_several_lines_and_inside_groups() {
    let text =
        "use crate::{\n    a::B,\n    b::{C, D},\n    c,\n};\nuse crate::{d::{self, E}, e};\n";
    let tree = Tree::new("groups", &[("x.rs", text)]);
    let (uses, _) = tree.uses("x");
    let at: Vec<(&str, usize)> = uses.iter().map(|(m, l)| (m.as_str(), *l)).collect();
    assert_eq!(at, [("a", 2), ("b", 3), ("c", 4), ("d", 6), ("e", 6)]);
}

#[test]
fn the_import_scanner_reads_a_module_file_beside_its_folder_and_every_file_declared() {
    let tree = Tree::new(
        "beside",
        &[
            ("x.rs", "mod y;\npub mod z;\nuse crate::a;\n"),
            ("x/y.rs", "use crate::b;\nmod w { use crate::c; mod v; }\n"),
            ("x/y/w/v.rs", "use crate::d;\n"),
            ("x/z/mod.rs", "use crate::e;\n"),
        ],
    );
    let (uses, mut files) = tree.uses("x");
    files.sort();
    let mut names = names(&uses);
    names.sort();
    assert_eq!(names, ["a", "b", "c", "d", "e"]);
    assert_eq!(files, ["x.rs", "x/y.rs", "x/y/w/v.rs", "x/z/mod.rs"]);
}

#[test]
fn the_import_scanner_skips_test_module_files_and_reads_the_code_after_their_declaration() {
    let tree = Tree::new(
        "tests",
        &[
            (
                "x/mod.rs",
                "mod y;\n#[cfg(test)]\nmod tests;\nuse crate::a;\n#[cfg(test)]\npub(crate) mod more;\nfn f() { crate::b::g() }\n",
            ),
            (
                "x/y.rs",
                "#[cfg(test)]\n#[path = \"y_tests.rs\"]\nmod tests;\nuse crate::c;\n",
            ),
            ("x/tests.rs", "use crate::t;\nmod deeper;\n"),
            ("x/tests/deeper.rs", "use crate::t;\n"),
            ("x/more/mod.rs", "use crate::t;\n"),
            ("x/y_tests.rs", "use crate::t;\n"),
            ("x/helpers_tests.rs", "use crate::d;\n"),
        ],
    );
    let (uses, mut files) = tree.uses("x");
    files.sort();
    assert_eq!(names(&uses), ["c", "a", "b"]);
    assert_eq!(files, ["x/mod.rs", "x/y.rs"]);
    let scan = scan_module(&tree.0, "x");
    let mut tests: Vec<String> = scan.tests.iter().map(|f| tree.name(f)).collect();
    tests.sort();
    assert_eq!(
        tests,
        [
            "x/more/mod.rs",
            "x/tests.rs",
            "x/tests/deeper.rs",
            "x/y_tests.rs"
        ]
    );
}

#[test]
fn the_import_scanner_sees_super_paths_that_climb_to_the_root() {
    let tree = Tree::new(
        "super",
        &[
            ("x.rs", "mod y;\nuse super::a::B;\nuse super::super::not;\n"),
            (
                "x/y.rs",
                "use super::z;\nuse super::super::b;\nmod w { use super::super::super::{c, d}; }\n",
            ),
        ],
    );
    let (uses, _) = tree.uses("x");
    let mut names = names(&uses);
    names.sort();
    assert_eq!(names, ["a", "b", "c", "d"]);
}
