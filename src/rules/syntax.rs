//! The one door from rules to parsed files, for the rules that are about syntax itself:
//! files that do not parse or were not read (`parse-error`, `skipped-file`), keys a YAML
//! mapping repeats (`duplicate-key`) and chart templates that do not parse
//! (`helm-template-syntax`). Every other rule asks the models.

pub use crate::parse::yaml::{NodeId, NodeKind, Yaml, YamlDoc};
pub use crate::parse::{ParseFailure, Syntax};
