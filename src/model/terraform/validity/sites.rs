//! Attribute sites: every attribute expression inside a module's top-level blocks, with
//! where it sits (the nested blocks around it, the `dynamic` iterators in scope) and what it
//! references and calls.

use super::outline::BlockView;
use crate::model::terraform::TfModule;
use crate::model::terraform::expr::{FunctionCallRef, Reference, function_calls, references};
use crate::model::terraform::scope::Scope;
use crate::repo::Repository;
use crate::source::FileId;
use hcl_edit::Span as _;
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Block, Body};
use std::ops::Range;

/// The address of a top-level block as Terraform names it, from its syntax.
pub fn block_address(block: BlockView<'_>) -> String {
    let label = |i: usize| block.label(i).unwrap_or_default().to_string();
    match block.ident() {
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
pub struct Site<'a> {
    pub file: FileId,
    /// The top-level block holding it.
    pub top: BlockView<'a>,
    /// Identifiers of the nested blocks between the top-level block and the attribute.
    pub path: Vec<&'a str>,
    pub key: &'a str,
    /// Names bound by enclosing `dynamic` blocks (their label or `iterator`).
    pub iterators: Vec<String>,
    expr: &'a Expression,
}

impl Site<'_> {
    /// The address findings at this site carry: the block's, or `local.NAME` in `locals`.
    pub fn address(&self) -> String {
        if self.top.ident() == "locals" && self.path.is_empty() {
            format!("local.{}", self.key)
        } else {
            block_address(self.top)
        }
    }

    /// The references the expression makes, in written order.
    pub fn references(&self) -> Vec<Reference> {
        references(self.expr)
    }

    /// The function calls the expression makes, in written order.
    pub fn function_calls(&self) -> Vec<FunctionCallRef> {
        function_calls(self.expr)
    }

    /// The byte range of the expression.
    pub fn value_range(&self) -> Option<Range<usize>> {
        self.expr.span()
    }

    /// What `each`, `count` and `self` may mean here.
    pub fn scope(&self) -> Scope {
        Scope::of(self.top.0, &self.path)
    }

    /// Whether the attribute's expression is not made of references: type constraints,
    /// provider references, `ignore_changes` attribute names, a `dynamic` block's
    /// `iterator` name, provisioner keywords (`when = destroy`), and the addresses of `moved`, `removed` and `import` blocks (which
    /// may name objects that are gone on purpose; `invalid-config-address` reads them).
    pub fn holds_no_references(&self) -> bool {
        let top = self.top.ident();
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
        self.top.ident() == "variable" && self.path.is_empty() && self.key == "type"
    }
}

/// Every attribute expression of every top-level block of the module's files, in file order.
pub fn sites<'a>(repo: &'a Repository, module: &TfModule) -> Vec<Site<'a>> {
    let mut out = Vec::new();
    for &file in &module.files {
        let Some(body) = crate::parse::hcl_body(repo.syntax(file)) else {
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
            top: BlockView(top),
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
