//! Evaluating chart templates: Go `text/template` semantics (short-circuit `and`/`or`,
//! variable scopes, `range` over lists, maps and integers, nil dereferences that fail the
//! render) over the values, with Helm's and sprig's common functions.
//!
//! What cannot be evaluated without the cluster or at random (`lookup`, `rand*`, `now`,
//! `genCA`, `.Capabilities.APIVersions.Has`, `.Files.Glob`) evaluates to
//! [`V::Unknown`]; printing or branching on it stops the file's render with "cannot tell".

use super::funcs;
use super::value::{V, Val};
use crate::parse::gotmpl::{Arg, Cmd, Node, Pipe, Pos};
use crate::parse::yaml::Segment;
use crate::repo::Repository;
use crate::source::{FileId, Span};
use std::collections::{BTreeMap, HashMap};

/// Why a template's render stopped.
#[derive(Clone, Debug)]
pub enum Stop {
    /// `helm template` fails here.
    Fail(Failure),
    /// Something preflight cannot evaluate decides the output.
    Unknown { span: Span, reason: String },
}

#[derive(Clone, Debug)]
pub struct Failure {
    /// The expression that fails.
    pub span: Span,
    pub kind: FailureKind,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// `.Values.a.b` where `.Values.a` is nil or missing: Go's "nil pointer evaluating
    /// interface {}.b". `path` is the expression, `missing` its nil prefix.
    NilValue { path: String, missing: String },
    /// `required "msg" x` with `x` empty.
    Required,
    /// `fail "msg"`.
    Fail,
    /// A type error, a missing template, a function misuse.
    Other,
}

pub type R<T> = Result<T, Stop>;

/// A piece of output and where it came from.
#[derive(Clone, Copy, Debug)]
struct Seg {
    at: u32,
    file: FileId,
    offset: u32,
    len: u32,
    /// Printed from a value (its origin is a values file), not template text.
    from_value: bool,
}

/// Rendered text with the origin of every piece.
#[derive(Default, Clone, Debug)]
pub struct Out {
    pub text: String,
    segs: Vec<Seg>,
}

impl Out {
    fn push(&mut self, s: &str, file: FileId, offset: u32, len: u32, from_value: bool) {
        if s.is_empty() {
            return;
        }
        self.segs.push(Seg {
            at: self.text.len() as u32,
            file,
            offset,
            len,
            from_value,
        });
        self.text.push_str(s);
    }

    /// Append `inner`, whose template pieces from other files are attributed to `at` in
    /// `file` (the `include`/`template` call).
    fn append(&mut self, inner: Out, file: FileId, at: u32) {
        let base = self.text.len() as u32;
        for s in inner.segs {
            let mut s = s;
            s.at += base;
            if !s.from_value && s.file != file {
                s.file = file;
                s.offset = at;
                s.len = 0;
            }
            self.segs.push(s);
        }
        self.text.push_str(&inner.text);
    }

    /// The segments for [`crate::parse::yaml::parse_generated`] of `text[range]`.
    pub fn segments(&self, range: std::ops::Range<usize>) -> Vec<Segment> {
        let mut out = Vec::new();
        for (i, s) in self.segs.iter().enumerate() {
            let end = self
                .segs
                .get(i + 1)
                .map_or(self.text.len() as u32, |n| n.at);
            if (end as usize) <= range.start || (s.at as usize) >= range.end {
                continue;
            }
            let at = (s.at as usize).max(range.start);
            let skip = (at - s.at as usize) as u32;
            out.push(Segment {
                at: (at - range.start) as u32,
                file: s.file,
                offset: if s.len == 0 {
                    s.offset
                } else {
                    s.offset + skip.min(s.len)
                },
                len: s.len.saturating_sub(skip),
                value: s.from_value,
            });
        }
        if out.first().is_none_or(|s| s.at != 0)
            && let Some(first) = out.first().copied()
        {
            out.insert(
                0,
                Segment {
                    at: 0,
                    len: 0,
                    ..first
                },
            );
        }
        out
    }

