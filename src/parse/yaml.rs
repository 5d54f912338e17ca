//! YAML with byte spans on every node.
//!
//! Built from `saphyr-parser`'s event stream into an arena per document. Unlike a
//! map-based loader this keeps duplicate keys (the last one silently wins in Kubernetes and
//! ArgoCD, so a rule must see both), keeps key spans, and stores aliases as references to
//! their anchor instead of copying the anchored subtree, so an alias bomb costs nothing to
//! load. Readers that follow aliases do so one hop at a time.
//!
//! The arena is compact, as a large repository's documents hold millions of nodes: every
//! node is a 12-byte [`Node`] record, the children of all of a document's collections
//! share one pool, a scalar whose value is its own text (most keys and values: plain, or
//! quoted without escapes, on one line) is read from the document's text, which the
//! document shares with its file, and the rest — the other scalars' values, end to end in
//! one string buffer, and the tags — sit in a side table most documents do without. A
//! document costs a handful of allocations whatever its size. [`Yaml::kind`] gives a node's
//! contents as borrowed slices.
//!
//! A node's kind and its payload share 32 bits, so a document's nodes, child pool entries
//! and copied scalars each number fewer than 2^29 − 1. A document of fewer than 2^28 nodes
//! always fits; coming near takes a quarter of a gigabyte of text (the default file size
//! limit is 10 MiB) and gigabytes of memory once loaded. A larger one fails to parse as
//! "document too large".

use crate::source::{FileId, Span};
use saphyr_parser::{Event, Parser, ScalarStyle, Span as YSpan};
use std::sync::Arc;

/// Index of a node inside its [`YamlDoc`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NodeId(u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Plain = 0,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

/// What a node is, borrowed from its document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind<'a> {
    Scalar {
        value: &'a str,
        style: Style,
    },
    Seq(&'a [NodeId]),
    /// Key/value pairs in document order, duplicates kept.
    Map(&'a [[NodeId; 2]]),
    /// An alias; `None` when the anchor is unknown.
    Alias(Option<NodeId>),
}

/// The kind of a [`Node`] (the top bits of its `x`): a scalar style, or one of these.
const SEQ: u32 = 5;
const MAP: u32 = 6;
const ALIAS: u32 = 7;
/// Where a node's kind starts in its `x`; the bits below are its payload.
const KIND_SHIFT: u32 = 29;
const PAYLOAD: u32 = (1 << KIND_SHIFT) - 1;
/// An alias's payload when its anchor is unknown.
const NO_TARGET: u32 = PAYLOAD;
/// A scalar's payload when its value is its own text (see [`Node::x`]).
const VERBATIM: u32 = 0;
/// Every payload stays below this (so node ids stay below [`NO_TARGET`]).
const MAX_PAYLOAD: u32 = PAYLOAD;

/// One node of a document: a fixed-size record whose contents live in the document's
/// shared buffers.
#[derive(Clone, Copy, Debug)]
pub struct Node {
    start: u32,
    end: u32,
    /// The kind — a scalar's style (`Style as u32`), or [`SEQ`], [`MAP`], [`ALIAS`] — in the
    /// top 3 bits, and below them a payload. A scalar: [`VERBATIM`] when its value is the
    /// document text `start..end` (plain) or that without its first and last bytes, the
    /// quotes (single- or double-quoted); otherwise `k` (from 1), its value being the string
    /// buffer's bytes `ends[k - 1]..ends[k]`. A sequence or a mapping: where it is in the
    /// child pool, which holds its child count (a mapping's being twice its entry count:
    /// keys and values alternate) and then its children. An alias: its target, or
    /// [`NO_TARGET`].
    x: u32,
}

impl Node {
    fn kind(&self) -> u32 {
        self.x >> KIND_SHIFT
    }

    fn payload(&self) -> u32 {
        self.x & PAYLOAD
    }

    /// Where the node starts in its document's text.
    pub fn start(&self) -> u32 {
        self.start
    }

    /// Where the node ends in its document's text.
    pub fn end(&self) -> u32 {
        self.end
    }
}

/// One document of a YAML stream.
#[derive(Debug, Clone)]
pub struct YamlDoc {
    pub file: FileId,
    root: NodeId,
    /// Whether an alias is among the nodes (a walk of a document without one reaches each
    /// node once, by one path).
    aliases: bool,
    nodes: Box<[Node]>,
    /// Every collection's child count followed by its children (a sequence's items, a
    /// mapping's keys and values), collection after collection.
    children: Box<[NodeId]>,
    /// The text the nodes' offsets are in (for a file's documents, the file's own text).
    text: Arc<str>,
    /// What most documents do without.
    rare: Option<Box<Rare>>,
}

/// The parts of a [`YamlDoc`] most documents do without.
#[derive(Debug, Clone, Default)]
struct Rare {
    /// The values of the scalars whose value is not their text, end to end.
    strings: Box<str>,
    /// Where each of those values ends in `strings`, after a 0.
    ends: Box<[u32]>,
    /// The few tagged nodes' tags, sorted by node.
    tags: Box<[(NodeId, Box<str>)]>,
    /// For YAML embedded in a scalar or generated: maps offsets of the document's text to
    /// file offsets (shared by the documents of a stream).
    offset_map: Option<Arc<OffsetMap>>,
}

/// A parse failure with its byte offset in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub offset: usize,
    pub message: String,
}

/// Maps byte offsets of an embedded text (a block scalar's content) back to the file.
#[derive(Debug, Clone)]
struct OffsetMap {
    /// (offset in embedded text where the line starts, offset in file of the same char)
    lines: Vec<(usize, usize)>,
    /// For generated text (a rendered template): where each piece came from, possibly in
    /// several files. Empty for text embedded in a scalar.
    segments: std::sync::Arc<[Segment]>,
}

/// A piece of generated text and where it came from: bytes from `at` on (up to the next
/// segment) are `file`'s bytes from `offset` on, or, when `len` is 0, all map to `offset`
/// (text produced by an expression written there).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub at: u32,
    pub file: FileId,
    pub offset: u32,
    pub len: u32,
    /// Printed from a value written elsewhere (a Helm values file), not template text.
    pub value: bool,
}

impl OffsetMap {
    /// The segment holding a text offset.
    fn segment(&self, offset: usize) -> Option<&Segment> {
        if self.segments.is_empty() {
            return None;
        }
        let i = self.segments.partition_point(|s| s.at as usize <= offset);
        self.segments.get(i.saturating_sub(1))
    }

    fn span(&self, file: FileId, start: usize, end: usize) -> Span {
        // A node made of several pieces (template text and printed values): the first
        // piece of template text, where the node is written.
        if !self.segments.is_empty() {
            let first = self.segments.partition_point(|s| s.at as usize <= start);
            let last = self
                .segments
                .partition_point(|s| (s.at as usize) < end.max(start + 1));
            let pieces = &self.segments[first.saturating_sub(1)..last.max(first)];
            if pieces.len() > 1
                && let Some(t) = pieces.iter().find(|s| !s.value)
            {
                let s = if t.at as usize >= start {
                    t.offset as usize
                } else {
                    t.offset as usize + (start - t.at as usize).min(t.len as usize)
                };
                return Span::new(t.file, s..(t.offset + t.len) as usize);
            }
        }
        match self.segment(start) {
            Some(seg) => {
                let place = |o: usize, seg: &Segment| {
                    let d = (o.saturating_sub(seg.at as usize)).min(seg.len as usize);
                    seg.offset as usize + d
                };
                let s = place(start, seg);
                let e = match self.segment(end.saturating_sub(1).max(start)) {
                    Some(last) if last.file == seg.file && place(end, last) >= s => {
                        place(end, last)
                    }
                    _ => seg.offset as usize + seg.len as usize,
                };
                Span::new(seg.file, s..e.max(s))
            }
            None => {
                let s = self.map(start);
                Span::new(file, s..self.map(end).max(s))
            }
        }
    }

