//! Rules: one file per rule, grouped by domain. A rule asks the models questions and
//! reports findings; it never parses text itself.

pub mod declare;
pub mod engine;
#[cfg(test)]
mod examples;
pub mod gitops;
pub mod helm;
pub mod iam;
pub mod identity;
pub mod syntax;
pub mod terraform;
pub mod validity;

use crate::config::RuleSettings;
use crate::diagnostic::{Finding, Severity};
use crate::model::workspace::Workspace;
use crate::source::Span;

pub use crate::diagnostic::RuleMeta;
pub(crate) use declare::{declare_domain, declare_rule};

/// A rule's declaration, written by [`declare_rule!`]: its metadata.
pub trait Declared {
    fn meta(&self) -> &'static RuleMeta;
}

/// What a rule does; its declaration comes from [`declare_rule!`].
pub trait Rule: Declared + Send + Sync {
    fn check(&self, cx: &Context<'_>) -> Vec<Finding>;
}

/// The domains, each with its rules by release (see [`declare_domain!`]).
pub const DOMAINS: &[(&str, &[&[&'static dyn Rule]])] = &[
    ("terraform", terraform::RULES),
    ("gitops", gitops::RULES),
    ("helm", helm::RULES),
    ("iam", iam::RULES),
    ("identity", identity::RULES),
    ("validity", validity::RULES),
    ("engine", engine::RULES),
];

/// Every rule preflight has, in a stable order: release by release, and within a release
/// domain by domain in [`DOMAINS`] order (deploy ordering first, then GitOps, Terraform
/// validity, and the rules about files and suppressions). A rule added later joins a later
/// release, so a rule's index in SARIF output does not change.
pub fn all() -> Vec<&'static dyn Rule> {
    let releases = DOMAINS.iter().map(|(_, r)| r.len()).max().unwrap_or(0);
    (0..releases)
        .flat_map(|release| {
            DOMAINS
                .iter()
                .filter_map(move |(_, r)| r.get(release))
                .flat_map(|rules| rules.iter().copied())
        })
        .collect()
}

/// The rules of one domain (`terraform`, `gitops`, ...; see [`DOMAINS`]), in registry
/// order; empty for a name that is no domain.
pub fn domain(name: &str) -> Vec<&'static dyn Rule> {
    DOMAINS
        .iter()
        .filter(|(n, _)| *n == name)
        .flat_map(|(_, r)| r.iter().flat_map(|rules| rules.iter().copied()))
        .collect()
}

pub fn find(id: &str) -> Option<&'static dyn Rule> {
    all().into_iter().find(|r| r.meta().id == id)
}

/// What a rule sees while it runs: the session (repository, configuration, models) and its
/// own settings.
pub struct Context<'a> {
    pub session: &'a Workspace,
    pub meta: &'static RuleMeta,
    pub settings: &'a RuleSettings,
}

impl<'a> Context<'a> {
    /// The rule's severity after configuration.
    pub fn severity(&self) -> Severity {
        self.settings.severity.unwrap_or(self.meta.default_severity)
    }

    /// A finding of this rule at its configured severity.
    pub fn finding(&self, span: Span, message: impl Into<String>) -> Finding {
        Finding::new(self.meta.id, self.severity(), span, message)
    }

    /// A note of this rule: something the model could not decide.
    pub fn note(&self, span: Span, message: impl Into<String>) -> Finding {
        Finding::new(self.meta.id, Severity::Note, span, message)
    }

    pub fn option_strings(&self, name: &str) -> Vec<String> {
        self.settings
            .options
            .get(name)
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::diagnostic::HEADER_START;

    /// Each page's header block is what its rule's declaration makes (run the test with
    /// `UPDATE_RULE_PAGES=1` to rewrite the pages).
    #[test]
    fn rule_page_headers_match_the_declarations() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
        let update = std::env::var_os("UPDATE_RULE_PAGES").is_some();
        let mut stale = Vec::new();
        for rule in all() {
            let m = rule.meta();
            let want = m.page_file();
            let page = m.page();
            assert!(
                page.starts_with(&format!("# {}\n\n{}", m.id, m.header()))
                    && !page.contains(HEADER_START),
                "{}: explain prints the title, then the header once",
                m.id
            );
            if m.doc != want {
                if update {
                    std::fs::write(root.join(format!("{}.md", m.id)), &want).unwrap();
                }
                stale.push(format!("rules/{}.md", m.id));
            }
        }
        assert!(
            update || stale.is_empty(),
            "page headers differ from the rules' declarations (rerun with UPDATE_RULE_PAGES=1): {}",
            stale.join(", ")
        );
    }

    /// Every rule a file under `src/rules/` declares is in its domain's list, so in the
    /// registry.
    #[test]
    fn every_declared_rule_is_registered() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/rules");
        let mut declared = Vec::new();
        for (domain, _) in DOMAINS {
            for entry in std::fs::read_dir(root.join(domain)).unwrap() {
                let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
                let Some((_, decl)) = text.split_once("declare_rule! {") else {
                    continue;
                };
                let id = decl
                    .split_once("id: \"")
                    .and_then(|(_, rest)| rest.split_once('"'))
                    .map(|(id, _)| id.to_string())
                    .unwrap();
                declared.push((domain.to_string(), id));
            }
        }
        declared.sort();
        let mut registered: Vec<(String, String)> = DOMAINS
            .iter()
            .flat_map(|(d, _)| {
                domain(d)
                    .into_iter()
                    .map(|r| (d.to_string(), r.meta().id.to_string()))
            })
            .collect();
        registered.sort();
        assert_eq!(declared, registered);
        assert_eq!(all().len(), registered.len());
    }

    #[test]
    fn rule_ids_are_unique_and_documented() {
        let mut ids: Vec<_> = all().iter().map(|r| r.meta().id).collect();
        let n = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), n, "duplicate rule id");
        for rule in all() {
            let m = rule.meta();
            assert!(
                m.doc.starts_with(&format!("# {}", m.id)),
                "rules/{}.md must start with its id",
                m.id
            );
            for section in [
                "## What it does",
                "## Why it breaks deploys",
                "## Example",
                "## Fix",
            ] {
                assert!(
                    m.doc.contains(section),
                    "rules/{}.md lacks `{section}`",
                    m.id
                );
            }
            assert!(
                !m.summary.is_empty() && !m.summary.ends_with('.'),
                "{}: summary",
                m.id
            );
        }
    }
}
