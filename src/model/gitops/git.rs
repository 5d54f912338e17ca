//! What the local git metadata says: remote URLs and known revisions.
//!
//! Read as files (`.git/config`, `.git/HEAD`, `.git/refs/**`, `.git/packed-refs`,
//! `.git/shallow`); git itself is never run. A `.git` file (`gitdir: …`, as in worktrees
//! and submodules) is followed, with `commondir` for the shared refs.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// The answer to "does this revision exist?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revision {
    Known,
    Unknown,
    /// The local clone cannot decide; the reason completes "cannot tell because …".
    CannotTell(&'static str),
}

#[derive(Debug, Default, Clone)]
pub struct GitInfo {
    /// Whether git metadata was found at the repository root.
    pub found: bool,
    /// Remote URLs, normalised with [`normalize_url`].
    pub remotes: Vec<String>,
    /// Remote URLs as written in the configuration.
    pub remote_urls: Vec<String>,
    /// Short names of local branches, remote-tracking branches (without the remote) and tags.
    pub names: HashSet<String>,
    /// Full ref names (`refs/heads/main`, …).
    pub refs: HashSet<String>,
    pub has_remote_refs: bool,
    pub shallow: bool,
    /// The clone's remotes are none of the repository URLs the configuration names: its
    /// refs are another repository's.
    pub foreign: bool,
}

/// Read one of git's own files: a regular file (never a FIFO or device a hostile checkout
/// put there), opened without blocking, at most 64 MiB.
fn read_git_file(path: &Path) -> Result<String, crate::safe_fs::Refusal> {
    crate::safe_fs::read_regular_text(path, 64 * 1024 * 1024)
}

impl GitInfo {
    /// Read the git metadata of the repository rooted at `root`.
    pub fn read(root: &Path) -> GitInfo {
        let dot_git = root.join(".git");
        let git_dir = if dot_git.is_dir() {
            dot_git
        } else if let Ok(text) = read_git_file(&dot_git) {
            match text.trim().strip_prefix("gitdir:") {
                Some(p) => {
                    let p = PathBuf::from(p.trim());
                    if p.is_absolute() { p } else { root.join(p) }
                }
                None => return GitInfo::default(),
            }
        } else {
            return GitInfo::default();
        };
        if !git_dir.is_dir() {
            return GitInfo::default();
        }
        let common = match read_git_file(&git_dir.join("commondir")) {
            Ok(c) => {
                let p = PathBuf::from(c.trim());
                if p.is_absolute() { p } else { git_dir.join(p) }
            }
            Err(_) => git_dir.clone(),
        };
        let mut info = GitInfo {
            found: true,
            shallow: common.join("shallow").exists() || git_dir.join("shallow").exists(),
            ..GitInfo::default()
        };
        if let Ok(config) = read_git_file(&common.join("config")) {
            let mut in_remote = false;
            for line in config.lines() {
                let line = line.trim();
                if line.starts_with('[') {
                    in_remote = line.starts_with("[remote ");
                } else if in_remote
                    && let Some((k, v)) = line.split_once('=')
                    && k.trim() == "url"
                {
                    let url = v.trim().trim_matches('"').to_string();
                    info.remotes.push(normalize_url(&url));
                    info.remote_urls.push(url);
                }
            }
        }
        if let Ok(head) = read_git_file(&git_dir.join("HEAD"))
            && let Some(r) = head.trim().strip_prefix("ref:")
        {
            info.add_ref(r.trim());
        }
        let mut stack = vec![(common.join("refs"), "refs".to_string(), 0usize)];
        while let Some((dir, name, depth)) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries.flatten() {
                let Some(file) = e.file_name().to_str().map(str::to_owned) else {
                    continue;
                };
                let full = format!("{name}/{file}");
                match e.file_type() {
                    Ok(t) if t.is_dir() && depth < 32 => stack.push((e.path(), full, depth + 1)),
                    Ok(t) if t.is_file() => info.add_ref(&full),
                    _ => {}
                }
            }
        }
        if let Ok(packed) = read_git_file(&common.join("packed-refs")) {
            for line in packed.lines() {
                if line.starts_with('#') || line.starts_with('^') {
                    continue;
                }
                if let Some((_, r)) = line.split_once(' ') {
                    info.add_ref(r.trim());
                }
            }
        }
        info
    }

    fn add_ref(&mut self, full: &str) {
        let short = if let Some(b) = full.strip_prefix("refs/heads/") {
            Some(b.to_string())
        } else if let Some(r) = full.strip_prefix("refs/remotes/") {
            self.has_remote_refs = true;
            r.split_once('/')
                .map(|(_, b)| b.to_string())
                .filter(|b| b != "HEAD")
        } else {
            full.strip_prefix("refs/tags/").map(str::to_string)
        };
        if let Some(s) = short {
            self.names.insert(s);
        }
        self.refs.insert(full.to_string());
    }

    /// Whether `rev` names a revision of this repository.
    pub fn revision(&self, rev: &str) -> Revision {
        let rev = rev.trim();
        if rev.is_empty() || rev == "HEAD" || is_commit_like(rev) {
            return Revision::Known;
        }
        if self.names.contains(rev) || self.refs.contains(rev) {
            return Revision::Known;
        }
        if !self.found {
            return Revision::CannotTell(
                "the checked folder holds no git metadata (`.git`) to read branches and tags from",
            );
        }
        if self.foreign {
            return Revision::CannotTell(
                "the clone's remotes are not the repository named in `[gitops] repo_urls`",
            );
        }
        if self.shallow {
            return Revision::CannotTell(
                "the clone is shallow (`.git/shallow`), so it does not hold every branch and tag",
            );
        }
        if !self.has_remote_refs {
            return Revision::CannotTell(
                "the clone has no remote-tracking branches, so the remote's branches are unknown",
            );
        }
        Revision::Unknown
    }

    /// Known branch and tag names closest to `rev`, for a hint.
    pub fn similar(&self, rev: &str) -> Vec<String> {
        let mut v: Vec<&String> = self.names.iter().collect();
        v.sort();
        let lower = rev.to_lowercase();
        let mut close: Vec<String> = v
            .iter()
            .filter(|n| {
                let n = n.to_lowercase();
                n.contains(&lower) || lower.contains(&n) || edit_distance(&n, &lower) <= 2
            })
            .map(|s| s.to_string())
            .collect();
        if close.is_empty() {
            close = v.iter().take(5).map(|s| s.to_string()).collect();
        }
        close
    }
}

