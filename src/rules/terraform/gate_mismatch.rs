//! `gate-mismatch`: a block refers to another under a condition that does not imply the
//! other's condition; when the other has no instances, plan fails ("Invalid index").

use super::{PerBlock, block_span, gate_span, reported};
use crate::diagnostic::{Finding, Severity};
use crate::model::terraform::BlockKind;
use crate::model::terraform::analysis::{
    Analysis, BlockAt, Count, GuardedRef, guard_tests_instances, unknown_text,
};
use crate::model::terraform::expr::{RefStep, Truth};
use crate::model::workspace::Workspace;
use crate::rules::{Context, Rule};

crate::rules::declare_rule! {
    pub struct GateMismatch {
        id: "gate-mismatch",
        severity: Severity::Error,
        summary: "A block refers to a gated block under a condition that does not imply its gate",
        fix: None,
        reads: Terraform,
    }
}

/// A checked reference: an index right after the address, or a depends_on entry.
fn checked(an: &Analysis, s: &Workspace, inst: usize, r: &GuardedRef) -> Option<BlockAt> {
    if r.tolerant {
        return None;
    }
    let tf = s.terraform();
    let target = an.target(tf, inst, &r.reference)?;
    let tb = &an.module(tf, target.inst).blocks[target.block];
    let addr_len = match tb.kind {
        BlockKind::Data => 2,
        BlockKind::Resource | BlockKind::Module => 1,
        _ => return None,
    };
    an.block(s, target).gate()?;
    let indexed = r.reference.attrs.len() == addr_len
        && matches!(r.reference.rest.first(), Some(RefStep::Index(_)));
    (indexed || r.depends_on).then_some(target)
}

/// Whether a guard text evaluates to false in a pass (the reference is not evaluated).
fn guarded_off(an: &Analysis, s: &Workspace, pass: usize, inst: usize, guards: &[String]) -> bool {
    guards.iter().any(|g| {
        an.eval_text(s, pass, inst, g)
            .is_some_and(|v| v.truthiness() == Truth::False)
    })
}

/// The root variable a gate term tests (`var.x` or `!var.x`), with the value that makes
/// the term true.
fn bool_var_term(t: &str) -> Option<(&str, bool)> {
    let (name, want) = match t.strip_prefix('!') {
        Some(rest) => (rest, false),
        None => (t, true),
    };
    let v = name.strip_prefix("var.")?;
    v.chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        .then_some((v, want))
}

/// In a root, a reference guarded by (or a referrer gated on) boolean variables that share
/// none with the target's gate: the values given may avoid the failure, but the variables
/// are independent, so setting the referrer's on and the target's off makes plan fail.
fn independent_gates(
    cx: &Context<'_>,
    an: &Analysis,
    s: &Workspace,
    at: BlockAt,
    target: BlockAt,
    r: &GuardedRef,
) -> Option<Finding> {
    if an.insts[at.inst].parent.is_some() || at.inst != target.inst {
        return None;
    }
    let need = an.own_terms(s, target);
    if need.is_empty() {
        return None;
    }
    let need: Vec<(&str, bool)> = need
        .iter()
        .map(|t| bool_var_term(&t.text))
        .collect::<Option<_>>()?;
    let own = an.own_terms(s, at);
    let have_texts: Vec<&str> = own
        .iter()
        .map(|t| t.text.as_str())
        .chain(r.guards.iter().map(String::as_str))
        .collect();
    let have: Vec<(&str, bool)> = have_texts
        .iter()
        .map(|t| bool_var_term(t))
        .collect::<Option<_>>()?;
    if have.is_empty() || need.iter().any(|(n, _)| have.iter().any(|(h, _)| h == n)) {
        return None;
    }
    let tf = s.terraform();
    let (nv, nwant) = need[0];
    let mut setting: Vec<String> = have.iter().map(|(v, b)| format!("var.{v} = {b}")).collect();
    setting.dedup();
    setting.push(format!("var.{nv} = {}", !nwant));
    let setting = setting.join(", ");
    let target_addr = an.address(tf, target);
    let cond = need
        .iter()
        .map(|(v, b)| {
            if *b {
                format!("var.{v}")
            } else {
                format!("!var.{v}")
            }
        })
        .collect::<Vec<_>>()
        .join(" && ");
    Some(
        Finding::new(
            META.id,
            cx.severity().min(Severity::Warning),
            r.span,
            format!(
                "`{}` reads `{}` under {}, but `{target_addr}` exists only when {cond}: the conditions test different variables, so with {setting} plan fails (\"Invalid index\")",
                an.address(tf, at),
                r.reference.dotted(),
                have_texts.join(" && "),
            ),
        )
        .with_span_label("read under a different condition")
        .with_label(gate_span(an, s, target), format!("`{target_addr}` is gated here"))
        .with_help(format!(
            "test the same condition the block is gated on ({cond} ? {} : null), or read it with try(…, null)",
            r.reference.dotted()
        ))
        .with_address(an.address(tf, at)),
    )
}

