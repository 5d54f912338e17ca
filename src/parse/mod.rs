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
    /// A script or Makefile: kept as text for the models that read commands from it.
    Text,
    /// Encrypted at rest (by the named tool): its content is not readable, not checked.
    Encrypted(&'static str),
    /// A Helm chart template (Go `text/template`): the parsed template or its first error.
    Template(Result<std::sync::Arc<gotmpl::Template>, gotmpl::TemplateError>),
}

impl Syntax {
    /// Name the file the syntax was read from (its spans point into it): files read while
    /// the listing goes on learn their place in path order afterwards.
    pub fn set_file(&mut self, file: crate::source::FileId) {
        match self {
            Syntax::Yaml(docs) => docs.iter_mut().for_each(|d| d.file = file),
            Syntax::Json(json::JsonDoc {
                spanned: Some(d), ..
            }) => d.file = file,
            _ => {}
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct ParseFailure {
    pub offset: usize,
    pub message: String,
    /// A YAML file holding template markers (`{{`, `{%`): a template, not a manifest.
    pub template: bool,
    /// A Terraform file's readable part: every top-level construct but the broken ones,
    /// which the models read like any other file's.
    pub recovered: Option<Box<hcl::Recovered>>,
}

/// The tool that encrypted a file, from its raw bytes: git-crypt writes a binary header.
pub fn encrypted_bytes(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\0GITCRYPT\0") {
        Some("git-crypt")
    } else if bytes.starts_with(b"$ANSIBLE_VAULT;") {
        Some("Ansible Vault")
    } else {
        None
    }
}

pub fn parse(file: &SourceFile) -> Syntax {
    let syntax = parse_text(file);
    if is_sops(&syntax) {
        return Syntax::Encrypted("SOPS");
    }
    syntax
}

/// Beside a `mac`, the keys of which a SOPS envelope holds at least one.
const SOPS_META: [&str; 3] = ["lastmodified", "version", "age"];

/// A SOPS-encrypted YAML or JSON document: its values are `ENC[…]` ciphertext and a
/// top-level `sops` mapping holds the metadata (`mac`, `lastmodified`, the keys). A JSON
/// document's flag is read when it is parsed ([`json::JsonDoc::sops`]).
fn is_sops(syntax: &Syntax) -> bool {
    match syntax {
        Syntax::Yaml(docs) => docs.iter().any(|d| {
            d.root().get("sops").is_some_and(|m| {
                m.get("mac").is_some() && SOPS_META.iter().any(|k| m.get(k).is_some())
            })
        }),
        Syntax::Json(doc) => doc.sops,
        _ => false,
    }
}

fn parse_text(file: &SourceFile) -> Syntax {
    let text = &*file.text;
    match file.kind {
        FileKind::Terraform | FileKind::TerraformVars => match hcl::parse(text) {
            Ok(body) => Syntax::Hcl(body),
            // Terraform has no nesting limit: preflight cannot tell whether the file is valid.
            Err(e) if hcl::is_limit(&e) => Syntax::Skipped(format!(
                "nests expressions or blocks deeper than preflight reads ({}), which Terraform accepts",
                e.message
            )),
            Err(e) => Syntax::Failed(ParseFailure {
                recovered: hcl::recover(text, &e).map(Box::new),
                offset: e.offset,
                message: e.message,
                template: false,
            }),
        },
        FileKind::Yaml => match yaml::parse_source(file.id, &file.text) {
            Ok(docs) => Syntax::Yaml(docs),
            Err(e) => Syntax::Failed(ParseFailure {
                offset: e.offset,
                message: e.message,
                template: looks_like_template(text),
                recovered: None,
            }),
        },
        FileKind::Script => Syntax::Text,
        FileKind::HelmTemplate => Syntax::Template(gotmpl::parse(text).map(std::sync::Arc::new)),
        FileKind::Json => match json::parse_source(file.id, &file.text, file.lines()) {
            Ok(doc) => Syntax::Json(doc),
            // JSON with comments (tsconfig, editor and devcontainer settings) is its own
            // format, read by tools preflight does not check.
            Err(_) if json::is_jsonc(&file.rel_path, text) => Syntax::Ignored,
            Err(e) => Syntax::Failed(ParseFailure {
                offset: e.offset,
                message: e.message,
                template: looks_like_template(text),
                recovered: None,
            }),
        },
    }
}

/// The HCL body of a Terraform file: all of it, or for a file that does not parse, the
/// top-level constructs that do (see [`hcl::recover`]).
pub fn hcl_body(syntax: &Syntax) -> Option<&hcl_edit::structure::Body> {
    match syntax {
        Syntax::Hcl(body) => Some(body),
        Syntax::Failed(ParseFailure {
            recovered: Some(r), ..
        }) => Some(&r.body),
        _ => None,
    }
}

/// Template markers of Helm/Go, Jinja and cookiecutter skeletons, and Terraform template
/// directives (`%{ if … }`, `%{ for … }`). `${{ }}` (GitHub expressions) is valid YAML and
/// does not count.
fn looks_like_template(text: &str) -> bool {
    text.contains("{%")
        || text
            .match_indices("{{")
            .any(|(i, _)| i == 0 || text.as_bytes()[i - 1] != b'$')
        || has_terraform_directive(text)
}

/// Whether the text holds a Terraform template directive: `%{`, an optional `~`, spaces,
/// then `if`, `else`, `endif`, `for` or `endfor`. (`%%{` is an escaped literal.)
pub fn has_terraform_directive(text: &str) -> bool {
    text.match_indices("%{").any(|(i, _)| {
        if i > 0 && text.as_bytes()[i - 1] == b'%' {
            return false;
        }
        let rest = text[i + 2..].strip_prefix('~').unwrap_or(&text[i + 2..]);
        let rest = rest.trim_start_matches([' ', '\t']);
        let word: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect();
        matches!(word.as_str(), "if" | "else" | "endif" | "for" | "endfor")
    })
}

impl Syntax {
    /// Byte ranges of the constructs an inline suppression can precede: blocks and
    /// attributes in HCL, key/value entries in YAML.
    pub fn construct_ranges(&self) -> Vec<Range<usize>> {
        let mut out = Vec::new();
        match self {
            Syntax::Hcl(body) => hcl::construct_ranges(body, &mut out),
            Syntax::Failed(ParseFailure {
                recovered: Some(r), ..
            }) => hcl::construct_ranges(&r.body, &mut out),
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
            | Syntax::Text
            | Syntax::Encrypted(_)
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

    #[test]
    fn terraform_directives_are_templates() {
        assert!(looks_like_template(
            "a: 1\n%{ if enable_ipv6 ~}\nb: 2\n%{ endif ~}\n"
        ));
        assert!(looks_like_template("%{~for x in xs}\n- ${x}\n%{endfor}\n"));
        assert!(!looks_like_template("fmt: \"%{remote}a %{status}s\"\n"));
        assert!(!looks_like_template("a: \"%%{ if x }\"\n"));
    }
}
