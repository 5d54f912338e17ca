//! The expression evaluator.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use hcl_edit::expr::{
    BinaryOperator, Expression, ForExpr, FuncCall, ObjectKey, TraversalOperator, UnaryOperator,
};
use hcl_edit::template::{Directive, Element, Template};
use hcl_edit::{Decorated, Span};

use super::error::EvalError;
use super::functions;
use super::value::{ApplyIf, Unknown, Value, format_number};

/// Maximum expression nesting depth before evaluation gives up.
pub const MAX_DEPTH: usize = 256;
/// Maximum number of expression evaluations for one top-level `eval`.
pub const MAX_STEPS: usize = 2_000_000;
/// Maximum number of elements a single collection-producing operation may create.
pub const MAX_ELEMENTS: usize = 1_000_000;
/// Maximum length in bytes of a string produced by evaluation.
pub const MAX_STRING_LEN: usize = 16 * 1024 * 1024;
/// Maximum work of one top-level evaluation: the weight ([`Value::weight`]) of every value
/// a reference copies in, of every function's arguments (the bytes a hash or `replace`
/// reads) and of every function's result. Past it, the value is "cannot tell".
pub const MAX_WORK: usize = 512 * 1024 * 1024;

/// The reason given for a value past [`MAX_WORK`].
pub fn over_budget_reason() -> String {
    format!(
        "evaluating it copies or processes more than {} MiB of values (the evaluation budget)",
        MAX_WORK / (1024 * 1024)
    )
}

/// What an expression can refer to: variables, locals, resources, ...
pub trait Scope {
    /// Resolve the longest prefix of a traversal this scope knows.
    ///
    /// `root` is the first identifier (`var`, `local`, `module`, `data`,
    /// `each`, `count`, `path`, `terraform`, `self` or a resource type;
    /// for-expression variables are handled by the evaluator itself), `attrs`
    /// are the following consecutive `.name` attribute accesses (not index
    /// operations). Return the value and how many of `attrs` were consumed;
    /// the evaluator applies the rest of the traversal itself.
    fn resolve(&self, root: &str, attrs: &[&str]) -> Option<(Value, usize)>;

    /// Directory of the module the expression belongs to (for `file()` & co).
    fn module_dir(&self) -> Option<&Path> {
        None
    }

    /// Repository root: files outside it are never read.
    fn repo_root(&self) -> Option<&Path> {
        None
    }

    /// Whether an outcome is assumed for some condition (see [`Scope::assume`]); cheap, so
    /// that conditionals look up an assumption only when there is one.
    fn has_assumptions(&self) -> bool {
        false
    }

    /// The outcome assumed for a condition (by its canonical text) in this scope's module
    /// instance, if any.
    fn assumed(&self, _condition: &str) -> Option<bool> {
        None
    }

    /// Assume an outcome for a condition until [`Scope::unassume`]: what is evaluated
    /// meanwhile takes that branch wherever the same condition is written in the same
    /// module instance. `false` if this scope cannot (then nothing is assumed).
    fn assume(&self, _condition: &str, _outcome: bool) -> bool {
        false
    }

    /// Drop the latest assumption [`Scope::assume`] made.
    fn unassume(&self) {}
}

/// A scope that knows nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct EmptyScope;

impl Scope for EmptyScope {
    fn resolve(&self, _root: &str, _attrs: &[&str]) -> Option<(Value, usize)> {
        None
    }
}

/// Evaluate an expression; errors become `Unknown::Undecidable` values.
pub fn eval(expr: &Expression, scope: &dyn Scope) -> Value {
    match eval_checked(expr, scope) {
        Ok(v) => v,
        Err(e) => Value::undecidable(e.message),
    }
}

/// Evaluate an expression, reporting errors Terraform would raise.
pub fn eval_checked(expr: &Expression, scope: &dyn Scope) -> Result<Value, EvalError> {
    Evaluator::new(scope).eval_expr(expr)
}

/// Evaluate a template (e.g. the content of a `templatefile`) with extra
/// variables bound by name, on top of `scope`.
pub fn eval_template_checked(
    template: &Template,
    vars: &BTreeMap<String, Value>,
    scope: &dyn Scope,
) -> Result<Value, EvalError> {
    let mut ev = Evaluator::new(scope);
    ev.locals
        .extend(vars.iter().map(|(k, v)| (k.clone(), v.clone())));
    ev.eval_template(template)
}

/// Evaluation state: the scope, bound for-expression variables and budgets.
pub(crate) struct Evaluator<'s> {
    pub(crate) scope: &'s dyn Scope,
    pub(crate) locals: Vec<(String, Value)>,
    pub(crate) depth: usize,
    pub(crate) steps: usize,
    /// Work charged so far (see [`MAX_WORK`]).
    pub(crate) work: usize,
    /// Inside a template rendered by `templatefile` / `templatestring`, which Terraform
    /// does not let call either again.
    pub(crate) in_template: bool,
}

