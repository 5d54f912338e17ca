//! `duplicate-access-entry`: an `aws_eks_access_entry` for the caller's own identity on a
//! cluster created with `bootstrap_cluster_creator_admin_permissions = true`: EKS already
//! made that entry, so the apply fails with ResourceInUseException.

use super::attr_span;
use crate::diagnostic::{Finding, Severity};
use crate::model::identities::IdKind;
use crate::model::terraform::BlockKind;
use crate::model::terraform::analysis::{Analysis, BlockAt, nested_attr, unknown_text};
use crate::model::terraform::expr::{Truth, Value};
use crate::model::workspace::Workspace;
use crate::rules::{Context, Rule};
use hcl_edit::expr::Expression;
use std::collections::HashSet;

crate::rules::declare_rule! {
    pub struct DuplicateAccessEntry {
        id: "duplicate-access-entry",
        severity: Severity::Error,
        summary: "An EKS access entry for the caller's own identity on a cluster that already grants its creator admin access",
        fix: None,
    }
}

const MAX_DEPTH: usize = 16;

/// Whether an expression is the identity running Terraform: `data.aws_caller_identity.X.arn`
/// or `data.aws_iam_session_context.X.issuer_arn`, directly or through locals and module
/// variables. Returns the text of the data source attribute.
fn caller_arn(
    s: &Workspace,
    an: &Analysis,
    inst: usize,
    e: &Expression,
    depth: usize,
) -> Option<String> {
    if depth > MAX_DEPTH {
        return None;
    }
    let mut e = e;
    while let Expression::Parenthesis(p) = e {
        e = p.inner();
    }
    let refs = crate::model::terraform::expr::references(e);
    let [r] = refs.as_slice() else {
        return None;
    };
    // The expression must be the reference itself, not a string built from it.
    if !matches!(e, Expression::Traversal(_)) {
        return None;
    }
    let tf = s.terraform();
    match (r.root.as_str(), r.attrs.as_slice()) {
        ("data", [ty, name, attr, ..])
            if (ty == "aws_caller_identity" && attr == "arn")
                || (ty == "aws_iam_session_context" && attr == "issuer_arn") =>
        {
            Some(format!("data.{ty}.{name}.{attr}"))
        }
        ("local", [name, ..]) => {
            let def = an.module(tf, inst).local(name)?;
            let le = tf.local_expr(&s.repo, def)?;
            caller_arn(s, an, inst, le, depth + 1)
        }
        ("var", [name, ..]) => {
            let (parent, call) = an.insts[inst].parent?;
            let call = an.hcl(
                s,
                BlockAt {
                    inst: parent,
                    block: call,
                },
            )?;
            let arg = &call.body.get_attribute(name)?.value;
            caller_arn(s, an, parent, arg, depth + 1)
        }
        _ => None,
    }
}

