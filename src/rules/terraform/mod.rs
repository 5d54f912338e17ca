//! Terraform rules: each asks the evaluated model ([`Analysis`]) its questions.

pub mod apply_time_count;
pub mod crd_before_plan;
pub mod gate_mismatch;
pub mod name_already_exists;
pub mod provider_same_apply;
pub mod replace_needle_missing;
pub mod ungated_data_source;
pub mod unmanaged_namespace;

// The first release, then rules added later (see `declare_domain!`).
crate::rules::declare_domain! {
    [
        ungated_data_source::UngatedDataSource,
        unmanaged_namespace::UnmanagedNamespace,
        gate_mismatch::GateMismatch,
        provider_same_apply::ProviderSameApply,
        apply_time_count::ApplyTimeCount,
        crd_before_plan::CrdBeforePlan,
        replace_needle_missing::ReplaceNeedleMissing,
    ],
    // Added with the validity rules (none here).
    [],
    // Live checks that only run with --aws.
    [
        name_already_exists::NameAlreadyExists,
    ],
}

use crate::diagnostic::Finding;
use crate::model::terraform::analysis::{Analysis, BlockAt, GateTerm};
use crate::model::workspace::Workspace;
use crate::source::Span;
use std::collections::BTreeMap;

/// At most one finding per block per rule: an error or warning wins over a note.
#[derive(Default)]
pub(crate) struct PerBlock {
    found: BTreeMap<(u32, u32, u32), Finding>,
}

impl PerBlock {
    /// Keep `f` for the block at `key` (its span) unless a stronger finding is there.
    pub fn put(&mut self, key: Span, f: Finding) {
        let k = (key.file.0, key.start, key.end);
        match self.found.get(&k) {
            Some(old) if old.severity >= f.severity => {}
            _ => {
                self.found.insert(k, f);
            }
        }
    }

    pub fn has_error(&self, key: Span) -> bool {
        self.found
            .get(&(key.file.0, key.start, key.end))
            .is_some_and(|f| f.severity > crate::diagnostic::Severity::Note)
    }

    pub fn into_vec(self) -> Vec<Finding> {
        self.found.into_values().collect()
    }
}

/// The block's whole span (its identity for [`PerBlock`]).
pub(crate) fn block_span(an: &Analysis, s: &Workspace, at: BlockAt) -> Span {
    let tf = s.terraform();
    an.module(tf, at.inst).blocks[at.block].span
}

/// The `count`/`for_each` attribute's span, or the block header.
pub(crate) fn gate_span(an: &Analysis, s: &Workspace, at: BlockAt) -> Span {
    match an.block(s, at).gate() {
        Some(g) => g.attr_span(),
        None => an.span(s, at, None),
    }
}

/// Terms in `want` missing from `have` (by qualified text).
pub(crate) fn missing_terms(want: &[GateTerm], have: &[GateTerm]) -> Vec<GateTerm> {
    want.iter()
        .filter(|w| !have.iter().any(|h| h.qualified == w.qualified))
        .cloned()
        .collect()
}

/// The text of a term as written in the instance `inst` (its qualified text without the
/// instance prefix), or the qualified text when it belongs elsewhere.
pub(crate) fn local_text(an: &Analysis, inst: usize, t: &GateTerm) -> String {
    let p = &an.insts[inst].prefix;
    t.qualified
        .strip_prefix(p.as_str())
        .filter(|rest| !rest.starts_with("module."))
        .unwrap_or(&t.qualified)
        .to_string()
}

/// The passes whose results are reported.
pub(crate) fn reported(an: &Analysis, pass: usize) -> bool {
    an.selected.contains(&pass)
}

/// Whether passes are declared.
pub(crate) fn has_passes(an: &Analysis) -> bool {
    an.passes.iter().any(|p| p.name.is_some())
}

#[cfg(test)]
pub(crate) mod fixtures {
    //! A small platform repository shared by the rules' tests.

    pub const EKS_MODULE: &str = r#"variable "cluster_name" {
  type = string
}

variable "enabled" {
  type    = bool
  default = true
}

resource "aws_eks_cluster" "this" {
  count    = var.enabled ? 1 : 0
  name     = var.cluster_name
  role_arn = "arn:aws:iam::123456789012:role/eks"
  vpc_config {
    subnet_ids = ["subnet-1"]
  }
}

output "cluster_name" {
  value = try(aws_eks_cluster.this[0].name, null)
}

output "cluster_endpoint" {
  value = try(aws_eks_cluster.this[0].endpoint, null)
}
"#;
}

#[cfg(test)]
mod layers {
    /// The Terraform, identity and IAM rules ask the model through its query face: none of
    /// them reads parsed files or syntax trees.
    #[test]
    fn terraform_identity_and_iam_rules_never_see_syntax() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/rules");
        let mut offending = Vec::new();
        for dir in ["terraform", "identity", "iam"] {
            for entry in std::fs::read_dir(root.join(dir)).expect("rules folder") {
                let path = entry.expect("entry").path();
                if path.extension().is_none_or(|e| e != "rs") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).expect("rule source");
                // Spelled in pieces so that this file does not match itself.
                let needles = [
                    ["crate::", "parse"].concat(),
                    ["hcl", "_edit"].concat(),
                    [".hcl", "("].concat(),
                    ["gate", "_attr"].concat(),
                ];
                for needle in &needles {
                    if text.contains(needle.as_str()) {
                        offending.push(format!("{}: {needle}", path.display()));
                    }
                }
            }
        }
        assert!(offending.is_empty(), "{offending:#?}");
    }
}
