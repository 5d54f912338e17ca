//! The loaded repository: every relevant file read and parsed once, in parallel.

use crate::discover::{self, Excludes, Listing};
use crate::parse::{self, Syntax};
use crate::source::{FileId, FileKind, SourceFile};
use foldhash::HashSet;
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
    /// The listed paths and folders found by their text (see [`PathIndex`]).
    index: PathIndex,
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
        let (loaded, (index, worktree_prefix)) = rayon::join(
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
                (PathIndex::build(&paths, &candidates), prefix)
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
            index,
            listed: paths,
        }
    }

    /// The listed paths (any extension) of the files directly in folder `dir` ("" for the
    /// root), in path order.
    pub fn files_in_dir<'r>(&'r self, dir: &str) -> impl Iterator<Item = &'r str> + 'r {
        self.index
            .folder(&self.listed, dir.trim_end_matches('/'))
            .map_or(&[][..], |f| &f.files[..])
            .iter()
            .map(|&i| self.listed[i as usize].as_str())
    }

    /// Whether `rel` is a listed path (of any extension, read or not).
    pub fn is_listed(&self, rel: &str) -> bool {
        self.index.path(&self.listed, rel).is_some()
    }

    /// Whether `rel` is a folder that holds a listed file, at any depth (not the root).
    pub fn is_folder(&self, rel: &str) -> bool {
        !rel.is_empty() && self.index.folder(&self.listed, rel).is_some()
    }

    /// Every listed path (any extension), sorted.
    pub fn listed_paths(&self) -> impl Iterator<Item = &str> {
        self.listed.iter().map(String::as_str)
    }

    /// Every folder that holds a listed file, at any depth (not the root), in no order.
    pub fn folders(&self) -> impl Iterator<Item = &str> {
        self.index
            .folders
            .iter()
            .filter(|f| f.len > 0)
            .map(|f| f.text(&self.listed))
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
        let id = self.index.loaded[self.index.path(&self.listed, rel)?]?;
        self.files.get(id.0 as usize)
    }

    /// Whether a path (file or folder) exists in the repository listing.
    pub fn exists(&self, rel: &str) -> bool {
        let rel = rel.trim_end_matches('/');
        rel.is_empty() || rel == "." || self.is_listed(rel) || self.is_folder(rel)
    }

    /// Files with their syntax, in path order.
    pub fn iter(&self) -> impl Iterator<Item = (&SourceFile, &Syntax)> {
        self.files.iter().zip(self.syntax.iter())
    }
}

/// The listing's paths and folders found by their text. The tables hold indices into the
/// sorted listing, not copies of its paths: at scale they were as large as the text of the
/// files read from the repository's scripts.
struct PathIndex {
    hasher: foldhash::fast::RandomState,
    /// Every listed path, by its index in the listing.
    paths: hashbrown::HashTable<u32>,
    /// The file loaded from each listed path (`None`: listed, not read).
    loaded: Vec<Option<FileId>>,
    /// Every folder that holds a listed file at any depth, and the root (length 0) when a
    /// file is directly in it.
    folders: hashbrown::HashTable<Folder>,
}

/// A folder of the listing: the first `len` bytes of listed path `path`.
struct Folder {
    path: u32,
    len: u32,
    /// Indices into the listing of the files directly in it, in path order.
    files: Box<[u32]>,
}

impl Folder {
    fn text<'l>(&self, listed: &'l [String]) -> &'l str {
        &listed[self.path as usize][..self.len as usize]
    }
}

