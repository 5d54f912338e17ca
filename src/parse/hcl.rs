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
    with_parser_stack(text, parse_here).unwrap_or_else(|| {
        Err(HclError {
            offset: 0,
            message: "too deeply nested to parse here (no thread for a larger stack)".into(),
        })
    })
}

/// Parse an expression (`None`: it does not parse). Every HCL parse of text preflight did
/// not write goes through here or [`parse`], for the stack.
pub fn parse_expression(text: &str) -> Option<hcl_edit::expr::Expression> {
    with_parser_stack(text, |t| t.parse::<hcl_edit::expr::Expression>().ok()).flatten()
}

/// Parse a template (a `templatefile()` file's text).
pub fn parse_template(text: &str) -> Result<hcl_edit::template::Template, String> {
    with_parser_stack(text, |t| {
        hcl_edit::parser::parse_template(t).map_err(|e| e.to_string())
    })
    .unwrap_or_else(|| Err("too deeply nested to parse here".into()))
}

/// Run a parse of `text`: here when the text is shallow, else on a thread whose stack fits
/// the parser's nesting limit (the parser recurses once per level; its limit is 256, see
/// vendor/hcl-edit/PATCHES.md). `None` when no such thread could be started.
fn with_parser_stack<T: Send>(text: &str, parse: impl FnOnce(&str) -> T + Send) -> Option<T> {
    if max_nesting(text) <= SHALLOW {
        return Some(parse(text));
    }
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("hcl-deep".into())
            .stack_size(DEEP_STACK)
            .spawn_scoped(scope, || parse(text))
            .ok()
            .and_then(|handle| handle.join().ok())
    })
}

/// Whether a parse stopped at the parser's nesting or operator-chain limit rather than at
/// a syntax error: Terraform has no such limit, so the text may well be valid.
pub fn is_limit(e: &HclError) -> bool {
    e.message.contains("nested levels") || e.message.contains("chained binary operators")
}

/// Nesting up to which a file is parsed on the calling thread's stack.
const SHALLOW: usize = 24;
/// Stack for deeply nested files: the parser's nesting limit at a few tens of KiB per level
/// in an unoptimised build, with room to spare (reserved, touched only as used).
const DEEP_STACK: usize = 64 << 20;

