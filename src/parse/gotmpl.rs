//! Go `text/template` (the language of Helm chart templates) with byte spans.
//!
//! A small hand-written lexer and parser: the syntax is small and stable, and the
//! maintained alternatives keep no positions. It accepts what Go's `text/template/parse`
//! accepts (trim markers, comments, pipelines, variables, `if`/`else if`/`range`/`with`/
//! `define`/`block`/`template`/`break`/`continue`) and reports the first error with its
//! offset and what is missing, as `helm template` would reject the file.

/// A byte range in the template's file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Pos {
    pub start: u32,
    pub end: u32,
}

impl Pos {
    fn new(start: usize, end: usize) -> Pos {
        Pos {
            start: start as u32,
            end: end.max(start) as u32,
        }
    }
}

/// A parsed template file: its top-level body and its `define`d templates.
#[derive(Clone, Debug, Default)]
pub struct Template {
    pub body: Vec<Node>,
    pub defines: Vec<Define>,
}

#[derive(Clone, Debug)]
pub struct Define {
    pub name: String,
    pub pos: Pos,
    pub body: Vec<Node>,
}

#[derive(Clone, Debug)]
pub enum Node {
    /// Literal text (after trim markers), as a range of the file.
    Text(Pos),
    /// `{{ pipeline }}`; `pos` covers the whole action.
    Action {
        pos: Pos,
        pipe: Pipe,
    },
    /// `if` / `else if` branches, then the optional `else`.
    If {
        pos: Pos,
        branches: Vec<(Pipe, Vec<Node>)>,
        otherwise: Option<Vec<Node>>,
    },
    With {
        pos: Pos,
        branches: Vec<(Pipe, Vec<Node>)>,
        otherwise: Option<Vec<Node>>,
    },
    Range {
        pos: Pos,
        pipe: Pipe,
        body: Vec<Node>,
        otherwise: Option<Vec<Node>>,
    },
    /// `template "name" pipeline` (also the call half of `block`).
    Template {
        pos: Pos,
        name: String,
        pipe: Option<Pipe>,
    },
    Break(Pos),
    Continue(Pos),
}

/// `$x := cmd | cmd`.
#[derive(Clone, Debug)]
pub struct Pipe {
    pub pos: Pos,
    pub decl: Vec<String>,
    /// `=` (assignment to declared variables) rather than `:=`.
    pub assign: bool,
    pub cmds: Vec<Cmd>,
}

#[derive(Clone, Debug)]
pub struct Cmd {
    pub pos: Pos,
    pub args: Vec<Arg>,
}

#[derive(Clone, Debug)]
pub enum Arg {
    /// `.` (empty chain) or `.a.b`.
    Field {
        pos: Pos,
        chain: Vec<String>,
    },
    /// `$` / `$x` with an optional `.a.b` chain.
    Var {
        pos: Pos,
        name: String,
        chain: Vec<String>,
    },
    /// A function name.
    Ident {
        pos: Pos,
        name: String,
    },
    /// `(pipeline).a.b`: a parenthesised pipeline, optionally followed by fields.
    Paren {
        pos: Pos,
        pipe: Box<Pipe>,
        chain: Vec<String>,
    },
    Str {
        pos: Pos,
        value: String,
    },
    Int {
        pos: Pos,
        value: i64,
    },
    Float {
        pos: Pos,
        value: f64,
    },
    Bool {
        pos: Pos,
        value: bool,
    },
    Nil(Pos),
}

impl Arg {
    pub fn pos(&self) -> Pos {
        match self {
            Arg::Field { pos, .. }
            | Arg::Var { pos, .. }
            | Arg::Ident { pos, .. }
            | Arg::Paren { pos, .. }
            | Arg::Str { pos, .. }
            | Arg::Int { pos, .. }
            | Arg::Float { pos, .. }
            | Arg::Bool { pos, .. } => *pos,
            Arg::Nil(pos) => *pos,
        }
    }
}

/// The first syntax error of a template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateError {
    /// Byte offset of the error.
    pub offset: usize,
    pub end: usize,
    pub message: String,
    /// A related position (the opening `{{ if }}` of a missing `{{ end }}`).
    pub related: Option<(usize, String)>,
}

/// Parse a template file. `text` is the whole file.
pub fn parse(text: &str) -> Result<Template, TemplateError> {
    let items = lex(text)?;
    let mut p = Parser {
        text,
        items,
        i: 0,
        defines: Vec::new(),
        depth: 0,
    };
    let (body, end) = p.list(&[])?;
    if let Some(stop) = end {
        return Err(stop.unexpected());
    }
    Ok(Template {
        body,
        defines: p.defines,
    })
}

// ---------------------------------------------------------------------------------------
// Lexing: text and actions, each action a list of tokens.

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Field(String),
    Dot,
    Var(String),
    Ident(String),
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Nil,
    LParen,
    RParen,
    Pipe,
    Declare,
    Assign,
    Comma,
}