impl Rule for GateMismatch {
    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let s = cx.session;
        let tf = s.terraform();
        let an = s.terraform_analysis();
        let mut out = PerBlock::default();
        for (rp, &root) in an.roots.iter().enumerate() {
            let providers = an.providers(s, rp);
            for at in an.blocks_of_root(tf, root) {
                let tb = &an.module(tf, at.inst).blocks[at.block];
                if !matches!(
                    tb.kind,
                    BlockKind::Resource
                        | BlockKind::Data
                        | BlockKind::Module
                        | BlockKind::Output
                        | BlockKind::Provider
                ) {
                    continue;
                }
                let refs = an.block_refs(s, at);
                for r in refs.iter() {
                    let Some(target) = checked(an, s, at.inst, r) else {
                        continue;
                    };
                    // A `depends_on` on a block with no instances waits for nothing: plan
                    // and apply succeed. What the dependent needs from it (the namespace it
                    // would create) is reported by the rule about that need, at the
                    // dependent's own gate.
                    if target == at || r.depends_on {
                        continue;
                    }
                    let target_address = r.reference.dotted();
                    // `length(x) > 0 ? x[0].y : null`: evaluated only when x has instances.
                    if r.guards
                        .iter()
                        .any(|g| guard_tests_instances(g, &target_address))
                    {
                        continue;
                    }
                    // `[for k, v in var.m : aws_x.this[k].arn]` with `for_each = var.m` (or
                    // over `aws_x.this` itself): only keys that exist are indexed.
                    if let Some(coll) = &r.for_collection
                        && (*coll == target_address
                            || an.for_each_text(s, target).as_deref() == Some(coll.as_str()))
                    {
                        continue;
                    }
                    let need = an.own_terms(s, target);
                    // Referrers: the block itself, or every user of a provider configuration.
                    let referrers: Vec<BlockAt> = if tb.kind == BlockKind::Provider {
                        providers.users.get(&at).cloned().unwrap_or_default()
                    } else {
                        vec![at]
                    };
                    for referrer in referrers {
                        let key = r.span;
                        if out.has_error(key) {
                            break;
                        }
                        // By terms: the referrer's gate (and the guards) imply the target's.
                        let implied = if referrer == at {
                            let mut have: Vec<String> =
                                an.own_terms(s, at).into_iter().map(|t| t.text).collect();
                            have.extend(r.guards.iter().cloned());
                            !need.is_empty() && need.iter().all(|n| have.contains(&n.text))
                        } else {
                            let have: Vec<String> = an
                                .terms(s, referrer)
                                .into_iter()
                                .map(|t| t.qualified)
                                .collect();
                            let want = an.terms(s, target);
                            let prefix = &an.insts[at.inst].prefix;
                            !want.is_empty()
                                && want.iter().all(|w| {
                                    have.contains(&w.qualified)
                                        || r.guards
                                            .iter()
                                            .any(|g| format!("{prefix}{g}") == w.qualified)
                                })
                        };
                        if implied {
                            continue;
                        }
                        for pass in 0..an.passes.len() {
                            if !reported(an, pass) {
                                continue;
                            }
                            let phrase = an.passes[pass].phrase();
                            let tc = an.count(s, pass, target);
                            let rc = if tb.kind == BlockKind::Output {
                                an.inst_count(s, pass, at.inst)
                            } else {
                                an.count(s, pass, referrer)
                            };
                            if rc.is_zero() || guarded_off(an, s, pass, at.inst, &r.guards) {
                                continue;
                            }
                            let target_addr = an.address(tf, target);
                            let referrer_addr = an.address(tf, referrer);
                            match (&tc, &rc) {
                                // A `depends_on` on a block with no instances waits for
                                // nothing: plan and apply succeed. What the dependent needs
                                // from it (a namespace it would create) is reported by the
                                // rule about that need.
                                (Count::Known(0), Count::Known(n)) => {
                                    let what = if r.depends_on {
                                        "the dependency does nothing: it waits for no instance"
                                            .to_string()
                                    } else {
                                        "plan fails (\"Invalid index\")".to_string()
                                    };
                                    let via = if referrer == at {
                                        String::new()
                                    } else {
                                        format!(
                                            " (the provider configuration of `{referrer_addr}`)"
                                        )
                                    };
                                    let cond = need
                                        .iter()
                                        .map(|t| t.text.as_str())
                                        .collect::<Vec<_>>()
                                        .join(" && ");
                                    let mut f = cx
                                        .finding(
                                            r.span,
                                            format!(
                                                "`{}`{via} refers to `{}` under a condition that does not imply its gate: {phrase} `{target_addr}` has no instances while `{referrer_addr}` has {n}; {what}",
                                                an.address(tf, at),
                                                r.reference.dotted(),
                                            ),
                                        )
                                        .with_span_label("refers to a block that may have no instances")
                                        .with_label(gate_span(an, s, target), format!("`{target_addr}` is gated here"))
                                        .with_address(an.address(tf, at));
                                    if referrer != at {
                                        f = f.with_label(
                                            gate_span(an, s, referrer),
                                            "uses the provider here",
                                        );
                                    }
                                    let help = if cond.is_empty() {
                                        format!(
                                            "give `{referrer_addr}` the same gate as `{target_addr}`, or read it with try(…, null) / one({}[*]…)",
                                            r.reference.dotted()
                                        )
                                    } else {
                                        format!(
                                            "gate `{referrer_addr}` with the same condition ({cond}), or guard the reference: {cond} ? {} : null",
                                            r.reference.dotted()
                                        )
                                    };
                                    out.put(key, f.with_help(help));
                                    break;
                                }
                                (Count::Unknown(u), _) | (_, Count::Unknown(u)) => {
                                    out.put(key, cx.note(r.span, format!(
                                        "cannot tell whether `{target_addr}` has instances whenever `{referrer_addr}` refers to it {phrase}: {}",
                                        unknown_text(u)
                                    )).with_address(an.address(tf, at)));
                                }
                                _ => {}
                            }
                        }
                        if referrer == at
                            && let Some(f) = independent_gates(cx, an, s, at, target, r)
                        {
                            out.put(key, f);
                        }
                    }
                }
                let _ = block_span(an, s, at);
            }
        }
        out.into_vec()
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::CheckOptions;
    use crate::testing::{check_rule, check_tree, expect};

