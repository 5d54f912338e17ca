//! SARIF 2.1.0: one run; every rule in `tool.driver.rules` with its help; results with
//! physical locations relative to the repository root (`%SRCROOT%`).

use super::locate;
use crate::diagnostic::Severity;
use crate::engine::Outcome;
use crate::rules;
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
    let all = rules::all();
    let rule_index = |id: &str| all.iter().position(|r| r.meta().id == id);
    let driver_rules: Vec<Value> = all
        .iter()
        .map(|r| {
            let m = r.meta();
            json!({
                "id": m.id,
                "name": m.id,
                "shortDescription": { "text": m.summary },
                "fullDescription": { "text": m.summary },
                "help": { "text": m.doc, "markdown": m.doc },
                "defaultConfiguration": { "level": level(m.default_severity) },
            })
        })
        .collect();
    let results: Vec<Value> = outcome
        .findings
        .iter()
        .map(|f| {
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
        })
        .collect();
    let root_uri = url_of_dir(&outcome.session.repo.root);
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

pub fn render(outcome: &Outcome, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &log(outcome))?;
    writeln!(out)
}
