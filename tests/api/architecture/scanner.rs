//! The import scanner of the architecture test: reads a module as the compiler does, from
//! its root file through its `mod` declarations, as Rust tokens (so comments, doc comments
//! and strings are not code and a `crate::{...}` group may span lines), and tells which
//! top-level modules its code names. Test modules are walked, not read.

use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};
use std::path::{Path, PathBuf};

/// What the scanner found in a module and the modules it declares.
#[derive(Debug, Default)]
pub struct Scan {
    /// Each top-level module named through `crate::` (or `super::` up to the crate's
    /// root): the file, the module, the line.
    pub uses: Vec<(PathBuf, String, usize)>,
    /// The files read as code.
    pub code: Vec<PathBuf>,
    /// The files of test modules (read only to know them).
    pub tests: Vec<PathBuf>,
}

/// Scans the top-level module `name` of the crate whose root folder is `root`: its root
/// file `root/name.rs` or `root/name/mod.rs`, and every module it declares.
pub fn scan_module(root: &Path, name: &str) -> Scan {
    let file = root.join(format!("{name}.rs"));
    let file = if file.is_file() {
        file
    } else {
        root.join(name).join("mod.rs")
    };
    let mut out = Scan::default();
    scan_file(&file, &root.join(name), 1, false, &mut out);
    out
}

/// Where a module is read from: its file, the folder of the files of the modules it
/// declares, and how deep it is below the crate's root.
struct At<'a> {
    file: &'a Path,
    dir: PathBuf,
    depth: usize,
    test: bool,
}

fn scan_file(file: &Path, dir: &Path, depth: usize, test: bool, out: &mut Scan) {
    let text = std::fs::read_to_string(file)
        .unwrap_or_else(|e| panic!("{}: {e} (declared by a `mod`)", file.display()));
    let tokens: TokenStream = text
        .parse()
        .unwrap_or_else(|e| panic!("{}: not Rust tokens: {e:?}", file.display()));
    if test {
        out.tests.push(file.to_owned());
    } else {
        out.code.push(file.to_owned());
    }
    let at = At {
        file,
        dir: dir.to_owned(),
        depth,
        test,
    };
    items(tokens, &at, out);
}

/// Reads the items of one module: `mod` declarations are followed (into their file, or
/// into their braces), test modules are only walked, everything else is scanned for paths.
fn items(tokens: TokenStream, at: &At<'_>, out: &mut Scan) {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    // The outer attributes of the item being read, until it turns out not to be a `mod`.
    let mut attrs: Vec<TokenStream> = Vec::new();
    let mut rest: Vec<TokenTree> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if is_punct(&tokens[i], '#') {
            let inner = tokens.get(i + 1).is_some_and(|t| is_punct(t, '!'));
            let at_group = i + 1 + usize::from(inner);
            if let Some(TokenTree::Group(g)) = tokens.get(at_group)
                && g.delimiter() == Delimiter::Bracket
            {
                rest.extend(tokens[i..=at_group].iter().cloned());
                if !inner {
                    attrs.push(g.stream());
                }
                i = at_group + 1;
                continue;
            }
        }
        if is_ident(&tokens[i], "pub") {
            rest.push(tokens[i].clone());
            i += 1;
            if let Some(TokenTree::Group(g)) = tokens.get(i)
                && g.delimiter() == Delimiter::Parenthesis
            {
                rest.push(tokens[i].clone());
                i += 1;
            }
            continue;
        }
        if is_ident(&tokens[i], "mod")
            && let Some(TokenTree::Ident(name)) = tokens.get(i + 1)
        {
            let name = name.to_string().trim_start_matches("r#").to_owned();
            let test = at.test || attrs.iter().any(is_cfg_test);
            match tokens.get(i + 2) {
                Some(TokenTree::Group(body)) if body.delimiter() == Delimiter::Brace => {
                    let inline = At {
                        file: at.file,
                        dir: at.dir.join(&name),
                        depth: at.depth + 1,
                        test,
                    };
                    items(body.stream(), &inline, out);
                }
                _ => {
                    let (file, dir) = match attrs.iter().find_map(path_attr) {
                        // Relative to the declaring file's folder; its modules' files
                        // are beside it.
                        Some(path) => {
                            let file = at.file.parent().unwrap().join(path);
                            let dir = file.parent().unwrap().to_owned();
                            (file, dir)
                        }
                        None => {
                            let file = at.dir.join(format!("{name}.rs"));
                            let file = if file.is_file() {
                                file
                            } else {
                                at.dir.join(&name).join("mod.rs")
                            };
                            (file, at.dir.join(&name))
                        }
                    };
                    scan_file(&file, &dir, at.depth + 1, test, out);
                }
            }
            attrs.clear();
            i += 3;
            continue;
        }
        attrs.clear();
        rest.push(tokens[i].clone());
        i += 1;
    }
    if !at.test {
        let mut found = Vec::new();
        paths(&rest, at.depth, &mut found);
        let file = at.file.to_owned();
        out.uses
            .extend(found.into_iter().map(|(m, line)| (file.clone(), m, line)));
    }
}

