//! `missing-service-account`: values tell a chart not to create its service account, and
//! nothing in the environment creates it.

use crate::diagnostic::{Finding, Severity};
use crate::model::gitops::{AppId, GitopsModel, HelmValue, SourceKind, chart_basename};
use crate::model::kube;
use crate::model::terraform::accounts::Creates;
use crate::rules::{Context, Rule};
use crate::source::Span;
use std::collections::{BTreeMap, HashMap};

crate::rules::declare_rule! {
    pub struct MissingServiceAccount {
        id: "missing-service-account",
        severity: Severity::Error,
        summary: "values tell a chart not to create its service account and nothing else creates it",
        fix: None,
    }
}

/// The chart name of an Application source: the remote chart, or a local chart's folder.
fn chart_name(model: &GitopsModel, app: AppId, i: usize) -> Option<String> {
    let s = &model.app(app).sources[i];
    match s.kind {
        SourceKind::RemoteChart => s
            .chart
            .as_ref()
            .map(|c| chart_basename(&c.value).to_string()),
        SourceKind::LocalChart => s.path.as_ref().map(|p| {
            p.value
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or("")
                .to_string()
        }),
        _ => None,
    }
}

fn namespace_of(model: &GitopsModel, app: AppId) -> Option<&str> {
    model
        .app(app)
        .destination_namespace
        .as_ref()
        .map(|v| v.value.as_str())
}

impl Rule for MissingServiceAccount {
    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let s = cx.session;
        let model = s.gitops();
        let mut out: BTreeMap<(u32, u32, u32), Finding> = BTreeMap::new();
        let mut tf_cache: HashMap<(String, String), Vec<Creates>> = HashMap::new();
        for (id, app) in model.apps.iter().enumerate() {
            if model.group(app.group).unresolved {
                continue;
            }
            for i in 0..app.sources.len() {
                let Some(chart) = chart_name(model, id, i) else {
                    continue;
                };
                for (create_key, name_key) in kube::service_account_keys(&chart) {
                    let create = model.helm_value(&s.repo, id, i, &create_key);
                    if create.as_bool() != Some(false) {
                        continue;
                    }
                    let Some(at) = create.span() else { continue };
                    if !s.gitops_group_in_scope(app.group)
                        && !s.in_scope(&s.repo.file(at.file).rel_path)
                    {
                        continue;
                    }
                    let name = match model.helm_value(&s.repo, id, i, &name_key) {
                        HelmValue::Scalar(n, _) if !n.trim().is_empty() => n,
                        // No name: the chart runs as the namespace's `default` account.
                        _ => continue,
                    };
                    let key = (at.file.0, at.start, at.end);
                    if out.get(&key).is_some_and(|f| f.severity == Severity::Error) {
                        continue;
                    }
                    if let Some(f) = self.judge(
                        cx,
                        model,
                        &mut tf_cache,
                        (id, i),
                        at,
                        (&create_key, &name_key),
                        &name,
                    ) {
                        match out.get(&key) {
                            Some(old) if old.severity >= f.severity => {}
                            _ => {
                                out.insert(key, f);
                            }
                        }
                    }
                }
            }
        }
        out.into_values().collect()
    }
}

