//! Rules about the repository's files themselves and about suppressions.

pub mod evaluation_budget;
pub mod parse_error;
pub mod skipped_file;
pub mod suppression_without_reason;
pub mod unused_suppression;

// The first release, then rules added later (see `declare_domain!`).
crate::rules::declare_domain! {
    [
        parse_error::ParseError,
        skipped_file::SkippedFile,
        suppression_without_reason::SuppressionWithoutReason,
        unused_suppression::UnusedSuppression,
    ],
    // Added after the first release.
    [
        evaluation_budget::EvaluationBudget,
    ],
}