    const MAIN: &str = r#"variable "a" {
  type    = bool
  default = false
}

variable "b" {
  type    = bool
  default = true
}

resource "aws_iam_role" "r" {
  count = var.a ? 1 : 0
  name  = "r"
}

resource "aws_iam_role_policy" "bad" {
  count = var.b ? 1 : 0
  role  = aws_iam_role.r[0].id
}

resource "aws_iam_role_policy" "same_gate" {
  count = var.a && var.b ? 1 : 0
  role  = aws_iam_role.r[0].id
}

resource "aws_iam_role_policy" "guarded" {
  name = var.a ? aws_iam_role.r[0].name : null
  role = try(aws_iam_role.r[0].id, null)
  policy = one(aws_iam_role.r[*].arn)
}

output "role" {
  value = aws_iam_role.r[0].arn
}

resource "aws_s3_bucket" "b" {
  bucket     = "b"
  depends_on = [aws_iam_role.r]
}
"#;

    #[test]
    fn index_into_a_block_gated_off() {
        let found = check_rule("gate-mismatch", &[("main.tf", MAIN)]);
        expect(
            &found,
            &[
                ("gate-mismatch", "main.tf", 18),
                ("gate-mismatch", "main.tf", 33),
            ],
        );
    }

    const GUARDS: &str = r#"variable "a" {
  type    = bool
  default = false
}

variable "b" {
  type    = bool
  default = false
}

variable "host" {
  type    = string
  default = "example.com"
}

