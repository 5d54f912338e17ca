//! Collection functions.

use std::collections::BTreeMap;

use super::super::eval::MAX_ELEMENTS;
use super::{
    EvalError, Evaluator, Unknown, Value, dedup, int_arg, list_arg, loosely_equal, num_arg,
    obj_arg, str_arg, to_set,
};

type R = Result<Value, EvalError>;

fn bools(a: &[Value], short: bool) -> R {
    if let Value::Unknown(u) = &a[0] {
        return Ok(Value::Unknown(u.clone()));
    }
    let items = list_arg(a, 0)?;
    let mut unknown = None;
    for item in items {
        match item.to_bool() {
            Ok(Value::Bool(b)) if b == short => return Ok(Value::Bool(short)),
            Ok(Value::Bool(_)) => {}
            Ok(Value::Unknown(u)) => {
                unknown.get_or_insert(u);
            }
            _ => {
                return Err(EvalError::new(format!(
                    "elements must be bools, got {}",
                    item.type_name()
                )));
            }
        }
    }
    Ok(match unknown {
        Some(u) => Value::Unknown(u),
        None => Value::Bool(!short),
    })
}

pub(super) fn alltrue(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    bools(&a, false)
}

pub(super) fn anytrue(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    bools(&a, true)
}

pub(super) fn chunklist(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    let items = list_arg(&a, 0)?;
    let size = int_arg(&a, 1)?;
    if size < 0 {
        return Err(EvalError::new("the size argument must be positive"));
    }
    if size == 0 {
        return Ok(Value::list(vec![Value::list(items.to_vec())]));
    }
    Ok(Value::list(
        items
            .chunks(size as usize)
            .map(|c| Value::list(c.to_vec()))
            .collect(),
    ))
}

pub(super) fn coalesce(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    for v in a {
        match v {
            Value::Unknown(u) => return Ok(Value::Unknown(u)),
            Value::Null => {}
            Value::String(ref s) if s.is_empty() => {}
            other => return Ok(other),
        }
    }
    Err(EvalError::new("no non-null, non-empty-string arguments"))
}

pub(super) fn coalescelist(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    for (i, v) in a.iter().enumerate() {
        match v {
            Value::Null => {}
            Value::List(items) if items.is_empty() => {}
            Value::List(_) => return Ok(v.clone()),
            other => {
                return Err(EvalError::new(format!(
                    "argument {} must be a list, got {}",
                    i + 1,
                    other.type_name()
                )));
            }
        }
    }
    Err(EvalError::new("no non-null arguments"))
}

pub(super) fn compact(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    let mut out = Vec::new();
    for item in list_arg(&a, 0)? {
        match item {
            Value::Null => {}
            Value::String(s) if s.is_empty() => {}
            other => match other.to_string_value() {
                Ok(v) => out.push(v),
                Err(_) => {
                    return Err(EvalError::new(format!(
                        "elements must be strings, got {}",
                        other.type_name()
                    )));
                }
            },
        }
    }
    Ok(Value::list(out))
}

pub(super) fn concat(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    let mut out = Vec::new();
    for i in 0..a.len() {
        out.extend_from_slice(list_arg(&a, i)?);
        if out.len() > MAX_ELEMENTS {
            return Err(EvalError::new("result is too large"));
        }
    }
    Ok(Value::list(out))
}

pub(super) fn contains(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    let items = list_arg(&a, 0)?;
    Ok(Value::Bool(items.iter().any(|v| loosely_equal(v, &a[1]))))
}

pub(super) fn distinct(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    Ok(Value::list(dedup(list_arg(&a, 0)?.to_vec())))
}

pub(super) fn element(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    let items = list_arg(&a, 0)?;
    if let Some(u) = a[1].first_unknown() {
        return Ok(Value::Unknown(u.clone()));
    }
    let idx = int_arg(&a, 1)?;
    if items.is_empty() {
        return Err(EvalError::new(
            "cannot use element function with an empty list",
        ));
    }
    if idx < 0 {
        return Err(EvalError::new(
            "cannot use element function with a negative index",
        ));
    }
    Ok(items[(idx as usize) % items.len()].clone())
}

fn flatten_into(
    items: &[Value],
    out: &mut Vec<Value>,
    depth: usize,
) -> Result<Option<Unknown>, EvalError> {
    if depth > 256 {
        return Err(EvalError::new("list nesting is too deep"));
    }
    for item in items {
        match item {
            Value::List(inner) => {
                if let Some(u) = flatten_into(inner, out, depth + 1)? {
                    return Ok(Some(u));
                }
            }
            Value::Unknown(u) => return Ok(Some(u.clone())),
            other => out.push(other.clone()),
        }
        if out.len() > MAX_ELEMENTS {
            return Err(EvalError::new("result is too large"));
        }
    }
    Ok(None)
}

