//! `provider-same-apply`: a provider configured from an object the same configuration
//! creates is used in the apply that creates it.

use super::{PerBlock, block_span, gate_span, has_passes, reported};
use crate::diagnostic::{Finding, Severity};
use crate::model::terraform::BlockKind;
use crate::model::terraform::analysis::{
    Analysis, BlockAt, Count, Objects, data_target, unknown_text,
};
use crate::model::terraform::expr::Value;
use crate::model::workspace::Workspace;
use crate::rules::{Context, Rule};
use std::collections::{BTreeMap, HashSet};

crate::rules::declare_rule! {
    pub struct ProviderSameApply {
        id: "provider-same-apply",
        severity: Severity::Error,
        summary: "A provider configured from an object this configuration creates is used in the apply that creates it",
        fix: None,
        reads: Terraform,
    }
}

/// The created resources a provider configuration depends on: directly, or through a data
/// source that reads a created object. Each with how it is reached.
fn created_deps(
    an: &Analysis,
    s: &Workspace,
    objects: &Objects,
    reads: &std::collections::BTreeSet<BlockAt>,
) -> Vec<(BlockAt, String)> {
    let tf = s.terraform();
    let mut out: Vec<(BlockAt, String)> = Vec::new();
    for &d in reads {
        let tb = &an.module(tf, d.inst).blocks[d.block];
        match tb.kind {
            BlockKind::Resource => out.push((d, format!("`{}`", an.address(tf, d)))),
            BlockKind::Data => {
                let Some((target, arg)) = data_target(&tb.type_name) else {
                    continue;
                };
                let Some(e) = an.block(s, d).arg_path(arg) else {
                    continue;
                };
                for pass in 0..an.passes.len() {
                    if let Value::String(name) = e.value(pass)
                        && let Some(cs) = objects.by_key.get(&(target.to_string(), name))
                    {
                        for c in cs {
                            if !out.iter().any(|(x, _)| *x == c.at) {
                                out.push((
                                    c.at,
                                    format!(
                                        "`{}`, which reads `{}`",
                                        an.address(tf, d),
                                        an.address(tf, c.at)
                                    ),
                                ));
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// How to keep a user out of the pass that creates what its provider reads: with the
/// phase flags that pass sets false and a later one sets true, when there are such.
fn phase_help(an: &Analysis, pass: usize, user: &str, created: &str) -> String {
    use crate::model::terraform::expr::Value;
    let flags: Vec<String> = an.passes[pass]
        .overrides
        .iter()
        .filter(|(k, v)| {
            *v == Value::Bool(false)
                && an.passes[pass + 1..].iter().any(|p| {
                    p.overrides
                        .iter()
                        .any(|(n, w)| n == k && *w == Value::Bool(true))
                })
        })
        .map(|(k, _)| format!("`var.{k}`"))
        .collect();
    if flags.is_empty() {
        return format!(
            "gate `{user}` off in the pass that creates `{created}` (e.g. with the flag your later pass turns on)"
        );
    }
    format!(
        "gate `{user}` off in the pass that creates `{created}`: add {} to its `count` condition, as the other users of the provider have (that pass sets it false, a later one true)",
        flags.join(" && ")
    )
}

/// Where to report a user: the block, or the root's module call leading to it.
fn report_at(an: &Analysis, at: BlockAt) -> BlockAt {
    let mut cur = at;
    loop {
        let Some((p, call)) = an.insts[cur.inst].parent else {
            return cur;
        };
        cur = BlockAt {
            inst: p,
            block: call,
        };
    }
}

impl Rule for ProviderSameApply {
    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let s = cx.session;
        let tf = s.terraform();
        let an = s.terraform_analysis();
        let mut out = PerBlock::default();
        for (rp, _) in an.roots.iter().enumerate() {
            let objects = an.objects(s, rp);
            let providers = an.providers(s, rp);
            for (pc, reads) in &providers.reads {
                let deps = created_deps(an, s, objects, reads);
                if deps.is_empty() {
                    continue;
                }
                let users: Vec<BlockAt> = providers
                    .users
                    .get(pc)
                    .into_iter()
                    .flatten()
                    .copied()
                    .filter(|u| !deps.iter().any(|(d, _)| d == u) && !reads.contains(u))
                    .collect();
                let paddr = an.address(tf, *pc);
                if has_passes(an) {
                    for &u in &users {
                        let at = report_at(an, u);
                        let key = block_span(an, s, at);
                        for pass in an.selected.iter().copied() {
                            if out.has_error(key) {
                                break;
                            }
                            let phrase = an.passes[pass].phrase();
                            let uc = an.count(s, pass, u);
                            if uc.is_zero() {
                                continue;
                            }
                            for (d, via) in &deps {
                                let dc: Vec<Count> =
                                    (0..=pass).map(|p| an.count(s, p, *d)).collect();
                                if dc[..pass].iter().any(Count::is_active) {
                                    continue;
                                }
                                match (&dc[pass], &uc) {
                                    (Count::Known(n), Count::Known(_)) if *n > 0 => {
                                        let f = cx
                                            .finding(
                                                gate_span(an, s, at),
                                                format!(
                                                    "`{}` uses `{paddr}`, which is configured from {via}; {phrase} that object is created in the same apply, so the provider is configured before it exists",
                                                    an.address(tf, u)
                                                ),
                                            )
                                            .with_label(an.span(s, *pc, None), "configured from an object created in the same apply")
                                            .with_label(an.span(s, *d, None), "created here")
                                            .with_help(phase_help(an, pass, &an.address(tf, at), &an.address(tf, *d)))
                                            .with_address(an.address(tf, at));
                                        out.put(key, f);
                                        break;
                                    }
                                    (Count::Unknown(x), _) | (_, Count::Unknown(x)) => {
                                        out.put(key, cx.note(gate_span(an, s, at), format!(
                                            "cannot tell whether `{}` uses `{paddr}` in the apply that creates `{}` {phrase}: {}",
                                            an.address(tf, u), an.address(tf, *d), unknown_text(x)
                                        )).with_address(an.address(tf, at)));
                                    }
                                    _ => {}
                                }
                            }
                        }
                    }
                    continue;
                }
                // No passes: only an inconsistent phase gate is reported.
                if users.len() < 2 {
                    continue;
                }
                let creator_terms: HashSet<String> = deps
                    .iter()
                    .flat_map(|(d, _)| an.terms(s, *d))
                    .map(|t| t.qualified)
                    .collect();
                let mut freq: BTreeMap<String, (usize, String)> = BTreeMap::new();
                let user_terms: Vec<Vec<String>> = users
                    .iter()
                    .map(|u| {
                        let mut t: Vec<String> =
                            an.terms(s, *u).into_iter().map(|t| t.qualified).collect();
                        t.sort();
                        t.dedup();
                        t
                    })
                    .collect();
                for ts in &user_terms {
                    for t in ts {
                        freq.entry(t.clone()).or_insert((0, t.clone())).0 += 1;
                    }
                }
                let phase: Vec<String> = freq
                    .into_iter()
                    .filter(|(t, (n, _))| {
                        *n >= 2 && n * 2 > users.len() && !creator_terms.contains(t)
                    })
                    .map(|(t, _)| t)
                    .collect();
                if phase.is_empty() {
                    continue;
                }
                for (u, ts) in users.iter().zip(&user_terms) {
                    let lacking: Vec<&String> = phase.iter().filter(|p| !ts.contains(p)).collect();
                    if lacking.is_empty() {
                        continue;
                    }
                    let at = report_at(an, *u);
                    let key = block_span(an, s, at);
                    let (d, via) = &deps[0];
                    let lack = lacking
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(" && ");
                    let f = cx
                        .finding(
                            gate_span(an, s, at),
                            format!(
                                "`{}` uses `{paddr}`, which is configured from {via}, but lacks the phase gate the other users of that provider carry ({lack}): it runs in the apply that creates the object",
                                an.address(tf, *u)
                            ),
                        )
                        .with_label(an.span(s, *pc, None), "configured from an object this configuration creates")
                        .with_label(an.span(s, *d, None), "created here")
                        .with_help(format!("add {lack} to the gate of `{}`", an.address(tf, at)))
                        .with_address(an.address(tf, at));
                    out.put(key, f);
                }
                let _ = reported;
            }
        }
        out.into_vec()
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{check_rule, expect};

    const MAIN: &str = r#"variable "enable_k8s_resources" {
  type    = bool
  default = true
}

module "eks" {
  source       = "../../modules/eks"
  cluster_name = "dev-eks"
}

data "aws_eks_cluster" "this" {
  count = var.enable_k8s_resources ? 1 : 0
  name  = module.eks.cluster_name
}

provider "kubernetes" {
  host = try(data.aws_eks_cluster.this[0].endpoint, "")
}

resource "kubernetes_namespace_v1" "a" {
  count = var.enable_k8s_resources ? 1 : 0
  metadata {
    name = "a"
  }
}

resource "kubernetes_namespace_v1" "b" {
  count = var.enable_k8s_resources ? 1 : 0
  metadata {
    name = "b"
  }
}

resource "kubernetes_namespace_v1" "c" {
  metadata {
    name = "c"
  }
}
"#;

    #[test]
    fn a_user_without_the_phase_gate() {
        let found = check_rule(
            "provider-same-apply",
            &[
                ("envs/dev/main.tf", MAIN),
                ("modules/eks/main.tf", super::super::fixtures::EKS_MODULE),
            ],
        );
        expect(&found, &[("provider-same-apply", "envs/dev/main.tf", 34)]);
    }

    #[test]
    fn declared_passes_report_users_active_in_the_creating_pass() {
        let found = check_rule(
            "provider-same-apply",
            &[
                ("envs/dev/main.tf", MAIN),
                ("modules/eks/main.tf", super::super::fixtures::EKS_MODULE),
                (
                    "preflight.toml",
                    "[terraform.passes]\npass1 = { enable_k8s_resources = false }\npass2 = { enable_k8s_resources = true }\n",
                ),
            ],
        );
        expect(&found, &[("provider-same-apply", "envs/dev/main.tf", 34)]);
        assert!(found[0].message.contains("pass1"));
    }

    #[test]
    fn a_plain_single_pass_root_gets_nothing() {
        let main = MAIN.replace(
            "count = var.enable_k8s_resources ? 1 : 0\n  metadata",
            "metadata",
        );
        let found = check_rule(
            "provider-same-apply",
            &[
                ("envs/dev/main.tf", &main),
                ("modules/eks/main.tf", super::super::fixtures::EKS_MODULE),
            ],
        );
        expect(&found, &[]);
    }

    /// A module call of Helm releases gated on the cluster's own flag alone, while the other
    /// users of the cluster's providers carry the phase flag the bootstrap script flips.
    fn addons_root(addons_count: &str) -> String {
        format!(
            r#"variable "enable_k8s_resources" {{
  type    = bool
  default = false
}}

variable "create_cluster" {{
  type    = bool
  default = true
}}

module "eks" {{
  source       = "../../modules/eks"
  cluster_name = "stage-eks"
  enabled      = var.create_cluster
}}

data "aws_eks_cluster" "this" {{
  count = var.enable_k8s_resources ? 1 : 0
  name  = module.eks.cluster_name
}}

provider "helm" {{
  kubernetes {{
    host = try(data.aws_eks_cluster.this[0].endpoint, "")
  }}
}}

provider "kubernetes" {{
  host = try(data.aws_eks_cluster.this[0].endpoint, "")
}}

resource "kubernetes_namespace_v1" "platform" {{
  count = var.enable_k8s_resources ? 1 : 0
  metadata {{
    name = "platform"
  }}
}}

module "addons" {{
  source = "../../modules/addons"
  count  = {addons_count}
}}
"#
        )
    }

    const ADDONS: &str = "resource \"helm_release\" \"metrics\" {\n  name       = \"metrics-server\"\n  repository = \"https://kubernetes-sigs.github.io/metrics-server/\"\n  chart      = \"metrics-server\"\n}\n\nresource \"helm_release\" \"autoscaler\" {\n  name       = \"cluster-autoscaler\"\n  repository = \"https://kubernetes.github.io/autoscaler\"\n  chart      = \"cluster-autoscaler\"\n}\n";

    const BOOTSTRAP: &str = "#!/bin/sh\nset -e\nterraform -chdir=envs/stage apply -var enable_k8s_resources=false\nterraform -chdir=envs/stage apply -var enable_k8s_resources=true\n";

    #[test]
    fn a_module_of_helm_releases_missing_the_phase_flag_is_one_error_at_the_call() {
        let root = addons_root("var.create_cluster ? 1 : 0");
        let found = check_rule(
            "provider-same-apply",
            &[
                ("envs/stage/main.tf", root.as_str()),
                ("modules/eks/main.tf", super::super::fixtures::EKS_MODULE),
                ("modules/addons/main.tf", ADDONS),
                ("scripts/bootstrap.sh", BOOTSTRAP),
            ],
        );
        // Two releases inside, one finding: the module call counts once.
        expect(&found, &[("provider-same-apply", "envs/stage/main.tf", 41)]);
        assert!(
            found[0]
                .help
                .contains("add `var.enable_k8s_resources` to its `count` condition"),
            "{}",
            found[0].help
        );
        let fixed = addons_root("var.create_cluster && var.enable_k8s_resources ? 1 : 0");
        let found = check_rule(
            "provider-same-apply",
            &[
                ("envs/stage/main.tf", fixed.as_str()),
                ("modules/eks/main.tf", super::super::fixtures::EKS_MODULE),
                ("modules/addons/main.tf", ADDONS),
                ("scripts/bootstrap.sh", BOOTSTRAP),
            ],
        );
        expect(&found, &[]);
    }
}
