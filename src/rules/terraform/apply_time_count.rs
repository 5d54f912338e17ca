//! `apply-time-count`: `count` / `for_each` depends on a value known only after apply.

use super::{PerBlock, block_span, gate_span};
use crate::diagnostic::{Finding, Severity};
use crate::model::terraform::BlockKind;
use crate::model::terraform::analysis::Count;
use crate::model::terraform::expr::{ApplyIf, Unknown};
use crate::rules::{Context, Rule};

crate::rules::declare_rule! {
    pub struct ApplyTimeCount {
        id: "apply-time-count",
        severity: Severity::Error,
        summary: "count or for_each depends on a value known only after apply",
        fix: None,
        reads: Terraform,
    }
}

impl Rule for ApplyTimeCount {
    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let s = cx.session;
        let tf = s.terraform();
        let an = s.terraform_analysis();
        let mut out = PerBlock::default();
        for &root in &an.roots {
            for at in an.blocks_of_root(tf, root) {
                let tb = &an.module(tf, at.inst).blocks[at.block];
                if !matches!(
                    tb.kind,
                    BlockKind::Resource | BlockKind::Data | BlockKind::Module
                ) {
                    continue;
                }
                let Some(attr) = an.block(s, at).gate() else {
                    continue;
                };
                let arg = attr.name().to_string();
                let key = block_span(an, s, at);
                let address = an.address(tf, at);
                for pass in an.selected.iter().copied() {
                    if out.has_error(key) {
                        break;
                    }
                    // Inside a module instance gated off, the block is never expanded.
                    if an.inst_count(s, pass, at.inst).is_zero() {
                        continue;
                    }
                    match an.own_count(s, pass, at) {
                        Count::Unknown(Unknown::AtApply { origin }) => {
                            let what = if arg == "count" {
                                "Invalid count argument"
                            } else {
                                "Invalid for_each argument"
                            };
                            let mut f = cx
                                .finding(
                                    gate_span(an, s, at),
                                    format!(
                                        "`{arg}` of `{address}` depends on `{origin}`, which is known only after apply: plan fails (\"{what}\")"
                                    ),
                                )
                                .with_span_label("known only after apply")
                                .with_help(format!(
                                    "derive `{arg}` from values known at plan (variables, literals, arguments set in configuration) rather than from attributes the provider computes{}",
                                    if arg == "for_each" { "; for_each keys must be known, values may be unknown" } else { "" }
                                ))
                                .with_address(address.clone());
                            if let Some(o) = an.origin_block(s, an.insts[at.inst].root, &origin)
                                && o != at
                            {
                                f = f.with_label(
                                    an.span(s, o, None),
                                    format!("`{origin}` is computed by the provider"),
                                );
                            }
                            out.put(key, f);
                        }
                        Count::Unknown(Unknown::AtApplyIf(a)) => {
                            let ApplyIf {
                                origin,
                                condition,
                                decided_by,
                                when,
                            } = *a;
                            let what = if arg == "count" {
                                "Invalid count argument"
                            } else {
                                "Invalid for_each argument"
                            };
                            // Only one outcome fails: an environment that takes it (a fresh
                            // one, for an adopt-or-create probe) cannot plan.
                            let mut f = cx
                                .finding(
                                    gate_span(an, s, at),
                                    format!(
                                        "`{arg}` of `{address}` depends on `{origin}`, which is known only after apply when `{condition}` is {when}: assuming that outcome, plan fails (\"{what}\"); Terraform decides `{condition}` at plan from `{decided_by}`, which preflight cannot see"
                                    ),
                                )
                                .with_span_label(format!("known only after apply when `{condition}` is {when}"))
                                .with_help(format!(
                                    "derive `{arg}` from values known at plan in both outcomes (for example the same condition, `{condition}`, or a name set in configuration) rather than from an attribute of the object created in one of them"
                                ))
                                .with_address(address.clone());
                            if f.severity == Severity::Error {
                                f.severity = Severity::Warning;
                            }
                            if let Some(o) = an.origin_block(s, an.insts[at.inst].root, &origin)
                                && o != at
                            {
                                f = f.with_label(
                                    an.span(s, o, None),
                                    format!("`{origin}` is computed by the provider"),
                                );
                            }
                            out.put(key, f);
                        }
                        Count::Unknown(Unknown::Undecidable { reason }) if s.inputs.verbose => {
                            out.put(
                                key,
                                cx.note(gate_span(an, s, at), format!(
                                    "cannot tell whether `{arg}` of `{address}` is known at plan: {reason}"
                                ))
                                .with_address(address.clone()),
                            );
                        }
                        _ => {}
                    }
                }
            }
        }
        out.into_vec()
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::CheckOptions;
    use crate::testing::{check_rule, check_tree, expect};

