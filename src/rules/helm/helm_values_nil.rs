//! `helm-values-nil`: a local chart's template dereferences a values path that the values
//! an Application merges for it do not set (`.Values.a.b` with no `a`), or `required`s a
//! value nobody gives: `helm template` fails and ArgoCD syncs nothing of the chart.

use crate::diagnostic::{Finding, Severity};
use crate::model::helm::Outcome;
use crate::model::helm::render::FailureKind;
use crate::rules::{Context, Rule};
use std::collections::BTreeMap;

crate::rules::declare_rule! {
    pub struct HelmValuesNil {
        id: "helm-values-nil",
        severity: Severity::Error,
        summary: "A local chart's template dereferences a values path the Application's merged values do not set, so the render fails",
        fix: None,
    }
}

impl Rule for HelmValuesNil {
    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let model = cx.session.gitops();
        let repo = &cx.session.repo;
        // One finding per failing expression, naming every Application whose values fail it.
        let mut by_span: BTreeMap<(u32, u32, u32), Vec<usize>> = BTreeMap::new();
        for (ri, r) in model.renders.iter().enumerate() {
            for rf in &r.files {
                let Outcome::Failed(f) = &rf.outcome else {
                    continue;
                };
                if !matches!(f.kind, FailureKind::NilValue { .. } | FailureKind::Required) {
                    continue;
                }
                if !cx.session.in_scope(&repo.file(f.span.file).rel_path)
                    && !cx.session.gitops_group_in_scope(model.app(r.app).group)
                {
                    continue;
                }
                by_span
                    .entry((f.span.file.0, f.span.start, f.span.end))
                    .or_default()
                    .push(ri);
            }
        }
        let mut out = Vec::new();
        for renders in by_span.values() {
            let sure: Vec<usize> = renders
                .iter()
                .copied()
                .filter(|&ri| model.renders[ri].values_unknown.is_none())
                .collect();
            let chosen = if sure.is_empty() { renders } else { &sure };
            let first = &model.renders[chosen[0]];
            let Some(failure) = first.files.iter().find_map(|rf| match &rf.outcome {
                Outcome::Failed(f)
                    if renders.iter().any(|&ri| {
                        model.renders[ri]
                            .files
                            .iter()
                            .any(|x| matches!(&x.outcome, Outcome::Failed(g) if g.span == f.span))
                    }) =>
                {
                    Some(f)
                }
                _ => None,
            }) else {
                continue;
            };
            let mut names: Vec<String> = chosen
                .iter()
                .map(|&ri| format!("`{}`", model.app(model.renders[ri].app).name))
                .collect();
            names.dedup();
            let who = if names.len() > 3 {
                format!("{} and {} more", names[..3].join(", "), names.len() - 3)
            } else {
                names.join(", ")
            };
            let app = model.app(first.app);
            let (message, help) = match &failure.kind {
                FailureKind::NilValue { path, missing } => (
                    format!(
                        "`{path}` dereferences `{missing}`, which is not set in the values Application {who} merges for the chart `{}`: `helm template` fails ({})",
                        first.chart, failure.message
                    ),
                    format!(
                        "set `{}` in the values the Application passes (the chart's values.yaml, a value file, `valuesObject`), or guard the template: `{{{{- with {missing} }}}}…{{{{- end }}}}`, or `dig`/`default` over the parent",
                        missing
                            .trim_start_matches(".Values.")
                            .trim_start_matches('.')
                    ),
                ),
                _ => (
                    format!(
                        "a `required` value is not set in the values Application {who} merges for the chart `{}`: `helm template` fails ({})",
                        first.chart, failure.message
                    ),
                    "set the value in a value file or `valuesObject` of the Application"
                        .to_string(),
                ),
            };
            let mut f = if sure.is_empty() {
                let why = first.values_unknown.clone().unwrap_or_default();
                cx.note(
                    failure.span,
                    format!("cannot tell whether the render fails: {message}; but {why}, which may set it"),
                )
            } else {
                cx.finding(failure.span, message)
            };
            f = f
                .with_span_label("fails the render")
                .with_help(help)
                .with_address(app.name.clone())
                .with_label(app.name_span, format!("Application `{}`", app.name));
            // The values it merges, where the Application names them.
            if let Some(src) = app.sources.get(first.source) {
                for vf in src.helm.value_files.iter().take(3) {
                    f = f.with_label(vf.span, format!("merged into the values of `{}`", app.name));
                }
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
        "[gitops]\nrepo_urls = [\"https://github.com/acme/infra.git\"]\n",
    );
    const CHART: (&str, &str) = (
        "charts/api/Chart.yaml",
        "apiVersion: v2\nname: api\nversion: 0.1.0\n",
    );
    const DEFAULTS: (&str, &str) = ("charts/api/values.yaml", "image:\n  tag: \"1.0\"\n");
    const TEMPLATE: (&str, &str) = (
        "charts/api/templates/deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n  {{- with .Values.labels }}\n  labels: {{ toYaml . | nindent 4 }}\n  {{- end }}\nspec:\n  template:\n    spec:\n      containers:\n        - name: api\n          image: {{ .Values.image.repository }}:{{ .Values.image.tag }}\n          resources:\n            limits:\n              memory: {{ .Values.resources.limits.memory }}\n",
    );

    fn app(name: &str, value_file: &str) -> String {
        format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: {name}\n  namespace: argocd\nspec:\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: api\n  source:\n    repoURL: https://github.com/acme/infra.git\n    targetRevision: HEAD\n    path: charts/api\n    helm:\n      valueFiles:\n        - {value_file}\n"
        )
    }