variable "names" {
  type = map(string)
}

resource "aws_iam_role" "r" {
  count = var.b ? 1 : 0
  name  = "r"
}

module "opt" {
  source = "terraform-aws-modules/iam/aws"
  count  = var.b ? 1 : 0
}

resource "aws_iam_role" "each" {
  for_each = var.names
  name     = each.value
}

resource "aws_iam_policy" "negated" {
  name = var.host != "" ? var.host : aws_iam_role.r[0].name
}

resource "aws_security_group" "sg" {
  dynamic "ingress" {
    for_each = var.b ? [1] : []
    content {
      description = aws_iam_role.r[0].name
    }
  }
}

output "opt" {
  value = length(module.opt) > 0 ? module.opt[0].arn : null
}

output "arns" {
  value = [for k, v in var.names : aws_iam_role.each[k].arn]
}

output "other_keys" {
  value = [for k in ["x"] : aws_iam_role.each[k].arn]
}

resource "aws_s3_bucket" "waits" {
  bucket     = "b"
  depends_on = [aws_iam_role.r, module.opt]
}

resource "aws_iam_policy" "other_variable" {
  name = var.a ? aws_iam_role.r[0].name : "x"
}
"#;

    #[test]
    fn guards_that_imply_the_gate_are_understood() {
        let found = check_rule("gate-mismatch", &[("main.tf", GUARDS)]);
        // Line 57: indexing keys the block may lack, of a collection it cannot enumerate.
        // Line 66: guarded by another variable than the gate: a warning naming the values.
        expect(
            &found,
            &[
                ("gate-mismatch", "main.tf", 57),
                ("gate-mismatch", "main.tf", 66),
            ],
        );
        assert_eq!(found[0].finding.severity, crate::diagnostic::Severity::Note);
        let w = &found[1];
        assert_eq!(w.finding.severity, crate::diagnostic::Severity::Warning);
        assert!(
            w.message.contains("var.a = true, var.b = false"),
            "{}",
            w.message
        );
    }

    #[test]
    fn a_negated_guard_that_holds_is_reported() {
        let mut o = CheckOptions::default();
        o.vars.push(("host".into(), String::new()));
        o.vars.push(("names".into(), "{}".into()));
        let found: Vec<_> = check_tree(&[("main.tf", GUARDS)], &[], o)
            .into_iter()
            .filter(|r| r.rule == "gate-mismatch")
            .collect();
        expect(
            &found,
            &[
                ("gate-mismatch", "main.tf", 36),
                ("gate-mismatch", "main.tf", 57),
                ("gate-mismatch", "main.tf", 66),
            ],
        );
        assert_eq!(
            found[0].finding.severity,
            crate::diagnostic::Severity::Error
        );
    }

    #[test]
    fn a_var_switching_the_gate_on_clears_it() {
        let mut o = CheckOptions::default();
        o.vars.push(("a".into(), "true".into()));
        let found: Vec<_> = check_tree(&[("main.tf", MAIN)], &[], o)
            .into_iter()
            .filter(|r| r.rule == "gate-mismatch")
            .collect();
        // No error with these values; the gates still test different variables, so the
        // failure under the defaults' mirror image is a warning.
        expect(&found, &[("gate-mismatch", "main.tf", 18)]);
        assert_eq!(
            found[0].finding.severity,
            crate::diagnostic::Severity::Warning
        );
        assert!(found[0].message.contains("var.b = true, var.a = false"));
    }

    #[test]
    fn provider_reading_a_data_source_its_users_outlive() {
        let main = r#"variable "k8s" {
  type    = bool
  default = true
}

variable "cluster" {
  type    = bool
  default = false
}

data "aws_eks_cluster" "this" {
  count = var.cluster ? 1 : 0
  name  = "shared"
}

provider "kubernetes" {
  host = data.aws_eks_cluster.this[0].endpoint
}

resource "kubernetes_namespace_v1" "n" {
  count = var.k8s ? 1 : 0
  metadata {
    name = "n"
  }
}
"#;
        let found = check_rule("gate-mismatch", &[("main.tf", main)]);
        expect(&found, &[("gate-mismatch", "main.tf", 17)]);
        assert!(found[0].message.contains("kubernetes_namespace_v1.n"));
    }
}
