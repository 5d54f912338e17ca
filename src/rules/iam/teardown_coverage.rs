//! `teardown-coverage`: a named resource the configuration creates that the teardown
//! discovery conventions (`[teardown] name_patterns`, `required_tags`) would not find.

use super::{argument, aws_blocks};
use crate::diagnostic::{Finding, Severity};
use crate::model::iam::actions;
use crate::model::iam::pattern::{Match, Pattern, Subject, UNKNOWN_TEXT};
use crate::model::terraform::expr::Value;
use crate::rules::{Context, Rule};
use std::collections::BTreeSet;

crate::rules::declare_rule! {
    pub struct TeardownCoverage {
        id: "teardown-coverage",
        severity: Severity::Error,
        summary: "A named resource matches no teardown discovery pattern or lacks a required tag, so teardown orphans it",
        fix: None,
        reads: Terraform,
    }
}

impl Rule for TeardownCoverage {
    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let s = cx.session;
        let td = &s.config.teardown;
        if td.name_patterns.is_empty() && td.required_tags.is_empty() {
            return Vec::new();
        }
        let patterns: Vec<Pattern> = td
            .name_patterns
            .iter()
            .map(|p| Pattern::new(p, false))
            .collect();
        let shown = td
            .name_patterns
            .iter()
            .map(|p| format!("`{p}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let an = s.terraform_analysis();
        let table = actions::table();
        let mut out = Vec::new();
        for b in aws_blocks(s) {
            if b.data || !s.in_scope(&s.repo.file(b.header.file).rel_path) {
                continue;
            }
            // Top-level named resources: their ARN carries their own name and no parent's
            // (node groups, add-ons and the like go with their cluster), and they are made by
            // a Create call (attachments and inline policies go with their role).
            let Some(entry) = table.get(&b.type_name, false) else {
                continue;
            };
            let named = entry.arn.contains("${name}")
                && !entry.arn.contains("${arg.")
                && entry.create.iter().any(|a| {
                    a.split_once(':')
                        .is_some_and(|(_, n)| n.starts_with("Create"))
                });
            if !named {
                continue;
            }
            let name_arg = entry.name_arg();
            let (name, span) = match argument(s, an, &b, name_arg) {
                Some((Value::String(n), sp)) => (n, sp),
                Some((v, sp)) if !v.is_known() => {
                    out.push(cx.note(
                        sp,
                        format!(
                            "cannot tell whether {} is found by teardown: its {name_arg} is not known statically",
                            b.address
                        ),
                    ));
                    continue;
                }
                Some(_) => continue,
                None => match argument(s, an, &b, &format!("{name_arg}_prefix")) {
                    Some((Value::String(p), sp)) => (format!("{p}{UNKNOWN_TEXT}"), sp),
                    _ => (String::new(), b.header),
                },
            };
            let shown_name = name.replace(UNKNOWN_TEXT, "…");
            if !patterns.is_empty() {
                if name.is_empty() {
                    out.push(
                        cx.finding(
                            b.header,
                            format!(
                                "{} gets a name AWS generates, which no teardown pattern ({shown}) can match",
                                b.address
                            ),
                        )
                        .with_help(format!("set `{name_arg}` to a name matching one of {shown}"))
                        .with_address(b.address.clone()),
                    );
                } else {
                    let subject = Subject::value(&name, false);
                    let m = patterns
                        .iter()
                        .fold(Match::No, |acc, p| acc.or(p.matches(&subject)));
                    match m {
                        Match::Yes => {}
                        Match::No => out.push(
                            cx.finding(
                                span,
                                format!(
                                    "{} is named `{shown_name}`, which matches none of the teardown patterns {shown}: teardown will orphan it and the next apply fails with EntityAlreadyExists",
                                    b.address
                                ),
                            )
                            .with_span_label("the name teardown looks for")
                            .with_help(format!(
                                "rename it to match {shown}, or add a pattern for it (e.g. `{}*`) to `[teardown] name_patterns` and to the teardown script's discovery",
                                suggest_prefix(&shown_name)
                            ))
                            .with_address(b.address.clone()),
                        ),
                        Match::Maybe => out.push(cx.note(
                            span,
                            format!(
                                "cannot tell whether `{shown_name}` ({}) matches the teardown patterns {shown}",
                                b.address
                            ),
                        )),
                    }
                }
            }
            if td.required_tags.is_empty() {
                continue;
            }
            let taggable = entry
                .create
                .iter()
                .chain(&entry.update)
                .any(|a| a.contains("Tag"));
            if !taggable {
                continue;
            }
            let mut keys: BTreeSet<String> = BTreeSet::new();
            let mut unknown = None;
            for v in [
                argument(s, an, &b, "tags").map(|(v, _)| v),
                default_tags(cx, &b),
            ]
            .into_iter()
            .flatten()
            {
                match v.as_object() {
                    Some(map) => keys.extend(map.keys().cloned()),
                    None if v.is_null() => {}
                    None => unknown = Some(()),
                }
            }
            let missing: Vec<&String> = td
                .required_tags
                .iter()
                .filter(|t| !keys.contains(*t))
                .collect();
            if missing.is_empty() {
                continue;
            }
            if unknown.is_some() {
                out.push(cx.note(
                    b.header,
                    format!("cannot tell whether {} carries the required tags: its tags are not known statically", b.address),
                ));
                continue;
            }
            let list: Vec<String> = missing.iter().map(|t| format!("`{t}`")).collect();
            out.push(
                cx.finding(
                    span,
                    format!(
                        "{} lacks the required tag{} {}: teardown filters by {} and will not delete it",
                        b.address,
                        if missing.len() > 1 { "s" } else { "" },
                        list.join(", "),
                        if missing.len() > 1 { "them" } else { "it" }
                    ),
                )
                .with_help(format!(
                    "add {} to its `tags`, or to the AWS provider's `default_tags`",
                    list.join(", ")
                ))
                .with_address(format!("{}:tags", b.address)),
            );
        }
        out
    }
}

/// The provider's `default_tags { tags = ... }`, evaluated in the provider's module.
fn default_tags(cx: &Context<'_>, b: &super::AwsBlock) -> Option<Value> {
    let s = cx.session;
    let an = s.terraform_analysis();
    let p = an.block(s, b.at).provider()?;
    let attr = p.nested("default_tags").into_iter().next()?.arg("tags")?;
    Some(attr.value(b.pass))
}

/// The name up to its last `-`, as a pattern prefix (`goldenpath-idp-eso-role` →
/// `goldenpath-idp-`): its first two segments.
fn suggest_prefix(name: &str) -> String {
    let parts: Vec<&str> = name.splitn(3, '-').collect();
    if parts.len() == 3 {
        format!("{}-{}-", parts[0], parts[1])
    } else {
        name.to_string()
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{check_rule, expect};

    const CONFIG: &str =
        "[teardown]\nname_patterns = [\"goldenpath-dev-*\"]\nrequired_tags = [\"Environment\"]\n";

    fn tree(prefix: &str) -> Vec<(&'static str, String)> {
        vec![
            (
                "envs/dev/main.tf",
                format!(
                    "provider \"aws\" {{\n  default_tags {{\n    tags = {{ Environment = \"dev\" }}\n  }}\n}}\n\nmodule \"iam\" {{\n  source      = \"../../modules/iam\"\n  name_prefix = \"{prefix}\"\n}}\n"
                ),
            ),
            (
                "modules/iam/main.tf",
                "variable \"name_prefix\" {}\n\nresource \"aws_iam_role\" \"eso\" {\n  name               = \"${var.name_prefix}-eso-role\"\n  assume_role_policy = \"{}\"\n}\n\nresource \"aws_iam_role_policy_attachment\" \"eso\" {\n  role       = aws_iam_role.eso.name\n  policy_arn = \"arn:aws:iam::aws:policy/x\"\n}\n".to_string(),
            ),
        ]
    }

    fn run(files: &[(&str, String)], config: &str) -> Vec<crate::testing::Reported> {
        let mut all: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
        all.push(("preflight.toml", config));
        check_rule("teardown-coverage", &all)
    }

    #[test]
    fn irsa_roles_named_outside_the_patterns_are_orphaned() {
        let found = run(&tree("goldenpath-idp"), CONFIG);
        expect(&found, &[("teardown-coverage", "modules/iam/main.tf", 4)]);
        assert!(
            found[0].message.contains("`goldenpath-idp-eso-role`"),
            "{}",
            found[0].message
        );
        assert!(
            found[0].help.contains("goldenpath-idp-*"),
            "{}",
            found[0].help
        );
    }

    #[test]
    fn names_matching_a_pattern_with_provider_default_tags_are_covered() {
        expect(&run(&tree("goldenpath-dev"), CONFIG), &[]);
    }

    #[test]
    fn a_missing_required_tag_is_reported() {
        let mut files = tree("goldenpath-dev");
        files[0].1 = files[0]
            .1
            .replace("Environment = \"dev\"", "Team = \"platform\"");
        let found = run(&files, CONFIG);
        expect(&found, &[("teardown-coverage", "modules/iam/main.tf", 4)]);
        assert!(
            found[0].message.contains("`Environment`"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn unknown_names_are_notes_and_no_conventions_mean_no_check() {
        let files = vec![(
            "main.tf",
            "variable \"n\" {}\n\nresource \"aws_iam_role\" \"r\" {\n  name = var.n\n  tags = { Environment = \"dev\" }\n}\n".to_string(),
        )];
        let found = run(&files, CONFIG);
        expect(&found, &[("teardown-coverage", "main.tf", 4)]);
        assert_eq!(found[0].severity, crate::diagnostic::Severity::Note);
        expect(&run(&tree("goldenpath-idp"), ""), &[]);
    }
}
