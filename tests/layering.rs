//! The layers never reach up (README, "Design"): rules do not read parsed syntax except
//! through `src/rules/syntax.rs`, models know nothing of the engine or the rules, and
//! reporters nothing of the rules. This test reads the sources and names every path that
//! crosses a line.

use std::path::{Path, PathBuf};

/// Every `.rs` file under `src/DIR`, relative to the crate root, `/`-separated.
fn sources(dir: &str) -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    let mut todo = vec![root.join("src").join(dir)];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path: PathBuf = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push((rel, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// The code of a line: nothing after `//` (comments, doc comments).
fn code(line: &str) -> &str {
    line.find("//").map_or(line, |i| &line[..i])
}

fn ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Whether `code` names the path `path` (`crate::parse`, `hcl_edit`) as a whole segment,
/// directly or inside a `use crate::{...}` group.
fn names(code: &str, path: &str) -> bool {
    let whole = |text: &str, at: usize, len: usize| {
        let before = text[..at].chars().next_back();
        let after = text[at + len..].chars().next();
        !before.is_some_and(|c| ident_char(c) || c == ':') && !after.is_some_and(ident_char)
    };
    if code
        .match_indices(path)
        .any(|(at, _)| whole(code, at, path.len()))
    {
        return true;
    }
    // `use crate::{engine, ...}`: the segment after `crate::` at the group's top level.
    if let Some(segment) = path.strip_prefix("crate::")
        && let Some(group) = code.split_once("crate::{").map(|(_, g)| g)
    {
        let mut depth = 0;
        let mut item = String::new();
        let mut items = Vec::new();
        for c in group.chars() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => break,
                '}' => depth -= 1,
                ',' if depth == 0 => items.push(std::mem::take(&mut item)),
                _ if depth == 0 => item.push(c),
                _ => {}
            }
        }
        items.push(item);
        return items.iter().any(|i| {
            let i = i.trim();
            i == segment
                || i.starts_with(&format!("{segment}::"))
                || i.starts_with(&format!("{segment} "))
        });
    }
    false
}

/// `file:line: text` of every line under `src/DIR` (except `allowed`) naming one of
/// `paths`. A `use crate::{` group spanning lines is read as one line.
fn crossings(dir: &str, paths: &[&str], allowed: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for (file, text) in sources(dir) {
        if allowed.contains(&file.as_str()) {
            continue;
        }
        let lines: Vec<&str> = text.lines().collect();
        let mut i = 0;
        while i < lines.len() {
            let start = i;
            let mut joined = code(lines[i]).to_string();
            if joined.contains("crate::{") {
                while !joined.contains('}') && i + 1 < lines.len() {
                    i += 1;
                    joined.push(' ');
                    joined.push_str(code(lines[i]));
                }
            }
            for path in paths {
                if names(&joined, path) {
                    out.push(format!(
                        "{file}:{}: {} ({path})",
                        start + 1,
                        lines[start].trim()
                    ));
                }
            }
            i += 1;
        }
    }
    out
}

#[track_caller]
fn assert_none(what: &str, found: Vec<String>) {
    assert!(found.is_empty(), "{what}:\n{}", found.join("\n"));
}

#[test]
fn rules_read_syntax_only_through_the_syntax_module() {
    assert_none(
        "rules reaching into parsed syntax (only src/rules/syntax.rs may)",
        crossings(
            "rules",
            &["crate::parse", "hcl_edit"],
            &["src/rules/syntax.rs"],
        ),
    );
}

#[test]
fn models_know_nothing_of_the_engine_or_the_rules() {
    assert_none(
        "models reaching up",
        crossings("model", &["crate::engine", "crate::rules"], &[]),
    );
}

#[test]
fn reporters_know_nothing_of_the_rules() {
    assert_none(
        "reporters reaching into the rules",
        crossings("report", &["crate::rules"], &[]),
    );
}

#[test]
fn the_scanner_sees_the_forms_an_import_takes() {
    assert!(names("use crate::parse::Syntax;", "crate::parse"));
    assert!(names(
        "    crate::parse::hcl_body(repo.syntax(file))",
        "crate::parse"
    ));
    assert!(names("use crate::{engine, source::Span};", "crate::engine"));
    assert!(names(
        "use crate::{ model::x, rules::Context };",
        "crate::rules"
    ));
    assert!(names("use hcl_edit::Span as _;", "hcl_edit"));
    assert!(names("fn f(b: &hcl_edit::structure::Block) {}", "hcl_edit"));
    assert!(!names("use crate::parser_options;", "crate::parse"));
    assert!(!names("use crate::{model::parse};", "crate::parse"));
    assert!(!names("use my_crate::parse;", "crate::parse"));
    assert!(!names(code("// see crate::parse"), "crate::parse"));
    let lines = crossings("model", &["crate::model"], &[]);
    assert!(!lines.is_empty(), "the scanner reads src/model");
}
