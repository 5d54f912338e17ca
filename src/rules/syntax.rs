//! The one door from rules to parsed files, for the rules that are about syntax itself:
//! files that do not parse or were not read (`parse-error`, `skipped-file`), keys a YAML
//! mapping repeats (`duplicate-key`) and chart templates that do not parse
//! (`helm-template-syntax`). Every other rule asks the models.

pub use crate::parse::yaml::{Kind, NodeId, Yaml, YamlDoc};
pub use crate::parse::{ParseFailure, Syntax};

#[cfg(test)]
mod tests {
    /// Rules of these domains reach parsed files only through this module.
    #[test]
    fn rules_reach_parsed_files_only_through_this_door() {
        let rules = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/rules");
        let mut offenders = Vec::new();
        for domain in ["validity", "engine", "gitops", "helm"] {
            for entry in std::fs::read_dir(rules.join(domain)).unwrap() {
                let path = entry.unwrap().path();
                let text = std::fs::read_to_string(&path).unwrap();
                if text.contains("crate::parse") || text.contains("hcl_edit") {
                    offenders.push(path.display().to_string());
                }
            }
        }
        assert!(
            offenders.is_empty(),
            "import parsed syntax through rules/syntax.rs or ask a model: {offenders:?}"
        );
    }
}