    #[test]
    fn a_missing_parent_fails_one_environment() {
        let found = check_rule(
            "helm-values-nil",
            &[
                CONFIG,
                CHART,
                DEFAULTS,
                TEMPLATE,
                (
                    "charts/api/values-dev.yaml",
                    "image:\n  repository: api\nresources:\n  limits:\n    memory: 256Mi\n",
                ),
                ("charts/api/values-prod.yaml", "image:\n  repository: api\n"),
                ("apps/dev.yaml", &app("dev-api", "values-dev.yaml")),
                ("apps/prod.yaml", &app("prod-api", "values-prod.yaml")),
            ],
        );
        expect(
            &found,
            &[("helm-values-nil", "charts/api/templates/deploy.yaml", 16)],
        );
        let f = &found[0];
        assert_eq!(f.severity, crate::diagnostic::Severity::Error);
        assert!(
            f.message.contains("`.Values.resources.limits.memory`"),
            "{}",
            f.message
        );
        assert!(
            f.message.contains("`prod-api`") && !f.message.contains("dev-api"),
            "{}",
            f.message
        );
        let labelled: Vec<usize> = f
            .finding
            .labels
            .iter()
            .map(|l| l.span.start as usize)
            .collect();
        let prod = app("prod-api", "values-prod.yaml");
        assert!(
            labelled.contains(&prod.find("values-prod.yaml").unwrap()),
            "{labelled:?}"
        );
    }

    #[test]
    fn guarded_and_set_values_are_silent() {
        let found = check_rule(
            "helm-values-nil",
            &[
                CONFIG,
                CHART,
                (
                    "charts/api/values.yaml",
                    "image:\n  repository: api\n  tag: \"1\"\nresources:\n  limits:\n    memory: 1Gi\n",
                ),
                TEMPLATE,
                ("apps/prod.yaml", &app("prod-api", "values.yaml")),
            ],
        );
        expect(&found, &[]);
    }

    #[test]
    fn values_from_another_repository_make_it_a_note() {
        let app = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: prod-api\nspec:\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: api\n  sources:\n    - repoURL: https://github.com/acme/infra.git\n      targetRevision: HEAD\n      path: charts/api\n      helm:\n        valueFiles:\n          - $env/api/values.yaml\n    - repoURL: https://github.com/acme/env-config.git\n      targetRevision: HEAD\n      ref: env\n";
        let found = check_rule(
            "helm-values-nil",
            &[CONFIG, CHART, DEFAULTS, TEMPLATE, ("apps/prod.yaml", app)],
        );
        expect(
            &found,
            &[("helm-values-nil", "charts/api/templates/deploy.yaml", 16)],
        );
        assert_eq!(found[0].severity, crate::diagnostic::Severity::Note);
    }
}