#[derive(Clone, Debug)]
struct Token {
    tok: Tok,
    pos: Pos,
    /// Whether whitespace precedes it (a field chain must follow its operand directly).
    spaced: bool,
}

#[derive(Clone, Debug)]
enum Item {
    Text(Pos),
    Action { pos: Pos, toks: Vec<Token> },
}

const KEYWORDS: &[&str] = &[
    "if", "else", "end", "range", "with", "define", "template", "block", "break", "continue",
];

fn err(offset: usize, end: usize, message: impl Into<String>) -> TemplateError {
    TemplateError {
        offset,
        end: end.max(offset),
        message: message.into(),
        related: None,
    }
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn lex(text: &str) -> Result<Vec<Item>, TemplateError> {
    let bytes = text.as_bytes();
    let mut items: Vec<Item> = Vec::new();
    let mut pos = 0;
    let mut trim_next = false;
    while pos <= bytes.len() {
        let open = text[pos..].find("{{").map(|i| pos + i);
        let text_end = open.unwrap_or(bytes.len());
        let mut start = pos;
        if trim_next {
            while start < text_end && is_space(bytes[start]) {
                start += 1;
            }
        }
        let Some(open) = open else {
            if start < text_end {
                items.push(Item::Text(Pos::new(start, text_end)));
            }
            break;
        };
        // `{{- ` trims the text before.
        let left_trim =
            bytes.get(open + 2) == Some(&b'-') && bytes.get(open + 3).is_some_and(|&b| is_space(b));
        let mut end = text_end;
        if left_trim {
            while end > start && is_space(bytes[end - 1]) {
                end -= 1;
            }
        }
        if start < end {
            items.push(Item::Text(Pos::new(start, end)));
        }
        let mut i = open + if left_trim { 3 } else { 2 };
        // A comment: `{{/* … */}}`, spaces allowed around it only with trim markers.
        let mut j = i;
        while j < bytes.len() && is_space(bytes[j]) {
            j += 1;
        }
        if text[j..].starts_with("/*") {
            let Some(close) = text[j + 2..].find("*/").map(|c| j + 2 + c + 2) else {
                return Err(err(open, j + 2, "unclosed comment: `*/` is missing"));
            };
            let mut k = close;
            while k < bytes.len() && is_space(bytes[k]) {
                k += 1;
            }
            let right_trim = text[k..].starts_with("-}}") && k > close;
            if right_trim {
                pos = k + 3;
                trim_next = true;
            } else if text[close..].starts_with("}}") {
                pos = close + 2;
                trim_next = false;
            } else {
                return Err(err(
                    close,
                    close + 1,
                    "comment ends without closing the action: `*/}}` expected",
                ));
            }
            continue;
        }
        let mut toks = Vec::new();
        let mut spaced = true;
        loop {
            let Some(&b) = bytes.get(i) else {
                return Err(TemplateError {
                    offset: open,
                    end: open + 2,
                    message: "unclosed action: `}}` is missing".into(),
                    related: None,
                });
            };
            if is_space(b) {
                // ` -}}` trims the text after.
                let mut k = i;
                while k < bytes.len() && is_space(bytes[k]) {
                    k += 1;
                }
                if text[k..].starts_with("-}}") {
                    pos = k + 3;
                    trim_next = true;
                    break;
                }
                i = k;
                spaced = true;
                continue;
            }
            if text[i..].starts_with("}}") {
                pos = i + 2;
                trim_next = false;
                break;
            }
            let (tok, next) = lex_token(text, i, open)?;
            toks.push(Token {
                tok,
                pos: Pos::new(i, next),
                spaced,
            });
            spaced = false;
            i = next;
        }
        items.push(Item::Action {
            pos: Pos::new(open, pos),
            toks,
        });
        if pos >= bytes.len() {
            break;
        }
    }
    Ok(items)
}

fn ident_end(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len()
        && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] >= 0x80)
    {
        i += 1;
    }
    i
}