/// Segments produced while rendering a template, before whitespace stripping.
enum Seg {
    Lit(String),
    Val(String),
    StripBefore,
    StripAfter,
}

impl<'s> Evaluator<'s> {
    pub(crate) fn new(scope: &'s dyn Scope) -> Self {
        Evaluator {
            scope,
            locals: Vec::new(),
            depth: 0,
            steps: 0,
            work: 0,
            in_template: false,
        }
    }

    /// Charge `amount` of work; `Err` with the undecidable value once past the budget.
    pub(crate) fn charge(&mut self, amount: usize) -> Result<(), Value> {
        self.work = self.work.saturating_add(amount);
        if self.work > MAX_WORK {
            Err(Value::undecidable(over_budget_reason()))
        } else {
            Ok(())
        }
    }

    /// Charge the weight of a value.
    pub(crate) fn charge_value(&mut self, v: &Value) -> Result<(), Value> {
        let left = MAX_WORK.saturating_sub(self.work);
        self.charge(v.weight(left))
    }

    fn local(&self, name: &str) -> Option<&Value> {
        self.locals
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }

    /// Run `f` with extra local bindings, removing them afterwards.
    fn with_locals<T>(
        &mut self,
        bindings: Vec<(String, Value)>,
        f: impl FnOnce(&mut Self) -> T,
    ) -> T {
        let mark = self.locals.len();
        self.locals.extend(bindings);
        let out = f(self);
        self.locals.truncate(mark);
        out
    }

