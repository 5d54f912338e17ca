//! `replace()` over file contents: for each `replace(file(P), needle, …)`,
//! `replace(templatefile(P, …), needle, …)` (or a chain of `replace`s over one), whether the
//! needle occurs in the text it is applied to, with every pass's values.

use super::BlockKind;
use super::analysis::{Analysis, BlockAt, Iter, unknown_text};
use super::expr::{self, Value};
use crate::model::workspace::Workspace;
use crate::source::{FileId, Span};
use hcl_edit::expr::{Expression, FuncCall, ObjectKey};
use hcl_edit::template::{Directive, Element, Template};
use std::collections::BTreeMap;
use std::path::Path;

/// What a `replace()` over a file does.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// The needle occurs (in some pass).
    Matches,
    /// The needle never occurs in the text: the substitution does nothing.
    NeverMatches {
        needle: String,
        regex: bool,
        /// The file read (when in the repository).
        file: Option<FileId>,
    },
    /// Cannot tell, and why.
    Unknown(String),
}

#[derive(Clone, Debug)]
pub struct ReplaceCall {
    /// The `replace(...)` call.
    pub span: Span,
    /// The needle argument.
    pub needle_span: Span,
    /// The function reading the file (`file` or `templatefile`).
    pub reader: &'static str,
    pub outcome: Outcome,
}

const MAX_DEPTH: usize = 128;

/// `replace` calls of an expression (outermost first).
fn replace_calls<'e>(e: &'e Expression, out: &mut Vec<&'e FuncCall>, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    let d = depth + 1;
    match e {
        Expression::Array(items) => items.iter().for_each(|i| replace_calls(i, out, d)),
        Expression::Object(o) => {
            for (k, v) in o.iter() {
                if let ObjectKey::Expression(ke) = k {
                    replace_calls(ke, out, d);
                }
                replace_calls(v.expr(), out, d);
            }
        }
        Expression::StringTemplate(t) => template_calls(t, out, d),
        Expression::HeredocTemplate(h) => template_calls(&h.template, out, d),
        Expression::Parenthesis(p) => replace_calls(p.inner(), out, d),
        Expression::Conditional(c) => {
            replace_calls(&c.cond_expr, out, d);
            replace_calls(&c.true_expr, out, d);
            replace_calls(&c.false_expr, out, d);
        }
        Expression::FuncCall(call) => {
            if call.name.namespace.is_empty()
                && call.name.name.as_str() == "replace"
                && call.args.len() == 3
            {
                out.push(call);
            }
            call.args.iter().for_each(|a| replace_calls(a, out, d));
        }
        Expression::Traversal(t) => replace_calls(&t.expr, out, d),
        Expression::UnaryOp(op) => replace_calls(&op.expr, out, d),
        Expression::BinaryOp(op) => {
            replace_calls(&op.lhs_expr, out, d);
            replace_calls(&op.rhs_expr, out, d);
        }
        Expression::ForExpr(f) => {
            replace_calls(&f.intro.collection_expr, out, d);
            if let Some(k) = &f.key_expr {
                replace_calls(k, out, d);
            }
            replace_calls(&f.value_expr, out, d);
        }
        _ => {}
    }
}

fn template_calls<'e>(t: &'e Template, out: &mut Vec<&'e FuncCall>, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    for el in t.iter() {
        match el {
            Element::Interpolation(i) => replace_calls(&i.expr, out, depth + 1),
            Element::Directive(dir) => match dir.as_ref() {
                Directive::If(i) => {
                    template_calls(&i.if_expr.template, out, depth + 1);
                    if let Some(e) = &i.else_expr {
                        template_calls(&e.template, out, depth + 1);
                    }
                }
                Directive::For(f) => template_calls(&f.for_expr.template, out, depth + 1),
            },
            Element::Literal(_) => {}
        }
    }
}

fn strip(mut e: &Expression) -> &Expression {
    while let Expression::Parenthesis(p) = e {
        e = p.inner();
    }
    e
}

/// The `file`/`templatefile` call a `replace` chain reads, if it reads one.
fn reader(e: &Expression) -> Option<&FuncCall> {
    let mut e = strip(e);
    for _ in 0..MAX_DEPTH {
        let Expression::FuncCall(call) = e else {
            return None;
        };
        if !call.name.namespace.is_empty() {
            return None;
        }
        match call.name.name.as_str() {
            "file" | "templatefile" if !call.args.is_empty() => return Some(call),
            "replace" if call.args.len() == 3 => e = strip(call.args.iter().next()?),
            _ => return None,
        }
    }
    None
}

