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
    if max_nesting(text) <= SHALLOW {
        return parse_here(text);
    }
    // The parser recurses once per nesting level (its limit is 256, see
    // vendor/hcl-edit/PATCHES.md): deeply nested text gets a stack sized for that limit.
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("hcl-deep".into())
            .stack_size(DEEP_STACK)
            .spawn_scoped(scope, || parse_here(text))
            .ok()
            .and_then(|handle| handle.join().ok())
            .unwrap_or_else(|| {
                Err(HclError {
                    offset: 0,
                    message: "too deeply nested to parse here (no thread for a larger stack)"
                        .into(),
                })
            })
    })
}

/// Nesting up to which a file is parsed on the calling thread's stack.
const SHALLOW: usize = 24;
/// Stack for deeply nested files: the parser's nesting limit at a few tens of KiB per level
/// in an unoptimised build, with room to spare (reserved, touched only as used).
const DEEP_STACK: usize = 64 << 20;

fn parse_here(text: &str) -> Result<Body, HclError> {
    hcl_edit::parser::parse_body(text).map_err(|e| HclError {
        offset: e.location().offset().min(text.len()),
        message: e.message().to_string(),
    })
}

/// An upper bound on the text's nesting: brackets, braces, parentheses and interpolations
/// open at once, counted without regard to strings or comments.
fn max_nesting(text: &str) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    for b in text.bytes() {
        match b {
            b'(' | b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
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

    #[test]
    fn repeated_object_keys_parse_and_the_last_wins() {
        let text =
            "locals {\n  tags = {\n    Name = \"a\"\n    Team = \"x\"\n    Name = \"b\"\n  }\n}\n";
        let body = parse(text).expect("Terraform accepts a repeated key");
        let locals = body.get(0).and_then(|s| s.as_block()).unwrap();
        let attr = locals.body.get(0).and_then(|s| s.as_attribute()).unwrap();
        let hcl_edit::expr::Expression::Object(obj) = &attr.value else {
            panic!("an object")
        };
        assert_eq!(obj.len(), 2);
        let (_, name) = obj.iter().next().unwrap();
        assert_eq!(name.expr().as_str(), Some("b"));
    }

    #[test]
    fn nesting_and_operator_chains_terraform_accepts_parse() {
        let parens = format!(
            "locals {{\n  deep = {}1{}\n}}\n",
            "(".repeat(64),
            ")".repeat(64)
        );
        let objects = format!(
            "locals {{\n  o = {}1{}\n}}\n",
            "{ a = ".repeat(100),
            "}".repeat(100)
        );
        let chain = format!("locals {{\n  chain = {}\n}}\n", vec!["1"; 130].join(" + "));
        for text in [&parens, &objects, &chain] {
            if let Err(e) = parse(text) {
                panic!("{e:?}");
            }
        }
        let too_deep = format!(
            "locals {{\n  deep = {}1{}\n}}\n",
            "(".repeat(300),
            ")".repeat(300)
        );
        assert!(parse(&too_deep).is_err());
    }
}
