//! `invalid-reference`: an expression Terraform rejects as a reference before evaluating
//! anything: a bare name (`x` for `local.x`), `each` without `for_each`, `count` without
//! `count`, `self` outside provisioners/connections/postconditions, and attributes that
//! `path`, `terraform`, `each` and `count` do not have. What is allowed where is the
//! model's ([`crate::model::terraform::scope`]); this rule reports its verdicts.

use super::{closest, scoped_modules, sites, span_or};
use crate::diagnostic::{Finding, Severity};
use crate::model::terraform::expr::Reference;
use crate::model::terraform::scope::{self, InvalidReference, Problem, Scope};
use crate::model::terraform::{Expansion, TfModule};
use crate::rules::{Context, Rule};

crate::rules::declare_rule! {
    pub struct InvalidReferenceRule {
        id: "invalid-reference",
        severity: Severity::Error,
        summary: "An expression that is not a valid reference: a bare name, `each`/`count`/`self` where the block does not bind them, or an attribute `path`/`terraform` lack",
        fix: None,
        reads: Terraform,
    }
}

impl Rule for InvalidReferenceRule {
    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let repo = &cx.session.repo;
        let model = cx.session.terraform();
        let mut out = Vec::new();
        for id in scoped_modules(cx.session) {
            let module = model.module(id);
            for site in sites(repo, module) {
                if site.holds_no_references() {
                    continue;
                }
                let scope = site.scope();
                for r in site.references() {
                    if site.iterators.contains(&r.root) {
                        continue;
                    }
                    let Some(invalid) = scope::check(&scope, &r) else {
                        continue;
                    };
                    let file = repo.file(site.file);
                    let span = span_or(repo, site.file, r.span.clone(), file.span(0..0));
                    let text = &file.text[span.range()];
                    out.push(
                        cx.finding(
                            span,
                            format!(
                                "`{text}` is not a valid reference: \"{}\": {}",
                                invalid.summary, invalid.detail
                            ),
                        )
                        .with_span_label(invalid.summary)
                        .with_help(help(module, &scope, &r, &invalid))
                        .with_address(site.address()),
                    );
                }
            }
        }
        out
    }
}

