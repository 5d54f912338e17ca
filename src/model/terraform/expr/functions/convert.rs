//! Type conversion functions.

use super::{EvalError, Evaluator, Value, to_set};

type R = Result<Value, EvalError>;

pub(super) fn tobool(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    match &a[0] {
        Value::Null => Ok(Value::Null),
        v => v.to_bool(),
    }
}

pub(super) fn tonumber(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    match &a[0] {
        Value::Null => Ok(Value::Null),
        v => v.to_number(),
    }
}

pub(super) fn tostring(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    match &a[0] {
        Value::Null => Ok(Value::Null),
        v => v.to_string_value(),
    }
}

pub(super) fn tolist(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    match &a[0] {
        Value::Null | Value::List(_) => Ok(a[0].clone()),
        other => Err(EvalError::new(format!(
            "cannot convert {} to list",
            other.type_name()
        ))),
    }
}

pub(super) fn tomap(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    match &a[0] {
        Value::Null | Value::Object(_) => Ok(a[0].clone()),
        other => Err(EvalError::new(format!(
            "cannot convert {} to map",
            other.type_name()
        ))),
    }
}

pub(super) fn toset(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    match &a[0] {
        Value::Null => Ok(Value::Null),
        Value::Unknown(u) => Ok(Value::Unknown(u.clone())),
        v @ Value::List(items) => match v.first_unknown() {
            // Duplicates cannot be removed while elements are unknown.
            Some(u) => Ok(Value::Unknown(u.clone())),
            None => Ok(Value::list(to_set(items.to_vec()))),
        },
        other => Err(EvalError::new(format!(
            "cannot convert {} to set",
            other.type_name()
        ))),
    }
}
