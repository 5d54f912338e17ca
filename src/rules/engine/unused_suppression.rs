//! `unused-suppression`: a `preflight:ignore` comment that silences nothing. Reported by the
//! engine after every other rule has run, since only then is it known what was silenced.

use crate::diagnostic::{Finding, Severity};
use crate::rules::{Context, Rule};

pub const ID: &str = UnusedSuppression::ID;

crate::rules::declare_rule! {
    pub struct UnusedSuppression {
        id: "unused-suppression",
        severity: Severity::Warning,
        summary: "An inline suppression silences nothing (the finding is gone, or the rule id is wrong)",
        fix: None,
    }
}

impl Rule for UnusedSuppression {
    /// Nothing to do during the rule pass; see [`report`].
    fn check(&self, _cx: &Context<'_>) -> Vec<Finding> {
        Vec::new()
    }
}

/// Report the suppressions that silenced nothing (`used[i]` is false).
pub fn report(cx: &Context<'_>, used: &[bool]) -> Vec<Finding> {
    let session = cx.session;
    session
        .suppressions
        .iter()
        .zip(used)
        .filter(|&(s, &u)| !u && session.in_scope(&session.repo.file(s.span.file).rel_path))
        .map(|(s, _)| {
            let unknown: Vec<_> = s
                .rules
                .iter()
                .filter(|r| crate::rules::find(r).is_none())
                .cloned()
                .collect();
            let message = if s.rules.is_empty() {
                "suppression names no rule".to_string()
            } else if !unknown.is_empty() {
                format!("suppression names unknown rule {}", unknown.join(", "))
            } else {
                format!(
                    "suppression of {} silences nothing here",
                    s.rules.join(", ")
                )
            };
            cx.finding(s.span, message).with_help(
                "remove the comment, or correct the rule id (`preflight rules` lists them)",
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::testing::{check_rule, expect};

    #[test]
    fn a_suppression_that_silences_a_finding_is_used() {
        let findings = check_rule(
            "unused-suppression",
            &[(
                "k8s/app.yaml",
                "# preflight:ignore skipped-file -- nothing to skip\na: 1\n",
            )],
        );
        expect(&findings, &[("unused-suppression", "k8s/app.yaml", 1)]);
    }

    #[test]
    fn unknown_rule_ids_are_named() {
        let findings = check_rule(
            "unused-suppression",
            &[(
                "main.tf",
                "locals {} # preflight:ignore no-such-rule -- x\n",
            )],
        );
        expect(&findings, &[("unused-suppression", "main.tf", 1)]);
        assert!(findings[0].message.contains("no-such-rule"));
    }
}
