//! `duplicate-physical-name`: two roots of one environment (or two instances within one
//! root) create an account-scoped object with the same name, so the second apply fails with
//! "already exists"; and a root marked ephemeral owns a fixed-name account-scoped object.

use super::{attr_span, root_dir};
use crate::diagnostic::{Finding, Severity};
use crate::model::identities::{
    IdKind, Named, account_scoped, is_regional, physical_names, region_of,
};
use crate::model::terraform::analysis::{Analysis, BlockAt, Count, unknown_text};
use crate::model::terraform::expr::Value;
use crate::model::workspace::Workspace;
use crate::rules::{Context, Rule};
use std::collections::{BTreeMap, HashSet};

crate::rules::declare_rule! {
    pub struct DuplicatePhysicalName {
        id: "duplicate-physical-name",
        severity: Severity::Error,
        summary: "Two roots of one environment, or two instances of one root, create an account-scoped object with the same name",
        fix: None,
    }
}

/// Whether a root is ephemeral: its `lifecycle` variable is "ephemeral", or it takes a
/// `build_id` and is not marked persistent. Returns the build id's value when known.
fn ephemeral(s: &Workspace, an: &Analysis, inst: usize) -> Option<(String, Option<String>)> {
    let module = an.module(s.terraform(), inst);
    let has = |n: &str| module.variables().any(|v| v.name == n);
    let pass = an.selected.first().copied().unwrap_or(0);
    let var = |n: &str| -> Option<Value> { an.eval_text(s, pass, inst, &format!("var.{n}")) };
    let lifecycle = if has("lifecycle") {
        var("lifecycle")
    } else {
        None
    };
    let build_id = if has("build_id") {
        var("build_id")
    } else {
        None
    };
    let build = match &build_id {
        Some(Value::String(b)) if !b.is_empty() => Some(b.clone()),
        _ => None,
    };
    match lifecycle.as_ref().and_then(|v| v.as_str()) {
        Some("ephemeral") => Some(("`var.lifecycle` is \"ephemeral\"".into(), build)),
        Some(_) => None,
        None if build_id.is_some() => Some(("it takes a `var.build_id`".into(), build)),
        None => None,
    }
}

/// The environment two instances share (`""` for the same root), given each one's.
fn same_env(a: &Named, a_env: Option<&str>, b: &Named, b_env: Option<&str>) -> Option<String> {
    if a.root == b.root {
        return Some(String::new());
    }
    match (a_env, b_env) {
        (Some(x), Some(y)) if x == y => Some(x.to_string()),
        _ => None,
    }
}