pub(super) fn flatten(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    if let Value::Unknown(u) = &a[0] {
        return Ok(Value::Unknown(u.clone()));
    }
    let mut out = Vec::new();
    match flatten_into(list_arg(&a, 0)?, &mut out, 0)? {
        Some(u) => Ok(Value::Unknown(u)),
        None => Ok(Value::list(out)),
    }
}

pub(super) fn index(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    let items = list_arg(&a, 0)?;
    items
        .iter()
        .position(|v| loosely_equal(v, &a[1]))
        .map(|i| Value::Number(i as f64))
        .ok_or_else(|| EvalError::new("item not found"))
}

pub(super) fn keys(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    Ok(Value::list(
        obj_arg(&a, 0)?
            .keys()
            .map(|k| Value::String(k.clone()))
            .collect(),
    ))
}

pub(super) fn values(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    Ok(Value::list(obj_arg(&a, 0)?.values().cloned().collect()))
}

pub(super) fn length(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    match &a[0] {
        Value::List(items) => Ok(Value::Number(items.len() as f64)),
        Value::Object(map) => Ok(Value::Number(map.len() as f64)),
        Value::String(s) => Ok(Value::Number(s.chars().count() as f64)),
        Value::Null => Err(EvalError::new("argument must not be null")),
        other => Err(EvalError::new(format!(
            "argument must be a string, a collection type, or a structural type, got {}",
            other.type_name()
        ))),
    }
}

pub(super) fn lookup(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    if let Value::Unknown(u) = &a[0] {
        return Ok(Value::Unknown(u.clone()));
    }
    if let Some(u) = a[1].first_unknown() {
        return Ok(Value::Unknown(u.clone()));
    }
    let map = obj_arg(&a, 0)?;
    let key = str_arg(&a, 1)?;
    match map.get(&key) {
        Some(v) => Ok(v.clone()),
        None => match a.get(2) {
            Some(default) => Ok(default.clone()),
            None => Err(EvalError::new(format!(
                "the given key \"{key}\" does not identify an element in this collection value"
            ))),
        },
    }
}

pub(super) fn matchkeys(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    let values = list_arg(&a, 0)?;
    let keys = list_arg(&a, 1)?;
    let search = list_arg(&a, 2)?;
    if values.len() != keys.len() {
        return Err(EvalError::new("length of keys and values should be equal"));
    }
    Ok(Value::list(
        values
            .iter()
            .zip(keys)
            .filter(|(_, k)| search.iter().any(|s| loosely_equal(s, k)))
            .map(|(v, _)| v.clone())
            .collect(),
    ))
}

pub(super) fn merge(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    let mut out = BTreeMap::new();
    for (i, v) in a.iter().enumerate() {
        match v {
            Value::Null => {}
            Value::Object(map) => out.extend(map.iter().map(|(k, v)| (k.clone(), v.clone()))),
            other => {
                return Err(EvalError::new(format!(
                    "arguments must be maps or objects, got {} for argument {}",
                    other.type_name(),
                    i + 1
                )));
            }
        }
    }
    Ok(Value::object(out))
}

pub(super) fn one(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    match &a[0] {
        Value::Null => Ok(Value::Null),
        Value::List(items) => match items.len() {
            0 => Ok(Value::Null),
            1 => Ok(items[0].clone()),
            n => Err(EvalError::new(format!(
                "must be a list, set, or tuple value with either zero or one elements, got {n} elements"
            ))),
        },
        other => Err(EvalError::new(format!(
            "must be a list, set, or tuple value, got {}",
            other.type_name()
        ))),
    }
}

pub(super) fn range(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    let (start, limit, step) = match a.len() {
        1 => (0.0, num_arg(&a, 0)?, None),
        2 => (num_arg(&a, 0)?, num_arg(&a, 1)?, None),
        _ => (num_arg(&a, 0)?, num_arg(&a, 1)?, Some(num_arg(&a, 2)?)),
    };
    let step = step.unwrap_or(if limit < start { -1.0 } else { 1.0 });
    if step == 0.0 || !step.is_finite() {
        return Err(EvalError::new("step must not be zero"));
    }
    if (step > 0.0 && limit < start) || (step < 0.0 && limit > start) {
        return Ok(Value::list(Vec::new()));
    }
    let count = ((limit - start) / step).ceil();
    if !(0.0..=MAX_ELEMENTS as f64).contains(&count) {
        return Err(EvalError::new(format!(
            "more than {MAX_ELEMENTS} values were generated; either decrease the difference between start and limit or use a larger step"
        )));
    }
    Ok(Value::list(
        (0..count as usize)
            .map(|i| Value::Number(start + step * i as f64))
            .collect(),
    ))
}

pub(super) fn reverse(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    let mut items = list_arg(&a, 0)?.to_vec();
    items.reverse();
    Ok(Value::list(items))
}

pub(super) fn setintersection(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    let mut acc = to_set(list_arg(&a, 0)?.to_vec());
    for i in 1..a.len() {
        let other = list_arg(&a, i)?;
        check_cost(acc.len(), other.len())?;
        acc.retain(|v| other.iter().any(|o| o.terraform_equals(v) == Some(true)));
    }
    Ok(Value::list(acc))
}

