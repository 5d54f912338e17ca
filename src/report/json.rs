//! The JSON contract:
//! `{"version":1,"findings":[{"rule","severity","message","help","file","line","column",
//! "end_line","end_column","labels":[{"file","line","column","message"}]}],
//! "summary":{"files","errors","warnings","notes","elapsed_ms"}}`, paths relative to the
//! repository root. Each finding also has `url` (its rule's page) and `fix` (`null`, or the
//! edits `--fix` applies); `base` says what the paths are relative to.

use super::locate;
use crate::diagnostic::Severity;
use crate::engine::Outcome;
use serde::Serialize;

#[derive(Serialize)]
pub struct Report<'a> {
    pub version: u32,
    /// What every `file` is relative to.
    pub base: Base,
    pub findings: Vec<JsonFinding<'a>>,
    pub summary: Summary,
}

#[derive(Serialize)]
pub struct Base {
    /// Always `repository-root`: paths are relative to `root`.
    pub kind: &'static str,
    /// The repository root, absolute.
    pub root: String,
    /// The root's folder inside its git work tree (`""` at the top or outside git): prefix
    /// it to a path to get the path from the work tree's top.
    pub worktree_prefix: String,
}

#[derive(Serialize)]
pub struct JsonFix<'a> {
    /// What the fix does, in one line.
    pub title: &'a str,
    /// `safe` (applied by `--fix`) or `display-only`.
    pub applicability: &'static str,
    pub edits: Vec<JsonEdit<'a>>,
}

#[derive(Serialize)]
pub struct JsonEdit<'a> {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub replacement: &'a str,
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
    /// The rule's page.
    pub url: String,
    /// The edits `--fix` applies; `null` when the finding has no fix.
    pub fix: Option<JsonFix<'a>>,
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
                url: super::rule_url(f.rule),
                fix: super::has_fix(f).then(|| JsonFix {
                    title: super::fix_title(f),
                    applicability: f.applicability.as_str(),
                    edits: f
                        .fix
                        .iter()
                        .map(|e| {
                            let loc = locate(outcome, e.span);
                            JsonEdit {
                                file: loc.file,
                                line: loc.line,
                                column: loc.column,
                                end_line: loc.end_line,
                                end_column: loc.end_column,
                                replacement: &e.replacement,
                            }
                        })
                        .collect(),
                }),
            }
        })
        .collect();
    let repo = &outcome.session.repo;
    Report {
        version: 1,
        base: Base {
            kind: "repository-root",
            root: repo.root.display().to_string(),
            worktree_prefix: repo.worktree_prefix.clone(),
        },
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
