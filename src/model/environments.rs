//! Environments: Terraform roots and ArgoCD cluster groups grouped by the environment they
//! deploy, so a rule can ask "what does the dev environment's Terraform create" from a dev
//! values file, across roots (`envs/dev` and `envs/dev-rds` are both dev).
//!
//! A root's environment is, in order: the value of its `environment` (or `env`) variable
//! when it evaluates to a string; its folder under `envs/` (or `environments/`), shortened
//! to a known environment it extends (`dev-rds` → `dev` when `dev` is one); nothing. A
//! cluster group's environment is a known environment named by a folder of its
//! Applications' files or by the stem of their values files (`values/dev.yaml`), when they
//! agree on one.

use crate::model::gitops::{GitopsModel, GroupId, ValuesOrigin};
use crate::model::terraform::analysis::Analysis;
use crate::model::terraform::expr::Value;
use crate::model::workspace::Workspace;
use crate::source::FileId;
use std::collections::{BTreeSet, HashMap};

/// The environment of one root instance.
#[derive(Debug, Clone)]
pub struct RootEnv {
    /// The root instance (an index into `Analysis::insts`).
    pub inst: usize,
    /// The root's folder.
    pub dir: String,
    pub env: Option<String>,
    /// How the environment was found, for messages.
    pub how: String,
}

#[derive(Debug, Default)]
pub struct Environments {
    pub roots: Vec<RootEnv>,
    pub groups: HashMap<GroupId, String>,
    /// The first entry of `roots` for each root instance.
    by_inst: HashMap<usize, usize>,
}

/// The folder under `envs/` or `environments/` of a module folder.
fn env_folder(dir: &str) -> Option<&str> {
    let parts: Vec<&str> = dir.split('/').collect();
    parts
        .windows(2)
        .rev()
        .find(|w| matches!(w[0], "envs" | "environments" | "env"))
        .map(|w| w[1])
}

/// The value of a root's `environment`/`env` variable, when it is a known string.
fn env_variable(s: &Workspace, an: &Analysis, inst: usize) -> Option<(String, String)> {
    let tf = s.terraform();
    let module = an.module(tf, inst);
    for name in ["environment", "env"] {
        if !module.variables().any(|v| v.name == name) {
            continue;
        }
        let e: hcl_edit::expr::Expression = format!("var.{name}").parse().ok()?;
        let pass = an.selected.first().copied().unwrap_or(0);
        if let Value::String(v) = an.eval(s, pass, inst, &e)
            && !v.is_empty()
        {
            let how = format!("`var.{name}` = \"{v}\"");
            return Some((v, how));
        }
    }
    None
}

impl Environments {
    /// Group the roots of `an` and the cluster groups of `model`.
    pub fn build(s: &Workspace, an: &Analysis, model: &GitopsModel) -> Environments {
        let tf = s.terraform();
        let mut out = Environments::default();
        let mut pending = Vec::new();
        for &inst in &an.roots {
            let dir = an.module(tf, inst).dir.clone();
            match env_variable(s, an, inst) {
                Some((env, how)) => out.roots.push(RootEnv {
                    inst,
                    dir,
                    env: Some(env),
                    how,
                }),
                None => pending.push((inst, dir)),
            }
        }
        let mut known: BTreeSet<String> = out.roots.iter().filter_map(|r| r.env.clone()).collect();
        // Folders that name an environment exactly come first, so `dev-rds` can extend `dev`.
        for (_, dir) in &pending {
            if let Some(f) = env_folder(dir)
                && !f.contains(['-', '_'])
            {
                known.insert(f.to_string());
            }
        }
        for (inst, dir) in pending {
            let env = env_folder(&dir).map(|f| {
                if known.contains(f) {
                    return f.to_string();
                }
                known
                    .iter()
                    .filter(|k| {
                        f.strip_prefix(k.as_str())
                            .is_some_and(|rest| rest.starts_with(['-', '_']))
                    })
                    .max_by_key(|k| k.len())
                    .cloned()
                    .unwrap_or_else(|| f.to_string())
            });
            let how = match &env {
                Some(_) => format!("its folder `{dir}`"),
                None => String::new(),
            };
            out.roots.push(RootEnv {
                inst,
                dir,
                env,
                how,
            });
        }
        for (i, r) in out.roots.iter().enumerate() {
            out.by_inst.entry(r.inst).or_insert(i);
        }
        let known: BTreeSet<String> = out.roots.iter().filter_map(|r| r.env.clone()).collect();
        if known.is_empty() {
            return out;
        }
        for (g, _) in model.groups.iter().enumerate() {
            let mut names: BTreeSet<String> = BTreeSet::new();
            for &a in model.apps_in_group(g) {
                let app = model.app(a);
                let mut files: Vec<FileId> = vec![app.file];
                for v in &app.values {
                    if let ValuesOrigin::ValueFile(f) = v.origin {
                        files.push(f);
                    }
                }
                for f in files {
                    let rel = &s.repo.file(f).rel_path;
                    for seg in rel.split('/') {
                        let stem = seg
                            .strip_suffix(".yaml")
                            .or_else(|| seg.strip_suffix(".yml"))
                            .unwrap_or(seg);
                        if known.contains(stem) {
                            names.insert(stem.to_string());
                        }
                    }
                }
            }
            if names.len() == 1
                && let Some(n) = names.into_iter().next()
            {
                out.groups.insert(g, n);
            }
        }
        out
    }

    /// The environment of a root instance.
    pub fn of_root(&self, inst: usize) -> Option<&str> {
        self.by_inst
            .get(&inst)
            .and_then(|&i| self.roots[i].env.as_deref())
    }

    /// The root instances of an environment.
    pub fn roots_of<'a>(&'a self, env: &'a str) -> impl Iterator<Item = &'a RootEnv> + 'a {
        self.roots
            .iter()
            .filter(move |r| r.env.as_deref() == Some(env))
    }

    pub fn of_group(&self, g: GroupId) -> Option<&str> {
        self.groups.get(&g).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_under_envs() {
        assert_eq!(env_folder("envs/dev"), Some("dev"));
        assert_eq!(env_folder("platform/envs/dev-rds"), Some("dev-rds"));
        assert_eq!(env_folder("modules/eks"), None);
    }
}