fn check_cost(a: usize, b: usize) -> Result<(), EvalError> {
    if (a as f64) * (b as f64) > 1e8 {
        return Err(EvalError::new("sets are too large to compare"));
    }
    Ok(())
}

pub(super) fn setunion(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    let mut all = Vec::new();
    for i in 0..a.len() {
        all.extend_from_slice(list_arg(&a, i)?);
    }
    Ok(Value::list(to_set(all)))
}

pub(super) fn setsubtract(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    let mut acc = to_set(list_arg(&a, 0)?.to_vec());
    let other = list_arg(&a, 1)?;
    check_cost(acc.len(), other.len())?;
    acc.retain(|v| !other.iter().any(|o| o.terraform_equals(v) == Some(true)));
    Ok(Value::list(acc))
}

pub(super) fn setproduct(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    if a.len() < 2 {
        return Err(EvalError::new("at least two arguments are required"));
    }
    let mut sets = Vec::with_capacity(a.len());
    let mut total: f64 = 1.0;
    for i in 0..a.len() {
        let items = list_arg(&a, i)?.to_vec();
        total *= items.len() as f64;
        sets.push(items);
    }
    if total > MAX_ELEMENTS as f64 {
        return Err(EvalError::new("result is too large"));
    }
    let mut out: Vec<Vec<Value>> = vec![Vec::new()];
    for set in &sets {
        let mut next = Vec::with_capacity(out.len() * set.len());
        for prefix in &out {
            for item in set {
                let mut row = prefix.clone();
                row.push(item.clone());
                next.push(row);
            }
        }
        out = next;
    }
    Ok(Value::list(out.into_iter().map(Value::list).collect()))
}

pub(super) fn slice(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    let items = list_arg(&a, 0)?;
    if let Some(u) = Unknown::combine([&a[1], &a[2]]) {
        return Ok(Value::Unknown(u));
    }
    let start = int_arg(&a, 1)?;
    let end = int_arg(&a, 2)?;
    if start < 0 {
        return Err(EvalError::new("the start index must not be less than zero"));
    }
    if end > items.len() as i64 {
        return Err(EvalError::new(
            "the end index must not be greater than the length of the list",
        ));
    }
    if start > end {
        return Err(EvalError::new(
            "the start index must not be greater than the end index",
        ));
    }
    Ok(Value::list(items[start as usize..end as usize].to_vec()))
}

pub(super) fn sort(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    let mut strings = Vec::new();
    for item in list_arg(&a, 0)? {
        match item.to_string_value() {
            Ok(Value::String(s)) => strings.push(s),
            _ => {
                return Err(EvalError::new(format!(
                    "given list element must be a string, got {}",
                    item.type_name()
                )));
            }
        }
    }
    strings.sort();
    Ok(Value::list(
        strings.into_iter().map(Value::String).collect(),
    ))
}

pub(super) fn sum(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    let items = match &a[0] {
        Value::Object(map) => map.values().cloned().collect(),
        _ => list_arg(&a, 0)?.to_vec(),
    };
    if items.is_empty() {
        return Err(EvalError::new("cannot sum an empty list"));
    }
    let mut total = 0.0;
    for i in 0..items.len() {
        total += num_arg(&items, i)?;
    }
    Ok(Value::Number(total))
}

pub(super) fn transpose(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    let map = obj_arg(&a, 0)?;
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (k, v) in map {
        let Value::List(items) = v else {
            return Err(EvalError::new("input must be a map of lists of strings"));
        };
        for item in items.iter() {
            let Ok(Value::String(s)) = item.to_string_value() else {
                return Err(EvalError::new("input must be a map of lists of strings"));
            };
            out.entry(s).or_default().push(Value::String(k.clone()));
        }
    }
    Ok(Value::object(
        out.into_iter().map(|(k, v)| (k, Value::list(v))).collect(),
    ))
}

pub(super) fn zipmap(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    if let Some(u) = a[0].first_unknown() {
        return Ok(Value::Unknown(u.clone()));
    }
    if let Value::Unknown(u) = &a[1] {
        return Ok(Value::Unknown(u.clone()));
    }
    let keys = list_arg(&a, 0)?;
    let values = list_arg(&a, 1)?;
    if keys.len() != values.len() {
        return Err(EvalError::new(format!(
            "number of keys ({}) does not match number of values ({})",
            keys.len(),
            values.len()
        )));
    }
    let mut out = BTreeMap::new();
    for (i, (k, v)) in keys.iter().zip(values).enumerate() {
        let Ok(Value::String(k)) = k.to_string_value() else {
            return Err(EvalError::new(format!(
                "key {i} must be a string, got {}",
                k.type_name()
            )));
        };
        out.insert(k, v.clone());
    }
    Ok(Value::object(out))
}
