//! `unknown-target-revision`: a this-repository source whose `targetRevision` is not a
//! branch, tag or commit of the repository.

use crate::diagnostic::{Finding, Severity};
use crate::model::gitops::{Revision, SourceKind};
use crate::rules::{Context, Rule};
use std::collections::BTreeMap;

crate::rules::declare_rule! {
    pub struct UnknownTargetRevision {
        id: "unknown-target-revision",
        severity: Severity::Error,
        summary: "An Application source of this repository names a branch or tag that does not exist",
        fix: None,
    }
}

impl Rule for UnknownTargetRevision {
    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let model = cx.session.gitops();
        let repo = &cx.session.repo;
        let mut unknown = BTreeMap::new();
        // Revisions the clone cannot decide: reported once, at their first use.
        let mut undecided: BTreeMap<(&str, u32), (crate::source::Span, &str, &str, &str)> =
            BTreeMap::new();
        for app in &model.apps {
            for s in &app.sources {
                if !s.this_repo || matches!(s.kind, SourceKind::Unresolved(_)) {
                    continue;
                }
                let Some(rev) = &s.target_revision else {
                    continue;
                };
                let rel = &repo.file(rev.span.file).rel_path;
                if !cx.session.in_scope(rel) {
                    continue;
                }
                match model.git.revision(&rev.value) {
                    Revision::Known => {}
                    Revision::Unknown => {
                        unknown
                            .entry((rel.clone(), rev.span.start))
                            .or_insert((rev.clone(), app.name.clone()));
                    }
                    Revision::CannotTell(why) => {
                        undecided.entry((rel.as_str(), rev.span.start)).or_insert((
                            rev.span,
                            rev.value.as_str(),
                            app.name.as_str(),
                            why,
                        ));
                    }
                }
            }
        }
        let mut out: Vec<Finding> = unknown
            .into_values()
            .map(|(rev, app)| {
                let similar = model.git.similar(&rev.value);
                cx.finding(
                    rev.span,
                    format!(
                        "targetRevision `{}` of Application `{app}` is not a branch, tag or commit of this repository",
                        rev.value
                    ),
                )
                .with_span_label("no such branch or tag")
                .with_help(if similar.is_empty() {
                    "ArgoCD fails with `unable to resolve revision`; use an existing branch or tag, or push this one first".to_string()
                } else {
                    format!(
                        "ArgoCD fails with `unable to resolve revision`; known branches and tags include: {}",
                        similar.join(", ")
                    )
                })
                .with_address(app)
            })
            .collect();
        if let Some((span, _, app, why)) = undecided.values().next().cloned() {
            let mut revs: Vec<&str> = undecided.values().map(|&(_, r, _, _)| r).collect();
            revs.sort();
            revs.dedup();
            out.push(
                cx.note(
                    span,
                    format!(
                        "cannot tell whether targetRevision {} exist{}: {why}",
                        revs.iter().map(|r| format!("`{r}`")).collect::<Vec<_>>().join(", "),
                        if revs.len() == 1 { "s" } else { "" }
                    ),
                )
                .with_help(format!(
                    "run preflight at the root of a full clone of this repository (in CI: `git fetch --unshallow origin`) to check them; {} source{} of this repository name{} these revisions",
                    undecided.len(),
                    if undecided.len() == 1 { "" } else { "s" },
                    if undecided.len() == 1 { "s" } else { "" }
                ))
                .with_address(app),
            );
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

    fn app(revs: &[&str]) -> String {
        let mut s = String::from(
            "apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: web
spec:
  destination:
    server: https://kubernetes.default.svc
  sources:
",
        );
        for r in revs {
            s.push_str(&format!(
                "    - repoURL: https://github.com/acme/platform-infra.git\n      targetRevision: {r}\n      path: k8s\n"
            ));
        }
        s.push_str("    - repoURL: https://charts.example.com\n      chart: web\n      targetRevision: 9.9.9\n");
        s
    }

    fn fake_git(shallow: bool) -> Vec<(&'static str, &'static str)> {
        let mut v = vec![
            (".git/HEAD", "ref: refs/heads/main\n"),
            (
                ".git/refs/heads/main",
                "1111111111111111111111111111111111111111\n",
            ),
            (
                ".git/refs/remotes/origin/development",
                "2222222222222222222222222222222222222222\n",
            ),
            (
                ".git/packed-refs",
                "# pack-refs with: peeled fully-peeled sorted\n3333333333333333333333333333333333333333 refs/tags/v1.4.0\n",
            ),
            (
                ".git/config",
                "[remote \"origin\"]\n\turl = https://github.com/acme/platform-infra.git\n",
            ),
        ];
        if shallow {
            v.push((".git/shallow", "1111111111111111111111111111111111111111\n"));
        }
        v
    }

    #[test]
    fn unknown_branch_is_an_error_known_refs_and_commits_pass() {
        let app = app(&[
            "main",
            "development",
            "v1.4.0",
            "HEAD",
            "\"\"",
            "a1b2c3d",
            "develop",
            "refs/heads/main",
        ]);
        let mut files = fake_git(false);
        files.push(CONFIG);
        files.push(("apps/web.yaml", &app));
        files.push((
            "k8s/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
        ));
        let findings = check_rule("unknown-target-revision", &files);
        expect(
            &findings,
            &[("unknown-target-revision", "apps/web.yaml", 28)],
        );
        assert!(
            findings[0].help.contains("development"),
            "{}",
            findings[0].help
        );
    }

    #[test]
    fn shallow_clone_gives_one_note() {
        let app = app(&["develop", "feature/x"]);
        let mut files = fake_git(true);
        files.push(CONFIG);
        files.push(("apps/web.yaml", &app));
        files.push((
            "k8s/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
        ));
        let findings = check_rule("unknown-target-revision", &files);
        expect(
            &findings,
            &[("unknown-target-revision", "apps/web.yaml", 10)],
        );
        assert_eq!(findings[0].severity, crate::diagnostic::Severity::Note);
    }

    #[test]
    fn remote_url_from_git_config_identifies_this_repository() {
        // No repo_urls: the `origin` remote (ssh form) says which sources are this repo.
        let app = app(&["nope"]).replace(
            "https://github.com/acme/platform-infra.git",
            "git@github.com:acme/platform-infra.git",
        );
        let mut files = fake_git(false);
        files.push(("apps/web.yaml", &app));
        files.push((
            "k8s/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
        ));
        let findings = check_rule("unknown-target-revision", &files);
        expect(
            &findings,
            &[("unknown-target-revision", "apps/web.yaml", 10)],
        );
        assert_eq!(findings[0].severity, crate::diagnostic::Severity::Error);
    }
}
