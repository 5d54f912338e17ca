//! Benchmark helper: bytes held after loading a repository, by file kind (live heap
//! bytes counted by a wrapping allocator), against the bytes of text read. Each kind's row
//! is net of the last one: the repository loaded without any parsed kind (scripts, docs and
//! the listing of every file).
//!
//! ```text
//! cargo run --release --example mem-by-kind -- DIR
//! ```

use preflight::discover::Excludes;
use preflight::repo::{LoadOptions, Repository};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

struct Counting;
static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        LIVE.fetch_add(new as isize - l.size() as isize, Ordering::Relaxed);
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static A: Counting = Counting;

/// Load `dir` keeping only the files matched by `keep` among the parsed kinds (every other
/// file is kept too): (files, text bytes, bytes held).
fn load(dir: &std::path::Path, keep: &[&str]) -> (usize, usize, isize) {
    let ex: Vec<String> = PARSED
        .iter()
        .filter(|g| !keep.contains(g))
        .map(|s| s.to_string())
        .collect();
    let ex = Excludes::new(&ex).unwrap();
    let before = LIVE.load(Ordering::Relaxed);
    let repo = Repository::load(
        dir,
        &LoadOptions {
            excludes: &ex,
            max_file_bytes: 10 << 20,
        },
    );
    let held = LIVE.load(Ordering::Relaxed) - before;
    let text: usize = repo.files.iter().map(|f| f.text.len()).sum();
    (repo.files.len(), text, held)
}

const PARSED: [&str; 6] = [
    "**/*.yaml",
    "**/*.yml",
    "**/*.tf",
    "**/*.tfvars",
    "**/*.json",
    "**/*.tpl",
];

fn main() {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).expect("DIR"));
    // Every other file (scripts, docs) and the listing of the repository: each kind's row
    // is net of this.
    let base = load(&dir, &[]);
    for (name, keep) in [
        ("yaml", &["**/*.yaml", "**/*.yml"][..]),
        ("hcl", &["**/*.tf", "**/*.tfvars"][..]),
        ("json", &["**/*.json"][..]),
        ("tpl", &["**/*.tpl"][..]),
    ] {
        let (files, text, held) = load(&dir, keep);
        let (files, text, held) = (files - base.0, text - base.1, held - base.2);
        println!(
            "{name}: {files} files, {:.1} MB text, {:.1} MB held ({:.1}x)",
            text as f64 / 1e6,
            held as f64 / 1e6,
            held as f64 / text.max(1) as f64
        );
    }
    println!(
        "other (scripts, docs, the listing): {} files, {:.1} MB text, {:.1} MB held",
        base.0,
        base.1 as f64 / 1e6,
        base.2 as f64 / 1e6
    );
}
