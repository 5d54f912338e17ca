//! String functions, including `format` and the regex functions.

use std::collections::BTreeMap;
use std::path::Path;

use super::super::eval::{MAX_ELEMENTS, MAX_STRING_LEN, Scope};
use super::super::value::{Unknown, format_number};
use super::{EvalError, Evaluator, Value, int_arg, list_arg, obj_arg, str_arg};

type R = Result<Value, EvalError>;

pub(super) fn chomp(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    let s = str_arg(&a, 0)?;
    Ok(Value::String(s.trim_end_matches(['\n', '\r']).to_string()))
}

pub(super) fn endswith(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    Ok(Value::Bool(str_arg(&a, 0)?.ends_with(&str_arg(&a, 1)?)))
}

pub(super) fn startswith(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    Ok(Value::Bool(str_arg(&a, 0)?.starts_with(&str_arg(&a, 1)?)))
}

pub(super) fn strcontains(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    Ok(Value::Bool(str_arg(&a, 0)?.contains(&str_arg(&a, 1)?)))
}

pub(super) fn lower(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    Ok(Value::String(str_arg(&a, 0)?.to_lowercase()))
}

pub(super) fn upper(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    Ok(Value::String(str_arg(&a, 0)?.to_uppercase()))
}

pub(super) fn title(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    let s = str_arg(&a, 0)?;
    let mut out = String::with_capacity(s.len());
    let mut prev_sep = true;
    for c in s.chars() {
        if prev_sep {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        prev_sep = !(c.is_alphanumeric() || c == '_');
    }
    Ok(Value::String(out))
}

pub(super) fn strrev(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    Ok(Value::String(str_arg(&a, 0)?.chars().rev().collect()))
}

pub(super) fn trim(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    let s = str_arg(&a, 0)?;
    let cutset: Vec<char> = str_arg(&a, 1)?.chars().collect();
    Ok(Value::String(
        s.trim_matches(|c| cutset.contains(&c)).to_string(),
    ))
}

pub(super) fn trimprefix(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    let s = str_arg(&a, 0)?;
    let p = str_arg(&a, 1)?;
    Ok(Value::String(s.strip_prefix(&p).unwrap_or(&s).to_string()))
}

pub(super) fn trimsuffix(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    let s = str_arg(&a, 0)?;
    let p = str_arg(&a, 1)?;
    Ok(Value::String(s.strip_suffix(&p).unwrap_or(&s).to_string()))
}

pub(super) fn trimspace(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    Ok(Value::String(str_arg(&a, 0)?.trim().to_string()))
}

pub(super) fn indent(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    let n = int_arg(&a, 0)?;
    let s = str_arg(&a, 1)?;
    if n < 0 || n as usize > 1024 {
        return Err(EvalError::new("indent must be between 0 and 1024 spaces"));
    }
    let pad = " ".repeat(n as usize);
    let out = s.replace('\n', &format!("\n{pad}"));
    if out.len() > MAX_STRING_LEN {
        return Err(EvalError::new("result is too large"));
    }
    Ok(Value::String(out))
}

pub(super) fn join(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    let sep = str_arg(&a, 0)?;
    let mut parts = Vec::new();
    for i in 1..a.len() {
        for (j, item) in list_arg(&a, i)?.iter().enumerate() {
            match item.to_string_value() {
                Ok(Value::String(s)) => parts.push(s),
                _ => {
                    return Err(EvalError::new(format!(
                        "element {j} of list {i} must be a string, got {}",
                        item.type_name()
                    )));
                }
            }
        }
    }
    let out = parts.join(&sep);
    if out.len() > MAX_STRING_LEN {
        return Err(EvalError::new("result is too large"));
    }
    Ok(Value::String(out))
}

pub(super) fn split(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    let sep = str_arg(&a, 0)?;
    let s = str_arg(&a, 1)?;
    let parts: Vec<Value> = if sep.is_empty() {
        s.chars().map(|c| Value::String(c.to_string())).collect()
    } else {
        s.split(sep.as_str()).map(Value::from).collect()
    };
    Ok(Value::list(parts))
}

pub(super) fn substr(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    let s = str_arg(&a, 0)?;
    let offset = int_arg(&a, 1)?;
    let length = int_arg(&a, 2)?;
    let chars: Vec<char> = s.chars().collect();
    let len = chars.len() as i64;
    let start = if offset < 0 { len + offset } else { offset }.clamp(0, len);
    let end = if length < 0 {
        if length == -1 {
            len
        } else {
            return Err(EvalError::new("length must be non-negative, or -1"));
        }
    } else {
        (start + length).min(len)
    };
    Ok(Value::String(
        chars[start as usize..end.max(start) as usize]
            .iter()
            .collect(),
    ))
}

fn compile(pattern: &str) -> Result<regex::Regex, EvalError> {
    regex::RegexBuilder::new(pattern)
        .size_limit(10 * (1 << 20))
        .build()
        .map_err(|e| EvalError::new(format!("invalid regular expression pattern: {e}")))
}

fn captures_value(re: &regex::Regex, caps: &regex::Captures<'_>) -> R {
    let names: Vec<Option<&str>> = re.capture_names().skip(1).collect();
    if names.is_empty() {
        return Ok(caps
            .get(0)
            .map(|m| Value::String(m.as_str().to_string()))
            .unwrap_or(Value::Null));
    }
    let named = names.iter().filter(|n| n.is_some()).count();
    let group = |i: usize| {
        caps.get(i)
            .map(|m| Value::String(m.as_str().to_string()))
            .unwrap_or(Value::Null)
    };
    if named == 0 {
        Ok(Value::list((1..=names.len()).map(group).collect()))
    } else if named == names.len() {
        Ok(Value::object(
            names
                .iter()
                .enumerate()
                .filter_map(|(i, n)| n.map(|n| (n.to_string(), group(i + 1))))
                .collect(),
        ))
    } else {
        Err(EvalError::new(
            "invalid regular expression pattern: can't mix both named and unnamed capture groups",
        ))
    }
}

pub(super) fn regex(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    let re = compile(&str_arg(&a, 0)?)?;
    let s = str_arg(&a, 1)?;
    match re.captures(&s) {
        Some(caps) => captures_value(&re, &caps),
        None => Err(EvalError::new(
            "pattern did not match any part of the given string",
        )),
    }
}

pub(super) fn regexall(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    let re = compile(&str_arg(&a, 0)?)?;
    let s = str_arg(&a, 1)?;
    let mut out = Vec::new();
    for caps in re.captures_iter(&s) {
        out.push(captures_value(&re, &caps)?);
        if out.len() > MAX_ELEMENTS {
            return Err(EvalError::new("too many matches"));
        }
    }
    Ok(Value::list(out))
}

pub(super) fn replace(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    let s = str_arg(&a, 0)?;
    let search = str_arg(&a, 1)?;
    let replacement = str_arg(&a, 2)?;
    let out = if search.len() > 1 && search.starts_with('/') && search.ends_with('/') {
        let re = compile(&search[1..search.len() - 1])?;
        re.replace_all(&s, replacement.as_str()).into_owned()
    } else if search.is_empty() {
        // Go's strings.Replace with an empty old string inserts between runes.
        let mut out = replacement.clone();
        for c in s.chars() {
            out.push(c);
            out.push_str(&replacement);
        }
        out
    } else {
        s.replace(&search, &replacement)
    };
    if out.len() > MAX_STRING_LEN {
        return Err(EvalError::new("result is too large"));
    }
    Ok(Value::String(out))
}

// ---- format / formatlist ----

struct Spec {
    minus: bool,
    plus: bool,
    space: bool,
    zero: bool,
    sharp: bool,
    width: Option<usize>,
    precision: Option<usize>,
    verb: char,
}

/// Terraform's `format`, following Go's fmt verbs as cty implements them.
pub(super) fn format_string(fmt: &str, args: &[Value]) -> Result<String, EvalError> {
    let mut out = String::new();
    let chars: Vec<char> = fmt.chars().collect();
    let mut i = 0;
    let mut next_arg = 0usize;
    while i < chars.len() {
        let c = chars[i];
        if c != '%' {
            out.push(c);
            i += 1;
            continue;
        }
        i += 1;
        if i >= chars.len() {
            return Err(EvalError::new(
                "format: unterminated format verb at end of string",
            ));
        }
        if chars[i] == '%' {
            out.push('%');
            i += 1;
            continue;
        }
        let mut spec = Spec {
            minus: false,
            plus: false,
            space: false,
            zero: false,
            sharp: false,
            width: None,
            precision: None,
            verb: 'v',
        };
        while i < chars.len() {
            match chars[i] {
                '-' => spec.minus = true,
                '+' => spec.plus = true,
                ' ' => spec.space = true,
                '0' => spec.zero = true,
                '#' => spec.sharp = true,
                _ => break,
            }
            i += 1;
        }
        // Explicit argument index: %[n]v
        if i < chars.len() && chars[i] == '[' {
            let start = i + 1;
            let mut j = start;
            while j < chars.len() && chars[j].is_ascii_digit() {
                j += 1;
            }
            if j >= chars.len() || chars[j] != ']' || j == start {
                return Err(EvalError::new("format: invalid argument index"));
            }
            let n: usize = chars[start..j]
                .iter()
                .collect::<String>()
                .parse()
                .map_err(|_| EvalError::new("format: invalid argument index"))?;
            if n == 0 {
                return Err(EvalError::new("format: invalid argument index 0"));
            }
            next_arg = n - 1;
            i = j + 1;
        }
        let read_num = |i: &mut usize| -> Option<usize> {
            let start = *i;
            while *i < chars.len() && chars[*i].is_ascii_digit() {
                *i += 1;
            }
            if *i == start {
                None
            } else {
                chars[start..*i]
                    .iter()
                    .collect::<String>()
                    .parse()
                    .ok()
                    .map(|n: usize| n.min(10_000))
            }
        };
        spec.width = read_num(&mut i);
        if i < chars.len() && chars[i] == '.' {
            i += 1;
            spec.precision = Some(read_num(&mut i).unwrap_or(0));
        }
        let Some(&verb) = chars.get(i) else {
            return Err(EvalError::new(
                "format: unterminated format verb at end of string",
            ));
        };
        spec.verb = verb;
        i += 1;
        let Some(arg) = args.get(next_arg) else {
            return Err(EvalError::new(format!(
                "format: not enough arguments for \"%{verb}\" at position {}",
                next_arg + 1
            )));
        };
        next_arg += 1;
        let text = format_one(&spec, arg)?;
        pad(&mut out, &spec, text);
        if out.len() > MAX_STRING_LEN {
            return Err(EvalError::new("result is too large"));
        }
    }
    if next_arg < args.len() {
        return Err(EvalError::new(format!(
            "format: too many arguments; only {next_arg} used by format string"
        )));
    }
    Ok(out)
}

fn pad(out: &mut String, spec: &Spec, text: String) {
    let len = text.chars().count();
    let width = spec.width.unwrap_or(0);
    if len >= width {
        out.push_str(&text);
        return;
    }
    let fill = width - len;
    if spec.minus {
        out.push_str(&text);
        out.extend(std::iter::repeat_n(' ', fill));
    } else if spec.zero && "dfeEgGbxXo".contains(spec.verb) {
        let (sign, digits) = match text.strip_prefix(['-', '+']) {
            Some(rest) => (&text[..1], rest),
            None => ("", text.as_str()),
        };
        out.push_str(sign);
        out.extend(std::iter::repeat_n('0', fill));
        out.push_str(digits);
    } else {
        out.extend(std::iter::repeat_n(' ', fill));
        out.push_str(&text);
    }
}

fn sign_prefix(spec: &Spec, negative: bool) -> &'static str {
    if negative {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    }
}

