//! The floor for `preflight check`: list the repository's files the way preflight does
//! (git or walk, the same exclusions and kinds), then read them in parallel and check they
//! are UTF-8 — no parsing, no models, no rules.
//!
//! ```text
//! cargo run --release --example walk-read -- DIR
//! ```

use preflight::discover;
use preflight::source::FileKind;
use rayon::prelude::*;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

fn main() {
    let dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    let dir = dir.canonicalize().expect("DIR exists");
    let cwd = std::env::current_dir().expect("cwd");
    let root = discover::find_root(std::slice::from_ref(&dir), &cwd);
    let (paths, listing) = discover::list_files(&root);
    let path_set: HashSet<&str> = paths.iter().map(String::as_str).collect();
    let candidates: Vec<&String> = paths
        .iter()
        .filter(|p| {
            FileKind::from_path(Path::new(p))
                .is_some_and(|k| k != FileKind::Yaml || !discover::is_helm_template(p, &path_set))
        })
        .collect();
    let (bytes, text) = candidates
        .par_iter()
        .map(|rel| match std::fs::read(root.join(rel)) {
            Ok(b) => (b.len(), usize::from(std::str::from_utf8(&b).is_ok())),
            Err(_) => (0, 0),
        })
        .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    println!(
        "{listing:?}: {} files listed, {} read ({text} UTF-8), {bytes} bytes",
        paths.len(),
        candidates.len()
    );
}
