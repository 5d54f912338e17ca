//! `sync-option-hazard`: sync options that cannot work for what an Application renders —
//! `Replace=true` over PersistentVolumeClaims or StatefulSet claim templates, and charts
//! whose CRDs are too large for client-side apply synced without `ServerSideApply=true`.

use crate::diagnostic::{Finding, Severity};
use crate::model::gitops::{AppId, GitopsModel, SourceKind};
use crate::model::kube::{self, CLIENT_SIDE_APPLY_LIMIT};
use crate::rules::{Context, Rule};
use std::collections::BTreeMap;

crate::rules::declare_rule! {
    pub struct SyncOptionHazard {
        id: "sync-option-hazard",
        severity: Severity::Warning,
        summary: "a sync option that cannot work for what the Application renders (Replace=true over volume claims, large CRDs without ServerSideApply=true)",
        fix: None,
    }
}

const SSA_HELP: &str = "add `ServerSideApply=true` to `spec.syncPolicy.syncOptions` (server-side apply keeps no last-applied annotation)";
const REPLACE_HELP: &str = "drop `Replace=true` (a normal apply patches what may change); if one object needs replacing, annotate only that object with `argocd.argoproj.io/sync-options: Replace=true`";

impl Rule for SyncOptionHazard {
    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let s = cx.session;
        let model = s.gitops();
        let mut out: BTreeMap<(u32, u32, u32), Finding> = BTreeMap::new();
        let mut put = |f: Finding| {
            let k = (f.span.file.0, f.span.start, f.span.end);
            match out.get(&k) {
                Some(old) if old.severity >= f.severity => {}
                _ => {
                    out.insert(k, f);
                }
            }
        };
        for (id, app) in model.apps.iter().enumerate() {
            if !s.gitops_group_in_scope(app.group) {
                continue;
            }
            if app.sync_option_on("Replace") {
                for f in replace_findings(cx, model, id) {
                    put(f);
                }
            }
            if !app.sync_option_on("ServerSideApply") && !app.sync_option_on("Replace") {
                for f in large_crd_findings(cx, model, id) {
                    put(f);
                }
            }
        }
        out.into_values().collect()
    }
}

