//! Terraform's built-in functions: the table of names and arities, and the
//! implementations preflight evaluates.

mod collections;
mod convert;
mod encoding;
mod filesystem;
mod hash;
mod network;
mod numeric;
mod strings;

use std::collections::BTreeMap;

use super::error::EvalError;
use super::eval::Evaluator;
use super::value::{Unknown, Value};

/// Signature of a function implementation.
type Impl = fn(&mut Evaluator<'_>, Vec<Value>) -> Result<Value, EvalError>;

/// How a function treats unknown arguments before its implementation runs.
#[derive(Clone, Copy)]
enum Unknowns {
    /// Any unknown at any depth makes the result unknown.
    Deep,
    /// Only top-level unknown arguments make the result unknown.
    Shallow,
    /// The implementation handles unknowns itself.
    Custom,
}

struct FuncDef {
    name: &'static str,
    min: usize,
    max: Option<usize>,
    unknowns: Unknowns,
    imp: Option<Impl>,
}

const fn def(
    name: &'static str,
    min: usize,
    max: Option<usize>,
    unknowns: Unknowns,
    imp: Option<Impl>,
) -> FuncDef {
    FuncDef {
        name,
        min,
        max,
        unknowns,
        imp,
    }
}

use Unknowns::{Custom, Deep, Shallow};

const ONE: Option<usize> = Some(1);
const TWO: Option<usize> = Some(2);
const THREE: Option<usize> = Some(3);
const ANY: Option<usize> = None;

/// Terraform 1.9's built-in functions (sorted by name).
static FUNCTIONS: &[FuncDef] = &[
    def("abs", 1, ONE, Deep, Some(numeric::abs)),
    def("abspath", 1, ONE, Deep, Some(filesystem::abspath)),
    def("alltrue", 1, ONE, Custom, Some(collections::alltrue)),
    def("anytrue", 1, ONE, Custom, Some(collections::anytrue)),
    def("base64decode", 1, ONE, Deep, Some(encoding::base64decode)),
    def("base64encode", 1, ONE, Deep, Some(encoding::base64encode)),
    def("base64gzip", 1, ONE, Deep, None),
    def("base64sha256", 1, ONE, Deep, Some(hash::base64sha256)),
    def("base64sha512", 1, ONE, Deep, Some(hash::base64sha512)),
    def("basename", 1, ONE, Deep, Some(filesystem::basename)),
    def("bcrypt", 1, TWO, Custom, Some(impure_bcrypt)),
    def("can", 1, ONE, Custom, None),
    def("ceil", 1, ONE, Deep, Some(numeric::ceil)),
    def("chomp", 1, ONE, Deep, Some(strings::chomp)),
    def("chunklist", 2, TWO, Deep, Some(collections::chunklist)),
    def("cidrhost", 2, TWO, Deep, Some(network::cidrhost)),
    def("cidrnetmask", 1, ONE, Deep, Some(network::cidrnetmask)),
    def("cidrsubnet", 3, THREE, Deep, Some(network::cidrsubnet)),
    def("cidrsubnets", 1, ANY, Deep, Some(network::cidrsubnets)),
    def("coalesce", 0, ANY, Custom, Some(collections::coalesce)),
    def(
        "coalescelist",
        0,
        ANY,
        Shallow,
        Some(collections::coalescelist),
    ),
    def("compact", 1, ONE, Deep, Some(collections::compact)),
    def("concat", 0, ANY, Shallow, Some(collections::concat)),
    def("contains", 2, TWO, Deep, Some(collections::contains)),
    def("csvdecode", 1, ONE, Deep, None),
    def("dirname", 1, ONE, Deep, Some(filesystem::dirname)),
    def("distinct", 1, ONE, Deep, Some(collections::distinct)),
    def("element", 2, TWO, Shallow, Some(collections::element)),
    def("endswith", 2, TWO, Deep, Some(strings::endswith)),
    def("file", 1, ONE, Deep, Some(filesystem::file)),
    def("filebase64", 1, ONE, Deep, Some(filesystem::filebase64)),
    def(
        "filebase64sha256",
        1,
        ONE,
        Deep,
        Some(hash::filebase64sha256),
    ),
    def(
        "filebase64sha512",
        1,
        ONE,
        Deep,
        Some(hash::filebase64sha512),
    ),
    def("fileexists", 1, ONE, Deep, Some(filesystem::fileexists)),
    def("filemd5", 1, ONE, Deep, Some(hash::filemd5)),
    def("fileset", 2, TWO, Deep, None),
    def("filesha1", 1, ONE, Deep, Some(hash::filesha1)),
    def("filesha256", 1, ONE, Deep, Some(hash::filesha256)),
    def("filesha512", 1, ONE, Deep, Some(hash::filesha512)),
    def("flatten", 1, ONE, Custom, Some(collections::flatten)),
    def("floor", 1, ONE, Deep, Some(numeric::floor)),
    def("format", 1, ANY, Deep, Some(strings::format)),
    def("formatdate", 2, TWO, Deep, None),
    def("formatlist", 1, ANY, Deep, Some(strings::formatlist)),
    def("indent", 2, TWO, Deep, Some(strings::indent)),
    def("index", 2, TWO, Deep, Some(collections::index)),
    def("issensitive", 1, ONE, Deep, None),
    def("join", 1, ANY, Deep, Some(strings::join)),
    def("jsondecode", 1, ONE, Deep, Some(encoding::jsondecode)),
    def("jsonencode", 1, ONE, Deep, Some(encoding::jsonencode)),
    def("keys", 1, ONE, Shallow, Some(collections::keys)),
    def("length", 1, ONE, Shallow, Some(collections::length)),
    def("list", 0, ANY, Custom, Some(removed_function)),
    def("log", 2, TWO, Deep, Some(numeric::log)),
    def("lookup", 2, THREE, Custom, Some(collections::lookup)),
    def("lower", 1, ONE, Deep, Some(strings::lower)),
    def("map", 0, ANY, Custom, Some(removed_function)),
    def("matchkeys", 3, THREE, Deep, Some(collections::matchkeys)),
    def("max", 0, ANY, Deep, Some(numeric::max)),
    def("md5", 1, ONE, Deep, Some(hash::md5)),
    def("merge", 0, ANY, Shallow, Some(collections::merge)),
    def("min", 0, ANY, Deep, Some(numeric::min)),
    def("nonsensitive", 1, ONE, Shallow, Some(identity)),
    def("one", 1, ONE, Shallow, Some(collections::one)),
    def("parseint", 2, TWO, Deep, Some(numeric::parseint)),
    def("pathexpand", 1, ONE, Deep, None),
    def(
        "plantimestamp",
        0,
        Some(0),
        Custom,
        Some(impure_plantimestamp),
    ),
    def("pow", 2, TWO, Deep, Some(numeric::pow)),
    def("range", 1, THREE, Deep, Some(collections::range)),
    def("regex", 2, TWO, Deep, Some(strings::regex)),
    def("regexall", 2, TWO, Deep, Some(strings::regexall)),
    def("replace", 3, THREE, Deep, Some(strings::replace)),
    def("reverse", 1, ONE, Shallow, Some(collections::reverse)),
    def("rsadecrypt", 2, TWO, Deep, None),
    def("sensitive", 1, ONE, Shallow, Some(identity)),
    def(
        "setintersection",
        1,
        ANY,
        Deep,
        Some(collections::setintersection),
    ),
    def("setproduct", 0, ANY, Deep, Some(collections::setproduct)),
    def("setsubtract", 2, TWO, Deep, Some(collections::setsubtract)),
    def("setunion", 1, ANY, Deep, Some(collections::setunion)),
    def("sha1", 1, ONE, Deep, Some(hash::sha1)),
    def("sha256", 1, ONE, Deep, Some(hash::sha256)),
    def("sha512", 1, ONE, Deep, Some(hash::sha512)),
    def("signum", 1, ONE, Deep, Some(numeric::signum)),
    def("slice", 3, THREE, Shallow, Some(collections::slice)),
    def("sort", 1, ONE, Deep, Some(collections::sort)),
    def("split", 2, TWO, Deep, Some(strings::split)),
    def("startswith", 2, TWO, Deep, Some(strings::startswith)),
    def("strcontains", 2, TWO, Deep, Some(strings::strcontains)),
    def("strrev", 1, ONE, Deep, Some(strings::strrev)),
    def("substr", 3, THREE, Deep, Some(strings::substr)),
    def("sum", 1, ONE, Deep, Some(collections::sum)),
    def(
        "templatefile",
        2,
        TWO,
        Custom,
        Some(filesystem::templatefile),
    ),
    def(
        "templatestring",
        2,
        TWO,
        Custom,
        Some(strings::templatestring),
    ),
    def("textdecodebase64", 2, TWO, Deep, None),
    def("textencodebase64", 2, TWO, Deep, None),
    def("timeadd", 2, TWO, Deep, None),
    def("timecmp", 2, TWO, Deep, None),
    def("timestamp", 0, Some(0), Custom, Some(impure_timestamp)),
    def("title", 1, ONE, Deep, Some(strings::title)),
    def("tobool", 1, ONE, Shallow, Some(convert::tobool)),
    def("tolist", 1, ONE, Shallow, Some(convert::tolist)),
    def("tomap", 1, ONE, Shallow, Some(convert::tomap)),
    def("tonumber", 1, ONE, Shallow, Some(convert::tonumber)),
    def("toset", 1, ONE, Custom, Some(convert::toset)),
    def("tostring", 1, ONE, Shallow, Some(convert::tostring)),
    def("transpose", 1, ONE, Deep, Some(collections::transpose)),
    def("trim", 2, TWO, Deep, Some(strings::trim)),
    def("trimprefix", 2, TWO, Deep, Some(strings::trimprefix)),
    def("trimspace", 1, ONE, Deep, Some(strings::trimspace)),
    def("trimsuffix", 2, TWO, Deep, Some(strings::trimsuffix)),
    def("try", 1, ANY, Custom, None),
    def("upper", 1, ONE, Deep, Some(strings::upper)),
    def("urlencode", 1, ONE, Deep, Some(encoding::urlencode)),
    def("uuid", 0, Some(0), Custom, Some(impure_uuid)),
    def("uuidv5", 2, TWO, Deep, Some(hash::uuidv5)),
    def("values", 1, ONE, Shallow, Some(collections::values)),
    def("yamldecode", 1, ONE, Deep, None),
    def("yamlencode", 1, ONE, Deep, Some(encoding::yamlencode)),
    def("zipmap", 2, TWO, Custom, Some(collections::zipmap)),
];

fn lookup(name: &str) -> Option<&'static FuncDef> {
    FUNCTIONS
        .binary_search_by(|f| f.name.cmp(name))
        .ok()
        .map(|i| &FUNCTIONS[i])
}

