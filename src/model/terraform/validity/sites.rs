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
use hcl_edit::structure::{Block, Body, Structure};
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

/// Every attribute expression of every top-level block of the module's files, in file order
/// (in each block, its attributes and then its nested blocks', depth first). Sites are made
/// one at a time as the caller asks, so no list of every attribute of a module is held, and
/// the walk keeps its nesting on the heap, not the stack.
pub fn sites<'a>(repo: &'a Repository, module: &TfModule) -> Sites<'a> {
    Sites {
        repo,
        files: module.files.clone().into_iter(),
        tops: None,
        frames: Vec::new(),
        path: Vec::new(),
        iterators: Vec::new(),
    }
}

/// Nested blocks deeper than this are not walked.
const MAX_DEPTH: usize = 64;

/// The iterator [`sites`] returns.
pub struct Sites<'a> {
    repo: &'a Repository,
    files: std::vec::IntoIter<FileId>,
    /// The file being walked, its body, and where its next top-level block is looked for.
    tops: Option<(FileId, &'a Body, usize)>,
    /// The bodies being walked, the top-level block's first.
    frames: Vec<Frame<'a>>,
    /// Identifiers of the nested blocks of the frames after the first.
    path: Vec<&'a str>,
    /// Names bound by the `dynamic` blocks among them.
    iterators: Vec<String>,
}

/// One body being walked: its attributes first, then its blocks.
struct Frame<'a> {
    top: &'a Block,
    body: &'a Body,
    /// Where the next attribute, and the next block, are looked for.
    attr: usize,
    block: usize,
    /// Whether the block of this body bound a name (pushed onto `iterators`).
    bound: bool,
}

/// The next structure of `body` from `*at` on that `pick` accepts; `*at` moves past it.
fn next_in<'a, T>(
    body: &'a Body,
    at: &mut usize,
    pick: fn(&'a Structure) -> Option<&'a T>,
) -> Option<&'a T> {
    while let Some(s) = body.get(*at) {
        *at += 1;
        if let Some(t) = pick(s) {
            return Some(t);
        }
    }
    None
}

impl<'a> Iterator for Sites<'a> {
    type Item = Site<'a>;

    fn next(&mut self) -> Option<Site<'a>> {
        loop {
            if let Some(f) = self.frames.last_mut() {
                let (top, body) = (f.top, f.body);
                if let Some(attr) = next_in(body, &mut f.attr, Structure::as_attribute) {
                    let (file, ..) = self.tops?;
                    return Some(Site {
                        file,
                        top: BlockView(top),
                        path: self.path.clone(),
                        key: attr.key.as_str(),
                        expr: &attr.value,
                        iterators: self.iterators.clone(),
                    });
                }
                match next_in(body, &mut f.block, Structure::as_block) {
                    Some(block) => self.enter(top, block),
                    None => self.leave(),
                }
            } else if let Some(top) = self
                .tops
                .as_mut()
                .and_then(|(_, body, at)| next_in(body, at, Structure::as_block))
            {
                self.frames.push(Frame {
                    top,
                    body: &top.body,
                    attr: 0,
                    block: 0,
                    bound: false,
                });
            } else {
                let file = self.files.next()?;
                self.tops = crate::parse::hcl_body(self.repo.syntax(file)).map(|b| (file, b, 0));
            }
        }
    }
}

impl<'a> Sites<'a> {
    /// Walk into a nested block of the current frame's body, unless it is too deep.
    fn enter(&mut self, top: &'a Block, block: &'a Block) {
        if self.path.len() >= MAX_DEPTH {
            return;
        }
        let ident = block.ident.as_str();
        let bound = if ident == "dynamic" {
            let name = block
                .body
                .get_attribute("iterator")
                .and_then(|a| a.value.as_variable())
                .map(|v| v.as_str().to_string())
                .or_else(|| block.labels.first().map(|l| l.as_str().to_string()));
            name.map(|n| self.iterators.push(n)).is_some()
        } else {
            false
        };
        self.path.push(ident);
        self.frames.push(Frame {
            top,
            body: &block.body,
            attr: 0,
            block: 0,
            bound,
        });
    }

    /// The current frame's body is done: back to its parent's.
    fn leave(&mut self) {
        if let Some(done) = self.frames.pop()
            && !self.frames.is_empty()
        {
            self.path.pop();
            if done.bound {
                self.iterators.pop();
            }
        }
    }
}
