//! Rules about IAM: the documented CI policy against the live role and against what the
//! Terraform roots create, and teardown discovery of what they create.

pub mod ci_policy_gap;
pub mod ci_role_drift;
pub mod teardown_coverage;

crate::rules::declare_domain! {
    [
        ci_role_drift::CiRoleDrift,
        ci_policy_gap::CiPolicyGap,
        teardown_coverage::TeardownCoverage,
    ],
}

use crate::model::terraform::BlockKind;
use crate::model::terraform::analysis::{Analysis, BlockAt};
use crate::model::terraform::expr::Value;
use crate::model::workspace::Workspace;
use crate::source::Span;

/// An AWS resource or data source that a checked root creates (or reads) in at least one
/// selected pass.
pub struct AwsBlock {
    pub at: BlockAt,
    /// The first selected pass in which it has instances (or an unknown count).
    pub pass: usize,
    pub data: bool,
    pub type_name: String,
    /// Its address with the module path, e.g. `module.iam[0].aws_iam_role.eso`.
    pub address: String,
    pub header: Span,
}

/// Every `aws_*` block of the roots in scope, once per module instance.
pub fn aws_blocks(s: &Workspace) -> Vec<AwsBlock> {
    let an = s.terraform_analysis();
    let tf = s.terraform();
    let mut out = Vec::new();
    for &root in &an.roots {
        for at in an.blocks_of_root(tf, root) {
            let b = &an.module(tf, at.inst).blocks[at.block];
            if !matches!(b.kind, BlockKind::Resource | BlockKind::Data)
                || !b.type_name.starts_with("aws_")
            {
                continue;
            }
            let Some(pass) = an
                .selected
                .iter()
                .copied()
                .find(|&p| !an.count(s, p, at).is_zero())
            else {
                continue;
            };
            out.push(AwsBlock {
                at,
                pass,
                data: b.kind == BlockKind::Data,
                type_name: b.type_name.clone(),
                address: an.address(tf, at),
                header: b.header,
            });
        }
    }
    out
}

/// An argument of a block evaluated in its first instance, with the argument's span.
/// `None` when the block does not set it.
pub fn argument(s: &Workspace, an: &Analysis, b: &AwsBlock, name: &str) -> Option<(Value, Span)> {
    let attr = an.block(s, b.at).arg(name)?;
    Some((attr.value_first(b.pass), attr.span()))
}