fn lex_token(text: &str, i: usize, open: usize) -> Result<(Tok, usize), TemplateError> {
    let bytes = text.as_bytes();
    let b = bytes[i];
    let one = |t: Tok| Ok((t, i + 1));
    match b {
        b'(' => one(Tok::LParen),
        b')' => one(Tok::RParen),
        b'|' => one(Tok::Pipe),
        b',' => one(Tok::Comma),
        b'=' => one(Tok::Assign),
        b':' if bytes.get(i + 1) == Some(&b'=') => Ok((Tok::Declare, i + 2)),
        b'.' => {
            let next = bytes.get(i + 1).copied();
            if next.is_some_and(|c| c.is_ascii_digit()) {
                return lex_number(text, i);
            }
            let e = ident_end(bytes, i + 1);
            if e == i + 1 {
                one(Tok::Dot)
            } else {
                Ok((Tok::Field(text[i + 1..e].to_string()), e))
            }
        }
        b'$' => {
            let e = ident_end(bytes, i + 1);
            Ok((Tok::Var(text[i..e].to_string()), e))
        }
        b'"' => {
            let mut j = i + 1;
            let mut out = String::new();
            loop {
                match bytes.get(j) {
                    None | Some(b'\n') => {
                        return Err(err(i, j, "unterminated quoted string: `\"` is missing"));
                    }
                    Some(b'"') => break,
                    Some(b'\\') => {
                        let (c, n) = unescape(text, j)
                            .ok_or_else(|| err(j, j + 2, "bad escape sequence in quoted string"))?;
                        out.push_str(&c);
                        j = n;
                    }
                    Some(_) => {
                        let ch = text[j..].chars().next().unwrap_or('\u{fffd}');
                        out.push(ch);
                        j += ch.len_utf8();
                    }
                }
            }
            Ok((Tok::Str(out), j + 1))
        }
        b'`' => match text[i + 1..].find('`') {
            Some(e) => Ok((Tok::Str(text[i + 1..i + 1 + e].to_string()), i + 1 + e + 1)),
            None => Err(err(i, i + 1, "unterminated raw string: '`' is missing")),
        },
        b'\'' => {
            let rest = &text[i + 1..];
            let (value, len) = if let Some(r) = rest.strip_prefix('\\') {
                let (c, n) = unescape(text, i + 1)
                    .ok_or_else(|| err(i, i + 2, "bad escape sequence in character constant"))?;
                let _ = r;
                (c.chars().next().map_or(0, |c| c as i64), n - (i + 1))
            } else {
                let c = rest.chars().next().unwrap_or('\0');
                (c as i64, c.len_utf8())
            };
            if bytes.get(i + 1 + len) != Some(&b'\'') {
                return Err(err(i, i + 1, "unterminated character constant"));
            }
            Ok((Tok::Int(value), i + 1 + len + 1))
        }
        b'0'..=b'9' | b'-' | b'+' => lex_number(text, i),
        b'}' => Err(TemplateError {
            offset: i,
            end: i + 1,
            message: "unclosed action: a single `}` where `}}` should close it".into(),
            related: Some((open, "the action opens here".into())),
        }),
        _ if b.is_ascii_alphabetic() || b == b'_' || b >= 0x80 => {
            let e = ident_end(bytes, i);
            let word = &text[i..e];
            let tok = match word {
                "true" => Tok::Bool(true),
                "false" => Tok::Bool(false),
                "nil" => Tok::Nil,
                _ => Tok::Ident(word.to_string()),
            };
            Ok((tok, e))
        }
        _ => {
            let ch = text[i..].chars().next().unwrap_or('?');
            Err(err(
                i,
                i + ch.len_utf8(),
                format!("unexpected character `{ch}` in action"),
            ))
        }
    }
}

fn unescape(text: &str, j: usize) -> Option<(String, usize)> {
    let c = *text.as_bytes().get(j + 1)?;
    let simple = match c {
        b'n' => Some('\n'),
        b't' => Some('\t'),
        b'r' => Some('\r'),
        b'\\' => Some('\\'),
        b'"' => Some('"'),
        b'\'' => Some('\''),
        b'a' => Some('\u{7}'),
        b'b' => Some('\u{8}'),
        b'f' => Some('\u{c}'),
        b'v' => Some('\u{b}'),
        _ => None,
    };
    if let Some(s) = simple {
        return Some((s.to_string(), j + 2));
    }
    let len = match c {
        b'x' => 2,
        b'u' => 4,
        b'U' => 8,
        _ => return None,
    };
    let hex = text.get(j + 2..j + 2 + len)?;
    let n = u32::from_str_radix(hex, 16).ok()?;
    Some((char::from_u32(n)?.to_string(), j + 2 + len))
}

fn lex_number(text: &str, i: usize) -> Result<(Tok, usize), TemplateError> {
    let bytes = text.as_bytes();
    let mut e = i;
    if matches!(bytes[e], b'-' | b'+') {
        e += 1;
    }
    while e < bytes.len()
        && (bytes[e].is_ascii_alphanumeric()
            || bytes[e] == b'.'
            || bytes[e] == b'_'
            || (matches!(bytes[e], b'+' | b'-') && matches!(bytes[e - 1], b'e' | b'E')))
    {
        e += 1;
    }
    let raw = text[i..e].replace('_', "");
    let (neg, body) = match raw.strip_prefix('-') {
        Some(b) => (true, b.to_string()),
        None => (false, raw.trim_start_matches('+').to_string()),
    };
    let int = if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        i64::from_str_radix(h, 16).ok()
    } else if let Some(o) = body.strip_prefix("0o") {
        i64::from_str_radix(o, 8).ok()
    } else if let Some(b) = body.strip_prefix("0b") {
        i64::from_str_radix(b, 2).ok()
    } else {
        body.parse::<i64>().ok()
    };
    if let Some(n) = int {
        return Ok((Tok::Int(if neg { -n } else { n }), e));
    }
    match body.parse::<f64>() {
        Ok(f) if !body.is_empty() => Ok((Tok::Float(if neg { -f } else { f }), e)),
        _ => Err(err(i, e, format!("bad number syntax: `{}`", &text[i..e]))),
    }
}

