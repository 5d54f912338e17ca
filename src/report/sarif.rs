//! SARIF 2.1.0: one run; every rule in `tool.driver.rules` with its help; results with
//! physical locations relative to the top of the git work tree (`%SRCROOT%`), where code
//! scanning looks for them, even when the checked root is a subfolder; outside git, the
//! repository root. Each rule has its page as `helpUri`; fixable results carry `fixes`.

use super::locate_in_worktree as locate;
use crate::diagnostic::Severity;
use crate::engine::Outcome;
use serde_json::{Value, json};

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

fn physical(loc: &super::Location) -> Value {
    json!({
        "artifactLocation": { "uri": loc.file, "uriBaseId": "%SRCROOT%" },
        "region": {
            "startLine": loc.line,
            "startColumn": loc.column,
            "endLine": loc.end_line,
            "endColumn": loc.end_column,
        }
    })
}

pub fn log(outcome: &Outcome) -> Value {
    let all = &outcome.catalogue;
    let rule_index = |id: &str| all.iter().position(|m| m.id == id);
    let driver_rules = rules_of_driver(outcome);
    let results: Vec<Value> = outcome
        .findings
        .iter()
        .map(|f| result(outcome, f, &rule_index))
        .collect();
    skeleton(outcome, driver_rules, results)
}

fn rules_of_driver(outcome: &Outcome) -> Vec<Value> {
    outcome
        .catalogue
        .iter()
        .map(|m| {
            json!({
                "id": m.id,
                "name": m.id,
                "shortDescription": { "text": m.summary },
                "fullDescription": { "text": m.summary },
                "help": { "text": m.doc, "markdown": m.doc },
                "helpUri": super::rule_url(m.id),
                "defaultConfiguration": { "level": level(m.default_severity) },
            })
        })
        .collect()
}

/// One finding as a SARIF result.
fn result(
    outcome: &Outcome,
    f: &crate::diagnostic::Finding,
    rule_index: &dyn Fn(&str) -> Option<usize>,
) -> Value {
    let loc = locate(outcome, f.span);
    let text = if f.help.is_empty() {
        f.message.clone()
    } else {
        format!("{}\nhelp: {}", f.message, f.help)
    };
    let mut result = json!({
        "ruleId": f.rule,
        "level": level(f.severity),
        "message": { "text": text },
        "locations": [ { "physicalLocation": physical(&loc) } ],
    });
    if let Some(i) = rule_index(f.rule) {
        result["ruleIndex"] = json!(i);
    }
    if super::fixable(f) {
        result["fixes"] = json!([fix(outcome, f)]);
    }
    if !f.labels.is_empty() {
        result["relatedLocations"] = f
            .labels
            .iter()
            .enumerate()
            .map(|(i, l)| {
                json!({
                    "id": i,
                    "physicalLocation": physical(&locate(outcome, l.span)),
                    "message": { "text": l.message },
                })
            })
            .collect();
    }
    result
}

fn skeleton(outcome: &Outcome, driver_rules: Vec<Value>, results: Vec<Value>) -> Value {
    let repo = &outcome.session.repo;
    let mut top = repo.root.clone();
    for _ in repo.worktree_prefix.split('/').filter(|s| !s.is_empty()) {
        top.pop();
    }
    let root_uri = url_of_dir(&top);
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [ {
            "tool": { "driver": {
                "name": "preflight",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": driver_rules,
            } },
            "originalUriBaseIds": { "%SRCROOT%": { "uri": root_uri } },
            "results": results,
        } ]
    })
}

/// A finding's fix as SARIF `fix`: the replacements per file.
fn fix(outcome: &Outcome, f: &crate::diagnostic::Finding) -> Value {
    let mut by_file: Vec<(String, Vec<Value>)> = Vec::new();
    for e in &f.fix {
        let loc = locate(outcome, e.span);
        let replacement = json!({
            "deletedRegion": {
                "startLine": loc.line,
                "startColumn": loc.column,
                "endLine": loc.end_line,
                "endColumn": loc.end_column,
            },
            "insertedContent": { "text": e.replacement },
        });
        match by_file.iter_mut().find(|(file, _)| *file == loc.file) {
            Some((_, r)) => r.push(replacement),
            None => by_file.push((loc.file, vec![replacement])),
        }
    }
    json!({
        "description": { "text": super::fix_title(f) },
        "artifactChanges": by_file
            .into_iter()
            .map(|(file, replacements)| json!({
                "artifactLocation": { "uri": file, "uriBaseId": "%SRCROOT%" },
                "replacements": replacements,
            }))
            .collect::<Vec<_>>(),
    })
}

/// `file:///abs/path/` with characters outside the unreserved set percent-encoded.
fn url_of_dir(path: &std::path::Path) -> String {
    let mut s = String::from("file://");
    let p = path.to_string_lossy().replace('\\', "/");
    if !p.starts_with('/') {
        s.push('/');
    }
    for b in p.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                s.push(b as char)
            }
            _ => s.push_str(&format!("%{b:02X}")),
        }
    }
    if !s.ends_with('/') {
        s.push('/');
    }
    s
}

/// Write the log, one result at a time: memory stays that of one result, however many
/// findings there are (the whole log as one JSON value took gigabytes for 200,000).
pub fn render(outcome: &Outcome, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let all = &outcome.catalogue;
    let rule_index = |id: &str| all.iter().position(|m| m.id == id);
    let text =
        serde_json::to_string_pretty(&skeleton(outcome, rules_of_driver(outcome), Vec::new()))?;
    // Keys are written unescaped only outside strings, so this is the results array.
    const EMPTY: &str = "\"results\": []";
    let Some((head, tail)) = text.split_once(EMPTY) else {
        return Err(std::io::Error::other("SARIF skeleton without results"));
    };
    out.write_all(head.as_bytes())?;
    out.write_all(b"\"results\": [")?;
    for (i, f) in outcome.findings.iter().enumerate() {
        out.write_all(if i == 0 { b"\n" } else { b",\n" })?;
        let r = serde_json::to_string_pretty(&result(outcome, f, &rule_index))?;
        for (j, line) in r.lines().enumerate() {
            if j > 0 {
                out.write_all(b"\n")?;
            }
            out.write_all(b"        ")?;
            out.write_all(line.as_bytes())?;
        }
    }
    if !outcome.findings.is_empty() {
        out.write_all(b"\n      ")?;
    }
    out.write_all(b"]")?;
    out.write_all(tail.as_bytes())?;
    writeln!(out)
}
