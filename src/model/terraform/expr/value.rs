//! Terraform values, including values that are not known to the model.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use super::error::EvalError;

/// A Terraform value as far as preflight can know it statically.
///
/// Tuples, lists and sets are all represented as [`Value::List`]; objects and
/// maps as [`Value::Object`]. Unknown values may appear at any depth.
///
/// Lists and objects share their elements: cloning a value copies no tree (a memoised
/// local read by many expressions, a variable passed into a module instance), and a
/// change goes through [`Arc::make_mut`], which copies only a shared level. Build them
/// with [`Value::list`] / [`Value::object`] (or `From`).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number (Terraform numbers are arbitrary precision; f64 is enough here).
    Number(f64),
    /// A string.
    String(String),
    /// A tuple, list or set.
    List(Arc<Vec<Value>>),
    /// An object or map.
    Object(Arc<BTreeMap<String, Value>>),
    /// A value that is not known statically.
    Unknown(Unknown),
}

/// What one value costs in the evaluation budgets beyond its strings' bytes (about what a
/// node takes in memory).
pub const NODE_WEIGHT: usize = 48;

/// Why a value is not known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unknown {
    /// Known only after `terraform apply`, e.g. origin `aws_eks_cluster.this.id`.
    AtApply {
        /// The expression the unknown value comes from.
        origin: String,
    },
    /// The model cannot evaluate it (unsupported function, missing value, ...).
    Undecidable {
        /// Human-readable explanation.
        reason: String,
    },
    /// Known to Terraform during plan, but not to preflight: an attribute of a data source
    /// read during plan (the region, the caller's identity, an existence probe), e.g. origin
    /// `data.aws_caller_identity.current.account_id`. A count that depends on it is known
    /// at plan; its value cannot be told.
    AtPlan {
        /// The expression the value comes from.
        origin: String,
    },
    /// Known only after apply in one outcome of a condition Terraform decides at plan from
    /// what preflight cannot see (the adopt-or-create pattern: `should_create =
    /// !data.x.exists`, `arn = should_create ? aws_x.this[0].arn : local.existing`). The
    /// outcome `when` is one an environment plausibly takes (a fresh one creates). Boxed,
    /// so that an unknown (and so every value) stays as small as a string.
    AtApplyIf(Box<ApplyIf>),
}

/// What [`Unknown::AtApplyIf`] knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyIf {
    /// The expression the value unknown until apply comes from.
    pub origin: String,
    /// The condition, as written.
    pub condition: String,
    /// What the condition depends on that is read at plan.
    pub decided_by: String,
    /// The outcome of the condition in which the value is unknown until apply.
    pub when: bool,
}

/// Three-way truth of a condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Truth {
    /// The condition is known to be true.
    True,
    /// The condition is known to be false.
    False,
    /// The condition is unknown (or not a valid bool).
    Unknown,
}

impl Unknown {
    /// An [`Unknown::AtApply`] with the given origin.
    pub fn at_apply(origin: impl Into<String>) -> Unknown {
        Unknown::AtApply {
            origin: origin.into(),
        }
    }

    /// An [`Unknown::AtPlan`] from the given origin.
    pub fn at_plan(origin: impl Into<String>) -> Unknown {
        Unknown::AtPlan {
            origin: origin.into(),
        }
    }

    /// Which unknown decides a combination: unknown until apply, then unknown until apply
    /// in one outcome of a condition, then cannot tell, then known at plan (see
    /// [`Unknown::combine`]).
    pub fn rank(&self) -> u8 {
        match self {
            Unknown::AtApply { .. } => Self::TOP_RANK,
            Unknown::AtApplyIf(_) => 2,
            Unknown::Undecidable { .. } => 1,
            Unknown::AtPlan { .. } => 0,
        }
    }

    /// The rank of [`Unknown::AtApply`]: nothing outranks it.
    pub const TOP_RANK: u8 = 3;

    /// An [`Unknown::Undecidable`] with the given reason.
    pub fn undecidable(reason: impl Into<String>) -> Unknown {
        Unknown::Undecidable {
            reason: reason.into(),
        }
    }

