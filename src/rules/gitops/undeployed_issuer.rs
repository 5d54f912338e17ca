//! `undeployed-issuer`: a cert-manager issuer referenced by an Ingress annotation, Helm
//! values or a `Certificate` that no Application of the same cluster deploys.

use super::{Reference, check_references, references_by_app};
use crate::diagnostic::{Finding, Severity};
use crate::model::gitops::Val;
use crate::rules::{Context, Rule};

crate::rules::declare_rule! {
    pub struct UndeployedIssuer {
        id: "undeployed-issuer",
        severity: Severity::Error,
        summary: "A certificate or Ingress names a cert-manager issuer that no Application of its cluster deploys",
        fix: Safe,
    }
}

const CLUSTER_ISSUER: &str = "cert-manager.io/cluster-issuer";
const ISSUER: &str = "cert-manager.io/issuer";

impl Rule for UndeployedIssuer {
    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let model = cx.session.gitops();
        // Cert-manager annotations anywhere, and `issuerRef` mappings (a `Certificate`'s
        // `spec.issuerRef`, or chart values shaped like it).
        let walked = model.refs(&cx.session.repo);
        let refs = references_by_app(
            model,
            &|o| &walked.object(o).issuers,
            &|v| &walked.values(v).issuers,
            &|name: &str, value: &Val| {
                let kind = if name.ends_with(CLUSTER_ISSUER) {
                    "ClusterIssuer"
                } else if name.ends_with(ISSUER) {
                    "Issuer"
                } else {
                    return None;
                };
                Some(Reference {
                    kind: kind.into(),
                    name: value.value.clone(),
                    span: value.span,
                    via: format!("the Helm parameter `{name}`"),
                })
            },
        );
        check_references(cx, refs, "cert-manager")
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{check_rule, expect};

    const URL: &str = "https://github.com/acme/platform-infra.git";

    fn config() -> (&'static str, &'static str) {
        (
            "preflight.toml",
            "[gitops]\nrepo_urls = [\"https://github.com/acme/platform-infra.git\"]\n",
        )
    }

    fn cert_manager_app(env: &str, with_issuers: bool) -> String {
        let extra = if with_issuers {
            format!(
                "    - repoURL: {URL}\n      targetRevision: main\n      path: gitops/kustomize/bases/cert-manager\n"
            )
        } else {
            String::new()
        };
        format!(
            "apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: {env}-cert-manager
  namespace: argocd
spec:
  project: default
  destination:
    server: https://kubernetes.default.svc
    namespace: cert-manager
  sources:
    - repoURL: https://charts.jetstack.io
      chart: cert-manager
      targetRevision: v1.14.4
      helm:
        values: |
          installCRDs: true
{extra}"
        )
    }

    const ISSUERS: &str = "apiVersion: cert-manager.io/v1
kind: ClusterIssuer
metadata:
  name: letsencrypt-staging
spec:
  acme:
    server: https://acme-staging-v02.api.letsencrypt.org/directory
    privateKeySecretRef:
      name: letsencrypt-staging
    solvers:
      - http01:
          ingress:
            class: kong
";

    fn app_with_inline_values(env: &str) -> String {
        format!(
            "apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: {env}-grafana
spec:
  destination:
    server: https://kubernetes.default.svc
    namespace: monitoring
  source:
    repoURL: https://grafana.github.io/helm-charts
    chart: grafana
    targetRevision: 7.3.0
    helm:
      values: |
        ingress:
          enabled: true
          annotations:
            cert-manager.io/cluster-issuer: letsencrypt-staging
"
        )
    }

    #[test]
    fn inline_helm_values_reference_an_issuer_that_is_not_deployed() {
        let findings = check_rule(
            "undeployed-issuer",
            &[
                config(),
                (
                    "gitops/argocd/apps/dev/cert-manager.yaml",
                    &cert_manager_app("dev", false),
                ),
                (
                    "gitops/argocd/apps/dev/grafana.yaml",
                    &app_with_inline_values("dev"),
                ),
                (
                    "gitops/kustomize/bases/cert-manager/kustomization.yaml",
                    "resources:\n  - cluster-issuers.yaml\n",
                ),
                (
                    "gitops/kustomize/bases/cert-manager/cluster-issuers.yaml",
                    ISSUERS,
                ),
            ],
        );
        expect(
            &findings,
            &[(
                "undeployed-issuer",
                "gitops/argocd/apps/dev/grafana.yaml",
                18,
            )],
        );
        let f = &findings[0];
        assert!(
            f.help.contains("gitops/kustomize/bases/cert-manager"),
            "{}",
            f.help
        );
        assert!(f.help.contains("dev-cert-manager"), "{}", f.help);
        assert!(
            f.finding
                .labels
                .iter()
                .any(|l| l.message.contains("defined here")),
            "{:?}",
            f.finding.labels
        );
    }