/// A file path as the file functions resolve it → the repository file.
pub(crate) fn repo_file(s: &Workspace, module_dir: &str, path: &str) -> Option<FileId> {
    let p = Path::new(path);
    let abs = if p.is_absolute() {
        p.to_path_buf()
    } else {
        s.repo.root.join(module_dir).join(p)
    };
    let rel = abs.strip_prefix(&s.repo.root).ok()?;
    let rel = super::module::join_within("", &rel.to_string_lossy())?;
    s.repo.file_by_path(&rel).map(|f| f.id)
}

/// Whether `needle` (a literal, or a `/regex/`) occurs in `text`; `None` when the regex
/// does not compile.
pub fn needle_occurs(text: &str, needle: &str) -> Option<bool> {
    match regex_of(needle) {
        Some(re) => regex::Regex::new(re).ok().map(|r| r.is_match(text)),
        None => Some(text.contains(needle)),
    }
}

fn regex_of(needle: &str) -> Option<&str> {
    needle
        .strip_prefix('/')
        .and_then(|n| n.strip_suffix('/'))
        .filter(|_| needle.len() >= 2)
}

impl Analysis {
    /// Every `replace()` over a file's contents in the roots' module instances, with what
    /// it does under each pass's values (one entry per call; a module called several times
    /// matches when any instance matches).
    pub fn file_replacements(&self, s: &Workspace) -> Vec<ReplaceCall> {
        let tf = s.terraform();
        let mut by_span: BTreeMap<(u32, u32, u32), ReplaceCall> = BTreeMap::new();
        for &root in &self.roots {
            for inst in self.instances_of(root) {
                let module = self.module(tf, inst);
                // (expression, its file, the block it is in when a resource/data source)
                let mut exprs: Vec<(&Expression, FileId, Option<BlockAt>)> = Vec::new();
                for (i, b) in module.blocks.iter().enumerate() {
                    let Some(block) = tf.hcl_block(&s.repo, b.at) else {
                        continue;
                    };
                    let at = matches!(b.kind, BlockKind::Resource | BlockKind::Data)
                        .then_some(BlockAt { inst, block: i });
                    for (_, e) in expr::body_expressions(&block.body) {
                        exprs.push((e, b.at.file, at));
                    }
                }
                for l in &module.locals {
                    if let Some(e) = tf.local_expr(&s.repo, l) {
                        exprs.push((e, l.block.file, None));
                    }
                }
                for (e, file, at) in exprs {
                    let mut calls = Vec::new();
                    replace_calls(e, &mut calls, 0);
                    for call in calls {
                        let Some(read) = reader(call.args.iter().next().unwrap_or(e)) else {
                            continue;
                        };
                        let (Some(range), Some(needle_range)) = (
                            hcl_edit::Span::span(call),
                            call.args.iter().nth(1).and_then(hcl_edit::Span::span),
                        ) else {
                            continue;
                        };
                        let sf = s.repo.file(file);
                        let span = sf.span(range);
                        let needle_span = sf.span(needle_range);
                        let outcome = self.replace_outcome(s, inst, at, &module.dir, call, read);
                        let key = (span.file.0, span.start, span.end);
                        let entry = by_span.entry(key).or_insert(ReplaceCall {
                            span,
                            needle_span,
                            reader: if read.name.name.as_str() == "file" {
                                "file"
                            } else {
                                "templatefile"
                            },
                            outcome: outcome.clone(),
                        });
                        entry.outcome = merge(&entry.outcome, &outcome);
                    }
                }
            }
        }
        by_span.into_values().collect()
    }

