//! Terraform HCL through `hcl-edit`, which keeps byte spans on every block, attribute and
//! expression.

use hcl_edit::Span as _;
use hcl_edit::structure::{Body, Structure};
use std::ops::Range;

/// A parse failure at a byte offset.
#[derive(Debug, Clone)]
pub struct HclError {
    pub offset: usize,
    pub message: String,
}

pub fn parse(text: &str) -> Result<Body, HclError> {
    hcl_edit::parser::parse_body(text).map_err(|e| HclError {
        offset: e.location().offset().min(text.len()),
        message: e.message().to_string(),
    })
}

/// Byte ranges of every block and attribute, nested ones included: the constructs an inline
/// suppression comment can precede.
pub fn construct_ranges(body: &Body, out: &mut Vec<Range<usize>>) {
    for structure in body.iter() {
        if let Some(span) = structure.span() {
            out.push(span);
        }
        if let Structure::Block(block) = structure {
            construct_ranges(&block.body, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_offset_points_into_the_text() {
        let text = "resource \"a\" \"b\" {\n  x = \n}\n";
        let err = parse(text).unwrap_err();
        assert!(err.offset <= text.len());
        assert!(!err.message.is_empty());
    }

    #[test]
    fn ranges_include_nested_blocks() {
        let text = "resource \"a\" \"b\" {\n  x = 1\n  lifecycle {\n    y = 2\n  }\n}\n";
        let body = parse(text).unwrap();
        let mut r = Vec::new();
        construct_ranges(&body, &mut r);
        assert_eq!(r.len(), 4);
    }
}
