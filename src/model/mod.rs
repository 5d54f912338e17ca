//! Models: the questions rules ask about the repository, answered once per check.

pub mod gitops;
