//! JSON documents (IAM policies). Validated by `serde_json`; positions come from reading the
//! same text as YAML (JSON is YAML's flow subset), which yields spans on every node. When the
//! YAML reading fails (tabs in odd places), the document still loads, positioned at its start.

use super::yaml::{self, YamlDoc};
use crate::source::FileId;
use std::sync::Arc;

#[derive(Debug)]
pub struct JsonDoc {
    /// The same document with spans, when available. Only policy documents (text that
    /// names a `"Statement"`) are read this way: the models read no other JSON.
    pub spanned: Option<YamlDoc>,
    /// The top level is a SOPS envelope (a `sops` object with a `mac` and its metadata).
    pub sops: bool,
}

#[derive(Debug, Clone)]
pub struct JsonError {
    pub offset: usize,
    pub message: String,
}

/// Validate a JSON document and read what the models keep of it. The `serde_json` tree it
/// is validated with is not kept: read it again with [`value`] when needed. A spanned
/// document holds a copy of `text`: [`parse_source`] shares a file's text instead.
pub fn parse(
    file: FileId,
    text: &str,
    lines: &crate::source::LineIndex,
) -> Result<JsonDoc, JsonError> {
    parse_source(file, &Arc::from(text), lines)
}

/// [`parse`] a file's text, which the spanned document shares instead of copying it.
pub fn parse_source(
    file: FileId,
    shared: &Arc<str>,
    lines: &crate::source::LineIndex,
) -> Result<JsonDoc, JsonError> {
    let text: &str = shared;
    let value = value(text).map_err(|e| {
        let line = e.line().max(1);
        let start = lines.line_start(line);
        let line_text = lines.line_text(text, line);
        let col_bytes = line_text
            .char_indices()
            .nth(e.column().saturating_sub(1))
            .map_or(line_text.len(), |(i, _)| i);
        JsonError {
            offset: (start + col_bytes).min(text.len()),
            message: strip_position(&e.to_string()),
        }
    })?;
    let sops = value.get("sops").is_some_and(|m| {
        m.get("mac").is_some() && super::SOPS_META.iter().any(|k| m.get(k).is_some())
    });
    drop(value);
    // Positions are needed for policy statements; other JSON (lock files, dashboards) is
    // not read twice.
    let spanned = if text.contains("\"Statement\"") {
        yaml::parse_source(file, shared)
            .ok()
            .and_then(|mut d| (d.len() == 1).then(|| d.remove(0)))
    } else {
        None
    };
    Ok(JsonDoc { spanned, sops })
}

/// The document as a `serde_json` tree.
pub fn value(text: &str) -> Result<serde_json::Value, serde_json::Error> {
    serde_json::from_str(text)
}

fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

/// JSON with comments: files of tools that read JSONC (TypeScript, editors, dev
/// containers, Renovate), or text that holds `//` or `/* */` comments outside strings.
pub fn is_jsonc(rel_path: &str, text: &str) -> bool {
    let name = rel_path.rsplit('/').next().unwrap_or(rel_path);
    let jsonc_name = name.starts_with("tsconfig")
        || name.starts_with("jsconfig")
        || name == "devcontainer.json"
        || name == ".devcontainer.json"
        || name.starts_with(".eslintrc")
        || name.starts_with("renovate")
        || rel_path.contains(".vscode/");
    jsonc_name || has_comment_outside_strings(text)
}

fn has_comment_outside_strings(text: &str) -> bool {
    let b = text.as_bytes();
    let (mut i, mut in_str) = (0, false);
    while i < b.len() {
        match b[i] {
            b'\\' if in_str => i += 1,
            b'"' => in_str = !in_str,
            b'/' if !in_str && matches!(b.get(i + 1), Some(b'/') | Some(b'*')) => return true,
            _ => {}
        }
        i += 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_json_with_comments() {
        assert!(is_jsonc("backstage/tsconfig.json", "{ \"a\": 1, }"));
        assert!(is_jsonc("x/config.json", "{\n  // comment\n  \"a\": 1\n}"));
        assert!(!is_jsonc("iam/ci.json", "{ \"url\": \"https://x\", }"));
    }

    const POLICY: &str = "{\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"s3:GetObject\", \"Resource\": \"*\"}]}";

    #[test]
    fn policies_keep_a_spanned_tree_and_other_documents_nothing() {
        let lines = crate::source::LineIndex::new(POLICY);
        let doc = parse(FileId(0), POLICY, &lines).unwrap();
        assert!(doc.spanned.is_some() && !doc.sops);
        let other = "{\"dependencies\": {\"a\": \"1.0\"}}";
        let doc = parse(FileId(0), other, &crate::source::LineIndex::new(other)).unwrap();
        assert!(doc.spanned.is_none() && !doc.sops);
        let bad = "{\"a\": }";
        let e = parse(FileId(0), bad, &crate::source::LineIndex::new(bad)).unwrap_err();
        assert_eq!(e.offset, 6);
    }

    /// A policy the YAML reading cannot position, or whose `Statement` key is escaped, is
    /// read again from the text, positioned at its start.
    #[test]
    fn policies_without_spans_are_read_again_from_the_text() {
        let escaped = POLICY.replace("\"Statement\"", "\"\\u0053tatement\"");
        let (_dir, repo) = crate::testing::load_repo(&[
            ("iam/ci.json", &escaped),
            ("iam/plain.json", POLICY),
            ("package.json", "{\"name\": \"x\"}"),
        ]);
        let file = |p: &str| repo.file_by_path(p).unwrap().id;
        let crate::parse::Syntax::Json(doc) = repo.syntax(file("iam/ci.json")) else {
            panic!("not JSON");
        };
        assert!(doc.spanned.is_none());
        let p = crate::model::iam::policy_in_file(&repo, file("iam/ci.json")).unwrap();
        assert_eq!(p.statements.len(), 1);
        assert_eq!(p.span.map(|s| s.start), Some(0));
        let p = crate::model::iam::policy_in_file(&repo, file("iam/plain.json")).unwrap();
        assert_eq!(p.statements.len(), 1);
        assert!(crate::model::iam::policy_in_file(&repo, file("package.json")).is_none());
    }
}
