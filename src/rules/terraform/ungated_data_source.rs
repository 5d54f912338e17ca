//! `ungated-data-source`: a data source reads, during plan, an object the same
//! configuration creates — on a fresh environment the object does not exist yet.

use super::{PerBlock, block_span, gate_span, has_passes, local_text, missing_terms, reported};
use crate::diagnostic::{Finding, Severity};
use crate::model::terraform::BlockKind;
use crate::model::terraform::analysis::{
    Analysis, BlockAt, Count, GateTerm, ReadPhase, data_target, unknown_text,
};
use crate::model::terraform::expr::{Unknown, Value};
use crate::rules::{Context, Rule};

crate::rules::declare_rule! {
    pub struct UngatedDataSource {
        id: "ungated-data-source",
        severity: Severity::Error,
        summary: "A data source reads, during plan, an object this configuration creates: plan fails on a fresh environment",
        fix: Safe,
        reads: Terraform,
    }
}

impl Rule for UngatedDataSource {
    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let s = cx.session;
        let tf = s.terraform();
        let an = s.terraform_analysis();
        let mut out = PerBlock::default();
        for (rp, &root) in an.roots.iter().enumerate() {
            let objects = an.objects(s, rp);
            let providers = an.providers(s, rp);
            for at in an.blocks_of_root(tf, root) {
                let tb = &an.module(tf, at.inst).blocks[at.block];
                if tb.kind != BlockKind::Data {
                    continue;
                }
                let Some((target, arg)) = data_target(&tb.type_name) else {
                    continue;
                };
                let type_created = objects.by_key.keys().any(|(t, _)| t == target)
                    || objects.unresolved.contains_key(target);
                if !type_created {
                    continue;
                }
                let key = block_span(an, s, at);
                let address = an.address(tf, at);
                for pass in 0..an.passes.len() {
                    if out.has_error(key) {
                        break;
                    }
                    let phrase = an.passes[pass].phrase();
                    let count = an.count(s, pass, at);
                    if count.is_zero() {
                        continue;
                    }
                    let q = an.block(s, at);
                    if !q.readable() {
                        break;
                    }
                    let Some(ident) = q.arg_path(arg) else {
                        continue;
                    };
                    let name = match ident.value_first(pass) {
                        Value::String(n) => n,
                        Value::Unknown(Unknown::Undecidable { reason }) => {
                            if reported(an, pass) {
                                out.put(key, cx.note(gate_span(an, s, at), format!(
                                    "cannot tell whether `{address}` reads a {target} this configuration creates {phrase}: its `{arg}` cannot be evaluated ({reason})"
                                )).with_address(address.clone()));
                            }
                            continue;
                        }
                        _ => continue,
                    };
                    let Some(creators) = objects.by_key.get(&(target.to_string(), name.clone()))
                    else {
                        if let Some((u, reason)) =
                            objects.unresolved.get(target).and_then(|l| l.first())
                            && reported(an, pass)
                        {
                            out.put(key, cx.note(gate_span(an, s, at), format!(
                                    "cannot tell whether `{address}` reads an object this configuration creates: the name `{}` gives its {target} cannot be evaluated ({reason})",
                                    an.address(tf, *u)
                                )).with_address(address.clone()));
                        }
                        continue;
                    };
                    let created: Vec<_> = creators
                        .iter()
                        .filter(|c| c.counts.iter().any(|n| !n.is_zero()))
                        .collect();
                    if created.is_empty() {
                        continue;
                    }
                    if created
                        .iter()
                        .any(|c| c.counts[..pass].iter().any(Count::is_active))
                    {
                        // Created by an earlier pass: it exists when this one plans.
                        continue;
                    }
                    let creator = created[0];
                    let creator_addr = an.address(tf, creator.at);
                    match an.read_phase(s, pass, at) {
                        ReadPhase::Apply(_) => continue,
                        ReadPhase::Unknown(reason) => {
                            if reported(an, pass) {
                                out.put(key, cx.note(gate_span(an, s, at), format!(
                                    "cannot tell whether `{address}` is read during plan {phrase}, before `{creator_addr}` creates {target} \"{name}\": {reason}"
                                )).with_address(address.clone()));
                            }
                            continue;
                        }
                        ReadPhase::Plan => {}
                    }
                    if let Count::Unknown(u) = &count {
                        if reported(an, pass) {
                            out.put(
                                key,
                                cx.note(
                                    gate_span(an, s, at),
                                    format!(
                                        "cannot tell whether `{address}` is gated off {phrase}: {}",
                                        unknown_text(u)
                                    ),
                                )
                                .with_address(address.clone()),
                            );
                        }
                        continue;
                    }
                    // Without passes, a data source feeding providers is phase-gated when it
                    // carries the terms every user of every provider it feeds carries (less
                    // what also gates the object it reads).
                    let own = an.terms(s, at);
                    let phase: Vec<GateTerm> = providers.phase_terms(an, s, at, Some(creator.at));
                    let missing = missing_terms(&phase, &own);
                    if !has_passes(an) && !phase.is_empty() && missing.is_empty() {
                        continue;
                    }
                    if !reported(an, pass) {
                        continue;
                    }
                    let mut missing: Vec<String> =
                        missing.iter().map(|t| local_text(an, at.inst, t)).collect();
                    if missing.is_empty() {
                        missing = pass_terms(an, pass);
                    }
                    let help = help_text(an, s, at, &missing, &address, &creator_addr);
                    let creator_span = an.span(s, creator.at, None);
                    let when = if has_passes(an) {
                        format!("{phrase} it is read during plan, before that pass creates it")
                    } else {
                        "it is read during plan, before the apply that creates it".to_string()
                    };
                    let f = cx
                        .finding(
                            gate_span(an, s, at),
                            format!(
                                "`{address}` reads {target} \"{name}\", which this configuration creates (`{creator_addr}`); {when}: plan fails on a fresh environment (\"couldn't find resource\")"
                            ),
                        )
                        .with_span_label("read during plan")
                        .with_label(creator_span, format!("creates {target} \"{name}\""))
                        .with_help(help)
                        .with_address(address.clone())
                        .with_fix(count_fix(an, s, at, &missing))
                        .with_fix_title(format!(
                            "gate `{address}` on {} in its count",
                            missing.join(" && ")
                        ));
                    out.put(key, f);
                }
            }
        }
        out.into_vec()
    }
}

