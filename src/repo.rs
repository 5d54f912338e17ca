//! The loaded repository: every relevant file read and parsed once, in parallel.

use crate::discover::{self, Excludes, Listing};
use crate::parse::{self, Syntax};
use crate::source::{FileId, FileKind, SourceFile};
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use rayon::prelude::*;
use std::path::{Path, PathBuf};

pub struct Repository {
    pub root: PathBuf,
    pub listing: Listing,
    /// The root's folder relative to the top of its git work tree (`""` at the top or
    /// outside git): GitHub annotations and SARIF name files from the work tree's top.
    pub worktree_prefix: String,
    pub files: Vec<SourceFile>,
    pub syntax: Vec<Syntax>,
    /// All listed paths (any extension), for existence checks by rules, each with the file
    /// loaded from it (`None`: listed, not read).
    pub all_paths: HashMap<String, Option<FileId>>,
    /// Every folder that holds a listed file, at any depth.
    pub all_dirs: HashSet<String>,
    /// Folder → indices into `listed` of the files directly in it: "which files does this
    /// folder hold" without scanning the whole listing (rules ask it once per module).
    dir_files: HashMap<String, Vec<u32>>,
    /// All listed paths, sorted.
    listed: Vec<String>,
}

pub struct LoadOptions<'a> {
    pub excludes: &'a Excludes,
    pub max_file_bytes: u64,
}

impl Repository {
    pub fn load(root: &Path, opts: &LoadOptions) -> Repository {
        // Links are confined to the canonical root.
        let real_root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        let reader = crate::safe_fs::RootReader::new(&real_root);
        let reading = std::time::Instant::now();
        // Files are read and parsed while the listing goes on, in batches: those whose
        // kind the path alone decides. A Helm template needs the listing (is there a
        // `Chart.yaml` above it?), so `templates/` and `*.tpl` wait for its end.
        let early: std::sync::Mutex<Vec<(SourceFile, Syntax)>> = Default::default();
        let (paths, listing) = rayon::scope(|scope| {
            let mut batch: Vec<(String, FileKind)> = Vec::new();
            let send = |batch: Vec<(String, FileKind)>| {
                let (reader, early) = (&reader, &early);
                scope.spawn(move |_| {
                    let done: Vec<_> = batch
                        .iter()
                        .map(|(rel, kind)| {
                            load_one(reader, rel, *kind, FileId(0), opts.max_file_bytes)
                        })
                        .collect();
                    if let Ok(mut e) = early.lock() {
                        e.extend(done);
                    }
                });
            };
            let listed = crate::timing::time("list", || {
                discover::list_files_each(root, &mut |p| {
                    if discover::may_be_helm_template(p) || opts.excludes.is_excluded(p) {
                        return;
                    }
                    if let Some(kind) = FileKind::from_path(Path::new(p)) {
                        batch.push((p.to_string(), kind));
                        if batch.len() == 32 {
                            send(std::mem::take(&mut batch));
                        }
                    }
                })
            });
            send(batch);
            listed
        });
        let candidates: Vec<(&String, FileKind)> = {
            let path_set: HashSet<&str> = paths.iter().map(String::as_str).collect();
            paths
                .par_iter()
                .filter(|p| !opts.excludes.is_excluded(p))
                .filter_map(|p| {
                    if discover::is_helm_template(p, &path_set) {
                        return discover::is_template_text(p)
                            .then_some((p, FileKind::HelmTemplate));
                    }
                    FileKind::from_path(Path::new(p)).map(|k| (p, k))
                })
                .collect()
        };
        // Each file read early goes to its place in path order; the listing decides what
        // is kept (a path heard of twice, or not in the final listing, is dropped).
        let mut slots: Vec<Option<(SourceFile, Syntax)>> = Vec::new();
        slots.resize_with(candidates.len(), || None);
        for (file, syntax) in early.into_inner().unwrap_or_default() {
            if let Ok(i) = candidates.binary_search_by(|(p, _)| p.as_str().cmp(&file.rel_path))
                && slots[i].is_none()
                && candidates[i].1 == file.kind
            {
                slots[i] = Some((file, syntax));
            }
        }
        // The path indexes are built, and git asked where the root sits, while the rest
        // of the files are read.
        let (loaded, ((all_paths, all_dirs, dir_files), worktree_prefix)) = rayon::join(
            || {
                slots
                    .into_par_iter()
                    .enumerate()
                    .map(|(i, slot)| {
                        let id = FileId(i as u32);
                        let (mut file, mut syntax) = slot.unwrap_or_else(|| {
                            let (rel, kind) = candidates[i];
                            load_one(&reader, rel, kind, id, opts.max_file_bytes)
                        });
                        file.id = id;
                        syntax.set_file(id);
                        (file, syntax)
                    })
                    .collect::<Vec<(SourceFile, Syntax)>>()
            },
            || {
                let prefix = match listing {
                    Listing::Git => discover::worktree_prefix(root),
                    Listing::Walk => String::new(),
                };
                (path_indexes(&paths, &candidates), prefix)
            },
        );
        crate::timing::report("read and parse", reading.elapsed());
        let mut files = Vec::with_capacity(loaded.len());
        let mut syntax = Vec::with_capacity(loaded.len());
        for (f, s) in loaded {
            files.push(f);
            syntax.push(s);
        }
        Repository {
            root: root.to_path_buf(),
            listing,
            worktree_prefix,
            files,
            syntax,
            all_paths,
            all_dirs,
            dir_files,
            listed: paths,
        }
    }

