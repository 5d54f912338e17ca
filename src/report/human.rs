//! Human output: miette snippets with labelled spans, then one summary line.

use super::excerpt::{Excerpt, MAX_LINES_AWAY};
use crate::diagnostic::{Finding, Severity};
use crate::engine::Outcome;
use crate::redact::terminal_safe;
use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan};
use std::fmt;

/// A finding bound to its source text, as miette renders it.
struct Rendered {
    message: String,
    code: String,
    severity: miette::Severity,
    help: Option<String>,
    source: Excerpt,
    labels: Vec<LabeledSpan>,
    related: Vec<Rendered>,
}

impl fmt::Debug for Rendered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Display for Rendered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Rendered {}

impl Diagnostic for Rendered {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        (!self.code.is_empty()).then(|| Box::new(&self.code) as Box<dyn fmt::Display>)
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        if self.related.is_empty() {
            None
        } else {
            Some(Box::new(self.related.iter().map(|r| r as &dyn Diagnostic)))
        }
    }
}

/// Repository text as it may reach a terminal: control characters escaped.
fn safe(text: &str) -> String {
    terminal_safe(text, false).into_owned()
}

/// Labels longer than this many lines are cut to their first line, so one finding never
/// prints a whole policy or manifest.
const MAX_LABEL_LINES: usize = 6;

/// The part of `range` worth showing: all of it when short, else its first line.
fn capped(text: &str, range: std::ops::Range<usize>) -> std::ops::Range<usize> {
    let end = range.end.min(text.len());
    let start = range.start.min(end);
    let Some(body) = text.get(start..end) else {
        return start..end;
    };
    if body.matches('\n').count() < MAX_LABEL_LINES {
        return start..end;
    }
    let first = body.find('\n').unwrap_or(body.len());
    start..start + first.max(1).min(body.len())
}

fn build(outcome: &Outcome, f: &Finding) -> (Rendered, Vec<Rendered>) {
    let repo = &outcome.session.repo;
    let redactor = outcome.session.redactor();
    let file = repo.file(f.span.file);
    let line_of = |o: u32| file.lines().line_of(o as usize);
    let primary_line = line_of(f.span.start);
    // Labels in the same file near the primary span share its snippet; the others get
    // their own, so that one snippet never spans the file. A long label shows its first
    // line only.
    let (near, far): (Vec<_>, Vec<_>) = f.labels.iter().partition(|l| {
        l.span.file == f.span.file
            && line_of(l.span.start).abs_diff(primary_line) <= MAX_LINES_AWAY
            && line_of(l.span.end).abs_diff(primary_line) <= MAX_LINES_AWAY
    });
    let primary = capped(&file.text, f.span.range());
    let mut ranges = vec![primary.clone()];
    ranges.extend(near.iter().map(|l| capped(&file.text, l.span.range())));
    let source = Excerpt::new(file, &ranges, redactor);
    let mut labels = vec![LabeledSpan::new_primary_with_span(
        f.span_label.as_deref().map(safe),
        source.span(primary),
    )];
    for l in &near {
        labels.push(LabeledSpan::new_with_span(
            Some(safe(&l.message)),
            source.span(capped(&file.text, l.span.range())),
        ));
    }
    let mut related = Vec::new();
    for l in far {
        let other = repo.file(l.span.file);
        let range = capped(&other.text, l.span.range());
        let excerpt = Excerpt::new(other, std::slice::from_ref(&range), redactor);
        let span = excerpt.span(range);
        related.push(Rendered {
            message: safe(&format!("{}: {}", other.rel_path, l.message)),
            code: String::new(),
            severity: miette::Severity::Advice,
            help: None,
            source: excerpt,
            labels: vec![LabeledSpan::new_with_span(None, span)],
            related: Vec::new(),
        });
    }
    let mut help = f.help.clone();
    if !help.is_empty() {
        help.push('\n');
    }
    help.push_str(&format!("see `preflight explain {}`", f.rule));
    let help = safe(&help);
    let code = format!(
        "{}[{}]{}",
        f.severity,
        f.rule,
        if super::fixable(f) { " [fixable]" } else { "" }
    );
    let rendered = Rendered {
        message: safe(&f.message),
        code,
        severity: match f.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Note => miette::Severity::Advice,
        },
        help: Some(help),
        source,
        labels,
        related: Vec::new(),
    };
    (rendered, related)
}

/// The handler for findings. Notes have their own mark (`i`), distinct from the `>` of the
/// related-location blocks that follow a finding.
pub fn handler(color: bool) -> GraphicalReportHandler {
    let mut theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::none()
    };
    theme.characters.advice = if color { "ℹ".into() } else { "i".into() };
    GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_context_lines(1)
}

/// The handler for the related-location blocks under a finding.
fn related_handler(color: bool) -> GraphicalReportHandler {
    let mut theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::none()
    };
    theme.characters.advice = if color { "☞".into() } else { ">".into() };
    GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_context_lines(1)
}

pub fn render(
    outcome: &Outcome,
    options: super::RenderOptions,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let handler = handler(options.color);
    let related_handler = related_handler(options.color);
    for f in &outcome.findings {
        let (rendered, related) = build(outcome, f);
        let mut s = String::new();
        if handler.render_report(&mut s, &rendered).is_err() {
            s = format!("{}[{}]: {}\n", f.severity, f.rule, safe(&f.message));
        }
        for r in &related {
            let mut block = String::new();
            if related_handler.render_report(&mut block, r).is_ok() {
                s.push_str(&block);
            }
        }
        writeln!(out, "{s}")?;
    }
    if options.quiet {
        return Ok(());
    }
    writeln!(out, "{}", super::summary_line(outcome))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_labels_are_cut_to_their_first_line() {
        let text = "a\nb\nc\nd\ne\nf\ng\nh\n";
        assert_eq!(capped(text, 0..text.len()), 0..1);
        assert_eq!(capped(text, 2..7), 2..7);
        assert_eq!(capped(text, 5..100), 5..6);
    }
}