/// Arity `(min, max)` of a Terraform built-in function; `max` is `None` for
/// variadic functions. `None` if `name` is not a built-in.
pub fn function_arity(name: &str) -> Option<(usize, Option<usize>)> {
    let name = name.strip_prefix("core::").unwrap_or(name);
    lookup(name).map(|f| (f.min, f.max))
}

/// True if `name` is one of Terraform 1.9's built-in functions (optionally
/// written with the `core::` namespace).
pub fn is_builtin_function(name: &str) -> bool {
    function_arity(name).is_some()
}

/// True if preflight evaluates `name` (rather than returning Undecidable).
pub fn is_evaluated_function(name: &str) -> bool {
    let name = name.strip_prefix("core::").unwrap_or(name);
    matches!(name, "try" | "can") || lookup(name).is_some_and(|f| f.imp.is_some())
}

/// Names of all built-in functions.
pub fn builtin_function_names() -> impl Iterator<Item = &'static str> {
    FUNCTIONS.iter().map(|f| f.name)
}

/// Call a built-in function with evaluated arguments (arity already checked).
pub(crate) fn call(
    ev: &mut Evaluator<'_>,
    name: &str,
    args: Vec<Value>,
) -> Result<Value, EvalError> {
    let Some(f) = lookup(name) else {
        return Err(EvalError::new(format!(
            "Call to unknown function: there is no function named \"{name}\""
        )));
    };
    let Some(imp) = f.imp else {
        return Ok(Value::undecidable(format!(
            "function {name} is not evaluated by preflight"
        )));
    };
    let unknown = match f.unknowns {
        Deep => Unknown::combine(args.iter()),
        Shallow => Unknown::combine_shallow(args.iter()),
        Custom => None,
    };
    if let Some(u) = unknown {
        return Ok(Value::Unknown(u));
    }
    // A function costs what it reads and what it makes: 500,000 hashes of a 10 MB string
    // are not 500,000 steps.
    for a in &args {
        if let Err(u) = ev.charge_value(a) {
            return Ok(u);
        }
    }
    let out = imp(ev, args);
    if let Ok(v) = &out
        && let Err(u) = ev.charge_value(v)
    {
        return Ok(u);
    }
    out.map_err(|e| {
        if e.message.starts_with("Invalid function argument")
            || e.message.starts_with("Error in function call")
        {
            e
        } else {
            EvalError {
                message: format!("Invalid function argument: {name}(): {}", e.message),
                span: e.span,
            }
        }
    })
}