fn number_of(arg: &Value, verb: char) -> Result<f64, EvalError> {
    match arg.to_number() {
        Ok(Value::Number(n)) => Ok(n),
        _ => Err(EvalError::new(format!(
            "format: unsupported value for \"%{verb}\": number required, got {}",
            arg.type_name()
        ))),
    }
}

fn go_exp(n: f64, prec: usize, upper: bool) -> String {
    let s = format!("{:.*e}", prec, n.abs());
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let e = if upper { 'E' } else { 'e' };
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mant}{e}{sign}{:02}", exp.abs())
}

fn format_one(spec: &Spec, arg: &Value) -> Result<String, EvalError> {
    let verb = spec.verb;
    if arg.is_null() && verb != 'v' {
        return Err(EvalError::new(format!(
            "format: unsupported value for \"%{verb}\": null value cannot be formatted"
        )));
    }
    Ok(match verb {
        'v' => {
            if spec.sharp {
                json(arg)?
            } else {
                match arg {
                    Value::Null => "null".to_string(),
                    Value::String(s) => s.clone(),
                    Value::Number(n) => {
                        format!("{}{}", sign_prefix(spec, *n < 0.0), format_number(n.abs()))
                    }
                    Value::Bool(b) => b.to_string(),
                    _ => json(arg)?,
                }
            }
        }
        's' => match arg.to_string_value() {
            Ok(Value::String(s)) => match spec.precision {
                Some(p) => s.chars().take(p).collect(),
                None => s,
            },
            _ => {
                return Err(EvalError::new(format!(
                    "format: unsupported value for \"%s\": string required, got {}",
                    arg.type_name()
                )));
            }
        },
        'q' => match arg.to_string_value() {
            Ok(Value::String(s)) => serde_json::to_string(&s).unwrap_or_default(),
            _ => {
                return Err(EvalError::new(format!(
                    "format: unsupported value for \"%q\": string required, got {}",
                    arg.type_name()
                )));
            }
        },
        't' => match arg.to_bool() {
            Ok(Value::Bool(b)) => b.to_string(),
            _ => {
                return Err(EvalError::new(format!(
                    "format: unsupported value for \"%t\": bool required, got {}",
                    arg.type_name()
                )));
            }
        },
        'd' | 'b' | 'o' | 'x' | 'X' => {
            if let (Value::String(s), 'x' | 'X') = (arg, verb) {
                // Go formats strings in hex byte by byte.
                let hex: String = s.bytes().map(|b| format!("{b:02x}")).collect();
                return Ok(if verb == 'X' { hex.to_uppercase() } else { hex });
            }
            let n = number_of(arg, verb)?;
            if n.fract() != 0.0 || !n.is_finite() {
                return Err(EvalError::new(format!(
                    "format: unsupported value for \"%{verb}\": value has a fractional part"
                )));
            }
            let m = n.abs() as u128;
            let digits = match verb {
                'd' => format!("{m}"),
                'b' => format!("{m:b}"),
                'o' => format!("{m:o}"),
                'x' => format!("{m:x}"),
                _ => format!("{m:X}"),
            };
            format!("{}{digits}", sign_prefix(spec, n < 0.0))
        }
        'f' | 'F' => {
            let n = number_of(arg, verb)?;
            let p = spec.precision.unwrap_or(6).min(100);
            format!("{}{:.*}", sign_prefix(spec, n < 0.0), p, n.abs())
        }
        'e' | 'E' => {
            let n = number_of(arg, verb)?;
            let p = spec.precision.unwrap_or(6).min(100);
            format!(
                "{}{}",
                sign_prefix(spec, n < 0.0),
                go_exp(n, p, verb == 'E')
            )
        }
        'g' | 'G' => {
            let n = number_of(arg, verb)?;
            let body = match spec.precision {
                Some(p) => {
                    let p = p.clamp(1, 100);
                    let exp = if n == 0.0 {
                        0
                    } else {
                        n.abs().log10().floor() as i64
                    };
                    if exp < -4 || exp >= p as i64 {
                        go_exp(n, p - 1, verb == 'G')
                    } else {
                        let decimals = (p as i64 - 1 - exp).max(0) as usize;
                        let s = format!("{:.*}", decimals, n.abs());
                        if s.contains('.') {
                            s.trim_end_matches('0').trim_end_matches('.').to_string()
                        } else {
                            s
                        }
                    }
                }
                None => {
                    let abs = n.abs();
                    if abs != 0.0 && !(1e-4..1e21).contains(&abs) {
                        let s = format!("{abs:e}");
                        let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
                        let exp: i32 = exp.parse().unwrap_or(0);
                        let sign = if exp < 0 { '-' } else { '+' };
                        let e = if verb == 'G' { 'E' } else { 'e' };
                        format!("{mant}{e}{sign}{:02}", exp.abs())
                    } else {
                        format!("{abs}")
                    }
                }
            };
            format!("{}{body}", sign_prefix(spec, n < 0.0))
        }
        other => {
            return Err(EvalError::new(format!(
                "format: unsupported format verb %{other}"
            )));
        }
    })
}

