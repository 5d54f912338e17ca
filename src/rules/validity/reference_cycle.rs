//! `reference-cycle`: local values that refer to themselves or to each other in a cycle.

use super::scoped_modules;
use crate::diagnostic::{Finding, Severity};
use crate::model::terraform::cycles::local_cycles;
use crate::rules::{Context, Rule};

crate::rules::declare_rule! {
    pub struct ReferenceCycle {
        id: "reference-cycle",
        severity: Severity::Error,
        summary: "Local values that refer to themselves or to each other in a cycle",
        fix: None,
        reads: Terraform,
    }
}

impl Rule for ReferenceCycle {
    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let repo = &cx.session.repo;
        let tf = cx.session.terraform();
        let mut out = Vec::new();
        for id in scoped_modules(cx.session) {
            let module = tf.module(id);
            for cycle in local_cycles(tf, repo, module) {
                let first = &module.locals[cycle[0]];
                if !cx
                    .session
                    .file_in_scope(&repo.file(first.span.file).rel_path)
                {
                    continue;
                }
                let names: Vec<String> = cycle
                    .iter()
                    .map(|&i| format!("`local.{}`", module.locals[i].name))
                    .collect();
                let f = if cycle.len() == 1 {
                    cx.finding(
                        first.span,
                        format!(
                            "local value `local.{}` refers to itself: terraform validate fails (\"Self-referencing local value\")",
                            first.name
                        ),
                    )
                    .with_help("compute the value from other locals, variables or resources; a local cannot use its own result")
                } else {
                    let mut f = cx
                        .finding(
                            first.span,
                            format!(
                                "local values {} refer to each other in a cycle: terraform validate fails (\"Cycle: …\")",
                                names.join(", ")
                            ),
                        )
                        .with_span_label("part of the cycle")
                        .with_help("break the cycle: one of these values must be computed without the others");
                    for &i in &cycle[1..] {
                        f = f.with_label(module.locals[i].span, "part of the cycle");
                    }
                    f
                };
                out.push(f.with_address(format!("local.{}", first.name)));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{check_rule, expect};

    #[test]
    fn cycles_and_self_references_are_errors() {
        let findings = check_rule(
            "reference-cycle",
            &[(
                "envs/dev/main.tf",
                "locals {\n  a = local.b\n  b = \"${local.c}-x\"\n  c = upper(local.a)\n  d = local.d\n  e = local.a\n}\n",
            )],
        );
        expect(
            &findings,
            &[
                ("reference-cycle", "envs/dev/main.tf", 2),
                ("reference-cycle", "envs/dev/main.tf", 5),
            ],
        );
        assert!(
            findings[0]
                .message
                .contains("`local.a`, `local.b`, `local.c`")
        );
        assert!(findings[1].message.contains("refers to itself"));
    }

    #[test]
    fn a_chain_and_for_variables_are_not_cycles() {
        let findings = check_rule(
            "reference-cycle",
            &[(
                "envs/dev/main.tf",
                "locals {\n  a = 1\n  b = local.a + 1\n  c = [for local in [1] : local]\n  d = { for k, v in local.b_map : k => v }\n  b_map = { x = local.b }\n}\n",
            )],
        );
        expect(&findings, &[]);
    }
}