impl Rule for DuplicateAccessEntry {
    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let s = cx.session;
        let tf = s.terraform();
        let an = s.terraform_analysis_all();
        let envs = s.environments();
        let index = s.identity_names();
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        for &root in &an.roots {
            for at in an.blocks_of_root(tf, root) {
                let tb = &an.module(tf, at.inst).blocks[at.block];
                if tb.kind != BlockKind::Resource || tb.type_name != "aws_eks_access_entry" {
                    continue;
                }
                let Some(block) = an.hcl(s, at) else { continue };
                let Some(principal) = block.body.get_attribute("principal_arn") else {
                    continue;
                };
                let Some(caller) = caller_arn(s, an, at.inst, &principal.value, 0) else {
                    continue;
                };
                let Some(cluster_expr) = block.body.get_attribute("cluster_name") else {
                    continue;
                };
                if !s.file_in_scope(&s.repo.file(an.span(s, at, None).file).rel_path) {
                    continue;
                }
                // The cluster may be created by another root of the same environment.
                let roots: Vec<usize> = match envs.of_root(root) {
                    Some(e) => envs.roots_of(e).map(|r| r.inst).collect(),
                    None => vec![root],
                };
                for &pass in &an.selected {
                    if !an.count(s, pass, at).is_active() || seen.contains(&at) {
                        continue;
                    }
                    let cluster = match an.eval(s, pass, at.inst, &cluster_expr.value) {
                        Value::String(c) => c,
                        _ => continue,
                    };
                    let Some(created) = index.named.iter().find(|n| {
                        roots.contains(&n.root)
                            && n.pass == pass
                            && n.kind == IdKind::Cluster
                            && !n.lookup
                            && n.name == cluster
                            && n.count.is_active()
                    }) else {
                        continue;
                    };
                    let Some(cblock) = an.hcl(s, created.at) else {
                        continue;
                    };
                    let iter = an.first_iter(s, pass, created.at);
                    let flag = nested_attr(
                        cblock,
                        "access_config",
                        "bootstrap_cluster_creator_admin_permissions",
                    )
                    .map(|e| an.eval_iter(s, pass, created.at.inst, iter, e));
                    let span = attr_span(an, s, at, "principal_arn");
                    let address = an.address(tf, at);
                    let head = format!(
                        "`{address}` adds an access entry for `{caller}`, the identity running Terraform, to the cluster `{cluster}` (`{}`)",
                        created.address
                    );
                    let f = match flag.as_ref().map(|v| (v, v.truthiness())) {
                        Some((_, Truth::True)) => cx
                            .finding(
                                span,
                                format!(
                                    "{head}, created with `bootstrap_cluster_creator_admin_permissions = true`: EKS already made that entry, so apply fails (ResourceInUseException)"
                                ),
                            )
                            .with_label(
                                attr_span(
                                    an,
                                    s,
                                    created.at,
                                    "access_config.bootstrap_cluster_creator_admin_permissions",
                                ),
                                "EKS creates the creator's access entry",
                            ),
                        Some((_, Truth::False)) => continue,
                        Some((v, Truth::Unknown)) => cx.note(
                            span,
                            format!(
                                "{head}; whether the cluster already grants its creator access cannot be told: `bootstrap_cluster_creator_admin_permissions` is {}",
                                v.first_unknown()
                                    .map(unknown_text)
                                    .unwrap_or_else(|| "not a boolean".into())
                            ),
                        ),
                        None => cx.note(
                            span,
                            format!(
                                "{head}, which does not set `access_config.bootstrap_cluster_creator_admin_permissions`: when EKS applies its default (true), it has already made this entry and apply fails (ResourceInUseException)"
                            ),
                        ),
                    };
                    seen.insert(at);
                    out.push(
                        f.with_span_label("the caller's own identity")
                            .with_help("remove this access entry (and its policy association, or keep the association alone), or set `bootstrap_cluster_creator_admin_permissions = false` on the cluster and keep the entry")
                            .with_address(address),
                    );
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::Severity;
    use crate::testing::{check_rule, expect};

    fn root(flag: &str) -> String {
        format!(
            r#"data "aws_caller_identity" "current" {{}}

locals {{
  admin_arn = data.aws_caller_identity.current.arn
}}

module "eks" {{
  source      = "./eks"
  name        = "goldenpath-dev-eks"
  creator_admin = {flag}
}}

resource "aws_eks_access_entry" "admin" {{
  cluster_name  = module.eks.cluster_name
  principal_arn = local.admin_arn
}}

resource "aws_eks_access_entry" "ci" {{
  cluster_name  = module.eks.cluster_name
  principal_arn = "arn:aws:iam::${{data.aws_caller_identity.current.account_id}}:role/ci"
}}
"#
        )
    }

    const EKS: &str = r#"variable "name" {
  type = string
}

variable "creator_admin" {
  type = bool
}

resource "aws_eks_cluster" "this" {
  name     = var.name
  role_arn = "arn:aws:iam::210987654322:role/eks"
  vpc_config {
    subnet_ids = []
  }
  access_config {
    authentication_mode                         = "API"
    bootstrap_cluster_creator_admin_permissions = var.creator_admin
  }
}

output "cluster_name" {
  value = aws_eks_cluster.this.name
}
"#;

    #[test]
    fn entry_for_the_creator_through_a_module_variable() {
        let main = root("true");
        let found = check_rule(
            "duplicate-access-entry",
            &[("main.tf", &main), ("eks/main.tf", EKS)],
        );
        expect(&found, &[("duplicate-access-entry", "main.tf", 15)]);
        assert_eq!(found[0].severity, Severity::Error);
        assert!(
            found[0].message.contains("goldenpath-dev-eks"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn creator_access_off_is_silent_and_unknown_is_a_note() {
        let main = root("false");
        expect(
            &check_rule(
                "duplicate-access-entry",
                &[("main.tf", &main), ("eks/main.tf", EKS)],
            ),
            &[],
        );
        let main = format!(
            "variable \"admin\" {{\n  type = bool\n}}\n\n{}",
            root("var.admin")
        );
        let found = check_rule(
            "duplicate-access-entry",
            &[("main.tf", &main), ("eks/main.tf", EKS)],
        );
        expect(&found, &[("duplicate-access-entry", "main.tf", 19)]);
        assert_eq!(found[0].severity, Severity::Note);
    }
}
