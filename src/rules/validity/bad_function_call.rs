//! `bad-function-call`: a call to a function Terraform does not have, or a built-in called with
//! the wrong number of arguments.

use super::{closest, edit_distance, scoped_modules, sites, span_or};
use crate::diagnostic::{Finding, Severity};
use crate::model::terraform::expr::{builtin_function_names, function_arity};
use crate::rules::{Context, Rule};

crate::rules::declare_rule! {
    pub struct BadFunctionCall {
        id: "bad-function-call",
        severity: Severity::Error,
        summary: "A call to an unknown function, or a built-in function with the wrong number of arguments",
        fix: Safe,
        reads: Terraform,
    }
}

/// Built-in functions of Terraform releases newer than the evaluator's table.
const NEWER_BUILTINS: &[&str] = &["ephemeralasnull"];

fn arity(name: &str) -> Option<(usize, Option<usize>)> {
    function_arity(name).or_else(|| NEWER_BUILTINS.contains(&name).then_some((1, Some(1))))
}

fn describe(min: usize, max: Option<usize>) -> String {
    let n = |k: usize| {
        if k == 1 {
            "1 argument".to_string()
        } else {
            format!("{k} arguments")
        }
    };
    match max {
        Some(m) if m == min => n(m),
        Some(m) => format!("{min} to {m} arguments"),
        None => format!("at least {}", n(min)),
    }
}

/// A built-in with a name like `name` that accepts `args` arguments (`trim(x)` → `trimspace`).
fn similar_accepting(name: &str, args: usize) -> Option<&'static str> {
    builtin_function_names()
        .filter(|c| *c != name)
        .filter(|c| arity(c).is_some_and(|(min, max)| args >= min && max.is_none_or(|m| args <= m)))
        .filter(|c| c.starts_with(name) || name.starts_with(c) || edit_distance(name, c) <= 2)
        .min_by_key(|c| (!c.starts_with(name), edit_distance(name, c)))
}

/// Calls whose fix is a rename that keeps the meaning: `trim(x)` (which needs the characters
/// to trim) is `trimspace(x)`.
fn mechanical_rename(name: &str, args: usize, expand_final: bool) -> Option<&'static str> {
    match (name, args, expand_final) {
        ("trim", 1, false) => Some("trimspace"),
        _ => None,
    }
}

impl Rule for BadFunctionCall {
    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let repo = &cx.session.repo;
        let model = cx.session.terraform();
        let mut out = Vec::new();
        for id in scoped_modules(cx.session) {
            for site in sites(repo, model.module(id)) {
                if site.is_type_constraint() || site.top.ident() == "terraform" {
                    continue;
                }
                for call in site.function_calls() {
                    let name = match call.name.strip_prefix("core::") {
                        Some(n) => n,
                        None if call.name.contains("::") => continue,
                        None => call.name.as_str(),
                    };
                    let fallback = repo.file(site.file).span(0..0);
                    let span = span_or(repo, site.file, call.span.clone(), fallback);
                    let Some((min, max)) = arity(name) else {
                        let suggestion = closest(
                            name,
                            builtin_function_names().chain(NEWER_BUILTINS.iter().copied()),
                        );
                        let help = match suggestion {
                            Some(s) => format!("did you mean `{s}`?"),
                            None => "use a built-in function (https://developer.hashicorp.com/terraform/language/functions) or a provider-defined one as `provider::NAME::FUNCTION`".to_string(),
                        };
                        out.push(
                            cx.finding(span, format!("there is no function named `{name}`"))
                                .with_span_label("unknown function")
                                .with_help(help)
                                .with_address(site.address()),
                        );
                        continue;
                    };
                    let too_few = !call.expand_final && call.args < min;
                    let given_at_least = if call.expand_final {
                        call.args.saturating_sub(1)
                    } else {
                        call.args
                    };
                    let too_many = max.is_some_and(|m| given_at_least > m);
                    if !too_few && !too_many {
                        continue;
                    }
                    let mut help = format!("`{name}` takes {}", describe(min, max));
                    if !call.expand_final
                        && let Some(s) = similar_accepting(name, call.args)
                    {
                        help.push_str(&format!("; did you mean `{s}`?"));
                    }
                    let mut f = cx
                        .finding(
                            span,
                            format!(
                                "`{name}` is called with {} but takes {}",
                                describe(call.args, Some(call.args)),
                                describe(min, max)
                            ),
                        )
                        .with_span_label(if too_few {
                            "too few arguments"
                        } else {
                            "too many arguments"
                        })
                        .with_help(help)
                        .with_address(site.address());
                    if let Some(to) = mechanical_rename(name, call.args, call.expand_final) {
                        // The name is written at the start of the call.
                        let start = span.start as usize;
                        let end = start + call.name.len();
                        if repo.file(site.file).text.get(start..end) == Some(call.name.as_str()) {
                            f = f
                                .with_fix(vec![crate::diagnostic::Edit {
                                    span: crate::source::Span::new(
                                        site.file,
                                        start + call.name.len() - name.len()..end,
                                    ),
                                    replacement: to.to_string(),
                                }])
                                .with_fix_title(format!("call `{to}` instead of `{name}`"));
                        }
                    }
                    out.push(f);
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{check_rule, expect};

    const RULE: &str = "bad-function-call";

    #[test]
    fn flags_unknown_functions_and_wrong_arity() {
        let findings = check_rule(
            RULE,
            &[(
                "modules/app/main.tf",
                r#"variable "name" {
  type = string
}
locals {
  clean   = trim(var.name)
  size    = lenght(var.name)
  joined  = join(",")
  subnet  = cidrsubnet("10.0.0.0/16", 8)
  many    = lookup({}, "a", "b", "c")
}
"#,
            )],
        );
        expect(
            &findings,
            &[
                (RULE, "modules/app/main.tf", 5),
                (RULE, "modules/app/main.tf", 6),
                (RULE, "modules/app/main.tf", 8),
                (RULE, "modules/app/main.tf", 9),
            ],
        );
        assert!(
            findings[0].help.contains("`trimspace`"),
            "{}",
            findings[0].help
        );
        assert!(
            findings[1].help.contains("`length`"),
            "{}",
            findings[1].help
        );
        assert_eq!(findings[0].finding.address, "local.clean");
    }

    #[test]
    fn provider_functions_types_and_expansions_pass() {
        let findings = check_rule(
            RULE,
            &[(
                "modules/app/main.tf",
                r#"variable "cfg" {
  type = object({ name = optional(string, "x"), tags = map(list(string)) })
}
locals {
  arn    = provider::aws::arn_parse("arn:aws:s3:::b")
  parts  = ["a", "b"]
  joined = join(local.parts...)
  merged = merge(local.parts...)
  one    = core::length(local.parts)
  ok     = can(regex("^a", "abc")) ? try(local.parts[5], null) : null
}
"#,
            )],
        );
        expect(&findings, &[]);
    }
}
