//! JSON documents (IAM policies). Validated by `serde_json`; positions come from reading the
//! same text as YAML (JSON is YAML's flow subset), which yields spans on every node. When the
//! YAML reading fails (tabs in odd places), the document still loads, positioned at its start.

use super::yaml::{self, YamlDoc};
use crate::source::FileId;

#[derive(Debug)]
pub struct JsonDoc {
    pub value: serde_json::Value,
    /// The same document with spans, when available.
    pub spanned: Option<YamlDoc>,
}

#[derive(Debug, Clone)]
pub struct JsonError {
    pub offset: usize,
    pub message: String,
}

pub fn parse(
    file: FileId,
    text: &str,
    lines: &crate::source::LineIndex,
) -> Result<JsonDoc, JsonError> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
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
    let spanned = yaml::parse_stream(file, text)
        .ok()
        .and_then(|mut d| (d.len() == 1).then(|| d.remove(0)));
    Ok(JsonDoc { value, spanned })
}

fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}
