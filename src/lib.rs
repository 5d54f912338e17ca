//! preflight: stop a deploy before `terraform apply` or an ArgoCD sync breaks it.
//!
//! Layers, one direction only: `cli` → `engine` → (`source`, `parse`, `model`, `rules`,
//! `report`). A rule asks the models questions; it never parses text. A reporter only
//! formats.

pub mod baseline;
pub mod changed;
pub mod cli;
pub mod config;
pub mod diagnostic;
pub mod discover;
pub mod engine;
pub mod fix;
pub mod graph;
pub mod init;
pub mod model;
pub mod parse;
pub mod redact;
pub mod repo;
pub mod report;
pub mod rules;
pub mod safe_fs;
pub mod source;
pub mod suggest;
pub mod suppress;
pub mod timing;

#[cfg(test)]
pub mod testing;