    /// A `for_each` module whose inner count depends on a list mixing the caller's per-key
    /// values with another module's resource attribute.
    fn per_key_module(arns: &str) -> Vec<(&'static str, String)> {
        vec![
            (
                "envs/dev/main.tf",
                format!(
                    r#"variable "services" {{
  default = {{
    api    = {{ policies = ["arn:aws:iam::aws:policy/ReadOnlyAccess"] }}
    worker = {{ policies = [] }}
  }}
}}

module "shared" {{
  source = "../../modules/policy"
}}

module "svc" {{
  source   = "../../modules/svc"
  for_each = var.services
  name     = each.key
  policies = {arns}
}}
"#
                ),
            ),
            (
                "modules/policy/main.tf",
                "resource \"aws_iam_policy\" \"p\" {\n  name   = \"shared\"\n  policy = \"{}\"\n}\n\noutput \"arn\" {\n  value = aws_iam_policy.p.arn\n}\n".into(),
            ),
            (
                "modules/svc/main.tf",
                r#"variable "name" {
  type = string
}

variable "policies" {
  type = list(string)
}

resource "aws_iam_role" "this" {
  name               = var.name
  assume_role_policy = "{}"
}

resource "aws_iam_role_policy_attachment" "this" {
  count      = length(distinct(var.policies))
  role       = aws_iam_role.this.name
  policy_arn = var.policies[count.index]
}
"#
                .into(),
            ),
        ]
    }

    #[test]
    fn attributes_of_data_sources_read_during_plan_are_known_at_plan() {
        let main = r#"data "aws_availability_zones" "azs" {
  state = "available"
}

data "aws_region" "current" {}

data "aws_vpc" "by_region" {
  tags = { Region = data.aws_region.current.name }
}

resource "aws_subnet" "a" {
  count             = length(data.aws_availability_zones.azs.names)
  vpc_id            = data.aws_vpc.by_region.id
  availability_zone = data.aws_availability_zones.azs.names[count.index]
  cidr_block        = "10.0.${count.index}.0/24"
}

resource "aws_route_table" "per_vpc" {
  for_each = toset([data.aws_vpc.by_region.id])
  vpc_id   = each.value
}

resource "aws_vpc" "new" {
  cidr_block = "10.1.0.0/16"
}

data "aws_subnets" "of_new" {
  filter {
    name   = "vpc-id"
    values = [aws_vpc.new.id]
  }
}

resource "aws_eip" "per_new_subnet" {
  count = length(data.aws_subnets.of_new.ids)
}
"#;
        let o = CheckOptions {
            verbose: true,
            ..Default::default()
        };
        let found: Vec<_> = check_tree(&[("main.tf", main)], &[], o)
            .into_iter()
            .filter(|r| r.rule == "apply-time-count")
            .collect();
        // Read during plan (its arguments are known, or known at plan): no finding, not even
        // a note. `of_new` waits for `aws_vpc.new`, so it is read at apply.
        expect(&found, &[("apply-time-count", "main.tf", 35)]);
        assert_eq!(found[0].severity, crate::diagnostic::Severity::Error);
    }

    #[test]
    fn the_documented_acm_validation_pattern_is_known_at_plan() {
        let main = r#"resource "aws_acm_certificate" "cert" {
  domain_name               = "example.com"
  subject_alternative_names = ["*.example.com"]
  validation_method         = "DNS"
}

