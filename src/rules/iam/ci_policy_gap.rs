//! `ci-policy-gap`: a resource the Terraform roots create needs an action the documented CI
//! policy does not allow on that resource's ARN.

use super::{argument, aws_blocks};
use crate::config::{OptionKind, OptionSpec};
use crate::diagnostic::{Finding, Severity};
use crate::model::iam::actions::{self, Operation, display_arn};
use crate::model::iam::{self, Decision, PolicyKind, Request, Target};
use crate::rules::{Context, Rule};
use std::collections::BTreeSet;

crate::rules::declare_rule! {
    pub struct CiPolicyGap {
        id: "ci-policy-gap",
        severity: Severity::Error,
        summary: "A resource Terraform creates needs an action the documented CI policy does not allow on its ARN",
        fix: None,
        options: &[OptionSpec {
            name: "operations",
            kind: OptionKind::StringList,
            doc: "which of create, read, update, delete to check (default: all four)",
        }],
        reads: Terraform,
    }
}

impl Rule for CiPolicyGap {
    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let s = cx.session;
        let cfg = &s.config.iam;
        let Some(path) = &cfg.ci_policy else {
            return Vec::new();
        };
        let Some(file) = s.repo.file_by_path(path) else {
            return Vec::new();
        };
        let Some(mut policy) = iam::policy_in_file(&s.repo, file.id) else {
            return Vec::new();
        };
        let doc_span = policy.span.unwrap_or_else(|| file.span(0..0));
        let mut out = Vec::new();
        if policy.kind == PolicyKind::Trust {
            out.push(cx.note(
                doc_span,
                format!("{path} is a trust policy (it names a Principal), not the CI role's permissions; ci-policy-gap needs the permissions policy"),
            ));
            return out;
        }
        let target = Target {
            account_id: cfg.account_id.clone(),
            region: cfg.region.clone(),
            partition: cfg.partition.clone(),
        };
        target.apply(&mut policy);
        let mut ops: Vec<Operation> = cx
            .option_strings("operations")
            .iter()
            .filter_map(|o| Operation::parse(o))
            .collect();
        if ops.is_empty() {
            ops = Operation::ALL.to_vec();
        }
        let an = s.terraform_analysis();
        let table = actions::table();
        let mut unknown_types = BTreeSet::new();
        let mut undecided_by_placeholder = 0usize;
        for b in aws_blocks(s) {
            let Some(entry) = table.get(&b.type_name, b.data) else {
                if unknown_types.insert(b.type_name.clone())
                    && s.in_scope(&s.repo.file(b.header.file).rel_path)
                {
                    out.push(cx.note(
                        b.header,
                        format!(
                            "cannot tell which IAM actions `{}` needs: the type is not in preflight's table (rules/terraform-iam-actions.toml)",
                            b.type_name
                        ),
                    ));
                }
                continue;
            };
            let name_arg = entry.name_arg().to_string();
            let name_span = argument(s, an, &b, &name_arg).map(|(_, sp)| sp);
            let arg =
                |a: &str| argument(s, an, &b, a).and_then(|(v, _)| v.as_str().map(str::to_owned));
            let ops_here: &[Operation] = if b.data { &[Operation::Read] } else { &ops };
            let mut missing = Vec::new();
            let mut undecided = Vec::new();
            let mut arn_shown = String::new();
            for need in entry.needed(ops_here, &target, &arg) {
                let e = policy.evaluate(&Request::new(&need.action, &need.arn));
                match e.decision {
                    Decision::Allowed => {}
                    Decision::Denied => {
                        if arn_shown.is_empty() || need.arn != "*" {
                            arn_shown = need.arn.clone();
                        }
                        missing.push(need)
                    }
                    Decision::CannotTell(reason) => {
                        if e.statement.is_some_and(|i| !policy.statements[i].condition)
                            && !policy.placeholders().is_empty()
                        {
                            undecided_by_placeholder += 1;
                        } else {
                            undecided.push((need, reason));
                        }
                    }
                }
            }
            let span = name_span.unwrap_or(b.header);
            if !s.in_scope(&s.repo.file(span.file).rel_path)
                && !s.in_scope(&s.repo.file(b.header.file).rel_path)
            {
                continue;
            }
            if !missing.is_empty() {
                let mut list: Vec<String> =
                    missing.iter().map(|n| format!("`{}`", n.action)).collect();
                list.dedup();
                let mut f = cx
                    .finding(
                        span,
                        format!(
                            "{} needs {} on `{}`, which the CI policy {path} does not allow",
                            b.address,
                            list.join(", "),
                            display_arn(&arn_shown)
                        ),
                    )
                    .with_address(b.address.clone());
                let first = &missing[0];
                match policy.closest(&Request::new(&first.action, &first.arn)) {
                    Some((si, ai)) => {
                        let st = &policy.statements[si];
                        let at = st
                            .actions
                            .as_ref()
                            .and_then(|a| a.items().get(ai))
                            .and_then(|i| i.span)
                            .or(st.span)
                            .unwrap_or(doc_span);
                        let patterns: Vec<String> = st
                            .resources
                            .as_ref()
                            .map(|r| r.items().iter().map(|i| format!("`{}`", i.text)).collect())
                            .unwrap_or_default();
                        f = f.with_label(
                            at,
                            format!(
                                "{} allows `{}` only on {}",
                                st.label(si),
                                first.action,
                                patterns.join(", ")
                            ),
                        );
                    }
                    None => {
                        f = f.with_label(
                            doc_span,
                            format!("no statement of the CI policy grants `{}`", first.action),
                        );
                    }
                }
                let mut help: Vec<String> = missing
                    .iter()
                    .map(|n| format!("{} on {}", n.action, display_arn(&n.arn)))
                    .collect();
                help.dedup();
                out.push(f.with_help(format!(
                    "allow {} in {path} (or rename the resource to match what the policy allows)",
                    help.join(", ")
                )));
            }
            if !undecided.is_empty() {
                let mut list: Vec<String> = Vec::new();
                for (n, _) in &undecided {
                    let a = format!("`{}`", n.action);
                    if !list.contains(&a) {
                        list.push(a);
                    }
                }
                out.push(
                    cx.note(
                        span,
                        format!(
                            "cannot tell whether the CI policy allows {} for {}: {}",
                            list.join(", "),
                            b.address,
                            undecided[0].1
                        ),
                    )
                    .with_address(b.address.clone()),
                );
            }
        }
        if undecided_by_placeholder > 0 {
            let holes = policy.placeholders();
            out.push(cx.note(
                doc_span,
                format!(
                    "{undecided_by_placeholder} permission checks depend on the placeholders {} in {path}; set `account_id`, `region` and `partition` under [iam] in preflight.toml to decide them",
                    holes.iter().map(|h| format!("`{h}`")).collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{check_rule, expect};

    const POLICY: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "Secrets",
      "Effect": "Allow",
      "Action": ["secretsmanager:*"],
      "Resource": "arn:aws:secretsmanager:*:*:secret:goldenpath/*"
    },
    {
      "Sid": "Roles",
      "Effect": "Allow",
      "Action": ["iam:CreateRole", "iam:GetRole", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies", "iam:GetRolePolicy", "iam:UpdateRole", "iam:UpdateAssumeRolePolicy", "iam:TagRole", "iam:UntagRole", "iam:DeleteRole", "iam:ListInstanceProfilesForRole", "iam:DeleteRolePolicy", "iam:DetachRolePolicy", "iam:PutRolePolicy"],
      "Resource": "arn:aws:iam::*:role/goldenpath-*"
    }
  ]
}
"#;

    const CONFIG: &str = "[iam]\nci_policy = \"docs/ci.json\"\nregion = \"eu-west-2\"\n";

    #[test]
    fn a_secret_outside_the_policy_pattern_is_reported_at_its_name() {
        let found = check_rule(
            "ci-policy-gap",
            &[
                ("preflight.toml", CONFIG),
                ("docs/ci.json", POLICY),
                (
                    "envs/dev/main.tf",
                    "variable \"env\" {\n  default = \"dev\"\n}\n\nmodule \"app\" {\n  source = \"../../modules/app\"\n  prefix = \"goldenpath-${var.env}\"\n}\n",
                ),
                (
                    "modules/app/main.tf",
                    "variable \"prefix\" {}\n\nresource \"aws_secretsmanager_secret\" \"app\" {\n  name = \"${var.prefix}-app-secrets\"\n}\n\nresource \"aws_secretsmanager_secret\" \"ok\" {\n  name = \"goldenpath/dev/app\"\n}\n\nresource \"aws_iam_role\" \"app\" {\n  name = \"${var.prefix}-app\"\n  assume_role_policy = \"{}\"\n}\n",
                ),
            ],
        );
        expect(&found, &[("ci-policy-gap", "modules/app/main.tf", 4)]);
        let f = &found[0];
        assert!(
            f.message.contains("secretsmanager:CreateSecret"),
            "{}",
            f.message
        );
        assert!(
            f.message.contains("secret:goldenpath-dev-app-secrets-"),
            "{}",
            f.message
        );
        assert!(
            f.help
                .contains("secretsmanager:CreateSecret on arn:aws:secretsmanager:eu-west-2:"),
            "{}",
            f.help
        );
        let label = &f.finding.labels[0].message;
        assert!(
            label.contains("statement `Secrets`") && label.contains("goldenpath/*"),
            "{label}"
        );
    }

    #[test]
    fn an_action_no_statement_grants_says_so() {
        let found = check_rule(
            "ci-policy-gap",
            &[
                ("preflight.toml", CONFIG),
                ("docs/ci.json", POLICY),
                (
                    "main.tf",
                    "resource \"aws_iam_policy\" \"dns\" {\n  name   = \"goldenpath-dev-dns\"\n  policy = \"{}\"\n}\n",
                ),
            ],
        );
        expect(&found, &[("ci-policy-gap", "main.tf", 2)]);
        assert!(found[0].message.contains("`iam:CreatePolicy`"));
        assert!(found[0].finding.labels[0].message.contains("no statement"));
    }

    #[test]
    fn placeholders_give_one_note_and_unknown_types_a_note_each() {
        let policy = POLICY.replace("arn:aws:iam::*:role", "arn:aws:iam::ACCOUNT_ID:role");
        let found = check_rule(
            "ci-policy-gap",
            &[
                ("preflight.toml", CONFIG),
                ("docs/ci.json", &policy),
                (
                    "main.tf",
                    "resource \"aws_iam_role\" \"a\" {\n  name = \"goldenpath-a\"\n}\n\nresource \"aws_iam_role\" \"b\" {\n  name = \"goldenpath-b\"\n}\n\nresource \"aws_made_up_thing\" \"x\" {\n}\n",
                ),
            ],
        );
        expect(
            &found,
            &[
                ("ci-policy-gap", "docs/ci.json", 1),
                ("ci-policy-gap", "main.tf", 9),
            ],
        );
        assert!(
            found
                .iter()
                .all(|f| f.severity == crate::diagnostic::Severity::Note)
        );
        assert!(found.iter().any(|f| f.message.contains("`ACCOUNT_ID`")));
        // With the account configured the placeholder is filled and nothing is undecided.
        let found = check_rule(
            "ci-policy-gap",
            &[
                (
                    "preflight.toml",
                    &format!("{CONFIG}account_id = \"123456789012\"\n"),
                ),
                ("docs/ci.json", &policy),
                (
                    "main.tf",
                    "resource \"aws_iam_role\" \"a\" {\n  name = \"goldenpath-a\"\n}\n",
                ),
            ],
        );
        expect(&found, &[]);
    }

    #[test]
    fn no_policy_configured_or_a_covered_configuration_is_clean() {
        let tf = "resource \"aws_iam_role\" \"a\" {\n  name = \"other\"\n}\n";
        expect(&check_rule("ci-policy-gap", &[("main.tf", tf)]), &[]);
        let tf = "resource \"aws_iam_role\" \"a\" {\n  count = 0\n  name = \"other\"\n}\n";
        expect(
            &check_rule(
                "ci-policy-gap",
                &[
                    ("preflight.toml", CONFIG),
                    ("docs/ci.json", POLICY),
                    ("main.tf", tf),
                ],
            ),
            &[],
        );
    }
}
