//! `--fix`: apply the findings' safe fixes as text splices at their byte spans.
//!
//! Files are never re-serialised (that would turn CRLF into LF, re-indent heredocs and
//! drop formatting); each edit replaces exactly its span. Overlapping edits in one file
//! keep the first and skip the rest (a second run applies them).

use crate::diagnostic::{Edit, Finding};
use crate::repo::Repository;
use crate::source::FileId;
use std::collections::BTreeMap;

/// The new text of every file that the fixes change.
pub struct FixPlan {
    pub files: Vec<FixedFile>,
    /// Findings whose fix was not applied because it overlapped another.
    pub skipped: usize,
    /// Files with fixes that are not written, and why: a symbolic link (even one inside
    /// the repository: its target may be shared), or in a folder that leads outside it.
    pub refused: Vec<String>,
}

pub struct FixedFile {
    pub file: FileId,
    pub rel_path: String,
    pub before: String,
    pub after: String,
    /// How many findings' fixes went into this file.
    pub fixes: usize,
}

pub fn plan(repo: &Repository, findings: &[Finding]) -> FixPlan {
    let mut by_file: BTreeMap<FileId, Vec<(usize, &Edit)>> = BTreeMap::new();
    for (i, f) in findings.iter().enumerate() {
        if f.applicability != crate::diagnostic::Applicability::Safe {
            continue;
        }
        for e in &f.fix {
            by_file.entry(e.span.file).or_default().push((i, e));
        }
    }
    let mut files = Vec::new();
    let mut refused = Vec::new();
    let mut skipped_findings = std::collections::HashSet::new();
    let root = repo
        .root
        .canonicalize()
        .unwrap_or_else(|_| repo.root.clone());
    for (file_id, mut edits) in by_file {
        let file = repo.file(file_id);
        if let Some(why) = crate::safe_fs::write_refusal(&root, &repo.abs_path(file_id)) {
            refused.push(format!("{}: {why}", file.rel_path));
            continue;
        }
        edits.sort_by_key(|(i, e)| (e.span.start, e.span.end, *i));
        // Keep non-overlapping edits, whole findings at a time.
        let mut taken: Vec<(usize, &Edit)> = Vec::new();
        let mut twins: Vec<(usize, &Edit)> = Vec::new();
        let mut last_end = 0u32;
        for (i, e) in edits {
            if skipped_findings.contains(&i) {
                continue;
            }
            // Two findings asking for the very same edit (the same source added for two
            // references): it is made once.
            if taken
                .iter()
                .any(|(_, t)| t.span == e.span && t.replacement == e.replacement)
            {
                twins.push((i, e));
                continue;
            }
            if !taken.is_empty() && e.span.start < last_end {
                skipped_findings.insert(i);
                continue;
            }
            last_end = last_end.max(e.span.end);
            taken.push((i, e));
        }
        taken.retain(|(i, _)| !skipped_findings.contains(i));
        if taken.is_empty() {
            continue;
        }
        let text = &*file.text;
        let mut after = String::with_capacity(text.len() + 64);
        let mut pos = 0usize;
        for (_, e) in &taken {
            let r = e.span.range();
            if r.start < pos
                || r.end > text.len()
                || !text.is_char_boundary(r.start)
                || !text.is_char_boundary(r.end)
            {
                continue;
            }
            after.push_str(&text[pos..r.start]);
            after.push_str(&e.replacement);
            pos = r.end;
        }
        after.push_str(&text[pos..]);
        let fixes = taken
            .iter()
            .map(|(i, _)| *i)
            .chain(twins.iter().filter_map(|(i, e)| {
                taken
                    .iter()
                    .any(|(_, t)| t.span == e.span && t.replacement == e.replacement)
                    .then_some(*i)
            }))
            .collect::<std::collections::HashSet<_>>()
            .len();
        files.push(FixedFile {
            file: file_id,
            rel_path: file.rel_path.clone(),
            before: text.to_string(),
            after,
            fixes,
        });
    }
    FixPlan {
        files,
        skipped: skipped_findings.len(),
        refused,
    }
}

/// Write the fixed files (restoring a byte-order mark the file had), never through a link.
pub fn apply(repo: &Repository, plan: &FixPlan) -> std::io::Result<()> {
    let root = repo
        .root
        .canonicalize()
        .unwrap_or_else(|_| repo.root.clone());
    for f in &plan.files {
        let src = repo.file(f.file);
        let mut bytes = Vec::with_capacity(f.after.len() + 3);
        if src.bom_len > 0 {
            bytes.extend_from_slice("\u{feff}".as_bytes());
        }
        bytes.extend_from_slice(f.after.as_bytes());
        crate::safe_fs::write_in_root(&root, &repo.abs_path(f.file), &bytes)?;
    }
    Ok(())
}

/// A unified diff of the plan, paths relative to the repository root.
pub fn diff(plan: &FixPlan) -> String {
    let mut out = String::new();
    for f in &plan.files {
        let d = similar::TextDiff::from_lines(&f.before, &f.after);
        out.push_str(
            &d.unified_diff()
                .context_radius(3)
                .header(&format!("a/{}", f.rel_path), &format!("b/{}", f.rel_path))
                .to_string(),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Severity;
    use crate::discover::Excludes;
    use crate::repo::LoadOptions;
    use crate::source::Span;

    #[test]
    fn splices_keep_crlf_and_skip_overlaps() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("main.tf"),
            "locals {\r\n  a = 1\r\n  b = 2\r\n}\r\n",
        )
        .unwrap();
        let ex = Excludes::new(&[]).unwrap();
        let repo = Repository::load(
            dir.path(),
            &LoadOptions {
                excludes: &ex,
                max_file_bytes: 1 << 20,
            },
        );
        let file = repo.file_by_path("main.tf").unwrap();
        let at = |s: &str| {
            let i = file.text.find(s).unwrap();
            Span::new(file.id, i..i + s.len())
        };
        let f1 = Finding::new("x", Severity::Error, at("1"), "m").with_fix(vec![Edit {
            span: at("1"),
            replacement: "10".into(),
        }]);
        let f2 = Finding::new("x", Severity::Error, at("a = 1"), "m").with_fix(vec![Edit {
            span: at("a = 1"),
            replacement: "z = 0".into(),
        }]);
        let f3 = Finding::new("x", Severity::Error, at("2"), "m").with_fix(vec![Edit {
            span: at("2"),
            replacement: "20".into(),
        }]);
        let plan = plan(&repo, &[f1, f2, f3]);
        assert_eq!(plan.skipped, 1);
        assert_eq!(
            plan.files[0].after,
            "locals {\r\n  z = 0\r\n  b = 20\r\n}\r\n"
        );
        assert!(diff(&plan).contains("+  b = 20"));
        apply(&repo, &plan).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("main.tf")).unwrap(),
            "locals {\r\n  z = 0\r\n  b = 20\r\n}\r\n"
        );
    }
}
