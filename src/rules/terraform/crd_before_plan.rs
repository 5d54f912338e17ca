//! `crd-before-plan`: a `kubernetes_manifest` of a custom resource whose CRD is not in the
//! cluster when Terraform plans.

use super::{PerBlock, block_span, reported};
use crate::diagnostic::{Finding, Severity};
use crate::model::crds::{CrdSources, Place, When, crd_sources};
use crate::model::kube;
use crate::rules::{Context, Rule};
use std::collections::HashMap;

crate::rules::declare_rule! {
    pub struct CrdBeforePlan {
        id: "crd-before-plan",
        severity: Severity::Error,
        summary: "a kubernetes_manifest of a custom resource whose CRD is not installed before the plan",
        fix: None,
    }
}

const HELP: &str = "install the CRD before this plan: apply the chart (or the CRD manifest) in an earlier pass or an earlier root and gate this resource on the later pass, or apply the custom resource with `kubectl_manifest` (gavinbunney/kubectl), which does not read the schema at plan";

impl Rule for CrdBeforePlan {
    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let s = cx.session;
        let tf = s.terraform();
        let an = s.terraform_analysis();
        let mut out = PerBlock::default();
        // The sources of a group, per (root, pass, group): many custom resources share them.
        let mut cache: HashMap<(usize, usize, String), CrdSources> = HashMap::new();
        for m in an.manifest_objects(s) {
            if !reported(an, m.pass) {
                continue;
            }
            let tb = &an.module(tf, m.at.inst).blocks[m.at.block];
            if tb.type_name != "kubernetes_manifest" {
                continue;
            }
            let Some(o) = m.manifest.as_object() else {
                continue;
            };
            let (Some(api_version), Some(kind)) = (
                o.get("apiVersion").and_then(|v| v.as_str()),
                o.get("kind").and_then(|v| v.as_str()),
            ) else {
                continue;
            };
            if kube::is_builtin(api_version, kind) {
                continue;
            }
            let group = kube::api_group(api_version);
            if kube::is_builtin_group(group) {
                // A kind the table does not list in a built-in group: not a CRD's.
                continue;
            }
            let key = block_span(an, s, m.at);
            if out.has_error(key) {
                continue;
            }
            let address = an.address(tf, m.at);
            let root = an.insts[m.at.inst].root;
            let src = cache
                .entry((root, m.pass, group.to_string()))
                .or_insert_with(|| crd_sources(s, an, root, m.pass, group));
            let pass = an.passes[m.pass].phrase();
            let what = format!("`{address}` is a `{kind}` ({api_version})");
            let at = an.span(s, m.at, None);
            let earlier = src
                .installers
                .iter()
                .any(|i| matches!(i.place, Place::ThisRoot(When::EarlierPass(_))));
            if earlier {
                continue;
            }
            let same: Vec<_> = src
                .installers
                .iter()
                .filter(|i| {
                    matches!(
                        i.place,
                        Place::ThisRoot(When::SameApply) | Place::ThisRoot(When::LaterPass(_))
                    )
                })
                .collect();
            let apps: Vec<_> = src
                .installers
                .iter()
                .filter(|i| matches!(i.place, Place::Application(_)))
                .collect();
            let unsure: Vec<_> = src
                .installers
                .iter()
                .filter(|i| {
                    matches!(
                        i.place,
                        Place::OtherRoot(_) | Place::ThisRoot(When::Unknown(_)) | Place::Undeployed
                    )
                })
                .collect();
            let f = if let Some(first) = same.first() {
                let when = match &first.place {
                    Place::ThisRoot(When::LaterPass(p)) => format!("only by the later pass `{p}`"),
                    _ => "by the same apply".to_string(),
                };
                let mut f = cx.finding(
                    at,
                    format!(
                        "{what}: the kubernetes provider reads its CRD ({group}) from the cluster at plan, but {} installs it {when}: plan fails on a fresh cluster (\"no matches for kind\")",
                        first.what
                    ),
                );
                for i in &same {
                    f = f.with_label(i.span, format!("installs the `{group}` CRDs"));
                }
                f
            } else if !unsure.is_empty() {
                let mut f = cx.note(
                    at,
                    format!(
                        "{what}: its CRD ({group}) must exist at plan; {} installs it, and the repository does not show that it is applied before {pass}",
                        unsure[0].what
                    ),
                );
                for i in &unsure {
                    f = f.with_label(i.span, format!("installs the `{group}` CRDs"));
                }
                f
            } else if let (Some(first), Some((span, argocd))) = (apps.first(), &src.argocd_earlier)
            {
                cx.note(
                    at,
                    format!(
                        "{what}: its CRD ({group}) must exist at plan; {} installs it, and {argocd}: whether it has synced before {pass} plans, the repository does not say",
                        first.what
                    ),
                )
                .with_label(first.span, format!("installs the `{group}` CRDs"))
                .with_label(*span, "installs ArgoCD")
            } else if let Some(first) = apps.first() {
                let mut f = cx.finding(
                    at,
                    format!(
                        "{what}: the kubernetes provider reads its CRD ({group}) at plan, but only {} installs it, after Terraform has applied: plan fails on a fresh cluster (\"no matches for kind\")",
                        first.what
                    ),
                );
                for i in &apps {
                    f = f.with_label(i.span, format!("installs the `{group}` CRDs"));
                }
                f
            } else if let Some((span, why)) = src.unseen.first() {
                cx.note(
                    at,
                    format!(
                        "{what}: its CRD ({group}) must exist at plan, and nothing preflight can read installs it; it cannot tell whether {why} does, and when"
                    ),
                )
                .with_label(*span, "may install the CRD")
            } else {
                cx.finding(
                    at,
                    format!(
                        "{what}: the kubernetes provider reads its CRD ({group}) from the cluster at plan, and nothing in the repository installs it: plan fails (\"no matches for kind\") unless it is installed by hand first"
                    ),
                )
            };
            let f = f
                .with_span_label("needs its CRD at plan")
                .with_help(HELP)
                .with_address(address);
            out.put(key, f);
        }
        out.into_vec()
    }
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::Severity;
    use crate::testing::{check_rule, expect};

    const PROVIDERS: &str = "provider \"kubernetes\" {}\nprovider \"helm\" {}\n";

    fn issuer(name: &str, extra: &str) -> String {
        format!(
            r#"resource "kubernetes_manifest" "{name}" {{
{extra}  manifest = {{
    apiVersion = "cert-manager.io/v1"
    kind       = "ClusterIssuer"
    metadata = {{
      name = "{name}"
    }}
    spec = {{
      selfSigned = {{}}
    }}
  }}
}}
"#
        )
    }

    const CERT_MANAGER: &str = r#"resource "helm_release" "cert_manager" {
  name       = "cert-manager"
  repository = "https://charts.jetstack.io"
  chart      = "cert-manager"
  namespace  = "cert-manager"
  set {
    name  = "crds.enabled"
    value = "true"
  }
}
"#;

    #[test]
    fn a_custom_resource_in_the_same_apply_as_its_chart_fails_at_plan() {
        let main = format!("{PROVIDERS}{CERT_MANAGER}{}", issuer("selfsigned", ""));
        let found = check_rule("crd-before-plan", &[("envs/dev/main.tf", &main)]);
        expect(&found, &[("crd-before-plan", "envs/dev/main.tf", 13)]);
        assert_eq!(found[0].severity, Severity::Error);
        assert!(
            found[0].message.contains("helm_release.cert_manager"),
            "{}",
            found[0].message
        );
        assert!(found[0].help.contains("earlier pass"), "{}", found[0].help);
    }

    #[test]
    fn a_chart_in_a_local_module_is_the_same_apply() {
        let main = format!(
            "{PROVIDERS}module \"addons\" {{\n  source = \"../../modules/addons\"\n}}\n{}",
            issuer("selfsigned", "  depends_on = [module.addons]\n")
        );
        let found = check_rule(
            "crd-before-plan",
            &[
                ("envs/dev/main.tf", &main),
                ("modules/addons/main.tf", CERT_MANAGER),
            ],
        );
        expect(&found, &[("crd-before-plan", "envs/dev/main.tf", 6)]);
    }

    #[test]
    fn an_earlier_pass_installs_the_crd() {
        let main = format!(
            "{PROVIDERS}variable \"stage\" {{\n  type = number\n}}\n{}{}",
            CERT_MANAGER,
            issuer("selfsigned", "  count = var.stage >= 2 ? 1 : 0\n")
        );
        let config = "[terraform.passes]\ncharts = { stage = 1 }\nresources = { stage = 2 }\n";
        let found = check_rule(
            "crd-before-plan",
            &[("envs/dev/main.tf", &main), ("preflight.toml", config)],
        );
        expect(&found, &[]);
    }

    #[test]
    fn a_kubectl_manifest_and_a_builtin_kind_need_nothing() {
        let main = format!(
            "{PROVIDERS}{CERT_MANAGER}{}",
            r#"resource "kubectl_manifest" "issuer" {
  yaml_body = <<-YAML
    apiVersion: cert-manager.io/v1
    kind: ClusterIssuer
    metadata:
      name: x
  YAML
}

resource "kubernetes_manifest" "cm" {
  manifest = {
    apiVersion = "v1"
    kind       = "ConfigMap"
    metadata   = { name = "x", namespace = "default" }
  }
}

resource "kubernetes_manifest" "ingress" {
  manifest = {
    apiVersion = "networking.k8s.io/v1"
    kind       = "Ingress"
    metadata   = { name = "x", namespace = "default" }
  }
}
"#
        );
        expect(&check_rule("crd-before-plan", &[("main.tf", &main)]), &[]);
    }

    #[test]
    fn nothing_installs_the_crd() {
        let main = format!("{PROVIDERS}{}", issuer("selfsigned", ""));
        let found = check_rule("crd-before-plan", &[("main.tf", &main)]);
        expect(&found, &[("crd-before-plan", "main.tf", 3)]);
        assert_eq!(found[0].severity, Severity::Error);
        assert!(found[0].message.contains("nothing in the repository"));
    }

    #[test]
    fn an_application_installs_the_crd_only_after_the_apply() {
        let main = format!("{PROVIDERS}{}", issuer("selfsigned", ""));
        let app = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: cert-manager\nspec:\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: cert-manager\n  source:\n    repoURL: https://charts.jetstack.io\n    chart: cert-manager\n    targetRevision: v1.14.0\n";
        let found = check_rule(
            "crd-before-plan",
            &[
                ("envs/dev/main.tf", &main),
                ("gitops/cert-manager.yaml", app),
            ],
        );
        expect(&found, &[("crd-before-plan", "envs/dev/main.tf", 3)]);
        assert_eq!(found[0].severity, Severity::Error);
        assert!(found[0].message.contains("Application `cert-manager`"));
    }

    #[test]
    fn another_root_or_a_registry_module_is_a_note() {
        let main = format!("{PROVIDERS}{}", issuer("selfsigned", ""));
        let found = check_rule(
            "crd-before-plan",
            &[
                ("envs/dev/main.tf", &main),
                (
                    "platform/base/main.tf",
                    &format!("{PROVIDERS}{CERT_MANAGER}"),
                ),
            ],
        );
        expect(&found, &[("crd-before-plan", "envs/dev/main.tf", 3)]);
        assert_eq!(found[0].severity, Severity::Note);
        assert!(
            found[0].message.contains("platform/base"),
            "{}",
            found[0].message
        );

        let main = format!(
            "{PROVIDERS}module \"addons\" {{\n  source  = \"aws-ia/eks-blueprints-addons/aws\"\n  version = \"1.16.0\"\n}}\n{}",
            issuer("selfsigned", "")
        );
        let found = check_rule("crd-before-plan", &[("main.tf", &main)]);
        expect(&found, &[("crd-before-plan", "main.tf", 7)]);
        assert_eq!(found[0].severity, Severity::Note);
    }

    #[test]
    fn a_crd_manifest_applied_by_the_same_apply() {
        let main = format!(
            "{PROVIDERS}{}{}",
            r#"resource "kubectl_manifest" "crd" {
  yaml_body = file("${path.module}/crds/widgets.yaml")
}
"#,
            r#"resource "kubernetes_manifest" "widget" {
  manifest = {
    apiVersion = "example.com/v1"
    kind       = "Widget"
    metadata   = { name = "w", namespace = "default" }
  }
}
"#
        );
        let crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\nspec:\n  group: example.com\n  names:\n    kind: Widget\n";
        let found = check_rule(
            "crd-before-plan",
            &[("main.tf", &main), ("crds/widgets.yaml", crd)],
        );
        expect(&found, &[("crd-before-plan", "main.tf", 6)]);
        assert_eq!(found[0].severity, Severity::Error);
        assert!(
            found[0].message.contains("kubectl_manifest.crd"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn a_local_chart_whose_crds_folder_defines_the_group() {
        let main = format!(
            "{PROVIDERS}{}{}",
            r#"resource "helm_release" "widgets" {
  name  = "widgets"
  chart = "${path.module}/../../charts/widgets"
}

resource "helm_release" "other" {
  name  = "other"
  chart = "../../charts/other"
}
"#,
            r#"resource "kubernetes_manifest" "widget" {
  manifest = {
    apiVersion = "example.com/v1"
    kind       = "Widget"
    metadata   = { name = "w", namespace = "default" }
  }
}
"#
        );
        let crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\nspec:\n  group: example.com\n";
        let found = check_rule(
            "crd-before-plan",
            &[
                ("envs/dev/main.tf", &main),
                (
                    "charts/widgets/Chart.yaml",
                    "apiVersion: v2\nname: widgets\nversion: 0.1.0\n",
                ),
                ("charts/widgets/crds/widgets.yaml", crd),
                (
                    "charts/other/Chart.yaml",
                    "apiVersion: v2\nname: other\nversion: 0.1.0\n",
                ),
            ],
        );
        expect(&found, &[("crd-before-plan", "envs/dev/main.tf", 12)]);
        assert_eq!(found[0].severity, Severity::Error);
        assert!(
            found[0]
                .message
                .contains("the local chart `charts/widgets`"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn argocd_installed_by_an_earlier_pass_makes_an_application_installer_a_note() {
        let main = format!(
            "{PROVIDERS}variable \"stage\" {{\n  type = number\n}}\n{}{}",
            "resource \"helm_release\" \"argocd\" {\n  name  = \"argo-cd\"\n  chart = \"argo-cd\"\n}\n",
            issuer("selfsigned", "  count = var.stage >= 2 ? 1 : 0\n")
        );
        let config = "[terraform.passes]\nbase = { stage = 1 }\nresources = { stage = 2 }\n";
        let app = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: cert-manager\nspec:\n  destination:\n    server: https://kubernetes.default.svc\n  source:\n    repoURL: https://charts.jetstack.io\n    chart: cert-manager\n    targetRevision: v1.14.0\n";
        let found = check_rule(
            "crd-before-plan",
            &[
                ("envs/dev/main.tf", &main),
                ("preflight.toml", config),
                ("gitops/cert-manager.yaml", app),
            ],
        );
        expect(&found, &[("crd-before-plan", "envs/dev/main.tf", 10)]);
        assert_eq!(found[0].severity, Severity::Note);
    }
}
