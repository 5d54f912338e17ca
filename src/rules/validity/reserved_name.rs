//! `reserved-name`: a variable named after a `module` block meta-argument, or a block name
//! that is not a valid Terraform identifier.

use super::scoped_modules;
use crate::diagnostic::{Finding, Severity};
use crate::model::terraform::BlockKind;
use crate::model::terraform::validity;
use crate::rules::{Context, Rule};

crate::rules::declare_rule! {
    pub struct ReservedName {
        id: "reserved-name",
        severity: Severity::Error,
        summary: "A variable or block name Terraform reserves or does not accept as an identifier",
        fix: None,
        reads: Terraform,
    }
}

/// Names a `variable` cannot have: the arguments and block types of a `module` block
/// (Terraform's `moduleBlockSchema`).
pub const RESERVED_VARIABLE_NAMES: &[&str] = &[
    "source",
    "version",
    "providers",
    "count",
    "for_each",
    "depends_on",
    "lifecycle",
    "locals",
    "provider",
];

impl Rule for ReservedName {
    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let repo = &cx.session.repo;
        let model = cx.session.terraform();
        let mut out = Vec::new();
        for id in scoped_modules(cx.session) {
            let module = model.module(id);
            for b in &module.blocks {
                let what = match b.kind {
                    BlockKind::Variable => "variable",
                    BlockKind::Output => "output",
                    BlockKind::Module => "module",
                    BlockKind::Resource => "resource",
                    BlockKind::Data => "data source",
                    BlockKind::Check => "check",
                    _ => continue,
                };
                let Some(block) = validity::block(model, repo, b.at) else {
                    continue;
                };
                let file = repo.file(b.at.file);
                let label_span = |i: usize| block.label_range(i).map_or(b.header, |r| file.span(r));
                if b.kind == BlockKind::Variable
                    && RESERVED_VARIABLE_NAMES.contains(&b.name.as_str())
                {
                    out.push(
                        cx.finding(
                            label_span(0),
                            format!(
                                "the variable name `{}` is reserved: it has a special meaning inside module blocks",
                                b.name
                            ),
                        )
                        .with_span_label("reserved")
                        .with_help(format!(
                            "rename the variable (e.g. `{0}_value` or a more specific name such as `image_{0}`) and update every `var.{0}` and every caller",
                            b.name
                        ))
                        .with_address(b.address()),
                    );
                    continue;
                }
                let labels: Vec<(usize, &str)> = match b.kind {
                    BlockKind::Resource | BlockKind::Data => {
                        vec![(0, b.type_name.as_str()), (1, b.name.as_str())]
                    }
                    _ => vec![(0, b.name.as_str())],
                };
                for (i, name) in labels {
                    if name.is_empty() || super::valid_identifier(name) {
                        continue;
                    }
                    out.push(
                        cx.finding(
                            label_span(i),
                            format!("`{name}` is not a valid {what} name"),
                        )
                        .with_span_label("invalid name")
                        .with_help("a name must start with a letter or underscore and may contain only letters, digits, underscores and dashes")
                        .with_address(b.address()),
                    );
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{check_rule, expect};

    const RULE: &str = "reserved-name";

    #[test]
    fn flags_reserved_variables_and_invalid_names() {
        let findings = check_rule(
            RULE,
            &[(
                "modules/cloudrun/variables.tf",
                r#"variable "source" {
  type = string
}
variable "version" {}
variable "image_source" {}
resource "aws_s3_bucket" "1-logs" {}
output "cluster.name" {
  value = 1
}
module "my-app" {
  source = "./app"
}
"#,
            )],
        );
        expect(
            &findings,
            &[
                (RULE, "modules/cloudrun/variables.tf", 1),
                (RULE, "modules/cloudrun/variables.tf", 4),
                (RULE, "modules/cloudrun/variables.tf", 6),
                (RULE, "modules/cloudrun/variables.tf", 7),
            ],
        );
    }
}