/// The one safe fix: add the missing terms to an existing `count`. For `count = c ? a : b`
/// only the condition changes (`c && missing`), so the instance count when enabled is
/// kept; any other `count = x` becomes `missing ? x : 0`. Without a `count` there is none:
/// adding one would change the data source's address and break its references.
fn count_fix(
    an: &Analysis,
    s: &crate::model::workspace::Workspace,
    at: BlockAt,
    missing: &[String],
) -> Vec<crate::diagnostic::Edit> {
    use crate::model::terraform::query::CountShape;
    if missing.is_empty() {
        return Vec::new();
    }
    let Some(count) = an.block(s, at).arg("count") else {
        return Vec::new();
    };
    let file = gate_span(an, s, at).file;
    let text = &s.repo.file(file).text;
    let terms = missing.join(" && ");
    let (range, replacement) = match count.count_shape() {
        Some(CountShape::Conditional {
            cond: r,
            needs_parens,
        }) => {
            let Some(cond) = text.get(r.clone()) else {
                return Vec::new();
            };
            let cond = if needs_parens {
                format!("({cond})")
            } else {
                cond.to_string()
            };
            (r, format!("{cond} && {terms}"))
        }
        Some(CountShape::Other(r)) => {
            let Some(v) = text.get(r.clone()) else {
                return Vec::new();
            };
            (r, format!("{terms} ? {v} : 0"))
        }
        None => return Vec::new(),
    };
    vec![crate::diagnostic::Edit {
        span: crate::source::Span::new(file, range),
        replacement,
    }]
}

/// Terms that turn a pass's `false` overrides on later: `var.enable_k8s_resources`.
fn pass_terms(an: &Analysis, pass: usize) -> Vec<String> {
    let mut out = Vec::new();
    for (name, v) in &an.passes[pass].overrides {
        if *v == Value::Bool(false)
            && an.passes[pass + 1..].iter().any(|p| {
                p.overrides
                    .iter()
                    .any(|(n, x)| n == name && *x == Value::Bool(true))
            })
        {
            out.push(format!("var.{name}"));
        }
    }
    out
}

