//! `suppression-without-reason`: `preflight:ignore` with no `-- reason`.

use crate::diagnostic::{Finding, Severity};
use crate::rules::{Context, Rule};

crate::rules::declare_rule! {
    pub struct SuppressionWithoutReason {
        id: "suppression-without-reason",
        severity: Severity::Warning,
        summary: "An inline suppression does not say why the finding is acceptable",
        fix: None,
    }
}

impl Rule for SuppressionWithoutReason {
    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        cx.session
            .suppressions
            .iter()
            .filter(|s| s.reason.is_none())
            .filter(|s| {
                cx.session
                    .in_scope(&cx.session.repo.file(s.span.file).rel_path)
            })
            .map(|s| {
                cx.finding(
                    s.span,
                    format!("suppression of {} gives no reason", s.rules.join(", ")),
                )
                .with_help(format!(
                    "add the reason after `--`: `preflight:ignore {} -- <why this is safe>`",
                    s.rules.join(", ")
                ))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{check_rule, expect};

    #[test]
    fn flags_a_suppression_without_reason() {
        let findings = check_rule(
            "suppression-without-reason",
            &[(
                "main.tf",
                "# preflight:ignore parse-error\nlocals {}\n\n# preflight:ignore parse-error -- generated file\nlocals {}\n",
            )],
        );
        expect(&findings, &[("suppression-without-reason", "main.tf", 1)]);
    }
}
