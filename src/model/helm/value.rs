//! Helm values and template data: what `.Values` and every template expression evaluate to.
//!
//! Values keep where they were written (`origin`), so that text a template prints from a
//! value can point at the values line that chose it.

use crate::parse::yaml::{Kind, Style, Yaml};
use crate::source::Span;
use std::collections::BTreeMap;
use std::rc::Rc;

#[derive(Clone, Debug)]
pub enum V {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Rc<str>),
    List(Rc<Vec<Val>>),
    Map(Rc<BTreeMap<String, Val>>),
    /// What preflight cannot evaluate, and why (`lookup` reads the live cluster).
    Unknown(Rc<str>),
}

/// A value and, for values read from a values file, where it is written.
#[derive(Clone, Debug)]
pub struct Val {
    pub v: V,
    pub origin: Option<Span>,
}

impl From<V> for Val {
    fn from(v: V) -> Val {
        Val { v, origin: None }
    }
}

impl Val {
    pub const NIL: Val = Val {
        v: V::Nil,
        origin: None,
    };

    pub fn str(s: impl Into<String>) -> Val {
        V::Str(Rc::from(s.into())).into()
    }

    pub fn unknown(reason: impl Into<String>) -> Val {
        V::Unknown(Rc::from(reason.into())).into()
    }

    pub fn map(m: BTreeMap<String, Val>) -> Val {
        V::Map(Rc::new(m)).into()
    }

    pub fn list(l: Vec<Val>) -> Val {
        V::List(Rc::new(l)).into()
    }

    pub fn bool(b: bool) -> Val {
        V::Bool(b).into()
    }

    pub fn is_nil(&self) -> bool {
        matches!(self.v, V::Nil)
    }

    pub fn unknown_reason(&self) -> Option<&str> {
        match &self.v {
            V::Unknown(r) => Some(r),
            _ => None,
        }
    }

    /// The reason of the first unknown anywhere inside the value (lists and maps
    /// included), if any.
    pub fn deep_unknown(&self) -> Option<&str> {
        fn walk<'v>(v: &'v Val, depth: usize, seen: &mut usize) -> Option<&'v str> {
            *seen += 1;
            if depth > 64 || *seen > 1_000_000 {
                return None;
            }
            match &v.v {
                V::Unknown(r) => Some(r),
                V::List(l) => l.iter().find_map(|x| walk(x, depth + 1, seen)),
                V::Map(m) => m.values().find_map(|x| walk(x, depth + 1, seen)),
                _ => None,
            }
        }
        walk(self, 0, &mut 0)
    }

    pub fn as_map(&self) -> Option<&BTreeMap<String, Val>> {
        match &self.v {
            V::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.v {
            V::Str(s) => Some(s),
            _ => None,
        }
    }

    /// `.a.b` lookup in nested maps (`None` when a step is missing or not a map).
    pub fn get_path(&self, path: &[&str]) -> Option<&Val> {
        let mut cur = self;
        for p in path {
            cur = cur.as_map()?.get(*p)?;
        }
        Some(cur)
    }

    /// Go template truth: false, 0, nil, empty string/list/map are false.
    pub fn truthy(&self) -> Option<bool> {
        Some(match &self.v {
            V::Nil => false,
            V::Bool(b) => *b,
            V::Int(i) => *i != 0,
            V::Float(f) => *f != 0.0,
            V::Str(s) => !s.is_empty(),
            V::List(l) => !l.is_empty(),
            V::Map(m) => !m.is_empty(),
            V::Unknown(_) => return None,
        })
    }

    /// Sprig's `kindOf` names.
    pub fn kind(&self) -> &'static str {
        match &self.v {
            V::Nil => "invalid",
            V::Bool(_) => "bool",
            V::Int(_) => "int64",
            V::Float(_) => "float64",
            V::Str(_) => "string",
            V::List(_) => "slice",
            V::Map(_) => "map",
            V::Unknown(_) => "unknown",
        }
    }

    /// How Go's `fmt` prints the value (`{{ . }}`, `print`, `printf "%v"`). A nil prints
    /// as Helm prints it: nothing.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        self.write_text(&mut out, true);
        out
    }

    fn write_text(&self, out: &mut String, top: bool) {
        match &self.v {
            V::Nil if top => {}
            V::Nil => out.push_str("<nil>"),
            V::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            V::Int(i) => out.push_str(&i.to_string()),
            V::Float(f) => out.push_str(&go_float(*f)),
            V::Str(s) => out.push_str(s),
            V::List(l) => {
                out.push('[');
                for (i, x) in l.iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    x.write_text(out, false);
                }
                out.push(']');
            }
            V::Map(m) => {
                out.push_str("map[");
                for (i, (k, x)) in m.iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    out.push_str(k);
                    out.push(':');
                    x.write_text(out, false);
                }
                out.push(']');
            }
            V::Unknown(_) => out.push_str("<unknown>"),
        }
    }
}

