//! `evaluation-budget`: a value preflight did not evaluate because it is too large or too
//! costly, so what depends on it is not checked.

use crate::diagnostic::{Finding, Severity};
use crate::rules::{Context, Rule};

crate::rules::declare_rule! {
    pub struct EvaluationBudget {
        id: "evaluation-budget",
        severity: Severity::Note,
        summary: "A value too large or too costly to evaluate: what depends on it is not checked",
        fix: None,
        reads: Terraform,
    }
}

impl Rule for EvaluationBudget {
    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let s = cx.session;
        let an = s.terraform_analysis();
        let mut out: Vec<Finding> = an
            .truncated
            .iter()
            .filter(|span| s.file_in_scope(&s.repo.file(span.file).rel_path))
            .map(|&span| {
                cx.finding(
                    span,
                    format!(
                        "cannot tell: the root's module calls expand to more than {} module instances; this call and the ones after it are not followed, so what they create is not checked",
                        crate::model::terraform::analysis::MAX_MODULE_INSTANCES
                    ),
                )
                .with_help("nothing to fix if the tree is meant to be this large; preflight bounds the memory and time one repository may take")
            })
            .collect();
        out.extend(an.over_budget(s)
            .into_iter()
            .filter(|(span, _)| s.file_in_scope(&s.repo.file(span.file).rel_path))
            .map(|(span, reason)| {
                cx.finding(
                    span,
                    format!("cannot tell: {reason}, so the findings that depend on it are not reported"),
                )
                .with_help("nothing to fix if the value is meant to be this large; preflight bounds the memory and time one repository may take")
            }));
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{check_rule, expect};

    #[test]
    fn doubling_locals_stop_at_the_budget() {
        let mut tf =
            String::from("locals {\n  a0 = { x = \"0123456789abcdef0123456789abcdef\" }\n");
        for i in 1..30 {
            tf.push_str(&format!(
                "  a{i} = {{ l = local.a{p}, r = local.a{p} }}\n",
                p = i - 1
            ));
        }
        tf.push_str("}\n");
        let started = std::time::Instant::now();
        let findings = check_rule("evaluation-budget", &[("envs/dev/main.tf", &tf)]);
        assert!(!findings.is_empty());
        // The first local over the budget is named; the ones after it only depend on it.
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].line, 20, "{findings:?}");
        assert!(
            findings[0].message.contains("over the value budget"),
            "{}",
            findings[0].message
        );
        assert!(started.elapsed().as_secs() < 60);
    }

    #[test]
    fn a_module_fan_out_stops_at_the_instance_budget() {
        // Ten calls per module, six deep: a million instances if followed.
        let mut files: Vec<(String, String)> = Vec::new();
        for d in 0..6 {
            let calls: String = (0..10)
                .map(|i| format!("module \"m{i}\" {{\n  source = \"../l{}\"\n}}\n", d + 1))
                .collect();
            files.push((format!("modules/l{d}/main.tf"), calls));
        }
        files.push(("modules/l6/main.tf".into(), "locals {}\n".into()));
        files.push((
            "envs/dev/main.tf".into(),
            "module \"top\" {\n  source = \"../../modules/l0\"\n}\n".into(),
        ));
        let borrowed: Vec<(&str, &str)> = files
            .iter()
            .map(|(p, t)| (p.as_str(), t.as_str()))
            .collect();
        let started = std::time::Instant::now();
        let findings = check_rule("evaluation-budget", &borrowed);
        assert!(
            findings
                .iter()
                .any(|f| f.message.contains("module instances")),
            "{findings:?}"
        );
        assert!(started.elapsed().as_secs() < 60);
    }

    #[test]
    fn ordinary_values_are_within_the_budget() {
        let findings = check_rule(
            "evaluation-budget",
            &[(
                "envs/dev/main.tf",
                "locals {\n  names = [for i in range(1000) : \"svc-${i}\"]\n  map = { for n in local.names : n => upper(n) }\n}\n",
            )],
        );
        expect(&findings, &[]);
    }
}
