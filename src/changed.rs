//! `--changed [REF]`: the files changed since REF, so that only the Terraform roots and
//! Applications they touch are checked (rules still see the whole repository).
//!
//! Without REF: the staged files inside a pre-commit run (`PRE_COMMIT` is set), else the
//! changes since the merge base with the default branch (`origin/HEAD`, else `main`, else
//! `master`). Changes include uncommitted edits and untracked files git does not ignore.

use std::path::Path;

fn git(root: &Path, args: &[&str]) -> Result<String, String> {
    crate::discover::git(root, args).map(|out| String::from_utf8_lossy(&out).into_owned())
}

/// The first line of a git error, without the command line.
fn first_line(e: &str) -> String {
    let e = e.split_once(" failed: ").map_or(e, |(_, rest)| rest);
    e.lines().next().unwrap_or("git failed").to_string()
}

fn split_z(s: &str) -> impl Iterator<Item = String> + '_ {
    s.split('\0').filter(|p| !p.is_empty()).map(str::to_owned)
}

/// The commit `--changed REF` names, as a full object name, so that nothing the user (or a
/// script that builds the command line from branch names) typed reaches git as an option:
/// a ref is never empty, never starts with `-`, holds no control character or space, and
/// must name a commit.
pub fn resolve_ref(root: &Path, reference: &str) -> Result<String, String> {
    if reference.is_empty()
        || reference.starts_with('-')
        || reference.len() > 1024
        || reference
            .chars()
            .any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(format!(
            "`{}` is not a git reference",
            reference.escape_debug()
        ));
    }
    let out = git(
        root,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            &format!("{reference}^{{commit}}"),
        ],
    )
    .map_err(|_| format!("`{reference}` names no commit of this repository"))?;
    let sha = out.trim();
    if sha.is_empty() || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("`{reference}` names no commit of this repository"));
    }
    Ok(sha.to_string())
}

/// The default base: the merge base of HEAD and the default branch.
fn default_base(root: &Path) -> Result<String, String> {
    let candidates = [
        "origin/HEAD",
        "origin/main",
        "origin/master",
        "main",
        "master",
    ];
    for c in candidates {
        if git(root, &["rev-parse", "--verify", "--quiet", c]).is_ok()
            && let Ok(base) = git(root, &["merge-base", "HEAD", c])
        {
            return Ok(base.trim().to_string());
        }
    }
    Err("cannot find the default branch to compare with (tried origin/HEAD, origin/main, origin/master, main, master); name one: --changed REF".into())
}

/// Changed files relative to `root` (the git work tree may be larger than the root).
/// Errors are one line that says what is wrong, never git's own usage text.
pub fn changed_files(root: &Path, reference: Option<&str>) -> Result<Vec<String>, String> {
    if git(root, &["rev-parse", "--is-inside-work-tree"]).is_err() {
        return Err(format!(
            "{} is not in a git work tree, so there is nothing to compare with; drop --changed",
            root.display()
        ));
    }
    if let Some(r) = reference
        && git(
            root,
            &[
                "rev-parse",
                "--verify",
                "--quiet",
                &format!("{r}^{{commit}}"),
            ],
        )
        .is_err()
    {
        return Err(format!(
            "`{r}` is not a branch, tag or commit of this repository (a shallow clone may lack it: fetch it first)"
        ));
    }
    let mut files: Vec<String> = Vec::new();
    let in_pre_commit = std::env::var_os("PRE_COMMIT").is_some();
    match reference {
        None if in_pre_commit => {
            files.extend(split_z(&git(
                root,
                &[
                    "diff",
                    "--cached",
                    "--name-only",
                    "-z",
                    "--diff-filter=d",
                    "--relative",
                    "--no-ext-diff",
                    "--no-textconv",
                    "--",
                ],
            )?));
        }
        _ => {
            let base = match reference {
                Some(r) => resolve_ref(root, r)?,
                None => default_base(root)?,
            };
            files.extend(split_z(
                &git(
                    root,
                    &[
                        "diff",
                        "--name-only",
                        "-z",
                        "--diff-filter=d",
                        "--relative",
                        "--no-ext-diff",
                        "--no-textconv",
                        &base,
                        "--",
                    ],
                )
                .map_err(|e| first_line(&e))?,
            ));
            files.extend(split_z(&git(
                root,
                &["ls-files", "-z", "--others", "--exclude-standard", "--"],
            )?));
        }
    }
    files.sort();
    files.dedup();
    files.retain(|f| root.join(f).is_file());
    Ok(files)
}