    /// The listed paths (any extension) of the files directly in folder `dir` ("" for the
    /// root), in path order.
    pub fn files_in_dir<'r>(&'r self, dir: &str) -> impl Iterator<Item = &'r str> + 'r {
        self.dir_files
            .get(dir.trim_end_matches('/'))
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .map(|&i| self.listed[i as usize].as_str())
    }

    /// A repository path as seen from the top of the git work tree.
    pub fn worktree_path(&self, rel: &str) -> String {
        if self.worktree_prefix.is_empty() {
            rel.to_string()
        } else {
            format!("{}/{rel}", self.worktree_prefix)
        }
    }

    /// Where a file of the repository is on disk (the root as given, joined with its path).
    pub fn abs_path(&self, id: FileId) -> PathBuf {
        self.root.join(&self.file(id).rel_path)
    }

    pub fn file(&self, id: FileId) -> &SourceFile {
        &self.files[id.0 as usize]
    }

    pub fn syntax(&self, id: FileId) -> &Syntax {
        &self.syntax[id.0 as usize]
    }

    pub fn file_by_path(&self, rel: &str) -> Option<&SourceFile> {
        let id = (*self.all_paths.get(rel)?)?;
        self.files.get(id.0 as usize)
    }

    /// Whether a path (file or folder) exists in the repository listing.
    pub fn exists(&self, rel: &str) -> bool {
        let rel = rel.trim_end_matches('/');
        if rel.is_empty() || rel == "." || self.all_paths.contains_key(rel) {
            return true;
        }
        self.all_dirs.contains(rel)
    }

    /// Files with their syntax, in path order.
    pub fn iter(&self) -> impl Iterator<Item = (&SourceFile, &Syntax)> {
        self.files.iter().zip(self.syntax.iter())
    }
}

/// Every listed path with the file loaded from it (`candidates` are loaded in order), every
/// folder holding one, and each folder's files (indexes into `paths`, in path order).
#[allow(clippy::type_complexity)]
fn path_indexes(
    paths: &[String],
    candidates: &[(&String, FileKind)],
) -> (
    HashMap<String, Option<FileId>>,
    HashSet<String>,
    HashMap<String, Vec<u32>>,
) {
    let mut all_paths: HashMap<String, Option<FileId>> =
        paths.iter().map(|p| (p.clone(), None)).collect();
    for (i, (p, _)) in candidates.iter().enumerate() {
        if let Some(id) = all_paths.get_mut(p.as_str()) {
            *id = Some(FileId(i as u32));
        }
    }
    let mut all_dirs = HashSet::new();
    let mut dir_files: HashMap<String, Vec<u32>> = HashMap::new();
    for (i, p) in paths.iter().enumerate() {
        let dir = p.rsplit_once('/').map_or("", |(d, _)| d);
        match dir_files.get_mut(dir) {
            Some(v) => v.push(i as u32),
            None => {
                dir_files.insert(dir.to_string(), vec![i as u32]);
            }
        }
    }
    for p in paths {
        let mut dir = p.as_str();
        while let Some((parent, _)) = dir.rsplit_once('/') {
            if !all_dirs.insert(parent.to_string()) {
                break;
            }
            dir = parent;
        }
    }
    (all_paths, all_dirs, dir_files)
}