    /// Evaluate one expression.
    pub(crate) fn eval_expr(&mut self, expr: &Expression) -> Result<Value, EvalError> {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            return Ok(Value::undecidable("evaluation step budget exceeded"));
        }
        // Spent: nothing more is copied in (a reference would clone its value first).
        if self.work > MAX_WORK {
            return Ok(Value::undecidable(over_budget_reason()));
        }
        if self.depth >= MAX_DEPTH {
            return Ok(Value::undecidable(format!(
                "expression nesting exceeds {MAX_DEPTH} levels"
            )));
        }
        self.depth += 1;
        let out = self.eval_inner(expr).map_err(|e| e.with_span(expr.span()));
        self.depth -= 1;
        out
    }

    fn eval_inner(&mut self, expr: &Expression) -> Result<Value, EvalError> {
        match expr {
            Expression::Null(_) => Ok(Value::Null),
            Expression::Bool(b) => Ok(Value::Bool(*b.value())),
            Expression::Number(n) => Ok(n
                .value()
                .as_f64()
                .map(Value::Number)
                .unwrap_or_else(|| Value::undecidable("number out of range"))),
            Expression::String(s) => Ok(Value::String(s.value().clone())),
            Expression::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items.iter() {
                    out.push(self.eval_expr(item)?);
                }
                Ok(Value::list(out))
            }
            Expression::Object(obj) => {
                let mut out = BTreeMap::new();
                let mut unknown_key = None;
                for (key, value) in obj.iter() {
                    let k = match key {
                        ObjectKey::Ident(id) => Value::String(id.value().as_str().to_string()),
                        ObjectKey::Expression(Expression::Variable(id)) => {
                            Value::String(id.value().as_str().to_string())
                        }
                        ObjectKey::Expression(e) => self.eval_expr(e)?,
                    };
                    let v = self.eval_expr(value.expr())?;
                    match k {
                        Value::Unknown(u) => {
                            unknown_key.get_or_insert(u);
                        }
                        Value::Null => {
                            return Err(EvalError::new("Invalid object key: key must not be null"));
                        }
                        other => {
                            let Value::String(s) = other.to_string_value().map_err(|_| {
                                EvalError::new(format!(
                                    "Invalid object key: a string is required, got {}",
                                    other.type_name()
                                ))
                            })?
                            else {
                                continue;
                            };
                            out.insert(s, v);
                        }
                    }
                }
                match unknown_key {
                    Some(u) => Ok(Value::Unknown(u)),
                    None => Ok(Value::object(out)),
                }
            }
            Expression::StringTemplate(t) => self.eval_template(t),
            Expression::HeredocTemplate(h) => self.eval_template(&h.template),
            Expression::Parenthesis(p) => self.eval_expr(p.inner()),
            Expression::Variable(v) => self.eval_traversal_root(v.value().as_str(), &[]),
            Expression::Conditional(c) => {
                if self.scope.has_assumptions()
                    && let Some(b) = self
                        .scope
                        .assumed(&super::conjunction::canonical_text(&c.cond_expr))
                {
                    return self.eval_expr(if b { &c.true_expr } else { &c.false_expr });
                }
                let cond = self.eval_expr(&c.cond_expr)?;
                match cond.to_bool() {
                    Ok(Value::Bool(true)) => self.eval_expr(&c.true_expr),
                    Ok(Value::Bool(false)) => self.eval_expr(&c.false_expr),
                    Ok(Value::Unknown(Unknown::AtPlan { origin })) => {
                        Ok(self.both_outcomes(c, origin))
                    }
                    Ok(Value::Unknown(u)) => Ok(Value::Unknown(u)),
                    Ok(_) => Err(EvalError::new("Incorrect condition type")),
                    Err(e) => Err(EvalError::new(format!(
                        "Incorrect condition type: the condition must be a bool ({})",
                        e.message
                    ))
                    .with_span(c.cond_expr.span())),
                }
            }
            Expression::FuncCall(call) => self.eval_call(call),
            Expression::Traversal(t) => match &t.expr {
                Expression::Variable(root) => {
                    self.eval_traversal_root(root.value().as_str(), &t.operators)
                }
                other => {
                    let base = self.eval_expr(other)?;
                    self.apply_ops(base, &t.operators)
                }
            },
            Expression::UnaryOp(op) => {
                let v = self.eval_expr(&op.expr)?;
                match op.operator.value() {
                    UnaryOperator::Not => match v.to_bool()? {
                        Value::Bool(b) => Ok(Value::Bool(!b)),
                        other => Ok(other),
                    },
                    UnaryOperator::Neg => match v.to_number()? {
                        Value::Number(n) => Ok(Value::Number(-n)),
                        other => Ok(other),
                    },
                }
            }
            Expression::BinaryOp(op) => {
                self.eval_binary(&op.lhs_expr, *op.operator.value(), &op.rhs_expr)
            }
            Expression::ForExpr(f) => self.eval_for(f),
        }
    }

    /// A conditional whose condition Terraform decides at plan but preflight cannot see:
    /// both branches are evaluated. When exactly one of them is unknown until apply, the
    /// result is unknown until apply in that outcome ([`Unknown::AtApplyIf`]); otherwise it
    /// is known at plan.
    fn both_outcomes(&mut self, c: &hcl_edit::expr::Conditional, decided_by: String) -> Value {
        let at_apply = |v: &Result<Value, EvalError>| match v {
            Ok(v) => match v.first_unknown() {
                Some(Unknown::AtApply { origin }) => Some(origin.clone()),
                _ => None,
            },
            Err(_) => None,
        };
        let condition = super::conjunction::canonical_text(&c.cond_expr);
        // Each branch under its outcome: a resource counted by the same condition exists
        // in the true branch of an adopt-or-create and not in the other.
        let branch = |this: &mut Self, outcome: bool, e: &Expression| {
            let assumed = this.scope.assume(&condition, outcome);
            let v = this.eval_expr(e);
            if assumed {
                this.scope.unassume();
            }
            v
        };
        let t = at_apply(&branch(self, true, &c.true_expr));
        let f = at_apply(&branch(self, false, &c.false_expr));
        let when = t.is_some();
        match (t, f) {
            (Some(origin), None) | (None, Some(origin)) => {
                Value::Unknown(Unknown::AtApplyIf(Box::new(ApplyIf {
                    origin,
                    when,
                    condition,
                    decided_by,
                })))
            }
            (Some(origin), Some(_)) => Value::at_apply(origin),
            (None, None) => Value::Unknown(Unknown::at_plan(decided_by)),
        }
    }

    fn eval_binary(
        &mut self,
        lhs: &Expression,
        op: BinaryOperator,
        rhs: &Expression,
    ) -> Result<Value, EvalError> {
        use BinaryOperator as B;
        match op {
            B::And | B::Or => {
                let short = matches!(op, B::Or);
                let l = self.eval_expr(lhs)?.to_bool()?;
                if l == Value::Bool(short) {
                    return Ok(l);
                }
                let r = self.eval_expr(rhs)?.to_bool()?;
                if r == Value::Bool(short) {
                    return Ok(r);
                }
                match (&l, &r) {
                    (Value::Bool(_), Value::Bool(_)) => Ok(Value::Bool(!short)),
                    _ => Ok(unknown_of(&[&l, &r])),
                }
            }
            B::Eq | B::NotEq => {
                let l = self.eval_expr(lhs)?;
                let r = self.eval_expr(rhs)?;
                match l.terraform_equals(&r) {
                    Some(eq) => Ok(Value::Bool(eq == matches!(op, B::Eq))),
                    None => Ok(unknown_of(&[&l, &r])),
                }
            }
            _ => {
                let l = self.eval_expr(lhs)?.to_number().map_err(|e| {
                    EvalError::new(format!("Invalid operand: {}", e.message)).with_span(lhs.span())
                })?;
                let r = self.eval_expr(rhs)?.to_number().map_err(|e| {
                    EvalError::new(format!("Invalid operand: {}", e.message)).with_span(rhs.span())
                })?;
                let (Value::Number(a), Value::Number(b)) = (&l, &r) else {
                    return Ok(unknown_of(&[&l, &r]));
                };
                let (a, b) = (*a, *b);
                Ok(match op {
                    B::Plus => Value::Number(a + b),
                    B::Minus => Value::Number(a - b),
                    B::Mul => Value::Number(a * b),
                    B::Div => {
                        if b == 0.0 {
                            return Err(EvalError::new("Arithmetic error: division by zero"));
                        }
                        Value::Number(a / b)
                    }
                    B::Mod => {
                        if b == 0.0 {
                            return Err(EvalError::new("Arithmetic error: modulo by zero"));
                        }
                        Value::Number(a % b)
                    }
                    B::Less => Value::Bool(a < b),
                    B::LessEq => Value::Bool(a <= b),
                    B::Greater => Value::Bool(a > b),
                    B::GreaterEq => Value::Bool(a >= b),
                    B::And | B::Or | B::Eq | B::NotEq => return Ok(Value::Null),
                })
            }
        }
    }

    fn eval_traversal_root(
        &mut self,
        root: &str,
        ops: &[Decorated<TraversalOperator>],
    ) -> Result<Value, EvalError> {
        if let Some(v) = self.local(root) {
            let v = v.clone();
            if let Err(u) = self.charge_value(&v) {
                return Ok(u);
            }
            return self.apply_ops(v, ops);
        }
        let attrs: Vec<&str> = ops
            .iter()
            .map_while(|op| match op.value() {
                TraversalOperator::GetAttr(name) => Some(name.value().as_str()),
                _ => None,
            })
            .collect();
        match self.scope.resolve(root, &attrs) {
            Some((value, consumed)) => {
                if let Err(u) = self.charge_value(&value) {
                    return Ok(u);
                }
                let consumed = consumed.min(attrs.len());
                self.apply_ops(value, &ops[consumed..])
            }
            None => {
                let shown = match root {
                    "data" => 2,
                    "each" | "count" | "path" | "terraform" | "self" | "var" | "local"
                    | "module" => 1,
                    _ => 1,
                };
                let mut path = root.to_string();
                for a in attrs.iter().take(shown) {
                    path.push('.');
                    path.push_str(a);
                }
                Ok(Value::undecidable(format!("`{path}` is not declared")))
            }
        }
    }

    /// Apply traversal operators to a value.
    fn apply_ops(
        &mut self,
        mut value: Value,
        ops: &[Decorated<TraversalOperator>],
    ) -> Result<Value, EvalError> {
        let mut i = 0;
        while i < ops.len() {
            match ops[i].value() {
                TraversalOperator::GetAttr(name) => {
                    value = get_attr(value, name.value().as_str())
                        .map_err(|e| e.with_span(ops[i].span()))?;
                }
                TraversalOperator::Index(key_expr) => {
                    let key = self.eval_expr(key_expr)?;
                    value = index_value(value, &key).map_err(|e| e.with_span(ops[i].span()))?;
                }
                TraversalOperator::LegacyIndex(n) => {
                    let key = Value::Number(*n.value() as f64);
                    value = index_value(value, &key).map_err(|e| e.with_span(ops[i].span()))?;
                }
                TraversalOperator::AttrSplat(_) => {
                    let mut j = i + 1;
                    while j < ops.len()
                        && matches!(
                            ops[j].value(),
                            TraversalOperator::GetAttr(_) | TraversalOperator::LegacyIndex(_)
                        )
                    {
                        j += 1;
                    }
                    value = self.splat(value, &ops[i + 1..j])?;
                    i = j;
                    continue;
                }
                TraversalOperator::FullSplat(_) => {
                    return self.splat(value, &ops[i + 1..]);
                }
            }
            i += 1;
        }
        Ok(value)
    }

    fn splat(
        &mut self,
        value: Value,
        ops: &[Decorated<TraversalOperator>],
    ) -> Result<Value, EvalError> {
        match value {
            Value::Null => Ok(Value::list(Vec::new())),
            Value::Unknown(u) => Ok(Value::Unknown(u)),
            Value::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in Arc::unwrap_or_clone(items) {
                    out.push(self.apply_ops(item, ops)?);
                }
                Ok(Value::list(out))
            }
            other => Ok(Value::list(vec![self.apply_ops(other, ops)?])),
        }
    }

    fn eval_for(&mut self, f: &ForExpr) -> Result<Value, EvalError> {
        let coll = self.eval_expr(&f.intro.collection_expr)?;
        let items = iteration_items(coll)?;
        let items = match items {
            Ok(items) => items,
            Err(unknown) => return Ok(Value::Unknown(unknown)),
        };
        let key_var = f.intro.key_var.as_ref().map(|k| k.value().to_string());
        let value_var = f.intro.value_var.value().to_string();
        let mut unknown: Option<Unknown> = None;
        let mut list = Vec::new();
        let mut object: BTreeMap<String, Value> = BTreeMap::new();
        let mut groups: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for (k, v) in items {
            let mut bindings = Vec::with_capacity(2);
            if let Some(kv) = &key_var {
                bindings.push((kv.clone(), k));
            }
            bindings.push((value_var.clone(), v));
            let step = self.with_locals(bindings, |ev| -> Result<_, EvalError> {
                if let Some(cond) = &f.cond {
                    let c = ev.eval_expr(&cond.expr)?.to_bool().map_err(|e| {
                        EvalError::new(format!("Invalid 'for' condition: {}", e.message))
                            .with_span(cond.expr.span())
                    })?;
                    match c {
                        Value::Bool(false) => return Ok(None),
                        Value::Unknown(u) => return Ok(Some((Some(Value::Unknown(u)), None))),
                        _ => {}
                    }
                }
                let key = match &f.key_expr {
                    Some(ke) => Some(ev.eval_expr(ke)?),
                    None => None,
                };
                let val = ev.eval_expr(&f.value_expr)?;
                Ok(Some((key, Some(val))))
            })?;
            let Some((key, val)) = step else { continue };
            let Some(val) = val else {
                // Unknown condition: the whole result is unknown.
                if let Some(Value::Unknown(u)) = key {
                    merge_unknown(&mut unknown, u);
                }
                continue;
            };
            match key {
                None => {
                    list.push(val);
                    if list.len() > MAX_ELEMENTS {
                        return Err(too_many());
                    }
                }
                Some(Value::Unknown(u)) => merge_unknown(&mut unknown, u),
                Some(Value::Null) => {
                    return Err(EvalError::new(
                        "Invalid object key: key expression produced null",
                    ));
                }
                Some(k) => {
                    let Value::String(k) = k.to_string_value().map_err(|e| {
                        EvalError::new(format!("Invalid object key: {}", e.message))
                    })?
                    else {
                        continue;
                    };
                    if f.grouping {
                        groups.entry(k).or_default().push(val);
                    } else {
                        match object.entry(k) {
                            std::collections::btree_map::Entry::Occupied(o) => {
                                return Err(EvalError::new(format!(
                                    "Duplicate object key: two different items produced the key \"{}\" in this 'for' expression; use the ellipsis (...) after the value expression to group results by key",
                                    o.key()
                                )));
                            }
                            std::collections::btree_map::Entry::Vacant(v) => {
                                v.insert(val);
                            }
                        }
                    }
                }
            }
        }
        if let Some(u) = unknown {
            return Ok(Value::Unknown(u));
        }
        if f.key_expr.is_some() {
            if f.grouping {
                Ok(Value::object(
                    groups
                        .into_iter()
                        .map(|(k, v)| (k, Value::list(v)))
                        .collect(),
                ))
            } else {
                Ok(Value::object(object))
            }
        } else {
            Ok(Value::list(list))
        }
    }

    fn eval_call(&mut self, call: &FuncCall) -> Result<Value, EvalError> {
        let namespace: Vec<&str> = call.name.namespace.iter().map(|n| n.as_str()).collect();
        let name = call.name.name.as_str();
        let full = if namespace.is_empty() {
            name.to_string()
        } else {
            format!("{}::{name}", namespace.join("::"))
        };
        if namespace.first() == Some(&"provider") {
            return Ok(Value::undecidable(format!(
                "provider function {full} is not evaluated by preflight"
            )));
        }
        if !(namespace.is_empty() || namespace == ["core"]) {
            return Err(EvalError::new(format!(
                "Call to unknown function: there is no function named \"{full}\""
            )));
        }
        let Some((min, max)) = functions::function_arity(name) else {
            return Err(EvalError::new(format!(
                "Call to unknown function: there is no function named \"{full}\""
            )));
        };
        let nargs = call.args.len();
        // With `...` the final argument expands to any number of arguments.
        let arity_ok = if call.args.expand_final() {
            max.is_none_or(|m| nargs <= m)
        } else {
            nargs >= min && max.is_none_or(|m| nargs <= m)
        };
        if !arity_ok {
            let expected = match max {
                Some(m) if m == min => format!("{min}"),
                Some(m) => format!("{min} to {m}"),
                None => format!("at least {min}"),
            };
            return Err(EvalError::new(format!(
                "Invalid function call: function \"{name}\" expects {expected} argument(s), got {nargs}"
            )));
        }
        match name {
            "try" => return self.eval_try(call),
            "can" => return self.eval_can(call),
            _ => {}
        }
        let mut args = Vec::with_capacity(nargs);
        for arg in call.args.iter() {
            args.push(self.eval_expr(arg)?);
        }
        if call.args.expand_final() {
            match args.pop() {
                Some(Value::List(items)) => args.extend(Arc::unwrap_or_clone(items)),
                Some(Value::Unknown(u)) => return Ok(Value::Unknown(u)),
                Some(Value::Null) | None => {
                    return Err(EvalError::new(
                        "Invalid expanding argument value: the expanding argument (indicated by ...) must not be null",
                    ));
                }
                Some(other) => {
                    return Err(EvalError::new(format!(
                        "Invalid expanding argument value: the expanding argument (indicated by ...) must be of a tuple, list, or set type, got {}",
                        other.type_name()
                    )));
                }
            }
            if args.len() < min || max.is_some_and(|m| args.len() > m) {
                return Err(EvalError::new(format!(
                    "Invalid function call: wrong number of arguments to \"{name}\" after expansion"
                )));
            }
        }
        functions::call(self, name, args).map_err(|e| e.with_span(call.span()))
    }

    fn eval_try(&mut self, call: &FuncCall) -> Result<Value, EvalError> {
        for arg in call.args.iter() {
            match self.eval_expr(arg) {
                Ok(v) if v.is_known() => return Ok(v),
                Ok(v) => return Ok(unknown_of(&[&v])),
                Err(_) => continue,
            }
        }
        Err(EvalError::new(
            "Error in function call: no expression succeeded in try()",
        ))
    }

    fn eval_can(&mut self, call: &FuncCall) -> Result<Value, EvalError> {
        let Some(arg) = call.args.iter().next() else {
            return Err(EvalError::new(
                "Invalid function call: can() expects 1 argument",
            ));
        };
        match self.eval_expr(arg) {
            Ok(v) if v.is_known() => Ok(Value::Bool(true)),
            Ok(v) => Ok(unknown_of(&[&v])),
            Err(_) => Ok(Value::Bool(false)),
        }
    }

    /// Render a template; a template that is a single interpolation yields
    /// the interpolated value unconverted.
    pub(crate) fn eval_template(&mut self, template: &Template) -> Result<Value, EvalError> {
        if let Some(Element::Interpolation(interp)) = template.as_single_element() {
            return self.eval_expr(&interp.expr);
        }
        let mut segs = Vec::new();
        if let Some(u) = self.render_elements(template, &mut segs)? {
            return Ok(Value::Unknown(u));
        }
        let out = join_segments(segs);
        if out.len() > MAX_STRING_LEN {
            return Err(EvalError::new("template result is too large"));
        }
        Ok(Value::String(out))
    }

    /// Render template elements into segments; returns an unknown if the
    /// result depends on one.
    fn render_elements(
        &mut self,
        template: &Template,
        segs: &mut Vec<Seg>,
    ) -> Result<Option<Unknown>, EvalError> {
        let mut unknown: Option<Unknown> = None;
        for element in template.iter() {
            self.steps += 1;
            if self.steps > MAX_STEPS {
                return Ok(Some(Unknown::undecidable(
                    "evaluation step budget exceeded",
                )));
            }
            match element {
                Element::Literal(lit) => segs.push(Seg::Lit(lit.value().clone())),
                Element::Interpolation(interp) => {
                    if interp.strip.strip_start() {
                        segs.push(Seg::StripBefore);
                    }
                    let v = self.eval_expr(&interp.expr)?;
                    match v {
                        Value::Unknown(u) => merge_unknown(&mut unknown, u),
                        Value::Null => {
                            return Err(EvalError::new(
                                "Invalid template interpolation value: the expression result is null",
                            )
                            .with_span(interp.expr.span()));
                        }
                        Value::List(_) | Value::Object(_) => {
                            return Err(EvalError::new(format!(
                                "Invalid template interpolation value: cannot include a {} value in a string template",
                                v.type_name()
                            ))
                            .with_span(interp.expr.span()));
                        }
                        Value::String(s) => segs.push(Seg::Val(s)),
                        Value::Number(n) => segs.push(Seg::Val(format_number(n))),
                        Value::Bool(b) => segs.push(Seg::Val(b.to_string())),
                    }
                    if interp.strip.strip_end() {
                        segs.push(Seg::StripAfter);
                    }
                }
                Element::Directive(d) => match d.as_ref() {
                    Directive::If(dir) => {
                        if dir.if_expr.strip.strip_start() {
                            segs.push(Seg::StripBefore);
                        }
                        let cond = self.eval_expr(&dir.if_expr.cond_expr)?.to_bool()?;
                        let (branch, else_strip) = match cond {
                            Value::Bool(true) => {
                                if dir.if_expr.strip.strip_end() {
                                    segs.push(Seg::StripAfter);
                                }
                                (Some(&dir.if_expr.template), None)
                            }
                            Value::Bool(false) => match &dir.else_expr {
                                Some(e) => (Some(&e.template), Some(e.strip)),
                                None => (None, None),
                            },
                            Value::Unknown(u) => {
                                merge_unknown(&mut unknown, u);
                                (None, None)
                            }
                            _ => (None, None),
                        };
                        if let Some(strip) = else_strip
                            && strip.strip_end()
                        {
                            segs.push(Seg::StripAfter);
                        }
                        if let Some(t) = branch
                            && let Some(u) = self.render_elements(t, segs)?
                        {
                            merge_unknown(&mut unknown, u);
                        }
                        if else_strip.is_none()
                            && let Some(e) = &dir.else_expr
                            && e.strip.strip_start()
                        {
                            segs.push(Seg::StripBefore);
                        }
                        if dir.endif_expr.strip.strip_start() {
                            segs.push(Seg::StripBefore);
                        }
                        if dir.endif_expr.strip.strip_end() {
                            segs.push(Seg::StripAfter);
                        }
                    }
                    Directive::For(dir) => {
                        let fe = &dir.for_expr;
                        if fe.strip.strip_start() {
                            segs.push(Seg::StripBefore);
                        }
                        let coll = self.eval_expr(&fe.collection_expr)?;
                        match iteration_items(coll)? {
                            Err(u) => merge_unknown(&mut unknown, u),
                            Ok(items) => {
                                let key_var = fe.key_var.as_ref().map(|k| k.value().to_string());
                                let value_var = fe.value_var.value().to_string();
                                for (k, v) in items {
                                    let mut bindings = Vec::with_capacity(2);
                                    if let Some(kv) = &key_var {
                                        bindings.push((kv.clone(), k));
                                    }
                                    bindings.push((value_var.clone(), v));
                                    if fe.strip.strip_end() {
                                        segs.push(Seg::StripAfter);
                                    }
                                    let r = self.with_locals(bindings, |ev| {
                                        ev.render_elements(&fe.template, segs)
                                    })?;
                                    if let Some(u) = r {
                                        merge_unknown(&mut unknown, u);
                                    }
                                    if dir.endfor_expr.strip.strip_start() {
                                        segs.push(Seg::StripBefore);
                                    }
                                    if segs.len() > MAX_ELEMENTS {
                                        return Err(too_many());
                                    }
                                }
                            }
                        }
                        if dir.endfor_expr.strip.strip_end() {
                            segs.push(Seg::StripAfter);
                        }
                    }
                },
            }
        }
        Ok(unknown)
    }
}

