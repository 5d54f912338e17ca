//! Encoding functions: base64, JSON, YAML, URL.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::super::value::{format_number, quote_string};
use super::{EvalError, Evaluator, Value, str_arg};

type R = Result<Value, EvalError>;

pub(super) fn base64encode(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    Ok(Value::String(STANDARD.encode(str_arg(&a, 0)?)))
}

pub(super) fn base64decode(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    let s = str_arg(&a, 0)?;
    let bytes = STANDARD
        .decode(s.as_bytes())
        .map_err(|e| EvalError::new(format!("failed to decode base64 data: {e}")))?;
    String::from_utf8(bytes).map(Value::String).map_err(|_| {
        EvalError::new("the result of decoding the provided string is not valid UTF-8")
    })
}

/// JSON text as Terraform's `jsonencode` writes it (HTML-safe escapes).
pub(crate) fn json_text(v: &Value) -> Option<String> {
    let text = v.to_json()?.to_string();
    Some(
        text.replace('<', "\\u003c")
            .replace('>', "\\u003e")
            .replace('&', "\\u0026")
            .replace('\u{2028}', "\\u2028")
            .replace('\u{2029}', "\\u2029"),
    )
}

pub(super) fn jsonencode(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    json_text(&a[0])
        .map(Value::String)
        .ok_or_else(|| EvalError::new("value cannot be encoded as JSON"))
}

pub(super) fn jsondecode(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    let s = str_arg(&a, 0)?;
    let json: serde_json::Value =
        serde_json::from_str(&s).map_err(|e| EvalError::new(format!("invalid JSON: {e}")))?;
    Ok(Value::from_json(&json))
}

pub(super) fn urlencode(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    let s = str_arg(&a, 0)?;
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    Ok(Value::String(out))
}

fn yaml_scalar(v: &Value) -> Option<String> {
    match v {
        Value::Null => Some("null".to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(format_number(*n)),
        Value::String(s) => Some(quote_string(s).replace("$${", "${").replace("%%{", "%{")),
        Value::List(items) if items.is_empty() => Some("[]".to_string()),
        Value::Object(map) if map.is_empty() => Some("{}".to_string()),
        _ => None,
    }
}

fn yaml_into(v: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match v {
        Value::List(items) if !items.is_empty() => {
            for item in items.iter() {
                out.push_str(&pad);
                out.push_str("- ");
                match yaml_scalar(item) {
                    Some(s) => {
                        out.push_str(&s);
                        out.push('\n');
                    }
                    None => {
                        // Nested block: its first line goes after the dash.
                        let mut inner = String::new();
                        yaml_into(item, indent + 2, &mut inner);
                        out.push_str(&inner[(indent + 2).min(inner.len())..]);
                    }
                }
            }
        }
        Value::Object(map) if !map.is_empty() => {
            for (k, item) in map.iter() {
                out.push_str(&pad);
                out.push_str(&quote_string(k).replace("$${", "${").replace("%%{", "%{"));
                out.push(':');
                match yaml_scalar(item) {
                    Some(s) => {
                        out.push(' ');
                        out.push_str(&s);
                        out.push('\n');
                    }
                    None => {
                        out.push('\n');
                        yaml_into(item, indent + 2, out);
                    }
                }
            }
        }
        other => {
            out.push_str(&pad);
            out.push_str(&yaml_scalar(other).unwrap_or_default());
            out.push('\n');
        }
    }
}

/// A simple block-style YAML rendering with every string double-quoted.
pub(super) fn yamlencode(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    let mut out = String::new();
    yaml_into(&a[0], 0, &mut out);
    Ok(Value::String(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::terraform::expr::eval::EmptyScope;

    #[test]
    fn yaml_block_style() {
        let v = Value::from_json(&serde_json::json!({"a": "b", "c": ["d", {"e": 1}], "f": []}));
        let mut ev = Evaluator::new(&EmptyScope);
        let out = yamlencode(&mut ev, vec![v]).unwrap();
        assert_eq!(
            out,
            Value::from("\"a\": \"b\"\n\"c\":\n  - \"d\"\n  - \"e\": 1\n\"f\": []\n")
        );
    }
}