fn is_punct(t: &TokenTree, c: char) -> bool {
    matches!(t, TokenTree::Punct(p) if p.as_char() == c)
}

fn is_ident(t: &TokenTree, name: &str) -> bool {
    matches!(t, TokenTree::Ident(i) if *i == name)
}

/// `::` at `tokens[i..]`.
fn is_path_sep(tokens: &[TokenTree], i: usize) -> bool {
    matches!(tokens.get(i), Some(TokenTree::Punct(p)) if p.as_char() == ':' && p.spacing() == Spacing::Joint)
        && tokens.get(i + 1).is_some_and(|t| is_punct(t, ':'))
}

/// `cfg(test)`, the inside of an attribute.
fn is_cfg_test(attr: &TokenStream) -> bool {
    let tokens: Vec<TokenTree> = attr.clone().into_iter().collect();
    match tokens.as_slice() {
        [TokenTree::Ident(cfg), TokenTree::Group(g)] if *cfg == "cfg" => {
            g.stream().to_string() == "test"
        }
        _ => false,
    }
}

/// The file of `path = "file.rs"`, the inside of an attribute.
fn path_attr(attr: &TokenStream) -> Option<String> {
    let tokens: Vec<TokenTree> = attr.clone().into_iter().collect();
    match tokens.as_slice() {
        [TokenTree::Ident(path), eq, TokenTree::Literal(file)]
            if *path == "path" && is_punct(eq, '=') =>
        {
            Some(file.to_string().trim_matches('"').to_owned())
        }
        _ => None,
    }
}

/// The top-level modules that `tokens` (and every group in them) name from the crate's
/// root, with the line: `crate::m`, `crate::{m, n::X}` and `super::m` climbing `depth`
/// levels (`depth` is how far below the root the code is).
fn paths(tokens: &[TokenTree], depth: usize, out: &mut Vec<(String, usize)>) {
    let mut i = 0;
    while i < tokens.len() {
        if let TokenTree::Group(g) = &tokens[i] {
            let inner: Vec<TokenTree> = g.stream().into_iter().collect();
            paths(&inner, depth, out);
        }
        let mut at = None;
        if is_ident(&tokens[i], "crate") && is_path_sep(tokens, i + 1) {
            at = Some(i + 3);
        } else if is_ident(&tokens[i], "super") && (i < 2 || !is_path_sep(tokens, i - 2)) {
            // `super::super::m`: as many as `depth` climb to the root.
            let mut j = i;
            let mut up = 0;
            while is_ident(&tokens[j], "super") && is_path_sep(tokens, j + 1) {
                up += 1;
                j += 3;
                if j >= tokens.len() {
                    break;
                }
            }
            if up == depth {
                at = Some(j);
            }
        }
        if let Some(at) = at {
            match tokens.get(at) {
                Some(TokenTree::Ident(m)) => out.push((m.to_string(), m.span().start().line)),
                Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace => {
                    let inner: Vec<TokenTree> = g.stream().into_iter().collect();
                    for part in inner.split(|t| is_punct(t, ',')) {
                        if let Some(TokenTree::Ident(m)) = part.first() {
                            out.push((m.to_string(), m.span().start().line));
                        }
                    }
                }
                _ => {}
            }
        }
        i += 1;
    }
}
