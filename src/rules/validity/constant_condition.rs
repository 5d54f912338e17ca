//! `constant-condition`: a precondition, postcondition, variable validation or check assertion
//! whose condition refers to no object (or, in a validation, not to the variable itself).

use super::{scoped_modules, sites};
use crate::diagnostic::{Finding, Severity};
use crate::rules::{Context, Rule};

crate::rules::declare_rule! {
    pub struct ConstantCondition {
        id: "constant-condition",
        severity: Severity::Error,
        summary: "A precondition, postcondition, validation or check condition that refers to nothing it could test",
        fix: None,
        reads: Terraform,
    }
}

impl Rule for ConstantCondition {
    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let repo = &cx.session.repo;
        let model = cx.session.terraform();
        let mut out = Vec::new();
        for id in scoped_modules(cx.session) {
            for site in sites(repo, model.module(id)) {
                if site.key != "condition" {
                    continue;
                }
                let Some(kind) = site.path.last().copied() else {
                    continue;
                };
                if !matches!(
                    kind,
                    "precondition" | "postcondition" | "validation" | "assert"
                ) {
                    continue;
                }
                let file = repo.file(site.file);
                let span = file.span(site.value_range().unwrap_or(0..0));
                let refs = site.references();
                let validated = (site.top.ident() == "variable" && kind == "validation")
                    .then(|| site.top.label(0).map(str::to_string))
                    .flatten();
                if refs.is_empty() {
                    let help = match &validated {
                        Some(v) => format!("test the incoming value, e.g. `condition = length(var.{v}) > 0`"),
                        None => "make the condition test a value of the configuration (a variable, an attribute of this object through `self`, a data source); remove the block if the check is not needed".to_string(),
                    };
                    out.push(
                        cx.finding(
                            span,
                            format!("this {kind} condition refers to no object, so it checks nothing; Terraform rejects it"),
                        )
                        .with_span_label("constant")
                        .with_help(help)
                        .with_address(site.address()),
                    );
                    continue;
                }
                if let Some(v) = validated {
                    let tests_itself = refs
                        .iter()
                        .any(|r| r.root == "var" && r.attrs.first() == Some(&v));
                    if !tests_itself {
                        out.push(
                            cx.finding(
                                span,
                                format!("the validation condition of variable `{v}` does not refer to `var.{v}`; Terraform rejects it"),
                            )
                            .with_span_label(format!("no `var.{v}` here"))
                            .with_help(format!("a validation must test the incoming value: refer to `var.{v}` in the condition"))
                            .with_address(site.address()),
                        );
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

    const RULE: &str = "constant-condition";

    #[test]
    fn flags_conditions_that_test_nothing() {
        let findings = check_rule(
            RULE,
            &[(
                "modules/db/main.tf",
                r#"variable "size" {
  type = number
  validation {
    condition     = 1 == 1
    error_message = "Always true."
  }
  validation {
    condition     = length(var.other) > 0
    error_message = "Tests another variable."
  }
}
variable "other" {
  type = list(string)
}
resource "aws_db_instance" "this" {
  allocated_storage = var.size
  lifecycle {
    precondition {
      condition     = false
      error_message = "Never."
    }
  }
}
output "x" {
  value = 1
  precondition {
    condition     = alltrue([for s in ["a"] : s != ""])
    error_message = "Only for-expression symbols."
  }
}
check "c" {
  assert {
    condition     = timestamp() != ""
    error_message = "No reference."
  }
}
"#,
            )],
        );
        expect(
            &findings,
            &[
                (RULE, "modules/db/main.tf", 4),
                (RULE, "modules/db/main.tf", 8),
                (RULE, "modules/db/main.tf", 19),
                (RULE, "modules/db/main.tf", 27),
                (RULE, "modules/db/main.tf", 33),
            ],
        );
    }

    #[test]
    fn conditions_with_references_pass() {
        let findings = check_rule(
            RULE,
            &[(
                "modules/db/main.tf",
                r#"variable "size" {
  type = number
  validation {
    condition     = var.size >= 20 && var.size <= local.max
    error_message = "Between 20 and the maximum."
  }
}
locals {
  max = 100
}
resource "aws_db_instance" "this" {
  count             = 1
  allocated_storage = var.size
  lifecycle {
    precondition {
      condition     = count.index >= 0
      error_message = "Index."
    }
    postcondition {
      condition     = self.allocated_storage > 0
      error_message = "Storage."
    }
  }
}
check "c" {
  assert {
    condition     = aws_db_instance.this[0].status == "available"
    error_message = "Down."
  }
}
"#,
            )],
        );
        expect(&findings, &[]);
    }
}