    /// Combine the unknowns found (deeply) in `values` as cty does for an operation that
    /// cannot short-circuit: a value unknown until apply makes the result unknown until
    /// apply whatever else cannot be told, so the first `AtApply` wins, else the first
    /// `Undecidable`. `None` if all are known.
    pub fn combine<'a>(values: impl IntoIterator<Item = &'a Value>) -> Option<Unknown> {
        let mut best: Option<&Unknown> = None;
        for v in values {
            if let Some(u) = v.first_unknown()
                && best.is_none_or(|b| u.rank() > b.rank())
            {
                if u.rank() == Unknown::TOP_RANK {
                    return Some(u.clone());
                }
                best = Some(u);
            }
        }
        best.cloned()
    }

    /// Combine only the top-level unknowns of `values` (not nested ones).
    pub fn combine_shallow<'a>(values: impl IntoIterator<Item = &'a Value>) -> Option<Unknown> {
        let mut best: Option<&Unknown> = None;
        for v in values {
            if let Value::Unknown(u) = v
                && best.is_none_or(|b| u.rank() > b.rank())
            {
                best = Some(u);
            }
        }
        best.cloned()
    }
}

impl fmt::Display for Unknown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unknown::AtApply { origin } => write!(f, "(known after apply: {origin})"),
            Unknown::Undecidable { reason } => write!(f, "(not evaluated: {reason})"),
            Unknown::AtPlan { origin } => write!(f, "(known at plan: {origin})"),
            Unknown::AtApplyIf(a) => write!(
                f,
                "(known after apply when `{}` is {}: {})",
                a.condition, a.when, a.origin
            ),
        }
    }
}