impl MissingServiceAccount {
    #[allow(clippy::too_many_arguments)]
    fn judge(
        &self,
        cx: &Context<'_>,
        model: &GitopsModel,
        tf_cache: &mut HashMap<(String, String), Vec<Creates>>,
        (id, source): (AppId, usize),
        at: Span,
        (create_key, name_key): (&str, &str),
        name: &str,
    ) -> Option<Finding> {
        let s = cx.session;
        let app = model.app(id);
        let Some(ns) = namespace_of(model, id) else {
            return Some(
                cx.note(
                    at,
                    format!(
                        "`{create_key}: false` tells the chart to use the service account `{name}`, and the Application `{}` has no `destination.namespace`: cannot tell which namespace it must exist in",
                        app.name
                    ),
                )
                .with_help("set `spec.destination.namespace` on the Application")
                .with_address(app.name.clone()),
            );
        };
        if name.contains("{{") || ns.contains("{{") {
            return Some(
                cx.note(at, format!("cannot tell whether the service account `{name}` exists in `{ns}`: the name is a template"))
                    .with_help("preflight does not render templates; check the rendered name by hand")
                    .with_address(app.name.clone()),
            );
        }
        if model.provided("ServiceAccount", name).is_some() {
            return None;
        }
        // Manifests of the same cluster.
        for &(a, o) in model.deployed(app.group, "ServiceAccount", name) {
            let obj = model.object(o);
            let ons = obj.namespace.as_deref().or(namespace_of(model, a));
            if ons == Some(ns) {
                return None;
            }
        }
        // Other charts of the same cluster that create an account by that name.
        for &other in model.apps_in_group(app.group) {
            if namespace_of(model, other) != Some(ns) {
                continue;
            }
            for j in 0..model.app(other).sources.len() {
                if other == id && j == source {
                    continue;
                }
                let Some(chart) = chart_name(model, other, j) else {
                    continue;
                };
                for (c, n) in kube::service_account_keys(&chart) {
                    if model.helm_value(&s.repo, other, j, &n).as_str() == Some(name)
                        && model.helm_value(&s.repo, other, j, &c).as_bool() != Some(false)
                    {
                        return None;
                    }
                }
            }
        }
        // Terraform.
        let tf = tf_cache
            .entry((ns.to_string(), name.to_string()))
            .or_insert_with(|| {
                s.terraform_analysis_all()
                    .creates_service_account(s, ns, name)
            });
        if tf.iter().any(|c| matches!(c, Creates::Yes(..))) {
            return None;
        }
        if let Some(Creates::Maybe(span, what)) = tf.first() {
            return Some(
                cx.note(
                    at,
                    format!(
                        "`{create_key}: false` tells the chart to use the service account `{ns}/{name}`; cannot tell whether {what} creates it"
                    ),
                )
                .with_label(*span, "may create it")
                .with_help(format!("create the service account `{name}` in `{ns}` where preflight can see it, or let the chart create it (`{create_key}: true`)"))
                .with_address(app.name.clone()),
            );
        }
        // Sources the model cannot see into (not remote charts: their values were read).
        for (a, o) in model.opaque_for(app.group) {
            let kind = &model.app(a).sources[o.source].kind;
            if matches!(kind, SourceKind::RemoteChart) || (a == id && o.source == source) {
                continue;
            }
            return Some(
                cx.note(
                    at,
                    format!(
                        "`{create_key}: false` tells the chart to use the service account `{ns}/{name}`; nothing preflight can read creates it, and it cannot tell whether {} (Application `{}`) does",
                        o.what,
                        model.app(a).name
                    ),
                )
                .with_label(o.span, "not seen into")
                .with_help(format!("create the service account `{name}` in `{ns}` in a manifest of this cluster, or let the chart create it (`{create_key}: true`)"))
                .with_address(app.name.clone()),
            );
        }
        let mut f = cx
            .finding(
                at,
                format!(
                    "`{create_key}: false` tells the chart of the Application `{}` to run as the service account `{name}` in `{ns}`, and nothing creates it (no kubernetes_service_account, no manifest of this cluster, no other chart): its pods are rejected (\"serviceaccount \\\"{name}\\\" not found\")",
                    app.name
                ),
            )
            .with_span_label("the chart does not create it")
            .with_help(format!(
                "create the ServiceAccount `{name}` in `{ns}` (a `kubernetes_service_account_v1`, or a manifest deployed to this cluster), or set `{create_key}: true` so the chart creates it (with `{name_key}: {name}`)"
            ))
            .with_address(app.name.clone());
        f = f.with_label(app.name_span, "the Application");
        Some(f)
    }
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::Severity;
    use crate::testing::{check_rule, expect};

    const CONFIG: (&str, &str) = (
        "preflight.toml",
        "[gitops]\nrepo_urls = [\"https://github.com/acme/infra.git\"]\n",
    );

