//! Test support: run the real engine over a small file tree and compare exact findings.

use crate::diagnostic::{Finding, Severity};
use crate::engine::{self, CheckOptions};
use std::path::Path;

/// A finding as a test sees it.
#[derive(Debug, Clone)]
pub struct Reported {
    pub rule: &'static str,
    pub file: String,
    pub line: usize,
    pub severity: Severity,
    pub message: String,
    pub help: String,
    pub finding: Finding,
}

/// A repository loaded from a small file tree written to a fresh temporary folder (kept
/// alive by the returned handle), with no exclusions: for models' own tests.
pub fn load_repo(files: &[(&str, &str)]) -> (tempfile::TempDir, crate::repo::Repository) {
    load_repo_excluding(files, &[])
}

/// [`load_repo`] with exclusion globs.
pub fn load_repo_excluding(
    files: &[(&str, &str)],
    excludes: &[String],
) -> (tempfile::TempDir, crate::repo::Repository) {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), files);
    let ex = crate::discover::Excludes::new(excludes).unwrap();
    let repo = crate::repo::Repository::load(
        dir.path(),
        &crate::repo::LoadOptions {
            excludes: &ex,
            max_file_bytes: 1 << 20,
        },
    );
    (dir, repo)
}

/// Fail the test unless `rule` is the id of a rule preflight has: a misspelt id would
/// otherwise match no finding and a test expecting none would pass.
#[track_caller]
pub fn known_rule(rule: &str) {
    if crate::rules::find(rule).is_none() {
        let known: Vec<&str> = crate::rules::all().iter().map(|r| r.meta().id).collect();
        panic!(
            "unknown rule `{rule}`{}",
            crate::suggest::did_you_mean(rule, known)
        );
    }
}

/// Write `files` into a fresh directory (with an empty `preflight.toml` unless one is
/// given), check it with every rule, and return the findings of `rule` (which must exist).
#[track_caller]
pub fn check_rule(rule: &str, files: &[(&str, &str)]) -> Vec<Reported> {
    known_rule(rule);
    check_tree(files, &[], CheckOptions::default())
        .into_iter()
        .filter(|r| r.rule == rule)
        .collect()
}

/// Write `files`, check `paths` (relative to the tree; the whole tree when empty).
pub fn check_tree(
    files: &[(&str, &str)],
    paths: &[&str],
    mut options: CheckOptions,
) -> Vec<Reported> {
    let dir = tempfile::tempdir().expect("temp dir");
    write_tree(dir.path(), files);
    options.paths = if paths.is_empty() {
        vec![dir.path().to_path_buf()]
    } else {
        paths.iter().map(|p| dir.path().join(p)).collect()
    };
    check_dir(options)
}

pub fn write_tree(root: &Path, files: &[(&str, &str)]) {
    if !files.iter().any(|(p, _)| *p == crate::config::FILE_NAME) {
        std::fs::write(root.join(crate::config::FILE_NAME), "").expect("write config");
    }
    for (path, text) in files {
        let p = root.join(path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, text).expect("write");
    }
}

/// Check with the given options and flatten the findings.
pub fn check_dir(options: CheckOptions) -> Vec<Reported> {
    let outcome = engine::check(options).expect("check runs");
    outcome
        .findings
        .iter()
        .map(|f| {
            let file = outcome.session.repo.file(f.span.file);
            Reported {
                rule: f.rule,
                file: file.rel_path.clone(),
                line: file.line_col(f.span.start as usize).0,
                severity: f.severity,
                message: f.message.clone(),
                help: f.help.clone(),
                finding: f.clone(),
            }
        })
        .collect()
}

/// Assert the exact set of (rule, file, line), in any order (every rule named must exist).
#[track_caller]
pub fn expect(found: &[Reported], expected: &[(&str, &str, usize)]) {
    for (rule, _, _) in expected {
        known_rule(rule);
    }
    let mut got: Vec<(&str, &str, usize)> = found
        .iter()
        .map(|r| (r.rule, r.file.as_str(), r.line))
        .collect();
    let mut want = expected.to_vec();
    got.sort();
    want.sort();
    assert_eq!(
        got,
        want,
        "findings differ; messages:\n{}",
        found
            .iter()
            .map(|r| format!("  {}:{} [{}] {}", r.file, r.line, r.rule, r.message))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[cfg(test)]
mod tests {
    #[test]
    #[should_panic(expected = "unknown rule `undeployed-isuer`; did you mean `undeployed-issuer`?")]
    fn a_misspelt_rule_id_fails_the_test() {
        super::check_rule("undeployed-isuer", &[("main.tf", "locals {}\n")]);
    }

    #[test]
    #[should_panic(expected = "unknown rule `parse-eror`")]
    fn an_expected_finding_of_no_rule_fails_the_test() {
        super::expect(&[], &[("parse-eror", "main.tf", 1)]);
    }
}
