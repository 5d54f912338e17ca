//! What preflight must never print: values Terraform marks sensitive and the contents of
//! Kubernetes Secrets, and raw control characters from the repository.
//!
//! The redactor is built once per check from model questions (the known values of
//! `sensitive = true` variables and outputs and of `sensitive()` arguments; the `data` and
//! `stringData` of Secret manifests) and applied to every finding's text before any
//! output format sees it, so JSON, SARIF, GitHub annotations, JUnit, baselines, the graph
//! and `--fix --diff` all print `(sensitive)` where the value was. Source excerpts in the
//! human report also blank the Secret values' spans.

use crate::diagnostic::Finding;
use crate::source::{FileId, Span};
use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

/// What replaces a redacted value.
pub const MARK: &str = "(sensitive)";

/// Shorter values are not redacted: they are not secrets, and blanking every `a` or `10`
/// in the output would make it unreadable.
const MIN_LEN: usize = 3;
/// Bound on the redaction pattern (the longest values first).
const MAX_PATTERN_BYTES: usize = 4 * 1024 * 1024;

#[derive(Debug, Default)]
pub struct Redactor {
    pattern: Option<regex::Regex>,
    /// Values too long or too many for the pattern, matched as plain substrings.
    extra: Vec<String>,
    spans: HashMap<FileId, Vec<Range<usize>>>,
}

impl Redactor {
    /// A redactor for these values and source spans.
    pub fn new(values: impl IntoIterator<Item = String>, spans: Vec<Span>) -> Redactor {
        let mut values: Vec<String> = values
            .into_iter()
            .filter(|v| v.trim().chars().count() >= MIN_LEN)
            .collect();
        values.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        values.dedup();
        let mut budget = MAX_PATTERN_BYTES;
        let mut alternatives = Vec::new();
        let mut extra = Vec::new();
        for v in values {
            let escaped = regex::escape(&v);
            if escaped.len() < budget && escaped.len() <= 4096 {
                budget -= escaped.len() + 1;
                alternatives.push(escaped);
            } else {
                extra.push(v);
            }
        }
        let pattern = if alternatives.is_empty() {
            None
        } else {
            regex::RegexBuilder::new(&alternatives.join("|"))
                .size_limit(64 * 1024 * 1024)
                .dfa_size_limit(16 * 1024 * 1024)
                .build()
                .ok()
        };
        if pattern.is_none() {
            // Built from escaped literals, the pattern only fails on size: match each.
            extra.extend(alternatives.iter().map(|a| unescape(a)));
        }
        let mut by_file: HashMap<FileId, Vec<Range<usize>>> = HashMap::new();
        for s in spans {
            by_file.entry(s.file).or_default().push(s.range());
        }
        for v in by_file.values_mut() {
            v.sort_by_key(|r| (r.start, r.end));
        }
        Redactor {
            pattern,
            extra,
            spans: by_file,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.pattern.is_none() && self.extra.is_empty() && self.spans.is_empty()
    }

    /// `text` with every sensitive value replaced by [`MARK`].
    pub fn text<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = match &self.pattern {
            Some(re) => re.replace_all(text, MARK),
            None => Cow::Borrowed(text),
        };
        for v in &self.extra {
            if out.contains(v.as_str()) {
                out = Cow::Owned(out.replace(v.as_str(), MARK));
            }
        }
        out
    }

    /// The byte ranges of `text` (a part of a file) that hold a sensitive value, sorted:
    /// the Secret spans of the file intersected with `within`, and every match of a value.
    pub fn ranges(&self, file: FileId, text: &str, within: Range<usize>) -> Vec<Range<usize>> {
        let mut out: Vec<Range<usize>> = self
            .spans
            .get(&file)
            .into_iter()
            .flatten()
            .filter(|r| r.start < within.end && r.end > within.start && r.end > r.start)
            .map(|r| r.start.max(within.start)..r.end.min(within.end))
            .collect();
        let part = &text[within.clone()];
        if let Some(re) = &self.pattern {
            out.extend(
                re.find_iter(part)
                    .map(|m| within.start + m.start()..within.start + m.end()),
            );
        }
        for v in &self.extra {
            out.extend(
                part.match_indices(v.as_str())
                    .map(|(i, m)| within.start + i..within.start + i + m.len()),
            );
        }
        out.sort_by_key(|r| (r.start, r.end));
        // Merge overlaps.
        let mut merged: Vec<Range<usize>> = Vec::with_capacity(out.len());
        for r in out {
            match merged.last_mut() {
                Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
                _ => merged.push(r),
            }
        }
        merged
    }

    /// Redact a finding's text: message, help, labels, address and fix text.
    pub fn finding(&self, f: &mut Finding) {
        if self.pattern.is_none() && self.extra.is_empty() {
            return;
        }
        let fix = |s: &mut String| {
            if let Cow::Owned(o) = self.text(s) {
                *s = o;
            }
        };
        fix(&mut f.message);
        fix(&mut f.help);
        fix(&mut f.address);
        if let Some(l) = &mut f.span_label {
            fix(l);
        }
        for l in &mut f.labels {
            fix(&mut l.message);
        }
        for e in &mut f.fix {
            fix(&mut e.replacement);
        }
    }
}