impl Rule for DuplicatePhysicalName {
    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let s = cx.session;
        let an = s.terraform_analysis_all();
        let envs = s.environments();
        let names = physical_names(s.identity_names());
        let mut out = Vec::new();
        let mut seen: HashSet<(BlockAt, String)> = HashSet::new();
        let dirs = |n: &Named| root_dir(an, s, n.root);
        let in_scope = |at: BlockAt| {
            let span = an.span(s, at, None);
            s.file_in_scope(&s.repo.file(span.file).rel_path)
        };
        for &pass in &an.selected {
            // (type, name) → instances, ordered by root folder then address.
            let mut by_name: BTreeMap<(String, String), Vec<&Named>> = BTreeMap::new();
            for n in names
                .iter()
                .filter(|n| n.pass == pass && !n.count.is_zero())
            {
                by_name
                    .entry((n.ty.clone(), n.name.clone()))
                    .or_default()
                    .push(n);
            }
            for ((ty, name), mut list) in by_name {
                list.sort_by_key(|n| (dirs(n), n.address.clone()));
                list.dedup_by(|a, b| a.root == b.root && a.address == b.address);
                if list.len() < 2 {
                    continue;
                }
                // Each instance's region and environment, asked once: every pair is compared.
                let regional = is_regional(&ty);
                let regions: Vec<Option<String>> = if regional {
                    list.iter().map(|n| region_of(s, an, n.at, pass)).collect()
                } else {
                    Vec::new()
                };
                let env_of: Vec<Option<&str>> = list.iter().map(|n| envs.of_root(n.root)).collect();
                for (i, second) in list.iter().enumerate().skip(1) {
                    let Some((first, env)) = list[..i]
                        .iter()
                        .enumerate()
                        .filter(|(j, _)| {
                            // Objects named per region clash only in the same region.
                            !regional
                                || match (&regions[*j], &regions[i]) {
                                    (Some(a), Some(b)) => a == b,
                                    _ => true,
                                }
                        })
                        .find_map(|(j, f)| {
                            same_env(f, env_of[j], second, env_of[i]).map(|e| (*f, e))
                        })
                    else {
                        continue;
                    };
                    if !in_scope(second.at) || !seen.insert((second.at, name.clone())) {
                        continue;
                    }
                    let (arg, kind) = account_scoped(&ty).unwrap_or(("name", IdKind::Other));
                    let where_first = if first.root == second.root {
                        format!("`{}` in the same root", first.address)
                    } else {
                        format!(
                            "`{}` in `{}` (also the {env} environment)",
                            first.address,
                            dirs(first)
                        )
                    };
                    let span = attr_span(an, s, second.at, arg);
                    let unsure = match (&first.count, &second.count) {
                        (Count::Unknown(u), _) | (_, Count::Unknown(u)) => Some(unknown_text(u)),
                        _ => None,
                    };
                    let head = format!(
                        "`{}` in `{}` creates the {} `{name}`, which {where_first} also creates",
                        second.address,
                        dirs(second),
                        kind.noun()
                    );
                    let f = match unsure {
                        Some(why) => cx.note(
                            span,
                            format!("{head}; whether both exist cannot be told: {why}"),
                        ),
                        None => cx.finding(
                            span,
                            format!("{head}: the second apply fails (\"already exists\")"),
                        ),
                    };
                    out.push(
                        f.with_span_label("the same name")
                            .with_label(attr_span(an, s, first.at, arg), "first created here")
                            .with_help(format!(
                                "give one of them another name (`{arg}` = \"{name}-{}\"), or create it in one root and read it in the other with a `data \"{ty}\"` block",
                                if first.root == second.root { "<instance key>".to_string() } else { dirs(second).rsplit('/').next().unwrap_or("other").to_string() }
                            ))
                            .with_address(second.address.clone()),
                    );
                }
            }
        }
        // Ephemeral roots owning fixed names.
        for &root in &an.roots {
            let Some((why, build)) = ephemeral(s, an, root) else {
                continue;
            };
            for n in names
                .iter()
                .filter(|n| n.root == root && n.count.is_active())
            {
                let fixed = match &build {
                    Some(b) => !n.name.contains(b.as_str()),
                    None => true,
                };
                if !fixed || !in_scope(n.at) || !seen.insert((n.at, n.name.clone())) {
                    continue;
                }
                let (arg, kind) = account_scoped(&n.ty).unwrap_or(("name", IdKind::Other));
                out.push(
                    Finding::new(
                        META.id,
                        Severity::Warning,
                        attr_span(an, s, n.at, arg),
                        format!(
                            "`{}` creates the {} `{}` with a fixed name in `{}`, an ephemeral root ({why}): a second build of it in the same account fails (\"already exists\"), and one build's teardown deletes another's object",
                            n.address,
                            kind.noun(),
                            n.name,
                            dirs(n)
                        ),
                    )
                    .with_span_label("does not depend on the build id")
                    .with_help(format!(
                        "derive the name from the build id (`{arg} = \"{}-${{var.build_id}}\"`), or move the object to a persistent root",
                        n.name
                    ))
                    .with_address(n.address.clone()),
                );
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::Severity;
    use crate::testing::{check_rule, expect};

    const RDS_SECRET: &str = r#"variable "environment" {
  type    = string
  default = "dev"
}

resource "aws_secretsmanager_secret" "master" {
  name = "goldenpath/${var.environment}/rds/master"
}
"#;

    #[test]
    fn two_roots_of_one_environment() {
        let standalone = r#"variable "create_rds" {
  type    = bool
  default = true
}

resource "aws_secretsmanager_secret" "master" {
  count = var.create_rds ? 1 : 0
  name  = "goldenpath/dev/rds/master"
}
"#;
        let found = check_rule(
            "duplicate-physical-name",
            &[
                ("envs/dev/main.tf", RDS_SECRET),
                ("envs/dev-rds/main.tf", standalone),
                // Another environment: same shape, other name.
                (
                    "envs/prod/main.tf",
                    &RDS_SECRET.replace("\"dev\"", "\"prod\""),
                ),
            ],
        );
        expect(
            &found,
            &[("duplicate-physical-name", "envs/dev-rds/main.tf", 8)],
        );
        assert_eq!(found[0].severity, Severity::Error);
        assert!(
            found[0].message.contains("goldenpath/dev/rds/master"),
            "{}",
            found[0].message
        );
        assert!(
            found[0].message.contains("envs/dev-rds"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn switched_off_or_other_environment_is_silent() {
        let standalone = r#"resource "aws_secretsmanager_secret" "master" {
  count = 0
  name  = "goldenpath/dev/rds/master"
}
"#;
        expect(
            &check_rule(
                "duplicate-physical-name",
                &[
                    ("envs/dev/main.tf", RDS_SECRET),
                    ("envs/dev-rds/main.tf", standalone),
                    (
                        "envs/staging/main.tf",
                        &RDS_SECRET.replace("default = \"dev\"", "default = \"staging\""),
                    ),
                ],
            ),
            &[],
        );
    }

    #[test]
    fn for_each_with_a_fixed_name_and_an_unknown_count() {
        let main = r#"variable "apps" {
  type = set(string)
}

resource "aws_iam_role" "app" {
  for_each           = toset(["api", "worker"])
  name               = "platform-app"
  assume_role_policy = "{}"
}

resource "aws_ecr_repository" "a" {
  name = "backstage"
}

resource "aws_ecr_repository" "b" {
  count = length(var.apps)
  name  = "backstage"
}
"#;
        let found = check_rule("duplicate-physical-name", &[("main.tf", main)]);
        expect(
            &found,
            &[
                ("duplicate-physical-name", "main.tf", 7),
                ("duplicate-physical-name", "main.tf", 17),
            ],
        );
        let note = found.iter().find(|r| r.line == 17).unwrap();
        assert_eq!(note.severity, Severity::Note, "{}", note.message);
        let err = found.iter().find(|r| r.line == 7).unwrap();
        assert_eq!(err.severity, Severity::Error);
    }

    #[test]
    fn regional_names_in_two_regions_do_not_clash() {
        let region = |r: &str| {
            format!(
                "provider \"aws\" {{\n  region = \"{r}\"\n}}\n\nresource \"aws_secretsmanager_secret\" \"s\" {{\n  name = \"goldenpath/dev/app\"\n}}\n\nresource \"aws_iam_role\" \"r\" {{\n  name               = \"goldenpath-dev-app\"\n  assume_role_policy = \"{{}}\"\n}}\n"
            )
        };
        let found = check_rule(
            "duplicate-physical-name",
            &[
                ("envs/dev/eu-west-2/main.tf", &region("eu-west-2")),
                ("envs/dev/us-east-1/main.tf", &region("us-east-1")),
            ],
        );
        // IAM is global: the role clashes; the secret is per region.
        expect(
            &found,
            &[("duplicate-physical-name", "envs/dev/us-east-1/main.tf", 10)],
        );
    }

    #[test]
    fn ephemeral_root_with_a_fixed_name() {
        let main = r#"variable "build_id" {
  type    = string
  default = "b42"
}

resource "aws_iam_role" "ci" {
  name               = "goldenpath-ci-runner"
  assume_role_policy = "{}"
}

resource "aws_iam_role" "per_build" {
  name               = "goldenpath-ci-${var.build_id}"
  assume_role_policy = "{}"
}
"#;
        let found = check_rule(
            "duplicate-physical-name",
            &[("envs/ephemeral/main.tf", main)],
        );
        expect(
            &found,
            &[("duplicate-physical-name", "envs/ephemeral/main.tf", 7)],
        );
        assert_eq!(found[0].severity, Severity::Warning);
        let persistent = main.replace(
            "variable \"build_id\"",
            "variable \"lifecycle\" {\n  default = \"persistent\"\n}\n\nvariable \"build_id\"",
        );
        expect(
            &check_rule(
                "duplicate-physical-name",
                &[("envs/ephemeral/main.tf", &persistent)],
            ),
            &[],
        );
    }
}
