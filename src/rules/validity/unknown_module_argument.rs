//! `unknown-module-argument`: a call of a local module passes an argument the module does not
//! declare as a variable, or omits a variable that has no default.

use super::{closest, complete, scoped_modules};
use crate::diagnostic::{Finding, Severity};
use crate::model::terraform::validity::{self, AttrView};
use crate::model::terraform::{ModuleSource, TfModule};
use crate::rules::{Context, Rule};

crate::rules::declare_rule! {
    pub struct UnknownModuleArgument {
        id: "unknown-module-argument",
        severity: Severity::Error,
        summary: "A module call passes an argument the module does not declare, or omits a required variable",
        fix: None,
        reads: Terraform,
    }
}

/// Arguments of a `module` block that are Terraform's, not the module's.
const META_ARGUMENTS: &[&str] = &[
    "source",
    "version",
    "count",
    "for_each",
    "providers",
    "depends_on",
    "ignore_nested_deprecations",
];

impl Rule for UnknownModuleArgument {
    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let repo = &cx.session.repo;
        let model = cx.session.terraform();
        let mut out = Vec::new();
        for id in scoped_modules(cx.session) {
            let module = model.module(id);
            for call in &module.calls {
                let ModuleSource::Local(target) = call.source else {
                    continue;
                };
                let child = model.module(target);
                if !complete(repo, child) {
                    continue;
                }
                let Some(tf_block) = module.blocks.get(call.block) else {
                    continue;
                };
                let Some(block) = validity::block(model, repo, tf_block.at) else {
                    continue;
                };
                let file = repo.file(tf_block.at.file);
                // Arguments, including those inside the `_` meta-argument escaping block.
                let mut args: Vec<AttrView> = block
                    .body()
                    .attributes()
                    .filter(|a| !META_ARGUMENTS.contains(&a.key()))
                    .collect();
                for escaped in block.body().blocks().filter(|b| b.ident() == "_") {
                    args.extend(escaped.body().attributes());
                }
                let address = format!("module.{}", call.name);
                let where_ = child_name(child);
                for arg in &args {
                    let name = arg.key();
                    if child.block(&format!("var.{name}")).is_some() {
                        continue;
                    }
                    let span = file.span(arg.key_range().unwrap_or(0..0));
                    let suggestion = closest(name, child.variables().map(|v| v.name.as_str()));
                    let help = match suggestion {
                        Some(s) => format!(
                            "{where_} declares `{s}`: rename the argument, or remove it if the variable was removed on purpose"
                        ),
                        None => {
                            let names: Vec<&str> = child
                                .variables()
                                .map(|v| v.name.as_str())
                                .take(12)
                                .collect();
                            format!(
                                "remove the argument if the variable was removed, or pass the value under its new name ({where_} declares: {})",
                                if names.is_empty() {
                                    "no variables".to_string()
                                } else {
                                    names.join(", ")
                                }
                            )
                        }
                    };
                    let mut f = cx
                        .finding(
                            span,
                            format!(
                                "module `{}` passes `{name}`, which {where_} does not declare",
                                call.name
                            ),
                        )
                        .with_span_label("no such variable")
                        .with_help(help)
                        .with_address(address.clone());
                    let label = suggestion
                        .and_then(|s| child.block(&format!("var.{s}")))
                        .or_else(|| child.variables().next());
                    match label {
                        Some(v) if suggestion.is_some() => {
                            f = f.with_label(
                                v.header,
                                format!("the variable is named `{}`", v.name),
                            );
                        }
                        Some(v) => {
                            f = f.with_label(
                                v.header,
                                format!("variables of {where_} are declared here"),
                            );
                        }
                        None => {}
                    }
                    out.push(f);
                }
                for var in child.variables() {
                    if args.iter().any(|a| a.key() == var.name) {
                        continue;
                    }
                    if model.attribute(repo, var.at, "default").is_some() {
                        continue;
                    }
                    // A second declaration of the same variable is another rule's finding.
                    if child.block(&var.address()).map(|b| b.at) != Some(var.at) {
                        continue;
                    }
                    out.push(
                        cx.finding(
                            tf_block.header,
                            format!(
                                "module `{}` does not set `{}`, which {where_} requires (it has no default)",
                                call.name, var.name
                            ),
                        )
                        .with_span_label(format!("`{}` missing", var.name))
                        .with_label(var.header, "declared here without a default")
                        .with_help(format!(
                            "pass `{} = ...` in this module block, or give the variable a default",
                            var.name
                        ))
                        .with_address(address.clone()),
                    );
                }
            }
        }
        out
    }
}

fn child_name(child: &TfModule) -> String {
    if child.dir.is_empty() {
        "the root module".to_string()
    } else {
        child.dir.clone()
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{check_rule, expect};

    const RULE: &str = "unknown-module-argument";

    const MODULE: &str = r#"variable "name" {
  type = string
}
variable "replicas" {
  type    = number
  default = 2
}
variable "tags" {
  type    = map(string)
  default = null
}
"#;

    #[test]
    fn flags_removed_variables_and_missing_required_ones() {
        let findings = check_rule(
            RULE,
            &[
                ("modules/app/variables.tf", MODULE),
                (
                    "envs/prod/main.tf",
                    "module \"app\" {\n  source        = \"../../modules/app\"\n  name          = \"app\"\n  replica_count = 3\n  old_setting   = true\n}\n",
                ),
                (
                    "envs/staging/main.tf",
                    "module \"app\" {\n  source   = \"../../modules/app\"\n  replicas = 1\n}\n",
                ),
            ],
        );
        expect(
            &findings,
            &[
                (RULE, "envs/prod/main.tf", 4),
                (RULE, "envs/prod/main.tf", 5),
                (RULE, "envs/staging/main.tf", 1),
            ],
        );
        let replica = findings.iter().find(|f| f.line == 4).unwrap();
        assert!(replica.help.contains("`replicas`"), "{}", replica.help);
        assert_eq!(replica.finding.labels.len(), 1);
        assert_eq!(replica.finding.address, "module.app");
    }

    #[test]
    fn meta_arguments_escapes_and_external_modules_pass() {
        let findings = check_rule(
            RULE,
            &[
                ("modules/app/variables.tf", MODULE),
                (
                    "envs/prod/main.tf",
                    r#"module "app" {
  source     = "../../modules/app"
  for_each   = toset(["a", "b"])
  name       = each.key
  providers  = { aws = aws.west }
  depends_on = [module.vpc]
}
module "app2" {
  source = "../../modules/app"
  count  = 1
  _ {
    name = "x"
  }
}
module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "5.0.0"
  whatever = 1
}
"#,
                ),
            ],
        );
        expect(&findings, &[]);
    }
}
