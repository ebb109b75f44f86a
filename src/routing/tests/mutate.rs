//! Mutations of real configuration files for the property tests: the edits an operator
//! makes by mistake at night (a dropped line, a value of the wrong type, a rule pasted
//! twice, a huge number, a stray non-ASCII character, an empty or truncated file), and the
//! records whose placement must survive any edit that still loads. Shared by the rule
//! tests here and the region file tests in `config`.

use crate::routing::{Record, RouteError, RuleSet};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

/// A bounded, reproducible run: the same cases on every machine, nothing written to disk.
pub(crate) fn config(cases: u32) -> Config {
    Config {
        cases,
        rng_seed: RngSeed::Fixed(14),
        failure_persistence: None,
        max_shrink_iters: 4096,
        ..Config::default()
    }
}

/// One edit of a file's text; indices are reduced modulo the file's size when applied.
#[derive(Debug, Clone)]
pub(crate) enum Edit {
    DropLine(usize),
    DuplicateLine(usize),
    SwapLines(usize, usize),
    /// The value after `=` on a `key = value` line replaced by another TOML value.
    Retype(usize, String),
    /// The first quoted string of a line replaced (escaped, so the TOML stays valid).
    Restring(usize, String),
    /// Characters inserted raw (not escaped) at a character position of a line.
    Insert(usize, usize, String),
    /// The `[[rule]]` block holding a line pasted again at the end, renamed or not.
    DuplicateBlock(usize, bool),
    Truncate(usize),
    Empty,
}

/// Values of every TOML type, and the sizes that break naive code.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        Just("99999999999999999999999999".to_owned()),
        Just("-1".to_owned()),
        Just("0".to_owned()),
        Just("65536".to_owned()),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| format!("{f:?}")),
        Just("nan".to_owned()),
        Just("inf".to_owned()),
        any::<bool>().prop_map(|b| b.to_string()),
        Just("1979-05-27T07:32:00Z".to_owned()),
        Just("[]".to_owned()),
        Just("[1, 2]".to_owned()),
        Just("[\"a\", 1]".to_owned()),
        Just("{}".to_owned()),
        Just("{ eq = 1 }".to_owned()),
        Just("{ district = { eq = \"Maseru\" }, district2 = {} }".to_owned()),
        Just("\"\"".to_owned()),
        text().prop_map(|s| toml_string(&s)),
        Just(toml_string(&"x".repeat(100_000))),
    ]
}

/// Text with the characters that matter: unicode, combining marks, controls, quotes.
pub(crate) fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-zA-Z' -]{0,12}",
        Just("Quthíng".to_owned()),
        Just("Qu\u{0301}thing".to_owned()),
        Just("Maseru\u{0}".to_owned()),
        Just("\u{202e}uresaM".to_owned()),
        Just("Mohale\u{2019}s Hoek".to_owned()),
        Just("maseru".to_owned()),
        Just("leribe".to_owned()),
        Just("patient".to_owned()),
    ]
}

/// `s` as a TOML basic string.
pub(crate) fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

pub(crate) fn edit() -> impl Strategy<Value = Edit> {
    let i = any::<usize>();
    prop_oneof![
        3 => i.prop_map(Edit::DropLine),
        1 => i.prop_map(Edit::DuplicateLine),
        1 => (i, any::<usize>()).prop_map(|(a, b)| Edit::SwapLines(a, b)),
        3 => (i, value()).prop_map(|(l, v)| Edit::Retype(l, v)),
        3 => (i, text()).prop_map(|(l, s)| Edit::Restring(l, s)),
        2 => (i, any::<usize>(), text()).prop_map(|(l, c, s)| Edit::Insert(l, c, s)),
        2 => (i, any::<bool>()).prop_map(|(l, r)| Edit::DuplicateBlock(l, r)),
        1 => any::<usize>().prop_map(Edit::Truncate),
        1 => Just(Edit::Empty),
    ]
}

/// One to three edits.
pub(crate) fn edits() -> impl Strategy<Value = Vec<Edit>> {
    prop::collection::vec(edit(), 1..=3)
}

pub(crate) fn apply(text: &str, edits: &[Edit]) -> String {
    edits.iter().fold(text.to_owned(), |t, e| apply_one(&t, e))
}

