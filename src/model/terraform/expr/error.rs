//! Evaluation errors: what Terraform itself would report as an error.

use std::fmt;
use std::ops::Range;

/// An error Terraform would raise while evaluating an expression
/// (type mismatch, invalid index, unknown function, wrong arity, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalError {
    /// Human-readable message, starting with Terraform's summary, e.g. "Invalid index".
    pub message: String,
    /// Byte span of the innermost expression that failed, when known.
    pub span: Option<Range<usize>>,
}

impl EvalError {
    /// A new error without a span.
    pub fn new(message: impl Into<String>) -> EvalError {
        EvalError {
            message: message.into(),
            span: None,
        }
    }

    /// Set the span if none is set yet.
    pub fn with_span(mut self, span: Option<Range<usize>>) -> EvalError {
        if self.span.is_none() {
            self.span = span;
        }
        self
    }
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for EvalError {}
