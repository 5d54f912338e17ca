//! Static evaluation and analysis of Terraform expressions parsed by `hcl-edit`.
//!
//! - [`eval`] / [`eval_checked`] evaluate an expression against a [`Scope`]
//!   into a [`Value`], which may contain [`Unknown`] parts (known only after
//!   apply, or not decidable by preflight).
//! - [`references`] and [`function_calls`] list what an expression refers to
//!   and calls; [`body_expressions`] walks every expression of a body.
//! - [`gate_terms`] splits a `count`/`for_each` gate condition into its
//!   `&&` terms, with a canonical text for each.

mod conjunction;
mod error;
mod eval;
mod functions;
mod refs;
mod value;

#[cfg(test)]
mod tests;

pub use conjunction::{GateKind, GateTerms, Term, canonical_text, conjunction_terms, gate_terms};
pub use error::EvalError;
pub use eval::{
    EmptyScope, MAX_DEPTH, MAX_ELEMENTS, MAX_STEPS, MAX_STRING_LEN, MAX_WORK, Scope, eval,
    eval_checked, eval_template_checked, over_budget_reason,
};
pub use functions::{
    builtin_function_names, function_arity, is_builtin_function, is_evaluated_function,
};
pub use refs::{
    BodyExpression, FunctionCallRef, RefStep, Reference, body_expressions,
    body_expressions_with_path, function_calls, references,
};
pub use value::{ApplyIf, Truth, Unknown, Value, format_number, parse_number, quote_string};
