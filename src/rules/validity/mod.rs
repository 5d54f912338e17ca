//! Terraform validity offline: what `terraform validate` (and `terraform init`) would reject,
//! found from the files alone, without providers or network.
//!
//! Every rule here reports only for modules in scope: the modules under the named paths plus
//! every module reachable from a root under them. A module shared by several roots is
//! checked once.

pub mod bad_function_call;
pub mod constant_condition;
pub mod duplicate_declaration;
pub mod invalid_config_address;
pub mod invalid_reference;
pub mod missing_instance_key;
pub mod module_source;
pub mod reference_cycle;
pub mod reserved_name;
pub mod undefined_reference;
pub mod unknown_argument;
pub mod unknown_module_argument;

// The first release, then rules added later (see `declare_domain!`).
crate::rules::declare_domain! {
    [
        unknown_module_argument::UnknownModuleArgument,
        undefined_reference::UndefinedReference,
        reserved_name::ReservedName,
        constant_condition::ConstantCondition,
        bad_function_call::BadFunctionCall,
        duplicate_declaration::DuplicateDeclaration,
        module_source::ModuleSourceRule,
    ],
    // Added after the first release.
    [
        invalid_reference::InvalidReferenceRule,
        missing_instance_key::MissingInstanceKey,
        invalid_config_address::InvalidConfigAddress,
        unknown_argument::UnknownArgument,
        reference_cycle::ReferenceCycle,
    ],
}

use crate::model::terraform::ModuleId;
use crate::model::workspace::Workspace;
use crate::repo::Repository;
use crate::source::{FileId, Span};
use std::collections::BTreeSet;
use std::ops::Range;

pub(crate) use crate::model::terraform::validity::{complete, is_override_file, sites};

/// The modules to report on: every module reachable from the roots in scope (see
/// [`Workspace::terraform_roots`]: roots under the named paths, roots that reach a named
/// module or file, and named modules no root calls), each once, in id order.
pub(crate) fn scoped_modules(session: &Workspace) -> Vec<ModuleId> {
    let model = session.terraform();
    let mut out = BTreeSet::new();
    for &root in session.terraform_roots() {
        out.extend(model.reachable(root));
    }
    out.into_iter().collect()
}

/// A span in a file from an optional byte range; `fallback` when the syntax has none.
pub(crate) fn span_or(
    repo: &Repository,
    file: FileId,
    range: Option<Range<usize>>,
    fallback: Span,
) -> Span {
    range.map_or(fallback, |r| repo.file(file).span(r))
}

/// Levenshtein distance between two short names.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The candidate closest to `name`, when it is close enough to be a likely typo or rename:
/// a small edit distance, or a long common prefix (`replica_count` → `replicas`).
pub(crate) fn closest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    // Names from hostile files can be huge: no suggestion past a sane identifier length.
    if name.len() > 128 {
        return None;
    }
    let limit = (name.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, c)| *d <= limit || similar_prefix(name, c))
        .min()
        .map(|(_, c)| c)
}

/// Whether two names share a prefix covering most of the shorter one.
fn similar_prefix(a: &str, b: &str) -> bool {
    let common = a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
    let shorter = a.chars().count().min(b.chars().count());
    common >= 3 && common * 5 >= shorter * 3
}

/// A block label or name Terraform accepts: a letter or underscore, then letters, digits,
/// underscores and dashes.
pub(crate) fn valid_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_alphabetic() || c == '_' => {}
        _ => return false,
    }
    chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_and_suggestions() {
        assert_eq!(edit_distance("regoin", "region"), 2);
        assert_eq!(closest("regoin", ["region", "zone"]), Some("region"));
        assert_eq!(closest("vpc_id", ["cluster_name"]), None);
        assert_eq!(
            closest("replica_count", ["name", "replicas"]),
            Some("replicas")
        );
        assert_eq!(closest("vpc", ["vpc_id", "subnets"]), Some("vpc_id"));
        assert_eq!(closest("name", ["tags"]), None);
        assert!(valid_identifier("my-bucket_1"));
        assert!(!valid_identifier("1bucket"));
        assert!(!valid_identifier("my.bucket"));
    }
}