impl PathIndex {
    /// The index of `paths` (the sorted listing); `candidates` are the paths loaded, in
    /// file id order.
    fn build(paths: &[String], candidates: &[(&String, FileKind)]) -> PathIndex {
        use std::hash::BuildHasher;
        let hasher = foldhash::fast::RandomState::default();
        let hash = |s: &str| hasher.hash_one(s);
        let mut table = hashbrown::HashTable::with_capacity(paths.len());
        for (i, p) in paths.iter().enumerate() {
            let h = hash(p);
            if table.find(h, |&j: &u32| paths[j as usize] == *p).is_none() {
                table.insert_unique(h, i as u32, |&j: &u32| hash(&paths[j as usize]));
            }
        }
        let mut loaded = vec![None; paths.len()];
        for (id, (p, _)) in candidates.iter().enumerate() {
            if let Some(&i) = table.find(hash(p), |&j: &u32| paths[j as usize] == **p) {
                loaded[i as usize] = Some(FileId(id as u32));
            }
        }
        // Folder → files directly in it, growing; then every ancestor folder.
        let text = |f: &(u32, u32, Vec<u32>)| &paths[f.0 as usize][..f.1 as usize];
        let mut folders: hashbrown::HashTable<(u32, u32, Vec<u32>)> = hashbrown::HashTable::new();
        for (i, p) in paths.iter().enumerate() {
            let mut dir = p.rsplit_once('/').map_or("", |(d, _)| d);
            match folders.find_mut(hash(dir), |f| text(f) == dir) {
                Some(f) => {
                    f.2.push(i as u32);
                    continue;
                }
                None => {
                    folders.insert_unique(
                        hash(dir),
                        (i as u32, dir.len() as u32, vec![i as u32]),
                        |f| hash(text(f)),
                    );
                }
            }
            // A folder seen before has its ancestors already.
            while let Some((parent, _)) = dir.rsplit_once('/') {
                if folders.find(hash(parent), |f| text(f) == parent).is_some() {
                    break;
                }
                folders.insert_unique(
                    hash(parent),
                    (i as u32, parent.len() as u32, Vec::new()),
                    |f| hash(text(f)),
                );
                dir = parent;
            }
        }
        let mut done = hashbrown::HashTable::with_capacity(folders.len());
        for (path, len, files) in folders {
            let f = Folder {
                path,
                len,
                files: files.into_boxed_slice(),
            };
            let h = hash(f.text(paths));
            done.insert_unique(h, f, |f: &Folder| hash(f.text(paths)));
        }
        PathIndex {
            hasher,
            paths: table,
            loaded,
            folders: done,
        }
    }

    fn hash(&self, s: &str) -> u64 {
        use std::hash::BuildHasher;
        self.hasher.hash_one(s)
    }

    /// The index in `listed` of path `rel`.
    fn path(&self, listed: &[String], rel: &str) -> Option<usize> {
        self.paths
            .find(self.hash(rel), |&i| listed[i as usize] == rel)
            .map(|&i| i as usize)
    }

    fn folder(&self, listed: &[String], rel: &str) -> Option<&Folder> {
        self.folders.find(self.hash(rel), |f| f.text(listed) == rel)
    }
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

    /// The path index answers for paths and folders from the listing's own text: every
    /// ancestor folder is one (not only those holding files), a folder's files are those
    /// directly in it, in path order, and a name that only starts like a folder is not one.
    #[test]
    fn folders_and_paths_are_found_by_their_text() {
        let (_dir, repo) = crate::testing::load_repo_excluding(
            &[
                ("top.tf", ""),
                ("a/b/c/deep.yaml", "a: 1\n"),
                ("a/b/one.tf", ""),
                ("a/b/two.md", "# x\n"),
                ("a/bc/other.tf", ""),
                ("a/skip/x.tf", ""),
            ],
            &["a/skip".to_string()],
        );
        for d in ["a", "a/b", "a/b/c", "a/bc", "a/skip"] {
            assert!(repo.is_folder(d), "{d}");
            assert!(repo.exists(d), "{d}");
        }
        for d in ["", "a/b/c/deep.yaml", "a/", "a/b/", "b", "a/bcd", "a/b/c/d"] {
            assert!(!repo.is_folder(d), "{d:?}");
        }
        assert!(repo.exists("a/b/") && repo.exists("") && !repo.exists("a/bcd"));
        let mut folders: Vec<&str> = repo.folders().collect();
        folders.sort();
        assert_eq!(folders, ["a", "a/b", "a/b/c", "a/bc", "a/skip"]);
        let files = |d: &str| repo.files_in_dir(d).collect::<Vec<_>>();
        assert_eq!(files("a/b"), ["a/b/one.tf", "a/b/two.md"]);
        assert_eq!(files("a/b/"), ["a/b/one.tf", "a/b/two.md"]);
        // The root's own files (the loader writes the exclusions to `preflight.toml`).
        assert!(files("").contains(&"top.tf") && files("").iter().all(|p| !p.contains('/')));
        assert!(files("a").is_empty() && files("nowhere").is_empty());
        assert_eq!(files("a/skip"), ["a/skip/x.tf"]);
        for p in ["a/b/two.md", "a/skip/x.tf", "top.tf"] {
            assert!(repo.is_listed(p), "{p}");
        }
        assert!(!repo.is_listed("a/b") && !repo.is_listed("a/b/one"));
        let listed: Vec<&str> = repo.listed_paths().collect();
        let mut sorted = listed.clone();
        sorted.sort();
        assert_eq!(listed, sorted);
        assert!(listed.contains(&"a/bc/other.tf") && listed.contains(&"a/b/c/deep.yaml"));
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
