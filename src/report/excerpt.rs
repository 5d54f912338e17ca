//! The part of a file a human snippet shows: the lines around its spans, each line cut to
//! a window around the spans when it is long, sensitive values and Secret data replaced by
//! `(sensitive)` and control characters escaped. The excerpt keeps the file's line
//! numbers and columns (through [`SourceCode`]), so the snippet reads as the file does,
//! and its cost depends on the excerpt, not on the file: a 70 KB line or 40,000 findings
//! in one file render in bounded time (the renderer's column limit is never reached).

use crate::redact::{MARK, Redactor, escape_char, is_unsafe_char};
use crate::source::SourceFile;
use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};
use std::ops::Range;

/// Longest line shown whole, in bytes; longer lines are windowed.
const MAX_LINE: usize = 240;
/// Bytes kept either side of the spans on a windowed line.
const WINDOW_MARGIN: usize = 60;
/// Widest span shown on a windowed line, in bytes (a longer one is cut).
const MAX_SPAN: usize = 160;
/// Lines shown either side of the spans.
const CONTEXT: usize = 1;
/// Labels further than this many lines from the primary span are not drawn in the
/// snippet (the caller lists them instead), so one snippet never spans the whole file.
pub const MAX_LINES_AWAY: usize = 24;

/// One excerpt of one file.
#[derive(Debug)]
pub struct Excerpt {
    name: String,
    text: String,
    /// 1-based line of the file that the excerpt's first line is.
    first_line: usize,
    /// (file offset, excerpt offset) at every kept character boundary and at the edges of
    /// replaced and cut parts, increasing in both.
    map: Vec<(usize, usize)>,
    /// The primary span's start: its excerpt offset and its 0-based (line, column) in the
    /// file, for the snippet's header.
    primary: (usize, (usize, usize)),
}

impl Excerpt {
    /// The excerpt of `file` that shows `spans` (byte ranges of its text).
    pub fn new(file: &SourceFile, spans: &[Range<usize>], redactor: &Redactor) -> Excerpt {
        let text = &*file.text;
        let clamp = |o: usize| crate::source::floor_char_boundary(text, o.min(text.len()));
        let spans: Vec<Range<usize>> = spans
            .iter()
            .map(|r| clamp(r.start)..clamp(r.end.max(r.start)))
            .collect();
        let line_of = |o: usize| file.lines().line_of(o).max(1);
        let first = spans
            .iter()
            .map(|r| line_of(r.start))
            .min()
            .unwrap_or(1)
            .saturating_sub(CONTEXT)
            .max(1);
        let last = spans
            .iter()
            .map(|r| line_of(r.end))
            .max()
            .unwrap_or(1)
            .saturating_add(CONTEXT)
            .min(file.lines().line_count());
        let mut ex = Excerpt {
            name: crate::redact::terminal_safe(&file.rel_path, true).into_owned(),
            text: String::new(),
            first_line: first,
            map: Vec::new(),
            primary: (0, (0, 0)),
        };
        for line in first..=last.max(first) {
            let start = file.lines().line_start(line).min(text.len());
            let content = file.lines().line_text(text, line);
            let end = start + content.len();
            let keep = window(start..end, &spans, text);
            if keep.start > start {
                ex.push(start);
                ex.text.push('…');
            }
            let redacted = redactor.ranges(file.id, text, keep.clone());
            ex.copy(text, keep.clone(), &redacted);
            if keep.end < end {
                ex.push(keep.end);
                ex.text.push('…');
            }
            // Everything up to the next line (the rest of a cut line, the terminator).
            ex.push(end);
            if line < last {
                ex.text.push('\n');
            }
        }
        if let Some(p) = spans.first() {
            let (l, c) = file.line_col(p.start);
            ex.primary = (ex.map(p.start), (l - 1, c - 1));
        }
        ex
    }

    /// Record that file offsets from `at` map to the current excerpt end.
    fn push(&mut self, at: usize) {
        let pos = self.text.len();
        if let Some(&(o, _)) = self.map.last()
            && o >= at
        {
            return;
        }
        self.map.push((at, pos));
    }

    fn copy(&mut self, text: &str, keep: Range<usize>, redacted: &[Range<usize>]) {
        let mut i = keep.start;
        let mut next = redacted.iter().peekable();
        while i < keep.end {
            if let Some(r) = next.peek()
                && r.start <= i
            {
                let end = r.end.min(keep.end);
                next.next();
                if end > i {
                    self.push(i);
                    self.text.push_str(MARK);
                    i = end;
                    while i < text.len() && !text.is_char_boundary(i) {
                        i += 1;
                    }
                }
                continue;
            }
            let Some(c) = text[i..].chars().next() else {
                break;
            };
            self.push(i);
            if is_unsafe_char(c) {
                self.text.push_str(&escape_char(c));
            } else {
                self.text.push(c);
            }
            i += c.len_utf8();
        }
    }