    /// The values spans printed into `text[range]`.
    pub fn value_spans(&self, range: std::ops::Range<usize>) -> Vec<Span> {
        self.segs
            .iter()
            .filter(|s| {
                s.from_value && (s.at as usize) >= range.start && (s.at as usize) < range.end
            })
            .map(|s| Span::new(s.file, s.offset as usize..(s.offset + s.len) as usize))
            .collect()
    }
}

/// Where template text comes from.
#[derive(Clone, Copy)]
struct Src<'t> {
    file: FileId,
    text: &'t str,
    /// Text not from the file (`tpl`): every piece is attributed to this offset.
    pin: Option<u32>,
}

impl Src<'_> {
    fn span(&self, p: Pos) -> Span {
        match self.pin {
            Some(at) => Span::new(self.file, at as usize..at as usize),
            None => Span::new(self.file, p.start as usize..p.end as usize),
        }
    }
}

enum Flow {
    Normal,
    Break,
    Continue,
}

pub const MAX_STEPS: usize = 400_000;
pub const MAX_OUTPUT: usize = 8 << 20;
const MAX_DEPTH: usize = 48;

pub struct Renderer<'r> {
    pub repo: &'r Repository,
    /// `define`d templates by name: the file and the body.
    pub defines: &'r HashMap<String, (FileId, &'r [Node])>,
    /// The chart's folder (for `.Files.Get`).
    pub chart_dir: String,
    pub root: Val,
    pub steps: usize,
    pub depth: usize,
}