fn identity(_: &mut Evaluator<'_>, mut args: Vec<Value>) -> Result<Value, EvalError> {
    Ok(args.pop().unwrap_or(Value::Null))
}

fn removed_function(_: &mut Evaluator<'_>, _: Vec<Value>) -> Result<Value, EvalError> {
    Err(EvalError::new(
        "Error in function call: the list() and map() functions were removed in Terraform v0.12; use [...] or {...} syntax, or tolist()/tomap()",
    ))
}

fn impure_uuid(_: &mut Evaluator<'_>, _: Vec<Value>) -> Result<Value, EvalError> {
    Ok(Value::at_apply("uuid()"))
}

fn impure_timestamp(_: &mut Evaluator<'_>, _: Vec<Value>) -> Result<Value, EvalError> {
    Ok(Value::at_apply("timestamp()"))
}

fn impure_bcrypt(_: &mut Evaluator<'_>, _: Vec<Value>) -> Result<Value, EvalError> {
    Ok(Value::at_apply("bcrypt()"))
}

fn impure_plantimestamp(_: &mut Evaluator<'_>, _: Vec<Value>) -> Result<Value, EvalError> {
    Ok(Value::undecidable(
        "plantimestamp() is only known when a plan is made",
    ))
}

// ---- argument helpers shared by the implementations ----