    /// The excerpt offset of a file offset (one inside a replaced or cut part maps to
    /// that part's start in the excerpt).
    pub fn map(&self, offset: usize) -> usize {
        match self.map.binary_search_by(|(o, _)| o.cmp(&offset)) {
            Ok(i) => self.map[i].1,
            Err(0) => 0,
            Err(i) => self.map[i - 1].1,
        }
    }

    /// The excerpt span of a file span.
    pub fn span(&self, range: Range<usize>) -> SourceSpan {
        let start = self.map(range.start);
        let end = self.map(range.end).max(start);
        SourceSpan::new(start.into(), end - start)
    }

    pub fn text(&self) -> &str {
        &self.text
    }
}

/// The part of the line `line` to show: all of it when short, else a window around the
/// spans that touch it.
fn window(line: Range<usize>, spans: &[Range<usize>], text: &str) -> Range<usize> {
    if line.end - line.start <= MAX_LINE {
        return line;
    }
    let touching: Vec<Range<usize>> = spans
        .iter()
        .filter(|r| r.start <= line.end && r.end >= line.start)
        .map(|r| r.start.max(line.start)..r.end.min(line.end))
        .collect();
    let (lo, hi) = match (
        touching.iter().map(|r| r.start).min(),
        touching.iter().map(|r| r.end).max(),
    ) {
        (Some(lo), Some(hi)) => (lo, hi.min(lo + MAX_SPAN)),
        _ => (line.start, line.start),
    };
    let start = lo.saturating_sub(WINDOW_MARGIN).max(line.start);
    let end = (hi + WINDOW_MARGIN).min(line.end).max(start);
    let start = crate::source::floor_char_boundary(text, start);
    let mut end = end;
    while end < text.len() && !text.is_char_boundary(end) {
        end += 1;
    }
    start..end.min(line.end)
}

impl SourceCode for Excerpt {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let inner =
            self.text
                .as_str()
                .read_span(span, context_lines_before, context_lines_after)?;
        let (line, column) = if context_lines_before == 0
            && context_lines_after == 0
            && span.offset() == self.primary.0
        {
            // The header's position: where the primary span starts in the file.
            self.primary.1
        } else {
            (inner.line() + self.first_line - 1, inner.column())
        };
        let data: &'a [u8] = {
            let d = inner.data();
            let start = d.as_ptr() as usize - self.text.as_ptr() as usize;
            &self.text.as_bytes()[start..start + d.len()]
        };
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            data,
            *inner.span(),
            line,
            column,
            inner.line_count(),
        )))
    }
}

#[cfg(test)]
#[allow(clippy::single_range_in_vec_init)]
mod tests {
    use super::*;
    use crate::source::{FileId, FileKind, Span};

    fn file(text: &str) -> SourceFile {
        SourceFile::new(
            FileId(0),
            "main.tf".into(),
            FileKind::Terraform,
            text.into(),
        )
    }

    #[test]
    fn short_files_are_shown_around_the_span() {
        let f = file("a\nb\nc = 1\nd\ne\n");
        let ex = Excerpt::new(&f, &[4..9], &Redactor::default());
        assert_eq!(ex.text(), "b\nc = 1\nd");
        assert_eq!(ex.first_line, 2);
        let s = ex.span(4..9);
        assert_eq!(&ex.text()[s.offset()..s.offset() + s.len()], "c = 1");
    }

    #[test]
    fn a_long_line_is_windowed_and_keeps_its_column() {
        let line = format!(
            "x = \"{}TARGET{}\"\n",
            "a".repeat(70_000),
            "b".repeat(5_000)
        );
        let f = file(&line);
        let at = line.find("TARGET").unwrap();
        let ex = Excerpt::new(&f, &[at..at + 6], &Redactor::default());
        assert!(ex.text().len() < 400, "{}", ex.text().len());
        assert!(ex.text().starts_with('…') && ex.text().trim_end().ends_with('…'));
        let s = ex.span(at..at + 6);
        assert_eq!(&ex.text()[s.offset()..s.offset() + s.len()], "TARGET");
        let c = ex.read_span(&s, 0, 0).unwrap();
        assert_eq!((c.line(), c.column()), (0, at));
    }

    #[test]
    fn secrets_and_control_characters_never_reach_the_excerpt() {
        let text = "data:\n  password: aHVudGVyMg==\n  name: \x1b[2Jx\n";
        let f = file(text);
        let at = text.find("aHVu").unwrap();
        let r = Redactor::new(
            Vec::new(),
            vec![Span::new(FileId(0), at..at + "aHVudGVyMg==".len())],
        );
        let ex = Excerpt::new(&f, &[at..at + 4], &r);
        assert!(!ex.text().contains("aHVu"), "{}", ex.text());
        assert!(ex.text().contains("password: (sensitive)"), "{}", ex.text());
        assert!(ex.text().contains("\\x1b[2J"), "{}", ex.text());
        assert!(!ex.text().contains('\x1b'));
    }
}