fn parse_here(text: &str) -> Result<Body, HclError> {
    hcl_edit::parser::parse_body_spanned(text).map_err(|e| HclError {
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

/// The parts of a file that does not parse that can still be read: the file with its
/// unreadable top-level constructs blanked (their bytes replaced by spaces, line breaks
/// kept, so every span stays a position of the file), parsed. A top-level construct starts
/// on a line that begins, at column 0, with an identifier (`resource "a" "b" {`,
/// `name = …` in a `.tfvars` file). Going back from the construct holding the error, the
/// first whose blanking lets the parser get past it is blanked; repeated while errors
/// remain, within a bounded number of parses. `None` when nothing readable remains.
pub fn recover(text: &str, first: &HclError) -> Option<Recovered> {
    // Bounded work: at most this many parses of a file of at most this size.
    const MAX_PARSES: usize = 32;
    const MAX_BYTES: usize = 256 << 10;
    if text.len() > MAX_BYTES {
        return None;
    }
    let chunks = top_level_chunks(text);
    if chunks.len() < 2 {
        return None;
    }
    let mut blanked = vec![false; chunks.len()];
    let mut err = first.clone();
    let mut parses = 0;
    loop {
        let at = chunks
            .iter()
            .rposition(|c| c.start <= err.offset)
            .unwrap_or(0);
        let mut progressed = false;
        // Constructs whose brackets do not balance first (an unclosed brace swallows the
        // constructs after it), nearest first; then the others, nearest first.
        let mut order: Vec<usize> = (0..=at).rev().filter(|&j| !blanked[j]).collect();
        order.sort_by_key(|&j| balanced(&text[chunks[j].clone()]));
        for j in order {
            if parses >= MAX_PARSES {
                return None;
            }
            parses += 1;
            blanked[j] = true;
            match parse(&blank(text, &chunks, &blanked)) {
                Ok(body) => {
                    if blanked.iter().all(|b| *b) {
                        return None;
                    }
                    let unread = chunks
                        .iter()
                        .zip(&blanked)
                        .filter(|(_, b)| **b)
                        .map(|(c, _)| c.clone())
                        .collect();
                    return Some(Recovered { body, unread });
                }
                Err(e) if e.offset >= chunks[j].end && e.offset > err.offset => {
                    err = e;
                    progressed = true;
                    break;
                }
                Err(_) => blanked[j] = false,
            }
        }
        if !progressed {
            return None;
        }
    }
}

/// What [`recover`] could read.
#[derive(Debug, Clone)]
pub struct Recovered {
    pub body: Body,
    /// Byte ranges of the top-level constructs that were not read.
    pub unread: Vec<Range<usize>>,
}

fn top_level_chunks(text: &str) -> Vec<Range<usize>> {
    let mut starts = vec![0usize];
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if offset > 0 && line.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
            starts.push(offset);
        }
        offset += line.len();
    }
    let mut chunks: Vec<Range<usize>> = starts.windows(2).map(|w| w[0]..w[1]).collect();
    if let Some(&last) = starts.last() {
        chunks.push(last..text.len());
    }
    chunks
}

/// Whether a construct's braces, brackets and parentheses balance, outside strings and
/// comments (roughly: interpolations in strings are not followed).
fn balanced(chunk: &str) -> bool {
    let b = chunk.as_bytes();
    let (mut depth, mut i, mut in_str) = (0i64, 0, false);
    while i < b.len() {
        match b[i] {
            b'\\' if in_str => i += 1,
            b'"' => in_str = !in_str,
            b'\n' => in_str = false,
            b'#' if !in_str => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if !in_str && b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'{' | b'[' | b'(' if !in_str => depth += 1,
            b'}' | b']' | b')' if !in_str => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    depth == 0 && !in_str
}

fn blank(text: &str, chunks: &[Range<usize>], blanked: &[bool]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    for (c, _) in chunks.iter().zip(blanked).filter(|(_, b)| **b) {
        out.push_str(&text[pos..c.start]);
        for ch in text[c.clone()].chars() {
            match ch {
                '\n' | '\r' => out.push(ch),
                // Same byte length, so every later offset is unchanged.
                _ => out.extend(std::iter::repeat_n(' ', ch.len_utf8())),
            }
        }
        pos = c.end;
    }
    out.push_str(&text[pos..]);
    out
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

    /// The sizes the vendored parser's compact spans and decoration give (see
    /// vendor/hcl-edit/PATCHES.md): a parsed tree holds many of each.
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn tree_nodes_stay_compact() {
        use hcl_edit::expr::{Expression, TraversalOperator};
        use hcl_edit::structure::Attribute;
        use hcl_edit::{Decor, Decorated, Ident};
        use std::mem::size_of;
        assert_eq!(size_of::<Decor>(), 16);
        assert_eq!(size_of::<Decorated<Ident>>(), 48);
        assert_eq!(size_of::<Expression>(), 72);
        assert_eq!(size_of::<Decorated<TraversalOperator>>(), 96);
        assert_eq!(size_of::<Attribute>(), 144);
        assert_eq!(size_of::<Structure>(), 152);
    }

    #[test]
    fn decoration_prints_as_upstream() {
        // A parsed body prints the default decoration where it has whitespace or comments
        // (their text is not kept), an expression parsed from a string prints its own, and
        // decoration set by hand prints as set.
        let mut body = parse("a  =  [1 ,2] # c\nb = f( x )\n").unwrap();
        assert_eq!(body.to_string(), "a = [1,2]\nb = f(x)\n");
        let mut e: hcl_edit::expr::Expression = "[ 1 , /* two */ 2 ]".parse().unwrap();
        assert_eq!(e.to_string(), "[ 1 , /* two */ 2 ]");
        use hcl_edit::Decorate as _;
        e.decor_mut().set_prefix("  ");
        assert_eq!(e.to_string(), "  [ 1 , /* two */ 2 ]");
        if let Some(mut a) = body.attributes_mut().next() {
            a.decor_mut().set_suffix(" # kept");
        }
        assert_eq!(body.to_string(), "a = [1,2] # kept\nb = f(x)\n");
    }

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
    fn recovery_reads_every_top_level_construct_but_the_broken_one() {
        let text = "variable \"a\" {}\n\nresource \"x\" \"broken\" {\n  name = \"b\n}\n\nresource \"x\" \"unclosed\" {\n  tags = {\n}\n\noutput \"o\" {\n  value = var.a\n}\n";
        let err = parse(text).unwrap_err();
        let r = recover(text, &err).expect("recovers");
        let names: Vec<String> = r
            .body
            .iter()
            .filter_map(|s| s.as_block())
            .map(|b| b.ident.as_str().to_string())
            .collect();
        assert_eq!(names, ["variable", "output"]);
        let unread: Vec<&str> = r
            .unread
            .iter()
            .map(|u| text[u.clone()].lines().next().unwrap())
            .collect();
        assert_eq!(
            unread,
            [
                "resource \"x\" \"broken\" {",
                "resource \"x\" \"unclosed\" {"
            ]
        );
        // An unclosed brace at the end: the construct before the last is the broken one.
        let text2 = "variable \"a\" {}\n\nresource \"x\" \"unclosed\" {\n  tags = {\n}\n\nvariable \"b\" {}\n\nvariable \"c\" {}\n";
        let r2 = recover(text2, &parse(text2).unwrap_err()).expect("recovers");
        assert_eq!(r2.body.iter().filter_map(|s| s.as_block()).count(), 3);
        // Spans stay positions of the file.
        let out = r.body.iter().filter_map(|s| s.as_block()).nth(1).unwrap();
        assert!(text[out.span().unwrap()].starts_with("output \"o\""));
    }

    #[test]
    fn nesting_past_the_limit_is_told_apart() {
        let deep = format!(
            "locals {{\n  y = {}1{}\n}}\n",
            "(".repeat(300),
            ")".repeat(300)
        );
        let e = parse(&deep).unwrap_err();
        assert!(is_limit(&e), "{e:?}");
        let chain = format!("locals {{\n  c = {}\n}}\n", vec!["1"; 1100].join(" + "));
        assert!(is_limit(&parse(&chain).unwrap_err()));
        assert!(!is_limit(&parse("locals {\n  a = (1\n}\n").unwrap_err()));
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
