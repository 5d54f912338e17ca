//! Models: the questions rules ask about a repository, answered once per check.

pub mod gitops;
pub mod iam;
pub mod live;
pub mod steps;
pub mod terraform;
