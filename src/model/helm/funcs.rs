//! Go template built-ins and the sprig/Helm functions charts commonly use. A function
//! preflight does not know, or one whose result is random or time-dependent, evaluates to
//! "cannot tell".

use super::value::{V, Val, go_float, plain_scalar};
use std::collections::BTreeMap;
use std::rc::Rc;

pub enum FnError {
    /// The result cannot be known (random, time, unknown function).
    Unknown(String),
    /// The call fails the render.
    Fail(String),
}

type F = Result<Val, FnError>;

fn fail<T>(m: impl Into<String>) -> Result<T, FnError> {
    Err(FnError::Fail(m.into()))
}

/// Helm's notion of empty (`default`, `empty`, `coalesce`).
pub fn is_empty(v: &Val) -> bool {
    !v.truthy().unwrap_or(true)
}

fn num(v: &Val) -> Option<f64> {
    match &v.v {
        V::Int(i) => Some(*i as f64),
        V::Float(f) => Some(*f),
        V::Str(s) => s.trim().parse().ok(),
        V::Bool(b) => Some(f64::from(u8::from(*b))),
        V::Nil => Some(0.0),
        _ => None,
    }
}

fn int(v: &Val) -> i64 {
    match &v.v {
        V::Int(i) => *i,
        V::Float(f) => *f as i64,
        V::Str(s) => s
            .trim()
            .parse::<i64>()
            .ok()
            .or_else(|| s.trim().parse::<f64>().ok().map(|f| f as i64))
            .unwrap_or(0),
        V::Bool(b) => i64::from(*b),
        _ => 0,
    }
}

fn text(v: &Val) -> String {
    v.to_text()
}

fn s(v: impl Into<String>) -> F {
    Ok(Val::str(v))
}

fn list_of(v: &Val) -> Vec<Val> {
    match &v.v {
        V::List(l) => l.as_ref().clone(),
        V::Nil => Vec::new(),
        _ => vec![v.clone()],
    }
}

fn equal(a: &Val, b: &Val) -> bool {
    match (&a.v, &b.v) {
        (V::Nil, V::Nil) => true,
        (V::Bool(x), V::Bool(y)) => x == y,
        (V::Str(x), V::Str(y)) => x == y,
        (V::Int(_) | V::Float(_), V::Int(_) | V::Float(_)) => num(a) == num(b),
        (V::List(x), V::List(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| equal(p, q))
        }
        (V::Map(x), V::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y.iter())
                    .all(|((k1, v1), (k2, v2))| k1 == k2 && equal(v1, v2))
        }
        _ => false,
    }
}

fn compare(a: &Val, b: &Val) -> Result<std::cmp::Ordering, FnError> {
    match (&a.v, &b.v) {
        (V::Str(x), V::Str(y)) => Ok(x.cmp(y)),
        (V::Int(_) | V::Float(_), V::Int(_) | V::Float(_)) => num(a)
            .partial_cmp(&num(b))
            .map_or_else(|| fail("incomparable numbers"), Ok),
        _ => fail(format!(
            "incompatible types for comparison: {} and {}",
            a.kind(),
            b.kind()
        )),
    }
}

