//! Which files make up the repository, and where its root is.
//!
//! The repository root is the nearest folder, from the named paths upwards, that holds
//! `.git` or `preflight.toml` (so a platform folder with its own `preflight.toml` inside a
//! larger monorepo is checked on its own); failing both, the deepest folder that holds every
//! named path (never the current directory as such: where preflight runs from does not
//! change what it reads).
//!
//! Inside git, the files are those git tracks plus untracked files git does not ignore: a
//! committed `terraform.tfvars` that `.gitignore` names is still part of the repository.
//! Outside git, every file. `.git/` and `.terraform/` are never read.

use globset::{Glob, GlobSet, GlobSetBuilder};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Find the repository root for the given paths (absolute, canonical).
pub fn find_root(paths: &[PathBuf], cwd: &Path) -> PathBuf {
    let dirs: Vec<PathBuf> = if paths.is_empty() {
        vec![cwd.to_path_buf()]
    } else {
        paths
            .iter()
            .map(|p| {
                if p.is_file() {
                    p.parent()
                        .map(Path::to_path_buf)
                        .unwrap_or_else(|| p.clone())
                } else {
                    p.clone()
                }
            })
            .collect()
    };
    let start = &dirs[0];
    let mut dir = Some(start.as_path());
    while let Some(d) = dir {
        if d.join(".git").exists() || d.join(crate::config::FILE_NAME).is_file() {
            return d.to_path_buf();
        }
        dir = d.parent();
    }
    common_ancestor(&dirs)
}

/// The deepest folder that holds every one of `dirs`.
fn common_ancestor(dirs: &[PathBuf]) -> PathBuf {
    let mut common = dirs[0].clone();
    for d in &dirs[1..] {
        while !d.starts_with(&common) {
            if !common.pop() {
                break;
            }
        }
    }
    common
}

/// The root's folder relative to the top of its git work tree (`""` when the root is the
/// top, or is not in a git work tree), with `/` separators and no trailing `/`.
pub fn worktree_prefix(root: &Path) -> String {
    git(root, &["rev-parse", "--show-prefix"])
        .ok()
        .and_then(|out| String::from_utf8(out).ok())
        .map(|p| p.trim().trim_end_matches('/').to_string())
        .unwrap_or_default()
}

/// How the file list was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    Git,
    Walk,
}

/// List the repository's files, relative to `root`, with `/` separators, sorted.
pub fn list_files(root: &Path) -> (Vec<String>, Listing) {
    list_files_each(root, &mut |_| {})
}

/// [`list_files`], telling `seen` of each path as it is found, so that the files can be
/// read while the listing goes on. `seen` may hear of a path twice, or of one the final
/// listing leaves out (git listed part of the tree, then failed, and the folder was
/// walked): the returned listing is what counts.
pub fn list_files_each(root: &Path, seen: &mut dyn FnMut(&str)) -> (Vec<String>, Listing) {
    if let Some(files) = git_files(root, seen) {
        return (files, Listing::Git);
    }
    (walk_files(root, seen), Listing::Walk)
}

/// Settings that stop a checkout's own git configuration from running a program: no
/// fsmonitor hook, no hooks at all, no external diff or pager, no credential helper.
const GIT_SAFE: &[&str] = &[
    "-c",
    "core.fsmonitor=false",
    "-c",
    "core.untrackedCache=false",
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "diff.external=",
    "-c",
    "core.askPass=",
    "-c",
    "core.pager=cat",
    "-c",
    "credential.helper=",
    "-c",
    "core.sshCommand=false",
    "-c",
    "protocol.allow=never",
];

fn git_command(root: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.arg("--no-pager")
        .arg("-C")
        .arg(root)
        .args(GIT_SAFE)
        .env("GIT_OPTIONAL_LOCKS", "0")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_PAGER", "cat")
        .env_remove("GIT_EXTERNAL_DIFF")
        .env_remove("GIT_CONFIG_PARAMETERS")
        .stdin(std::process::Stdio::null());
    cmd
}