fn help(module: &TfModule, scope: &Scope, r: &Reference, invalid: &InvalidReference) -> String {
    match &invalid.problem {
        Problem::Bare => bare_help(module, r),
        Problem::EachWithoutForEach if scope.expansion == Expansion::Count => {
            "this block sets `count`, not `for_each`: use `count.index`, or switch the block to `for_each`".into()
        }
        Problem::EachWithoutForEach => {
            "set `for_each` on this block, or refer to the value itself instead of `each`".into()
        }
        Problem::CountWithoutCount if scope.expansion == Expansion::ForEach => {
            "this block sets `for_each`, not `count`: use `each.key` or `each.value`".into()
        }
        Problem::CountWithoutCount => {
            "set `count` on this block (resources, data sources and module calls only), or remove the reference".into()
        }
        Problem::SelfOutside => {
            "refer to the block by its address (`TYPE.NAME.ATTRIBUTE`), or move the check into a `postcondition`".into()
        }
        Problem::NoSuchAttribute {
            object,
            name,
            valid,
        } => match closest(name, valid.iter().copied()) {
            Some(s) => format!("did you mean `{object}.{s}`?"),
            None => format!(
                "`{object}` has {}",
                valid
                    .iter()
                    .map(|v| format!("`{object}.{v}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
    }
}

/// The reference a bare name most likely meant: a local, variable or module call of that
/// name, else the closest local or variable name.
fn bare_help(module: &TfModule, r: &Reference) -> String {
    let name = r.root.as_str();
    match name {
        "var" | "local" | "module" | "each" | "count" | "path" | "terraform" | "data" => {
            return format!("name one of its attributes, e.g. `{}`", example(name));
        }
        _ => {}
    }
    if module.local(name).is_some() {
        return format!("did you mean `local.{name}`?");
    }
    if module.block(&format!("var.{name}")).is_some() {
        return format!("did you mean `var.{name}`?");
    }
    if module.call(name).is_some() {
        return format!("did you mean `module.{name}`?");
    }
    let locals = module.locals.iter().map(|l| ("local", l.name.as_str()));
    let vars = module.variables().map(|b| ("var", b.name.as_str()));
    let all: Vec<(&str, &str)> = locals.chain(vars).collect();
    if let Some(best) = closest(name, all.iter().map(|(_, n)| *n))
        && let Some((kind, n)) = all.iter().find(|(_, n)| *n == best)
    {
        return format!("did you mean `{kind}.{n}`?");
    }
    "write a full reference (`local.NAME`, `var.NAME`, `TYPE.NAME.ATTRIBUTE`), or quote it if it is a string".into()
}

fn example(root: &str) -> &'static str {
    match root {
        "var" => "var.NAME",
        "local" => "local.NAME",
        "module" => "module.NAME.OUTPUT",
        "each" => "each.key",
        "count" => "count.index",
        "path" => "path.module",
        "terraform" => "terraform.workspace",
        _ => "data.TYPE.NAME.ATTRIBUTE",
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{check_rule, expect};

    const RULE: &str = "invalid-reference";

    #[test]
    fn flags_what_terraform_rejects_with_the_closest_reference() {
        let findings = check_rule(
            RULE,
            &[(
                "main.tf",
                r#"locals {
  name = "dev"
}
variable "region" {}
resource "aws_s3_bucket" "a" {
  bucket = name
  tags   = { Region = regoin }
}
resource "aws_s3_bucket" "b" {
  count  = 2
  bucket = "${each.key}-${path.modul}"
}
resource "aws_s3_bucket" "c" {
  for_each = toset(["x"])
  bucket   = "b-${count.index}"
  lifecycle {
    precondition {
      condition     = self.bucket != ""
      error_message = "Needs a name."
    }
  }
}
output "o" {
  value = [var, terraform.env, data.aws_region]
}
"#,
            )],
        );
        expect(
            &findings,
            &[
                (RULE, "main.tf", 6),
                (RULE, "main.tf", 7),
                (RULE, "main.tf", 11),
                (RULE, "main.tf", 11),
                (RULE, "main.tf", 15),
                (RULE, "main.tf", 18),
                (RULE, "main.tf", 24),
                (RULE, "main.tf", 24),
                (RULE, "main.tf", 24),
            ],
        );
        let helps: Vec<&str> = findings.iter().map(|f| f.help.as_str()).collect();
        for want in [
            "did you mean `local.name`?",
            "did you mean `var.region`?",
            "did you mean `path.module`?",
            "this block sets `count`, not `for_each`: use `count.index`, or switch the block to `for_each`",
            "this block sets `for_each`, not `count`: use `each.key` or `each.value`",
            "name one of its attributes, e.g. `var.NAME`",
        ] {
            assert!(helps.contains(&want), "{want} not in {helps:?}");
        }
        assert!(findings[0].message.starts_with(
            "`name` is not a valid reference: \"Invalid reference\": A reference to a resource type must be followed by at least one attribute access"
        ));
    }

    #[test]
    fn accepts_what_terraform_accepts() {
        let findings = check_rule(
            RULE,
            &[
                (
                    "main.tf",
                    r#"variable "rules" {
  type = list(object({ port = number, cidrs = optional(list(string), []) }))
  default = []
}
resource "aws_security_group" "sg" {
  for_each = toset(["a"])
  name     = "${each.key}-${terraform.workspace}-${path.module}-${path.root}-${path.cwd}"
  dynamic "ingress" {
    for_each = var.rules
    iterator = rule
    content {
      from_port   = rule.value.port
      to_port     = each.value == "a" ? 1 : 2
      cidr_blocks = [for c in rule.value.cidrs : c if c != ""]
      description = <<-EOT
        %{ for k, v in rule.value }${k}=${v}%{ endfor }
      EOT
    }
  }
  lifecycle {
    ignore_changes        = [tags, description]
    replace_triggered_by  = [terraform_data.t]
    create_before_destroy = true
    postcondition {
      condition     = self.name != ""
      error_message = "x"
    }
  }
  provider   = aws.west
  depends_on = [module.m]
}
resource "terraform_data" "t" {
  count = 1
  input = provider::aws::arn_parse("arn:aws:s3:::b").region
  connection {
    host = self.output
  }
  provisioner "local-exec" {
    command = "echo ${self.id} ${count.index}"
  }
}
module "m" {
  source    = "./m"
  count     = 2
  name      = "m-${count.index}"
  providers = { aws = aws.west }
}
moved {
  from = aws_instance.old
  to   = module.m[0].aws_instance.new
}
provider "aws" {
  alias = "west"
}
"#,
                ),
                ("m/main.tf", "variable \"name\" {}\n"),
            ],
        );
        expect(&findings, &[]);
    }
}
