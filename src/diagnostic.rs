//! Findings: what a rule reports.

use crate::source::Span;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Note,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        match s {
            "note" => Some(Severity::Note),
            "warning" => Some(Severity::Warning),
            "error" => Some(Severity::Error),
            _ => None,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// A secondary location that explains a finding ("the cluster is created here").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    pub span: Span,
    pub message: String,
}

/// One finding of one rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    pub message: String,
    /// Where the problem is; the primary span of the rendered snippet.
    pub span: Span,
    /// Optional text shown at the primary span.
    pub span_label: Option<String>,
    pub labels: Vec<Label>,
    /// The concrete fix.
    pub help: String,
    /// A stable address that survives unrelated edits (Terraform block address, YAML key
    /// path, Application name). Used by baselines; empty when the file alone identifies it.
    pub address: String,
    /// The one fix, as text edits; empty when there is none. `--fix` applies it when its
    /// applicability is [`Applicability::Safe`].
    pub fix: Vec<Edit>,
    /// What the fix does, in one line ("add `var.enable_k8s_resources` to the count").
    pub fix_title: String,
    /// Whether the fix changes nothing but the problem.
    pub applicability: Applicability,
}

/// How far a fix can be trusted, as ruff's fixes say it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Applicability {
    /// Changes nothing but the problem: `--fix` applies it.
    #[default]
    Safe,
    /// May change what the deploy does beyond the problem: shown, never applied.
    DisplayOnly,
}

impl Applicability {
    /// The word the JSON and SARIF outputs use.
    pub fn as_str(self) -> &'static str {
        match self {
            Applicability::Safe => "safe",
            Applicability::DisplayOnly => "display-only",
        }
    }
}

/// Replace the text at `span` with `replacement` (an insertion when the span is empty).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    pub span: Span,
    pub replacement: String,
}

impl Finding {
    pub fn new(
        rule: &'static str,
        severity: Severity,
        span: Span,
        message: impl Into<String>,
    ) -> Finding {
        Finding {
            rule,
            severity,
            message: message.into(),
            span,
            span_label: None,
            labels: Vec::new(),
            help: String::new(),
            address: String::new(),
            fix: Vec::new(),
            fix_title: String::new(),
            applicability: Applicability::Safe,
        }
    }

    /// Attach the fix: edits applied together by `--fix`.
    /// What the fix does, in one line (the reports fall back to a generic title).
    pub fn with_fix_title(mut self, title: impl Into<String>) -> Finding {
        self.fix_title = title.into();
        self
    }

    /// How far the fix can be trusted (safe unless set).
    pub fn with_applicability(mut self, applicability: Applicability) -> Finding {
        self.applicability = applicability;
        self
    }

    pub fn with_fix(mut self, edits: Vec<Edit>) -> Finding {
        self.fix = edits;
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Finding {
        self.help = help.into();
        self
    }

    pub fn with_label(mut self, span: Span, message: impl Into<String>) -> Finding {
        self.labels.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    pub fn with_span_label(mut self, message: impl Into<String>) -> Finding {
        self.span_label = Some(message.into());
        self
    }

    pub fn with_address(mut self, address: impl Into<String>) -> Finding {
        self.address = address.into();
        self
    }
}

/// Whether a rule's findings can carry a fix, and how it is applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FixKind {
    /// The rule never offers edits.
    None,
    /// Some findings carry edits that change nothing but the problem; `--fix` applies them.
    Safe,
}

impl FixKind {
    /// How a rule page states it.
    pub fn describe(self) -> &'static str {
        match self {
            FixKind::None => "no",
            FixKind::Safe => {
                "yes, where the finding says so (safe: `preflight check --fix` applies it)"
            }
        }
    }
}

/// What a rule's check asks the session for, so that the engine may run it before every
/// model is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reads {
    /// Only the Terraform models: the modules, the steps and the analysis (which are built
    /// first). Checked in debug builds: a rule so declared that asks for another model
    /// panics there.
    Terraform,
    /// Any model.
    Everything,
}

/// The first line of the header block of a rule page, which the rule's metadata writes.
pub const HEADER_START: &str = "<!-- The header is made from the rule's declaration (`preflight explain` prints it); the tests keep this copy in step. -->\n";
/// The line after it.
pub const HEADER_END: &str = "<!-- end of header -->\n";

/// What every rule declares about itself (written by `declare_rule!`).
pub struct RuleMeta {
    /// The stable rule id, e.g. `ungated-data-source`.
    pub id: &'static str,
    pub default_severity: Severity,
    /// One line for `preflight rules`.
    pub summary: &'static str,
    /// The user-facing page, `rules/ID.md`, embedded.
    pub doc: &'static str,
    /// Options accepted in `[rules.ID]` besides `enabled` and `severity`.
    pub options: &'static [crate::config::OptionSpec],
    /// Whether its findings can carry a fix.
    pub fix: FixKind,
    /// The models its check asks for.
    pub reads: Reads,
}

impl RuleMeta {
    /// The header of the rule's page, from this metadata: severity, whether it fixes, and
    /// its options.
    pub fn header(&self) -> String {
        let mut out = format!(
            "**Severity:** {} · **Fixable:** {} · **Options:** {}\n",
            self.default_severity,
            self.fix.describe(),
            if self.options.is_empty() {
                "none besides `enabled` and `severity`"
            } else {
                "see below"
            }
        );
        if !self.options.is_empty() {
            out.push_str(&format!(
                "\nOptions of `[rules.{}]` in `preflight.toml`, besides `enabled` and `severity`:\n\n",
                self.id
            ));
            for o in self.options {
                out.push_str(&format!("- `{}` ({}): {}\n", o.name, o.kind.name(), o.doc));
            }
        }
        out
    }

    /// The rule's page as `preflight explain` prints it: `rules/ID.md` with its header
    /// (between [`HEADER_START`] and [`HEADER_END`], right under the title) made afresh from
    /// this metadata, without the markers.
    pub fn page(&self) -> String {
        let (title, rest) = self.doc.split_once('\n').unwrap_or((self.doc, ""));
        let rest = rest.trim_start_matches('\n');
        let body = match rest
            .strip_prefix(HEADER_START)
            .and_then(|r| r.split_once(HEADER_END))
        {
            Some((_, after)) => after.trim_start_matches('\n'),
            None => rest,
        };
        format!("{title}\n\n{}\n{body}", self.header())
    }

    /// `rules/ID.md` with the header block under its title as this metadata makes it
    /// (what the page file must hold; the test suite checks it).
    pub fn page_file(&self) -> String {
        let (title, rest) = self.doc.split_once('\n').unwrap_or((self.doc, ""));
        let rest = rest.trim_start_matches('\n');
        let body = match rest
            .strip_prefix(HEADER_START)
            .and_then(|r| r.split_once(HEADER_END))
        {
            Some((_, after)) => after.trim_start_matches('\n'),
            None => rest,
        };
        format!(
            "{title}\n\n{HEADER_START}{}{HEADER_END}\n{body}",
            self.header()
        )
    }
}