    fn map(&self, offset: usize) -> usize {
        if let Some(seg) = self.segment(offset) {
            return seg.offset as usize + (offset - seg.at as usize).min(seg.len as usize);
        }
        let i = match self.lines.binary_search_by_key(&offset, |&(e, _)| e) {
            Ok(i) => i,
            Err(0) => 0,
            Err(i) => i - 1,
        };
        let (e, f) = self.lines[i];
        f + (offset - e)
    }
}

/// Parse a YAML stream into its documents. `text` is the whole file. The documents hold a
/// copy of it: [`parse_source`] shares a file's text instead.
pub fn parse_stream(file: FileId, text: &str) -> Result<Vec<YamlDoc>, YamlError> {
    parse_source(file, &Arc::from(text))
}

/// Parse a YAML stream into its documents, which share `text`, the whole file.
pub fn parse_source(file: FileId, text: &Arc<str>) -> Result<Vec<YamlDoc>, YamlError> {
    build_lenient(file, text, None)
}

/// Build, and on an error that only saphyr raises, retry on the text as go-yaml reads it.
fn build_lenient(
    file: FileId,
    text: &Arc<str>,
    offset_map: Option<&OffsetMap>,
) -> Result<Vec<YamlDoc>, YamlError> {
    let conv = CharToByte::new(text);
    let err = match build(file, text, text, &|c| conv.byte(c), offset_map) {
        Ok(docs) => return Ok(docs),
        Err(e) => e,
    };
    let Some(relaxed) = relax_flow_indentation(text) else {
        return Err(err);
    };
    // The error offset is in the file; the relaxed lines are offsets of `text`.
    let retry = relaxed.lines.iter().any(|&l| {
        let line_end = text[l..].find('\n').map_or(text.len(), |i| l + i);
        let (from, to) = match offset_map {
            Some(m) => (m.map(l), m.map(line_end)),
            None => (l, line_end),
        };
        (from..=to).contains(&err.offset)
    });
    if !retry {
        return Err(err);
    }
    let len = text.len();
    let byte = |c: usize| relaxed.origin.get(c).map_or(len, |&o| o as usize);
    build(file, &relaxed.text, text, &byte, offset_map)
}

/// A text re-indented for saphyr, with the byte offset in the original text of each of its
/// characters.
struct Relaxed {
    text: String,
    origin: Vec<u32>,
    /// Byte offsets (in the original text) of the starts of the lines that were re-indented.
    lines: Vec<usize>,
}

/// go-yaml — the libyaml port that kubectl, Helm, ArgoCD and kustomize read YAML with — does
/// not look at indentation inside a flow collection (`[…]`, `{…}`): libyaml's
/// `unroll_indent` and its simple-key checks are skipped while the flow level is above zero,
/// so a multi-line flow sequence whose closing `]` sits at its key's column loads. saphyr
/// follows YAML 1.2 (§7: flow content inside a block must be indented past that block) and
/// rejects it. This gives the text with every continuation line of a multi-line flow
/// collection that is not indented past the line that opened it moved right until it is —
/// leading spaces inside a flow collection are insignificant to both parsers, so the tokens
/// are exactly those go-yaml reads — or `None` when no line needs it. A document start or end
/// marker (`---`, `...`) at column 0 ends the flow collection for go-yaml too and is left
/// alone, as are block scalars' contents, comments and quoted text.
fn relax_flow_indentation(text: &str) -> Option<Relaxed> {
    let mut out = Relaxed {
        text: String::with_capacity(text.len() + 64),
        origin: Vec::with_capacity(text.len() + 64),
        lines: Vec::new(),
    };
    let mut depth = 0usize;
    let mut opener_col = 0usize;
    let mut quote: Option<char> = None;
    let mut block_scalar: Option<usize> = None;
    let mut line_start = 0usize;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let indent = body.len() - body.trim_start_matches(' ').len();
        let content = &body[indent..];
        let mut pad = 0;
        let mut scan = true;
        if let Some(parent) = block_scalar {
            if content.is_empty() || indent > parent {
                scan = false;
            } else {
                block_scalar = None;
            }
        }
        if scan
            && depth > 0
            && !content.is_empty()
            && indent <= opener_col
            && !(indent == 0 && (content.starts_with("---") || content.starts_with("...")))
        {
            pad = opener_col + 1 - indent;
            out.lines.push(line_start);
        }
        for _ in 0..pad {
            out.text.push(' ');
            out.origin.push(line_start as u32);
        }
        for (i, c) in line.char_indices() {
            out.text.push(c);
            out.origin.push((line_start + i) as u32);
        }
        if scan {
            scan_line(
                body,
                indent,
                &mut depth,
                &mut opener_col,
                &mut quote,
                &mut block_scalar,
            );
        }
        line_start += line.len();
    }
    (!out.lines.is_empty()).then_some(out)
}

/// Follow one line's flow brackets, quotes and block scalar headers (see
/// [`relax_flow_indentation`]).
fn scan_line(
    body: &str,
    indent: usize,
    depth: &mut usize,
    opener_col: &mut usize,
    quote: &mut Option<char>,
    block_scalar: &mut Option<usize>,
) {
    let chars: Vec<char> = body.chars().collect();
    // Column of the line's first node: past the indentation and any `- ` markers.
    let mut content_col = indent;
    while chars.get(content_col) == Some(&'-')
        && matches!(chars.get(content_col + 1), Some(' ') | None)
    {
        content_col += 2;
        while chars.get(content_col) == Some(&' ') {
            content_col += 1;
        }
    }
    let mut node_start = true;
    let mut i = indent;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if let Some(q) = *quote {
            match c {
                '\\' if q == '"' => i += 1,
                '\'' if q == '\'' && next == Some('\'') => i += 1,
                _ if c == q => *quote = None,
                _ => {}
            }
            i += 1;
            continue;
        }
        let after_space = i == 0 || chars[i - 1] == ' ' || chars[i - 1] == '\t';
        match c {
            '#' if after_space => return,
            '"' | '\'' if node_start => *quote = Some(c),
            '[' | '{' if *depth > 0 || node_start => {
                if *depth == 0 {
                    *opener_col = content_col;
                }
                *depth += 1;
            }
            ']' | '}' if *depth > 0 => *depth -= 1,
            '|' | '>' if *depth == 0 && node_start => {
                *block_scalar = Some(content_col);
                return;
            }
            '&' | '!' if node_start => {
                // An anchor or tag: the node starts after it.
                while i + 1 < chars.len() && chars[i + 1] != ' ' {
                    i += 1;
                }
                i += 1;
                continue;
            }
            _ => {}
        }
        node_start = match c {
            ' ' | '\t' => node_start || *depth > 0,
            ',' | '[' | '{' => *depth > 0,
            ':' | '-' | '?' => matches!(next, Some(' ' | '\t') | None) && (node_start || c == ':'),
            _ => false,
        };
        i += 1;
    }
}