/// Argument `i` converted to a string; null is an error.
pub(super) fn str_arg(args: &[Value], i: usize) -> Result<String, EvalError> {
    match args.get(i).map(Value::to_string_value) {
        Some(Ok(Value::String(s))) => Ok(s),
        Some(Err(e)) => Err(EvalError::new(format!("argument {}: {}", i + 1, e.message))),
        _ => Err(EvalError::new(format!(
            "argument {} must be a string",
            i + 1
        ))),
    }
}

/// Argument `i` converted to a number.
pub(super) fn num_arg(args: &[Value], i: usize) -> Result<f64, EvalError> {
    match args.get(i).map(Value::to_number) {
        Some(Ok(Value::Number(n))) => Ok(n),
        Some(Err(e)) => Err(EvalError::new(format!("argument {}: {}", i + 1, e.message))),
        _ => Err(EvalError::new(format!(
            "argument {} must be a number",
            i + 1
        ))),
    }
}

/// Argument `i` as a whole number.
pub(super) fn int_arg(args: &[Value], i: usize) -> Result<i64, EvalError> {
    let n = num_arg(args, i)?;
    if n.fract() != 0.0 || !n.is_finite() || n.abs() > 9.0e15 {
        return Err(EvalError::new(format!(
            "argument {} must be a whole number",
            i + 1
        )));
    }
    Ok(n as i64)
}

/// Argument `i` as a list/tuple/set.
pub(super) fn list_arg(args: &[Value], i: usize) -> Result<&[Value], EvalError> {
    match args.get(i) {
        Some(Value::List(items)) => Ok(items),
        Some(Value::Null) => Err(EvalError::new(format!(
            "argument {} must not be null",
            i + 1
        ))),
        Some(other) => Err(EvalError::new(format!(
            "argument {} must be a list, tuple or set, got {}",
            i + 1,
            other.type_name()
        ))),
        None => Err(EvalError::new(format!("missing argument {}", i + 1))),
    }
}