fn help_text(
    an: &Analysis,
    s: &crate::model::workspace::Workspace,
    at: BlockAt,
    missing: &[String],
    address: &str,
    creator: &str,
) -> String {
    let defer = format!(
        "or defer the read to apply by taking its name from an attribute `{creator}` computes"
    );
    if missing.is_empty() {
        return format!("gate `{address}` off in the pass that creates the object, {defer}");
    }
    let own: Vec<String> = an.own_terms(s, at).into_iter().map(|t| t.text).collect();
    let q = an.block(s, at);
    let gate = q.gate();
    let is_count = q.has_count();
    match gate {
        Some(_) if is_count && !own.is_empty() => {
            let mut terms = own;
            terms.extend(missing.iter().cloned());
            format!("count = {} ? 1 : 0", terms.join(" && "))
        }
        Some(g) if is_count => {
            format!("count = {} ? {} : 0", missing.join(" && "), g.text())
        }
        Some(_) => format!("gate the for_each with {}, {defer}", missing.join(" && ")),
        None => format!(
            "count = {} ? 1 : 0 (and refer to it as `{address}[0]`), {defer}",
            missing.join(" && ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::CheckOptions;
    use crate::testing::{check_rule, check_tree, expect};

    const ROOT: &str = r#"variable "enable_k8s_resources" {
  type    = bool
  default = false
}

module "eks" {
  source       = "../../modules/eks"
  cluster_name = "dev-eks"
}

data "aws_eks_cluster" "this" {
  count = var.enable_k8s_resources ? 1 : 0
  name  = module.eks.cluster_name
}

data "aws_eks_cluster" "ungated" {
  name = module.eks.cluster_name
}

data "aws_eks_cluster" "deferred" {
  name = module.eks.cluster_endpoint
}

data "aws_eks_cluster" "elsewhere" {
  name = "shared-eks"
}
"#;

    #[test]
    fn reads_of_created_objects_during_plan() {
        let found = check_rule(
            "ungated-data-source",
            &[
                ("envs/dev/main.tf", ROOT),
                ("modules/eks/main.tf", super::super::fixtures::EKS_MODULE),
            ],
        );
        // `ungated` reads during plan; `this` is off with the default false; `deferred`
        // waits for apply; `elsewhere` is not created here.
        expect(&found, &[("ungated-data-source", "envs/dev/main.tf", 16)]);
        assert_eq!(found[0].severity, crate::diagnostic::Severity::Error);
    }

    #[test]
    fn var_turning_the_gate_on_reports_the_gated_one_too() {
        let mut o = CheckOptions::default();
        o.vars.push(("enable_k8s_resources".into(), "true".into()));
        let found: Vec<_> = check_tree(
            &[
                ("envs/dev/main.tf", ROOT),
                ("modules/eks/main.tf", super::super::fixtures::EKS_MODULE),
            ],
            &[],
            o,
        )
        .into_iter()
        .filter(|r| r.rule == "ungated-data-source")
        .collect();
        expect(
            &found,
            &[
                ("ungated-data-source", "envs/dev/main.tf", 12),
                ("ungated-data-source", "envs/dev/main.tf", 16),
            ],
        );
    }

    /// A two-pass root nobody declared: the kubernetes and helm users carry the phase flag
    /// (the helm ones a narrower addons flag too), the cluster's creator does not.
    fn phase_root(data_count: &str) -> String {
        format!(
            r#"variable "enable_k8s_resources" {{
  type    = bool
  default = true
}}

variable "enable_addons" {{
  type    = bool
  default = true
}}

module "eks" {{
  source       = "../../modules/eks"
  cluster_name = "dev-eks"
}}

data "aws_eks_cluster" "this" {{
  count = {data_count}
  name  = module.eks.cluster_name
}}

provider "kubernetes" {{
  host = data.aws_eks_cluster.this[0].endpoint
}}

provider "helm" {{
  kubernetes {{
    host = data.aws_eks_cluster.this[0].endpoint
  }}
}}

resource "kubernetes_namespace_v1" "apps" {{
  count = var.enable_k8s_resources ? 1 : 0
  metadata {{
    name = "apps"
  }}
}}

resource "helm_release" "addons" {{
  count      = var.enable_k8s_resources && var.enable_addons ? 1 : 0
  name       = "addons"
  chart      = "metrics-server"
  repository = "https://kubernetes-sigs.github.io/metrics-server/"
}}
"#
        )
    }

    #[test]
    fn a_phase_flag_of_the_root_gives_two_passes_with_no_config() {
        let broken = phase_root("1");
        let found = check_rule(
            "ungated-data-source",
            &[
                ("envs/dev/main.tf", broken.as_str()),
                ("modules/eks/main.tf", super::super::fixtures::EKS_MODULE),
            ],
        );
        expect(&found, &[("ungated-data-source", "envs/dev/main.tf", 17)]);
        assert!(
            found[0].message.contains("in pass `pass1`"),
            "{}",
            found[0].message
        );
        // Only the term every user of both providers has: not the helm-only addons flag.
        assert_eq!(
            found[0].help.lines().next(),
            Some("count = var.enable_k8s_resources ? 1 : 0")
        );
        let fixed = phase_root("var.enable_k8s_resources ? 1 : 0");
        let found = check_rule(
            "ungated-data-source",
            &[
                ("envs/dev/main.tf", fixed.as_str()),
                ("modules/eks/main.tf", super::super::fixtures::EKS_MODULE),
            ],
        );
        expect(&found, &[]);
    }

    #[test]
    fn declared_passes_decide_and_help_gives_the_count() {
        let root = r#"variable "enable_k8s_resources" {
  type = bool
}

variable "eks_config" {
  type = object({ enabled = bool, name = string })
}

module "eks" {
  source       = "../../modules/eks"
  cluster_name = var.eks_config.name
}

data "aws_eks_cluster_auth" "this" {
  count = var.eks_config.enabled ? 1 : 0
  name  = module.eks.cluster_name
}

resource "kubernetes_config_map_v1" "x" {
  count = var.enable_k8s_resources ? 1 : 0
  metadata {
    name = "x"
  }
}
"#;
        let fixed = root.replace(
            "var.eks_config.enabled ? 1 : 0",
            "var.eks_config.enabled && var.enable_k8s_resources ? 1 : 0",
        );
        let files = |r: &str| -> Vec<(String, String)> {
            vec![
                ("envs/dev/main.tf".into(), r.to_string()),
                (
                    "envs/dev/terraform.tfvars".into(),
                    "eks_config = { enabled = true, name = \"dev-eks\" }\nenable_k8s_resources = true\n".into(),
                ),
                ("modules/eks/main.tf".into(), super::super::fixtures::EKS_MODULE.into()),
                (
                    "preflight.toml".into(),
                    "[terraform.passes]\npass1 = { enable_k8s_resources = false }\npass2 = { enable_k8s_resources = true }\n".into(),
                ),
            ]
        };
        let run = |r: &str| {
            let f = files(r);
            let refs: Vec<(&str, &str)> = f.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
            check_rule("ungated-data-source", &refs)
        };
        let found = run(root);
        expect(&found, &[("ungated-data-source", "envs/dev/main.tf", 15)]);
        assert_eq!(
            found[0].help,
            "count = var.eks_config.enabled && var.enable_k8s_resources ? 1 : 0"
        );
        assert!(
            found[0].message.contains("pass `pass1`"),
            "{}",
            found[0].message
        );
        expect(&run(&fixed), &[]);
    }

    #[test]
    fn an_undecidable_gate_is_a_note() {
        let root = r#"variable "on" {
  type = bool
}

