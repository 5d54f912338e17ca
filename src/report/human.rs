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

fn build(outcome: &Outcome, f: &Finding) -> Rendered {
    let repo = &outcome.session.repo;
    let redactor = outcome.session.redactor();
    let file = repo.file(f.span.file);
    let line_of = |o: u32| file.lines.line_of(o as usize);
    let primary_line = line_of(f.span.start);
    // Labels in the same file near the primary span share its snippet; the others get
    // their own, so that one snippet never spans the file.
    let (near, far): (Vec<_>, Vec<_>) = f.labels.iter().partition(|l| {
        l.span.file == f.span.file
            && line_of(l.span.start).abs_diff(primary_line) <= MAX_LINES_AWAY
            && line_of(l.span.end).abs_diff(primary_line) <= MAX_LINES_AWAY
    });
    let mut ranges = vec![f.span.range()];
    ranges.extend(near.iter().map(|l| l.span.range()));
    let source = Excerpt::new(file, &ranges, redactor);
    let mut labels = vec![LabeledSpan::new_primary_with_span(
        f.span_label.as_deref().map(safe),
        source.span(f.span.range()),
    )];
    for l in &near {
        labels.push(LabeledSpan::new_with_span(
            Some(safe(&l.message)),
            source.span(l.span.range()),
        ));
    }
    let mut related = Vec::new();
    for l in far {
        let other = repo.file(l.span.file);
        let excerpt = Excerpt::new(other, &[l.span.range()], redactor);
        let span = excerpt.span(l.span.range());
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
    Rendered {
        message: safe(&f.message),
        code: f.rule.to_string(),
        severity: match f.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Note => miette::Severity::Advice,
        },
        help: Some(help),
        source,
        labels,
        related,
    }
}

pub fn handler(color: bool) -> GraphicalReportHandler {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::none()
    };
    GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_context_lines(1)
}

pub fn render(outcome: &Outcome, color: bool, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let handler = handler(color);
    for f in &outcome.findings {
        let rendered = build(outcome, f);
        let mut s = String::new();
        if handler.render_report(&mut s, &rendered).is_err() {
            s = format!("{}: {}\n", f.rule, safe(&f.message));
        }
        writeln!(out, "{s}")?;
    }
    writeln!(out, "{}", super::summary_line(outcome))
}
