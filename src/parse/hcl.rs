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
    parse_split(text, pieces_for(text.len(), rayon::current_num_threads()))
}

/// Parse `text` in `pieces` pieces on rayon's threads when it can be cut so (see
/// [`parse_in_pieces`]), else whole: the same body either way, and a text that does not parse
/// is always parsed whole, for the whole parse's error.
fn parse_split(text: &str, pieces: usize) -> Result<Body, HclError> {
    if pieces >= 2
        && let Some(body) = parse_in_pieces(text, pieces)
    {
        return Ok(body);
    }
    parse_whole(text)
}

fn parse_whole(text: &str) -> Result<Body, HclError> {
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

/// The least size of a piece: texts of twice this size and more are parsed in pieces (a
/// piece of this size takes the parser about 8 ms, against microseconds of splitting and
/// joining).
const PIECE_MIN: usize = 256 << 10;
/// Pieces per thread: more than one, so that a thread busy with other files leaves its share
/// of a big file to the others.
const PIECES_PER_THREAD: usize = 2;

/// How many pieces a text of `len` bytes is parsed in (below 2: whole).
fn pieces_for(len: usize, threads: usize) -> usize {
    if threads < 2 {
        return 1;
    }
    (len / PIECE_MIN).min(threads * PIECES_PER_THREAD)
}

/// Parse `text` in about `pieces` pieces, cut where [`cut_points`] finds places, in parallel,
/// and join them into the body of the whole text's parse (`hcl_edit::parser::join_bodies`).
/// `None` when the text cannot be cut or some piece does not parse.
///
/// Why no cut can change the tree: a piece is parsed by
/// `hcl_edit::parser::parse_body_spanned_range`, which runs the body parser's steps on the
/// whole text from the piece's start and succeeds only when a top-level structure's line
/// ending ends exactly at the piece's end. The parser sees the same text as the whole parse
/// (nothing ends where the piece ends), and at the top level after a line ending it keeps
/// no state but the attribute keys seen, which the join checks across pieces. So the first
/// piece's structures are the whole parse's first structures, and the whole parse is at the
/// top level at the second piece's start, and so on: when every piece parses, the join is the
/// whole parse. A wrong cut (in a heredoc, a comment, a multi-line expression, a block whose
/// `}` is at column 0) leaves a structure running past it or ending before it, so the piece
/// before it fails and the text is parsed whole, for the whole parse's result and error.
/// The cutter's choice of places only makes such a failure rare.
fn parse_in_pieces(text: &str, pieces: usize) -> Option<Body> {
    parse_at_cuts(text, &cut_points(text, pieces))
}

/// Parse the pieces between consecutive `cuts` (offsets of line starts, first 0, last
/// `text.len()`, at least one between) in parallel and join them; `None` if one does not
/// parse.
fn parse_at_cuts(text: &str, cuts: &[usize]) -> Option<Body> {
    use rayon::prelude::*;
    if cuts.len() < 3 {
        return None;
    }
    // A piece's parse may run past its end (a structure that crosses a wrong cut), so the
    // stack it needs is told by the nesting from its start to the end of the text; counted
    // from any start that nesting is at most the whole text's (the count saturates at zero),
    // so a shallow text needs no further count.
    let shallow = max_nesting(text) <= SHALLOW;
    let bodies: Option<Vec<Body>> = cuts
        .par_windows(2)
        .map(|w| {
            let range = w[0]..w[1];
            let parse = |_: &str| hcl_edit::parser::parse_body_spanned_range(text, range.clone());
            if shallow {
                return parse(text);
            }
            with_parser_stack(text.get(w[0]..)?, parse).flatten()
        })
        .collect();
    hcl_edit::parser::join_bodies(bodies?)
}

/// Offsets `0 = c0 < c1 < … < cn = text.len()` cutting `text` into at most `pieces` pieces of
/// about equal size: each inner cut is the first place at or after an equal share's end
/// that [`next_cut`] finds. Fewer cuts where none follows a share's end. One pass over the
/// text at most.
fn cut_points(text: &str, pieces: usize) -> Vec<usize> {
    let len = text.len();
    let mut cuts = vec![0];
    let share = len / pieces.max(1);
    let mut from = 0;
    for k in 1..pieces {
        let Some(cut) = next_cut(text, from.max(share.saturating_mul(k))) else {
            break;
        };
        if cut >= len {
            break;
        }
        cuts.push(cut);
        from = cut;
    }
    cuts.push(len);
    cuts
}

/// The start of the first line after offset `from` that follows a line that is just `}` (a
/// carriage return before its line feed allowed) and is followed, after blank lines, by what
/// looks like a top-level item's first line: an identifier at column 0 then a space, a tab,
/// `"`, `{` or `=` (not a heredoc's closing delimiter alone on its line, as after a JSON
/// document in a heredoc). Such a place is most likely between two top-level items, which is
/// where a cut lets both pieces parse.
fn next_cut(text: &str, from: usize) -> Option<usize> {
    let b = text.as_bytes();
    let mut at = from;
    loop {
        let nl = at + b.get(at..)?.iter().position(|&c| c == b'\n')?;
        at = nl + 1;
        let line_end = if nl > 0 && b[nl - 1] == b'\r' {
            nl - 1
        } else {
            nl
        };
        let closes =
            line_end > 0 && b[line_end - 1] == b'}' && (line_end == 1 || b[line_end - 2] == b'\n');
        if !closes {
            continue;
        }
        let mut next = at;
        loop {
            match b.get(next..) {
                Some([b'\n', ..]) => next += 1,
                Some([b'\r', b'\n', ..]) => next += 2,
                _ => break,
            }
        }
        if starts_item(b.get(next..).unwrap_or_default()) {
            return Some(at);
        }
        // The blank lines skipped hold no `}` line: go on from the line after them.
        at = next;
    }
}

/// Whether `line` (a line's bytes onwards) starts with an identifier followed by a space, a
/// tab, `"`, `{` or `=`.
fn starts_item(line: &[u8]) -> bool {
    if !line
        .first()
        .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
    {
        return false;
    }
    let ident = line
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-'))
        .count();
    matches!(line.get(ident), Some(b' ' | b'\t' | b'"' | b'{' | b'='))
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

    /// The whole parse's result, as text: the body's `Debug` (items, spans, decoration spans,
    /// preferences) or the error.
    fn outcome(r: &Result<Body, HclError>) -> String {
        match r {
            Ok(body) => format!("{body:?}"),
            Err(e) => format!("error at {}: {}", e.offset, e.message),
        }
    }

    /// Every way `text` is parsed in pieces gives the whole parse's result: the cuts the
    /// cutter picks for 2 to 16 pieces, and every single cut at a line start (cuts the cutter
    /// would not make included, so that a wrong cut is seen to be refused). Returns whether
    /// the cutter's pieces were taken for some count (the whole parse not needed), and how
    /// many single cuts were.
    fn agrees(text: &str) -> (bool, usize) {
        let whole = outcome(&parse_whole(text));
        let mut split = false;
        for pieces in [2, 3, 4, 7, 16] {
            same(
                &outcome(&parse_split(text, pieces)),
                &whole,
                &format!("{pieces} pieces"),
            );
            split |= parse_in_pieces(text, pieces).is_some();
        }
        let mut accepted = 0;
        if text.len() <= 4 << 10 {
            let starts = text.match_indices('\n').map(|(i, _)| i + 1);
            for cut in starts.filter(|&c| c < text.len()) {
                if let Some(body) = parse_at_cuts(text, &[0, cut, text.len()]) {
                    accepted += 1;
                    same(&format!("{body:?}"), &whole, &format!("cut at {cut}"));
                }
            }
        }
        (split, accepted)
    }

    /// `a == b`, else a panic showing where they differ.
    fn same(a: &str, b: &str, what: &str) {
        if a != b {
            let at = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
            let from = at.saturating_sub(300);
            let window = |s: &str| {
                s.get(from..(at + 200).min(s.len()))
                    .unwrap_or("")
                    .to_string()
            };
            panic!("{what}: differ at {at}\n{}\n---\n{}", window(a), window(b));
        }
    }

    fn blocks(n: usize, item: impl Fn(usize) -> String) -> String {
        (0..n).map(item).collect()
    }

    #[test]
    fn pieces_join_into_the_whole_parse() {
        let plain = blocks(40, |i| {
            format!(
                "resource \"aws_s3_bucket\" \"b{i}\" {{\n  bucket = \"b-${{var.x}}\"\n  tags = {{\n    Name = \"b{i}\"\n  }}\n}}\n\n"
            )
        });
        assert!(agrees(&plain).0);
        // A `}` line followed by what looks like a block header, inside a heredoc, an
        // indented heredoc, a template directive and block comments.
        let heredocs = blocks(30, |i| {
            format!(
                "resource \"x\" \"h{i}\" {{\n  user_data = <<EOF\n}}\nresource \"fake\" \"f{i}\" {{\n}}\nEOF\n  script = <<-EOT\n    %{{ if true }}\n}}\nvariable \"v\" {{\n    %{{ endif }}\n    EOT\n}}\n"
            )
        });
        agrees(&heredocs);
        // A JSON document in a heredoc: its closing `}` is not taken for a block's.
        let policies = blocks(40, |i| {
            format!(
                "resource \"aws_iam_policy\" \"p{i}\" {{\n  policy = <<EOF\n{{\n  \"Version\": \"2012-10-17\"\n}}\nEOF\n}}\n\n"
            )
        });
        assert!(agrees(&policies).0);
        agrees(&format!("{policies}{heredocs}{policies}"));
        // An empty heredoc before the cut, another heredoc's delimiter after it: the whole
        // parse runs the first heredoc to the second's delimiter; so must the pieces.
        let empty = "resource \"a\" \"b\" {\n  k = <<-EOT\n  EOT\n}\n\nresource \"c\" \"d\" {\n  v = <<-EOT\nx\n  EOT\n}\n";
        let cut = empty.find("\n\n").unwrap() + 1;
        assert!(parse_at_cuts(empty, &[0, cut, empty.len()]).is_none());
        agrees(&empty.repeat(20));
        let comments = blocks(30, |i| {
            format!(
                "/*\n}}\nresource \"c\" \"d{i}\" {{\n}}\n*/\nlocals {{\n  a{i} = 1 /* x\n}}\nb = 2 */\n}}\n# }}\n// }}\n"
            )
        });
        agrees(&comments);
        // Braces of nested blocks and expressions at column 0, then a top-level-looking line.
        let nested = blocks(30, |i| {
            format!(
                "resource \"n\" \"x{i}\" {{\n  dynamic \"a\" {{\n    content {{\n}}\n}}\nm = {{\n  a = [\n1\n]\n}}\nb {{\n}}\n  n = (\n1\n)\n}}\n"
            )
        });
        assert!(parse_whole(&nested).is_ok());
        agrees(&nested);
        // Top-level attributes (a `.tfvars` file) whose objects close at column 0.
        let tfvars = blocks(40, |i| {
            format!("v{i} = {{\n  a = \"x\"\n  b = [1, 2]\n}}\n")
        });
        assert!(agrees(&tfvars).0);
        // CRLF line endings, no line ending at the end, comments after the last item.
        assert!(agrees(&plain.replace('\n', "\r\n")).0);
        agrees(&heredocs.replace('\n', "\r\n"));
        assert!(agrees(&policies.replace('\n', "\r\n")).0);
        agrees(&comments.replace('\n', "\r\n"));
        assert!(agrees(plain.trim_end()).0);
        agrees(plain.trim_end().trim_end_matches('}'));
        assert!(agrees(&format!("{plain}# the end\n\n  /* really */\n")).0);
        assert!(agrees(&format!("\n\n# a header\n{plain}")).0);
        // A piece deeper than the calling thread's stack allows.
        let deep = format!(
            "locals {{\n  d = {}1{}\n}}\n",
            "[".repeat(200),
            "]".repeat(200)
        );
        assert!(agrees(&format!("{plain}{deep}{plain}")).0);
    }

    #[test]
    fn a_piece_whose_structure_runs_into_deep_nesting_gets_a_deep_stack() {
        // The cut after `}` is wrong (that `}` closes `a`'s object, not `locals`), so the
        // first piece's parse runs on into `b`'s nesting, past the piece's end: it must be
        // given the stack for that nesting, not for the piece's own (shallow) text: pieces
        // are parsed on rayon's workers, whose stack 250 levels of the parser overflow.
        let text = format!(
            "locals {{\n  a = {{\n}}\nb = {}1{}\n}}\n",
            "[".repeat(250),
            "]".repeat(250)
        );
        let cut = text.find("}\n").unwrap() + 2;
        assert_eq!(next_cut(&text, 0), Some(cut));
        assert!(parse_at_cuts(&text, &[0, cut, text.len()]).is_none());
        assert!(parse_whole(&text).is_ok());
    }

    #[test]
    fn a_file_that_does_not_parse_gives_the_whole_parse_error() {
        let item = |i: usize| format!("resource \"a\" \"r{i}\" {{\n  x = {i}\n}}\n\n");
        let n = 60;
        for bad_at in [0, n / 2, n - 1] {
            for bad in [
                "  y = \n",
                "  y = \"open\n",
                "  z = [1,\n",
                "  = 2\n",
                "  y = <<EOF\n",
            ] {
                let text = blocks(n, |i| {
                    let mut s = item(i);
                    if i == bad_at {
                        s.insert_str(s.find('\n').unwrap() + 1, bad);
                    }
                    s
                });
                assert!(outcome(&parse_whole(&text)).starts_with("error"), "{bad:?}");
                agrees(&text);
            }
        }
        // An unclosed block, and a repeated top-level attribute in two pieces.
        let unclosed = format!("{}resource \"a\" \"b\" {{\n  x = 1\n", blocks(n, item));
        agrees(&unclosed);
        let repeated = format!("a = 1\n{}a = 2\n", blocks(n, item));
        assert!(outcome(&parse_whole(&repeated)).starts_with("error"));
        agrees(&repeated);
    }

    #[test]
    fn the_bundled_terraform_files_concatenated_parse_alike() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
        let mut files = Vec::new();
        let mut dirs = vec![root];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "tf" || e == "tfvars") {
                    files.push(path);
                }
            }
        }
        files.sort();
        let mut valid = String::new();
        for path in &files {
            let text = std::fs::read_to_string(path).unwrap();
            agrees(&text);
            if parse_whole(&text).is_ok() && path.extension().is_none_or(|e| e != "tfvars") {
                valid.push_str(&text);
                if !text.ends_with('\n') {
                    valid.push('\n');
                }
            }
        }
        assert!(agrees(&valid.repeat(20)).0);
        // Every file, broken ones included, one after the other.
        let all: String = files
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap() + "\n")
            .collect();
        agrees(&all.repeat(5));
    }

    /// A xorshift generator of test texts: Terraform-like files whose heredocs, comments and
    /// multi-line expressions hold lines a cut could be made after (`}` at column 0, block
    /// headers), some with a line deleted or a stray line inserted.
    struct Gen(u64);

    impl Gen {
        fn pick(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }

        fn chance(&mut self, percent: usize) -> bool {
            self.pick(100) < percent
        }

        const TRAPS: [&str; 10] = [
            "}",
            "resource \"a\" \"b\" {",
            "EOF",
            "/*",
            "*/",
            "x = 1",
            "  }",
            "{",
            "b {",
            "",
        ];

        fn text(&mut self) -> String {
            let mut out = String::new();
            for i in 0..3 + self.pick(12) {
                self.top_item(&mut out, i);
            }
            let mut lines: Vec<&str> = out.split_inclusive('\n').collect();
            if self.chance(30) && !lines.is_empty() {
                let at = self.pick(lines.len());
                lines.remove(at);
            }
            let stray = format!("{}\n", Self::TRAPS[self.pick(Self::TRAPS.len())]);
            if self.chance(15) {
                let at = self.pick(lines.len() + 1);
                lines.insert(at, &stray);
            }
            let mut text: String = lines.concat();
            if self.chance(20) {
                text = text.replace('\n', "\r\n");
            }
            if self.chance(15) {
                text.truncate(text.trim_end().len());
            }
            text
        }

        fn top_item(&mut self, out: &mut String, i: usize) {
            match self.pick(6) {
                0 => {
                    out.push_str(&format!("a{i} = "));
                    self.expr(out, 1);
                    out.push('\n');
                }
                1 => out.push_str(
                    ["# }\n", "// x\n", "/*\n}\nresource \"x\" \"y\" {\n*/\n"][self.pick(3)],
                ),
                _ => {
                    out.push_str(&format!("resource \"t\" \"n{i}\" {{\n"));
                    self.body(out, 1);
                    out.push_str("}\n");
                }
            }
            if self.chance(50) {
                out.push('\n');
            }
        }

        fn indent(&mut self, depth: usize) -> String {
            if self.chance(25) {
                String::new()
            } else {
                "  ".repeat(depth)
            }
        }

        fn body(&mut self, out: &mut String, depth: usize) {
            for j in 0..self.pick(4) {
                let indent = self.indent(depth);
                if depth < 3 && self.chance(30) {
                    out.push_str(&format!("{indent}b{j} {{\n"));
                    self.body(out, depth + 1);
                    let closer = self.indent(depth);
                    out.push_str(&format!("{closer}}}\n"));
                } else {
                    out.push_str(&format!("{indent}k{j} = "));
                    self.expr(out, depth + 1);
                    out.push('\n');
                }
            }
        }

        fn expr(&mut self, out: &mut String, depth: usize) {
            match self.pick(if depth < 4 { 8 } else { 3 }) {
                0 => out.push_str("42"),
                1 => out.push_str("\"s\""),
                2 => out.push_str("\"x-${var.a}\""),
                3 | 4 => {
                    let (intro, end) = if self.chance(50) {
                        ("<<EOF\n", "EOF")
                    } else {
                        ("<<-EOT\n", "  EOT")
                    };
                    out.push_str(intro);
                    for _ in 0..self.pick(5) {
                        out.push_str(Self::TRAPS[self.pick(Self::TRAPS.len())]);
                        out.push('\n');
                    }
                    out.push_str(end);
                }
                5 => {
                    out.push_str("{\n");
                    for j in 0..self.pick(3) {
                        let indent = self.indent(depth);
                        out.push_str(&format!("{indent}o{j} = "));
                        self.expr(out, depth + 1);
                        out.push('\n');
                    }
                    let closer = self.indent(depth - 1);
                    out.push_str(&format!("{closer}}}"));
                }
                6 => {
                    out.push_str("[\n");
                    for _ in 0..self.pick(3) {
                        self.expr(out, depth + 1);
                        out.push_str(",\n");
                    }
                    out.push(']');
                }
                _ => out.push_str(["(\n1 +\n2\n)", "max(\n1,\n}\n)", "{ a = 1 }"][self.pick(3)]),
            }
        }
    }

    #[test]
    fn random_texts_split_or_not_parse_alike() {
        let mut g = Gen(0x9e37_79b9_7f4a_7c15);
        let (mut parsed, mut accepted) = (0, 0);
        for _ in 0..600 {
            let text = g.text();
            accepted += agrees(&text).1;
            parsed += usize::from(parse_whole(&text).is_ok());
        }
        // Both kinds are seen: texts that parse and texts that do not.
        assert!((100..500).contains(&parsed), "{parsed}");
        assert!(accepted > 500, "{accepted}");
    }

    #[test]
    fn hostile_texts_are_cut_in_one_pass() {
        let many = "}\na {\n".repeat(1 << 19);
        let cuts = cut_points(&many, 16);
        assert_eq!(cuts.len(), 17);
        assert!(parse_split(&many, 16).is_err());
        let closes = "}\n\n".repeat(1 << 20);
        assert_eq!(cut_points(&closes, 16), [0, closes.len()]);
        let none = "x".repeat(4 << 20);
        assert_eq!(cut_points(&none, 16), [0, none.len()]);
        let multibyte = "é}\n}\n".repeat(1 << 16);
        let cuts = cut_points(&multibyte, 7);
        assert!(cuts.iter().all(|&c| multibyte.is_char_boundary(c)));
        assert!(parse_split(&multibyte, 7).is_err());
        assert_eq!(cut_points("", 4), [0, 0]);
        assert!(parse_split("", 4).is_ok());
        assert_eq!(pieces_for(5 << 20, 2), 4);
        assert_eq!(pieces_for(5 << 20, 1), 1);
        assert!(pieces_for(PIECE_MIN - 1, 8) < 2);
    }
}