impl<'r> Renderer<'r> {
    fn step(&mut self, src: &Src<'_>, p: Pos) -> R<()> {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            return Err(Stop::Unknown {
                span: src.span(p),
                reason: format!("the template takes more than {MAX_STEPS} steps to render"),
            });
        }
        Ok(())
    }

    /// Render a file's body with `.` as the top-level data.
    pub fn render_file(&mut self, file: FileId, nodes: &[Node]) -> R<Out> {
        let repo = self.repo;
        let src = Src {
            file,
            text: &repo.file(file).text,
            pin: None,
        };
        let mut out = Out::default();
        let root = self.root.clone();
        let mut vars = vec![("$".to_string(), root.clone())];
        self.walk(&src, nodes, &root, &mut vars, &mut out)?;
        Ok(out)
    }

    fn walk(
        &mut self,
        src: &Src<'_>,
        nodes: &[Node],
        dot: &Val,
        vars: &mut Vec<(String, Val)>,
        out: &mut Out,
    ) -> R<Flow> {
        for n in nodes {
            if out.text.len() > MAX_OUTPUT {
                return Err(Stop::Unknown {
                    span: src.span(Pos { start: 0, end: 0 }),
                    reason: "the rendered output is over 8 MB".into(),
                });
            }
            match n {
                Node::Text(p) => {
                    let s = &src.text[p.start as usize..p.end as usize];
                    match src.pin {
                        Some(at) => out.push(s, src.file, at, 0, false),
                        None => out.push(s, src.file, p.start, p.end - p.start, false),
                    }
                }
                Node::Action { pos, pipe } => {
                    self.step(src, *pos)?;
                    let v = self.pipe(src, pipe, dot, vars)?;
                    if !pipe.decl.is_empty() {
                        continue;
                    }
                    if let Some(r) = v.deep_unknown() {
                        return Err(Stop::Unknown {
                            span: src.span(*pos),
                            reason: r.to_string(),
                        });
                    }
                    let text = v.to_text();
                    match (v.origin, src.pin) {
                        (Some(o), _)
                            if matches!(v.v, V::Str(_) | V::Int(_) | V::Float(_) | V::Bool(_)) =>
                        {
                            out.push(&text, o.file, o.start, o.end - o.start, true)
                        }
                        (_, Some(at)) => out.push(&text, src.file, at, 0, false),
                        _ => out.push(&text, src.file, pos.start, 0, false),
                    }
                }
                Node::If {
                    pos,
                    branches,
                    otherwise,
                }
                | Node::With {
                    pos,
                    branches,
                    otherwise,
                } => {
                    let is_with = matches!(n, Node::With { .. });
                    let mark = vars.len();
                    let mut taken = false;
                    for (cond, body) in branches {
                        self.step(src, *pos)?;
                        let v = self.pipe(src, cond, dot, vars)?;
                        let t = v.truthy().ok_or_else(|| Stop::Unknown {
                            span: src.span(cond.pos),
                            reason: v.unknown_reason().unwrap_or("unknown").to_string(),
                        })?;
                        if t {
                            let flow = if is_with {
                                self.walk(src, body, &v, vars, out)?
                            } else {
                                self.walk(src, body, dot, vars, out)?
                            };
                            vars.truncate(mark);
                            if !matches!(flow, Flow::Normal) {
                                return Ok(flow);
                            }
                            taken = true;
                            break;
                        }
                    }
                    if !taken && let Some(body) = otherwise {
                        let flow = self.walk(src, body, dot, vars, out)?;
                        vars.truncate(mark);
                        if !matches!(flow, Flow::Normal) {
                            return Ok(flow);
                        }
                    }
                    vars.truncate(mark);
                }
                Node::Range {
                    pos,
                    pipe,
                    body,
                    otherwise,
                } => {
                    self.step(src, *pos)?;
                    let mark = vars.len();
                    // The declared variables are set per element, not to the whole value.
                    let v = self.pipe_value(src, pipe, dot, vars)?;
                    let items: Vec<(Val, Val)> = match &v.v {
                        V::List(l) => l
                            .iter()
                            .enumerate()
                            .map(|(i, x)| (V::Int(i as i64).into(), x.clone()))
                            .collect(),
                        V::Map(m) => m
                            .iter()
                            .map(|(k, x)| (Val::str(k.clone()), x.clone()))
                            .collect(),
                        V::Int(n) if *n >= 0 => (0..(*n).min(100_000))
                            .map(|i| (V::Int(i).into(), V::Int(i).into()))
                            .collect(),
                        V::Nil => Vec::new(),
                        V::Unknown(r) => {
                            return Err(Stop::Unknown {
                                span: src.span(pipe.pos),
                                reason: r.to_string(),
                            });
                        }
                        _ => {
                            return Err(Stop::Fail(Failure {
                                span: src.span(pipe.pos),
                                kind: FailureKind::Other,
                                message: format!("range can't iterate over a {}", v.kind()),
                            }));
                        }
                    };
                    if items.is_empty() {
                        if let Some(body) = otherwise {
                            self.walk(src, body, dot, vars, out)?;
                        }
                        vars.truncate(mark);
                        continue;
                    }
                    for (k, x) in items {
                        self.step(src, *pos)?;
                        vars.truncate(mark);
                        match pipe.decl.as_slice() {
                            [v1] => vars.push((v1.clone(), x.clone())),
                            [v1, v2] => {
                                vars.push((v1.clone(), k));
                                vars.push((v2.clone(), x.clone()));
                            }
                            _ => {}
                        }
                        match self.walk(src, body, &x, vars, out)? {
                            Flow::Break => break,
                            Flow::Continue | Flow::Normal => {}
                        }
                    }
                    vars.truncate(mark);
                }
                Node::Template { pos, name, pipe } => {
                    self.step(src, *pos)?;
                    let arg = match pipe {
                        Some(p) => self.pipe(src, p, dot, vars)?,
                        None => Val::NIL,
                    };
                    let inner = self.include(src, *pos, name, &arg)?;
                    out.append(inner, src.file, src.pin.unwrap_or(pos.start));
                }
                Node::Break(_) => return Ok(Flow::Break),
                Node::Continue(_) => return Ok(Flow::Continue),
            }
        }
        Ok(Flow::Normal)
    }

    /// Render a `define`d template with `arg` as `.`.
    fn include(&mut self, src: &Src<'_>, pos: Pos, name: &str, arg: &Val) -> R<Out> {
        let Some(&(file, body)) = self.defines.get(name) else {
            return Err(Stop::Fail(Failure {
                span: src.span(pos),
                kind: FailureKind::Other,
                message: format!("no template named \"{name}\" is defined"),
            }));
        };
        if self.depth >= MAX_DEPTH {
            return Err(Stop::Unknown {
                span: src.span(pos),
                reason: format!("templates include each other more than {MAX_DEPTH} deep"),
            });
        }
        self.depth += 1;
        let repo = self.repo;
        let inner_src = Src {
            file,
            text: &repo.file(file).text,
            pin: None,
        };
        let mut out = Out::default();
        let mut vars = vec![("$".to_string(), arg.clone())];
        let r = self.walk(&inner_src, body, arg, &mut vars, &mut out);
        self.depth -= 1;
        r?;
        Ok(out)
    }

    /// `tpl TEXT CONTEXT`: render a string as a template.
    fn tpl(&mut self, src: &Src<'_>, pos: Pos, text: &str, ctx: &Val) -> R<Val> {
        let parsed = crate::parse::gotmpl::parse(text).map_err(|e| {
            Stop::Fail(Failure {
                span: src.span(pos),
                kind: FailureKind::Other,
                message: format!("tpl: the text does not parse: {}", e.message),
            })
        })?;
        if self.depth >= MAX_DEPTH {
            return Err(Stop::Unknown {
                span: src.span(pos),
                reason: "tpl nested too deeply".into(),
            });
        }
        self.depth += 1;
        let inner = Src {
            file: src.file,
            text,
            pin: Some(src.pin.unwrap_or(pos.start)),
        };
        let mut out = Out::default();
        let mut vars = vec![("$".to_string(), ctx.clone())];
        let r = self.walk(&inner, &parsed.body, ctx, &mut vars, &mut out);
        self.depth -= 1;
        r?;
        Ok(Val::str(out.text))
    }

    fn pipe(
        &mut self,
        src: &Src<'_>,
        pipe: &Pipe,
        dot: &Val,
        vars: &mut Vec<(String, Val)>,
    ) -> R<Val> {
        let v = self.pipe_value(src, pipe, dot, vars)?;
        match (pipe.decl.as_slice(), pipe.assign) {
            ([], _) => {}
            ([name], false) => vars.push((name.clone(), v.clone())),
            ([name], true) => match vars.iter_mut().rev().find(|(n, _)| n == name) {
                Some(slot) => slot.1 = v.clone(),
                None => {
                    return Err(Stop::Fail(Failure {
                        span: src.span(pipe.pos),
                        kind: FailureKind::Other,
                        message: format!("undefined variable \"{name}\""),
                    }));
                }
            },
            (names, _) => {
                for n in names {
                    vars.push((n.clone(), v.clone()));
                }
            }
        }
        Ok(v)
    }

    /// The value of a pipeline's commands, its declarations left undone.
    fn pipe_value(
        &mut self,
        src: &Src<'_>,
        pipe: &Pipe,
        dot: &Val,
        vars: &mut Vec<(String, Val)>,
    ) -> R<Val> {
        let mut last: Option<Val> = None;
        for cmd in &pipe.cmds {
            last = Some(self.cmd(src, cmd, dot, vars, last)?);
        }
        Ok(last.unwrap_or(Val::NIL))
    }

    fn cmd(
        &mut self,
        src: &Src<'_>,
        cmd: &Cmd,
        dot: &Val,
        vars: &mut Vec<(String, Val)>,
        last: Option<Val>,
    ) -> R<Val> {
        let first = &cmd.args[0];
        if let Arg::Ident { name, pos } = first {
            return self.call(src, *pos, cmd, name, &cmd.args[1..], dot, vars, last);
        }
        // A method on a chain: `.Files.Get "x"`, `.Capabilities.APIVersions.Has "x"`.
        if let Some((method, base)) = method_call(first) {
            let recv = match &base {
                Some(b) => self.arg(src, b, dot, vars)?,
                None => dot.clone(),
            };
            let mut args = Vec::new();
            for a in &cmd.args[1..] {
                args.push(self.arg(src, a, dot, vars)?);
            }
            args.extend(last.clone());
            if let Some(v) = self.method(&recv, method, &args) {
                return Ok(v);
            }
        }
        if cmd.args.len() > 1 || last.is_some() {
            return Err(Stop::Fail(Failure {
                span: src.span(cmd.pos),
                kind: FailureKind::Other,
                message: "can't give an argument to a non-function".into(),
            }));
        }
        self.arg(src, first, dot, vars)
    }

    /// Methods of Helm's built-in objects; `None` when `recv` has no such method.
    fn method(&self, recv: &Val, method: &str, args: &[Val]) -> Option<Val> {
        let m = recv.as_map()?;
        if m.contains_key(FILES_MARK) {
            return Some(match method {
                "Get" | "GetBytes" => match args.first().and_then(Val::as_str) {
                    Some(path) => self.chart_file(path),
                    None => Val::str(""),
                },
                other => Val::unknown(format!(
                    "`.Files.{other}` reads files preflight does not list for the chart"
                )),
            });
        }
        if m.contains_key(APIVERSIONS_MARK) && method == "Has" {
            return Some(Val::unknown(
                "`.Capabilities.APIVersions.Has` depends on the API groups installed in the cluster",
            ));
        }
        None
    }

    fn chart_file(&self, path: &str) -> Val {
        let Some(rel) =
            crate::model::gitops::deploy_normalize_path(&format!("{}/{path}", self.chart_dir))
        else {
            return Val::unknown(format!("`.Files.Get \"{path}\"` reads outside the chart"));
        };
        if !rel.starts_with(&format!("{}/", self.chart_dir)) && !self.chart_dir.is_empty() {
            return Val::unknown(format!("`.Files.Get \"{path}\"` reads outside the chart"));
        }
        match self.repo.file_by_path(&rel) {
            Some(f) if !f.text.is_empty() || self.repo.is_listed(&rel) => {
                Val::str(f.text.to_string())
            }
            _ if !self.repo.is_listed(&rel) => Val::str(""),
            _ => Val::unknown(format!(
                "`.Files.Get \"{path}\"` reads a file preflight does not load"
            )),
        }
    }

    fn arg(&mut self, src: &Src<'_>, a: &Arg, dot: &Val, vars: &mut Vec<(String, Val)>) -> R<Val> {
        Ok(match a {
            Arg::Field { pos, chain } => self.chain(src, *pos, dot.clone(), chain, ".")?,
            Arg::Var { pos, name, chain } => {
                let Some((_, v)) = vars.iter().rev().find(|(n, _)| n == name) else {
                    return Err(Stop::Fail(Failure {
                        span: src.span(*pos),
                        kind: FailureKind::Other,
                        message: format!("undefined variable \"{name}\""),
                    }));
                };
                let v = v.clone();
                self.chain(src, *pos, v, chain, name)?
            }
            Arg::Paren { pos, pipe, chain } => {
                let v = self.pipe(src, pipe, dot, vars)?;
                self.chain(src, *pos, v, chain, "(…)")?
            }
            Arg::Ident { pos, name } => {
                let cmd = Cmd {
                    pos: *pos,
                    args: vec![a.clone()],
                };
                self.call(src, *pos, &cmd, name, &[], dot, vars, None)?
            }
            Arg::Str { value, .. } => Val::str(value.clone()),
            Arg::Int { value, .. } => V::Int(*value).into(),
            Arg::Float { value, .. } => V::Float(*value).into(),
            Arg::Bool { value, .. } => Val::bool(*value),
            Arg::Nil(_) => Val::NIL,
        })
    }

    /// `.a.b.c` on `v`: a missing map key is nil; a field of nil fails the render. `base`
    /// is how the expression starts, for messages (`.`, `$x`, `(…)`).
    fn chain(&mut self, src: &Src<'_>, pos: Pos, v: Val, chain: &[String], base: &str) -> R<Val> {
        // The expression up to its `n`th field (`.` for none), for messages.
        let prefix = |n: usize| {
            let mut p = if base == "." {
                String::new()
            } else {
                base.to_string()
            };
            for name in &chain[..n] {
                p.push('.');
                p.push_str(name);
            }
            if p.is_empty() { ".".to_string() } else { p }
        };
        let mut cur = v;
        for (i, name) in chain.iter().enumerate() {
            cur = match &cur.v {
                V::Map(m) => m.get(name).cloned().unwrap_or(Val::NIL),
                V::Nil => {
                    let before = prefix(i);
                    return Err(Stop::Fail(Failure {
                        span: src.span(pos),
                        kind: FailureKind::NilValue {
                            path: prefix(chain.len()),
                            missing: before.clone(),
                        },
                        message: format!(
                            "nil pointer evaluating interface {{}}.{name}: `{before}` is not set"
                        ),
                    }));
                }
                V::Unknown(_) => return Ok(cur),
                _ => {
                    return Err(Stop::Fail(Failure {
                        span: src.span(pos),
                        kind: FailureKind::Other,
                        message: format!(
                            "can't evaluate field {name} in type {} (`{}`)",
                            go_type(&cur),
                            prefix(i)
                        ),
                    }));
                }
            };
        }
        Ok(cur)
    }

    #[allow(clippy::too_many_arguments)]
    fn call(
        &mut self,
        src: &Src<'_>,
        pos: Pos,
        cmd: &Cmd,
        name: &str,
        args: &[Arg],
        dot: &Val,
        vars: &mut Vec<(String, Val)>,
        last: Option<Val>,
    ) -> R<Val> {
        self.step(src, pos)?;
        let span = src.span(cmd.pos);
        // Short-circuit forms, evaluated lazily as Go does.
        match name {
            "and" | "or" => {
                let mut v = Val::NIL;
                let n = args.len() + usize::from(last.is_some());
                if n == 0 {
                    return Err(fail(
                        span,
                        format!("wrong number of args for {name}: want at least 1 got 0"),
                    ));
                }
                for a in args {
                    v = self.arg(src, a, dot, vars)?;
                    let t = v.truthy().ok_or_else(|| Stop::Unknown {
                        span,
                        reason: v.unknown_reason().unwrap_or("unknown").into(),
                    })?;
                    if (name == "and") != t {
                        return Ok(v);
                    }
                }
                if let Some(l) = last {
                    v = l;
                }
                return Ok(v);
            }
            _ => {}
        }
        let mut vals = Vec::with_capacity(args.len() + 1);
        for a in args {
            vals.push(self.arg(src, a, dot, vars)?);
        }
        vals.extend(last);
        match name {
            "include" => {
                let Some(tname) = vals.first().and_then(Val::as_str).map(str::to_string) else {
                    return match vals.first() {
                        Some(v) if v.unknown_reason().is_some() => Ok(v.clone()),
                        _ => Err(fail(span, "include needs a template name")),
                    };
                };
                let arg = vals.get(1).cloned().unwrap_or(Val::NIL);
                let out = self.include(src, cmd.pos, &tname, &arg)?;
                return Ok(Val::str(out.text));
            }
            "tpl" => {
                let (Some(t), Some(ctx)) = (vals.first(), vals.get(1)) else {
                    return Err(fail(span, "tpl needs a text and a context"));
                };
                if let Some(r) = t.unknown_reason() {
                    return Ok(Val::unknown(r));
                }
                let text = t.to_text();
                return self.tpl(src, cmd.pos, &text, ctx);
            }
            "required" => {
                let msg = vals.first().map(Val::to_text).unwrap_or_default();
                let v = vals.get(1).cloned().unwrap_or(Val::NIL);
                if v.unknown_reason().is_some() {
                    return Ok(v);
                }
                if v.is_nil() || v.as_str() == Some("") {
                    return Err(Stop::Fail(Failure {
                        span,
                        kind: FailureKind::Required,
                        message: format!("execution error: {msg}"),
                    }));
                }
                return Ok(v);
            }
            "fail" => {
                let msg = vals.first().map(Val::to_text).unwrap_or_default();
                return Err(Stop::Fail(Failure {
                    span,
                    kind: FailureKind::Fail,
                    message: format!("execution error: {msg}"),
                }));
            }
            "lookup" => {
                return Ok(Val::unknown(
                    "`lookup` reads live objects from the cluster (empty under `helm template`)",
                ));
            }
            _ => {}
        }
        match funcs::call(name, vals) {
            Ok(v) if v.as_str().is_some_and(|s| s.len() > MAX_OUTPUT) => Ok(Val::unknown(format!(
                "`{name}` builds a string over {} MB",
                MAX_OUTPUT >> 20
            ))),
            Ok(v) => Ok(v),
            // Carried as a value: it stops the render only where it decides the output.
            Err(funcs::FnError::Unknown(reason)) => Ok(Val::unknown(reason)),
            Err(funcs::FnError::Fail(message)) => Err(Stop::Fail(Failure {
                span,
                kind: FailureKind::Other,
                message,
            })),
        }
    }
}