// ---------------------------------------------------------------------------------------
// Parsing.

/// What ended a list: `{{ end }}`, `{{ else … }}`, or the end of a `define` body.
#[derive(Debug)]
struct Stop {
    kind: StopKind,
    pos: Pos,
    /// Tokens after `else` (`else if x`).
    rest: Vec<Token>,
}

#[derive(Debug, PartialEq)]
enum StopKind {
    End,
    Else,
}

impl Stop {
    fn unexpected(&self) -> TemplateError {
        let what = match self.kind {
            StopKind::End => "`{{ end }}`",
            StopKind::Else => "`{{ else }}`",
        };
        err(
            self.pos.start as usize,
            self.pos.end as usize,
            format!("unexpected {what}: no `if`, `range`, `with`, `define` or `block` is open"),
        )
    }
}

struct Parser<'t> {
    text: &'t str,
    items: Vec<Item>,
    i: usize,
    defines: Vec<Define>,
    depth: usize,
}

const MAX_DEPTH: usize = 48;

impl Parser<'_> {
    /// Nodes up to a `{{ end }}` or `{{ else }}` (returned) or the end of the file (`None`).
    fn list(&mut self, open: &[(&str, Pos)]) -> Result<(Vec<Node>, Option<Stop>), TemplateError> {
        let mut nodes = Vec::new();
        while self.i < self.items.len() {
            // Each item is read once: taken, not copied with its tokens.
            let item = std::mem::replace(&mut self.items[self.i], Item::Text(Pos::new(0, 0)));
            self.i += 1;
            match item {
                Item::Text(p) => nodes.push(Node::Text(p)),
                Item::Action { pos, toks } => {
                    let Some(first) = toks.first() else {
                        return Err(err(
                            pos.start as usize,
                            pos.end as usize,
                            "empty action: `{{ }}` holds no pipeline",
                        ));
                    };
                    let kw = match &first.tok {
                        Tok::Ident(w) => KEYWORDS.iter().copied().find(|k| *k == w),
                        _ => None,
                    };
                    match kw {
                        Some("end") => {
                            if toks.len() > 1 {
                                return Err(err(
                                    toks[1].pos.start as usize,
                                    toks[1].pos.end as usize,
                                    "unexpected token after `end`",
                                ));
                            }
                            nodes.shrink_to_fit();
                            return Ok((
                                nodes,
                                Some(Stop {
                                    kind: StopKind::End,
                                    pos,
                                    rest: Vec::new(),
                                }),
                            ));
                        }
                        Some("else") => {
                            nodes.shrink_to_fit();
                            return Ok((
                                nodes,
                                Some(Stop {
                                    kind: StopKind::Else,
                                    pos,
                                    rest: toks[1..].to_vec(),
                                }),
                            ));
                        }
                        Some(k @ ("if" | "with")) => {
                            let node = self.branches(k, pos, &toks[1..], open)?;
                            nodes.push(node);
                        }
                        Some("range") => {
                            let pipe = self.pipeline(&toks[1..], pos, "range", true)?;
                            let (body, otherwise) = self.body_with_else("range", pos, open)?;
                            nodes.push(Node::Range {
                                pos,
                                pipe,
                                body,
                                otherwise,
                            });
                        }
                        Some(k @ ("define" | "block")) => {
                            let name = match toks.get(1).map(|t| &t.tok) {
                                Some(Tok::Str(s)) => s.clone(),
                                _ => {
                                    return Err(err(
                                        first.pos.start as usize,
                                        first.pos.end as usize,
                                        format!("`{k}` needs a quoted template name"),
                                    ));
                                }
                            };
                            let pipe = if k == "block" && toks.len() > 2 {
                                Some(self.pipeline(&toks[2..], pos, k, false)?)
                            } else if toks.len() > 2 {
                                return Err(err(
                                    toks[2].pos.start as usize,
                                    toks[2].pos.end as usize,
                                    "unexpected token after the `define` name",
                                ));
                            } else {
                                None
                            };
                            let (body, stop) = self.nested(k, pos, open)?;
                            match stop {
                                Some(Stop {
                                    kind: StopKind::End,
                                    ..
                                }) => {}
                                Some(s) => return Err(s.unexpected()),
                                None => return Err(missing_end(k, pos)),
                            }
                            self.defines.push(Define {
                                name: name.clone(),
                                pos,
                                body,
                            });
                            if k == "block" {
                                nodes.push(Node::Template { pos, name, pipe });
                            }
                        }
                        Some("template") => {
                            let name = match toks.get(1).map(|t| &t.tok) {
                                Some(Tok::Str(s)) => s.clone(),
                                _ => {
                                    return Err(err(
                                        first.pos.start as usize,
                                        first.pos.end as usize,
                                        "`template` needs a quoted template name",
                                    ));
                                }
                            };
                            let pipe = if toks.len() > 2 {
                                Some(self.pipeline(&toks[2..], pos, "template", false)?)
                            } else {
                                None
                            };
                            nodes.push(Node::Template { pos, name, pipe });
                        }
                        Some(k @ ("break" | "continue")) => {
                            if !open.iter().any(|(o, _)| *o == "range") {
                                return Err(err(
                                    pos.start as usize,
                                    pos.end as usize,
                                    format!("`{{{{ {k} }}}}` outside `{{{{ range }}}}`"),
                                ));
                            }
                            nodes.push(if k == "break" {
                                Node::Break(pos)
                            } else {
                                Node::Continue(pos)
                            });
                        }
                        _ => {
                            let pipe = self.pipeline(&toks, pos, "command", false)?;
                            nodes.push(Node::Action { pos, pipe });
                        }
                    }
                }
            }
        }
        nodes.shrink_to_fit();
        Ok((nodes, None))
    }

    fn nested(
        &mut self,
        kw: &'static str,
        pos: Pos,
        open: &[(&str, Pos)],
    ) -> Result<(Vec<Node>, Option<Stop>), TemplateError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(err(
                pos.start as usize,
                pos.end as usize,
                "too deeply nested",
            ));
        }
        let mut inner: Vec<(&str, Pos)> = open.to_vec();
        inner.push((kw, pos));
        let r = self.list(&inner);
        self.depth -= 1;
        r
    }

    fn body_with_else(
        &mut self,
        kw: &'static str,
        pos: Pos,
        open: &[(&str, Pos)],
    ) -> Result<(Vec<Node>, Option<Vec<Node>>), TemplateError> {
        let (body, stop) = self.nested(kw, pos, open)?;
        match stop {
            None => Err(missing_end(kw, pos)),
            Some(Stop {
                kind: StopKind::End,
                ..
            }) => Ok((body, None)),
            Some(Stop {
                pos: epos, rest, ..
            }) => {
                if !rest.is_empty() {
                    return Err(err(
                        epos.start as usize,
                        epos.end as usize,
                        format!("`else` of `{kw}` takes nothing after it"),
                    ));
                }
                let (other, stop) = self.nested(kw, pos, open)?;
                match stop {
                    Some(Stop {
                        kind: StopKind::End,
                        ..
                    }) => Ok((body, Some(other))),
                    Some(s) => Err(err(
                        s.pos.start as usize,
                        s.pos.end as usize,
                        format!("a second `{{{{ else }}}}` in one `{kw}`"),
                    )),
                    None => Err(missing_end(kw, pos)),
                }
            }
        }
    }

    /// `if`/`with` with `else if`/`else with` chains.
    fn branches(
        &mut self,
        kw: &'static str,
        pos: Pos,
        toks: &[Token],
        open: &[(&str, Pos)],
    ) -> Result<Node, TemplateError> {
        let mut branches = Vec::new();
        let mut cond = self.pipeline(toks, pos, kw, kw == "with")?;
        loop {
            let (body, stop) = self.nested(kw, pos, open)?;
            branches.push((cond, body));
            branches.shrink_to_fit();
            match stop {
                None => return Err(missing_end(kw, pos)),
                Some(Stop {
                    kind: StopKind::End,
                    ..
                }) => {
                    return Ok(make_branch(kw, pos, branches, None));
                }
                Some(Stop {
                    pos: epos, rest, ..
                }) => {
                    let chained =
                        matches!(rest.first().map(|t| &t.tok), Some(Tok::Ident(w)) if w == kw);
                    if chained {
                        cond = self.pipeline(&rest[1..], epos, kw, kw == "with")?;
                        continue;
                    }
                    if let Some(t) = rest.first() {
                        return Err(err(
                            t.pos.start as usize,
                            t.pos.end as usize,
                            format!("unexpected token after `else` (only `else {kw}` may follow)"),
                        ));
                    }
                    let (other, stop) = self.nested(kw, pos, open)?;
                    return match stop {
                        Some(Stop {
                            kind: StopKind::End,
                            ..
                        }) => Ok(make_branch(kw, pos, branches, Some(other))),
                        Some(s) => Err(err(
                            s.pos.start as usize,
                            s.pos.end as usize,
                            format!("a second `{{{{ else }}}}` in one `{kw}`"),
                        )),
                        None => Err(missing_end(kw, pos)),
                    };
                }
            }
        }
    }

    /// A pipeline: optional declaration, then commands separated by `|`.
    fn pipeline(
        &mut self,
        toks: &[Token],
        action: Pos,
        ctx: &str,
        allow_two_vars: bool,
    ) -> Result<Pipe, TemplateError> {
        let mut decl = Vec::new();
        let mut assign = false;
        let mut rest = toks;
        // `$x :=`, `$x =`, `$i, $v :=`
        if let Some(Token {
            tok: Tok::Var(v), ..
        }) = rest.first()
        {
            match rest.get(1).map(|t| &t.tok) {
                Some(Tok::Declare) | Some(Tok::Assign) => {
                    assign = rest[1].tok == Tok::Assign;
                    decl.push(v.clone());
                    rest = &rest[2..];
                }
                Some(Tok::Comma) if allow_two_vars || ctx == "range" => {
                    if let (Some(Tok::Var(v2)), Some(t)) =
                        (rest.get(2).map(|t| &t.tok), rest.get(3))
                        && matches!(t.tok, Tok::Declare | Tok::Assign)
                    {
                        assign = t.tok == Tok::Assign;
                        decl.push(v.clone());
                        decl.push(v2.clone());
                        rest = &rest[4..];
                    } else {
                        return Err(err(
                            rest[1].pos.start as usize,
                            rest[1].pos.end as usize,
                            "expected `$a, $b :=` in a range declaration",
                        ));
                    }
                }
                _ => {}
            }
        }
        if rest.is_empty() {
            let at = toks.last().map_or(action, |t| t.pos);
            return Err(err(
                at.start as usize,
                at.end as usize,
                format!("missing value for {ctx}"),
            ));
        }
        let start = rest[0].pos.start as usize;
        let end = rest.last().map_or(start, |t| t.pos.end as usize);
        let mut cmds = Vec::new();
        let mut i = 0;
        while i < rest.len() {
            let (cmd, next) = self.command(rest, i)?;
            cmds.push(cmd);
            i = next;
            if i < rest.len() {
                if rest[i].tok == Tok::Pipe {
                    i += 1;
                    if i >= rest.len() {
                        return Err(err(
                            rest[i - 1].pos.start as usize,
                            rest[i - 1].pos.end as usize,
                            "missing command after `|`",
                        ));
                    }
                } else {
                    return Err(err(
                        rest[i].pos.start as usize,
                        rest[i].pos.end as usize,
                        format!("unexpected `{}` in {ctx}", self.slice(rest[i].pos)),
                    ));
                }
            }
        }
        decl.shrink_to_fit();
        cmds.shrink_to_fit();
        Ok(Pipe {
            pos: Pos::new(start, end),
            decl,
            assign,
            cmds,
        })
    }

    fn slice(&self, p: Pos) -> &str {
        self.text
            .get(p.start as usize..p.end as usize)
            .unwrap_or("?")
    }

    /// One command: operands up to `|`, `)` or the end.
    fn command(&mut self, toks: &[Token], mut i: usize) -> Result<(Cmd, usize), TemplateError> {
        let start = toks[i].pos.start as usize;
        let mut args = Vec::new();
        while i < toks.len() {
            match toks[i].tok {
                Tok::Pipe | Tok::RParen => break,
                _ => {}
            }
            let (arg, next) = self.operand(toks, i)?;
            args.push(arg);
            i = next;
        }
        if args.is_empty() {
            let t = &toks[i.min(toks.len() - 1)];
            return Err(err(
                t.pos.start as usize,
                t.pos.end as usize,
                "empty command",
            ));
        }
        let end = toks[i - 1].pos.end as usize;
        args.shrink_to_fit();
        Ok((
            Cmd {
                pos: Pos::new(start, end),
                args,
            },
            i,
        ))
    }

    /// Field names directly following an operand (`.a.b`).
    fn chain(toks: &[Token], mut i: usize, out: &mut Vec<String>) -> usize {
        while let Some(Token {
            tok: Tok::Field(f),
            spaced: false,
            ..
        }) = toks.get(i)
        {
            out.push(f.clone());
            i += 1;
        }
        out.shrink_to_fit();
        i
    }

    fn operand(&mut self, toks: &[Token], i: usize) -> Result<(Arg, usize), TemplateError> {
        let t = &toks[i];
        let p = t.pos;
        let arg = match &t.tok {
            Tok::Dot => Arg::Field {
                pos: p,
                chain: Vec::new(),
            },
            Tok::Field(f) => {
                let mut chain = vec![f.clone()];
                let next = Self::chain(toks, i + 1, &mut chain);
                let end = toks[next - 1].pos.end as usize;
                return Ok((
                    Arg::Field {
                        pos: Pos::new(p.start as usize, end),
                        chain,
                    },
                    next,
                ));
            }
            Tok::Var(v) => {
                let mut chain = Vec::new();
                let next = Self::chain(toks, i + 1, &mut chain);
                let end = toks[next - 1].pos.end as usize;
                return Ok((
                    Arg::Var {
                        pos: Pos::new(p.start as usize, end),
                        name: v.clone(),
                        chain,
                    },
                    next,
                ));
            }
            Tok::Ident(name) => {
                if let Some(fix) = keyword_typo(name) {
                    return Err(err(
                        p.start as usize,
                        p.end as usize,
                        format!(
                            "`{name}` is not a Go template keyword or function (`function \"{name}\" not defined`): {fix}"
                        ),
                    ));
                }
                if KEYWORDS.contains(&name.as_str()) {
                    return Err(err(
                        p.start as usize,
                        p.end as usize,
                        format!("unexpected keyword `{name}` inside a pipeline"),
                    ));
                }
                Arg::Ident {
                    pos: p,
                    name: name.clone(),
                }
            }
            Tok::Str(s) => Arg::Str {
                pos: p,
                value: s.clone(),
            },
            Tok::Int(n) => Arg::Int { pos: p, value: *n },
            Tok::Float(f) => Arg::Float { pos: p, value: *f },
            Tok::Bool(b) => Arg::Bool { pos: p, value: *b },
            Tok::Nil => Arg::Nil(p),
            Tok::LParen => {
                // Find the matching `)`.
                let mut depth = 0usize;
                let mut j = i;
                let close = loop {
                    match toks.get(j).map(|t| &t.tok) {
                        Some(Tok::LParen) => depth += 1,
                        Some(Tok::RParen) => {
                            depth -= 1;
                            if depth == 0 {
                                break j;
                            }
                        }
                        None => {
                            return Err(err(
                                p.start as usize,
                                p.end as usize,
                                "unclosed `(`: `)` is missing",
                            ));
                        }
                        _ => {}
                    }
                    j += 1;
                };
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return Err(err(p.start as usize, p.end as usize, "too deeply nested"));
                }
                let inner = self.pipeline(&toks[i + 1..close], p, "parenthesized pipeline", false);
                self.depth -= 1;
                let inner = inner?;
                let mut chain = Vec::new();
                let next = Self::chain(toks, close + 1, &mut chain);
                let end = toks[next - 1].pos.end as usize;
                return Ok((
                    Arg::Paren {
                        pos: Pos::new(p.start as usize, end),
                        pipe: Box::new(inner),
                        chain,
                    },
                    next,
                ));
            }
            Tok::RParen => {
                return Err(err(p.start as usize, p.end as usize, "unexpected `)`"));
            }
            Tok::Declare | Tok::Assign | Tok::Comma | Tok::Pipe => {
                return Err(err(
                    p.start as usize,
                    p.end as usize,
                    format!("unexpected `{}` in operand", self.slice(p)),
                ));
            }
        };
        Ok((arg, i + 1))
    }
}

