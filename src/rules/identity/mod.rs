//! Rules about identities: what Terraform names versus what GitOps files and other roots
//! assume (cluster names, role ARNs, secrets, hosted zones), and ownership clashes between
//! roots. They ask the environments and identities models.

pub mod duplicate_access_entry;
pub mod duplicate_physical_name;
pub mod hardcoded_identity;
pub mod policy_resource_gap;
pub mod unknown_domain_filter;
pub mod unmanaged_secret;

crate::rules::declare_domain! {
    [
        hardcoded_identity::HardcodedIdentity,
        unknown_domain_filter::UnknownDomainFilter,
        unmanaged_secret::UnmanagedSecret,
        policy_resource_gap::PolicyResourceGap,
        duplicate_physical_name::DuplicatePhysicalName,
        duplicate_access_entry::DuplicateAccessEntry,
    ],
}

use crate::model::terraform::analysis::{Analysis, BlockAt};
use crate::model::workspace::Workspace;
use crate::source::Span;

/// The span of a block's attribute value (`path` may be `nested.key`), or its header.
pub(crate) fn attr_span(an: &Analysis, s: &Workspace, at: BlockAt, path: &str) -> Span {
    match an.block(s, at).arg_path(path) {
        Some(a) => a.span(),
        None => an.span(s, at, None),
    }
}

/// The folder of the root an instance belongs to.
pub(crate) fn root_dir(an: &Analysis, s: &Workspace, inst: usize) -> String {
    let dir = &an.module(s.terraform(), an.insts[inst].root).dir;
    if dir.is_empty() {
        ".".to_string()
    } else {
        dir.clone()
    }
}