fn fail(span: Span, message: impl Into<String>) -> Stop {
    Stop::Fail(Failure {
        span,
        kind: FailureKind::Other,
        message: message.into(),
    })
}

fn go_type(v: &Val) -> &'static str {
    match v.v {
        V::Str(_) => "string",
        V::Int(_) => "int64",
        V::Float(_) => "float64",
        V::Bool(_) => "bool",
        V::List(_) => "[]interface {}",
        _ => "interface {}",
    }
}

/// `.a.Get` / `$x.a.Has`: the method name and the receiver expression (`None`: the dot).
fn method_call(a: &Arg) -> Option<(&str, Option<Arg>)> {
    const METHODS: &[&str] = &[
        "Get",
        "GetBytes",
        "Glob",
        "AsConfig",
        "AsSecrets",
        "Lines",
        "Has",
    ];
    match a {
        Arg::Field { pos, chain } => {
            let (last, rest) = chain.split_last()?;
            METHODS.contains(&last.as_str()).then(|| {
                (
                    last.as_str(),
                    Some(Arg::Field {
                        pos: *pos,
                        chain: rest.to_vec(),
                    }),
                )
            })
        }
        Arg::Var { pos, name, chain } => {
            let (last, rest) = chain.split_last()?;
            METHODS.contains(&last.as_str()).then(|| {
                (
                    last.as_str(),
                    Some(Arg::Var {
                        pos: *pos,
                        name: name.clone(),
                        chain: rest.to_vec(),
                    }),
                )
            })
        }
        _ => None,
    }
}

