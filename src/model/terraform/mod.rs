//! The Terraform model: modules and their blocks, module calls, and (in submodules)
//! expression evaluation.

pub mod analysis;
pub mod expr;
pub mod module;

pub use module::{
    BlockKind, BlockRef, ModuleCall, ModuleId, ModuleSource, TerraformModel, TfBlock, TfModule,
};