/// Apply whitespace strip markers and concatenate. As in Terraform, a marker strips the
/// whitespace of the adjacent line only: `~}` up to and including the next line break,
/// `{~` back to the previous one (a line break that ends the text before the marker is
/// stripped, one before trailing spaces is kept).
fn join_segments(segs: Vec<Seg>) -> String {
    let mut parts: Vec<(bool, String)> = Vec::new(); // (is_literal, text)
    let mut strip_next = false;
    for seg in segs {
        match seg {
            Seg::Lit(s) => {
                let s = if strip_next {
                    let line_end = s.find('\n').map_or(s.len(), |i| i + 1);
                    format!("{}{}", s[..line_end].trim_start(), &s[line_end..])
                } else {
                    s
                };
                strip_next = false;
                parts.push((true, s));
            }
            Seg::Val(s) => {
                strip_next = false;
                parts.push((false, s));
            }
            Seg::StripBefore => {
                if let Some((true, last)) = parts.last_mut() {
                    let body = last.strip_suffix('\n').unwrap_or(last);
                    let start = body.rfind('\n').map_or(0, |i| i + 1);
                    let trimmed = last[start..].trim_end().len();
                    last.truncate(start + trimmed);
                }
            }
            Seg::StripAfter => strip_next = true,
        }
    }
    parts.into_iter().map(|(_, s)| s).collect()
}

