//! Output formats. A reporter only formats: it never decides severity or filters.

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

/// The one-line summary that ends human output.
pub fn summary_line(outcome: &Outcome) -> String {
    use crate::diagnostic::Severity::*;
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    format!(
        "preflight: {}, {}, {} in {} ({} ms)",
        plural(outcome.count(Error), "error"),
        plural(outcome.count(Warning), "warning"),
        plural(outcome.count(Note), "note"),
        plural(outcome.session.repo.files.len(), "file"),
        outcome.elapsed.as_millis()
    )
}

pub fn render(
    outcome: &Outcome,
    format: Format,
    color: bool,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    match format {
        Format::Human => human::render(outcome, color, out),
        Format::Json => json::render(outcome, out),
        Format::Sarif => sarif::render(outcome, out),
        Format::Github => github::render(outcome, out),
        Format::Junit => junit::render(outcome, out),
    }
}