fn json(v: &Value) -> Result<String, EvalError> {
    v.to_json()
        .map(|j| j.to_string())
        .ok_or_else(|| EvalError::new("format: value cannot be encoded as JSON"))
}

pub(super) fn format(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    let fmt = str_arg(&a, 0)?;
    format_string(&fmt, &a[1..]).map(Value::String)
}

pub(super) fn formatlist(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    let fmt = str_arg(&a, 0)?;
    let rest = &a[1..];
    let mut len: Option<usize> = None;
    for (i, v) in rest.iter().enumerate() {
        if let Value::List(items) = v {
            match len {
                Some(l) if l != items.len() => {
                    return Err(EvalError::new(format!(
                        "argument {} has length {}, which is inconsistent with previous list arguments of length {l}",
                        i + 2,
                        items.len()
                    )));
                }
                _ => len = Some(items.len()),
            }
        }
    }
    let n = len.unwrap_or(1);
    let mut out = Vec::with_capacity(n);
    for idx in 0..n {
        let row: Vec<Value> = rest
            .iter()
            .map(|v| match v {
                Value::List(items) => items[idx].clone(),
                other => other.clone(),
            })
            .collect();
        out.push(Value::String(format_string(&fmt, &row)?));
    }
    Ok(Value::list(out))
}

