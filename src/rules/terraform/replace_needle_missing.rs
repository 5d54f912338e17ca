//! `replace-needle-missing`: `replace(file(P), needle, …)` whose needle never occurs in the
//! file, so the substitution silently does nothing.

use crate::diagnostic::{Finding, Severity};
use crate::model::terraform::replace::{Outcome, nearest_line};
use crate::rules::{Context, Rule};

crate::rules::declare_rule! {
    pub struct ReplaceNeedleMissing {
        id: "replace-needle-missing",
        severity: Severity::Error,
        summary: "replace() over a file's contents whose needle never occurs in the file",
        fix: None,
        reads: Terraform,
    }
}

impl Rule for ReplaceNeedleMissing {
    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let s = cx.session;
        let an = s.terraform_analysis();
        let mut out = Vec::new();
        for call in an.file_replacements(s) {
            if !s.file_in_scope(&s.repo.file(call.span.file).rel_path) {
                continue;
            }
            match &call.outcome {
                Outcome::Matches => {}
                Outcome::NeverMatches {
                    needle,
                    regex,
                    file,
                } => {
                    let shown = shorten(needle);
                    let what = if *regex { "pattern" } else { "text" };
                    let (fname, near) = match file {
                        Some(f) => {
                            let sf = s.repo.file(*f);
                            (
                                format!("`{}`", sf.rel_path),
                                nearest_line(&sf.text, needle).map(|(n, l)| (*f, n, l)),
                            )
                        }
                        None => ("the file".to_string(), None),
                    };
                    let mut f = cx
                        .finding(
                            call.needle_span,
                            format!(
                                "the {what} {shown} never occurs in {fname} as `{}` reads it: this `replace()` changes nothing",
                                call.reader
                            ),
                        )
                        .with_span_label("never matches");
                    let help = match &near {
                        Some((file, n, line)) => {
                            let sf = s.repo.file(*file);
                            let start = sf.line_start(*n);
                            f = f.with_label(
                                sf.span(start..start + line.len()),
                                "the nearest line of the file",
                            );
                            format!(
                                "match the file exactly, whitespace included: line {n} of `{}` reads `{}`",
                                sf.rel_path,
                                line.trim_end()
                            )
                        }
                        None => format!(
                            "write the needle as the text appears in {fname} (exact text, whitespace included), or drop the `replace()` if the text is gone"
                        ),
                    };
                    out.push(f.with_help(help));
                }
                Outcome::Unknown(why) => out.push(
                    cx.note(
                        call.needle_span,
                        format!(
                            "cannot tell whether this `replace()` over `{}` matches anything: {why}",
                            call.reader
                        ),
                    )
                    .with_help("give the path and the needle values preflight can evaluate (literals, variables with values), or check the substitution by hand"),
                ),
            }
        }
        out
    }
}

fn shorten(needle: &str) -> String {
    let one: String = needle.escape_debug().collect();
    if one.chars().count() > 80 {
        format!("\"{}…\"", one.chars().take(80).collect::<String>())
    } else {
        format!("\"{one}\"")
    }
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::Severity;
    use crate::testing::{check_rule, expect};

    const VALUES: &str = "server:\n  replicas: 1\n  image:\n    tag: latest\n";

    #[test]
    fn a_needle_whose_whitespace_differs_never_matches() {
        let main = r#"locals {
  values = replace(file("${path.module}/values.yaml"), "replicas:  1", "replicas: 3")
}

output "values" {
  value = local.values
}
"#;
        let found = check_rule(
            "replace-needle-missing",
            &[("envs/dev/main.tf", main), ("envs/dev/values.yaml", VALUES)],
        );
        expect(&found, &[("replace-needle-missing", "envs/dev/main.tf", 2)]);
        assert_eq!(found[0].severity, Severity::Error);
        assert!(
            found[0].help.contains("line 2 of `envs/dev/values.yaml`"),
            "{}",
            found[0].help
        );
        assert!(found[0].help.contains("replicas: 1"), "{}", found[0].help);
    }

    #[test]
    fn matching_needles_literal_regex_and_chained_are_silent() {
        let main = r#"locals {
  a = replace(file("${path.module}/values.yaml"), "replicas: 1", "replicas: 3")
  b = replace(file("${path.module}/values.yaml"), "/tag: .*/", "tag: v2")
  c = replace(replace(file("${path.module}/values.yaml"), "latest", "v1"), "tag: v1", "tag: v2")
  d = replace(templatefile("${path.module}/tpl.yaml", { name = "web" }), "name: web", "name: api")
}
"#;
        let found = check_rule(
            "replace-needle-missing",
            &[
                ("main.tf", main),
                ("values.yaml", VALUES),
                ("tpl.yaml", "name: ${name}\n"),
            ],
        );
        expect(&found, &[]);
    }

    #[test]
    fn a_regex_and_a_template_that_never_match() {
        let main = r#"locals {
  b = replace(file("${path.module}/values.yaml"), "/^tag: .*/", "tag: v2")
  d = replace(templatefile("${path.module}/tpl.yaml", { name = "web" }), "name: ${"$"}{name}", "x")
}
"#;
        let found = check_rule(
            "replace-needle-missing",
            &[
                ("main.tf", main),
                ("values.yaml", VALUES),
                ("tpl.yaml", "name: ${name}\n"),
            ],
        );
        // The regex is anchored at the line start without (?m); the rendered template
        // no longer holds the placeholder.
        expect(
            &found,
            &[
                ("replace-needle-missing", "main.tf", 2),
                ("replace-needle-missing", "main.tf", 3),
            ],
        );
    }

    #[test]
    fn a_path_that_does_not_evaluate_is_a_note() {
        let main = r#"variable "file_name" {
  type = string
}

locals {
  values = replace(file("${path.module}/${var.file_name}"), "replicas: 1", "replicas: 3")
}
"#;
        let found = check_rule("replace-needle-missing", &[("main.tf", main)]);
        expect(&found, &[("replace-needle-missing", "main.tf", 6)]);
        assert_eq!(found[0].severity, Severity::Note);
        assert!(
            found[0].message.contains("path does not evaluate"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn a_template_whose_variables_do_not_evaluate_falls_back_to_its_text() {
        let main = r#"resource "aws_s3_bucket" "b" {
  bucket = "x"
}

locals {
  ok   = replace(templatefile("${path.module}/tpl.yaml", { arn = aws_s3_bucket.b.arn }), "kind: X", "kind: Y")
  note = replace(templatefile("${path.module}/tpl.yaml", { arn = aws_s3_bucket.b.arn }), "arn: real", "arn: other")
}
"#;
        let found = check_rule(
            "replace-needle-missing",
            &[("main.tf", main), ("tpl.yaml", "kind: X\narn: ${arn}\n")],
        );
        expect(&found, &[("replace-needle-missing", "main.tf", 7)]);
        assert_eq!(found[0].severity, Severity::Note);
    }
}
