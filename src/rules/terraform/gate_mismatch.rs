//! `gate-mismatch`: a block refers to another under a condition that does not imply the
//! other's condition; when the other has no instances, plan fails ("Invalid index").

use super::{PerBlock, block_span, gate_span, reported};
use crate::diagnostic::{Finding, Severity};
use crate::engine::Session;
use crate::model::terraform::BlockKind;
use crate::model::terraform::analysis::{Analysis, BlockAt, Count, GuardedRef, unknown_text};
use crate::model::terraform::expr::{RefStep, Truth};
use crate::rules::{Context, Rule, RuleMeta};

pub struct GateMismatch;

static META: RuleMeta = RuleMeta {
    id: "gate-mismatch",
    default_severity: Severity::Error,
    summary: "A block refers to a gated block under a condition that does not imply its gate",
    doc: include_str!("../../../rules/gate-mismatch.md"),
    options: &[],
};

/// A checked reference: an index right after the address, or a depends_on entry.
fn checked(an: &Analysis, s: &Session, inst: usize, r: &GuardedRef) -> Option<BlockAt> {
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
    an.gate_attr(s, target)?;
    let indexed = r.reference.attrs.len() == addr_len
        && matches!(r.reference.rest.first(), Some(RefStep::Index(_)));
    (indexed || r.depends_on).then_some(target)
}

/// Whether a guard text evaluates to false in a pass (the reference is not evaluated).
fn guarded_off(an: &Analysis, s: &Session, pass: usize, inst: usize, guards: &[String]) -> bool {
    guards.iter().any(|g| {
        crate::parse::hcl::parse_expression(g)
            .is_some_and(|e| an.eval(s, pass, inst, &e).truthiness() == Truth::False)
    })
}

impl Rule for GateMismatch {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

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
                    if target == at {
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
                ("gate-mismatch", "main.tf", 38),
            ],
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
        expect(&found, &[]);
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