/// Keywords of other template languages written in a Go template, and what Go spells
/// instead. None of them is a Go, sprig or Helm function, so Go's parser rejects them.
fn keyword_typo(name: &str) -> Option<&'static str> {
    Some(match name {
        "endif" | "endrange" | "endwith" | "enddefine" | "endblock" | "endfor" | "fi" | "done"
        | "endfunction" => "close the block with `{{ end }}`",
        "elif" | "elseif" | "elsif" | "elseIf" => "write `{{ else if … }}`",
        "foreach" | "for" => "iterate with `{{ range … }}`",
        "unless" => "write `{{ if not … }}`",
        _ => return None,
    })
}

fn missing_end(kw: &str, pos: Pos) -> TemplateError {
    err(
        pos.start as usize,
        pos.end as usize,
        format!("`{{{{ {kw} }}}}` is never closed: add `{{{{ end }}}}`"),
    )
}

fn make_branch(
    kw: &str,
    pos: Pos,
    branches: Vec<(Pipe, Vec<Node>)>,
    otherwise: Option<Vec<Node>>,
) -> Node {
    if kw == "if" {
        Node::If {
            pos,
            branches,
            otherwise,
        }
    } else {
        Node::With {
            pos,
            branches,
            otherwise,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A parsed chart's templates are kept for the whole check: the vectors the parser
    /// grows hold no spare capacity.
    #[test]
    fn parsed_templates_keep_no_spare_capacity() {
        let t = parse(
            "a{{ .Values.image.repository | default \"x\" | quote }}b\n{{ if .Values.on }}c{{ else if $v.a.b }}d{{ end }}{{ $x := (include \"n\" .).y }}",
        )
        .unwrap();
        fn walk_nodes(ns: &[Node], out: &mut Vec<(usize, usize)>) {
            for n in ns {
                match n {
                    Node::Action { pipe, .. } => walk_pipe(pipe, out),
                    Node::If { branches, .. } => {
                        for (p, body) in branches {
                            walk_pipe(p, out);
                            out.push((body.len(), body.capacity()));
                            walk_nodes(body, out);
                        }
                    }
                    _ => {}
                }
            }
        }
        fn walk_pipe(p: &Pipe, out: &mut Vec<(usize, usize)>) {
            out.push((p.decl.len(), p.decl.capacity()));
            out.push((p.cmds.len(), p.cmds.capacity()));
            for c in &p.cmds {
                out.push((c.args.len(), c.args.capacity()));
                for a in &c.args {
                    match a {
                        Arg::Field { chain, .. } | Arg::Var { chain, .. } => {
                            out.push((chain.len(), chain.capacity()))
                        }
                        Arg::Paren {
                            pipe: inner, chain, ..
                        } => {
                            out.push((chain.len(), chain.capacity()));
                            walk_pipe(inner, out);
                        }
                        _ => {}
                    }
                }
            }
        }
        let mut sizes = vec![(t.body.len(), t.body.capacity())];
        walk_nodes(&t.body, &mut sizes);
        assert!(sizes.len() > 12, "{sizes:?}");
        assert!(sizes.iter().all(|(len, cap)| len == cap), "{sizes:?}");
    }

    fn error_at(text: &str) -> (usize, String) {
        let e = parse(text).expect_err("should not parse");
        (e.offset, e.message)
    }

    #[test]
    fn parses_helm_shapes() {
        let t = r#"{{- define "app.labels" -}}
app: {{ .Chart.Name | quote }}
{{- end }}
{{/* a comment */}}
{{- range $i, $app := .Values.apps }}
{{- if and $app.enabled (ne $app.name "x") }}
name: {{ include "app.labels" . | nindent 2 }}
{{- else if $app.other }}
{{- else }}
{{- end }}
{{- with .Values.x }}{{ . }}{{ end }}
{{ $y := printf "%s-%d" "a" 3 }}{{ $y = "b" }}{{ `raw` }} {{ 'c' }} {{ 1.5 }} {{ -2 }}
{{- end }}
"#;
        let tpl = parse(t).expect("parses");
        assert_eq!(tpl.defines.len(), 1);
        assert_eq!(tpl.defines[0].name, "app.labels");
        assert!(tpl.body.iter().any(|n| matches!(n, Node::Range { .. })));
    }

    #[test]
    fn trim_markers_trim_text() {
        let t = "a  \n{{- 1 -}}\n  b";
        let tpl = parse(t).unwrap();
        let texts: Vec<&str> = tpl
            .body
            .iter()
            .filter_map(|n| match n {
                Node::Text(p) => Some(&t[p.start as usize..p.end as usize]),
                _ => None,
            })
            .collect();
        assert_eq!(texts, vec!["a", "b"]);
        // `{{-3}}` is the number -3, not a trim marker.
        assert!(parse("{{-3}}").is_ok());
    }

    #[test]
    fn reports_what_is_missing_where() {
        // A single `}` closing an action.
        let (at, msg) = error_at("a: 1\n{{- if .Values.x }}\nb: 2\n{{- end }\n");
        assert_eq!(at, "a: 1\n{{- if .Values.x }}\nb: 2\n{{- end ".len());
        assert!(msg.contains("`}}`"), "{msg}");
        // An `if` never closed: reported at the `if`.
        let (at, msg) = error_at("x\n{{ if .a }}\ny\n");
        assert_eq!(at, 2);
        assert!(msg.contains("add `{{ end }}`"), "{msg}");
        // A stray end.
        let (at, msg) = error_at("{{ end }}");
        assert_eq!(at, 0);
        assert!(msg.contains("unexpected"), "{msg}");
        // Unclosed at the end of the file.
        let (at, msg) = error_at("a {{ .x ");
        assert_eq!(at, 2);
        assert!(msg.contains("unclosed action"), "{msg}");
        // Keywords of other template languages.
        let (at, msg) = error_at("{{ if .a }}x{{ endif }}");
        assert_eq!(at, 15);
        assert!(msg.contains("`{{ end }}`"), "{msg}");
        assert!(parse("{{ if .a }}{{ elif .b }}{{ end }}").is_err());
        // Unknown keyword use, break outside range, unterminated string.
        assert!(parse("{{ else }}").is_err());
        assert!(parse("{{ break }}").is_err());
        assert!(parse("{{ \"abc }}").is_err());
        assert!(parse("{{ (1 }}").is_err());
        assert!(parse("{{ define \"x\" }}a").is_err());
        assert!(parse("{{ .a | }}").is_err());
        assert!(parse("{{ }}").is_err());
    }

    #[test]
    fn odd_input_never_panics() {
        for t in [
            "{{",
            "}}",
            "{{-",
            "{{- ",
            "{{/*",
            "{{/* */",
            "{{'",
            "{{'\\",
            "{{\"\\x",
            "{{ $ }}",
            "{{ .a.b.c }}",
            "{{ ( ) }}",
            "{{ ))) }}",
            "{{ 0x }}",
            "{{ 1e }}",
            "{{ - }}",
            "{{ é }}",
            "{{ $a, }}",
            "{{ range $a, $b }}{{end}}",
            "{{ if }}{{ end }}",
            "{{ with $x := 1 }}{{ else with 2 }}{{ end }}",
        ] {
            let _ = parse(t);
        }
        let deep = "{{ if 1 }}".repeat(1000);
        assert!(parse(&deep).is_err());
        let parens = format!("{{{{ {} }}}}", "(".repeat(1000));
        assert!(parse(&parens).is_err());
    }
}
