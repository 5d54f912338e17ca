//! The Terraform model: modules and their blocks, module calls, expression evaluation,
//! and the evaluated analysis (values, gates, passes, objects created).

pub mod accounts;
pub mod address;
pub mod analysis;
pub mod applied;
pub mod cycles;
pub mod expr;
pub mod module;
pub mod planned;
pub mod query;
pub mod replace;
pub mod schema;
// The build script writes its index into the binary (`build.rs`); the tests check it.
#[cfg(test)]
mod schema_index;
pub mod scope;
pub mod templates;
pub mod validity;

pub use module::{
    BlockKind, BlockRef, Expansion, ModuleCall, ModuleId, ModuleSource, TerraformModel, TfBlock,
    TfModule,
};