module "eks" {
  source       = "../../modules/eks"
  cluster_name = "dev-eks"
}

data "aws_eks_cluster" "this" {
  count = var.on ? 1 : 0
  name  = module.eks.cluster_name
}
"#;
        let found = check_rule(
            "ungated-data-source",
            &[
                ("envs/dev/main.tf", root),
                ("modules/eks/main.tf", super::super::fixtures::EKS_MODULE),
            ],
        );
        expect(&found, &[("ungated-data-source", "envs/dev/main.tf", 11)]);
        assert_eq!(found[0].severity, crate::diagnostic::Severity::Note);
        assert!(found[0].message.contains("var.on"), "{}", found[0].message);
    }

    #[test]
    fn registry_module_mapped_by_modules_json_nested_and_gated_through_a_local() {
        let root = r#"variable "phase" {
  type    = number
  default = 1
}

locals {
  k8s = var.phase >= 2
}

module "platform" {
  source = "app.terraform.io/acme/platform/aws"
}

data "aws_eks_cluster" "gated" {
  count = local.k8s ? 1 : 0
  name  = module.platform.cluster_name
}

data "aws_eks_cluster" "read" {
  name = module.platform.cluster_name
}
"#;
        let platform = r#"module "eks" {
  source       = "../eks"
  cluster_name = "nested-eks"
}