/// Parse YAML held in a scalar of `doc` (e.g. ArgoCD `helm.values: |`), keeping positions
/// in the enclosing file: literal and folded block scalars map line by line; other scalar
/// styles map every node to the scalar's own start.
pub fn parse_embedded(
    doc: &YamlDoc,
    id: NodeId,
    file_text: &str,
) -> Result<Vec<YamlDoc>, YamlError> {
    let node = doc.node(id);
    let Kind::Scalar { value, style } = doc.kind(id) else {
        return Ok(Vec::new());
    };
    let start = doc.file_offset(node.start as usize);
    let map = match style {
        Style::Literal | Style::Folded => block_scalar_map(value, file_text, start),
        _ => OffsetMap {
            lines: vec![(0, start)],
            segments: Default::default(),
        },
    };
    let mut file = doc.file;
    let map = match doc.offset_map() {
        // Embedded in embedded or rendered text: every offset keeps the outer start (the
        // outer text's offsets may not fit the file), in the file that start is in.
        Some(m) => {
            let at = m.span(doc.file, node.start as usize, node.start as usize);
            file = at.file;
            OffsetMap {
                lines: vec![(0, at.start as usize)],
                // One piece of length 0: every offset maps to its start.
                segments: Arc::new([Segment {
                    at: 0,
                    file: at.file,
                    offset: at.start,
                    len: 0,
                    value: false,
                }]),
            }
        }
        None => map,
    };
    let mut docs = build_lenient(file, &Arc::from(value), Some(&map))?;
    let map = Arc::new(map);
    for d in &mut docs {
        d.set_offset_map(map.clone());
    }
    Ok(docs)
}

/// Parse YAML text that was produced from a file (a rendered template), keeping positions
/// in that file through `map`: sorted `(offset in text, offset in file)` pairs, each mapping
/// the offsets from it up to the next pair by adding the distance (a pair per character pins
/// every character to one file position).
pub fn parse_mapped(
    file: FileId,
    text: &str,
    map: Vec<(usize, usize)>,
) -> Result<Vec<YamlDoc>, YamlError> {
    let map = OffsetMap {
        lines: if map.is_empty() { vec![(0, 0)] } else { map },
        segments: Default::default(),
    };
    let conv = CharToByte::new(text);
    let mut docs = build(file, text, &Arc::from(text), &|c| conv.byte(c), Some(&map))?;
    let map = Arc::new(map);
    for d in &mut docs {
        d.set_offset_map(map.clone());
    }
    Ok(docs)
}

