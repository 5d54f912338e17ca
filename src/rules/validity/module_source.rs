//! `module-source`: a local module `source` that does not exist, has no `.tf` files, leaves
//! the repository, or closes a cycle of local module calls.

use super::scoped_modules;
use crate::diagnostic::{Finding, Severity};
use crate::model::terraform::{ModuleId, ModuleSource, TerraformModel};
use crate::rules::{Context, Rule};
use std::collections::{HashMap, VecDeque};

crate::rules::declare_rule! {
    pub struct ModuleSourceRule {
        id: "module-source",
        severity: Severity::Error,
        summary: "A local module source that is missing, leaves the repository, or calls back into itself",
        fix: None,
        reads: Terraform,
    }
}

/// The shortest chain of local calls from `from` to `to` (both included).
fn path(model: &TerraformModel, from: ModuleId, to: ModuleId) -> Option<Vec<ModuleId>> {
    let mut prev: HashMap<ModuleId, ModuleId> = HashMap::new();
    let mut queue = VecDeque::from([from]);
    let mut seen = vec![false; model.modules.len()];
    seen[from.0 as usize] = true;
    while let Some(m) = queue.pop_front() {
        if m == to {
            let mut chain = vec![to];
            let mut cur = to;
            while let Some(&p) = prev.get(&cur) {
                chain.push(p);
                cur = p;
            }
            chain.reverse();
            return Some(chain);
        }
        for call in &model.module(m).calls {
            if let ModuleSource::Local(t) = call.source
                && !seen[t.0 as usize]
            {
                seen[t.0 as usize] = true;
                prev.insert(t, m);
                queue.push_back(t);
            }
        }
    }
    None
}

impl Rule for ModuleSourceRule {
    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let repo = &cx.session.repo;
        let model = cx.session.terraform();
        let mut out = Vec::new();
        for id in scoped_modules(cx.session) {
            let module = model.module(id);
            for call in &module.calls {
                let Some(span) = call.source_span else {
                    continue;
                };
                let address = format!("module.{}", call.name);
                match &call.source {
                    ModuleSource::Missing(dir) => {
                        // Files the check did not load (excluded) still count for Terraform.
                        let has_config = repo
                            .files_in_dir(dir)
                            .any(|p| p.ends_with(".tf") || p.ends_with(".tf.json"));
                        if has_config {
                            continue;
                        }
                        let (message, label) = if repo.exists(dir) {
                            (format!("module `{}` calls {dir}, which holds no .tf files", call.name), "no Terraform files there")
                        } else {
                            (format!("module `{}` calls {dir}, which does not exist", call.name), "no such folder")
                        };
                        out.push(
                            cx.finding(span, message)
                                .with_span_label(label)
                                .with_help("point `source` at the module's folder (relative to this file's folder), or restore the module")
                                .with_address(address),
                        );
                    }
                    // Without `.git` or `preflight.toml` the root is only where the named
                    // paths meet: the module may be in the repository, above that folder.
                    ModuleSource::Escapes(s) if cx.session.root_inferred => out.push(
                        cx.note(span, format!(
                            "cannot tell whether module `{}` source `{s}` leaves the repository: the root {} was inferred from the named paths (no `.git` or `preflight.toml` there)",
                            call.name,
                            cx.session.repo.root.display()
                        ))
                            .with_span_label("outside the inferred root")
                            .with_help("name the repository's top folder too, or put a preflight.toml there")
                            .with_address(address),
                    ),
                    ModuleSource::Escapes(s) => out.push(
                        cx.finding(span, format!("module `{}` source `{s}` leaves the repository", call.name))
                            .with_span_label("outside the repository")
                            .with_help("a checkout in CI has only this repository: vendor the module into it, or use a git or registry source with a pinned version")
                            .with_address(address),
                    ),
                    ModuleSource::Local(target) => {
                        let target = *target;
                        // Report each cycle once: at the call that enters its first module.
                        let Some(back) = path(model, target, id) else {
                            continue;
                        };
                        let members: Vec<ModuleId> = model
                            .ids()
                            .filter(|m| {
                                path(model, id, *m).is_some() && path(model, *m, id).is_some()
                            })
                            .collect();
                        if members.iter().min() != Some(&target) {
                            continue;
                        }
                        let mut chain: Vec<String> = vec![module.dir.clone()];
                        chain.extend(back.iter().map(|m| model.module(*m).dir.clone()));
                        let chain: Vec<String> = chain
                            .into_iter()
                            .map(|d| if d.is_empty() { ".".to_string() } else { d })
                            .collect();
                        let message = if target == id {
                            format!("module `{}` calls the module it is declared in; terraform init would recurse forever", call.name)
                        } else {
                            format!(
                                "module `{}` closes a cycle of module calls ({}); terraform init would recurse forever",
                                call.name,
                                chain.join(" → ")
                            )
                        };
                        out.push(
                            cx.finding(span, message)
                                .with_span_label("cycle")
                                .with_help("a module cannot call itself, directly or through others: move the shared part into a module both can call")
                                .with_address(address),
                        );
                    }
                    _ => {}
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{check_rule, expect};

    const RULE: &str = "module-source";

    #[test]
    fn flags_missing_empty_escaping_and_cyclic_sources() {
        let findings = check_rule(
            RULE,
            &[
                (
                    "envs/dev/main.tf",
                    r#"module "gone" {
  source = "../../modules/gone"
}
module "docs" {
  source = "../../modules/docs"
}
module "outside" {
  source = "../../../shared/modules/x"
}
module "a" {
  source = "../../modules/a"
}
module "vpc" {
  source = "terraform-aws-modules/vpc/aws"
}
"#,
                ),
                ("modules/docs/README.md", "# docs\n"),
                (
                    "modules/a/main.tf",
                    "module \"b\" {\n  source = \"../b\"\n}\n",
                ),
                (
                    "modules/b/main.tf",
                    "module \"a\" {\n  source = \"../a\"\n}\n",
                ),
                (
                    "modules/self/main.tf",
                    "module \"me\" {\n  source = \"./\"\n}\n",
                ),
            ],
        );
        expect(
            &findings,
            &[
                (RULE, "envs/dev/main.tf", 2),
                (RULE, "envs/dev/main.tf", 5),
                (RULE, "envs/dev/main.tf", 8),
                (RULE, "modules/b/main.tf", 2),
                (RULE, "modules/self/main.tf", 2),
            ],
        );
        let cycle = findings
            .iter()
            .find(|f| f.file == "modules/b/main.tf")
            .unwrap();
        assert!(
            cycle.message.contains("modules/b → modules/a → modules/b"),
            "{}",
            cycle.message
        );
    }

    #[test]
    fn excluded_module_folders_are_not_missing() {
        let findings = check_rule(
            RULE,
            &[
                ("preflight.toml", "exclude = [\"modules/legacy/**\"]\n"),
                (
                    "envs/dev/main.tf",
                    "module \"legacy\" {\n  source = \"../../modules/legacy\"\n}\n",
                ),
                ("modules/legacy/main.tf", "variable \"x\" {}\n"),
            ],
        );
        expect(&findings, &[]);
    }
}
