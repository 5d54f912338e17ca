//! Benchmark helper: bytes held after loading a repository, by file kind (live heap
//! bytes counted by a wrapping allocator), against the bytes of text read.
//!
//! ```text
//! cargo run --release --example mem-by-kind -- DIR
//! ```

use preflight::discover::Excludes;
use preflight::parse::Syntax;
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

fn main() {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).expect("DIR"));
    let all = [
        "**/*.yaml",
        "**/*.yml",
        "**/*.tf",
        "**/*.tfvars",
        "**/*.json",
    ];
    for (name, keep) in [
        ("yaml", &["**/*.yaml", "**/*.yml"][..]),
        ("hcl", &["**/*.tf", "**/*.tfvars"][..]),
        ("json", &["**/*.json"][..]),
    ] {
        let ex: Vec<String> = all
            .iter()
            .filter(|g| !keep.contains(g))
            .map(|s| s.to_string())
            .collect();
        let ex = Excludes::new(&ex).unwrap();
        let before = LIVE.load(Ordering::Relaxed);
        let repo = Repository::load(
            &dir,
            &LoadOptions {
                excludes: &ex,
                max_file_bytes: 10 << 20,
            },
        );
        let held = LIVE.load(Ordering::Relaxed) - before;
        let text: usize = repo.files.iter().map(|f| f.text.len()).sum();
        let parsed = repo
            .syntax
            .iter()
            .filter(|s| !matches!(s, Syntax::Failed(_) | Syntax::Skipped(_)))
            .count();
        println!(
            "{name}: {} files ({parsed} parsed), {:.1} MB text, {:.1} MB held ({:.1}x)",
            repo.files.len(),
            text as f64 / 1e6,
            held as f64 / 1e6,
            held as f64 / text.max(1) as f64
        );
    }
}