/// Line map for a block scalar whose span starts at `start` in `file_text` (saphyr puts it
/// at the `|` header or at the content, depending on the version and the chomping
/// indicators): the first content line is the first line at or after `start`'s line whose
/// text begins with the scalar's first non-blank line.
fn block_scalar_map(value: &str, file_text: &str, start: usize) -> OffsetMap {
    let fallback = OffsetMap {
        lines: vec![(0, start)],
        segments: Default::default(),
    };
    let content: Vec<&str> = value.split_inclusive('\n').collect();
    let Some(first_nonblank) = content.iter().position(|l| !l.trim().is_empty()) else {
        return fallback;
    };
    let needle = content[first_nonblank].trim_end_matches(['\n', '\r']);
    let mut line_start = file_text[..start.min(file_text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    // Find the file line holding the first non-blank content line.
    let found = loop {
        let end = file_text[line_start..]
            .find('\n')
            .map_or(file_text.len(), |i| line_start + i + 1);
        let line = file_text[line_start..end].trim_end_matches(['\n', '\r']);
        if line.trim_start() == needle.trim_start() && line.ends_with(needle) {
            break Some(line_start);
        }
        if end >= file_text.len() {
            break None;
        }
        line_start = end;
    };
    let Some(mut file_pos) = found else {
        return fallback;
    };
    // Step back over the leading blank content lines.
    for _ in 0..first_nonblank {
        file_pos = file_text[..file_pos.saturating_sub(1)]
            .rfind('\n')
            .map_or(0, |i| i + 1);
    }
    let mut lines = Vec::new();
    let mut emb_pos = 0usize;
    for content_line in content {
        let file_line_end = file_text[file_pos..]
            .find('\n')
            .map_or(file_text.len(), |i| file_pos + i + 1);
        let file_line = &file_text[file_pos..file_line_end];
        let stripped = content_line.trim_end_matches(['\n', '\r']);
        let indent = if stripped.is_empty() {
            0
        } else {
            file_line.rfind(stripped).unwrap_or(0)
        };
        lines.push((emb_pos, file_pos + indent));
        emb_pos += content_line.len();
        file_pos = file_line_end;
        if file_pos >= file_text.len() {
            break;
        }
    }
    if lines.is_empty() {
        return fallback;
    }
    OffsetMap {
        lines,
        segments: Default::default(),
    }
}

/// Parse generated YAML (a rendered chart template) whose pieces come from the files and
/// offsets `segments` give (sorted by `at`, the first at 0). Spans of its nodes point into
/// those files; `file` is the file the text is attributed to as a whole.
pub fn parse_generated(
    file: FileId,
    text: &str,
    segments: Vec<Segment>,
) -> Result<Vec<YamlDoc>, YamlError> {
    let conv = CharToByte::new(text);
    let map = OffsetMap {
        lines: vec![(0, 0)],
        segments: segments.into(),
    };
    let mut docs = build(file, text, &Arc::from(text), &|c| conv.byte(c), None)?;
    let map = Arc::new(map);
    for d in &mut docs {
        d.set_offset_map(map.clone());
    }
    Ok(docs)
}

/// An open collection being built.
struct Frame {
    id: NodeId,
    /// Where its children start in [`Builder::open`].
    first: usize,
}

/// One document's arena as it is built; its buffers are reused for the next document of
/// the stream.
struct Builder<'t> {
    /// The text the offsets are in, which verbatim scalars are read from.
    text: &'t Arc<str>,
    /// Every payload stays below this ([`MAX_PAYLOAD`]; smaller in tests).
    limit: u32,
    nodes: Vec<Node>,
    children: Vec<NodeId>,
    strings: String,
    ends: Vec<u32>,
    tags: Vec<(NodeId, Box<str>)>,
    /// The children attached so far to the open collections, innermost collection's last.
    open: Vec<NodeId>,
    stack: Vec<Frame>,
    anchors: Vec<(usize, NodeId)>,
    root: Option<NodeId>,
    /// An alias was built.
    aliases: bool,
}

/// A document too large for the arena's offsets and counts.
fn too_large(offset: usize) -> YamlError {
    YamlError {
        offset,
        message: format!(
            "document too large: preflight reads documents of fewer than {} nodes and under \
             4 GiB",
            1u32 << (KIND_SHIFT - 1)
        ),
    }
}

/// A payload, or the error for a document too large to hold it.
fn payload(n: usize, limit: u32, offset: usize) -> Result<u32, YamlError> {
    match u32::try_from(n) {
        Ok(p) if p < limit => Ok(p),
        _ => Err(too_large(offset)),
    }
}

impl<'t> Builder<'t> {
    fn new(text: &'t Arc<str>, limit: u32) -> Builder<'t> {
        Builder {
            text,
            limit: limit.min(MAX_PAYLOAD),
            nodes: Vec::new(),
            children: Vec::new(),
            strings: String::new(),
            ends: Vec::new(),
            tags: Vec::new(),
            open: Vec::new(),
            stack: Vec::new(),
            anchors: Vec::new(),
            root: None,
            aliases: false,
        }
    }

    fn push(
        &mut self,
        start: usize,
        end: usize,
        kind: u32,
        payload: u32,
        tag: Option<Box<str>>,
    ) -> Result<NodeId, YamlError> {
        let id = NodeId(self::payload(self.nodes.len(), self.limit, start)?);
        let (Ok(s), Ok(e)) = (u32::try_from(start), u32::try_from(end)) else {
            return Err(too_large(start));
        };
        self.nodes.push(Node {
            start: s,
            end: e,
            x: kind << KIND_SHIFT | payload,
        });
        if let Some(tag) = tag {
            self.tags.push((id, tag));
        }
        Ok(id)
    }

    /// A scalar's payload: [`VERBATIM`] when its value is its text, else the value copied
    /// to the string buffer.
    fn scalar(
        &mut self,
        start: usize,
        end: usize,
        style: Style,
        value: &str,
    ) -> Result<u32, YamlError> {
        let q = quotes(style);
        if self.text.get(start + q..end.saturating_sub(q)) == Some(value) {
            return Ok(VERBATIM);
        }
        if self.ends.is_empty() {
            self.ends.push(0);
        }
        let k = payload(self.ends.len(), self.limit, start)?;
        self.strings.push_str(value);
        let e = u32::try_from(self.strings.len()).map_err(|_| too_large(start))?;
        self.ends.push(e);
        Ok(k)
    }

    /// Attach a finished node to the open collection (or make it the root).
    fn attach(&mut self, child: NodeId) {
        if self.stack.is_empty() {
            self.root.get_or_insert(child);
        } else {
            self.open.push(child);
        }
    }

    /// Close the innermost open collection: move its child count and children to the pool.
    fn close(&mut self, end: usize) -> Result<(), YamlError> {
        let Some(Frame { id, first }) = self.stack.pop() else {
            return Ok(());
        };
        let at = payload(self.children.len(), self.limit, end)?;
        let end = u32::try_from(end).map_err(|_| too_large(end))?;
        let node = &mut self.nodes[id.0 as usize];
        let kind = node.kind();
        let mut len = self.open.len() - first;
        if kind == MAP {
            // A key without a value is no entry.
            len &= !1;
        }
        node.end = end.max(node.start);
        node.x = kind << KIND_SHIFT | at;
        // Fewer children than nodes, so the count fits.
        self.children.push(NodeId(len as u32));
        self.children
            .extend_from_slice(&self.open[first..first + len]);
        self.open.truncate(first);
        self.attach(id);
        Ok(())
    }

    /// The finished document, leaving the buffers empty for the next one.
    fn finish(&mut self, file: FileId, at: usize) -> YamlDoc {
        if self.nodes.is_empty() {
            // An empty plain scalar: its value is its (empty) text.
            let at = u32::try_from(at).unwrap_or(u32::MAX);
            self.nodes.push(Node {
                start: at,
                end: at,
                x: (Style::Plain as u32) << KIND_SHIFT | VERBATIM,
            });
        }
        let rare = (!self.ends.is_empty() || !self.tags.is_empty()).then(|| {
            Box::new(Rare {
                strings: self.strings.as_str().into(),
                ends: self.ends.as_slice().into(),
                tags: std::mem::take(&mut self.tags).into_boxed_slice(),
                offset_map: None,
            })
        });
        // Exact sizes: the arenas of a large repository hold millions of nodes.
        let doc = YamlDoc {
            file,
            root: self.root.take().unwrap_or(NodeId(0)),
            aliases: self.aliases,
            nodes: self.nodes.as_slice().into(),
            children: self.children.as_slice().into(),
            text: self.text.clone(),
            rare,
        };
        self.reset();
        doc
    }

    fn reset(&mut self) {
        self.nodes.clear();
        self.children.clear();
        self.strings.clear();
        self.ends.clear();
        self.tags.clear();
        self.open.clear();
        self.stack.clear();
        self.anchors.clear();
        self.root = None;
        self.aliases = false;
    }
}

/// How many bytes of quotes a scalar of `style` has on either side of its text.
fn quotes(style: Style) -> usize {
    matches!(style, Style::SingleQuoted | Style::DoubleQuoted) as usize
}

fn tag_text(tag: Option<std::borrow::Cow<'_, saphyr_parser::Tag>>) -> Option<Box<str>> {
    tag.map(|t| format!("{}{}", t.handle, t.suffix).into_boxed_str())
}

/// Build the documents of `text`, whose character indices `byte` maps to byte offsets of
/// `source` (`text` itself, or the text `text` was re-indented from).
fn build(
    file: FileId,
    text: &str,
    source: &Arc<str>,
    byte: &dyn Fn(usize) -> usize,
    offset_map: Option<&OffsetMap>,
) -> Result<Vec<YamlDoc>, YamlError> {
    build_limited(file, text, source, byte, offset_map, MAX_PAYLOAD)
}

/// [`build`], with every payload below `limit`.
fn build_limited(
    file: FileId,
    text: &str,
    source: &Arc<str>,
    byte: &dyn Fn(usize) -> usize,
    offset_map: Option<&OffsetMap>,
    limit: u32,
) -> Result<Vec<YamlDoc>, YamlError> {
    let mut docs = Vec::new();
    let mut b = Builder::new(source, limit);
    let map_off = |o: usize| offset_map.map_or(o, |m| m.map(o));
    for event in Parser::new_from_str(text) {
        let (event, span): (Event, YSpan) = event.map_err(|e| YamlError {
            offset: map_off(byte(e.marker().index())),
            message: e.info().to_string(),
        })?;
        let (start, end) = (byte(span.start.index()), byte(span.end.index()));
        let is_map = matches!(event, Event::MappingStart(..));
        match event {
            Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
            Event::DocumentStart(_) => b.reset(),
            Event::DocumentEnd => docs.push(b.finish(file, start)),
            Event::Alias(anchor) => {
                let target = b
                    .anchors
                    .iter()
                    .rev()
                    .find(|(a, _)| *a == anchor)
                    .map_or(NO_TARGET, |&(_, n)| n.0);
                let id = b.push(start, end, ALIAS, target, None)?;
                b.aliases = true;
                b.attach(id);
            }
            Event::Scalar(value, style, anchor, tag) => {
                let style = match style {
                    ScalarStyle::Plain => Style::Plain,
                    ScalarStyle::SingleQuoted => Style::SingleQuoted,
                    ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
                    ScalarStyle::Literal => Style::Literal,
                    ScalarStyle::Folded => Style::Folded,
                };
                let at = b.scalar(start, end, style, &value)?;
                let id = b.push(start, end, style as u32, at, tag_text(tag))?;
                if anchor > 0 {
                    b.anchors.push((anchor, id));
                }
                b.attach(id);
            }
            Event::SequenceStart(anchor, tag) | Event::MappingStart(anchor, tag) => {
                let kind = if is_map { MAP } else { SEQ };
                let id = b.push(start, end, kind, 0, tag_text(tag))?;
                if anchor > 0 {
                    b.anchors.push((anchor, id));
                }
                b.stack.push(Frame {
                    id,
                    first: b.open.len(),
                });
            }
            Event::SequenceEnd | Event::MappingEnd => b.close(end)?,
        }
    }
    // One document per file, most often: no room for more.
    docs.shrink_to_fit();
    Ok(docs)
}

/// Converts saphyr's character indices to byte offsets.
struct CharToByte {
    /// Byte offset of every character; empty when the text is ASCII.
    offsets: Vec<u32>,
    len: usize,
}

impl CharToByte {
    fn new(text: &str) -> CharToByte {
        let offsets = if text.is_ascii() {
            Vec::new()
        } else {
            text.char_indices().map(|(i, _)| i as u32).collect()
        };
        CharToByte {
            offsets,
            len: text.len(),
        }
    }

    fn byte(&self, char_index: usize) -> usize {
        if self.offsets.is_empty() {
            char_index.min(self.len)
        } else {
            self.offsets
                .get(char_index)
                .map_or(self.len, |&o| o as usize)
        }
    }
}

/// A borrowed view of one node, with accessors for the questions models ask.
#[derive(Clone, Copy, Debug)]
pub struct Yaml<'a> {
    pub doc: &'a YamlDoc,
    pub id: NodeId,
}

/// Scalar styles by their `kind` byte.
const STYLES: [Style; 5] = [
    Style::Plain,
    Style::SingleQuoted,
    Style::DoubleQuoted,
    Style::Literal,
    Style::Folded,
];

impl YamlDoc {
    pub fn root(&self) -> Yaml<'_> {
        Yaml {
            doc: self,
            id: self.root,
        }
        .resolved()
    }

    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.0 as usize]
    }

    /// What the node `id` is.
    #[inline]
    pub fn kind(&self, id: NodeId) -> Kind<'_> {
        let n = self.node(id);
        match n.kind() {
            SEQ => Kind::Seq(self.children_at(n.payload())),
            MAP => Kind::Map(self.children_at(n.payload()).as_chunks().0),
            ALIAS => Kind::Alias((n.payload() != NO_TARGET).then_some(NodeId(n.payload()))),
            style => {
                let style = STYLES.get(style as usize).copied().unwrap_or(Style::Plain);
                Kind::Scalar {
                    value: self.value(n, style),
                    style,
                }
            }
        }
    }

    /// The children of the collection at `at` in the child pool.
    #[inline]
    fn children_at(&self, at: u32) -> &[NodeId] {
        let at = at as usize;
        match self.children.get(at) {
            Some(&NodeId(len)) => self
                .children
                .get(at + 1..at + 1 + len as usize)
                .unwrap_or_default(),
            None => &[],
        }
    }

    /// A scalar's value.
    #[inline]
    fn value(&self, n: &Node, style: Style) -> &str {
        let k = n.payload() as usize;
        if k == VERBATIM as usize {
            let q = quotes(style);
            let (start, end) = (n.start as usize + q, (n.end as usize).saturating_sub(q));
            return self.text.get(start..end).unwrap_or_default();
        }
        let Some(rare) = &self.rare else { return "" };
        match (rare.ends.get(k - 1), rare.ends.get(k)) {
            (Some(&s), Some(&e)) => rare.strings.get(s as usize..e as usize),
            _ => None,
        }
        .unwrap_or_default()
    }

    /// The node's tag with its handle resolved (`!Ref`; `!!str` gives
    /// `tag:yaml.org,2002:str`).
    pub fn tag(&self, id: NodeId) -> Option<&str> {
        let tags = &self.rare.as_ref()?.tags;
        let i = tags.binary_search_by_key(&id.0, |(t, _)| t.0).ok()?;
        Some(&tags[i].1)
    }

    fn offset_map(&self) -> Option<&OffsetMap> {
        self.rare.as_ref()?.offset_map.as_deref()
    }

    fn set_offset_map(&mut self, map: Arc<OffsetMap>) {
        self.rare.get_or_insert_default().offset_map = Some(map);
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the document holds an alias. Without one it is a tree: a walk from any node
    /// reaches each node below it once, and needs no record of the nodes it has seen.
    pub fn has_aliases(&self) -> bool {
        self.aliases
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Every node, in document order.
    pub fn all(&self) -> impl Iterator<Item = Yaml<'_>> {
        (0..self.nodes.len() as u32).map(move |i| Yaml {
            doc: self,
            id: NodeId(i),
        })
    }

    /// Map an offset of this document's text to an offset in the file.
    pub fn file_offset(&self, offset: usize) -> usize {
        self.offset_map().map_or(offset, |m| m.map(offset))
    }

    /// Whether the document was parsed out of a scalar of another document.
    pub fn is_embedded(&self) -> bool {
        self.offset_map().is_some()
    }
}

