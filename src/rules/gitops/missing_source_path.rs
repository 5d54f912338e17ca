//! `missing-source-path`: a path an Application needs that does not exist in the
//! repository (source `path`, `valueFiles`, `$ref`, kustomization entries).

use crate::diagnostic::{Finding, Severity};
use crate::model::gitops::MissingKind;
use crate::rules::{Context, Rule};
use std::collections::BTreeMap;

/// A missing path at one location: what, the path, and the Applications needing it.
type Located = (MissingKind, String, Vec<usize>);

crate::rules::declare_rule! {
    pub struct MissingSourcePath {
        id: "missing-source-path",
        severity: Severity::Error,
        summary: "An Application source path, value file, `$ref` or kustomization entry does not exist",
        fix: None,
    }
}

impl Rule for MissingSourcePath {
    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let model = cx.session.gitops();
        let repo = &cx.session.repo;
        // One finding per location, naming every Application that needs it.
        let mut by_span: BTreeMap<(u32, u32, u32), Located> = BTreeMap::new();
        let mut spans = BTreeMap::new();
        for (id, app) in model.apps.iter().enumerate() {
            for m in &app.missing {
                if !cx.session.in_scope(&repo.file(m.span.file).rel_path) {
                    continue;
                }
                let key = (m.span.file.0, m.span.start, m.span.end);
                spans.insert(key, m.span);
                let e = by_span
                    .entry(key)
                    .or_insert_with(|| (m.kind, m.path.clone(), Vec::new()));
                if e.2.last() != Some(&id) {
                    e.2.push(id);
                }
            }
        }
        let mut out = Vec::new();
        for (key, (kind, path, apps)) in by_span {
            let Some(&span) = spans.get(&key) else {
                continue;
            };
            let first = model.app(apps[0]);
            let names: Vec<String> = apps
                .iter()
                .map(|&a| format!("`{}`", model.app(a).name))
                .collect();
            let who = if names.len() > 3 {
                format!("{} and {} more", names[..3].join(", "), names.len() - 3)
            } else {
                names.join(", ")
            };
            let (message, help) = match kind {
                MissingKind::SourcePath => (
                    format!("the source path `{path}` of Application {who} does not exist in this repository"),
                    "ArgoCD fails the sync with `app path does not exist`; fix the path (it is relative to the repository root) or add the folder".to_string(),
                ),
                MissingKind::OutsideRepository => (
                    format!("the source path `{path}` of Application {who} leaves the repository"),
                    "ArgoCD resolves a source path inside the repository and refuses one that climbs out of it, so the sync fails; make the path relative to the repository root without `..` above it".to_string(),
                ),
                MissingKind::ValueFile => (
                    format!("the value file `{path}` of Application {who} does not exist"),
                    "Helm fails to render the chart (`no such file or directory`); fix the path, or set `ignoreMissingValueFiles: true` if the file is optional".to_string(),
                ),
                MissingKind::Ref => (
                    format!("`${path}` names no source of Application {who}: no source has `ref: {path}`"),
                    format!("add `ref: {path}` to the source that holds the values repository, or use the name of an existing `ref:`"),
                ),
                MissingKind::KustomizeEntry => (
                    format!("the kustomization entry `{path}` does not exist (deployed by Application {who})"),
                    "kustomize build fails and ArgoCD marks the Application `ComparisonError`; fix the entry (relative to the kustomization's folder) or add the file".to_string(),
                ),
                MissingKind::KustomizationFile => (
                    format!("the folder `{path}` named by a kustomization holds no kustomization.yaml (deployed by Application {who})"),
                    "kustomize build fails on a folder resource without a kustomization; add a kustomization.yaml there, or list its files instead".to_string(),
                ),
            };
            let mut f = cx
                .finding(span, message)
                .with_help(help)
                .with_address(first.name.clone());
            if first.name_span.file != span.file {
                f = f.with_label(first.name_span, format!("Application `{}`", first.name));
            }
            out.push(f);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{check_rule, expect};

    const CONFIG: (&str, &str) = (
        "preflight.toml",
        "[gitops]\nrepo_urls = [\"https://github.com/acme/platform-infra.git\"]\n",
    );

    #[test]
    fn a_source_path_that_leaves_the_repository_is_reported() {
        let app = |name: &str, path: &str| {
            format!(
                "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: {name}\nspec:\n  destination:\n    server: https://kubernetes.default.svc\n  source:\n    repoURL: https://github.com/acme/platform-infra.git\n    targetRevision: main\n    path: {path}\n"
            )
        };
        let out = app("out", "gitops/../../../etc");
        let inside = app("inside", "gitops/apps/../base");
        let findings = check_rule(
            "missing-source-path",
            &[
                CONFIG,
                ("gitops/argocd/apps/out.yaml", &out),
                ("gitops/argocd/apps/inside.yaml", &inside),
                (
                    "gitops/base/cm.yaml",
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
                ),
            ],
        );
        expect(
            &findings,
            &[("missing-source-path", "gitops/argocd/apps/out.yaml", 11)],
        );
        assert!(
            findings[0].message.contains("leaves the repository"),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn missing_path_value_files_refs_and_kustomize_entries() {
        let app = "apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: dev-backstage
spec:
  destination:
    server: https://kubernetes.default.svc
  sources:
    - repoURL: https://backstage.github.io/charts
      chart: backstage
      targetRevision: 1.9.0
      helm:
        valueFiles:
          - $values/gitops/helm/backstage/values/dev.yaml
          - $values/gitops/helm/backstage/values/dev-secrets.yaml
          - $vals/gitops/helm/backstage/values/common.yaml
    - repoURL: https://github.com/acme/platform-infra.git
      targetRevision: main
      ref: values
    - repoURL: https://github.com/acme/platform-infra.git
      targetRevision: main
      path: gitops/kustomize/overlays/dev/backstage
    - repoURL: https://github.com/acme/platform-infra.git
      targetRevision: main
      path: gitops/kustomize/overlays/dev
";
        let optional = "apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: dev-optional
spec:
  destination:
    server: https://kubernetes.default.svc
  sources:
    - repoURL: https://charts.example.com
      chart: thing
      targetRevision: 1.0.0
      helm:
        ignoreMissingValueFiles: true
        valueFiles:
          - $values/gitops/helm/thing/values/dev.yaml
          - values-production.yaml
    - repoURL: https://github.com/acme/platform-infra.git
      targetRevision: main
      ref: values
";
        let kustomization = "apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../../bases/monitoring
  - ingress.yaml
  - https://github.com/kubernetes-sigs/metrics-server//manifests?ref=v0.7.0
  - ../../bases/empty
components:
  - ../../components/tls
";
        let findings = check_rule(
            "missing-source-path",
            &[
                CONFIG,
                ("gitops/argocd/apps/dev/backstage.yaml", app),
                ("gitops/argocd/apps/dev/optional.yaml", optional),
                ("gitops/helm/backstage/values/dev.yaml", "replicas: 1\n"),
                (
                    "gitops/kustomize/overlays/dev/kustomization.yaml",
                    kustomization,
                ),
                (
                    "gitops/kustomize/overlays/dev/ingress.yaml",
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
                ),
                (
                    "gitops/kustomize/bases/monitoring/kustomization.yaml",
                    "resources:\n  - servicemonitor.yaml\n",
                ),
                ("gitops/kustomize/bases/empty/README.md", "nothing\n"),
            ],
        );
        expect(
            &findings,
            &[
                (
                    "missing-source-path",
                    "gitops/argocd/apps/dev/backstage.yaml",
                    15,
                ),
                (
                    "missing-source-path",
                    "gitops/argocd/apps/dev/backstage.yaml",
                    16,
                ),
                (
                    "missing-source-path",
                    "gitops/argocd/apps/dev/backstage.yaml",
                    22,
                ),
                (
                    "missing-source-path",
                    "gitops/kustomize/bases/monitoring/kustomization.yaml",
                    2,
                ),
                (
                    "missing-source-path",
                    "gitops/kustomize/overlays/dev/kustomization.yaml",
                    7,
                ),
                (
                    "missing-source-path",
                    "gitops/kustomize/overlays/dev/kustomization.yaml",
                    9,
                ),
            ],
        );
    }
}
