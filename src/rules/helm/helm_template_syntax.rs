//! `helm-template-syntax`: a chart template that Go's `text/template` parser rejects, so
//! `helm template` (and the ArgoCD sync or `helm_release` that renders it) fails.

use crate::diagnostic::{Finding, Severity};
use crate::rules::syntax::Syntax;
use crate::rules::{Context, Rule};

crate::rules::declare_rule! {
    pub struct HelmTemplateSyntax {
        id: "helm-template-syntax",
        severity: Severity::Error,
        summary: "A Helm chart template does not parse (an unclosed action, an `if`/`range`/`with`/`define` without `end`)",
        fix: None,
    }
}

impl Rule for HelmTemplateSyntax {
    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let repo = &cx.session.repo;
        let mut out = Vec::new();
        for (file, syntax) in repo.iter() {
            let Syntax::Template(Err(e)) = syntax else {
                continue;
            };
            if !cx.session.in_scope(&file.rel_path) {
                continue;
            }
            let start = e.offset.min(file.text.len());
            let end = crate::source::floor_char_boundary(&file.text, e.end.min(file.text.len()))
                .max(start);
            let (line, col) = file.line_col(start);
            let mut f = cx
                .finding(
                    file.span(start..end),
                    format!(
                        "{} does not parse as a Go template ({line}:{col}): {}",
                        file.rel_path, e.message
                    ),
                )
                .with_span_label(e.message.clone())
                .with_help(
                    "every render of the chart fails here (`helm template`, the ArgoCD sync, `helm_release`): close the action with `}}`, and give each `if`/`range`/`with`/`define`/`block` its `{{ end }}`",
                )
                .with_address(file.rel_path.clone());
            if let Some((at, what)) = &e.related {
                let at = (*at).min(file.text.len());
                let end =
                    crate::source::floor_char_boundary(&file.text, (at + 2).min(file.text.len()));
                f = f.with_label(file.span(at..end.max(at)), what.clone());
            }
            out.push(f);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{check_rule, expect};

    const CHART: (&str, &str) = (
        "charts/web/Chart.yaml",
        "apiVersion: v2\nname: web\nversion: 0.1.0\n",
    );

    #[test]
    fn unclosed_action_and_missing_end_at_their_line() {
        let broken = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  {{- if .Values.debug }}\n  debug: \"true\"\n  {{- end }\n";
        let never_closed = "{{- define \"web.name\" -}}\n{{ .Chart.Name }}\n";
        let found = check_rule(
            "helm-template-syntax",
            &[
                CHART,
                ("charts/web/templates/cm.yaml", broken),
                ("charts/web/templates/_helpers.tpl", never_closed),
                ("charts/web/values.yaml", "debug: false\n"),
            ],
        );
        expect(
            &found,
            &[
                ("helm-template-syntax", "charts/web/templates/cm.yaml", 8),
                (
                    "helm-template-syntax",
                    "charts/web/templates/_helpers.tpl",
                    1,
                ),
            ],
        );
        let cm = found.iter().find(|r| r.file.ends_with("cm.yaml")).unwrap();
        assert!(cm.message.contains("8:11"), "{}", cm.message);
        assert!(cm.message.contains("`}}`"), "{}", cm.message);
        let h = found.iter().find(|r| r.file.ends_with(".tpl")).unwrap();
        assert!(h.message.contains("add `{{ end }}`"), "{}", h.message);
    }

    #[test]
    fn valid_templates_and_non_chart_folders_are_silent() {
        let ok = "{{- if .Values.debug }}\ndebug: true\n{{- end }}\n";
        let found = check_rule(
            "helm-template-syntax",
            &[
                CHART,
                ("charts/web/templates/cm.yaml", ok),
                // Not beside a Chart.yaml: a plain YAML file, checked as YAML.
                ("k8s/templates/x.yaml", "a: 1\n"),
            ],
        );
        expect(&found, &[]);
    }
}
