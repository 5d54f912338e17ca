//! `preflight init`: a commented `preflight.toml` with what can be read off the repository
//! (the passes of a staged bootstrap, the documented CI policy, the repository's URL), and
//! the other sections as commented templates.

use crate::engine::{self, CheckOptions};
use crate::model::terraform::module::BlockKind;
use crate::model::workspace::Workspace;
use std::collections::BTreeSet;
use std::fmt::Write;

/// What `init` could infer.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Inferred {
    /// Root variables (`var.NAME`) that gate data sources: the switch of a two-pass
    /// bootstrap.
    pub pass_switches: Vec<String>,
    /// JSON files of the repository that hold an IAM policy document.
    pub policies: Vec<String>,
    /// The repository's remote URLs.
    pub repo_urls: Vec<String>,
}

pub fn infer(session: &Workspace) -> Inferred {
    let mut out = Inferred::default();
    let tf = session.terraform();
    let an = session.terraform_analysis();
    let mut switches = BTreeSet::new();
    for &root in &an.roots {
        let module = an.module(tf, root);
        let declared: BTreeSet<&str> = module.variables().map(|v| v.name.as_str()).collect();
        for at in an.blocks_of_root(tf, root) {
            if an.module(tf, at.inst).blocks[at.block].kind != BlockKind::Data {
                continue;
            }
            for t in an.terms(session, at) {
                let name = t
                    .qualified
                    .strip_prefix("var.")
                    .or_else(|| t.qualified.strip_prefix("!var."));
                if let Some(n) = name
                    && declared.contains(n)
                {
                    switches.insert(n.to_string());
                }
            }
        }
    }
    out.pass_switches = switches.into_iter().collect();
    for f in &session.repo.files {
        if crate::model::iam::policy_in_file(&session.repo, f.id).is_some() {
            out.policies.push(f.rel_path.clone());
        }
    }
    // The documented CI policy first: a name that says CI, GitHub or Terraform.
    out.policies.sort_by_key(|p| {
        let l = p.to_lowercase();
        (
            !["ci", "github", "terraform"].iter().any(|w| l.contains(w)),
            p.clone(),
        )
    });
    let git = crate::model::gitops::git::GitInfo::read(&session.repo.root);
    out.repo_urls = git.remote_urls;
    out
}

fn quote(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// The text of the configuration file.
pub fn render(inferred: &Inferred) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# preflight.toml, written by `preflight init`. Every key is described in the README\n\
         # (\"Configuration\"); an unknown key or a bad value is an error that names its line.\n\n\
         # Globs relative to this folder that are never read; --exclude adds more.\n\
         # exclude = [\"vendor/**\"]\n"
    );
    if inferred.pass_switches.is_empty() {
        let _ = writeln!(
            s,
            "# Staged applies of one root (a two-pass bootstrap): pass name = variable overrides.\n\
             # No data source is gated by a root variable, so no passes were inferred.\n\
             # [terraform.passes]\n\
             # pass1 = {{ enable_k8s_resources = false }}\n\
             # pass2 = {{ enable_k8s_resources = true }}\n"
        );
    } else {
        let _ = writeln!(
            s,
            "# Staged applies of one root (a two-pass bootstrap). Inferred from the variables\n\
             # that gate data sources: {}. Check that the passes match how the root is applied.\n\
             [terraform.passes]",
            inferred
                .pass_switches
                .iter()
                .map(|v| format!("var.{v}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let with = |b: bool| {
            inferred
                .pass_switches
                .iter()
                .map(|v| format!("{v} = {b}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let _ = writeln!(
            s,
            "pass1 = {{ {} }}\npass2 = {{ {} }}\n",
            with(false),
            with(true)
        );
    }
    let _ = writeln!(
        s,
        "[gitops]\n# The URLs that mean \"this repository\" in Application sources."
    );
    if inferred.repo_urls.is_empty() {
        let _ = writeln!(
            s,
            "# repo_urls = [\"https://github.com/your-org/platform.git\"]"
        );
    } else {
        let urls: Vec<String> = inferred.repo_urls.iter().map(|u| quote(u)).collect();
        let _ = writeln!(s, "repo_urls = [{}]", urls.join(", "));
    }
    let _ = writeln!(
        s,
        "\n# Objects created outside the repository, by kind.\n\
         # [gitops.provided]\n\
         # ClusterIssuer = [\"letsencrypt-prod\"]\n\
         # Namespace = [\"monitoring\"]\n"
    );
    match inferred.policies.first() {
        Some(p) => {
            let _ = writeln!(
                s,
                "# The documented CI policy (ci-policy-gap; ci-role-drift with --aws). Found {} IAM\n\
                 # policy file(s); this one looks like the CI policy.\n\
                 [iam]\n\
                 ci_policy = {}\n\
                 # ci_role = \"github-actions-terraform\"   # the live role, for --aws\n\
                 # account_id = \"123456789012\"\n\
                 # region = \"eu-west-2\"\n",
                inferred.policies.len(),
                quote(p)
            );
        }
        None => {
            let _ = writeln!(
                s,
                "# The documented CI policy: no JSON file holds an IAM policy document.\n\
                 # [iam]\n\
                 # ci_policy = \"docs/policies/ci.json\"\n\
                 # ci_role = \"github-actions-terraform\"\n"
            );
        }
    }
    let _ = writeln!(
        s,
        "# How the teardown scripts discover resources (teardown-coverage): the name globs\n\
         # and tags they search by. Not inferred: copy them from the scripts.\n\
         # [teardown]\n\
         # name_patterns = [\"myplatform-dev-*\"]\n\
         # required_tags = [\"Environment\"]"
    );
    s
}

/// Infer and render the configuration for the repository at `path`.
pub fn generate(path: std::path::PathBuf) -> Result<String, engine::EngineError> {
    let session = engine::open(CheckOptions {
        paths: vec![path],
        ..Default::default()
    })?;
    Ok(render(&infer(&session)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rendered_file_parses_with_and_without_inferences() {
        for inferred in [
            Inferred::default(),
            Inferred {
                pass_switches: vec!["enable_k8s".into()],
                policies: vec!["docs/ci.json".into()],
                repo_urls: vec!["https://github.com/acme/infra.git".into()],
            },
        ] {
            let text = render(&inferred);
            let c = crate::config::Config::parse(&text, std::path::Path::new("preflight.toml"))
                .unwrap_or_else(|e| panic!("{e}\n{text}"));
            assert_eq!(c.terraform.passes.len(), inferred.pass_switches.len() * 2);
            assert_eq!(
                c.iam.ci_policy.as_deref(),
                inferred.policies.first().map(String::as_str)
            );
        }
    }
}
