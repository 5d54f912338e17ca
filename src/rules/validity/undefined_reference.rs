//! `undefined-reference`: `var.X`, `local.X`, `module.M(.OUTPUT)`, `data.T.N` or `T.N` that
//! the module does not declare.

use super::{closest, complete, scoped_modules, sites, span_or};
use crate::diagnostic::{Finding, Severity};
use crate::model::terraform::expr::{RefStep, Reference};
use crate::model::terraform::validity::BlockView;
use crate::model::terraform::{BlockKind, ModuleSource, TerraformModel, TfModule};
use crate::repo::Repository;
use crate::rules::{Context, Rule};

crate::rules::declare_rule! {
    pub struct UndefinedReference {
        id: "undefined-reference",
        severity: Severity::Error,
        summary: "A reference to a variable, local, module output, data source or resource the module does not declare",
        fix: None,
        reads: Terraform,
    }
}

/// Roots that never name a declared object of the module.
const BUILTIN_ROOTS: &[&str] = &[
    "each",
    "count",
    "self",
    "path",
    "terraform",
    "ephemeral",
    "resource",
    "action",
    "list",
];

impl Rule for UndefinedReference {
    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let repo = &cx.session.repo;
        let model = cx.session.terraform();
        let mut out = Vec::new();
        for id in scoped_modules(cx.session) {
            let module = model.module(id);
            if !complete(repo, module) {
                continue;
            }
            for site in sites(repo, module) {
                if site.holds_no_references() {
                    continue;
                }
                let scoped_data = check_scoped_data(site.top);
                for r in site.references() {
                    if site.iterators.contains(&r.root) {
                        continue;
                    }
                    if let Some((what, suggestion)) =
                        undefined(repo, model, module, &r, &scoped_data)
                    {
                        let fallback = repo.file(site.file).span(0..0);
                        let span = span_or(repo, site.file, r.span.clone(), fallback);
                        let help = match &suggestion {
                            Some(s) => format!("did you mean `{s}`?"),
                            None => format!(
                                "declare it in {} or remove the reference",
                                dir_name(module)
                            ),
                        };
                        out.push(
                            cx.finding(
                                span,
                                format!("{what} is not declared in {}", dir_name(module)),
                            )
                            .with_span_label("not declared")
                            .with_help(help)
                            .with_address(site.address()),
                        );
                    }
                }
            }
        }
        out
    }
}

fn dir_name(module: &TfModule) -> String {
    if module.dir.is_empty() {
        "the root module".to_string()
    } else {
        module.dir.clone()
    }
}

/// Data sources declared inside a `check` block, visible only within it.
fn check_scoped_data(top: BlockView<'_>) -> Vec<(String, String)> {
    if top.ident() != "check" {
        return Vec::new();
    }
    top.body()
        .blocks()
        .filter(|b| b.ident() == "data")
        .filter_map(|b| Some((b.label(0)?.to_string(), b.label(1)?.to_string())))
        .collect()
}

