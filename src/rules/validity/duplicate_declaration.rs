//! `duplicate-declaration`: two blocks with one address in a module, a local defined twice,
//! or two `provider` blocks with the same name and alias.

use super::{is_override_file, scoped_modules};
use crate::diagnostic::{Finding, Severity};
use crate::model::terraform::BlockKind;
use crate::rules::{Context, Rule};
use crate::source::Span;
use std::collections::HashMap;

crate::rules::declare_rule! {
    pub struct DuplicateDeclaration {
        id: "duplicate-declaration",
        severity: Severity::Error,
        summary: "Two declarations with the same address in one module",
        fix: None,
        reads: Terraform,
    }
}

impl Rule for DuplicateDeclaration {
    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let repo = &cx.session.repo;
        let model = cx.session.terraform();
        let mut out = Vec::new();
        let mut report = |first: Span, second: Span, what: String, address: String| {
            out.push(
                cx.finding(second, format!("{what} is declared twice in this module"))
                    .with_span_label("second declaration")
                    .with_label(first, "first declared here")
                    .with_help(
                        "remove one of the declarations, or rename one and update its references",
                    )
                    .with_address(address),
            );
        };
        for id in scoped_modules(cx.session) {
            let module = model.module(id);
            let mut seen: HashMap<String, Span> = HashMap::new();
            for b in &module.blocks {
                if is_override_file(repo, b.at.file) {
                    continue;
                }
                let (key, what) = match b.kind {
                    BlockKind::Resource
                    | BlockKind::Data
                    | BlockKind::Module
                    | BlockKind::Variable
                    | BlockKind::Output
                    | BlockKind::Check => (b.address(), format!("`{}`", b.address())),
                    BlockKind::Provider => {
                        let alias_attr = model.attribute(repo, b.at, "alias").is_some();
                        match (&b.alias, alias_attr) {
                            (Some(a), _) => (
                                b.address(),
                                format!(
                                    "provider configuration `{}` with alias `{a}`",
                                    b.type_name
                                ),
                            ),
                            (None, false) => (
                                b.address(),
                                format!("the default provider configuration `{}`", b.type_name),
                            ),
                            // An alias that is not a literal: cannot compare.
                            (None, true) => continue,
                        }
                    }
                    _ => continue,
                };
                if key.is_empty() {
                    continue;
                }
                match seen.get(&key) {
                    Some(first) => report(*first, b.header, what, key),
                    None => {
                        seen.insert(key, b.header);
                    }
                }
            }
            let mut locals: HashMap<&str, Span> = HashMap::new();
            for l in &module.locals {
                if is_override_file(repo, l.block.file) {
                    continue;
                }
                match locals.get(l.name.as_str()) {
                    Some(first) => report(
                        *first,
                        l.span,
                        format!("local value `local.{}`", l.name),
                        format!("local.{}", l.name),
                    ),
                    None => {
                        locals.insert(&l.name, l.span);
                    }
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{check_rule, expect};

    const RULE: &str = "duplicate-declaration";

    #[test]
    fn flags_the_second_of_each_duplicate() {
        let findings = check_rule(
            RULE,
            &[
                (
                    "modules/iam/main.tf",
                    r#"resource "aws_iam_role" "this" {
  name = "a"
}
data "aws_iam_role" "this" {
  name = "a"
}
variable "x" {}
output "arn" {
  value = aws_iam_role.this.arn
}
provider "aws" {
  region = "eu-west-1"
}
provider "aws" {
  alias  = "us"
  region = "us-east-1"
}
locals {
  prefix = "a"
}
"#,
                ),
                (
                    "modules/iam/more.tf",
                    r#"resource "aws_iam_role" "this" {
  name = "b"
}
variable "x" {}
output "arn" {
  value = 1
}
provider "aws" {
  region = "eu-west-2"
}
provider "aws" {
  alias  = "us"
  region = "us-east-2"
}
provider "aws" {
  alias  = "eu"
  region = "eu-central-1"
}
locals {
  prefix = "b"
}
"#,
                ),
                (
                    "modules/iam/main_override.tf",
                    "resource \"aws_iam_role\" \"this\" {\n  name = \"c\"\n}\n",
                ),
            ],
        );
        expect(
            &findings,
            &[
                (RULE, "modules/iam/more.tf", 1),
                (RULE, "modules/iam/more.tf", 4),
                (RULE, "modules/iam/more.tf", 5),
                (RULE, "modules/iam/more.tf", 8),
                (RULE, "modules/iam/more.tf", 11),
                (RULE, "modules/iam/more.tf", 20),
            ],
        );
        assert_eq!(findings[0].finding.labels.len(), 1);
    }
}
