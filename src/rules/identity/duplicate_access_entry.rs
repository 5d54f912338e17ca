//! `duplicate-access-entry`: an `aws_eks_access_entry` for the caller's own identity on a
//! cluster created with `bootstrap_cluster_creator_admin_permissions = true`: EKS already
//! made that entry, so the apply fails with ResourceInUseException.

use super::attr_span;
use crate::diagnostic::{Finding, Severity};
use crate::model::identities::IdKind;
use crate::model::terraform::BlockKind;
use crate::model::terraform::analysis::unknown_text;
use crate::model::terraform::expr::{Truth, Value};
use crate::rules::{Context, Rule};
use std::collections::HashSet;

crate::rules::declare_rule! {
    pub struct DuplicateAccessEntry {
        id: "duplicate-access-entry",
        severity: Severity::Error,
        summary: "An EKS access entry for the caller's own identity on a cluster that already grants its creator admin access",
        fix: None,
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
                let q = an.block(s, at);
                let Some(principal) = q.arg("principal_arn") else {
                    continue;
                };
                let Some(caller) = principal.caller_identity() else {
                    continue;
                };
                let Some(cluster_expr) = q.arg("cluster_name") else {
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
                    let cluster = match cluster_expr.value(pass) {
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
                    let cblock = an.block(s, created.at);
                    if !cblock.readable() {
                        continue;
                    }
                    let flag = cblock
                        .arg_path("access_config.bootstrap_cluster_creator_admin_permissions")
                        .map(|e| e.value_first(pass));
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