/// `Some((what, suggestion))` when the reference names something the module lacks.
fn undefined(
    repo: &Repository,
    model: &TerraformModel,
    module: &TfModule,
    r: &Reference,
    scoped_data: &[(String, String)],
) -> Option<(String, Option<String>)> {
    let first = r.attrs.first()?;
    match r.root.as_str() {
        "var" => {
            if module.block(&format!("var.{first}")).is_some() {
                return None;
            }
            let s = closest(first, module.variables().map(|b| b.name.as_str()));
            Some((
                format!("variable `var.{first}`"),
                s.map(|s| format!("var.{s}")),
            ))
        }
        "local" => {
            if module.local(first).is_some() {
                return None;
            }
            let s = closest(first, module.locals.iter().map(|l| l.name.as_str()));
            Some((
                format!("local value `local.{first}`"),
                s.map(|s| format!("local.{s}")),
            ))
        }
        "module" => {
            let Some(call) = module.call(first) else {
                let s = closest(first, module.calls.iter().map(|c| c.name.as_str()));
                return Some((
                    format!("module `module.{first}`"),
                    s.map(|s| format!("module.{s}")),
                ));
            };
            let ModuleSource::Local(target) = call.source else {
                return None;
            };
            let child = model.module(target);
            if !complete(repo, child) {
                return None;
            }
            let output = match r.attrs.get(1) {
                Some(o) => o.as_str(),
                None => match r.rest.as_slice() {
                    [RefStep::Index(_) | RefStep::Splat, RefStep::Attr(o), ..] => o.as_str(),
                    _ => return None,
                },
            };
            // A missing output is a dynamic error ("Unsupported attribute"), which
            // try()/can() absorb: `try(module.lab.extra, [])` validates.
            if r.in_try || child.block(&format!("output.{output}")).is_some() {
                return None;
            }
            let s = closest(
                output,
                child.blocks_of(BlockKind::Output).map(|b| b.name.as_str()),
            );
            Some((
                format!(
                    "output `{output}` of module `{first}` ({})",
                    dir_name(child)
                ),
                s.map(|s| format!("module.{first}.{s}")),
            ))
        }
        "data" => {
            let name = r.attrs.get(1)?;
            if module.block(&format!("data.{first}.{name}")).is_some()
                || scoped_data.iter().any(|(t, n)| t == first && n == name)
            {
                return None;
            }
            let want = format!("{first}.{name}");
            let have: Vec<String> = module
                .blocks_of(BlockKind::Data)
                .map(|b| format!("{}.{}", b.type_name, b.name))
                .chain(scoped_data.iter().map(|(t, n)| format!("{t}.{n}")))
                .collect();
            let s = closest(&want, have.iter().map(String::as_str));
            Some((
                format!("data source `data.{want}`"),
                s.map(|s| format!("data.{s}")),
            ))
        }
        root if root.contains('_') && !BUILTIN_ROOTS.contains(&root) => {
            if module.block(&format!("{root}.{first}")).is_some() {
                return None;
            }
            let want = format!("{root}.{first}");
            let have: Vec<String> = module
                .blocks_of(BlockKind::Resource)
                .map(|b| format!("{}.{}", b.type_name, b.name))
                .collect();
            let s = closest(&want, have.iter().map(String::as_str));
            Some((format!("resource `{want}`"), s.map(str::to_owned)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::CheckOptions;
    use crate::testing::{check_rule, check_tree, expect};

    const RULE: &str = "undefined-reference";

    #[test]
    fn flags_each_kind_of_missing_declaration_with_a_suggestion() {
        let findings = check_rule(
            RULE,
            &[
                (
                    "envs/dev/main.tf",
                    r#"variable "region" {}
locals {
  name = "dev"
}
module "network" {
  source = "../../modules/network"
}
data "aws_caller_identity" "current" {}
resource "aws_s3_bucket" "logs" {
  bucket = "${local.nmae}-${var.regoin}"
}
output "a" {
  value = module.netwrk.vpc_id
}
output "b" {
  value = module.network.vpc
}
output "c" {
  value = data.aws_caller_identity.curent.account_id
}
output "d" {
  value = aws_s3_bucket.log.arn
}
"#,
                ),
                (
                    "modules/network/main.tf",
                    "output \"vpc_id\" {\n  value = \"vpc-1\"\n}\n",
                ),
            ],
        );
        expect(
            &findings,
            &[
                (RULE, "envs/dev/main.tf", 10),
                (RULE, "envs/dev/main.tf", 10),
                (RULE, "envs/dev/main.tf", 13),
                (RULE, "envs/dev/main.tf", 16),
                (RULE, "envs/dev/main.tf", 19),
                (RULE, "envs/dev/main.tf", 22),
            ],
        );
        let helps: Vec<&str> = findings.iter().map(|f| f.help.as_str()).collect();
        for want in [
            "did you mean `local.name`?",
            "did you mean `var.region`?",
            "did you mean `module.network`?",
            "did you mean `module.network.vpc_id`?",
            "did you mean `data.aws_caller_identity.current`?",
            "did you mean `aws_s3_bucket.logs`?",
        ] {
            assert!(helps.contains(&want), "{want} not in {helps:?}");
        }
        assert_eq!(findings[0].finding.address, "aws_s3_bucket.logs");
    }

    #[test]
    fn block_local_names_and_iterators_are_not_references() {
        let findings = check_rule(
            RULE,
            &[(
                "envs/dev/main.tf",
                r#"variable "rules" {
  type = list(object({ port = number, cidr_blocks = list(string) }))
  default = []
}
variable "buckets" {
  type = map(string)
}
resource "aws_s3_bucket" "this" {
  for_each = var.buckets
  bucket   = "${each.key}-${each.value}-${terraform.workspace}"
  tags     = { for k, tag_value in var.buckets : k => tag_value }
  provider = aws.west
  lifecycle {
    ignore_changes = [tags_all, tags]
    postcondition {
      condition     = self.bucket != ""
      error_message = "The bucket needs a name."
    }
  }
}
resource "aws_instance" "web" {
  count     = 2
  user_data = templatefile("${path.module}/init.sh", { index = count.index, root = path.root })
  provisioner "local-exec" {
    command = "echo ${self.private_ip} ${path.cwd}"
  }
}
resource "aws_security_group" "this" {
  dynamic "ingress" {
    for_each = var.rules
    content {
      from_port   = ingress.value.port
      cidr_blocks = ingress.value.cidr_blocks
    }
  }
  dynamic "egress" {
    for_each = var.rules
    iterator = egress_rule
    content {
      from_port = egress_rule.value.port
      to_port   = "%{for p in egress_rule.value.cidr_blocks}${p}%{endfor}"
    }
  }
}
output "arns" {
  value = [for b in aws_s3_bucket.this : provider::aws::arn_parse(b.arn)]
}
moved {
  from = aws_s3_bucket.old
  to   = aws_s3_bucket.this
}
check "site" {
  data "http" "site" {
    url = "https://example.com"
  }
  assert {
    condition     = data.http.site.status_code == 200
    error_message = "The site is down."
  }
}
"#,
            )],
        );
        expect(&findings, &[]);
    }

    #[test]
    fn outputs_of_external_modules_and_unknown_roots_are_not_checked() {
        let findings = check_rule(
            RULE,
            &[(
                "main.tf",
                r#"module "vpc" {
  source = "terraform-aws-modules/vpc/aws"
}
output "x" {
  value = [module.vpc.anything, foo.bar, ephemeral.aws_secret.x.value]
}
"#,
            )],
        );
        expect(&findings, &[]);
    }

    #[test]
    fn indexed_module_outputs_are_checked_and_unparsed_modules_skipped() {
        let findings = check_rule(
            RULE,
            &[
                (
                    "envs/prod/main.tf",
                    "module \"app\" {\n  source = \"../../modules/app\"\n  count  = 1\n}\noutput \"x\" {\n  value = module.app[0].url\n}\noutput \"y\" {\n  value = module.app[0].endpoint\n}\n",
                ),
                (
                    "modules/app/main.tf",
                    "output \"url\" {\n  value = \"u\"\n}\n",
                ),
                (
                    "envs/broken/main.tf",
                    "output \"x\" {\n  value = var.missing\n}\n",
                ),
                ("envs/broken/vars.tf", "variable \"missing\" {\n"),
            ],
        );
        expect(&findings, &[(RULE, "envs/prod/main.tf", 9)]);
    }

    #[test]
    fn try_and_can_absorb_a_missing_output_but_not_an_undeclared_name() {
        let findings = check_rule(
            RULE,
            &[
                (
                    "main.tf",
                    r#"module "lab" {
  source = "./lab"
}
output "absorbed" {
  value = try(module.lab.environment_variables, [])
}
output "tested" {
  value = can(module.lab.extra) ? 1 : 0
}
output "missing" {
  value = module.lab.environment_variables
}
output "static" {
  value = try(var.nope, module.nope.x, 1)
}
"#,
                ),
                ("lab/main.tf", "output \"url\" {\n  value = \"u\"\n}\n"),
            ],
        );
        expect(
            &findings,
            &[
                (RULE, "main.tf", 11),
                (RULE, "main.tf", 14),
                (RULE, "main.tf", 14),
            ],
        );
    }

    #[test]
    fn reports_modules_reachable_from_the_named_root_once() {
        let files = [
            (
                "envs/staging/main.tf",
                "module \"app\" {\n  source = \"../../modules/app\"\n}\n",
            ),
            (
                "envs/prod/main.tf",
                "module \"app\" {\n  source = \"../../modules/app\"\n}\n",
            ),
            (
                "modules/app/main.tf",
                "output \"url\" {\n  value = var.host\n}\n",
            ),
            ("other/main.tf", "output \"z\" {\n  value = var.nope\n}\n"),
        ];
        let all = check_tree(&files, &["envs"], CheckOptions::default());
        let mine: Vec<_> = all.into_iter().filter(|r| r.rule == RULE).collect();
        expect(&mine, &[(RULE, "modules/app/main.tf", 2)]);
    }
}