/// `-c` settings that switch off every clean/smudge/process filter driver and every diff
/// driver's command or textconv the repository's configuration defines (comparing the
/// work tree with the index can run a clean filter). Reading the configuration runs
/// nothing. Fails when a driver's name cannot be written as a `-c` key.
fn driver_overrides(root: &Path) -> Result<Vec<String>, String> {
    let out = git_command(root)
        .args([
            "config",
            "--null",
            "--name-only",
            "--get-regexp",
            r"^(filter|diff)\..*\.(clean|smudge|process|command|textconv)$",
        ])
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    let mut overrides = Vec::new();
    for key in out.stdout.split(|&b| b == 0).filter(|k| !k.is_empty()) {
        let key = std::str::from_utf8(key)
            .ok()
            .filter(|k| !k.contains('=') && !k.contains('\n'))
            .ok_or("the git configuration names a filter or diff driver preflight cannot switch off; refusing to run git")?;
        overrides.push("-c".to_string());
        overrides.push(format!("{key}="));
        // A required filter with no command would make git fail instead.
        if let Some(rest) = key.strip_prefix("filter.")
            && let Some((name, _)) = rest.rsplit_once('.')
        {
            overrides.push("-c".to_string());
            overrides.push(format!("filter.{name}.required=false"));
        }
    }
    Ok(overrides)
}

/// git in `root` with every setting of the repository's own that could run a program
/// switched off ([`GIT_SAFE`], filter and diff drivers), without taking optional locks.
/// Every git call of preflight starts here.
fn safe_git(root: &Path) -> Result<Command, String> {
    let overrides = driver_overrides(root)?;
    let mut cmd = git_command(root);
    cmd.args(&overrides);
    Ok(cmd)
}

/// Run [`safe_git`] with `args`. Returns standard output, or git's error message.
pub(crate) fn git(root: &Path, args: &[&str]) -> Result<Vec<u8>, String> {
    let out = safe_git(root)?
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(out.stdout)
}