impl Value {
    /// A list value.
    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Arc::new(items))
    }

    /// An object value.
    pub fn object(map: BTreeMap<String, Value>) -> Value {
        Value::Object(Arc::new(map))
    }

    /// A string value.
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    /// An `Unknown::AtApply` value.
    pub fn at_apply(origin: impl Into<String>) -> Value {
        Value::Unknown(Unknown::at_apply(origin))
    }

    /// An `Unknown::Undecidable` value.
    pub fn undecidable(reason: impl Into<String>) -> Value {
        Value::Unknown(Unknown::undecidable(reason))
    }

    /// The value's size for the evaluation budgets: the bytes of its strings and keys plus
    /// [`NODE_WEIGHT`] per value, counted until `limit` is passed (so that weighing a huge
    /// value costs no more than the limit).
    pub fn weight(&self, limit: usize) -> usize {
        let mut total = 0usize;
        let mut stack = vec![self];
        while let Some(v) = stack.pop() {
            total = total.saturating_add(NODE_WEIGHT);
            match v {
                Value::String(s) => total = total.saturating_add(s.len()),
                Value::List(items) => stack.extend(items.iter()),
                Value::Object(m) => {
                    for (k, x) in m.iter() {
                        total = total.saturating_add(k.len());
                        stack.push(x);
                    }
                }
                _ => {}
            }
            if total > limit {
                return total;
            }
        }
        total
    }

    /// True if the value contains no unknown at any depth.
    pub fn is_known(&self) -> bool {
        self.first_unknown().is_none()
    }

    /// True if the value itself (not its elements) is unknown.
    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown(_))
    }

    /// True for `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The first unknown found in a depth-first walk, preferring `AtApply` (see
    /// [`Unknown::combine`]).
    pub fn first_unknown(&self) -> Option<&Unknown> {
        match self {
            Value::Unknown(u) => Some(u),
            Value::List(items) => first_unknown_of(items.iter()),
            Value::Object(map) => first_unknown_of(map.values()),
            _ => None,
        }
    }

    /// The bool, if this is a known bool.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The string, if this is a known string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The number, if this is a known number.
    pub fn as_number(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// The elements, if this is a list/tuple/set.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(items) => Some(items),
            _ => None,
        }
    }

    /// The attributes, if this is an object/map.
    pub fn as_object(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Object(map) => Some(map),
            _ => None,
        }
    }

    /// Truth of the value used as a condition, with Terraform's conversion
    /// of `"true"`/`"false"` strings to bool.
    pub fn truthiness(&self) -> Truth {
        match self.to_bool() {
            Ok(Value::Bool(true)) => Truth::True,
            Ok(Value::Bool(false)) => Truth::False,
            _ => Truth::Unknown,
        }
    }

    /// Terraform's type name of the value (`string`, `number`, `bool`,
    /// `tuple`, `object`, `null`, `unknown`).
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::List(_) => "tuple",
            Value::Object(_) => "object",
            Value::Unknown(_) => "unknown",
        }
    }

    /// Convert to bool following Terraform: bools and the strings `"true"` /
    /// `"false"`. Unknowns stay unknown; null is an error.
    pub fn to_bool(&self) -> Result<Value, EvalError> {
        match self {
            Value::Bool(_) | Value::Unknown(_) => Ok(self.clone()),
            Value::String(s) if s == "true" => Ok(Value::Bool(true)),
            Value::String(s) if s == "false" => Ok(Value::Bool(false)),
            Value::Null => Err(EvalError::new(
                "Invalid value: a bool is required, got null",
            )),
            other => Err(EvalError::new(format!(
                "Invalid value: a bool is required, got {}",
                other.type_name()
            ))),
        }
    }

    /// Convert to number following Terraform: numbers and numeric strings.
    pub fn to_number(&self) -> Result<Value, EvalError> {
        match self {
            Value::Number(_) | Value::Unknown(_) => Ok(self.clone()),
            Value::String(s) => parse_number(s).map(Value::Number).ok_or_else(|| {
                EvalError::new(format!(
                    "Invalid value: a number is required, cannot convert {} to number",
                    Value::String(s.clone())
                ))
            }),
            Value::Null => Err(EvalError::new(
                "Invalid value: a number is required, got null",
            )),
            other => Err(EvalError::new(format!(
                "Invalid value: a number is required, got {}",
                other.type_name()
            ))),
        }
    }

    /// Convert to string following Terraform: strings, numbers and bools.
    pub fn to_string_value(&self) -> Result<Value, EvalError> {
        match self {
            Value::String(_) | Value::Unknown(_) => Ok(self.clone()),
            Value::Number(n) => Ok(Value::String(format_number(*n))),
            Value::Bool(b) => Ok(Value::String(b.to_string())),
            Value::Null => Err(EvalError::new(
                "Invalid value: a string is required, got null",
            )),
            other => Err(EvalError::new(format!(
                "Invalid value: a string is required, got {}",
                other.type_name()
            ))),
        }
    }

    /// Build a value from JSON.
    pub fn from_json(json: &serde_json::Value) -> Value {
        match json {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::Number(n.as_f64().unwrap_or(f64::NAN)),
            serde_json::Value::String(s) => Value::String(s.clone()),
            serde_json::Value::Array(items) => {
                Value::list(items.iter().map(Value::from_json).collect())
            }
            serde_json::Value::Object(map) => Value::object(
                map.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect(),
            ),
        }
    }

    /// Convert to JSON; `None` if the value is not fully known or holds a
    /// non-finite number.
    pub fn to_json(&self) -> Option<serde_json::Value> {
        Some(match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => {
                if !n.is_finite() {
                    return None;
                }
                if n.fract() == 0.0 && n.abs() < 9.0e15 {
                    serde_json::Value::from(*n as i64)
                } else {
                    serde_json::Value::from(*n)
                }
            }
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::List(items) => serde_json::Value::Array(
                items
                    .iter()
                    .map(Value::to_json)
                    .collect::<Option<Vec<_>>>()?,
            ),
            Value::Object(map) => serde_json::Value::Object(
                map.iter()
                    .map(|(k, v)| v.to_json().map(|j| (k.clone(), j)))
                    .collect::<Option<serde_json::Map<_, _>>>()?,
            ),
            Value::Unknown(_) => return None,
        })
    }

    /// Terraform's `==`: deep equality including type. `None` if it depends
    /// on an unknown value.
    pub fn terraform_equals(&self, other: &Value) -> Option<bool> {
        match (self, other) {
            (Value::Unknown(_), _) | (_, Value::Unknown(_)) => None,
            (Value::Null, Value::Null) => Some(true),
            (Value::Bool(a), Value::Bool(b)) => Some(a == b),
            (Value::Number(a), Value::Number(b)) => Some(a == b),
            (Value::String(a), Value::String(b)) => Some(a == b),
            (Value::List(a), Value::List(b)) => {
                if a.len() != b.len() {
                    return Some(false);
                }
                let mut unknown = false;
                for (x, y) in a.iter().zip(b.iter()) {
                    match x.terraform_equals(y) {
                        Some(false) => return Some(false),
                        None => unknown = true,
                        Some(true) => {}
                    }
                }
                if unknown { None } else { Some(true) }
            }
            (Value::Object(a), Value::Object(b)) => {
                if a.len() != b.len() || a.keys().ne(b.keys()) {
                    return Some(false);
                }
                let mut unknown = false;
                for (x, y) in a.values().zip(b.values()) {
                    match x.terraform_equals(y) {
                        Some(false) => return Some(false),
                        None => unknown = true,
                        Some(true) => {}
                    }
                }
                if unknown { None } else { Some(true) }
            }
            _ => Some(false),
        }
    }
}