/// The redactor of one check: the sensitive values of the Terraform model (when any
/// variable or output is declared sensitive) and the Secret manifests' values.
pub fn collect(session: &crate::model::workspace::Workspace) -> Redactor {
    use crate::model::terraform::analysis::Analysis;
    let mut values = Vec::new();
    let mut spans = Vec::new();
    if Analysis::declares_sensitive(session) {
        values.extend(session.terraform_analysis_all().sensitive_strings(session));
    }
    for (span, text) in crate::model::gitops::secret_values(&session.repo) {
        spans.push(span);
        values.extend(text);
    }
    terraform_sensitive_arguments(session, &mut values, &mut spans);
    Redactor::new(values, spans)
}

/// Arguments the providers' schemas mark sensitive, which Terraform never shows: a
/// Kubernetes Secret's `data`, a secret version's `secret_string`, a parameter's `value`,
/// database passwords.
const SENSITIVE_ARGUMENTS: &[(&str, &str)] = &[
    ("kubernetes_secret", "data"),
    ("kubernetes_secret", "binary_data"),
    ("kubernetes_secret_v1", "data"),
    ("kubernetes_secret_v1", "binary_data"),
    ("aws_secretsmanager_secret_version", "secret_string"),
    ("aws_secretsmanager_secret_version", "secret_binary"),
    ("aws_ssm_parameter", "value"),
    ("aws_db_instance", "password"),
    ("aws_rds_cluster", "master_password"),
    ("aws_elasticache_replication_group", "auth_token"),
    ("aws_mq_broker", "password"),
];

/// The spans (and literal strings) of [`SENSITIVE_ARGUMENTS`] in every resource.
fn terraform_sensitive_arguments(
    session: &crate::model::workspace::Workspace,
    values: &mut Vec<String>,
    spans: &mut Vec<Span>,
) {
    use crate::model::terraform::BlockKind;
    use crate::model::terraform::expr::{EmptyScope, Value, eval};
    use hcl_edit::Span as _;
    let tf = session.terraform();
    for m in &tf.modules {
        for b in m.blocks.iter().filter(|b| b.kind == BlockKind::Resource) {
            for &(ty, arg) in SENSITIVE_ARGUMENTS {
                if b.type_name != ty {
                    continue;
                }
                let Some(attr) = tf.attribute(&session.repo, b.at, arg) else {
                    continue;
                };
                let file = session.repo.file(b.at.file);
                if let Some(r) = attr.value.span() {
                    spans.push(file.span(r));
                }
                let mut stack = vec![eval(&attr.value, &EmptyScope)];
                while let Some(v) = stack.pop() {
                    match v {
                        Value::String(t) => values.push(t),
                        Value::List(items) => stack.extend(Arc::unwrap_or_clone(items)),
                        Value::Object(o) => stack.extend(Arc::unwrap_or_clone(o).into_values()),
                        _ => {}
                    }
                }
            }
        }
    }
}

fn unescape(escaped: &str) -> String {
    let mut out = String::with_capacity(escaped.len());
    let mut chars = escaped.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether a character must not reach a terminal raw: C0 controls other than tab and
/// newline, DEL, C1 controls, and the bidirectional overrides and isolates that reorder
/// what a reader sees.
pub fn is_unsafe_char(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}')
}

/// The visible form of an unsafe character: `\x1b`, `\u{202e}`.
pub fn escape_char(c: char) -> String {
    if (c as u32) < 0x80 {
        format!("\\x{:02x}", c as u32)
    } else {
        format!("\\u{{{:x}}}", c as u32)
    }
}

/// `text` with every unsafe character escaped; newlines are kept unless `one_line`.
pub fn terminal_safe(text: &str, one_line: bool) -> Cow<'_, str> {
    let bad = |c: char| is_unsafe_char(c) || (one_line && c == '\n');
    if !text.chars().any(bad) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if bad(c) {
            out.push_str(&escape_char(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_replaced_longest_first_and_short_ones_kept() {
        let r = Redactor::new(
            ["hunter2".to_string(), "hunter2-extra".into(), "ab".into()],
            Vec::new(),
        );
        assert_eq!(
            r.text("name hunter2-extra and hunter2, not ab"),
            "name (sensitive) and (sensitive), not ab"
        );
        assert_eq!(r.ranges(FileId(0), "x = \"hunter2\"", 0..13), vec![5..12]);
    }

    #[test]
    fn spans_are_clipped_to_the_excerpt() {
        let r = Redactor::new(Vec::new(), vec![Span::new(FileId(1), 4..10)]);
        assert_eq!(r.ranges(FileId(1), "0123456789abc", 6..12), vec![6..10]);
        assert!(r.ranges(FileId(2), "0123456789abc", 0..12).is_empty());
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(
            terminal_safe("a\x1b[31mb\u{202e}c\n", false),
            "a\\x1b[31mb\\u{202e}c\n"
        );
        assert_eq!(terminal_safe("a\nb", true), "a\\x0ab");
        assert!(matches!(
            terminal_safe("plain\ttext", true),
            Cow::Borrowed(_)
        ));
    }
}