fn too_many() -> EvalError {
    EvalError::new(format!(
        "collection too large: more than {MAX_ELEMENTS} elements"
    ))
}

fn merge_unknown(acc: &mut Option<Unknown>, u: Unknown) {
    if acc.as_ref().is_none_or(|a| u.rank() > a.rank()) {
        *acc = Some(u);
    }
}

/// The combined unknown of the given values as a value; an Undecidable
/// placeholder if none of them is unknown.
pub(crate) fn unknown_of(values: &[&Value]) -> Value {
    Value::Unknown(
        Unknown::combine(values.iter().copied())
            .unwrap_or_else(|| Unknown::undecidable("unknown operand")),
    )
}

/// Key/value pairs of a collection for iteration; `Err(unknown)` when the
/// collection is unknown.
#[allow(clippy::type_complexity)]
fn iteration_items(coll: Value) -> Result<Result<Vec<(Value, Value)>, Unknown>, EvalError> {
    match coll {
        Value::List(items) => Ok(Ok(Arc::unwrap_or_clone(items)
            .into_iter()
            .enumerate()
            .map(|(i, v)| (Value::Number(i as f64), v))
            .collect())),
        Value::Object(map) => Ok(Ok(Arc::unwrap_or_clone(map)
            .into_iter()
            .map(|(k, v)| (Value::String(k), v))
            .collect())),
        Value::Unknown(u) => Ok(Err(u)),
        Value::Null => Err(EvalError::new(
            "Iteration over null value: a null value cannot be used as the collection in a 'for' expression",
        )),
        other => Err(EvalError::new(format!(
            "Iteration over non-iterable value: a value of type {} cannot be used as the collection in a 'for' expression",
            other.type_name()
        ))),
    }
}

