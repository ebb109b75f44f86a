//! The first screen's budget, checked on the files embedded in the binary: what a clinic
//! on a slow link downloads before it can sign in stays under 150 KB gzipped, and the
//! charting library (uPlot) is not part of it: it loads with the patient page's charts.

use super::{Dist, content_type, first_screen_assets};
use std::io::Write;

/// The most the first screen may weigh, gzipped.
const BUDGET: usize = 150 * 1024;

fn embedded(path: &str) -> Vec<u8> {
    Dist::get(path)
        .unwrap_or_else(|| panic!("index.html names {path}, which ui/dist does not have"))
        .data
        .into_owned()
}

fn gzipped_size(bytes: &[u8]) -> usize {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap().len()
}

fn index() -> String {
    String::from_utf8(embedded("index.html")).unwrap()
}

/// What in a file's text says uPlot's code or stylesheet is in it. Its name alone does
/// not: the entry names the lazily loaded chunks it may fetch later.
fn holds_uplot(text: &str) -> Option<&'static str> {
    // "uPlot" survives in unminified code; minified, its class-name constants do, and its
    // stylesheet starts with its box-sizing rule.
    ["uPlot", "u-cursor-pt", ".uplot,.uplot *"]
        .into_iter()
        .find(|marker| text.contains(marker))
}

#[test]
fn the_first_screen_weighs_less_than_150_kb_gzipped() {
    let html = index();
    let mut total = gzipped_size(html.as_bytes());
    let mut lines = vec![format!("  index.html: {total} bytes")];
    for path in first_screen_assets(&html) {
        let size = gzipped_size(&embedded(&path));
        lines.push(format!("  {path}: {size} bytes"));
        total += size;
    }
    println!(
        "the first screen: {total} bytes gzipped ({:.1} KB of {} KB)\n{}",
        total as f64 / 1024.0,
        BUDGET / 1024,
        lines.join("\n")
    );
    assert!(
        total < BUDGET,
        "the first screen is {total} bytes gzipped, over {BUDGET}:\n{}",
        lines.join("\n")
    );
}

#[test]
fn no_file_of_the_first_screen_holds_uplot() {
    let html = index();
    let names: Vec<String> = Dist::iter()
        .filter_map(|p| p.strip_prefix("assets/").map(str::to_owned))
        .collect();
    for path in first_screen_assets(&html) {
        let mut text = String::from_utf8_lossy(&embedded(&path)).into_owned();
        for name in &names {
            text = text.replace(name.as_str(), "");
        }
        if let Some(marker) = holds_uplot(&text) {
            panic!("{path}, loaded by index.html, holds uPlot ({marker:?}): import it lazily");
        }
    }
}

#[test]
fn uplot_is_recognised_minified_or_not_but_not_by_a_chunk_name() {
    assert!(holds_uplot("function uPlot(opts, data) {}").is_some());
    assert!(holds_uplot("var p=`u-cursor-pt`,m=`u-legend`").is_some());
    assert!(holds_uplot(".uplot,.uplot *,.uplot :before{box-sizing:border-box}").is_some());
    assert!(holds_uplot("import(`./chart-x1.js`);.u-legend{color:red}").is_none());
}

#[test]
fn the_first_screen_is_every_script_stylesheet_and_preload_of_the_page() {
    let html = r#"<script type="module" crossorigin src="/assets/index-A.js"></script>
        <link rel="modulepreload" crossorigin href="/assets/vue-B.js">
        <link rel="stylesheet" crossorigin href="/assets/index-C.css">
        <link rel="icon" href="data:,"><a href="/readyz">"#;
    assert_eq!(
        first_screen_assets(html),
        ["assets/index-A.js", "assets/index-C.css", "assets/vue-B.js"]
    );
}

#[test]
fn every_file_index_html_names_is_embedded() {
    let html = index();
    let assets = first_screen_assets(&html);
    assert!(!assets.is_empty(), "index.html names no asset: {html}");
    for path in assets {
        assert!(Dist::get(&path).is_some(), "{path} is not in ui/dist");
    }
}

#[test]
fn scripts_and_stylesheets_are_served_as_utf_8_text_of_their_kind() {
    let cases = [
        (
            "assets/a.js",
            "application/javascript",
            "text/javascript; charset=utf-8",
        ),
        ("assets/a.css", "text/css", "text/css; charset=utf-8"),
        (
            "assets/a.svg",
            "image/svg+xml",
            "image/svg+xml; charset=utf-8",
        ),
        ("assets/a.woff2", "font/woff2", "font/woff2"),
        ("assets/a.png", "image/png", "image/png"),
    ];
    for (path, guessed, served) in cases {
        assert_eq!(content_type(path, guessed), served, "{path}");
    }
}
