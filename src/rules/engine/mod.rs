//! Rules about the repository's files themselves and about suppressions.

pub mod evaluation_budget;
pub mod parse_error;
pub mod skipped_file;
pub mod suppression_without_reason;
pub mod unused_suppression;
