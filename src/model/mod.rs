//! Models: the questions rules ask about a repository, answered once per check.

pub mod gitops;
pub mod helm;
pub mod iam;
pub mod terraform;