fn first_unknown_of<'a>(values: impl Iterator<Item = &'a Value>) -> Option<&'a Unknown> {
    let mut best: Option<&Unknown> = None;
    for v in values {
        if let Some(u) = v.first_unknown()
            && best.is_none_or(|b| u.rank() > b.rank())
        {
            if u.rank() == Unknown::TOP_RANK {
                return Some(u);
            }
            best = Some(u);
        }
    }
    best
}

/// Parse a number the way Terraform converts strings to numbers.
pub fn parse_number(s: &str) -> Option<f64> {
    let t = s.trim();
    if t.is_empty()
        || t.eq_ignore_ascii_case("inf")
        || t.eq_ignore_ascii_case("+inf")
        || t.eq_ignore_ascii_case("-inf")
        || t.eq_ignore_ascii_case("infinity")
        || t.eq_ignore_ascii_case("nan")
        || t != s
    {
        return None;
    }
    let n: f64 = t.parse().ok()?;
    n.is_finite().then_some(n)
}

/// Format a number the way Terraform renders it in strings.
pub fn format_number(n: f64) -> String {
    if n.is_nan() {
        return "NaN".to_string();
    }
    if n.is_infinite() {
        return if n > 0.0 { "+Inf" } else { "-Inf" }.to_string();
    }
    if n.fract() == 0.0 && n.abs() < 1e17 {
        // Avoid "-0".
        return format!("{}", n as i64);
    }
    format!("{n}")
}

/// Quote a string in Terraform syntax.
pub fn quote_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_alphabetic() || c == '_' => {}
        _ => return false,
    }
    chars.all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => write!(f, "null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Number(n) => write!(f, "{}", format_number(*n)),
            Value::String(s) => write!(f, "{}", quote_string(s)),
            Value::List(items) => {
                write!(f, "[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{item}")?;
                }
                write!(f, "]")
            }
            Value::Object(map) => {
                if map.is_empty() {
                    return write!(f, "{{}}");
                }
                write!(f, "{{ ")?;
                for (i, (k, v)) in map.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    if is_identifier(k) {
                        write!(f, "{k} = {v}")?;
                    } else {
                        write!(f, "{} = {v}", quote_string(k))?;
                    }
                }
                write!(f, " }}")
            }
            Value::Unknown(u) => write!(f, "{u}"),
        }
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<f64> for Value {
    fn from(n: f64) -> Self {
        Value::Number(n)
    }
}

impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Number(n as f64)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<Vec<Value>> for Value {
    fn from(items: Vec<Value>) -> Self {
        Value::list(items)
    }
}