    fn app(name: &str, chart: &str, ns: &str, values: &str) -> String {
        format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: {name}\nspec:\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: {ns}\n  sources:\n    - repoURL: https://charts.example.com\n      chart: {chart}\n      targetRevision: 1.0.0\n      helm:\n        valueFiles:\n          - $values/{values}\n    - repoURL: https://github.com/acme/infra.git\n      targetRevision: HEAD\n      ref: values\n"
        )
    }

    const NO_SA: &str = "serviceAccount:\n  create: false\n  name: platform-provisioner\n";

    #[test]
    fn nothing_creates_the_named_account() {
        let found = check_rule(
            "missing-service-account",
            &[
                CONFIG,
                (
                    "apps/prov.yaml",
                    &app("prov", "provisioner", "platform-system", "values/prov.yaml"),
                ),
                ("values/prov.yaml", NO_SA),
            ],
        );
        expect(
            &found,
            &[("missing-service-account", "values/prov.yaml", 2)],
        );
        assert_eq!(found[0].severity, Severity::Error);
        assert!(
            found[0]
                .message
                .contains("`platform-provisioner` in `platform-system`")
        );
        assert!(
            found[0].help.contains("serviceAccount.create: true"),
            "{}",
            found[0].help
        );
    }

    #[test]
    fn terraform_a_manifest_or_another_chart_creates_it() {
        let tf = r#"resource "kubernetes_service_account_v1" "prov" {
  metadata {
    name      = "platform-provisioner"
    namespace = "platform-system"
  }
}
"#;
        let found = check_rule(
            "missing-service-account",
            &[
                CONFIG,
                (
                    "apps/prov.yaml",
                    &app("prov", "provisioner", "platform-system", "values/prov.yaml"),
                ),
                ("values/prov.yaml", NO_SA),
                ("envs/dev/main.tf", tf),
            ],
        );
        expect(&found, &[]);

        let sa = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: platform-provisioner\n";
        let rbac = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: rbac\nspec:\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: platform-system\n  source:\n    repoURL: https://github.com/acme/infra.git\n    targetRevision: HEAD\n    path: k8s/rbac\n";
        let found = check_rule(
            "missing-service-account",
            &[
                CONFIG,
                (
                    "apps/prov.yaml",
                    &app("prov", "provisioner", "platform-system", "values/prov.yaml"),
                ),
                ("values/prov.yaml", NO_SA),
                ("apps/rbac.yaml", rbac),
                ("k8s/rbac/sa.yaml", sa),
            ],
        );
        expect(&found, &[]);

        // The manifest is deployed to another namespace: still missing.
        let found = check_rule(
            "missing-service-account",
            &[
                CONFIG,
                (
                    "apps/prov.yaml",
                    &app("prov", "provisioner", "platform-system", "values/prov.yaml"),
                ),
                ("values/prov.yaml", NO_SA),
                (
                    "apps/rbac.yaml",
                    &rbac.replace("namespace: platform-system", "namespace: other"),
                ),
                ("k8s/rbac/sa.yaml", sa),
            ],
        );
        expect(
            &found,
            &[("missing-service-account", "values/prov.yaml", 2)],
        );
    }

    #[test]
    fn chart_specific_keys_and_created_accounts() {
        let ca = "rbac:\n  serviceAccount:\n    create: false\n    name: cluster-autoscaler\n";
        let created = "serviceAccount:\n  create: true\n  name: platform-provisioner\n";
        let found = check_rule(
            "missing-service-account",
            &[
                CONFIG,
                (
                    "apps/ca.yaml",
                    &app("ca", "cluster-autoscaler", "kube-system", "values/ca.yaml"),
                ),
                ("values/ca.yaml", ca),
                ("apps/ok.yaml", &app("ok", "web", "web", "values/ok.yaml")),
                ("values/ok.yaml", created),
                (
                    "apps/noname.yaml",
                    &app("noname", "web", "web", "values/noname.yaml"),
                ),
                ("values/noname.yaml", "serviceAccount:\n  create: false\n"),
            ],
        );
        expect(&found, &[("missing-service-account", "values/ca.yaml", 3)]);
    }

    #[test]
    fn an_account_terraform_names_with_an_unknown_value_is_a_note() {
        let tf = r#"variable "sa_name" {
  type = string
}

resource "kubernetes_service_account_v1" "prov" {
  metadata {
    name      = var.sa_name
    namespace = "platform-system"
  }
}
"#;
        let found = check_rule(
            "missing-service-account",
            &[
                CONFIG,
                (
                    "apps/prov.yaml",
                    &app("prov", "provisioner", "platform-system", "values/prov.yaml"),
                ),
                ("values/prov.yaml", NO_SA),
                ("envs/dev/main.tf", tf),
            ],
        );
        expect(
            &found,
            &[("missing-service-account", "values/prov.yaml", 2)],
        );
        assert_eq!(found[0].severity, Severity::Note);
    }
}
