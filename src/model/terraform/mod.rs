//! The Terraform model: modules and their blocks, module calls, expression evaluation,
//! and the evaluated analysis (values, gates, passes, objects created).

pub mod analysis;
pub mod cycles;
pub mod expr;
pub mod module;

pub use module::{
    BlockKind, BlockRef, ModuleCall, ModuleId, ModuleSource, TerraformModel, TfBlock, TfModule,
};
