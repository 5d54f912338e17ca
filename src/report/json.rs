//! The JSON contract:
//! `{"version":1,"findings":[{"rule","severity","message","help","file","line","column",
//! "end_line","end_column","labels":[{"file","line","column","message"}]}],
//! "summary":{"files","errors","warnings","notes","elapsed_ms"}}`, paths relative to the
//! repository root.

use super::locate;
use crate::diagnostic::Severity;
use crate::engine::Outcome;
use serde::Serialize;

#[derive(Serialize)]
pub struct Report<'a> {
    pub version: u32,
    pub findings: Vec<JsonFinding<'a>>,
    pub summary: Summary,
}

#[derive(Serialize)]
pub struct JsonFinding<'a> {
    pub rule: &'a str,
    pub severity: Severity,
    pub message: &'a str,
    pub help: &'a str,
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub labels: Vec<JsonLabel<'a>>,
}

#[derive(Serialize)]
pub struct JsonLabel<'a> {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: &'a str,
}

#[derive(Serialize)]
pub struct Summary {
    pub files: usize,
    pub errors: usize,
    pub warnings: usize,
    pub notes: usize,
    pub elapsed_ms: u128,
}

pub fn report(outcome: &Outcome) -> Report<'_> {
    let findings = outcome
        .findings
        .iter()
        .map(|f| {
            let loc = locate(outcome, f.span);
            JsonFinding {
                rule: f.rule,
                severity: f.severity,
                message: &f.message,
                help: &f.help,
                file: loc.file,
                line: loc.line,
                column: loc.column,
                end_line: loc.end_line,
                end_column: loc.end_column,
                labels: f
                    .labels
                    .iter()
                    .map(|l| {
                        let loc = locate(outcome, l.span);
                        JsonLabel {
                            file: loc.file,
                            line: loc.line,
                            column: loc.column,
                            message: &l.message,
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    Report {
        version: 1,
        findings,
        summary: Summary {
            files: outcome.session.repo.files.len(),
            errors: outcome.count(Severity::Error),
            warnings: outcome.count(Severity::Warning),
            notes: outcome.count(Severity::Note),
            elapsed_ms: outcome.elapsed.as_millis(),
        },
    }
}

pub fn render(outcome: &Outcome, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &report(outcome))?;
    writeln!(out)
}
