//! Source files, byte spans and line/column lookup.
//!
//! Every parsed node and every finding refers to text through a [`Span`]: a file id and a
//! byte range into that file's text. Line and column numbers are computed on demand from
//! the file's [`LineIndex`], 1-based, columns counted in characters.

use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

/// Index of a file in the repository's file table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

/// A byte range in one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Span {
    pub file: FileId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(file: FileId, range: Range<usize>) -> Span {
        Span {
            file,
            start: range.start as u32,
            end: range.end.max(range.start) as u32,
        }
    }

    pub fn range(&self) -> Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// What kind of content a file holds, decided by its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FileKind {
    /// `.tf`
    Terraform,
    /// `.tfvars`
    TerraformVars,
    /// `.yaml` / `.yml`
    Yaml,
    /// `.json`
    Json,
    /// A shell script or Makefile (`.sh`, `.bash`, `Makefile`, `*.mk`, and files without an
    /// extension in a `bin/`, `scripts/` or `hack/` folder): read, never run, so the
    /// bootstrap steps it takes around `terraform apply` are known.
    Script,
    /// A Helm chart template: a file under `templates/` beside a `Chart.yaml`, or `*.tpl`
    /// (decided by the repository listing, not by the name alone).
    HelmTemplate,
}

impl FileKind {
    pub fn from_path(path: &Path) -> Option<FileKind> {
        let name = path.file_name()?.to_str()?;
        if matches!(name, "Makefile" | "makefile" | "GNUmakefile") {
            return Some(FileKind::Script);
        }
        let Some((_, ext)) = name.rsplit_once('.') else {
            let dir = path.parent()?.file_name()?.to_str()?;
            return matches!(dir, "bin" | "scripts" | "hack").then_some(FileKind::Script);
        };
        match ext {
            "tf" => Some(FileKind::Terraform),
            "tfvars" => Some(FileKind::TerraformVars),
            "yaml" | "yml" => Some(FileKind::Yaml),
            "json" if !name.ends_with(".tfstate.json") => Some(FileKind::Json),
            "sh" | "bash" | "mk" => Some(FileKind::Script),
            _ => None,
        }
    }
}

/// One file of the repository, its text held once and shared.
#[derive(Debug)]
pub struct SourceFile {
    pub id: FileId,
    /// Path relative to the repository root, with `/` separators.
    pub rel_path: String,
    pub kind: FileKind,
    /// The text with a leading UTF-8 byte-order mark removed. Offsets are into this text.
    pub text: Arc<str>,
    /// Number of bytes removed from the start of the file (3 for a BOM, else 0).
    pub bom_len: u32,
    /// The start of every line, computed the first time a line is asked for (most files
    /// of a large repository never are).
    lines: std::sync::OnceLock<LineIndex>,
}

impl SourceFile {
    pub fn new(id: FileId, rel_path: String, kind: FileKind, text: String) -> Self {
        let (text, bom_len) = match text.strip_prefix('\u{feff}') {
            Some(rest) => (rest.to_owned(), 3),
            None => (text, 0),
        };
        SourceFile {
            id,
            rel_path,
            kind,
            text: text.into(),
            bom_len,
            lines: std::sync::OnceLock::new(),
        }
    }

    /// Where each line starts.
    pub fn lines(&self) -> &LineIndex {
        self.lines.get_or_init(|| LineIndex::new(&self.text))
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        self.lines().line_col(&self.text, offset)
    }

    /// The text of a 1-based line, without its line terminator.
    pub fn line_text(&self, line: usize) -> &str {
        self.lines().line_text(&self.text, line)
    }

    /// Byte offset of the start of a 1-based line.
    pub fn line_start(&self, line: usize) -> usize {
        self.lines().line_start(line)
    }

    pub fn span(&self, range: Range<usize>) -> Span {
        Span::new(self.id, range)
    }
}

/// Start offsets of every line in a text.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<u32>,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        // Exact capacity: every file read keeps its index for the whole check.
        let lines = memchr::memchr_iter(b'\n', text.as_bytes()).count();
        let mut starts = Vec::with_capacity(lines + 1);
        starts.push(0u32);
        starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| (i + 1) as u32));
        LineIndex { starts }
    }

    pub fn line_count(&self) -> usize {
        self.starts.len()
    }

    /// 1-based line of a byte offset.
    pub fn line_of(&self, offset: usize) -> usize {
        match self.starts.binary_search(&(offset as u32)) {
            Ok(i) => i + 1,
            Err(i) => i,
        }
    }

    pub fn line_start(&self, line: usize) -> usize {
        let i = line.saturating_sub(1).min(self.starts.len() - 1);
        self.starts[i] as usize
    }

    pub fn line_col(&self, text: &str, offset: usize) -> (usize, usize) {
        let offset = floor_char_boundary(text, offset.min(text.len()));
        let line = self.line_of(offset);
        let start = self.line_start(line);
        let col = text[start..offset].chars().count() + 1;
        (line, col)
    }

    pub fn line_text<'t>(&self, text: &'t str, line: usize) -> &'t str {
        if line == 0 || line > self.starts.len() {
            return "";
        }
        let start = self.line_start(line);
        let end = if line < self.starts.len() {
            self.starts[line] as usize
        } else {
            text.len()
        };
        text[start..end].trim_end_matches(['\n', '\r'])
    }
}

/// The largest char boundary at or below `offset`.
pub fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    offset = offset.min(text.len());
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_and_handles_crlf() {
        let text = "a\r\nbé c\nlast";
        let idx = LineIndex::new(text);
        assert_eq!(idx.line_col(text, 0), (1, 1));
        assert_eq!(idx.line_col(text, 3), (2, 1));
        // 'c' is after "bé " : b(1) é(2 bytes) space(1)
        assert_eq!(idx.line_col(text, 7), (2, 4));
        assert_eq!(idx.line_text(text, 1), "a");
        assert_eq!(idx.line_text(text, 3), "last");
        assert_eq!(idx.line_text(text, 9), "");
    }

    #[test]
    fn bom_is_stripped_and_recorded() {
        let f = SourceFile::new(
            FileId(0),
            "x.tf".into(),
            FileKind::Terraform,
            "\u{feff}a = 1\n".into(),
        );
        assert_eq!(&*f.text, "a = 1\n");
        assert_eq!(f.bom_len, 3);
    }

    #[test]
    fn file_kinds_by_name() {
        assert_eq!(
            FileKind::from_path(Path::new("a/main.tf")),
            Some(FileKind::Terraform)
        );
        assert_eq!(
            FileKind::from_path(Path::new("x.auto.tfvars")),
            Some(FileKind::TerraformVars)
        );
        assert_eq!(
            FileKind::from_path(Path::new("v.yml")),
            Some(FileKind::Yaml)
        );
        assert_eq!(FileKind::from_path(Path::new("README.md")), None);
    }
}
