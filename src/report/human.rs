//! Human output: miette snippets with labelled spans, then one summary line.

use crate::diagnostic::{Finding, Severity};
use crate::engine::Outcome;
use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan,
};
use std::fmt;
use std::sync::Arc;

/// A finding bound to its source text, as miette renders it.
struct Rendered {
    message: String,
    code: String,
    severity: miette::Severity,
    help: Option<String>,
    source: NamedSource<Arc<str>>,
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
        Some(&self.source)
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

fn span_of(range: std::ops::Range<usize>) -> SourceSpan {
    SourceSpan::new(range.start.into(), range.end - range.start)
}

fn build(outcome: &Outcome, f: &Finding) -> Rendered {
    let repo = &outcome.session.repo;
    let file = repo.file(f.span.file);
    let source =
        NamedSource::new(file.rel_path.clone(), file.text.clone()).with_language(match file.kind {
            crate::source::FileKind::Yaml | crate::source::FileKind::HelmTemplate => "yaml",
            crate::source::FileKind::Json => "json",
            _ => "hcl",
        });
    let mut labels = vec![LabeledSpan::new_primary_with_span(
        f.span_label.clone(),
        span_of(f.span.range()),
    )];
    let mut related = Vec::new();
    for l in &f.labels {
        if l.span.file == f.span.file {
            labels.push(LabeledSpan::new_with_span(
                Some(l.message.clone()),
                span_of(l.span.range()),
            ));
        } else {
            let other = repo.file(l.span.file);
            related.push(Rendered {
                message: format!("{}: {}", other.rel_path, l.message),
                code: String::new(),
                severity: miette::Severity::Advice,
                help: None,
                source: NamedSource::new(other.rel_path.clone(), other.text.clone()),
                labels: vec![LabeledSpan::new_with_span(None, span_of(l.span.range()))],
                related: Vec::new(),
            });
        }
    }
    let mut help = f.help.clone();
    if !help.is_empty() {
        help.push('\n');
    }
    help.push_str(&format!("see `preflight explain {}`", f.rule));
    Rendered {
        message: f.message.clone(),
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
            s = format!("{}: {}\n", f.rule, f.message);
        }
        writeln!(out, "{s}")?;
    }
    writeln!(out, "{}", super::summary_line(outcome))
}
