//! Models: the questions rules ask about a repository, answered once per check.

pub mod crds;
pub mod gitops;
pub mod helm;
pub mod iam;
pub mod kube;
pub mod steps;
pub mod terraform;