    #[test]
    fn deploying_the_issuer_folder_satisfies_the_reference() {
        let findings = check_rule(
            "undeployed-issuer",
            &[
                config(),
                (
                    "gitops/argocd/apps/dev/cert-manager.yaml",
                    &cert_manager_app("dev", true),
                ),
                (
                    "gitops/argocd/apps/dev/grafana.yaml",
                    &app_with_inline_values("dev"),
                ),
                (
                    "gitops/kustomize/bases/cert-manager/kustomization.yaml",
                    "resources:\n  - cluster-issuers.yaml\n",
                ),
                (
                    "gitops/kustomize/bases/cert-manager/cluster-issuers.yaml",
                    ISSUERS,
                ),
            ],
        );
        expect(&findings, &[]);
    }

    #[test]
    fn environments_sharing_the_in_cluster_url_are_separate_clusters() {
        // prod deploys the issuers, dev does not: only dev's reference fails.
        let findings = check_rule(
            "undeployed-issuer",
            &[
                config(),
                (
                    "gitops/argocd/apps/dev/cert-manager.yaml",
                    &cert_manager_app("dev", false),
                ),
                (
                    "gitops/argocd/apps/dev/grafana.yaml",
                    &app_with_inline_values("dev"),
                ),
                (
                    "gitops/argocd/apps/prod/cert-manager.yaml",
                    &cert_manager_app("prod", true),
                ),
                (
                    "gitops/argocd/apps/prod/grafana.yaml",
                    &app_with_inline_values("prod"),
                ),
                (
                    "gitops/kustomize/bases/cert-manager/kustomization.yaml",
                    "resources:\n  - cluster-issuers.yaml\n",
                ),
                (
                    "gitops/kustomize/bases/cert-manager/cluster-issuers.yaml",
                    ISSUERS,
                ),
            ],
        );
        expect(
            &findings,
            &[(
                "undeployed-issuer",
                "gitops/argocd/apps/dev/grafana.yaml",
                18,
            )],
        );
        assert!(
            findings[0].message.contains("apps/dev"),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn certificate_issuer_ref_in_a_plain_directory_and_provided_issuers() {
        let app = format!(
            "apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: web
spec:
  destination:
    server: https://eks.example.com
  source:
    repoURL: {URL}
    path: k8s/web
    targetRevision: HEAD
"
        );
        let cert = "apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: web-tls
spec:
  secretName: web-tls
  dnsNames: [web.example.com]
  issuerRef:
    name: corp-ca
    kind: ClusterIssuer
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: api-tls
spec:
  secretName: api-tls
  issuerRef:
    name: letsencrypt-prod
    kind: ClusterIssuer
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: ext-tls
spec:
  secretName: ext-tls
  issuerRef:
    name: aws-pca
    kind: AWSPCAClusterIssuer
    group: awspca.cert-manager.io
";
        let findings = check_rule(
            "undeployed-issuer",
            &[
                (
                    "preflight.toml",
                    "[gitops]\nrepo_urls = [\"https://github.com/acme/platform-infra.git\"]\n[gitops.provided]\nClusterIssuer = [\"letsencrypt-prod\"]\n",
                ),
                ("apps/web.yaml", &app),
                ("k8s/web/certificates.yaml", cert),
            ],
        );
        expect(
            &findings,
            &[("undeployed-issuer", "k8s/web/certificates.yaml", 9)],
        );
        assert!(
            findings[0].help.contains("[gitops.provided]"),
            "{}",
            findings[0].help
        );
    }

    #[test]
    fn an_opaque_chart_that_may_deploy_issuers_gives_a_note() {
        let issuers_chart = "apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: dev-issuers
spec:
  destination:
    server: https://kubernetes.default.svc
  source:
    repoURL: https://charts.example.com
    chart: letsencrypt-issuers
    targetRevision: 1.0.0
";
        let findings = check_rule(
            "undeployed-issuer",
            &[
                config(),
                (
                    "gitops/argocd/apps/dev/cert-manager.yaml",
                    &cert_manager_app("dev", false),
                ),
                ("gitops/argocd/apps/dev/issuers.yaml", issuers_chart),
                (
                    "gitops/argocd/apps/dev/grafana.yaml",
                    &app_with_inline_values("dev"),
                ),
            ],
        );
        expect(
            &findings,
            &[(
                "undeployed-issuer",
                "gitops/argocd/apps/dev/grafana.yaml",
                18,
            )],
        );
        assert_eq!(findings[0].severity, crate::diagnostic::Severity::Note);
    }

    #[test]
    fn app_of_apps_children_form_one_cluster_group() {
        let root = |env: &str| {
            format!(
                "apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: {env}-root
spec:
  destination:
    server: https://kubernetes.default.svc
    namespace: argocd
  source:
    repoURL: {URL}
    path: gitops/argocd/apps/{env}
    targetRevision: main
"
            )
        };
        let findings = check_rule(
            "undeployed-issuer",
            &[
                config(),
                ("gitops/argocd/root/dev.yaml", &root("dev")),
                ("gitops/argocd/root/prod.yaml", &root("prod")),
                (
                    "gitops/argocd/apps/dev/cert-manager.yaml",
                    &cert_manager_app("dev", false),
                ),
                (
                    "gitops/argocd/apps/dev/grafana.yaml",
                    &app_with_inline_values("dev"),
                ),
                (
                    "gitops/argocd/apps/prod/cert-manager.yaml",
                    &cert_manager_app("prod", true),
                ),
                (
                    "gitops/argocd/apps/prod/grafana.yaml",
                    &app_with_inline_values("prod"),
                ),
                (
                    "gitops/kustomize/bases/cert-manager/kustomization.yaml",
                    "resources:\n  - cluster-issuers.yaml\n",
                ),
                (
                    "gitops/kustomize/bases/cert-manager/cluster-issuers.yaml",
                    ISSUERS,
                ),
            ],
        );
        expect(
            &findings,
            &[(
                "undeployed-issuer",
                "gitops/argocd/apps/dev/grafana.yaml",
                18,
            )],
        );
        assert!(
            findings[0].message.contains("dev-root"),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn application_set_list_and_git_generators_and_helm_parameters() {
        let set = format!(
            "apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: web
spec:
  goTemplate: true
  generators:
    - list:
        elements:
          - env: dev
            cluster: https://dev.example.com
          - env: prod
            cluster: https://prod.example.com
  template:
    metadata:
      name: 'web-{{{{.env}}}}'
    spec:
      project: default
      destination:
        server: '{{{{.cluster}}}}'
        namespace: web
      sources:
        - repoURL: https://charts.example.com
          chart: web
          targetRevision: 1.2.3
          helm:
            valueFiles:
              - $values/charts/web/values-{{{{.env}}}}.yaml
            parameters:
              - name: ingress.annotations.cert-manager\\.io/cluster-issuer
                value: corp-acme
        - repoURL: {URL}
          targetRevision: main
          ref: values
"
        );
        let issuers_set = format!(
            "apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata:
  name: issuers
spec:
  generators:
    - git:
        repoURL: {URL}
        revision: HEAD
        directories:
          - path: clusters/*
  template:
    metadata:
      name: 'issuers-{{{{path.basename}}}}'
    spec:
      destination:
        server: 'https://{{{{path.basename}}}}.example.com'
      source:
        repoURL: {URL}
        targetRevision: HEAD
        path: '{{{{path}}}}/issuers'
"
        );
        let issuer = |name: &str| {
            format!(
                "apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata:\n  name: {name}\nspec:\n  selfSigned: {{}}\n"
            )
        };
        let findings = check_rule(
            "undeployed-issuer",
            &[
                config(),
                ("apps/web-set.yaml", &set),
                ("apps/issuers-set.yaml", &issuers_set),
                (
                    "charts/web/values-dev.yaml",
                    "ingress:\n  annotations:\n    cert-manager.io/cluster-issuer: dev-ca\n",
                ),
                (
                    "charts/web/values-prod.yaml",
                    "ingress:\n  annotations:\n    cert-manager.io/cluster-issuer: prod-ca\n",
                ),
                (
                    "clusters/dev/issuers/ca.yaml",
                    &format!("{}---\n{}", issuer("dev-ca"), issuer("corp-acme")),
                ),
                ("clusters/prod/issuers/ca.yaml", &issuer("dev-ca")),
            ],
        );
        // prod: `prod-ca` is not deployed anywhere; `corp-acme` (a parameter shared by both
        // generated Applications) is missing in prod only: one finding for the location.
        expect(
            &findings,
            &[
                ("undeployed-issuer", "apps/web-set.yaml", 31),
                ("undeployed-issuer", "charts/web/values-prod.yaml", 3),
            ],
        );
        assert!(
            findings
                .iter()
                .all(|f| f.message.contains("prod.example.com"))
        );
    }

    #[test]
    fn extra_objects_in_values_deploy_issuers_and_ingresses() {
        let app = format!(
            "apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: platform
spec:
  destination:
    server: https://eks.example.com
  sources:
    - repoURL: https://charts.jetstack.io
      chart: cert-manager
      targetRevision: v1.14.4
      helm:
        valueFiles:
          - $values/values/cert-manager.yaml
    - repoURL: {URL}
      targetRevision: main
      ref: values
"
        );
        let values = "extraObjects:
  - |
    apiVersion: cert-manager.io/v1
    kind: ClusterIssuer
    metadata:
      name: internal-ca
    spec:
      ca:
        secretName: ca
  - apiVersion: networking.k8s.io/v1
    kind: Ingress
    metadata:
      name: docs
      annotations:
        cert-manager.io/cluster-issuer: internal-ca
        other: x
  - apiVersion: networking.k8s.io/v1
    kind: Ingress
    metadata:
      name: blog
      annotations:
        cert-manager.io/issuer: blog-issuer
";
        let findings = check_rule(
            "undeployed-issuer",
            &[
                config(),
                ("apps/platform.yaml", &app),
                ("values/cert-manager.yaml", values),
            ],
        );
        expect(
            &findings,
            &[("undeployed-issuer", "values/cert-manager.yaml", 22)],
        );
    }
}
