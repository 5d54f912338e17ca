//! `app-of-apps-loop`: Applications that deploy each other's manifests in a cycle.

use crate::diagnostic::{Finding, Severity};
use crate::model::gitops::AppId;
use crate::rules::{Context, Rule};

crate::rules::declare_rule! {
    pub struct AppOfAppsLoop {
        id: "app-of-apps-loop",
        severity: Severity::Warning,
        summary: "Applications deploy each other's manifests in a cycle, so none of them is the root",
        fix: None,
    }
}

impl Rule for AppOfAppsLoop {
    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let s = cx.session;
        let model = s.gitops();
        let mut out = Vec::new();
        for id in 0..model.apps.len() {
            let Some(cycle) = cycle_through(model, id) else {
                continue;
            };
            let app = model.app(id);
            if !s.in_scope(&s.repo.file(app.file).rel_path) {
                continue;
            }
            let names: Vec<&str> = cycle.iter().map(|&a| model.app(a).name.as_str()).collect();
            let Some(parent) = app.parent else { continue };
            let p = model.app(parent);
            out.push(
                cx.finding(
                    app.name_span,
                    format!(
                        "Application `{}` is deployed by `{}`, which it deploys in turn: the app-of-apps chain loops ({} → {})",
                        app.name,
                        p.name,
                        names.join(" → "),
                        names[0]
                    ),
                )
                .with_label(p.name_span, format!("`{}` deploys `{}`'s manifest", p.name, app.name))
                .with_help(format!(
                    "make one Application the root: remove `{}`'s manifest from the source path of `{}` (or move it out of that folder), so that only one of them manages the other",
                    app.name, p.name
                ))
                .with_address(app.name.clone()),
            );
        }
        out
    }
}

/// The Applications of the parent cycle `id` is on, starting at `id`; `None` when following
/// parents from `id` ends at a root or enters a cycle `id` is not part of.
fn cycle_through(model: &crate::model::gitops::GitopsModel, id: AppId) -> Option<Vec<AppId>> {
    let mut path = vec![id];
    let mut cur = model.app(id).parent?;
    while cur != id {
        if path.contains(&cur) || path.len() > model.apps.len() {
            return None;
        }
        path.push(cur);
        cur = model.app(cur).parent?;
    }
    Some(path)
}

#[cfg(test)]
mod tests {
    use crate::testing::{check_rule, expect};

    fn app(name: &str, path: &str) -> String {
        format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: {name}\n  namespace: argocd\nspec:\n  project: default\n  source:\n    repoURL: https://github.com/acme/platform.git\n    targetRevision: main\n    path: {path}\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: argocd\n"
        )
    }

    const CONFIG: (&str, &str) = (
        "preflight.toml",
        "[gitops]\nrepo_urls = [\"https://github.com/acme/platform.git\"]\n",
    );

    #[test]
    fn applications_deploying_each_other_are_reported_at_both() {
        let (a, b) = (app("platform", "gitops/apps"), app("apps", "gitops/root"));
        let found = check_rule(
            "app-of-apps-loop",
            &[
                CONFIG,
                ("gitops/root/platform.yaml", &a),
                ("gitops/apps/apps.yaml", &b),
            ],
        );
        expect(
            &found,
            &[
                ("app-of-apps-loop", "gitops/apps/apps.yaml", 4),
                ("app-of-apps-loop", "gitops/root/platform.yaml", 4),
            ],
        );
    }

    #[test]
    fn an_ordinary_app_of_apps_tree_is_not_a_loop() {
        let root = app("root", "gitops/apps");
        let child = app("backstage", "gitops/backstage");
        let found = check_rule(
            "app-of-apps-loop",
            &[
                CONFIG,
                ("gitops/root/root.yaml", &root),
                ("gitops/apps/backstage.yaml", &child),
                (
                    "gitops/backstage/cm.yaml",
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
                ),
            ],
        );
        expect(&found, &[]);
    }
}