impl<'a> Yaml<'a> {
    pub fn node(&self) -> &'a Node {
        self.doc.node(self.id)
    }

    /// What the node is (an alias as itself: see [`Yaml::resolved`]).
    #[inline]
    pub fn kind(&self) -> Kind<'a> {
        self.doc.kind(self.id)
    }

    /// The node's tag (see [`YamlDoc::tag`]).
    pub fn tag(&self) -> Option<&'a str> {
        self.doc.tag(self.id)
    }

    /// Follow an alias. An alias's target is resolved when the document is built, and
    /// only an anchored scalar or collection can be a target, so one hop is all it takes.
    #[inline]
    pub fn resolved(self) -> Yaml<'a> {
        let n = self.node();
        if n.kind() == ALIAS && n.payload() != NO_TARGET {
            Yaml {
                doc: self.doc,
                id: NodeId(n.payload()),
            }
        } else {
            self
        }
    }

    /// The node's span in the file.
    pub fn span(&self) -> Span {
        let n = self.node();
        if let Some(m) = self.doc.offset_map()
            && !m.segments.is_empty()
        {
            return m.span(self.doc.file, n.start as usize, n.end as usize);
        }
        let start = self.doc.file_offset(n.start as usize);
        let end = self.doc.file_offset(n.end as usize).max(start);
        Span::new(self.doc.file, start..end)
    }

    /// The scalar's text, whatever its style (plain `true` gives "true").
    #[inline]
    pub fn as_str(&self) -> Option<&'a str> {
        let r = self.resolved();
        let n = r.node();
        let style = *STYLES.get(n.kind() as usize)?;
        Some(r.doc.value(n, style))
    }

    /// [`Yaml::as_str`] when the value is one of `candidates`, else `None`. A scalar whose
    /// value is its own text and whose length matches none of them is not read: a walk
    /// looking for a few keys in a large tree then reads the text of almost no key.
    #[inline]
    pub fn as_str_among(&self, candidates: &[&str]) -> Option<&'a str> {
        let r = self.resolved();
        let n = r.node();
        let style = *STYLES.get(n.kind() as usize)?;
        if n.payload() == VERBATIM {
            let q = quotes(style);
            let len = (n.end as usize)
                .saturating_sub(q)
                .saturating_sub(n.start as usize + q);
            if !candidates.iter().any(|c| c.len() == len) {
                return None;
            }
        }
        let value = r.doc.value(n, style);
        candidates.contains(&value).then_some(value)
    }

    /// A non-empty string scalar, not null.
    pub fn as_string(&self) -> Option<&'a str> {
        if self.is_null() { None } else { self.as_str() }
    }

    pub fn style(&self) -> Option<Style> {
        match self.resolved().kind() {
            Kind::Scalar { style, .. } => Some(style),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        match self.resolved().kind() {
            Kind::Scalar {
                value,
                style: Style::Plain,
            } => {
                matches!(value, "" | "~" | "null" | "Null" | "NULL")
            }
            _ => false,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.resolved().kind() {
            Kind::Scalar {
                value,
                style: Style::Plain,
            } => match value {
                "true" | "True" | "TRUE" => Some(true),
                "false" | "False" | "FALSE" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    pub fn is_map(&self) -> bool {
        self.resolved().node().kind() == MAP
    }

    pub fn is_seq(&self) -> bool {
        self.resolved().node().kind() == SEQ
    }

    /// Key/value pairs of a mapping, duplicates included, in document order. Merge keys
    /// (`<<: *base`) are returned as written.
    pub fn entries(self) -> impl Iterator<Item = (Yaml<'a>, Yaml<'a>)> {
        let doc = self.doc;
        let entries: &'a [[NodeId; 2]] = match self.resolved().kind() {
            Kind::Map(e) => e,
            _ => &[],
        };
        entries
            .iter()
            .map(move |&[k, v]| (Yaml { doc, id: k }, Yaml { doc, id: v }.resolved()))
    }

    /// Items of a sequence.
    pub fn items(self) -> impl Iterator<Item = Yaml<'a>> {
        let doc = self.doc;
        let items: &'a [NodeId] = match self.resolved().kind() {
            Kind::Seq(i) => i,
            _ => &[],
        };
        items.iter().map(move |&id| Yaml { doc, id }.resolved())
    }

    /// The value of `key` in a mapping (the last one when duplicated, as Kubernetes reads
    /// it), looking through merge keys.
    pub fn get(self, key: &str) -> Option<Yaml<'a>> {
        self.get_entry(key).map(|(_, v)| v)
    }

    /// The key node and value of `key`.
    pub fn get_entry(self, key: &str) -> Option<(Yaml<'a>, Yaml<'a>)> {
        let mut found = None;
        let mut merged = None;
        for (k, v) in self.entries() {
            match k.as_str_among(&[key, "<<"]) {
                Some(s) if s == key => found = Some((k, v)),
                Some("<<") if found.is_none() && merged.is_none() => {
                    merged = v
                        .get_entry(key)
                        .or_else(|| v.items().find_map(|m| m.get_entry(key)));
                }
                _ => {}
            }
        }
        found.or(merged)
    }

    /// Follow a path of keys.
    pub fn path(self, keys: &[&str]) -> Option<Yaml<'a>> {
        keys.iter().try_fold(self, |node, k| node.get(k))
    }

    pub fn str_at(self, keys: &[&str]) -> Option<&'a str> {
        self.path(keys).and_then(|n| n.as_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docs(text: &str) -> Vec<YamlDoc> {
        parse_stream(FileId(0), text).expect("parses")
    }

    #[test]
    fn spans_are_byte_offsets_even_after_multibyte_text() {
        let text = "a: \"héllo wörld\"\nb: x\n";
        let d = &docs(text)[0];
        let b = d.root().get("b").unwrap();
        assert_eq!(&text[b.span().range()], "x");
    }

    #[test]
    fn multi_document_streams_keep_every_document() {
        let text = "kind: A\n---\nkind: B\n---\n# only a comment\n";
        let ds = docs(text);
        assert_eq!(ds.len(), 3);
        assert_eq!(ds[1].root().str_at(&["kind"]), Some("B"));
        assert!(ds[2].root().is_null());
    }

    #[test]
    fn duplicate_keys_are_kept_and_get_returns_the_last() {
        let text = "a: 1\nb: 2\na: 3\n";
        let d = &docs(text)[0];
        let keys: Vec<_> = d
            .root()
            .entries()
            .map(|(k, _)| k.as_str().unwrap())
            .collect();
        assert_eq!(keys, ["a", "b", "a"]);
        assert_eq!(d.root().get("a").unwrap().as_str(), Some("3"));
    }

    #[test]
    fn aliases_and_merge_keys_resolve_without_copying() {
        let text = "base: &b\n  x: 1\nuse:\n  <<: *b\n  y: 2\nref: *b\n";
        let d = &docs(text)[0];
        assert_eq!(d.root().str_at(&["use", "x"]), Some("1"));
        assert_eq!(d.root().str_at(&["ref", "x"]), Some("1"));
    }

    /// Each document of a stream says whether it holds an alias, and keys are found by
    /// value whatever their quoting (the length test reads the quotes off).
    #[test]
    fn documents_know_their_aliases_and_keys_match_by_value() {
        let ds = docs("a: &x 1\nb: *x\n---\na: 1\n\"b\": 2\n'cc': 3\n");
        assert!(ds[0].has_aliases());
        assert!(!ds[1].has_aliases());
        let root = ds[1].root();
        let keys: Vec<Option<&str>> = root
            .entries()
            .map(|(k, _)| k.as_str_among(&["b", "cc", "zz"]))
            .collect();
        assert_eq!(keys, [None, Some("b"), Some("cc")]);
        assert_eq!(root.get("cc").and_then(|v| v.as_str()), Some("3"));
        // A value kept apart from the text (an escape) is compared as its value.
        let d = &docs("\"a\\u0062\": 1\n")[0];
        let (k, _) = d.root().entries().next().unwrap();
        assert_eq!(k.as_str_among(&["ab"]), Some("ab"));
        assert_eq!(k.as_str_among(&["a\\u0062"]), None);
    }

    #[test]
    fn alias_bomb_loads_in_linear_space() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..40 {
            let p = i - 1;
            text.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"));
        }
        let d = &docs(&text)[0];
        assert!(d.len() < 1000);
    }

    #[test]
    fn errors_carry_a_byte_offset() {
        let text = "a: [1, 2\nb: c\n";
        let err = parse_stream(FileId(0), text).unwrap_err();
        assert!(err.offset <= text.len());
        assert!(!err.message.is_empty());
    }

    #[test]
    fn embedded_block_scalar_maps_lines_back_to_the_file() {
        let text = "spec:\n  helm:\n    values: |\n      ingress:\n        annotations:\n          cert-manager.io/cluster-issuer: letsencrypt\n";
        let d = &docs(text)[0];
        let values = d.root().path(&["spec", "helm", "values"]).unwrap();
        let inner = parse_embedded(d, values.id, text).unwrap();
        let issuer = inner[0]
            .root()
            .path(&["ingress", "annotations", "cert-manager.io/cluster-issuer"])
            .unwrap();
        assert_eq!(&text[issuer.span().range()], "letsencrypt");
    }

    #[test]
    fn yaml_embedded_in_embedded_yaml_is_placed_at_the_inner_scalar() {
        let text = "outer: |\n  x: 1\n  inner: |\n    k: v\n    l: [1, 2]\n  ---\n  y: 2\n";
        let d = &docs(text)[0];
        let outer = d.root().get("outer").unwrap();
        let mid = parse_embedded(d, outer.id, text).unwrap();
        assert_eq!(mid.len(), 2);
        let inner = mid[0].root().get("inner").unwrap();
        let at = inner.span();
        let nested = parse_embedded(&mid[0], inner.id, text).unwrap();
        let r = nested[0].root();
        assert!(nested[0].is_embedded());
        assert_eq!(r.str_at(&["k"]), Some("v"));
        for n in [
            r,
            r.get("k").unwrap(),
            r.get("l").unwrap().items().last().unwrap(),
        ] {
            assert_eq!(
                n.span(),
                Span::new(FileId(0), at.range().start..at.range().start)
            );
            assert_eq!(
                nested[0].file_offset(n.node().end() as usize),
                at.start as usize
            );
        }
        // The second document of the outer text keeps its own positions.
        let y = mid[1].root().get("y").unwrap();
        assert_eq!(&text[y.span().range()], "2");
        // An error in the nested text is placed there too.
        let bad = "outer: |\n  inner: |\n    k: [1\n";
        let d = &docs(bad)[0];
        let mid = parse_embedded(d, d.root().get("outer").unwrap().id, bad).unwrap();
        let inner = mid[0].root().get("inner").unwrap();
        let err = parse_embedded(&mid[0], inner.id, bad).unwrap_err();
        assert_eq!(err.offset, inner.span().start as usize);
    }

    #[test]
    fn flow_sequence_closed_at_its_key_column_loads_as_go_yaml_reads_it() {
        let text = "spec:\n  requirements:\n    - key: family\n      values: [\n        \"c5d\", \"m5d\",\n      \"r5d\"\n      ]\n    - key: gen\n      values: [\"3\"]\nlimits: {\ncpu: 1}\n";
        assert!(
            build(FileId(0), text, &Arc::from(text), &|c| c, None).is_err(),
            "saphyr alone rejects it"
        );
        let d = &docs(text)[0];
        let reqs: Vec<_> = d
            .root()
            .path(&["spec", "requirements"])
            .unwrap()
            .items()
            .collect();
        assert_eq!(reqs.len(), 2);
        let values: Vec<_> = reqs[0].get("values").unwrap().items().collect();
        assert_eq!(values.len(), 3);
        // Spans stay positions of the original text.
        assert_eq!(&text[values[2].span().range()], "\"r5d\"");
        assert_eq!(d.root().str_at(&["limits", "cpu"]), Some("1"));
    }

    #[test]
    fn what_go_yaml_rejects_too_stays_an_error() {
        // A block sequence whose items change indentation (go-yaml: "did not find expected
        // key"), an unclosed flow sequence, and a flow sequence inside a quoted string.
        let mixed = "spec:\n  volumeMounts:\n      - name: a\n        mountPath: /a\n    - name: b\n      mountPath: /b\n";
        let err = parse_stream(FileId(0), mixed).unwrap_err();
        assert_eq!(&mixed[..err.offset].matches('\n').count(), &4);
        assert!(parse_stream(FileId(0), "a: [1, 2\nb: c\n").is_err());
        assert!(parse_stream(FileId(0), "a: \"[\"\n  b: [\nc: 1\n").is_err());
        assert!(relax_flow_indentation("a: \"[x,\"\nb: 1\n").is_none());
        assert!(relax_flow_indentation("a: |\n  [x,\nb: 1\n").is_none());
    }

    #[test]
    fn nodes_are_small_fixed_records() {
        assert!(std::mem::size_of::<Node>() <= 12);
    }

    fn limited(text: &str, limit: u32) -> Result<Vec<YamlDoc>, YamlError> {
        build_limited(FileId(0), text, &Arc::from(text), &|c| c, None, limit)
    }

    #[test]
    fn documents_at_the_packing_limit_load_and_past_it_fail_as_too_large() {
        let too_large = |r: Result<Vec<YamlDoc>, YamlError>| match r {
            Err(e) => e.message.starts_with("document too large"),
            Ok(_) => false,
        };
        // Node ids: four nodes fit under a limit of 4, five do not.
        let d = &limited("[a, b, c]", 4).unwrap()[0];
        assert_eq!(d.len(), 4);
        assert_eq!(d.root().items().map(|i| i.as_str()).last(), Some(Some("c")));
        assert!(too_large(limited("[a, b, c, d]", 4)));
        // Copied scalars are numbered from 1.
        let d = &limited("[\"\\x41\", \"\\x42\", \"\\x43\"]", 4).unwrap()[0];
        let items: Vec<_> = d.root().items().map(|i| i.as_str().unwrap()).collect();
        assert_eq!(items, ["A", "B", "C"]);
        // A lone copied scalar is node 0 but copied scalar 1; a verbatim one copies nothing.
        assert!(too_large(limited("\"\\x41\"", 1)));
        assert_eq!(
            limited("\"\\x41\"", 2).unwrap()[0].root().as_str(),
            Some("A")
        );
        assert_eq!(limited("'A'", 1).unwrap()[0].root().as_str(), Some("A"));
        // The child pool: the outer of three nested sequences starts at entry 3 (the
        // innermost's count, the middle's count and child).
        assert!(too_large(limited("[[[]]]", 3)));
        let d = &limited("[[[]]]", 4).unwrap()[0];
        let middle = d.root().items().next().unwrap();
        assert_eq!(middle.items().count(), 1);
        assert_eq!(middle.items().next().unwrap().items().count(), 0);
        // An alias to the last node the limit allows.
        let d = &limited("[&x a, *x]", 3).unwrap()[0];
        let items: Vec<_> = d.root().items().map(|i| i.as_str().unwrap()).collect();
        assert_eq!(items, ["a", "a"]);
        // The error points into the text.
        let text = "a: [1, 2, 3]\nb: [4, 5, 6]\n";
        let err = limited(text, 6).unwrap_err();
        assert!(err.offset <= text.len());
        // The real limit is far past any document preflight reads.
        assert_eq!(MAX_PAYLOAD, (1 << 29) - 1);
    }

    #[test]
    fn scalars_read_from_the_text_or_copied_give_the_same_values() {
        let text = "plain: value\n'single': 'it''s'\n\"double\": \"x\\ty\"\nq1: 'ok'\nq2: \"ok\"\ne1: ''\ne2: \"\"\nnull:\nfolded: one\n  two\nflow: {k: v, 'k2': \"v2\"}\nlit: |\n  a\nmulti: \"a\n  b\"\n";
        let d = &docs(text)[0];
        let r = d.root();
        let keys: Vec<_> = r.entries().map(|(k, _)| k.as_str().unwrap()).collect();
        assert_eq!(
            keys,
            [
                "plain", "single", "double", "q1", "q2", "e1", "e2", "null", "folded", "flow",
                "lit", "multi"
            ]
        );
        assert_eq!(r.str_at(&["plain"]), Some("value"));
        assert_eq!(r.str_at(&["single"]), Some("it's"));
        assert_eq!(r.str_at(&["double"]), Some("x\ty"));
        assert_eq!(r.str_at(&["q1"]), Some("ok"));
        assert_eq!(r.get("q1").unwrap().style(), Some(Style::SingleQuoted));
        assert_eq!(r.str_at(&["q2"]), Some("ok"));
        assert_eq!(r.get("e1").unwrap().as_str(), Some(""));
        assert_eq!(r.get("e2").unwrap().as_str(), Some(""));
        assert!(!r.get("e2").unwrap().is_null());
        assert!(r.get("null").unwrap().is_null());
        assert_eq!(r.str_at(&["folded"]), Some("one two"));
        assert_eq!(r.str_at(&["flow", "k"]), Some("v"));
        assert_eq!(r.str_at(&["flow", "k2"]), Some("v2"));
        assert_eq!(r.str_at(&["lit"]), Some("a\n"));
        assert_eq!(r.str_at(&["multi"]), Some("a b"));
        // The spans are the scalars' text, quotes included.
        assert_eq!(&text[r.get("q2").unwrap().span().range()], "\"ok\"");
        // A document of verbatim scalars copies nothing.
        let d = &docs("a: 'x'\nb: \"y\"\nc: [1, {d: e}]\n")[0];
        assert!(d.rare.is_none());
        assert_eq!(d.root().str_at(&["b"]), Some("y"));
    }

    #[test]
    fn a_file_s_documents_share_its_text() {
        let text: Arc<str> = Arc::from("a: 1\n---\nb: 2\n");
        let ds = parse_source(FileId(0), &text).unwrap();
        assert_eq!(ds.len(), 2);
        assert_eq!(ds.capacity(), 2);
        assert!(ds.iter().all(|d| Arc::ptr_eq(&d.text, &text)));
        assert_eq!(ds[1].root().str_at(&["b"]), Some("2"));
    }

    #[test]
    fn scalar_values_after_multibyte_and_escaped_scalars() {
        let text = "a: \"h\\u00e9llo\\t\\x41\\\"\"\nb: 'wörld ''x'''\nc: plain\nd: |\n  line\n  ünï\ne: \"\"\nf: last\n";
        let d = &docs(text)[0];
        let r = d.root();
        assert_eq!(r.str_at(&["a"]), Some("h\u{e9}llo\tA\""));
        assert_eq!(r.get("a").unwrap().style(), Some(Style::DoubleQuoted));
        assert_eq!(r.str_at(&["b"]), Some("wörld 'x'"));
        assert_eq!(r.get("b").unwrap().style(), Some(Style::SingleQuoted));
        assert_eq!(r.str_at(&["c"]), Some("plain"));
        assert_eq!(r.str_at(&["d"]), Some("line\nünï\n"));
        assert_eq!(r.get("d").unwrap().style(), Some(Style::Literal));
        assert_eq!(r.get("e").unwrap().as_str(), Some(""));
        assert!(
            !r.get("e").unwrap().is_null(),
            "a quoted empty string is not null"
        );
        assert_eq!(r.str_at(&["f"]), Some("last"));
        assert_eq!(&text[r.get("f").unwrap().span().range()], "last");
        let keys: Vec<_> = r.entries().map(|(k, _)| k.as_str().unwrap()).collect();
        assert_eq!(keys, ["a", "b", "c", "d", "e", "f"]);
    }

    #[test]
    fn empty_documents_have_one_null_root() {
        for text in ["", "# only a comment\n", "---\n", "--- \n...\n"] {
            for d in &docs(text) {
                assert_eq!(d.len(), 1, "{text:?}");
                assert!(d.root().is_null(), "{text:?}");
                assert_eq!(d.root().as_str(), Some(""));
                assert_eq!(d.root().entries().count(), 0);
                assert_eq!(d.root().items().count(), 0);
            }
        }
        let ds = docs("---\n---\na: 1\n");
        assert_eq!(ds.len(), 2);
        assert!(ds[0].root().is_null());
        assert_eq!(ds[1].root().str_at(&["a"]), Some("1"));
    }

    #[test]
    fn nested_collections_keep_their_own_children() {
        let text = "spec:\n  a:\n    - {name: x, ports: [1, 2]}\n    - name: y\n      ports: []\n  b:\n    - name: z\n      env: {k: v}\n  c: end\n";
        let d = &docs(text)[0];
        let spec = d.root().get("spec").unwrap();
        let keys: Vec<_> = spec.entries().map(|(k, _)| k.as_str().unwrap()).collect();
        assert_eq!(keys, ["a", "b", "c"]);
        let a: Vec<_> = spec.get("a").unwrap().items().collect();
        assert_eq!(a.len(), 2);
        assert_eq!(a[0].str_at(&["name"]), Some("x"));
        let ports: Vec<_> = a[0]
            .get("ports")
            .unwrap()
            .items()
            .map(|p| p.as_str().unwrap())
            .collect();
        assert_eq!(ports, ["1", "2"]);
        assert_eq!(a[1].str_at(&["name"]), Some("y"));
        assert!(a[1].get("ports").unwrap().is_seq());
        assert_eq!(a[1].get("ports").unwrap().items().count(), 0);
        let b: Vec<_> = spec.get("b").unwrap().items().collect();
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].str_at(&["name"]), Some("z"));
        assert_eq!(b[0].str_at(&["env", "k"]), Some("v"));
        assert_eq!(spec.str_at(&["c"]), Some("end"));
        // The borrowed view agrees with the readers.
        let Kind::Map(pairs) = spec.kind() else {
            panic!("a mapping")
        };
        assert_eq!(pairs.len(), 3);
        let c = Yaml {
            doc: d,
            id: pairs[2][1],
        };
        assert_eq!(c.as_str(), Some("end"));
        let Kind::Seq(items) = spec.get("a").unwrap().kind() else {
            panic!("a sequence")
        };
        assert_eq!(items, [a[0].id, a[1].id]);
        // Every node but the root is the child of exactly one collection.
        let children: usize = d
            .all()
            .map(|n| match n.kind() {
                Kind::Seq(i) => i.len(),
                Kind::Map(e) => 2 * e.len(),
                _ => 0,
            })
            .sum();
        assert_eq!(children + 1, d.len());
    }

    #[test]
    fn tags_are_kept_on_the_tagged_nodes() {
        let text = "a: !!str 1\nb: !Ref x\nc: !custom [1]\nd: 2\ne: !!map {k: v}\n";
        let d = &docs(text)[0];
        let r = d.root();
        let tag = |k: &str| r.get(k).unwrap().tag();
        assert_eq!(tag("a"), Some("tag:yaml.org,2002:str"));
        assert_eq!(tag("b"), Some("!Ref"));
        assert_eq!(tag("c"), Some("!custom"));
        assert_eq!(tag("d"), None);
        assert_eq!(tag("e"), Some("tag:yaml.org,2002:map"));
        assert_eq!(r.str_at(&["b"]), Some("x"));
        assert_eq!(r.str_at(&["e", "k"]), Some("v"));
        assert_eq!(r.tag(), None);
        assert_eq!(d.all().filter(|n| n.tag().is_some()).count(), 4);
    }

    #[test]
    fn an_alias_to_an_anchored_sequence_reads_as_the_sequence() {
        let d = &docs("base: &l [1, {k: v}]\nuse: *l\n")[0];
        let base = d.root().get("base").unwrap();
        let used = d.root().get("use").unwrap();
        assert_eq!(used.id, base.id);
        assert!(used.is_seq());
        let items: Vec<_> = used.items().collect();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].as_str(), Some("1"));
        assert_eq!(items[1].str_at(&["k"]), Some("v"));
        // The alias node itself stays an alias to the anchored node.
        let Kind::Map(pairs) = d.root().kind() else {
            panic!("a mapping")
        };
        let alias = Yaml {
            doc: d,
            id: pairs[1][1],
        };
        assert_eq!(alias.kind(), Kind::Alias(Some(base.id)));
        assert_eq!(alias.resolved().id, base.id);
    }

    #[test]
    fn alias_bomb_node_count_is_one_per_event() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..40 {
            let p = i - 1;
            text.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"));
        }
        let d = &docs(&text)[0];
        // The root mapping, and per line a key, a sequence and its ten items.
        assert_eq!(d.len(), 1 + 40 * 12);
        let last = d.root().get("a39").unwrap();
        assert_eq!(last.items().count(), 10);
        let first = last.items().next().unwrap();
        assert_eq!(first.id, d.root().get("a38").unwrap().id);
    }

    #[test]
    fn deep_nesting_does_not_overflow_the_stack() {
        let text = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        // Either parses or reports an error; never crashes.
        let _ = parse_stream(FileId(0), &text);
    }

    /// The events of a parse, each with its span, up to the first error (without its place:
    /// upstream, a `str` and a character stream place some errors after a `%` directive
    /// differently, counting bytes or characters).
    fn events<'a, T: saphyr_parser::Input>(parser: Parser<'a, T>) -> Vec<String> {
        let mut out = Vec::new();
        for e in parser.take(10_000) {
            match e {
                Ok((ev, span)) => out.push(format!("{ev:?} {span:?}")),
                Err(e) => {
                    out.push(format!("error {}", e.info()));
                    break;
                }
            }
        }
        out
    }

    #[test]
    fn plain_scalars_borrowed_from_the_text_read_as_the_copying_scanner_reads_them() {
        // The vendored scanner borrows a plain scalar's value from a `str` input and skips its
        // characters at once (vendor/saphyr-parser/PATCHES.md); reading the same text as a
        // stream of characters goes the upstream way, one character at a time into a copy.
        let pieces = [
            "a",
            "key",
            "b c",
            "x: y",
            "- ",
            "  ",
            "\t",
            "#c",
            " #c",
            "\n",
            "\r\n",
            "\n\n",
            "é",
            "ü b",
            "{a: b}",
            "[a, b]",
            "\u{feff}",
            "\0",
            "a\u{feff}b",
            "€:",
            "{a:€, b: [c:d]}",
            "'q'",
            "\"d\"",
            "? ",
            ": ",
            "-",
            "---",
            "...",
            "|\n  l",
            ">\n  f",
            "&a ",
            "*a",
            "!t ",
            "%",
            "a#b",
            "a:b",
            "http://x:80/p",
            " ",
            "\n  ",
            "\n    ",
            "\n ",
            "\n\t",
            ",",
            "]",
            "}",
        ];
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut folded = 0;
        for k in 0..20_000 {
            let mut text = String::new();
            for _ in 0..(k % 24) + 1 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                text.push_str(pieces[(x % pieces.len() as u64) as usize]);
            }
            let borrowed = events(Parser::new_from_str(&text));
            assert_eq!(
                borrowed,
                events(Parser::new_from_iter(text.chars())),
                "{text:?}"
            );
            folded += usize::from(borrowed.iter().any(|e| {
                e.strip_prefix("Scalar(\"")
                    .and_then(|v| v.split_once("\", Plain"))
                    .is_some_and(|(v, _)| v.contains(' ') || v.contains("\\n"))
            }));
        }
        // The inputs reach scalars that fold lines and keep inner blanks.
        assert!(folded > 1_000, "{folded}");
        // And the values themselves.
        let d =
            &docs("a: b  c \nf: one\n\n  two\n   three\nu: ünï wörld\nl: x:y#z # c\nm: {k: v:w}\n")
                [0];
        let r = d.root();
        assert_eq!(r.str_at(&["a"]), Some("b  c"));
        assert_eq!(r.str_at(&["f"]), Some("one\ntwo three"));
        assert_eq!(r.str_at(&["u"]), Some("ünï wörld"));
        assert_eq!(r.str_at(&["l"]), Some("x:y#z"));
        assert_eq!(r.str_at(&["m", "k"]), Some("v:w"));
    }
}