fn apply_one(text: &str, edit: &Edit) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    if lines.is_empty() {
        return text.to_owned();
    }
    let n = lines.len();
    match edit {
        Edit::DropLine(i) => {
            lines.remove(i % n);
        }
        Edit::DuplicateLine(i) => {
            let line = lines[i % n].clone();
            lines.insert(i % n, line);
        }
        Edit::SwapLines(a, b) => lines.swap(a % n, b % n),
        Edit::Retype(i, v) => {
            let line = &mut lines[i % n];
            if let Some(eq) = line.find('=') {
                *line = format!("{}= {v}", &line[..eq]);
            }
        }
        Edit::Restring(i, s) => {
            let line = &mut lines[i % n];
            let quotes: Vec<usize> = line.match_indices('"').map(|(at, _)| at).collect();
            if let [open, close, ..] = quotes[..] {
                *line = format!("{}{}{}", &line[..open], toml_string(s), &line[close + 1..]);
            }
        }
        Edit::Insert(i, c, s) => {
            let line = &mut lines[i % n];
            let at = line
                .char_indices()
                .map(|(b, _)| b)
                .chain([line.len()])
                .nth(c % (line.chars().count() + 1))
                .unwrap_or(line.len());
            line.insert_str(at, s);
        }
        Edit::DuplicateBlock(i, rename) => {
            let starts: Vec<usize> = (0..n).filter(|&l| lines[l] == "[[rule]]").collect();
            let Some(&start) = starts
                .iter()
                .rev()
                .find(|&&s| s <= i % n)
                .or(starts.first())
            else {
                return text.to_owned();
            };
            let end = starts.iter().find(|&&s| s > start).copied().unwrap_or(n);
            let mut block = lines[start..end].to_vec();
            if *rename {
                for line in block.iter_mut().filter(|l| l.starts_with("name =")) {
                    *line = "name = \"pasted-again\"".to_owned();
                }
            }
            lines.push(String::new());
            lines.extend(block);
        }
        Edit::Truncate(at) => {
            let cut = text
                .char_indices()
                .map(|(b, _)| b)
                .nth(at % text.chars().count().max(1))
                .unwrap_or(0);
            return text[..cut].to_owned();
        }
        Edit::Empty => return String::new(),
    }
    lines.join("\n") + "\n"
}

/// Records of every kind the rules know, and some they do not: every district with and
/// without other fields, districts no region serves, children with and without a parent.
pub(crate) fn records(districts: &[&str]) -> Vec<Record> {
    let mut out = vec![Record::new("patient"), Record::new("prescription")];
    let odd = [
        "",
        "Nowhere",
        "quthing",
        "Quthing ",
        "Maseru\u{0}",
        "Quthíng",
    ];
    for d in districts.iter().chain(&odd) {
        out.push(Record::new("patient").with("district", *d));
        out.push(
            Record::new("patient")
                .with("district", *d)
                .with("village", "Ha Foso")
                .with("facility", "QT-01")
                .with("sex", "female")
                .with("national_id", "0123456789"),
        );
    }
    for entity in ["observation", "appointment", "prescription"] {
        out.push(Record::new(entity));
        for id in ["P-maseru-1", "P-quthing-2", "P-leribe-3", "P-nowhere-4", ""] {
            out.push(
                Record::new(entity)
                    .with("patient_id", id)
                    .with("code", "8867-4"),
            );
        }
    }
    out
}

/// Where `rules` puts each record, as region names (refusals as `Err`).
pub(crate) fn placements(rules: &RuleSet, records: &[Record]) -> Vec<Result<String, RouteError>> {
    records
        .iter()
        .map(|r| rules.route(r, &super::resolve).map(|p| p.region))
        .collect()
}

/// Fails naming the record when `after` places anywhere else a record `before` placed:
/// an edit that still loads may refuse a record (fail closed), never move it.
pub(crate) fn same_or_refused(
    records: &[Record],
    before: &[Result<String, RouteError>],
    after: &[Result<String, RouteError>],
) -> Result<(), TestCaseError> {
    for ((record, b), a) in records.iter().zip(before).zip(after) {
        if let (Ok(b), Ok(a)) = (b, a) {
            prop_assert_eq!(a, b, "{:?} moved", record);
        }
    }
    Ok(())
}
