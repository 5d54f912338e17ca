//! Models: the questions rules ask about a repository, answered once per check.

pub mod crds;
pub mod environments;
pub mod gitops;
pub mod helm;
pub mod iam;
pub mod identities;
pub mod kube;
pub mod live;
pub mod secrets;
pub mod steps;
pub mod terraform;
pub mod workload_identity;
pub mod workspace;
