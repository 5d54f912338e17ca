//! What the validity rules ask of a module's configuration as written: whether every file
//! of it was read, the attribute sites of its blocks (what they reference and call), and the
//! outline of a block (its labels, attributes and nested blocks, with their byte ranges).
//! Answers are plain data and views; no syntax type leaves this module.

mod outline;
mod sites;

pub use outline::{AttrView, BlockView, BodyView, block};
pub use sites::{Site, block_address, sites};

use crate::model::terraform::TfModule;
use crate::parse::Syntax;
use crate::repo::Repository;
use crate::source::FileId;

/// Whether every file of the module parsed and none of its configuration lives in a form
/// preflight does not read (`.tf.json`): only then is "not declared" a fact.
pub fn complete(repo: &Repository, module: &TfModule) -> bool {
    let all_hcl = module
        .files
        .iter()
        .all(|f| matches!(repo.syntax(*f), Syntax::Hcl(_)));
    let json = repo
        .files_in_dir(&module.dir)
        .any(|p| p.ends_with(".tf.json"));
    all_hcl && !json
}

/// Whether a file is a Terraform override file, merged into the blocks it repeats.
pub fn is_override_file(repo: &Repository, file: FileId) -> bool {
    let name = repo.file(file).rel_path.rsplit('/').next().unwrap_or("");
    name == "override.tf" || name.ends_with("_override.tf")
}
