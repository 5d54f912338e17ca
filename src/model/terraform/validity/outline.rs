//! A block's outline as written: identifiers, labels, attribute keys and nested blocks, each
//! with its byte range in the file. Views over the parsed file: nothing is copied, and no
//! syntax type is handed out.

use crate::model::terraform::address::{self, AddressError, ConfigAddress};
use crate::model::terraform::{BlockRef, TerraformModel};
use crate::repo::Repository;
use hcl_edit::Span as _;
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Attribute, Block, Body};
use std::ops::Range;

/// The top-level block a model block was read from, when its file parsed.
pub fn block<'r>(
    model: &TerraformModel,
    repo: &'r Repository,
    at: BlockRef,
) -> Option<BlockView<'r>> {
    model.hcl_block(repo, at).map(BlockView)
}

/// A block: `IDENT "LABEL" ... { BODY }`.
#[derive(Clone, Copy)]
pub struct BlockView<'a>(pub(super) &'a Block);

impl<'a> BlockView<'a> {
    /// The block type: `resource`, `dynamic`, `lifecycle`, ...
    pub fn ident(&self) -> &'a str {
        self.0.ident.as_str()
    }

    /// The byte range of the block type.
    pub fn ident_range(&self) -> Option<Range<usize>> {
        self.0.ident.span()
    }

    /// The `i`th label.
    pub fn label(&self, i: usize) -> Option<&'a str> {
        self.0.labels.get(i).map(|l| l.as_str())
    }

    /// The byte range of the `i`th label.
    pub fn label_range(&self, i: usize) -> Option<Range<usize>> {
        self.0.labels.get(i).and_then(|l| l.span())
    }

    pub fn body(&self) -> BodyView<'a> {
        BodyView(&self.0.body)
    }
}

/// The inside of a block.
#[derive(Clone, Copy)]
pub struct BodyView<'a>(&'a Body);

impl<'a> BodyView<'a> {
    /// The attributes, in written order.
    pub fn attributes(&self) -> impl Iterator<Item = AttrView<'a>> + use<'a> {
        self.0.attributes().map(AttrView)
    }

    /// The nested blocks, in written order.
    pub fn blocks(&self) -> impl Iterator<Item = BlockView<'a>> + use<'a> {
        self.0.blocks().map(BlockView)
    }

    /// The attribute named `key`.
    pub fn attribute(&self, key: &str) -> Option<AttrView<'a>> {
        self.0.get_attribute(key).map(AttrView)
    }
}

/// An attribute: `KEY = EXPRESSION`.
#[derive(Clone, Copy)]
pub struct AttrView<'a>(&'a Attribute);

impl<'a> AttrView<'a> {
    pub fn key(&self) -> &'a str {
        self.0.key.as_str()
    }

    /// The byte range of the key.
    pub fn key_range(&self) -> Option<Range<usize>> {
        self.0.key.span()
    }

    /// The byte range of the value's expression.
    pub fn value_range(&self) -> Option<Range<usize>> {
        self.0.value.span()
    }

    /// The value read as a configuration address (`moved`, `import`, `removed`).
    pub fn config_address(&self) -> Result<ConfigAddress, AddressError> {
        address::parse(&self.0.value)
    }

    /// The name a value that is a bare name or a traversal starts with: `aws` in
    /// `provider = aws.west`.
    pub fn root_name(&self) -> Option<&'a str> {
        match &self.0.value {
            Expression::Variable(v) => Some(v.as_str()),
            Expression::Traversal(t) => Some(t.expr.as_variable()?.as_str()),
            _ => None,
        }
    }
}