fn git_files(root: &Path, seen: &mut dyn FnMut(&str)) -> Option<Vec<String>> {
    use std::io::BufRead as _;
    // Fails outside a work tree: the caller then walks the folder. The output is read as
    // it comes, so that the files named first are read while git goes on.
    let mut child = safe_git(root)
        .ok()?
        .args([
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
            "--deduplicate",
            "--",
            ".",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    let mut stdout = std::io::BufReader::with_capacity(64 * 1024, child.stdout.take()?);
    let mut files: Vec<String> = Vec::new();
    let mut path: Vec<u8> = Vec::new();
    loop {
        path.clear();
        match stdout.read_until(0, &mut path) {
            Ok(0) => break,
            Ok(_) => {}
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
        let name = path.strip_suffix(&[0]).unwrap_or(&path);
        if let Ok(p) = std::str::from_utf8(name)
            && !p.is_empty()
            && !is_never_read(p)
        {
            seen(p);
            files.push(p.to_owned());
        }
    }
    drop(stdout);
    if !child.wait().ok()?.success() {
        return None;
    }
    files.sort();
    files.dedup();
    Some(files)
}

fn walk_files(root: &Path, seen: &mut dyn FnMut(&str)) -> Vec<String> {
    let mut files = Vec::new();
    let walker = ignore::WalkBuilder::new(root)
        .standard_filters(false)
        .hidden(false)
        .follow_links(false)
        .filter_entry(|e| {
            let name = e.file_name();
            name != ".git" && name != ".terraform"
        })
        .build();
    for entry in walker.flatten() {
        if entry
            .file_type()
            .is_some_and(|t| t.is_file() || t.is_symlink())
            && let Ok(rel) = entry.path().strip_prefix(root)
            && let Some(s) = rel.to_str()
        {
            let s = s.replace('\\', "/");
            seen(&s);
            files.push(s);
        }
    }
    files.sort();
    files
}

fn is_never_read(rel: &str) -> bool {
    rel.split('/')
        .any(|seg| seg == ".git" || seg == ".terraform")
}

/// Exclusion globs from the configuration and the command line.
pub struct Excludes {
    set: GlobSet,
}

impl Excludes {
    pub fn new(globs: &[String]) -> Result<Excludes, String> {
        let mut b = GlobSetBuilder::new();
        for g in globs {
            let glob = Glob::new(g).map_err(|e| format!("bad exclude glob `{g}`: {e}"))?;
            b.add(glob);
            // `dir` or `dir/` excludes everything below it too.
            let trimmed = g.trim_end_matches('/');
            if !trimmed.contains('*') {
                b.add(Glob::new(&format!("{trimmed}/**")).map_err(|e| e.to_string())?);
            }
        }
        Ok(Excludes {
            set: b.build().map_err(|e| e.to_string())?,
        })
    }

    pub fn is_excluded(&self, rel: &str) -> bool {
        self.set.is_match(rel)
    }
}

/// Helm chart templates are not manifests: `templates/` beside a `Chart.yaml`, and `*.tpl`.
pub fn is_helm_template<S: std::hash::BuildHasher>(
    rel: &str,
    files: &std::collections::HashSet<&str, S>,
) -> bool {
    if rel.ends_with(".tpl") {
        return true;
    }
    let mut parts: Vec<&str> = rel.split('/').collect();
    parts.pop();
    while let Some(seg) = parts.pop() {
        if seg == "templates" {
            let chart_dir = parts.join("/");
            let chart = if chart_dir.is_empty() {
                "Chart.yaml".to_string()
            } else {
                format!("{chart_dir}/Chart.yaml")
            };
            if files.contains(chart.as_str()) {
                return true;
            }
        }
    }
    false
}

/// Whether [`is_helm_template`] may say yes, from the path alone: a `*.tpl`, or a file
/// somewhere below a folder named `templates`.
pub fn may_be_helm_template(rel: &str) -> bool {
    rel.ends_with(".tpl")
        || rel
            .rsplit_once('/')
            .is_some_and(|(dir, _)| dir.split('/').any(|s| s == "templates"))
}

/// Whether a chart template file is template text Helm parses (manifests, helpers, notes),
/// not a binary or an unrelated file kept beside them.
pub fn is_template_text(rel: &str) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    [".yaml", ".yml", ".tpl", ".json", ".txt"]
        .iter()
        .any(|e| name.ends_with(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helm_templates_are_recognised_by_their_chart() {
        let files: std::collections::HashSet<&str> = [
            "charts/app/Chart.yaml",
            "charts/app/templates/deploy.yaml",
            "k8s/templates/x.yaml",
        ]
        .into();
        assert!(is_helm_template("charts/app/templates/deploy.yaml", &files));
        assert!(is_helm_template("charts/app/templates/sub/x.yaml", &files));
        assert!(!is_helm_template("k8s/templates/x.yaml", &files));
        assert!(is_helm_template("charts/_helpers.tpl", &files));
    }

    #[test]
    fn excludes_match_directories_and_globs() {
        let ex = Excludes::new(&["vendor".into(), "**/*.generated.yaml".into()]).unwrap();
        assert!(ex.is_excluded("vendor/a/b.tf"));
        assert!(ex.is_excluded("x/y.generated.yaml"));
        assert!(!ex.is_excluded("envs/dev/main.tf"));
    }

    #[test]
    fn without_a_marker_the_root_is_the_common_ancestor_of_the_paths() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(base.join("a/x")).unwrap();
        std::fs::create_dir_all(base.join("a/y")).unwrap();
        std::fs::write(base.join("a/y/main.tf"), "").unwrap();
        let elsewhere = Path::new("/");
        assert_eq!(
            find_root(&[base.join("a/x"), base.join("a/y/main.tf")], elsewhere),
            base.join("a")
        );
        assert_eq!(find_root(&[base.join("a/x")], elsewhere), base.join("a/x"));
    }

    #[test]
    fn never_reads_git_or_terraform_dirs() {
        assert!(is_never_read("envs/dev/.terraform/modules/x/main.tf"));
        assert!(!is_never_read("envs/dev/main.tf"));
    }
}
