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
        let has_failure = repo.syntax.iter().any(|s| matches!(s, Syntax::Failed(_)));
        let templates = |id| {
            if has_failure {
                cx.session.terraform_templates().get(&id).copied()
            } else {
                None
            }
        };
        repo.iter()
            .filter(|(f, _)| cx.session.file_in_scope(&f.rel_path))
            .filter_map(|(file, syntax)| {
                let message = match syntax {
                    Syntax::Skipped(reason) => format!("{} was not checked: it {reason}", file.rel_path),
                    Syntax::Failed(_) if let Some(call) = templates(file.id) => {
                        let at = repo.file(call.file);
                        return Some(
                            cx.finding(
                                file.span(0..0),
                                format!(
                                    "{} is a Terraform template, not checked: `templatefile()` renders it first, and raw it is not valid {}",
                                    file.rel_path,
                                    kind_name(file.kind)
                                ),
                            )
                            .with_label(call, format!("read by templatefile() in {}", at.rel_path))
                            .with_help("nothing to do: the rendered text is what the deploy reads; exclude the file in preflight.toml to silence this note"),
                        );
                    }
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
            })
            .collect()
    }
}

fn kind_name(kind: crate::source::FileKind) -> &'static str {
    match kind {
        crate::source::FileKind::Json => "JSON",
        crate::source::FileKind::Yaml => "YAML",
        _ => "HCL",
    }
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