    fn replace_outcome(
        &self,
        s: &Workspace,
        inst: usize,
        at: Option<BlockAt>,
        module_dir: &str,
        call: &FuncCall,
        read: &FuncCall,
    ) -> Outcome {
        let mut args = call.args.iter();
        let (Some(subject), Some(needle)) = (args.next(), args.next()) else {
            return Outcome::Unknown("the call has too few arguments".into());
        };
        let Some(path_expr) = read.args.iter().next() else {
            return Outcome::Unknown("the file function has no path".into());
        };
        let mut result: Option<Outcome> = None;
        for pass in self.selected.iter().copied() {
            let iter = at.map_or(Iter::None, |at| self.first_iter(s, pass, at));
            let ev = |e: &Expression| self.eval_iter(s, pass, inst, iter.clone(), e);
            let needle_v = match ev(needle) {
                Value::String(n) => n,
                Value::Unknown(u) => {
                    let o = Outcome::Unknown(format!(
                        "the needle does not evaluate: {}",
                        unknown_text(&u)
                    ));
                    result = Some(merge_opt(result, o));
                    continue;
                }
                _ => continue,
            };
            let path = match ev(path_expr) {
                Value::String(p) => p,
                v => {
                    let why = v
                        .first_unknown()
                        .map(unknown_text)
                        .unwrap_or_else(|| format!("it is a {}", v.type_name()));
                    let o = Outcome::Unknown(format!("the file path does not evaluate: {why}"));
                    result = Some(merge_opt(result, o));
                    continue;
                }
            };
            let file = repo_file(s, module_dir, &path);
            let text = match ev(subject) {
                Value::String(t) => Some(t),
                _ => None,
            };
            let o = match (text, file) {
                (Some(t), _) => match needle_occurs(&t, &needle_v) {
                    Some(true) => Outcome::Matches,
                    Some(false) => Outcome::NeverMatches {
                        regex: regex_of(&needle_v).is_some(),
                        needle: needle_v,
                        file,
                    },
                    None => Outcome::Unknown("the needle is not a valid regular expression".into()),
                },
                // The template's variables do not evaluate: the raw template still shows
                // literal needles.
                (None, Some(f)) if read.name.name.as_str() == "templatefile" => {
                    match needle_occurs(&s.repo.file(f).text, &needle_v) {
                        Some(true) => Outcome::Matches,
                        _ => Outcome::Unknown(
                            "the template's variables do not evaluate, and the needle could come from one".into(),
                        ),
                    }
                }
                (None, _) => Outcome::Unknown(format!("the contents of {path:?} do not evaluate")),
            };
            result = Some(merge_opt(result, o));
        }
        result.unwrap_or(Outcome::Unknown("no pass is checked".into()))
    }
}

fn merge_opt(a: Option<Outcome>, b: Outcome) -> Outcome {
    match a {
        None => b,
        Some(a) => merge(&a, &b),
    }
}

/// Any match wins; then any unknown; a needle that never matches only when it never does.
fn merge(a: &Outcome, b: &Outcome) -> Outcome {
    match (a, b) {
        (Outcome::Matches, _) | (_, Outcome::Matches) => Outcome::Matches,
        (Outcome::Unknown(w), _) | (_, Outcome::Unknown(w)) => Outcome::Unknown(w.clone()),
        (n @ Outcome::NeverMatches { .. }, _) => n.clone(),
    }
}

/// The line of `text` nearest to `needle`'s first non-blank line: (1-based line, text).
pub fn nearest_line(text: &str, needle: &str) -> Option<(usize, String)> {
    let first = needle.lines().find(|l| !l.trim().is_empty())?;
    let squash = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let want: String = squash(first).chars().take(200).collect();
    let want_len = want.chars().count();
    let mut best: Option<(usize, usize, &str)> = None;
    // Bounded work on hostile files: the first lines only, and only lines whose length
    // could be within the accepted distance.
    for (i, line) in text.lines().enumerate().take(5_000) {
        if line.trim().is_empty() {
            continue;
        }
        let have = squash(line);
        let have_len = have.chars().count();
        if have_len.abs_diff(want_len) * 2 > want_len {
            continue;
        }
        let d = if have == want {
            0
        } else {
            distance(&have, &want)
        };
        if best.is_none_or(|(bd, _, _)| d < bd) {
            best = Some((d, i + 1, line));
        }
    }
    let (d, n, line) = best?;
    // Only lines that are recognisably the same text.
    (d * 2 <= want.chars().count()).then(|| (n, line.to_string()))
}

/// Levenshtein distance, bounded to short lines.
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().take(300).collect();
    let b: Vec<char> = b.chars().take(300).collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needles_literal_and_regex() {
        assert_eq!(needle_occurs("a: b\n", "a: b"), Some(true));
        assert_eq!(needle_occurs("a:  b\n", "a: b"), Some(false));
        assert_eq!(
            needle_occurs("version: 1.2.3", "/version: [0-9.]+/"),
            Some(true)
        );
        assert_eq!(needle_occurs("x", "/(/"), None);
        assert_eq!(needle_occurs("/", "/"), Some(true));
    }

    #[test]
    fn the_nearest_line_ignores_whitespace_first() {
        let text = "apiVersion: v1\nkind: ConfigMap\n  replicas:   3\nother: line\n";
        assert_eq!(
            nearest_line(text, "replicas: 3"),
            Some((3, "  replicas:   3".to_string()))
        );
        assert_eq!(nearest_line(text, "completely different text here"), None);
    }
}