resource "aws_route53_record" "validation" {
  for_each = {
    for dvo in aws_acm_certificate.cert.domain_validation_options : dvo.domain_name => {
      name   = dvo.resource_record_name
      record = dvo.resource_record_value
      type   = dvo.resource_record_type
    }
  }
  zone_id = "Z123"
  name    = each.value.name
  records = [each.value.record]
  type    = each.value.type
  ttl     = 60
}

resource "aws_route53_record" "by_record_name" {
  for_each = {
    for dvo in aws_acm_certificate.cert.domain_validation_options : dvo.resource_record_name => dvo
  }
  zone_id = "Z123"
  name    = each.key
  type    = "CNAME"
  ttl     = 60
}
"#;
        let found = check_rule("apply-time-count", &[("main.tf", main)]);
        // Keyed by the planned domain names: known at plan. Keyed by the record names,
        // which the provider computes: plan fails.
        expect(&found, &[("apply-time-count", "main.tf", 23)]);
        assert!(
            found[0].message.contains("resource_record_name"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn module_instances_bind_each_and_evaluate_per_key() {
        let files = per_key_module("distinct(concat(each.value.policies, [module.shared.arn]))");
        let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
        let found = check_rule("apply-time-count", &files);
        // Each instance's list holds the shared policy's ARN, known only after apply.
        expect(&found, &[("apply-time-count", "modules/svc/main.tf", 15)]);
        assert_eq!(found[0].severity, crate::diagnostic::Severity::Error);
        assert!(
            found[0].message.contains("module.shared"),
            "{}",
            found[0].message
        );
        // Per-key values alone are known at plan in every instance.
        let files = per_key_module("each.value.policies");
        let files: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
        expect(&check_rule("apply-time-count", &files), &[]);
    }

    #[test]
    fn counts_from_computed_attributes() {
        let main = r#"resource "aws_vpc" "main" {
  cidr_block = "10.0.0.0/16"
}

resource "aws_subnet" "a" {
  count  = 2
  vpc_id = aws_vpc.main.id
}

locals {
  vpc = aws_vpc.main.id
}

resource "aws_route_table" "rt" {
  count  = local.vpc != "" ? 1 : 0
  vpc_id = aws_vpc.main.id
}

resource "aws_route_table_association" "a" {
  count     = length(aws_subnet.a)
  subnet_id = aws_subnet.a[count.index].id
}

module "m" {
  source = "./m"
  ids    = aws_subnet.a[*].id
}

resource "aws_eip" "by_name" {
  for_each = toset([aws_vpc.main.cidr_block])
}

resource "aws_eip" "by_id" {
  for_each = toset(aws_subnet.a[*].id)
}
"#;
        let m = r#"variable "ids" {
  type = list(string)
}

resource "aws_eip" "x" {
  count = length(var.ids)
}

resource "aws_eip" "y" {
  for_each = { for i in var.ids : i => i }
}

output "first" {
  value = var.ids[0]
}
"#;
        let found = check_rule("apply-time-count", &[("main.tf", main), ("m/main.tf", m)]);
        expect(
            &found,
            &[
                ("apply-time-count", "main.tf", 15),
                ("apply-time-count", "main.tf", 34),
                ("apply-time-count", "m/main.tf", 10),
            ],
        );
        let rt = found.iter().find(|r| r.line == 15).unwrap();
        assert!(rt.message.contains("aws_vpc.main.id"), "{}", rt.message);
        assert!(!rt.finding.labels.is_empty());
        let y = found.iter().find(|r| r.file == "m/main.tf").unwrap();
        assert!(y.message.contains("aws_subnet.a[0].id"), "{}", y.message);
        assert_eq!(y.finding.labels.len(), 1);
    }

    #[test]
    fn undecidable_is_silent_unless_verbose() {
        let main = "variable \"n\" {}\nresource \"aws_eip\" \"x\" {\n  count = var.n\n}\n";
        expect(&check_rule("apply-time-count", &[("main.tf", main)]), &[]);
        let o = CheckOptions {
            verbose: true,
            ..Default::default()
        };
        let found: Vec<_> = check_tree(&[("main.tf", main)], &[], o)
            .into_iter()
            .filter(|r| r.rule == "apply-time-count")
            .collect();
        expect(&found, &[("apply-time-count", "main.tf", 3)]);
        assert_eq!(found[0].severity, crate::diagnostic::Severity::Note);
    }

    /// An adopt-or-create module: an existence probe preflight never runs decides whether
    /// the role is created; `dependent` is the for_each of what attaches to it.
    fn adopt_or_create(dependent: &str) -> Vec<(&'static str, String)> {
        vec![
            (
                "envs/prod/main.tf",
                "module \"deployer\" {\n  source    = \"../../modules/adopt-role\"\n  role_name = \"ci-deployer\"\n}\n".into(),
            ),
            (
                "modules/adopt-role/main.tf",
                format!(
                    r#"variable "role_name" {{
  type = string
}}

data "aws_iam_roles" "found" {{
  name_regex = "^${{var.role_name}}$"
}}

locals {{
  create   = length(data.aws_iam_roles.found.arns) == 0
  role_arn = local.create ? aws_iam_role.created[0].arn : tolist(data.aws_iam_roles.found.arns)[0]
}}

resource "aws_iam_role" "created" {{
  count              = local.create ? 1 : 0
  name               = var.role_name
  assume_role_policy = "{{}}"
}}

resource "aws_iam_role_policy_attachment" "attached" {{
  for_each   = {dependent}
  role       = var.role_name
  policy_arn = each.value
}}
"#
                ),
            ),
        ]
    }

    fn files<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
        v.iter().map(|(p, t)| (*p, t.as_str())).collect()
    }

    #[test]
    fn the_create_outcome_of_an_adopt_or_create_is_a_warning_naming_the_outcome() {
        let tree = adopt_or_create("toset(compact([local.role_arn]))");
        let found = check_rule("apply-time-count", &files(&tree));
        expect(
            &found,
            &[("apply-time-count", "modules/adopt-role/main.tf", 21)],
        );
        assert_eq!(found[0].severity, crate::diagnostic::Severity::Warning);
        assert!(
            found[0]
                .message
                .contains("known only after apply when `local.create` is true"),
            "{}",
            found[0].message
        );
        assert!(
            found[0]
                .message
                .contains("from `module.deployer.data.aws_iam_roles.found.arns`"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn keys_known_in_both_outcomes_are_fine() {
        let tree = adopt_or_create(
            "local.create ? toset([\"arn:aws:iam::aws:policy/ReadOnlyAccess\"]) : toset([])",
        );
        expect(&check_rule("apply-time-count", &files(&tree)), &[]);
        // Known at plan in both outcomes (the probe's own result).
        let tree = adopt_or_create("toset(data.aws_iam_roles.found.arns)");
        expect(&check_rule("apply-time-count", &files(&tree)), &[]);
    }

    #[test]
    fn unknown_in_both_outcomes_is_an_error() {
        let tree = adopt_or_create(
            "toset([local.create ? aws_iam_role.created[0].arn : aws_iam_role.other.arn])",
        );
        let mut tree = tree;
        tree[1].1.push_str(
            "\nresource \"aws_iam_role\" \"other\" {\n  name               = \"other\"\n  assume_role_policy = \"{}\"\n}\n",
        );
        let found = check_rule("apply-time-count", &files(&tree));
        expect(
            &found,
            &[("apply-time-count", "modules/adopt-role/main.tf", 21)],
        );
        assert_eq!(found[0].severity, crate::diagnostic::Severity::Error);
    }

    #[test]
    fn an_undecidable_outcome_is_a_note_with_verbose() {
        // An unsupported function in the branch: preflight cannot tell either way.
        let tree = adopt_or_create("toset(compact([local.role_arn, nosuchfn(1)]))");
        let found = check_tree(
            &files(&tree),
            &[],
            CheckOptions {
                verbose: true,
                ..Default::default()
            },
        )
        .into_iter()
        .filter(|r| r.rule == "apply-time-count")
        .collect::<Vec<_>>();
        expect(
            &found,
            &[("apply-time-count", "modules/adopt-role/main.tf", 21)],
        );
    }
}