impl From<BTreeMap<String, Value>> for Value {
    fn from(map: BTreeMap<String, Value>) -> Self {
        Value::object(map)
    }
}

impl From<&serde_json::Value> for Value {
    fn from(json: &serde_json::Value) -> Self {
        Value::from_json(json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_terraform_syntax() {
        assert_eq!(Value::from("a").to_string(), "\"a\"");
        assert_eq!(Value::Bool(true).to_string(), "true");
        assert_eq!(
            Value::list(vec!["a".into(), "b".into()]).to_string(),
            "[\"a\", \"b\"]"
        );
        let mut m = BTreeMap::new();
        m.insert("a".to_string(), Value::Number(1.0));
        assert_eq!(Value::object(m.clone()).to_string(), "{ a = 1 }");
        m.insert("b c".to_string(), Value::Number(1.5));
        assert_eq!(Value::object(m).to_string(), "{ a = 1, \"b c\" = 1.5 }");
        assert_eq!(Value::from("${x}").to_string(), "\"$${x}\"");
        assert_eq!(Value::object(BTreeMap::new()).to_string(), "{}");
    }

    #[test]
    #[cfg(target_pointer_width = "64")]
    fn a_value_is_as_small_as_a_string() {
        // Lists and objects are shared, the largest unknown is boxed: every element of a
        // list or object costs one string's size.
        assert_eq!(std::mem::size_of::<Value>(), 32);
    }

    #[test]
    fn known_is_deep() {
        let v = Value::list(vec![Value::Null, Value::at_apply("x.y.id")]);
        assert!(!v.is_known());
        assert!(!v.is_unknown());
        assert!(Value::list(vec![]).is_known());
    }

    #[test]
    fn combine_prefers_unknown_at_apply() {
        let a = Value::at_apply("a");
        let b = Value::undecidable("b");
        assert_eq!(Unknown::combine([&b, &a]), Some(Unknown::at_apply("a")));
        assert_eq!(Unknown::combine([&b]), Some(Unknown::undecidable("b")));
        assert_eq!(Unknown::combine([&a]), Some(Unknown::at_apply("a")));
        assert_eq!(Unknown::combine([&Value::Null]), None);
    }

    #[test]
    fn conversions() {
        assert_eq!(Value::from("true").truthiness(), Truth::True);
        assert_eq!(Value::Bool(false).truthiness(), Truth::False);
        assert_eq!(Value::Number(1.0).truthiness(), Truth::Unknown);
        assert_eq!(
            Value::from("12").to_number().ok(),
            Some(Value::Number(12.0))
        );
        assert!(Value::from("x").to_number().is_err());
        assert_eq!(
            Value::Number(2.5).to_string_value().ok(),
            Some(Value::from("2.5"))
        );
        assert_eq!(
            Value::Number(3.0).to_string_value().ok(),
            Some(Value::from("3"))
        );
        assert!(Value::Bool(true).to_number().is_err());
    }

    #[test]
    fn json_round_trip() {
        let json: serde_json::Value =
            serde_json::from_str(r#"{"a":[1,2.5,"x",null,true],"b":{}}"#).unwrap();
        let v = Value::from_json(&json);
        assert_eq!(v.to_json(), Some(json));
        assert_eq!(Value::at_apply("x").to_json(), None);
    }

    #[test]
    fn equality_with_types() {
        assert_eq!(
            Value::Number(1.0).terraform_equals(&Value::from("1")),
            Some(false)
        );
        assert_eq!(Value::Null.terraform_equals(&Value::Null), Some(true));
        let l1 = Value::list(vec![Value::at_apply("x"), 1.0.into()]);
        let l2 = Value::list(vec![Value::from("a"), 2.0.into()]);
        assert_eq!(l1.terraform_equals(&l2), Some(false));
        let l3 = Value::list(vec![Value::from("a"), 1.0.into()]);
        assert_eq!(l1.terraform_equals(&l3), None);
    }
}