/// Go's `%v` of a float64 (`strconv.FormatFloat(f, 'g', -1, 64)`).
pub fn go_float(f: f64) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.into();
    }
    if f == 0.0 {
        return "0".into();
    }
    let e = format!("{f:e}");
    let (mant, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    // Shortest form: the exponent form from 1e+06 on (Helm prints large numbers from
    // values that way).
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mant}e{sign}{:02}", exp.abs());
    }
    format!("{f}")
}

/// Nodes one conversion may produce: aliases are followed, so an alias bomb would
/// otherwise expand.
const MAX_NODES: usize = 200_000;

/// A YAML node as a value (plain scalars typed as YAML does), keeping scalar positions.
pub fn from_yaml(node: Yaml<'_>, depth: usize) -> Val {
    let mut budget = MAX_NODES;
    convert(node, depth, &mut budget)
}

fn convert(node: Yaml<'_>, depth: usize, budget: &mut usize) -> Val {
    let node = node.resolved();
    if depth > 64 {
        return Val::unknown("values nested too deeply");
    }
    if *budget == 0 {
        return Val::unknown("values expand to more than 200,000 nodes (YAML aliases)");
    }
    *budget -= 1;
    let origin = Some(node.span());
    let v = match node.kind() {
        Kind::Scalar { value, style } => match style {
            Style::Plain => plain_scalar(value),
            _ => V::Str(Rc::from(value)),
        },
        Kind::Seq(_) => V::List(Rc::new(
            node.items()
                .map(|i| convert(i, depth + 1, budget))
                .collect(),
        )),
        Kind::Map(_) => {
            let mut m = BTreeMap::new();
            for (k, v) in node.entries() {
                let Some(k) = k.as_str() else { continue };
                if k == "<<" {
                    // A merge key: its map's entries, then the explicit ones override.
                    if let V::Map(base) = convert(v, depth + 1, budget).v {
                        for (bk, bv) in base.iter() {
                            m.entry(bk.clone()).or_insert_with(|| bv.clone());
                        }
                    }
                    continue;
                }
                m.insert(k.to_string(), convert(v, depth + 1, budget));
            }
            V::Map(Rc::new(m))
        }
        Kind::Alias(None) => V::Nil,
        Kind::Alias(Some(_)) => V::Unknown(Rc::from("an alias nested too deeply")),
    };
    Val { v, origin }
}

/// A plain YAML scalar typed as Helm's YAML reader types it.
pub fn plain_scalar(s: &str) -> V {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return V::Nil,
        "true" | "True" | "TRUE" => return V::Bool(true),
        "false" | "False" | "FALSE" => return V::Bool(false),
        _ => {}
    }
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    if !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && let Ok(i) = s.parse::<i64>()
    {
        return V::Int(i);
    }
    if let Some(h) = s.strip_prefix("0x")
        && let Ok(i) = i64::from_str_radix(h, 16)
    {
        return V::Int(i);
    }
    let looks_float = digits
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'))
        && digits.bytes().any(|b| b.is_ascii_digit())
        && digits.as_bytes()[0] != b'e';
    if looks_float && let Ok(f) = s.parse::<f64>() {
        return V::Float(f);
    }
    match s {
        ".inf" | ".Inf" | "+.inf" => V::Float(f64::INFINITY),
        "-.inf" | "-.Inf" => V::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" => V::Float(f64::NAN),
        _ => V::Str(Rc::from(s)),
    }
}