/// A 7–40 digit hex string: a commit that cannot be disproved from refs alone.
fn is_commit_like(s: &str) -> bool {
    (7..=40).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// `git@github.com:o/r.git`, `ssh://git@github.com/o/r`, `https://user@github.com/o/r.git/`
/// all become `github.com/o/r`.
pub fn normalize_url(url: &str) -> String {
    let mut u = url.trim().to_lowercase();
    if let Some((_, rest)) = u.split_once("://") {
        u = rest.to_string();
    } else if let Some((user_host, path)) = u.split_once(':')
        && !user_host.contains('/')
    {
        u = format!("{user_host}/{path}");
    }
    if let Some((userinfo, rest)) = u.split_once('@')
        && !userinfo.contains('/')
    {
        u = rest.to_string();
    }
    let u = u.trim_end_matches('/');
    let u = u.strip_suffix(".git").unwrap_or(u);
    u.trim_end_matches('/').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_normalise_across_ssh_and_https() {
        let want = "github.com/o/r";
        for u in [
            "git@github.com:o/r.git",
            "https://github.com/o/r",
            "https://github.com/o/r.git",
            "https://github.com/O/r.git/",
            "ssh://git@github.com/o/r.git",
            "https://token@github.com/o/r",
        ] {
            assert_eq!(normalize_url(u), want, "{u}");
        }
    }

    #[test]
    fn refs_are_read_from_files_and_packed_refs() {
        let dir = tempfile::tempdir().unwrap();
        let g = dir.path().join(".git");
        std::fs::create_dir_all(g.join("refs/heads")).unwrap();
        std::fs::create_dir_all(g.join("refs/remotes/origin")).unwrap();
        std::fs::write(g.join("HEAD"), "ref: refs/heads/main\n").unwrap();
        std::fs::write(g.join("refs/remotes/origin/development"), "0\n").unwrap();
        std::fs::write(
            g.join("packed-refs"),
            "# pack-refs with: peeled\nabc refs/tags/v1.2.0\n^def\n",
        )
        .unwrap();
        std::fs::write(
            g.join("config"),
            "[core]\n\tbare = false\n[remote \"origin\"]\n\turl = git@github.com:acme/infra.git\n",
        )
        .unwrap();
        let info = GitInfo::read(dir.path());
        assert_eq!(info.remotes, ["github.com/acme/infra"]);
        assert_eq!(info.revision("main"), Revision::Known);
        assert_eq!(info.revision("development"), Revision::Known);
        assert_eq!(info.revision("v1.2.0"), Revision::Known);
        assert_eq!(info.revision("deadbeef"), Revision::Known);
        assert_eq!(info.revision("develop"), Revision::Unknown);
        std::fs::write(g.join("shallow"), "abc\n").unwrap();
        let info = GitInfo::read(dir.path());
        assert!(matches!(info.revision("develop"), Revision::CannotTell(_)));
    }
}
