//! Models: the questions rules ask about a repository, answered once per check.

pub mod environments;
pub mod gitops;
pub mod iam;
pub mod identities;
pub mod steps;
pub mod terraform;
pub mod workload_identity;