fn load_one(
    reader: &crate::safe_fs::RootReader,
    rel: &str,
    kind: FileKind,
    id: FileId,
    limit: u64,
) -> (SourceFile, Syntax) {
    let skip = |reason: String| {
        let file = SourceFile::new(id, rel.to_string(), kind, String::new());
        (file, Syntax::Skipped(reason))
    };
    // Links are followed only to regular files inside the root; nothing blocks or reads
    // past the limit (see `safe_fs`).
    let bytes = match reader.read(rel, limit) {
        Ok(b) => b,
        Err(crate::safe_fs::Refusal::TooLarge(n)) => {
            return skip(format!(
                "is {n} bytes, over the {limit}-byte limit (`max_file_bytes` in preflight.toml)"
            ));
        }
        Err(e) => return skip(e.to_string()),
    };
    if let Some(tool) = parse::encrypted_bytes(&bytes) {
        let file = SourceFile::new(id, rel.to_string(), kind, String::new());
        return (file, Syntax::Encrypted(tool));
    }
    // Binary content or another encoding: Terraform and ArgoCD reject it too, so it is a
    // parse failure at the first bad byte, shown on a lossy copy of the text.
    let not_text = match std::str::from_utf8(&bytes) {
        Ok(t) => t.find('\0'),
        Err(e) => Some(e.valid_up_to()),
    };
    let (file, syntax) = match not_text {
        None => {
            let text = String::from_utf8(bytes).unwrap_or_default();
            let file = SourceFile::new(id, rel.to_string(), kind, text);
            let syntax = parse::parse(&file);
            (file, syntax)
        }
        Some(offset) => {
            let text = String::from_utf8_lossy(&bytes).replace('\0', "\u{fffd}");
            let file = SourceFile::new(id, rel.to_string(), kind, text);
            let failure = parse::ParseFailure {
                offset: offset
                    .saturating_sub(file.bom_len as usize)
                    .min(file.text.len()),
                message: "not UTF-8 text (a binary file, or another encoding)".into(),
                ..Default::default()
            };
            (file, Syntax::Failed(failure))
        }
    };
    (file, syntax)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_in_dir_lists_direct_children_only() {
        let (_dir, repo) = crate::testing::load_repo(&[
            ("main.tf", ""),
            ("m/a.tf", ""),
            ("m/b.tf.json", "{}"),
            ("m/sub/c.tf", ""),
        ]);
        let m: Vec<_> = repo.files_in_dir("m").collect();
        assert_eq!(m, ["m/a.tf", "m/b.tf.json"]);
        let root: Vec<_> = repo.files_in_dir("").collect();
        assert_eq!(root, ["main.tf", "preflight.toml"]);
        assert_eq!(repo.files_in_dir("nowhere").count(), 0);
    }

    #[test]
    fn file_by_path_finds_loaded_files_and_not_listed_only_ones() {
        let (_dir, repo) = crate::testing::load_repo_excluding(
            &[
                ("a-b/x.yaml", "a: 1\n"),
                ("a/b.tf", ""),
                ("a/skip/c.tf", ""),
                ("README.md", "# x\n"),
            ],
            &["a/skip".to_string()],
        );
        for f in &repo.files {
            assert_eq!(repo.file_by_path(&f.rel_path).map(|g| g.id), Some(f.id));
        }
        assert_eq!(repo.file_by_path("a/b.tf").unwrap().rel_path, "a/b.tf");
        // Listed but not loaded: excluded, or of no kind preflight reads.
        for p in ["a/skip/c.tf", "README.md"] {
            assert!(repo.exists(p), "{p}");
            assert!(repo.file_by_path(p).is_none(), "{p}");
        }
        assert!(repo.file_by_path("a/missing.tf").is_none());
    }

    #[test]
    fn files_read_during_the_listing_take_their_place_in_path_order() {
        // More files than one batch, in folders whose walk order is not path order
        // (`a-b` sorts before `a/`), with Helm templates that wait for the listing's end.
        let mut owned: Vec<(String, String)> = Vec::new();
        for i in 0..100 {
            owned.push((
                format!("z{i:03}/cm.yaml"),
                format!("kind: ConfigMap\nn: {i}\n"),
            ));
            owned.push((format!("a-b/{i}.json"), r#"{"Statement": []}"#.to_string()));
        }
        owned.push(("a/x.yaml".into(), "a: 1\n".into()));
        owned.push(("chart/Chart.yaml".into(), "name: c\n".into()));
        owned.push((
            "chart/templates/cm.yaml".into(),
            "a: {{ .Values.x }}\n".into(),
        ));
        owned.push(("other/templates/cm.yaml".into(), "a: 1\n".into()));
        let files: Vec<(&str, &str)> = owned
            .iter()
            .map(|(p, t)| (p.as_str(), t.as_str()))
            .collect();
        let (_dir, repo) = crate::testing::load_repo(&files);
        let paths: Vec<&str> = repo.files.iter().map(|f| f.rel_path.as_str()).collect();
        let mut sorted = paths.clone();
        sorted.sort();
        assert_eq!(paths, sorted);
        assert_eq!(repo.files.len(), 200 + 3 + 1, "{paths:?}");
        for (i, (f, syntax)) in repo.iter().enumerate() {
            assert_eq!(f.id, FileId(i as u32), "{}", f.rel_path);
            assert_eq!(repo.file_by_path(&f.rel_path).map(|g| g.id), Some(f.id));
            match syntax {
                Syntax::Yaml(docs) => assert!(docs.iter().all(|d| d.file == f.id)),
                Syntax::Json(j) => assert_eq!(j.spanned.as_ref().unwrap().file, f.id),
                _ => {}
            }
        }
        let kind = |p: &str| repo.file_by_path(p).unwrap().kind;
        assert_eq!(kind("chart/templates/cm.yaml"), FileKind::HelmTemplate);
        assert_eq!(kind("other/templates/cm.yaml"), FileKind::Yaml);
    }
}
