//! The loaded repository: every relevant file read and parsed once, in parallel.

use crate::discover::{self, Excludes, Listing};
use crate::parse::{self, Syntax};
use crate::source::{FileId, FileKind, SourceFile};
use rayon::prelude::*;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

pub struct Repository {
    pub root: PathBuf,
    pub listing: Listing,
    pub files: Vec<SourceFile>,
    pub syntax: Vec<Syntax>,
    /// All listed paths (any extension), for existence checks by rules.
    pub all_paths: HashSet<String>,
    /// Every folder that holds a listed file, at any depth.
    pub all_dirs: HashSet<String>,
}

pub struct LoadOptions<'a> {
    pub excludes: &'a Excludes,
    pub max_file_bytes: u64,
}

impl Repository {
    pub fn load(root: &Path, opts: &LoadOptions) -> Repository {
        let (paths, listing) = discover::list_files(root);
        let all_paths: HashSet<String> = paths.iter().cloned().collect();
        let mut all_dirs = HashSet::new();
        for p in &paths {
            let mut dir = p.as_str();
            while let Some((parent, _)) = dir.rsplit_once('/') {
                if !all_dirs.insert(parent.to_string()) {
                    break;
                }
                dir = parent;
            }
        }
        let path_set: HashSet<&str> = paths.iter().map(String::as_str).collect();
        let candidates: Vec<(&String, FileKind)> = paths
            .iter()
            .filter(|p| !opts.excludes.is_excluded(p))
            .filter_map(|p| FileKind::from_path(Path::new(p)).map(|k| (p, k)))
            .filter(|(p, k)| *k != FileKind::Yaml || !discover::is_helm_template(p, &path_set))
            .collect();
        let loaded: Vec<(SourceFile, Syntax)> = candidates
            .par_iter()
            .enumerate()
            .map(|(i, (rel, kind))| {
                load_one(root, rel, *kind, FileId(i as u32), opts.max_file_bytes)
            })
            .collect();
        let mut files = Vec::with_capacity(loaded.len());
        let mut syntax = Vec::with_capacity(loaded.len());
        for (f, s) in loaded {
            files.push(f);
            syntax.push(s);
        }
        Repository {
            root: root.to_path_buf(),
            listing,
            files,
            syntax,
            all_paths,
            all_dirs,
        }
    }

    pub fn file(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    pub fn syntax(&self, id: FileId) -> &Syntax {
        &self.syntax[id.0 as usize]
    }

    pub fn file_by_path(&self, rel: &str) -> Option<&SourceFile> {
        self.files
            .binary_search_by(|f| f.rel_path.as_str().cmp(rel))
            .ok()
            .map(|i| &self.files[i])
    }

    /// Whether a path (file or folder) exists in the repository listing.
    pub fn exists(&self, rel: &str) -> bool {
        let rel = rel.trim_end_matches('/');
        if rel.is_empty() || rel == "." || self.all_paths.contains(rel) {
            return true;
        }
        self.all_dirs.contains(rel)
    }

    /// Files with their syntax, in path order.
    pub fn iter(&self) -> impl Iterator<Item = (&SourceFile, &Syntax)> {
        self.files.iter().zip(self.syntax.iter())
    }
}

fn load_one(
    root: &Path,
    rel: &str,
    kind: FileKind,
    id: FileId,
    limit: u64,
) -> (SourceFile, Syntax) {
    let abs = root.join(rel);
    let skip = |reason: String| {
        let file = SourceFile::new(id, rel.to_string(), abs.clone(), kind, String::new());
        (file, Syntax::Skipped(reason))
    };
    let meta = match std::fs::metadata(&abs) {
        Ok(m) => m,
        Err(e) => return skip(format!("cannot be read: {e}")),
    };
    if meta.is_dir() {
        return skip("is a directory (through a link?)".into());
    }
    if meta.len() > limit {
        return skip(format!(
            "is {} bytes, over the {limit}-byte limit (`max_file_bytes` in preflight.toml)",
            meta.len()
        ));
    }
    let bytes = match std::fs::read(&abs) {
        Ok(b) => b,
        Err(e) => return skip(format!("cannot be read: {e}")),
    };
    // Binary content or another encoding: Terraform and ArgoCD reject it too, so it is a
    // parse failure at the first bad byte, shown on a lossy copy of the text.
    let not_text = match std::str::from_utf8(&bytes) {
        Ok(t) => t.find('\0'),
        Err(e) => Some(e.valid_up_to()),
    };
    let (file, syntax) = match not_text {
        None => {
            let text = String::from_utf8(bytes).unwrap_or_default();
            let file = SourceFile::new(id, rel.to_string(), abs, kind, text);
            let syntax = parse::parse(&file);
            (file, syntax)
        }
        Some(offset) => {
            let text = String::from_utf8_lossy(&bytes).replace('\0', "\u{fffd}");
            let file = SourceFile::new(id, rel.to_string(), abs, kind, text);
            let failure = parse::ParseFailure {
                offset: offset
                    .saturating_sub(file.bom_len as usize)
                    .min(file.text.len()),
                message: "not UTF-8 text (a binary file, or another encoding)".into(),
                template: false,
            };
            (file, Syntax::Failed(failure))
        }
    };
    (file, syntax)
}
