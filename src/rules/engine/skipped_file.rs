//! `skipped-file`: a file preflight did not check (too large, unreadable, a template).

use crate::diagnostic::{Finding, Severity};
use crate::parse::Syntax;
use crate::rules::{Context, Rule, RuleMeta};

pub struct SkippedFile;

static META: RuleMeta = RuleMeta {
    id: "skipped-file",
    default_severity: Severity::Note,
    summary: "A file was not checked: over the size limit, unreadable, or a template rather than YAML",
    doc: include_str!("../../../rules/skipped-file.md"),
    options: &[],
};

impl Rule for SkippedFile {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let repo = &cx.session.repo;
        let mut out = unrendered_templates(cx);
        out.extend(repo.iter()
            .filter(|(f, _)| cx.session.file_in_scope(&f.rel_path))
            .filter_map(|(file, syntax)| {
                let message = match syntax {
                    Syntax::Skipped(reason) => format!("{} was not checked: it {reason}", file.rel_path),
                    Syntax::Failed(e) if e.template => format!(
                        "{} is a template, not checked: it holds template markers and is not valid YAML ({})",
                        file.rel_path, e.message
                    ),
                    _ => return None,
                };
                Some(
                    cx.finding(file.span(0..0), message)
                        .with_help("exclude the file in preflight.toml (`exclude = [...]`) to silence this note, or raise `max_file_bytes` if it is large but real"),
                )
            }));
        out
    }
}

/// Chart templates whose manifests the GitOps model left out: their output depends on what
/// preflight cannot evaluate, or their render fails in a way no other rule reports. One
/// note per template and reason, naming the Applications.
fn unrendered_templates(cx: &Context<'_>) -> Vec<Finding> {
    use crate::model::helm::Outcome;
    use crate::model::helm::render::FailureKind;
    use std::collections::BTreeMap;
    let model = cx.session.gitops();
    let repo = &cx.session.repo;
    // (template, reason) → (span, Applications)
    let mut by_file: BTreeMap<(u32, String), (crate::source::Span, Vec<String>)> = BTreeMap::new();
    for r in &model.renders {
        for rf in &r.files {
            let (span, reason) = match &rf.outcome {
                Outcome::CannotTell { span, reason } => (*span, reason.clone()),
                Outcome::Failed(f)
                    if !matches!(f.kind, FailureKind::NilValue { .. } | FailureKind::Required) =>
                {
                    (f.span, format!("its render fails here: {}", f.message))
                }
                _ => continue,
            };
            if !cx.session.file_in_scope(&repo.file(rf.file).rel_path) {
                continue;
            }
            let e = by_file
                .entry((rf.file.0, reason))
                .or_insert_with(|| (span, Vec::new()));
            let name = format!("`{}`", model.app(r.app).name);
            if !e.1.contains(&name) {
                e.1.push(name);
            }
        }
    }
    by_file
        .into_iter()
        .map(|((file, reason), (span, apps))| {
            let path = &repo.file(crate::source::FileId(file)).rel_path;
            let who = if apps.len() > 3 {
                format!("{} and {} more", apps[..3].join(", "), apps.len() - 3)
            } else {
                apps.join(", ")
            };
            cx.finding(
                span,
                format!(
                    "{path} was not rendered for Application {who}: {reason}; its manifests are left out of the checks"
                ),
            )
            .with_span_label("cannot be evaluated before the deploy")
            .with_help("nothing to fix unless the template's manifests matter to other checks; `helm template` with the same values shows what it renders")
            .with_address(path.clone())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::testing::{check_rule, expect};

    #[test]
    fn template_skeletons_are_notes() {
        let findings = check_rule(
            "skipped-file",
            &[(
                "skeletons/app/values.yaml",
                "name: {{ cookiecutter.name }}\nitems: [\n",
            )],
        );
        expect(
            &findings,
            &[("skipped-file", "skeletons/app/values.yaml", 1)],
        );
        assert_eq!(findings[0].severity, crate::diagnostic::Severity::Note);
    }

    #[test]
    fn ordinary_files_are_not_reported() {
        let findings = check_rule(
            "skipped-file",
            &[("a.yaml", "a: 1\n"), ("b.tf", "locals {}\n")],
        );
        expect(&findings, &[]);
    }
}