fn replace_findings(cx: &Context<'_>, model: &GitopsModel, id: AppId) -> Vec<Finding> {
    let s = cx.session;
    let app = model.app(id);
    let Some(opt) = app.sync_option("Replace") else {
        return Vec::new();
    };
    let mut claims = Vec::new();
    let mut templates = Vec::new();
    for &o in &app.objects {
        let obj = model.object(o);
        match obj.kind.as_str() {
            "PersistentVolumeClaim" => claims.push(obj),
            "StatefulSet" => {
                let has = model
                    .yaml(&s.repo, obj.node)
                    .and_then(|n| n.path(&["spec", "volumeClaimTemplates"]))
                    .is_some_and(|v| v.items().next().is_some());
                if has {
                    templates.push(obj);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    if !claims.is_empty() {
        let mut f = cx
            .finding(
                opt.span,
                format!(
                    "`Replace=true` on the Application `{}` replaces its PersistentVolumeClaim `{}`: once bound, a claim's spec is immutable (its `volumeName` is set by the binding), so `kubectl replace` is rejected and the sync fails",
                    app.name, claims[0].name
                ),
            )
            .with_help(REPLACE_HELP)
            .with_span_label("replaces every object")
            .with_address(app.name.clone());
        f.severity = Severity::Error;
        for c in &claims {
            f = f.with_label(c.name_span, "a PersistentVolumeClaim");
        }
        out.push(f);
    } else if !templates.is_empty() {
        let mut f = cx
            .finding(
                opt.span,
                format!(
                    "`Replace=true` on the Application `{}` replaces the StatefulSet `{}`, whose `volumeClaimTemplates` are immutable: the sync fails as soon as a claim template differs from the live one",
                    app.name, templates[0].name
                ),
            )
            .with_help(REPLACE_HELP)
            .with_span_label("replaces every object")
            .with_address(app.name.clone());
        for t in &templates {
            f = f.with_label(t.name_span, "a StatefulSet with volumeClaimTemplates");
        }
        out.push(f);
    }
    if !out.is_empty() {
        return out;
    }
    for src in &app.sources {
        if src.kind != SourceKind::RemoteChart {
            continue;
        }
        let Some(chart) = &src.chart else { continue };
        match kube::chart(&chart.value) {
            Some(facts) if facts.volume_claims => out.push(
                cx.finding(
                    opt.span,
                    format!(
                        "`Replace=true` on the Application `{}`: the chart `{}` renders PersistentVolumeClaims or StatefulSet claim templates with its default values, whose specs are immutable, so replacing them fails the sync",
                        app.name, chart.value
                    ),
                )
                .with_label(chart.span, "renders volume claims")
                .with_help(REPLACE_HELP)
                .with_address(app.name.clone()),
            ),
            Some(_) => {}
            None => out.push(
                cx.note(
                    opt.span,
                    format!(
                        "`Replace=true` on the Application `{}`: cannot tell whether the chart `{}` renders PersistentVolumeClaims or StatefulSet claim templates (preflight has no facts about it), which replacing would fail on",
                        app.name, chart.value
                    ),
                )
                .with_label(chart.span, "not rendered")
                .with_help(REPLACE_HELP)
                .with_address(app.name.clone()),
            ),
        }
    }
    out
}

fn large_crd_findings(cx: &Context<'_>, model: &GitopsModel, id: AppId) -> Vec<Finding> {
    let s = cx.session;
    let app = model.app(id);
    let label = |f: Finding| match app.sync_options.first() {
        Some(o) => f.with_label(o.span, "the sync options, without ServerSideApply=true"),
        None => f,
    };
    let mut out = Vec::new();
    for (i, src) in app.sources.iter().enumerate() {
        if src.kind != SourceKind::RemoteChart || src.helm.skip_crds {
            continue;
        }
        let Some(chart) = &src.chart else { continue };
        let Some(facts) = kube::chart(&chart.value).filter(|f| f.large_crds) else {
            continue;
        };
        let mut installs = facts.crds_default.unwrap_or(true);
        if let Some(key) = &facts.crds_value
            && let Some(b) = model.helm_value(&s.repo, id, i, key).as_bool()
        {
            installs = b;
        }
        if !installs {
            continue;
        }
        out.push(label(
            cx.finding(
                chart.span,
                format!(
                    "the chart `{}` ships CRDs larger than the {CLIENT_SIDE_APPLY_LIMIT}-byte annotation limit of client-side apply, and the Application `{}` syncs without `ServerSideApply=true`: the sync fails (\"metadata.annotations: Too long\")",
                    chart.value, app.name
                ),
            )
            .with_span_label("ships large CRDs")
            .with_help(SSA_HELP)
            .with_address(app.name.clone()),
        ));
        if let Some(last) = out.last_mut() {
            last.severity = Severity::Error;
        }
    }
    for &o in &app.objects {
        let obj = model.object(o);
        if obj.kind != "CustomResourceDefinition" {
            continue;
        }
        let Some(node) = model.yaml(&s.repo, obj.node) else {
            continue;
        };
        let annotated = node
            .str_at(&["metadata", "annotations", "argocd.argoproj.io/sync-options"])
            .is_some_and(|v| v.contains("ServerSideApply=true") || v.contains("Replace=true"));
        let size = node.span().range().len();
        if annotated || size <= CLIENT_SIDE_APPLY_LIMIT {
            continue;
        }
        let mut f = label(
            cx.finding(
                obj.name_span,
                format!(
                    "the CRD `{}` is {size} bytes, over the {CLIENT_SIDE_APPLY_LIMIT}-byte annotation limit of client-side apply, and the Application `{}` syncs it without `ServerSideApply=true`: the sync fails (\"metadata.annotations: Too long\")",
                    obj.name, app.name
                ),
            )
            .with_span_label("too large for client-side apply")
            .with_help(SSA_HELP)
            .with_address(app.name.clone()),
        );
        f.severity = Severity::Error;
        out.push(f);
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::Severity;
    use crate::testing::{check_rule, expect};

    const CONFIG: (&str, &str) = (
        "preflight.toml",
        "[gitops]\nrepo_urls = [\"https://github.com/acme/infra.git\"]\n",
    );

    fn chart_app(chart: &str, options: &[&str], helm: &str) -> String {
        let mut opts = String::new();
        if !options.is_empty() {
            opts.push_str("  syncPolicy:\n    syncOptions:\n");
            for o in options {
                opts.push_str(&format!("      - {o}\n"));
            }
        }
        format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: {chart}\nspec:\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: monitoring\n  source:\n    repoURL: https://charts.example.com\n    chart: {chart}\n    targetRevision: 1.0.0\n{helm}{opts}"
        )
    }

    #[test]
    fn a_chart_with_large_crds_needs_server_side_apply() {
        let broken = chart_app("kube-prometheus-stack", &["CreateNamespace=true"], "");
        let fixed = chart_app(
            "kube-prometheus-stack",
            &["CreateNamespace=true", "ServerSideApply=true"],
            "",
        );
        let no_crds = chart_app(
            "kube-prometheus-stack",
            &[],
            "    helm:\n      valuesObject:\n        crds:\n          enabled: false\n",
        );
        let skipped = chart_app(
            "kube-prometheus-stack",
            &[],
            "    helm:\n      skipCrds: true\n",
        );
        let found = check_rule(
            "sync-option-hazard",
            &[
                CONFIG,
                ("apps/broken.yaml", &broken),
                ("apps/fixed.yaml", &fixed),
                ("apps/no-crds.yaml", &no_crds),
                ("apps/skipped.yaml", &skipped),
                ("apps/small.yaml", &chart_app("cert-manager", &[], "")),
            ],
        );
        expect(&found, &[("sync-option-hazard", "apps/broken.yaml", 11)]);
        assert_eq!(found[0].severity, Severity::Error);
        assert!(found[0].help.contains("ServerSideApply=true"));
    }

    #[test]
    fn replace_over_volume_claims() {
        let app = |name: &str, path: &str, opts: &str| {
            format!(
                "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: {name}\nspec:\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: data\n  source:\n    repoURL: https://github.com/acme/infra.git\n    targetRevision: HEAD\n    path: {path}\n  syncPolicy:\n    syncOptions:\n{opts}"
            )
        };
        let pvc = "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\nspec:\n  accessModes: [ReadWriteOnce]\n  resources:\n    requests:\n      storage: 10Gi\n";
        let sts = "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\nspec:\n  volumeClaimTemplates:\n    - metadata:\n        name: data\n";
        let found = check_rule(
            "sync-option-hazard",
            &[
                CONFIG,
                (
                    "apps/pvc.yaml",
                    &app("pvc", "k8s/pvc", "      - Replace=true\n"),
                ),
                (
                    "apps/sts.yaml",
                    &app("sts", "k8s/sts", "      - Replace=true\n"),
                ),
                (
                    "apps/ok.yaml",
                    &app("ok", "k8s/ok", "      - Replace=false\n"),
                ),
                ("k8s/pvc/pvc.yaml", pvc),
                ("k8s/sts/sts.yaml", sts),
                ("k8s/ok/pvc.yaml", &pvc.replace("name: data", "name: other")),
                (
                    "apps/redis.yaml",
                    &chart_app("redis", &["Replace=true"], ""),
                ),
                (
                    "apps/unknown.yaml",
                    &chart_app("web", &["Replace=true"], ""),
                ),
            ],
        );
        expect(
            &found,
            &[
                ("sync-option-hazard", "apps/pvc.yaml", 15),
                ("sync-option-hazard", "apps/sts.yaml", 15),
                ("sync-option-hazard", "apps/redis.yaml", 15),
                ("sync-option-hazard", "apps/unknown.yaml", 15),
            ],
        );
        let sev = |f: &str| found.iter().find(|r| r.file == f).unwrap().severity;
        assert_eq!(sev("apps/pvc.yaml"), Severity::Error);
        assert_eq!(sev("apps/sts.yaml"), Severity::Warning);
        assert_eq!(sev("apps/redis.yaml"), Severity::Warning);
        assert_eq!(sev("apps/unknown.yaml"), Severity::Note);
    }

    #[test]
    fn a_crd_in_the_repository_over_the_limit() {
        let app = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: crds\nspec:\n  destination:\n    server: https://kubernetes.default.svc\n  source:\n    repoURL: https://github.com/acme/infra.git\n    targetRevision: HEAD\n    path: crds\n";
        let big = format!(
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\nspec:\n  group: example.com\n  description: \"{}\"\n",
            "x".repeat(300_000)
        );
        let small = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: gadgets.example.com\nspec:\n  group: example.com\n";
        let found = check_rule(
            "sync-option-hazard",
            &[
                CONFIG,
                ("apps/crds.yaml", app),
                ("crds/big.yaml", &big),
                ("crds/small.yaml", small),
            ],
        );
        expect(&found, &[("sync-option-hazard", "crds/big.yaml", 4)]);
        assert_eq!(found[0].severity, Severity::Error);
    }
}