/// Call `name`. `args` are evaluated, a piped value last.
pub fn call(name: &str, args: Vec<Val>) -> F {
    // An unknown argument makes the result unknown, except where the function decides
    // without it.
    if !matches!(
        name,
        "default" | "ternary" | "coalesce" | "hasKey" | "list" | "dict" | "empty"
    ) && let Some(u) = args.iter().find_map(|a| a.unknown_reason())
    {
        return Err(FnError::Unknown(u.to_string()));
    }
    // Functions that print or serialise a whole value: anything unknown inside it makes
    // the text unknown.
    if matches!(
        name,
        "toYaml"
            | "toJson"
            | "mustToJson"
            | "toPrettyJson"
            | "toString"
            | "print"
            | "println"
            | "printf"
            | "quote"
            | "squote"
            | "join"
            | "b64enc"
            | "sha256sum"
            | "cat"
    ) && let Some(u) = args.iter().find_map(|a| a.deep_unknown())
    {
        return Err(FnError::Unknown(u.to_string()));
    }
    let a = |i: usize| args.get(i).cloned().unwrap_or(Val::NIL);
    let last = || args.last().cloned().unwrap_or(Val::NIL);
    let need = |n: usize| -> Result<(), FnError> {
        if args.len() < n {
            fail(format!(
                "wrong number of args for {name}: want {n} got {}",
                args.len()
            ))
        } else {
            Ok(())
        }
    };
    match name {
        // Go built-ins.
        "not" => {
            need(1)?;
            Ok(Val::bool(!a(0).truthy().unwrap_or(false)))
        }
        "eq" => {
            need(2)?;
            let x = a(0);
            Ok(Val::bool(args[1..].iter().any(|y| equal(&x, y))))
        }
        "ne" => {
            need(2)?;
            Ok(Val::bool(!equal(&a(0), &a(1))))
        }
        "lt" | "le" | "gt" | "ge" => {
            need(2)?;
            let o = compare(&a(0), &a(1))?;
            use std::cmp::Ordering::*;
            Ok(Val::bool(match name {
                "lt" => o == Less,
                "le" => o != Greater,
                "gt" => o == Greater,
                _ => o != Less,
            }))
        }
        "len" => {
            need(1)?;
            Ok(V::Int(match &a(0).v {
                V::Str(x) => x.len() as i64,
                V::List(l) => l.len() as i64,
                V::Map(m) => m.len() as i64,
                V::Nil => 0,
                _ => return fail("len of a value with no length"),
            })
            .into())
        }
        "index" => {
            need(1)?;
            let mut cur = a(0);
            for k in &args[1..] {
                cur = match (&cur.v, &k.v) {
                    (V::Map(m), _) => m.get(&text(k)).cloned().unwrap_or(Val::NIL),
                    (V::List(l), _) => match l.get(int(k) as usize) {
                        Some(x) if int(k) >= 0 => x.clone(),
                        _ => return fail(format!("index out of range: {}", int(k))),
                    },
                    (V::Nil, _) => return fail("index of untyped nil"),
                    _ => return fail(format!("can't index item of type {}", cur.kind())),
                };
            }
            Ok(cur)
        }
        "print" => Ok(Val::str(go_print(&args))),
        "println" => Ok(Val::str(
            args.iter().map(text).collect::<Vec<_>>().join(" ") + "\n",
        )),
        "printf" => {
            need(1)?;
            Ok(Val::str(printf(&text(&a(0)), &args[1..])))
        }
        "html" | "js" | "urlquery" => s(text(&a(0))),
        // Defaults and flow.
        "default" => {
            need(1)?;
            let v = if args.len() >= 2 { last() } else { Val::NIL };
            if let Some(u) = v.unknown_reason() {
                return Err(FnError::Unknown(u.to_string()));
            }
            Ok(if is_empty(&v) { a(0) } else { v })
        }
        "empty" => {
            if let Some(u) = a(0).unknown_reason() {
                return Err(FnError::Unknown(u.to_string()));
            }
            Ok(Val::bool(is_empty(&a(0))))
        }
        "coalesce" => {
            for v in &args {
                if let Some(u) = v.unknown_reason() {
                    return Err(FnError::Unknown(u.to_string()));
                }
                if !is_empty(v) {
                    return Ok(v.clone());
                }
            }
            Ok(Val::NIL)
        }
        "ternary" => {
            need(3)?;
            match a(2).truthy() {
                Some(true) => Ok(a(0)),
                Some(false) => Ok(a(1)),
                None => Err(FnError::Unknown(a(2).unknown_reason().unwrap_or("").into())),
            }
        }
        // Strings.
        "quote" => Ok(Val {
            v: V::Str(Rc::from(
                args.iter()
                    .filter(|x| !x.is_nil())
                    .map(|x| format!("{:?}", text(x)))
                    .collect::<Vec<_>>()
                    .join(" "),
            )),
            origin: if args.len() == 1 { a(0).origin } else { None },
        }),
        "squote" => s(args
            .iter()
            .filter(|x| !x.is_nil())
            .map(|x| format!("'{}'", text(x)))
            .collect::<Vec<_>>()
            .join(" ")),
        "toString" => Ok(Val {
            v: V::Str(Rc::from(text(&a(0)))),
            origin: a(0).origin,
        }),
        "lower" => Ok(keep(&a(0), text(&a(0)).to_lowercase())),
        "upper" => Ok(keep(&a(0), text(&a(0)).to_uppercase())),
        "title" => s(text(&a(0))
            .split(' ')
            .map(|w| {
                let mut c = w.chars();
                c.next().map_or(String::new(), |f| {
                    f.to_uppercase().collect::<String>() + c.as_str()
                })
            })
            .collect::<Vec<_>>()
            .join(" ")),
        "trim" => Ok(keep(&a(0), text(&a(0)).trim().to_string())),
        "trimAll" => {
            need(2)?;
            let cut: Vec<char> = text(&a(0)).chars().collect();
            s(text(&a(1)).trim_matches(|c| cut.contains(&c)).to_string())
        }
        "trimPrefix" => {
            need(2)?;
            let (p, x) = (text(&a(0)), text(&a(1)));
            s(x.strip_prefix(p.as_str()).unwrap_or(&x).to_string())
        }
        "trimSuffix" => {
            need(2)?;
            let (p, x) = (text(&a(0)), text(&a(1)));
            s(x.strip_suffix(p.as_str()).unwrap_or(&x).to_string())
        }
        "trunc" => {
            need(2)?;
            let n = int(&a(0));
            let x = text(&a(1));
            let chars: Vec<char> = x.chars().collect();
            let out: String = if n >= 0 {
                chars.iter().take(n as usize).collect()
            } else {
                chars
                    .iter()
                    .skip(chars.len().saturating_sub((-n) as usize))
                    .collect()
            };
            s(out)
        }
        "substr" => {
            need(3)?;
            let x: Vec<char> = text(&a(2)).chars().collect();
            let (st, en) = (int(&a(0)).max(0) as usize, int(&a(1)));
            let en = if en < 0 {
                x.len()
            } else {
                (en as usize).min(x.len())
            };
            s(x.get(st.min(en)..en)
                .map(|c| c.iter().collect::<String>())
                .unwrap_or_default())
        }
        "replace" => {
            need(3)?;
            s(text(&a(2)).replace(&text(&a(0)), &text(&a(1))))
        }
        "contains" => {
            need(2)?;
            Ok(Val::bool(text(&a(1)).contains(&text(&a(0)))))
        }
        "hasPrefix" => {
            need(2)?;
            Ok(Val::bool(text(&a(1)).starts_with(&text(&a(0)))))
        }
        "hasSuffix" => {
            need(2)?;
            Ok(Val::bool(text(&a(1)).ends_with(&text(&a(0)))))
        }
        "repeat" => {
            need(2)?;
            let n = int(&a(0)).clamp(0, 10_000) as usize;
            s(text(&a(1)).repeat(n))
        }
        "nospace" => s(text(&a(0)).split_whitespace().collect::<String>()),
        "cat" => s(args
            .iter()
            .filter(|x| !x.is_nil())
            .map(text)
            .collect::<Vec<_>>()
            .join(" ")),
        "indent" | "nindent" => {
            need(2)?;
            let pad = " ".repeat(int(&a(0)).clamp(0, 1000) as usize);
            let body = text(&a(1));
            let ind = body
                .split('\n')
                .map(|l| format!("{pad}{l}"))
                .collect::<Vec<_>>()
                .join("\n");
            s(if name == "nindent" {
                format!("\n{ind}")
            } else {
                ind
            })
        }
        "split" => {
            need(2)?;
            let mut m = BTreeMap::new();
            for (i, part) in text(&a(1)).split(text(&a(0)).as_str()).enumerate() {
                m.insert(format!("_{i}"), Val::str(part));
            }
            Ok(Val::map(m))
        }
        "splitList" => {
            need(2)?;
            Ok(Val::list(
                text(&a(1))
                    .split(text(&a(0)).as_str())
                    .map(Val::str)
                    .collect(),
            ))
        }
        "join" => {
            need(2)?;
            s(list_of(&a(1))
                .iter()
                .map(text)
                .collect::<Vec<_>>()
                .join(&text(&a(0))))
        }
        "kebabcase" | "snakecase" => {
            let sep = if name == "kebabcase" { '-' } else { '_' };
            let mut out = String::new();
            for (i, c) in text(&a(0)).chars().enumerate() {
                if c.is_uppercase() && i > 0 {
                    out.push(sep);
                }
                out.extend(c.to_lowercase());
            }
            s(out)
        }
        "b64enc" => {
            use base64::Engine;
            s(base64::engine::general_purpose::STANDARD.encode(text(&a(0))))
        }
        "b64dec" => {
            use base64::Engine;
            match base64::engine::general_purpose::STANDARD.decode(text(&a(0))) {
                Ok(b) => s(String::from_utf8_lossy(&b).to_string()),
                Err(e) => s(e.to_string()),
            }
        }
        "sha256sum" => {
            use sha2::Digest;
            s(sha2::Sha256::digest(text(&a(0)).as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>())
        }
        "regexMatch" => {
            need(2)?;
            let re = regex::Regex::new(&text(&a(0))).map_err(|e| FnError::Fail(e.to_string()))?;
            Ok(Val::bool(re.is_match(&text(&a(1)))))
        }
        "regexReplaceAll" => {
            need(3)?;
            let re = regex::Regex::new(&text(&a(0))).map_err(|e| FnError::Fail(e.to_string()))?;
            s(re.replace_all(&text(&a(1)), text(&a(2)).as_str())
                .to_string())
        }
        // Conversions.
        "int" | "int64" | "atoi" => Ok(V::Int(int(&a(0))).into()),
        "float64" => Ok(V::Float(num(&a(0)).unwrap_or(0.0)).into()),
        "toYaml" => s(to_yaml(&a(0)).trim_end_matches('\n').to_string()),
        "toJson" | "mustToJson" => s(to_json(&a(0)).to_string()),
        "toPrettyJson" => s(serde_json::to_string_pretty(&to_json(&a(0))).unwrap_or_default()),
        "fromYaml" => Ok(from_text_yaml(&text(&a(0)))),
        "fromJson" => Ok(serde_json::from_str::<serde_json::Value>(&text(&a(0)))
            .map(|j| from_json(&j))
            .unwrap_or_else(|e| {
                let mut m = BTreeMap::new();
                m.insert("Error".into(), Val::str(e.to_string()));
                Val::map(m)
            })),
        "kindOf" => s(a(0).kind()),
        "kindIs" => {
            need(2)?;
            Ok(Val::bool(text(&a(0)) == a(1).kind()))
        }
        "typeOf" => s(match a(0).v {
            V::Str(_) => "string",
            V::Int(_) => "int64",
            V::Float(_) => "float64",
            V::Bool(_) => "bool",
            V::List(_) => "[]interface {}",
            V::Map(_) => "map[string]interface {}",
            _ => "<nil>",
        }),
        // Lists and dicts.
        "list" | "tuple" => Ok(Val::list(args.clone())),
        "dict" => {
            let mut m = BTreeMap::new();
            for pair in args.chunks(2) {
                m.insert(text(&pair[0]), pair.get(1).cloned().unwrap_or(Val::NIL));
            }
            Ok(Val::map(m))
        }
        "hasKey" => {
            need(2)?;
            match &a(0).v {
                V::Map(m) => Ok(Val::bool(m.contains_key(&text(&a(1))))),
                V::Unknown(u) => Err(FnError::Unknown(u.to_string())),
                _ => Ok(Val::bool(false)),
            }
        }
        "get" => {
            need(2)?;
            Ok(a(0)
                .as_map()
                .and_then(|m| m.get(&text(&a(1))).cloned())
                .unwrap_or_else(|| Val::str("")))
        }
        "set" | "unset" => {
            need(2)?;
            let mut d = a(0);
            if let V::Map(m) = &mut d.v {
                let m = Rc::make_mut(m);
                if name == "set" {
                    m.insert(text(&a(1)), a(2));
                } else {
                    m.remove(&text(&a(1)));
                }
            }
            Ok(d)
        }
        "keys" => {
            let mut ks: Vec<Val> = Vec::new();
            for d in &args {
                if let Some(m) = d.as_map() {
                    ks.extend(m.keys().map(|k| Val::str(k.clone())));
                }
            }
            Ok(Val::list(ks))
        }
        "values" => Ok(Val::list(
            a(0).as_map()
                .map(|m| m.values().cloned().collect())
                .unwrap_or_default(),
        )),
        "pick" | "omit" => {
            need(1)?;
            let names: Vec<String> = args[1..].iter().map(text).collect();
            let mut m = a(0).as_map().cloned().unwrap_or_default();
            m.retain(|k, _| names.contains(k) == (name == "pick"));
            Ok(Val::map(m))
        }
        "dig" => {
            need(3)?;
            let n = args.len();
            let mut cur = args[n - 1].clone();
            for k in &args[..n - 2] {
                match cur.as_map().and_then(|m| m.get(&text(k))) {
                    Some(v) => cur = v.clone(),
                    None => return Ok(args[n - 2].clone()),
                }
            }
            Ok(cur)
        }
        "merge" | "mergeOverwrite" | "mustMerge" | "mustMergeOverwrite" => {
            need(1)?;
            let over = name.contains("Overwrite");
            let mut dst = a(0);
            for src in &args[1..] {
                if over {
                    merge_keep_nil(&mut dst, src);
                } else {
                    let mut base = src.clone();
                    merge_keep_nil(&mut base, &dst);
                    dst = base;
                }
            }
            Ok(dst)
        }
        "deepCopy" => Ok(a(0)),
        "first" => Ok(list_of(&a(0)).first().cloned().unwrap_or(Val::NIL)),
        "last" => Ok(list_of(&a(0)).last().cloned().unwrap_or(Val::NIL)),
        "rest" => Ok(Val::list(list_of(&a(0)).into_iter().skip(1).collect())),
        "initial" => {
            let mut l = list_of(&a(0));
            l.pop();
            Ok(Val::list(l))
        }
        "append" | "push" => {
            need(2)?;
            let mut l = list_of(&a(0));
            l.push(a(1));
            Ok(Val::list(l))
        }
        "prepend" => {
            need(2)?;
            let mut l = list_of(&a(0));
            l.insert(0, a(1));
            Ok(Val::list(l))
        }
        "concat" => Ok(Val::list(args.iter().flat_map(list_of).collect())),
        "has" => {
            need(2)?;
            Ok(Val::bool(list_of(&a(1)).iter().any(|x| equal(x, &a(0)))))
        }
        "uniq" => {
            let mut out: Vec<Val> = Vec::new();
            for x in list_of(&a(0)) {
                if !out.iter().any(|y| equal(y, &x)) {
                    out.push(x);
                }
            }
            Ok(Val::list(out))
        }
        "compact" => Ok(Val::list(
            list_of(&a(0))
                .into_iter()
                .filter(|x| !is_empty(x))
                .collect(),
        )),
        "sortAlpha" => {
            let mut l: Vec<String> = list_of(&a(0)).iter().map(text).collect();
            l.sort();
            Ok(Val::list(l.into_iter().map(Val::str).collect()))
        }
        "until" => Ok(Val::list(
            (0..int(&a(0)).clamp(0, 100_000))
                .map(|i| V::Int(i).into())
                .collect(),
        )),
        "untilStep" => {
            need(3)?;
            let (st, en, step) = (int(&a(0)), int(&a(1)), int(&a(2)));
            if step == 0 {
                return Ok(Val::list(Vec::new()));
            }
            let mut out = Vec::new();
            let mut i = st;
            while (step > 0 && i < en) || (step < 0 && i > en) {
                out.push(V::Int(i).into());
                i += step;
                if out.len() > 100_000 {
                    break;
                }
            }
            Ok(Val::list(out))
        }
        // Arithmetic.
        "add" => Ok(V::Int(args.iter().map(int).fold(0i64, i64::wrapping_add)).into()),
        "add1" => Ok(V::Int(int(&a(0)).wrapping_add(1)).into()),
        "sub" => Ok(V::Int(int(&a(0)).wrapping_sub(int(&a(1)))).into()),
        "mul" => Ok(V::Int(args.iter().map(int).fold(1i64, i64::wrapping_mul)).into()),
        "div" | "mod" => {
            let d = int(&a(1));
            if d == 0 {
                return fail("integer divide by zero");
            }
            Ok(V::Int(if name == "div" {
                int(&a(0)) / d
            } else {
                int(&a(0)) % d
            })
            .into())
        }
        "max" => Ok(V::Int(args.iter().map(int).max().unwrap_or(0)).into()),
        "min" => Ok(V::Int(args.iter().map(int).min().unwrap_or(0)).into()),
        "semverCompare" => {
            need(2)?;
            match semver_compare(&text(&a(0)), &text(&a(1))) {
                Some(b) => Ok(Val::bool(b)),
                None => Err(FnError::Unknown(format!(
                    "semverCompare `{}` `{}` is not a comparison preflight evaluates",
                    text(&a(0)),
                    text(&a(1))
                ))),
            }
        }
        "semver" => Err(FnError::Unknown(
            "`semver` objects are not evaluated".into(),
        )),
        // What cannot be known before the deploy.
        n if n.starts_with("rand")
            || matches!(
                n,
                "uuidv4"
                    | "now"
                    | "date"
                    | "dateInZone"
                    | "unixEpoch"
                    | "genCA"
                    | "genPrivateKey"
                    | "genSelfSignedCert"
                    | "genSignedCert"
                    | "derivePassword"
                    | "htpasswd"
                    | "getHostByName"
                    | "env"
                    | "expandenv"
                    | "bcrypt"
                    | "shuffle"
            ) =>
        {
            Err(FnError::Unknown(format!(
                "`{n}` gives a different value on every render (or reads the rendering machine)"
            )))
        }
        other => Err(FnError::Unknown(format!(
            "the function `{other}` is not evaluated by preflight"
        ))),
    }
}

fn keep(orig: &Val, s: String) -> Val {
    Val {
        v: V::Str(Rc::from(s)),
        origin: orig.origin,
    }
}

/// sprig's `merge`: keys of `src` fill `dst` where missing (overwrite: `src` wins).
fn merge_keep_nil(dst: &mut Val, src: &Val) {
    match (&mut dst.v, &src.v) {
        (V::Map(d), V::Map(s)) => {
            let d = Rc::make_mut(d);
            for (k, v) in s.iter() {
                match d.get_mut(k) {
                    Some(dv) if dv.as_map().is_some() && v.as_map().is_some() => {
                        merge_keep_nil(dv, v)
                    }
                    _ => {
                        d.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (V::Nil, _) => *dst = src.clone(),
        _ => *dst = src.clone(),
    }
}

fn go_print(args: &[Val]) -> String {
    // Go's Sprint: spaces between operands when neither is a string.
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 && !matches!(a.v, V::Str(_)) && !matches!(args[i - 1].v, V::Str(_)) {
            out.push(' ');
        }
        out.push_str(&a.to_text());
    }
    out
}

fn printf(fmt: &str, args: &[Val]) -> String {
    let mut out = String::new();
    let mut it = fmt.chars().peekable();
    let mut n = 0;
    while let Some(c) = it.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = String::new();
        while let Some(&p) = it.peek() {
            if p.is_ascii_digit() || matches!(p, '.' | '-' | '+' | '#' | ' ' | '0') {
                spec.push(p);
                it.next();
            } else {
                break;
            }
        }
        let Some(verb) = it.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        let Some(a) = args.get(n) else {
            out.push_str(&format!("%!{verb}(MISSING)"));
            continue;
        };
        n += 1;
        let (width, prec) = match spec
            .trim_start_matches(['-', '+', '#', ' ', '0'])
            .split_once('.')
        {
            Some((w, p)) => (w.parse::<usize>().ok(), p.parse::<usize>().ok()),
            None => (
                spec.trim_start_matches(['-', '+', '#', ' ', '0'])
                    .parse()
                    .ok(),
                None,
            ),
        };
        let body = match verb {
            's' | 'v' => a.to_text(),
            'q' => format!("{:?}", a.to_text()),
            'd' => match &a.v {
                V::Int(i) => i.to_string(),
                _ => format!("%!d({}={})", a.kind(), a.to_text()),
            },
            'f' | 'F' => format!("{:.*}", prec.unwrap_or(6), num(a).unwrap_or(0.0)),
            'g' => go_float(num(a).unwrap_or(0.0)),
            't' => a.to_text(),
            'x' => match &a.v {
                V::Int(i) => format!("{i:x}"),
                _ => a.to_text().bytes().map(|b| format!("{b:02x}")).collect(),
            },
            'X' => match &a.v {
                V::Int(i) => format!("{i:X}"),
                _ => a.to_text().bytes().map(|b| format!("{b:02X}")).collect(),
            },
            'o' => format!("{:o}", int(a)),
            'b' => format!("{:b}", int(a)),
            'c' => char::from_u32(int(a) as u32)
                .map(String::from)
                .unwrap_or_default(),
            other => format!("%!{other}({})", a.to_text()),
        };
        let w = width.unwrap_or(0);
        if body.chars().count() < w {
            let pad = " ".repeat(w - body.chars().count());
            if spec.starts_with('-') {
                out.push_str(&body);
                out.push_str(&pad);
            } else {
                out.push_str(&pad);
                out.push_str(&body);
            }
        } else {
            out.push_str(&body);
        }
    }
    if n < args.len() {
        out.push_str("%!(EXTRA ");
        out.push_str(
            &args[n..]
                .iter()
                .map(|a| a.to_text())
                .collect::<Vec<_>>()
                .join(", "),
        );
        out.push(')');
    }
    out
}

/// `toJson`.
pub fn to_json(v: &Val) -> serde_json::Value {
    use serde_json::Value as J;
    match &v.v {
        V::Nil | V::Unknown(_) => J::Null,
        V::Bool(b) => J::Bool(*b),
        V::Int(i) => J::from(*i),
        V::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => J::from(*f as i64),
        V::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
        V::Str(s) => J::String(s.to_string()),
        V::List(l) => J::Array(l.iter().map(to_json).collect()),
        V::Map(m) => J::Object(m.iter().map(|(k, x)| (k.clone(), to_json(x))).collect()),
    }
}

fn from_json(j: &serde_json::Value) -> Val {
    use serde_json::Value as J;
    match j {
        J::Null => Val::NIL,
        J::Bool(b) => Val::bool(*b),
        J::Number(n) => match n.as_i64() {
            Some(i) => V::Int(i).into(),
            None => V::Float(n.as_f64().unwrap_or(0.0)).into(),
        },
        J::String(s) => Val::str(s.clone()),
        J::Array(a) => Val::list(a.iter().map(from_json).collect()),
        J::Object(o) => Val::map(o.iter().map(|(k, v)| (k.clone(), from_json(v))).collect()),
    }
}

/// `fromYaml`: the first document as a value; a parse failure gives `{Error: …}` as Helm.
pub fn from_text_yaml(t: &str) -> Val {
    match crate::parse::yaml::parse_stream(crate::source::FileId(u32::MAX), t) {
        Ok(docs) => match docs.first() {
            Some(d) => strip_origin(super::value::from_yaml(d.root(), 0)),
            None => Val::map(BTreeMap::new()),
        },
        Err(e) => {
            let mut m = BTreeMap::new();
            m.insert("Error".into(), Val::str(e.message));
            Val::map(m)
        }
    }
}

fn strip_origin(v: Val) -> Val {
    let inner = match v.v {
        V::List(l) => V::List(Rc::new(l.iter().cloned().map(strip_origin).collect())),
        V::Map(m) => V::Map(Rc::new(
            m.iter()
                .map(|(k, x)| (k.clone(), strip_origin(x.clone())))
                .collect(),
        )),
        other => other,
    };
    Val {
        v: inner,
        origin: None,
    }
}

/// `toYaml` (sigs.k8s.io/yaml: keys sorted, lists not indented under their key).
pub fn to_yaml(v: &Val) -> String {
    let mut out = String::new();
    match &v.v {
        V::Map(m) if !m.is_empty() => yaml_map(m, 0, &mut out),
        V::List(l) if !l.is_empty() => yaml_list(l, 0, &mut out),
        _ => {
            out.push_str(&yaml_scalar(v));
            out.push('\n');
        }
    }
    out
}

fn yaml_map(m: &BTreeMap<String, Val>, ind: usize, out: &mut String) {
    let pad = " ".repeat(ind);
    for (k, v) in m {
        out.push_str(&pad);
        out.push_str(&yaml_key(k));
        out.push(':');
        match &v.v {
            V::Map(c) if !c.is_empty() => {
                out.push('\n');
                yaml_map(c, ind + 2, out);
            }
            V::List(l) if !l.is_empty() => {
                out.push('\n');
                yaml_list(l, ind, out);
            }
            _ => {
                out.push(' ');
                out.push_str(&yaml_scalar(v));
                out.push('\n');
            }
        }
    }
}

fn yaml_list(l: &[Val], ind: usize, out: &mut String) {
    let pad = " ".repeat(ind);
    for v in l {
        out.push_str(&pad);
        out.push_str("- ");
        match &v.v {
            V::Map(c) if !c.is_empty() => {
                let mut inner = String::new();
                yaml_map(c, ind + 2, &mut inner);
                out.push_str(inner.trim_start());
            }
            V::List(c) if !c.is_empty() => {
                let mut inner = String::new();
                yaml_list(c, ind + 2, &mut inner);
                out.push_str(inner.trim_start());
            }
            _ => {
                out.push_str(&yaml_scalar(v));
                out.push('\n');
            }
        }
    }
}

fn yaml_key(k: &str) -> String {
    if plain_safe(k) {
        k.to_string()
    } else {
        serde_json::to_string(k).unwrap_or_default()
    }
}

fn plain_safe(s: &str) -> bool {
    !s.is_empty()
        && matches!(plain_scalar(s), V::Str(_))
        && !s.starts_with([
            '-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%',
            '@', '`', ' ',
        ])
        && !s.ends_with([' ', ':'])
        && !s.contains(": ")
        && !s.contains(" #")
        && !s.contains(['\n', '\t', '\r'])
        && !matches!(
            s,
            "y" | "Y"
                | "n"
                | "N"
                | "yes"
                | "Yes"
                | "YES"
                | "no"
                | "No"
                | "NO"
                | "on"
                | "On"
                | "ON"
                | "off"
                | "Off"
                | "OFF"
        )
}

fn yaml_scalar(v: &Val) -> String {
    match &v.v {
        V::Nil | V::Unknown(_) => "null".into(),
        V::Bool(b) => b.to_string(),
        V::Int(i) => i.to_string(),
        V::Float(f) => match to_json(v) {
            serde_json::Value::Number(n) => n.to_string(),
            _ => go_float(*f),
        },
        V::Str(s) if plain_safe(s) => s.to_string(),
        V::Str(s) => serde_json::to_string(&**s).unwrap_or_default(),
        V::List(_) => "[]".into(),
        V::Map(_) => "{}".into(),
    }
}

/// `semverCompare CONSTRAINT VERSION` for the usual constraint forms.
fn semver_compare(constraint: &str, version: &str) -> Option<bool> {
    let parse = |v: &str| -> Option<(u64, u64, u64)> {
        let v = v.trim().trim_start_matches(['v', '=']);
        let v = v.split(['-', '+']).next()?;
        let mut it = v.split('.');
        let major = it.next()?.parse().ok()?;
        let minor = it.next().map_or(Some(0), |m| {
            if m == "x" || m == "*" {
                Some(0)
            } else {
                m.parse().ok()
            }
        })?;
        let patch = it.next().map_or(Some(0), |m| {
            if m == "x" || m == "*" {
                Some(0)
            } else {
                m.parse().ok()
            }
        })?;
        Some((major, minor, patch))
    };
    let v = parse(version)?;
    let mut any = false;
    for alt in constraint.split("||") {
        let mut all = true;
        for c in alt.split([',', ' ']).filter(|c| !c.is_empty()) {
            let (op, rest) = [">=", "<=", "!=", ">", "<", "=", "^", "~"]
                .iter()
                .find_map(|op| c.strip_prefix(op).map(|r| (*op, r)))
                .unwrap_or(("=", c));
            let w = parse(rest)?;
            let ok = match op {
                ">=" => v >= w,
                "<=" => v <= w,
                ">" => v > w,
                "<" => v < w,
                "!=" => v != w,
                "^" => v >= w && v.0 == w.0,
                "~" => v >= w && v.0 == w.0 && v.1 == w.1,
                _ => v == w,
            };
            all &= ok;
        }
        any |= all;
    }
    Some(any)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pairs: &[(&str, Val)]) -> Val {
        Val::map(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn to_yaml_is_sorted_and_lists_are_not_indented() {
        let v = m(&[
            (
                "b",
                Val::list(vec![
                    Val::str("x"),
                    m(&[("k", Val::str("true")), ("a", V::Int(1).into())]),
                ]),
            ),
            ("a", m(&[("c", Val::str("plain"))])),
        ]);
        assert_eq!(
            to_yaml(&v),
            "a:\n  c: plain\nb:\n- x\n- a: 1\n  k: \"true\"\n"
        );
    }

    #[test]
    fn printf_and_semver() {
        assert_eq!(
            printf(
                "%s-%d %q %5s|%-3s|",
                &[
                    Val::str("a"),
                    V::Int(2).into(),
                    Val::str("q"),
                    Val::str("r"),
                    Val::str("l")
                ]
            ),
            "a-2 \"q\"     r|l  |"
        );
        assert_eq!(semver_compare(">=1.19-0", "v1.30.0"), Some(true));
        assert_eq!(semver_compare("<1.19", "v1.30.0"), Some(false));
        assert_eq!(semver_compare("^1.2.0", "1.9.3"), Some(true));
    }

    #[test]
    fn defaults_and_unknowns() {
        let d = call("default", vec![Val::str("x"), Val::NIL]).ok().unwrap();
        assert_eq!(d.as_str(), Some("x"));
        assert!(matches!(
            call("randAlphaNum", vec![V::Int(5).into()]),
            Err(FnError::Unknown(_))
        ));
        assert!(matches!(
            call("upper", vec![Val::unknown("u")]),
            Err(FnError::Unknown(_))
        ));
    }
}
