//! Parsing: each file once, into a syntax tree with byte spans.

pub mod gotmpl;
pub mod hcl;
pub mod json;
pub mod yaml;

use crate::source::{FileKind, SourceFile};
use std::ops::Range;

/// The syntax of one file.
#[derive(Debug)]
pub enum Syntax {
    Hcl(hcl_edit::structure::Body),
    Yaml(Vec<yaml::YamlDoc>),
    Json(json::JsonDoc),
    /// Could not be parsed: the rest of the repository is still checked.
    Failed(ParseFailure),
    /// Not read (too large, unreadable); the reason completes "the file …".
    Skipped(String),
    /// A file of a format preflight does not check (JSON with comments).
    Ignored,
    /// A Helm chart template (Go `text/template`): the parsed template or its first error.
    Template(Result<std::sync::Arc<gotmpl::Template>, gotmpl::TemplateError>),
}

#[derive(Debug, Clone)]
pub struct ParseFailure {
    pub offset: usize,
    pub message: String,
    /// A YAML file holding template markers (`{{`, `{%`): a template, not a manifest.
    pub template: bool,
}

pub fn parse(file: &SourceFile) -> Syntax {
    let text = &*file.text;
    match file.kind {
        FileKind::Terraform | FileKind::TerraformVars => match hcl::parse(text) {
            Ok(body) => Syntax::Hcl(body),
            Err(e) => Syntax::Failed(ParseFailure {
                offset: e.offset,
                message: e.message,
                template: false,
            }),
        },
        FileKind::Yaml => match yaml::parse_stream(file.id, text) {
            Ok(docs) => Syntax::Yaml(docs),
            Err(e) => Syntax::Failed(ParseFailure {
                offset: e.offset,
                message: e.message,
                template: looks_like_template(text),
            }),
        },
        FileKind::HelmTemplate => Syntax::Template(gotmpl::parse(text).map(std::sync::Arc::new)),
        FileKind::Json => match json::parse(file.id, text, &file.lines) {
            Ok(doc) => Syntax::Json(doc),
            // JSON with comments (tsconfig, editor and devcontainer settings) is its own
            // format, read by tools preflight does not check.
            Err(_) if json::is_jsonc(&file.rel_path, text) => Syntax::Ignored,
            Err(e) => Syntax::Failed(ParseFailure {
                offset: e.offset,
                message: e.message,
                template: looks_like_template(text),
            }),
        },
    }
}

/// Template markers of Helm/Go, Jinja and cookiecutter skeletons. `${{ }}` (GitHub
/// expressions) is valid YAML and does not count.
fn looks_like_template(text: &str) -> bool {
    text.contains("{%")
        || text
            .match_indices("{{")
            .any(|(i, _)| i == 0 || text.as_bytes()[i - 1] != b'$')
}

impl Syntax {
    /// Byte ranges of the constructs an inline suppression can precede: blocks and
    /// attributes in HCL, key/value entries in YAML.
    pub fn construct_ranges(&self) -> Vec<Range<usize>> {
        let mut out = Vec::new();
        match self {
            Syntax::Hcl(body) => hcl::construct_ranges(body, &mut out),
            Syntax::Yaml(docs) => {
                for doc in docs {
                    for node in doc.all() {
                        for (k, v) in node.entries() {
                            let (ks, vs) = (k.span(), v.span());
                            if vs.file == ks.file {
                                out.push(ks.range().start..vs.range().end.max(ks.range().end));
                            }
                        }
                    }
                }
            }
            Syntax::Json(_)
            | Syntax::Failed(_)
            | Syntax::Skipped(_)
            | Syntax::Ignored
            | Syntax::Template(_) => {}
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_expressions_are_not_templates() {
        assert!(!looks_like_template("run: echo ${{ github.sha }}\n"));
        assert!(looks_like_template("image: {{ .Values.image }}\n"));
        assert!(looks_like_template("{% if x %}\n"));
    }
}
