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

use crate::model::terraform::{ModuleId, TfModule};
use crate::model::workspace::Workspace;
use crate::parse::Syntax;
use crate::repo::Repository;
use crate::source::{FileId, Span};
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Block, Body};
use std::collections::BTreeSet;
use std::ops::Range;

/// The modules to report on: every module reachable from the roots in scope (see
/// [`Session::terraform_roots`]: roots under the named paths, roots that reach a named
/// module or file, and named modules no root calls), each once, in id order.
pub(crate) fn scoped_modules(session: &Workspace) -> Vec<ModuleId> {
    let model = session.terraform();
    let mut out = BTreeSet::new();
    for &root in session.terraform_roots() {
        out.extend(model.reachable(root));
    }
    out.into_iter().collect()
}

/// Whether every file of the module parsed and none of its configuration lives in a form
/// preflight does not read (`.tf.json`): only then is "not declared" a fact.
pub(crate) fn complete(repo: &Repository, module: &TfModule) -> bool {
    let all_hcl = module
        .files
        .iter()
        .all(|f| matches!(repo.syntax(*f), Syntax::Hcl(_)));
    let json = repo
        .files_in_dir(&module.dir)
        .any(|p| p.ends_with(".tf.json"));
    all_hcl && !json
}

/// The parsed body of a Terraform file.
pub(crate) fn body(repo: &Repository, file: FileId) -> Option<&Body> {
    crate::parse::hcl_body(repo.syntax(file))
}

/// Whether a file is a Terraform override file, merged into the blocks it repeats.
pub(crate) fn is_override_file(repo: &Repository, file: FileId) -> bool {
    let name = repo.file(file).rel_path.rsplit('/').next().unwrap_or("");
    name == "override.tf" || name.ends_with("_override.tf")
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

/// The address of a top-level block as Terraform names it, from its syntax.
pub(crate) fn block_address(block: &Block) -> String {
    let label = |i: usize| {
        block
            .labels
            .get(i)
            .map(|l| l.as_str().to_string())
            .unwrap_or_default()
    };
    match block.ident.as_str() {
        "resource" => format!("{}.{}", label(0), label(1)),
        "data" => format!("data.{}.{}", label(0), label(1)),
        "module" => format!("module.{}", label(0)),
        "variable" => format!("var.{}", label(0)),
        "output" => format!("output.{}", label(0)),
        "provider" => format!("provider.{}", label(0)),
        "check" => format!("check.{}", label(0)),
        other => other.to_string(),
    }
}

/// One attribute expression somewhere inside a top-level block.
pub(crate) struct Site<'a> {
    pub file: FileId,
    /// The top-level block holding it.
    pub top: &'a Block,
    /// Identifiers of the nested blocks between the top-level block and the attribute.
    pub path: Vec<&'a str>,
    pub key: &'a str,
    pub expr: &'a Expression,
    /// Names bound by enclosing `dynamic` blocks (their label or `iterator`).
    pub iterators: Vec<String>,
}

impl Site<'_> {
    /// The address findings at this site carry: the block's, or `local.NAME` in `locals`.
    pub fn address(&self) -> String {
        if self.top.ident.as_str() == "locals" && self.path.is_empty() {
            format!("local.{}", self.key)
        } else {
            block_address(self.top)
        }
    }

    /// Whether the attribute's expression is not made of references: type constraints,
    /// provider references, `ignore_changes` attribute names, a `dynamic` block's
    /// `iterator` name, provisioner keywords (`when = destroy`), and the addresses of `moved`, `removed` and `import` blocks (which
    /// may name objects that are gone on purpose; `invalid-config-address` reads them).
    pub fn holds_no_references(&self) -> bool {
        let top = self.top.ident.as_str();
        let at_top = self.path.is_empty();
        if self.key == "iterator" && self.path.last() == Some(&"dynamic") {
            return true;
        }
        // Keywords: `provisioner { when = destroy, on_failure = continue }`, and the
        // events of a lifecycle `action_trigger`.
        if (self.path.last() == Some(&"provisioner") && matches!(self.key, "when" | "on_failure"))
            || self.path.contains(&"action_trigger")
        {
            return true;
        }
        match top {
            "terraform" | "moved" | "removed" => true,
            "import" => matches!(self.key, "to" | "provider"),
            "variable" => at_top && matches!(self.key, "type" | "default"),
            "module" => at_top && matches!(self.key, "source" | "version" | "providers"),
            "check" => self.key == "provider" && self.path == ["data"],
            "resource" | "data" => {
                (at_top && self.key == "provider")
                    || (self.path.last() == Some(&"lifecycle") && self.key == "ignore_changes")
            }
            _ => false,
        }
    }

    /// Whether this is a variable's type constraint (`list(string)` is not a call or a
    /// reference).
    pub fn is_type_constraint(&self) -> bool {
        self.top.ident.as_str() == "variable" && self.path.is_empty() && self.key == "type"
    }
}

/// Every attribute expression of every top-level block of the module's files, in file order.
pub(crate) fn sites<'a>(repo: &'a Repository, module: &TfModule) -> Vec<Site<'a>> {
    let mut out = Vec::new();
    for &file in &module.files {
        let Some(body) = body(repo, file) else {
            continue;
        };
        for top in body.blocks() {
            walk(
                file,
                top,
                &top.body,
                &mut Vec::new(),
                &mut Vec::new(),
                &mut out,
            );
        }
    }
    out
}

const MAX_DEPTH: usize = 64;

fn walk<'a>(
    file: FileId,
    top: &'a Block,
    body: &'a Body,
    path: &mut Vec<&'a str>,
    iterators: &mut Vec<String>,
    out: &mut Vec<Site<'a>>,
) {
    if path.len() > MAX_DEPTH {
        return;
    }
    for attr in body.attributes() {
        out.push(Site {
            file,
            top,
            path: path.clone(),
            key: attr.key.as_str(),
            expr: &attr.value,
            iterators: iterators.clone(),
        });
    }
    for block in body.blocks() {
        let ident = block.ident.as_str();
        let bound = if ident == "dynamic" {
            let name = block
                .body
                .get_attribute("iterator")
                .and_then(|a| a.value.as_variable())
                .map(|v| v.as_str().to_string())
                .or_else(|| block.labels.first().map(|l| l.as_str().to_string()));
            name.map(|n| iterators.push(n)).is_some()
        } else {
            false
        };
        path.push(ident);
        walk(file, top, &block.body, path, iterators, out);
        path.pop();
        if bound {
            iterators.pop();
        }
    }
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
