//! Numeric functions.

use super::{EvalError, Evaluator, Value, num_arg, str_arg};

type R = Result<Value, EvalError>;

pub(super) fn abs(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    Ok(Value::Number(num_arg(&a, 0)?.abs()))
}

pub(super) fn ceil(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    Ok(Value::Number(num_arg(&a, 0)?.ceil()))
}

pub(super) fn floor(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    Ok(Value::Number(num_arg(&a, 0)?.floor()))
}

pub(super) fn signum(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    let n = num_arg(&a, 0)?;
    Ok(Value::Number(if n > 0.0 {
        1.0
    } else if n < 0.0 {
        -1.0
    } else {
        0.0
    }))
}

pub(super) fn log(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    let (n, base) = (num_arg(&a, 0)?, num_arg(&a, 1)?);
    Ok(Value::Number(n.ln() / base.ln()))
}

pub(super) fn pow(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    Ok(Value::Number(num_arg(&a, 0)?.powf(num_arg(&a, 1)?)))
}

fn extreme(a: &[Value], pick_max: bool) -> R {
    if a.is_empty() {
        return Err(EvalError::new("must pass at least one number"));
    }
    let mut best = num_arg(a, 0)?;
    for i in 1..a.len() {
        let n = num_arg(a, i)?;
        if (pick_max && n > best) || (!pick_max && n < best) {
            best = n;
        }
    }
    Ok(Value::Number(best))
}

pub(super) fn max(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    extreme(&a, true)
}

pub(super) fn min(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    extreme(&a, false)
}

pub(super) fn parseint(_: &mut Evaluator<'_>, a: Vec<Value>) -> R {
    let s = str_arg(&a, 0)?;
    let base = num_arg(&a, 1)?;
    if base.fract() != 0.0 || !(2.0..=62.0).contains(&base) {
        return Err(EvalError::new(
            "base must be a whole number between 2 and 62 inclusive",
        ));
    }
    let base = base as u32;
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(&s)),
    };
    if digits.is_empty() {
        return Err(EvalError::new(format!(
            "cannot parse {} as a base {base} integer",
            Value::String(s.clone())
        )));
    }
    let mut acc: f64 = 0.0;
    for c in digits.chars() {
        let d = match c {
            '0'..='9' => c as u32 - '0' as u32,
            'a'..='z' => c as u32 - 'a' as u32 + 10,
            'A'..='Z' if base <= 36 => c as u32 - 'A' as u32 + 10,
            'A'..='Z' => c as u32 - 'A' as u32 + 36,
            _ => u32::MAX,
        };
        if d >= base {
            return Err(EvalError::new(format!(
                "cannot parse {} as a base {base} integer",
                Value::String(s.clone())
            )));
        }
        acc = acc * f64::from(base) + f64::from(d);
    }
    Ok(Value::Number(if neg { -acc } else { acc }))
}