pub const FILES_MARK: &str = "\u{0}files";
pub const APIVERSIONS_MARK: &str = "\u{0}apiversions";

/// The top-level data of a render: `.Values`, `.Release`, `.Chart`, `.Capabilities`,
/// `.Template`, `.Files`.
pub fn top_level(
    values: Val,
    release: &BTreeMap<String, Val>,
    chart: &BTreeMap<String, Val>,
) -> Val {
    let mut caps = BTreeMap::new();
    let mut kube = BTreeMap::new();
    for (k, v) in [
        ("Version", "v1.30.0"),
        ("GitVersion", "v1.30.0"),
        ("Major", "1"),
        ("Minor", "30"),
    ] {
        kube.insert(k.to_string(), Val::str(v));
    }
    caps.insert("KubeVersion".into(), Val::map(kube));
    let mut api = BTreeMap::new();
    api.insert(APIVERSIONS_MARK.to_string(), Val::bool(true));
    caps.insert("APIVersions".into(), Val::map(api));
    let mut helm = BTreeMap::new();
    helm.insert("Version".into(), Val::str("v3.16.0"));
    caps.insert("HelmVersion".into(), Val::map(helm));
    let mut files = BTreeMap::new();
    files.insert(FILES_MARK.to_string(), Val::bool(true));
    let mut top = BTreeMap::new();
    top.insert("Values".into(), values);
    top.insert("Release".into(), Val::map(release.clone()));
    top.insert("Chart".into(), Val::map(chart.clone()));
    top.insert("Capabilities".into(), Val::map(caps));
    top.insert("Files".into(), Val::map(files));
    Val::map(top)
}
