//! Inline suppressions: `# preflight:ignore RULE[, RULE] -- reason` (or `//` in HCL) on the
//! line above a block, attribute or YAML key, or at the end of its first line. It silences
//! those rules for that whole construct.

use crate::diagnostic::Finding;
use crate::repo::Repository;
use crate::source::{FileKind, Span};
use rayon::prelude::*;

const MARKER: &str = "preflight:ignore";

#[derive(Debug, Clone)]
pub struct Suppression {
    /// The comment.
    pub span: Span,
    pub rules: Vec<String>,
    pub reason: Option<String>,
    /// 1-based inclusive line range the suppression covers.
    pub first_line: usize,
    pub last_line: usize,
}

/// Every suppression comment in the repository.
pub fn collect(repo: &Repository) -> Vec<Suppression> {
    repo.files
        .par_iter()
        .zip(repo.syntax.par_iter())
        .flat_map_iter(|(file, syntax)| {
            if !file.text.contains(MARKER) {
                return Vec::new();
            }
            let hcl = matches!(file.kind, FileKind::Terraform | FileKind::TerraformVars);
            let ranges = syntax.construct_ranges();
            // Line → the last line of the largest construct starting on it.
            let mut extent: std::collections::HashMap<usize, usize> =
                std::collections::HashMap::new();
            for r in &ranges {
                let (first, last) = (
                    file.lines().line_of(r.start),
                    file.lines().line_of(r.end.saturating_sub(1).max(r.start)),
                );
                let e = extent.entry(first).or_insert(last);
                *e = (*e).max(last);
            }
            let mut out = Vec::new();
            for line_no in 1..=file.lines().line_count() {
                let line = file.line_text(line_no);
                let Some(pos) = line.find(MARKER) else {
                    continue;
                };
                let before = line[..pos].trim_end();
                let comment_start = if let Some(b) = before.strip_suffix('#') {
                    b.len()
                } else if hcl && before.ends_with("//") {
                    before.len() - 2
                } else {
                    continue;
                };
                let code_before = !line[..comment_start].trim().is_empty();
                let spec = &line[pos + MARKER.len()..];
                let (rules_part, reason) = match spec.split_once("--") {
                    Some((r, why)) => (r, Some(why.trim().to_string()).filter(|s| !s.is_empty())),
                    None => (spec, None),
                };
                let rules: Vec<String> = rules_part
                    .split([',', ' ', '\t'])
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect();
                let (first_line, last_line) = if code_before {
                    (line_no, extent.get(&line_no).copied().unwrap_or(line_no))
                } else {
                    // The next line that is neither blank nor a comment.
                    let target = (line_no + 1..=file.lines().line_count()).find(|&l| {
                        let t = file.line_text(l).trim_start();
                        !(t.is_empty() || t.starts_with('#') || (hcl && t.starts_with("//")))
                    });
                    match target {
                        Some(t) => (t, extent.get(&t).copied().unwrap_or(t)),
                        None => (line_no, line_no),
                    }
                };
                let start = file.line_start(line_no) + comment_start;
                let end = file.line_start(line_no) + line.len();
                out.push(Suppression {
                    span: file.span(start..end),
                    rules,
                    reason,
                    first_line,
                    last_line,
                });
            }
            out
        })
        .collect()
}

/// Drop suppressed findings. Returns, per suppression, whether it silenced anything.
pub fn apply(
    repo: &Repository,
    findings: &mut Vec<Finding>,
    suppressions: &[Suppression],
) -> Vec<bool> {
    let mut used = vec![false; suppressions.len()];
    if suppressions.is_empty() {
        return used;
    }
    let mut by_file: std::collections::HashMap<_, Vec<usize>> = std::collections::HashMap::new();
    for (i, s) in suppressions.iter().enumerate() {
        by_file.entry(s.span.file).or_default().push(i);
    }
    findings.retain(|f| {
        let Some(candidates) = by_file.get(&f.span.file) else {
            return true;
        };
        let line = repo
            .file(f.span.file)
            .lines()
            .line_of(f.span.start as usize);
        let mut keep = true;
        for &i in candidates {
            let s = &suppressions[i];
            if s.rules.iter().any(|r| r == f.rule) && (s.first_line..=s.last_line).contains(&line) {
                used[i] = true;
                keep = false;
            }
        }
        keep
    });
    used
}