output "cluster_name" {
  value = module.eks.cluster_name
}
"#;
        let files = [
            ("envs/dev/main.tf", root),
            ("modules/platform/main.tf", platform),
            ("modules/eks/main.tf", super::super::fixtures::EKS_MODULE),
            (
                "envs/dev/.terraform/modules/modules.json",
                r#"{"Modules":[{"Key":"","Source":"","Dir":"."},{"Key":"platform","Source":"app.terraform.io/acme/platform/aws","Dir":"../../modules/platform"}]}"#,
            ),
        ];
        let found = check_tree(&files, &["envs/dev"], CheckOptions::default())
            .into_iter()
            .filter(|r| r.rule == "ungated-data-source")
            .collect::<Vec<_>>();
        expect(&found, &[("ungated-data-source", "envs/dev/main.tf", 19)]);
        // Without the mapping the registry module is external: nothing to compare with.
        let found = check_tree(&files[..3], &["envs/dev"], CheckOptions::default())
            .into_iter()
            .filter(|r| r.rule == "ungated-data-source")
            .collect::<Vec<_>>();
        expect(&found, &[]);
    }

    /// One cluster data source feeds the kubernetes, helm and kubectl providers; each
    /// provider's users carry the phase flag plus gates of their own.
    fn three_providers(data_count: &str, manifest_count: &str) -> String {
        format!(
            r#"variable "enable_k8s_resources" {{
  type    = bool
  default = true
}}

variable "enable_addons" {{
  type    = bool
  default = true
}}

variable "install_crds" {{
  type    = bool
  default = true
}}

module "eks" {{
  source       = "../../modules/eks"
  cluster_name = "ops-eks"
}}

data "aws_eks_cluster" "this" {{
  count = {data_count}
  name  = module.eks.cluster_name
}}

provider "kubernetes" {{
  host = data.aws_eks_cluster.this[0].endpoint
}}

provider "helm" {{
  kubernetes {{
    host = data.aws_eks_cluster.this[0].endpoint
  }}
}}

provider "kubectl" {{
  host             = data.aws_eks_cluster.this[0].endpoint
  load_config_file = false
}}

resource "kubernetes_namespace_v1" "ops" {{
  count = var.enable_k8s_resources ? 1 : 0
  metadata {{
    name = "ops"
  }}
}}

resource "helm_release" "metrics" {{
  count      = var.enable_k8s_resources && var.enable_addons ? 1 : 0
  name       = "metrics-server"
  chart      = "metrics-server"
  repository = "https://kubernetes-sigs.github.io/metrics-server/"
}}

resource "kubectl_manifest" "crds" {{
  count     = {manifest_count}
  yaml_body = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ops-crds\n  namespace: default\n"
}}
"#
        )
    }

    #[test]
    fn a_data_source_feeding_three_providers_is_gated_on_what_all_their_users_share() {
        let phase = "var.enable_k8s_resources && var.install_crds ? 1 : 0";
        let broken = three_providers("1", phase);
        let found = check_rule(
            "ungated-data-source",
            &[
                ("envs/ops/main.tf", broken.as_str()),
                ("modules/eks/main.tf", super::super::fixtures::EKS_MODULE),
            ],
        );
        expect(&found, &[("ungated-data-source", "envs/ops/main.tf", 22)]);
        // Not the helm users' addons flag, nor the kubectl users' CRD flag.
        assert_eq!(
            found[0].help.lines().next(),
            Some("count = var.enable_k8s_resources ? 1 : 0"),
            "{}",
            found[0].help
        );
        let fixed = three_providers("var.enable_k8s_resources ? 1 : 0", phase);
        let files = [
            ("envs/ops/main.tf", fixed.as_str()),
            ("modules/eks/main.tf", super::super::fixtures::EKS_MODULE),
        ];
        expect(&check_rule("ungated-data-source", &files), &[]);
        // A kubectl user without the phase flag the bootstrap script flips uses its
        // provider in the pass that creates the cluster.
        let lax = three_providers(
            "var.enable_k8s_resources ? 1 : 0",
            "var.install_crds ? 1 : 0",
        );
        let found = check_rule(
            "provider-same-apply",
            &[
                ("envs/ops/main.tf", lax.as_str()),
                ("modules/eks/main.tf", super::super::fixtures::EKS_MODULE),
                (
                    "Makefile",
                    "bootstrap:\n\tterraform -chdir=envs/ops apply -var enable_k8s_resources=false\n\tterraform -chdir=envs/ops apply -var enable_k8s_resources=true\n",
                ),
            ],
        );
        expect(&found, &[("provider-same-apply", "envs/ops/main.tf", 56)]);
    }
}