/// Argument `i` as an object/map.
pub(super) fn obj_arg(args: &[Value], i: usize) -> Result<&BTreeMap<String, Value>, EvalError> {
    match args.get(i) {
        Some(Value::Object(map)) => Ok(map),
        Some(Value::Null) => Err(EvalError::new(format!(
            "argument {} must not be null",
            i + 1
        ))),
        Some(other) => Err(EvalError::new(format!(
            "argument {} must be a map or object, got {}",
            i + 1,
            other.type_name()
        ))),
        None => Err(EvalError::new(format!("missing argument {}", i + 1))),
    }
}

/// Deduplicate by Terraform equality and order like a Terraform set
/// (strings lexically, numbers numerically). Values must be known.
pub(super) fn to_set(items: Vec<Value>) -> Vec<Value> {
    let mut out = dedup(items);
    let primitive = out
        .iter()
        .all(|v| matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_)));
    if primitive {
        out.sort_by(|a, b| match (a, b) {
            (Value::Number(x), Value::Number(y)) => x.total_cmp(y),
            (Value::String(x), Value::String(y)) => x.cmp(y),
            (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
            _ => type_rank(a).cmp(&type_rank(b)),
        });
    }
    out
}

/// A hashable key for primitive values.
fn prim_key(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(format!("s{s}")),
        Value::Number(n) => Some(format!("n{}", if *n == 0.0 { 0 } else { n.to_bits() })),
        Value::Bool(b) => Some(format!("b{b}")),
        Value::Null => Some("z".to_string()),
        _ => None,
    }
}

/// Remove duplicates (Terraform equality), keeping first occurrences.
/// Linear for primitives; quadratic (and so capped) for structured values.
pub(super) fn dedup(items: Vec<Value>) -> Vec<Value> {
    let keys: Option<Vec<String>> = items.iter().map(prim_key).collect();
    if let Some(keys) = keys {
        let mut seen = std::collections::HashSet::with_capacity(keys.len());
        return items
            .into_iter()
            .zip(keys)
            .filter_map(|(v, k)| seen.insert(k).then_some(v))
            .collect();
    }
    let mut out: Vec<Value> = Vec::with_capacity(items.len());
    for item in items {
        if out.len() > 20_000 {
            // Too costly to compare further; keep the rest as is.
            out.push(item);
            continue;
        }
        if !out.iter().any(|o| o.terraform_equals(&item) == Some(true)) {
            out.push(item);
        }
    }
    out
}

fn type_rank(v: &Value) -> u8 {
    match v {
        Value::Bool(_) => 0,
        Value::Number(_) => 1,
        Value::String(_) => 2,
        _ => 3,
    }
}

/// Loose equality used by `contains`/`index`: Terraform equality, or equal
/// string forms for primitives (Terraform unifies element types first).
pub(super) fn loosely_equal(a: &Value, b: &Value) -> bool {
    if a.terraform_equals(b) == Some(true) {
        return true;
    }
    let prim = |v: &Value| matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_));
    if prim(a)
        && prim(b)
        && let (Ok(x), Ok(y)) = (a.to_string_value(), b.to_string_value())
    {
        return x == y;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_unique() {
        for w in FUNCTIONS.windows(2) {
            assert!(w[0].name < w[1].name, "{} !< {}", w[0].name, w[1].name);
        }
    }

    #[test]
    fn arity_and_builtins() {
        assert_eq!(function_arity("lookup"), Some((2, Some(3))));
        assert_eq!(function_arity("format"), Some((1, None)));
        assert_eq!(function_arity("core::length"), Some((1, Some(1))));
        assert!(is_builtin_function("templatestring"));
        assert!(is_builtin_function("yamldecode"));
        assert!(!is_builtin_function("nosuchfn"));
        assert!(!is_builtin_function("type"));
        assert!(is_evaluated_function("try"));
        assert!(!is_evaluated_function("yamldecode"));
    }
}