/// Terraform's attribute access `value.name`.
pub(crate) fn get_attr(value: Value, name: &str) -> Result<Value, EvalError> {
    match value {
        Value::Object(map) => map.get(name).cloned().ok_or_else(|| {
            EvalError::new(format!(
                "Unsupported attribute: this object does not have an attribute named \"{name}\""
            ))
        }),
        Value::Unknown(Unknown::AtApply { origin }) => {
            Ok(Value::at_apply(format!("{origin}.{name}")))
        }
        Value::Unknown(Unknown::AtPlan { origin }) => {
            Ok(Value::Unknown(Unknown::at_plan(format!("{origin}.{name}"))))
        }
        Value::Unknown(u) => Ok(Value::Unknown(u)),
        Value::Null => Err(EvalError::new(format!(
            "Attempt to get attribute from null value: cannot access attribute \"{name}\" of a null value"
        ))),
        Value::List(_) => Err(EvalError::new(format!(
            "Unsupported attribute: can't access attribute \"{name}\" on a list; use an index or a splat ([*].{name})"
        ))),
        other => Err(EvalError::new(format!(
            "Unsupported attribute: can't access attribute \"{name}\" on a {} value",
            other.type_name()
        ))),
    }
}

/// Terraform's index operation `value[key]`.
pub(crate) fn index_value(value: Value, key: &Value) -> Result<Value, EvalError> {
    if let Value::Unknown(u) = key {
        return Ok(match value {
            Value::Unknown(Unknown::Undecidable { reason }) => Value::undecidable(reason),
            _ => Value::Unknown(u.clone()),
        });
    }
    match value {
        Value::Unknown(Unknown::AtApply { origin }) => {
            Ok(Value::at_apply(format!("{origin}[{key}]")))
        }
        Value::Unknown(Unknown::AtPlan { origin }) => {
            Ok(Value::Unknown(Unknown::at_plan(format!("{origin}[{key}]"))))
        }
        Value::Unknown(u) => Ok(Value::Unknown(u)),
        Value::Null => Err(EvalError::new(
            "Attempt to index null value: this value is null, so it does not have any indices",
        )),
        Value::List(items) => {
            let n = match key.to_number() {
                Ok(Value::Number(n)) => n,
                _ => {
                    return Err(EvalError::new(format!(
                        "Invalid index: a number is required to index a list, got {}",
                        key.type_name()
                    )));
                }
            };
            if n.fract() != 0.0 {
                return Err(EvalError::new(
                    "Invalid index: the given key does not identify an element in this collection value (not a whole number)",
                ));
            }
            if n < 0.0 || n >= items.len() as f64 {
                return Err(EvalError::new(format!(
                    "Invalid index: the given key does not identify an element in this collection value (index {} out of range for {} elements)",
                    format_number(n),
                    items.len()
                )));
            }
            Ok(items[n as usize].clone())
        }
        Value::Object(map) => {
            let k = match key.to_string_value() {
                Ok(Value::String(s)) => s,
                _ => {
                    return Err(EvalError::new(format!(
                        "Invalid index: a string is required to index a map, got {}",
                        key.type_name()
                    )));
                }
            };
            map.get(&k).cloned().ok_or_else(|| {
                EvalError::new(format!(
                    "Invalid index: the given key does not identify an element in this collection value (no key \"{k}\")"
                ))
            })
        }
        other => Err(EvalError::new(format!(
            "Invalid index: a {} value does not have any indices",
            other.type_name()
        ))),
    }
}