// ---- templates from strings ----

/// A scope for template rendering: only the template variables are visible.
struct TemplateScope<'a> {
    inner: &'a dyn Scope,
}

impl Scope for TemplateScope<'_> {
    fn resolve(&self, _root: &str, _attrs: &[&str]) -> Option<(Value, usize)> {
        None
    }
    fn module_dir(&self) -> Option<&Path> {
        self.inner.module_dir()
    }
    fn repo_root(&self) -> Option<&Path> {
        self.inner.repo_root()
    }
}

/// Parse `text` as a template and render it with `vars`.
pub(super) fn render_template(
    ev: &mut Evaluator<'_>,
    text: &str,
    vars: &BTreeMap<String, Value>,
) -> R {
    if ev.in_template {
        // Terraform removes both template functions inside a template: a template that
        // renders itself is an error, not an endless (or exponential) expansion.
        return Err(EvalError::new(
            "cannot recursively call templatefile or templatestring from inside another template function",
        ));
    }
    if let Err(u) = ev.charge(text.len()) {
        return Ok(u);
    }
    let template = crate::parse::hcl::parse_template(text)
        .map_err(|e| EvalError::new(format!("invalid template: {e}")))?;
    let scope = TemplateScope { inner: ev.scope };
    let mut nested = Evaluator::new(&scope);
    nested.depth = ev.depth + 1;
    nested.steps = ev.steps;
    nested.work = ev.work;
    nested.in_template = true;
    nested.locals = vars.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let out = nested.eval_template(&template);
    ev.steps = nested.steps;
    ev.work = nested.work;
    out
}

pub(super) fn templatestring(ev: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    if let Some(u) = Unknown::combine_shallow(a.iter()) {
        return Ok(Value::Unknown(u));
    }
    if let Some(u) = a.first().and_then(Value::first_unknown) {
        return Ok(Value::Unknown(u.clone()));
    }
    let text = str_arg(&a, 0)?;
    let vars = obj_arg(&a, 1)?.clone();
    render_template(ev, &text, &vars)
}