/// Helm's values merge: maps merge key by key, anything else replaces; a null removes the
/// key it overrides.
pub fn merge(base: &mut Val, over: &Val) {
    match (&mut base.v, &over.v) {
        (V::Map(b), V::Map(o)) => {
            let b = Rc::make_mut(b);
            for (k, ov) in o.iter() {
                if ov.is_nil() {
                    b.remove(k);
                    continue;
                }
                match b.get_mut(k) {
                    Some(bv) if bv.as_map().is_some() && ov.as_map().is_some() => merge(bv, ov),
                    _ => {
                        b.insert(k.clone(), ov.clone());
                    }
                }
            }
        }
        _ => *base = over.clone(),
    }
}

/// `--set`-style assignment (`a.b[0].c=value`, `\.` escaping a dot), as ArgoCD passes
/// `helm.parameters`. The value is typed as `--set` types it unless `force_string`.
pub fn set_path(root: &mut Val, name: &str, value: &str, origin: Span, force_string: bool) {
    let mut keys: Vec<(String, Option<usize>)> = Vec::new();
    let mut cur = String::new();
    let mut chars = name.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'.') => {
                cur.push('.');
                chars.next();
            }
            '.' => keys.push((std::mem::take(&mut cur), None)),
            '[' => {
                let idx: String = chars.by_ref().take_while(|&c| c != ']').collect();
                keys.push((std::mem::take(&mut cur), idx.trim().parse().ok()));
                if chars.peek() == Some(&'.') {
                    chars.next();
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        keys.push((cur, None));
    }
    let typed = if force_string {
        V::Str(Rc::from(value))
    } else {
        match value {
            "true" => V::Bool(true),
            "false" => V::Bool(false),
            "null" => V::Nil,
            _ => match value.parse::<i64>() {
                Ok(i) if !value.starts_with('0') || value == "0" => V::Int(i),
                _ => V::Str(Rc::from(value)),
            },
        }
    };
    let leaf = Val {
        v: typed,
        origin: Some(origin),
    };
    assign(root, &keys, leaf, 0);
}

fn assign(node: &mut Val, keys: &[(String, Option<usize>)], leaf: Val, depth: usize) {
    let Some(((key, idx), rest)) = keys.split_first() else {
        *node = leaf;
        return;
    };
    if depth > 32 || idx.is_some_and(|i| i > 1000) {
        return;
    }
    if node.as_map().is_none() {
        *node = Val::map(BTreeMap::new());
    }
    let V::Map(m) = &mut node.v else { return };
    let m = Rc::make_mut(m);
    let slot = m.entry(key.clone()).or_insert(Val::NIL);
    match idx {
        Some(i) => {
            if !matches!(slot.v, V::List(_)) {
                *slot = Val::list(Vec::new());
            }
            let V::List(l) = &mut slot.v else { return };
            let l = Rc::make_mut(l);
            while l.len() <= *i {
                l.push(Val::NIL);
            }
            assign(&mut l[*i], rest, leaf, depth + 1);
        }
        None => assign(slot, rest, leaf, depth + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_float_formats_like_go() {
        assert_eq!(go_float(3.0), "3");
        assert_eq!(go_float(1.5), "1.5");
        assert_eq!(go_float(1e6), "1e+06");
        assert_eq!(go_float(123456.0), "123456");
        assert_eq!(go_float(0.00001), "1e-05");
    }

    #[test]
    fn set_path_types_and_nests() {
        let mut root = Val::map(BTreeMap::new());
        let at = Span::new(crate::source::FileId(0), 0..1);
        set_path(&mut root, "a.b", "true", at, false);
        set_path(&mut root, "list[1].x", "5", at, false);
        set_path(&mut root, "ann.cert-manager\\.io/x", "y", at, false);
        assert!(matches!(
            root.get_path(&["a", "b"]).unwrap().v,
            V::Bool(true)
        ));
        assert_eq!(
            root.get_path(&["ann", "cert-manager.io/x"])
                .unwrap()
                .as_str(),
            Some("y")
        );
        let V::List(l) = &root.get_path(&["list"]).unwrap().v else {
            panic!()
        };
        assert_eq!(l.len(), 2);
    }
}
