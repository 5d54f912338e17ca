//! Output formats. A reporter only formats: it never decides severity or filters.

pub mod compact;
pub mod excerpt;
pub mod github;
pub mod human;
pub mod json;
pub mod junit;
pub mod sarif;

use crate::engine::Outcome;
use crate::source::Span;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Source snippets with labels (colour on a terminal only; NO_COLOR honoured).
    Human,
    /// The stable JSON contract (see README).
    Json,
    /// SARIF 2.1.0, for code-scanning upload.
    Sarif,
    /// GitHub Actions workflow-command annotations.
    Github,
    /// JUnit XML, for CI systems that show test reports.
    Junit,
    /// One line per finding, `file:line:col: severity rule: message` (editors, grep).
    Compact,
}

/// How a report is written.
#[derive(Debug, Clone, Copy, Default)]
pub struct RenderOptions {
    pub color: bool,
    /// Findings only: no summary line.
    pub quiet: bool,
}

/// Where a rule's page is published: `rules/ID.md` on the main branch of the repository
/// that `Cargo.toml`'s `repository` names (set it to where your copy is hosted).
pub fn rule_url(id: &str) -> String {
    format!(
        "{}/blob/main/rules/{id}.md",
        env!("CARGO_PKG_REPOSITORY").trim_end_matches('/')
    )
}

/// Whether a finding carries a fix that `--fix` applies.
pub fn fixable(f: &crate::diagnostic::Finding) -> bool {
    !f.fix.is_empty() && f.applicability == crate::diagnostic::Applicability::Safe
}

/// Whether a finding carries a fix at all (applied by `--fix` or only shown).
pub fn has_fix(f: &crate::diagnostic::Finding) -> bool {
    !f.fix.is_empty()
}

/// A fix's one-line title, or the generic one when the rule gave none.
pub fn fix_title(f: &crate::diagnostic::Finding) -> &str {
    if f.fix_title.is_empty() {
        "the fix `preflight check --fix` applies"
    } else {
        &f.fix_title
    }
}

/// A span as file, line and column (1-based; columns in characters; end exclusive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

pub fn locate(outcome: &Outcome, span: Span) -> Location {
    let file = outcome.session.repo.file(span.file);
    let (line, column) = file.line_col(span.start as usize);
    let (end_line, end_column) = file.line_col(span.end as usize);
    Location {
        file: file.rel_path.clone(),
        line,
        column,
        end_line,
        end_column,
    }
}

/// A span located with its path from the top of the git work tree (GitHub annotations and
/// SARIF, which code scanning places relative to the checkout).
pub fn locate_in_worktree(outcome: &Outcome, span: Span) -> Location {
    let mut loc = locate(outcome, span);
    loc.file = outcome.session.repo.worktree_path(&loc.file);
    loc
}

/// The repository root as the user named it: relative to the current directory when below
/// it, else absolute.
pub fn root_display(root: &std::path::Path) -> String {
    let cwd = std::env::current_dir().ok();
    let cwd = cwd.and_then(|c| c.canonicalize().ok());
    match cwd.as_ref().and_then(|c| root.strip_prefix(c).ok()) {
        Some(rel) if rel.as_os_str().is_empty() => ".".to_string(),
        Some(rel) => rel.display().to_string(),
        None => root.display().to_string(),
    }
}

/// The one-line summary that ends human output: the counts, the root and how its files
/// were listed.
pub fn summary_line(outcome: &Outcome) -> String {
    use crate::diagnostic::Severity::*;
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let repo = &outcome.session.repo;
    let listed = match repo.listing {
        crate::discover::Listing::Git => "listed by git",
        crate::discover::Listing::Walk => "walked (not a git work tree)",
    };
    format!(
        "preflight: {}, {}, {} in {} of root {}, {listed} ({} ms)",
        plural(outcome.count(Error), "error"),
        plural(outcome.count(Warning), "warning"),
        plural(outcome.count(Note), "note"),
        plural(repo.files.len(), "file"),
        root_display(&repo.root),
        outcome.elapsed.as_millis()
    )
}

pub fn render(
    outcome: &Outcome,
    format: Format,
    options: RenderOptions,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    match format {
        Format::Human => human::render(outcome, options, out),
        Format::Json => json::render(outcome, out),
        Format::Sarif => sarif::render(outcome, out),
        Format::Github => github::render(outcome, options, out),
        Format::Junit => junit::render(outcome, out),
        Format::Compact => compact::render(outcome, out),
    }
}
