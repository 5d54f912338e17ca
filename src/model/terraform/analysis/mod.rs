//! The evaluated Terraform model: module instances reached from the roots, variable values
//! (defaults, tfvars, `--var-file`, `--var`, `TF_VAR_*`, declared passes), lazy evaluation of
//! locals, module outputs and block attributes, gates and instance counts, references,
//! providers and the objects the configuration creates.
//!
//! Evaluation is lazy and memoised per (pass, module instance, item); a cycle or a chain
//! deeper than [`MAX_CHAIN`] evaluates to `Unknown::Undecidable`. The model is shared by
//! rules running in parallel: the memo sits behind a mutex that is never held while
//! evaluating, and each top-level evaluation carries its own cycle-guard stack.
//!
//! One file per question: `inputs` (variables, tfvars, passes and their inference),
//! `instances` (the module instance tree), `evaluation` (values, counts, read
//! phases), `references` (guarded references, gates, dependencies), `providers` and
//! `created` (objects the configuration creates). Rules ask through
//! [`crate::model::terraform::query`], which hands out no syntax.

mod created;
mod evaluation;
mod inputs;
mod instances;
mod providers;
mod references;

pub use created::{
    Created, ManifestObject, Objects, data_target, manifest_kind, nested_attr, resource_ident,
};
pub use evaluation::{unknown_text, yaml_to_value};
pub use providers::{Providers, is_kubernetes_resource, provider_for_type};
pub use references::{GuardedRef, guard_tests_instances, is_reserved_root};

use inputs::*;
use instances::*;

use super::expr::{
    self, EmptyScope, GateKind, RefStep, Reference, Scope, Truth, Unknown, Value, canonical_text,
};
use super::module::{BlockKind, ModuleId, ModuleSource, TerraformModel, TfModule, join_within};
use crate::model::workspace::Workspace;
use crate::source::Span;
use hcl_edit::expr::{Expression, TraversalOperator};
use hcl_edit::structure::{Block, Body};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// Deepest module nesting followed.
pub const MAX_MODULE_DEPTH: usize = 16;

/// Most module instances one root expands to (ten calls per module, twelve deep, would be
/// 10^12); calls past it are not followed and say so, and a call whose instances would
/// cross it is not enumerated (one instance stands for all, with the call's count).
pub const MAX_MODULE_INSTANCES: usize = 5_000;

/// Longest chain of nested evaluations (variable → local → output → …).
pub const MAX_CHAIN: usize = 200;

/// Largest value one local, variable, output or block may hold ([`Value::weight`]); a
/// larger one is "cannot tell" (22 lines of locals that double an object reach gigabytes).
pub const MAX_SLOT_WEIGHT: usize = 32 * 1024 * 1024;

/// Total weight of the values one root keeps evaluated, shared by every module instance
/// and pass of the root; past it, further values of the root are "cannot tell".
pub const MAX_ROOT_WEIGHT: usize = 1024 * 1024 * 1024;

/// What "cannot tell" says for a value over [`MAX_SLOT_WEIGHT`] or [`MAX_ROOT_WEIGHT`].
pub const OVER_BUDGET: &str = "over the value budget";

/// One instance of a module: a root, or a module reached from a root through local calls.
#[derive(Debug, Clone)]
pub struct Inst {
    pub module: ModuleId,
    /// The root instance this instance belongs to (itself for a root).
    pub root: usize,
    /// The calling instance and the index of the `module` block in its module's blocks.
    pub parent: Option<(usize, usize)>,
    /// The address prefix of this instance's blocks: "" for a root, `module.eks.` …
    pub prefix: String,
    /// Child instances by call name (the first instance of a call with several).
    pub children: HashMap<String, usize>,
    /// Every instance of each call that is expanded into several, in key order.
    pub keyed: HashMap<String, Vec<usize>>,
    /// For an instance of a call with `count`/`for_each` whose instances were enumerated:
    /// its binding (`count.index`, `each.key`/`each.value`) in each pass, `None` in passes
    /// where it does not exist. `None` for a plain call, or one whose instances cannot be
    /// enumerated (one instance then stands for all, with the call's count).
    pub binds: Option<Vec<Option<Iter>>>,
}

/// A staged apply of the roots with variable overrides.
#[derive(Debug, Clone)]
pub struct Pass {
    /// `None` when no passes are declared (one evaluation with the plain values).
    pub name: Option<String>,
    pub overrides: Vec<(String, Value)>,
    /// Where the pass comes from: `preflight.toml`, or how it was inferred.
    pub source: String,
}

impl Pass {
    /// "in pass1 " or "" for the implicit single pass.
    pub fn phrase(&self) -> String {
        match &self.name {
            Some(n) => format!("in pass `{n}`"),
            None => "with the configured values".to_string(),
        }
    }
}

/// How many instances a block has.
#[derive(Debug, Clone, PartialEq)]
pub enum Count {
    Known(u64),
    Unknown(Unknown),
}

impl Count {
    pub fn is_zero(&self) -> bool {
        matches!(self, Count::Known(0))
    }
    pub fn is_active(&self) -> bool {
        matches!(self, Count::Known(n) if *n > 0)
    }
    fn times(&self, other: &Count) -> Count {
        match (self, other) {
            (Count::Known(0), _) | (_, Count::Known(0)) => Count::Known(0),
            (Count::Known(a), Count::Known(b)) => Count::Known(a.saturating_mul(*b)),
            (Count::Unknown(u), _) | (_, Count::Unknown(u)) => Count::Unknown(u.clone()),
        }
    }
    /// Why the count is unknown, in words.
    pub fn reason(&self) -> String {
        match self {
            Count::Known(n) => format!("{n} instance(s)"),
            Count::Unknown(u) => unknown_text(u),
        }
    }
}

/// When a data source is read.
#[derive(Debug, Clone, PartialEq)]
pub enum ReadPhase {
    /// During plan: all its arguments are known and nothing it depends on is pending.
    Plan,
    /// Deferred to apply, because of the named unknown or dependency.
    Apply(String),
    /// Cannot tell.
    Unknown(String),
}

/// A block instance binding: `count.index` or `each.key`/`each.value`.
#[derive(Debug, Clone, PartialEq)]
pub enum Iter {
    None,
    Count(usize),
    Each(Value, Value),
}

/// A block of one module instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlockAt {
    pub inst: usize,
    pub block: usize,
}

/// A gate term, qualified by the instance it is evaluated in ("" for a root).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GateTerm {
    /// Module prefix + canonical text, e.g. `var.enable_k8s_resources`.
    pub qualified: String,
    /// The text as written in its own module.
    pub text: String,
}

#[derive(Debug, Clone)]
enum Input {
    Value(Value),
    /// From `--var` or `TF_VAR_*`: parsed by the variable's type.
    Raw(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Slot {
    Var(String),
    Local(String),
    Output(String),
    Block(usize),
    Count(usize),
    InstCount,
    /// An outcome assumed for a condition (canonical text) while the branches of a
    /// conditional decided at plan are evaluated: not a value, never memoised.
    Assume(String, bool),
}

/// How many assumptions may be open at once (conditionals decided at plan nested in each
/// other's branches).
const MAX_ASSUMPTIONS: usize = 2;

type Key = (usize, usize, Slot);

type RefCache = HashMap<(ModuleId, usize), std::sync::Arc<Vec<GuardedRef>>>;

/// The evaluated model. Built once per check by [`Analysis::build`].
pub struct Analysis {
    pub insts: Vec<Inst>,
    /// Root instances (indexes into `insts`) of the roots in scope.
    pub roots: Vec<usize>,
    pub passes: Vec<Pass>,
    /// Passes to report (all unless `--pass`).
    pub selected: Vec<usize>,
    /// Per root instance: explicitly set input values per pass.
    inputs: HashMap<usize, Vec<HashMap<String, Input>>>,
    /// Per module: for each resource/data address, the attribute names read after it.
    read_attrs: HashMap<(ModuleId, String), BTreeSet<String>>,
    /// The memoised values. A value shares its lists and objects, so a hit copies no tree.
    memo: Mutex<foldhash::HashMap<Key, Value>>,
    /// Per root instance: the weight of its memoised values.
    kept: Mutex<foldhash::HashMap<usize, usize>>,
    /// The first module call of each root that was not followed because the root reached
    /// [`MAX_MODULE_INSTANCES`]: the call's header.
    pub truncated: Vec<Span>,
    /// Module instances of the root being expanded.
    expanded: usize,
    objects: Vec<OnceLock<Objects>>,
    providers: Vec<OnceLock<Providers>>,
    refs: Mutex<RefCache>,
}

impl std::fmt::Debug for Analysis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analysis")
            .field("insts", &self.insts.len())
            .field("roots", &self.roots)
            .field("passes", &self.passes)
            .finish()
    }
}

fn strip_parens(mut e: &Expression) -> &Expression {
    while let Expression::Parenthesis(p) = e {
        e = p.inner();
    }
    e
}

impl Analysis {
    /// Build the instance tree and the inputs of every root in scope.
    pub fn build(s: &Workspace) -> Analysis {
        Analysis::build_for(s, s.terraform_roots().to_vec())
    }

    /// Build the instance tree and the inputs of the given roots. Never asks the GitOps
    /// model (which is built from this analysis' Kubernetes objects).
    pub fn build_for(s: &Workspace, roots: Vec<ModuleId>) -> Analysis {
        let tf = s.terraform();
        let mut an = Analysis {
            insts: Vec::new(),
            roots: Vec::new(),
            passes: Vec::new(),
            selected: Vec::new(),
            inputs: HashMap::new(),
            read_attrs: HashMap::new(),
            memo: Mutex::new(foldhash::HashMap::default()),
            kept: Mutex::new(foldhash::HashMap::default()),
            truncated: Vec::new(),
            expanded: 0,
            objects: Vec::new(),
            providers: Vec::new(),
            refs: Mutex::new(HashMap::new()),
        };
        let passes = &s.config.terraform.passes;
        if passes.is_empty() {
            an.passes.push(Pass {
                name: None,
                overrides: Vec::new(),
                source: String::new(),
            });
        } else {
            for (name, vars) in passes {
                an.passes.push(Pass {
                    name: Some(name.clone()),
                    overrides: vars
                        .iter()
                        .map(|(k, v)| (k.clone(), toml_to_value(v)))
                        .collect(),
                    source: "[terraform.passes] in preflight.toml".into(),
                });
            }
        }
        // Command-line var files and vars: preflight.toml's first, then the command line.
        let mut cli: Vec<(String, Input)> = Vec::new();
        // The repository's own configuration names files of the repository only (no link
        // out of it); a configuration the user passed with --config, anything.
        let real_root = s
            .repo
            .root
            .canonicalize()
            .unwrap_or_else(|_| s.repo.root.clone());
        for f in &s.config.terraform.var_files {
            let path = s.repo.root.join(f);
            let read = if s.config.in_repository {
                if crate::safe_fs::is_confined_rel(f) {
                    crate::safe_fs::read_in_root_text(&real_root, f, VAR_FILE_LIMIT)
                } else {
                    Err(crate::safe_fs::Refusal::OutsideRoot(f.clone()))
                }
            } else {
                crate::safe_fs::read_regular_text(&path, VAR_FILE_LIMIT)
            };
            cli.extend(var_file_values(s, &path, read));
        }
        for (k, v) in &s.config.terraform.vars {
            cli.push((k.clone(), Input::Value(toml_to_value(v))));
        }
        for f in &s.inputs.var_files {
            let p = if f.is_absolute() {
                f.clone()
            } else {
                std::env::current_dir()
                    .map(|d| d.join(f))
                    .unwrap_or(f.clone())
            };
            let read = read_user_file(&p);
            cli.extend(var_file_values(s, &p, read));
        }
        for (k, v) in &s.inputs.vars {
            cli.push((k.clone(), Input::Raw(v.clone())));
        }
        let mut bases: Vec<(usize, HashMap<String, Input>)> = Vec::new();
        for root in roots {
            let idx = an.insts.len();
            an.insts.push(Inst {
                module: root,
                root: idx,
                parent: None,
                prefix: String::new(),
                children: HashMap::new(),
                keyed: HashMap::new(),
                binds: None,
            });
            an.roots.push(idx);
            let mapped = modules_json(s, tf.module(root));
            an.expanded = 1;
            an.expand(s, tf, idx, 0, &mut vec![root], &mapped, "");
            // Inputs: env < terraform.tfvars < *.auto.tfvars < command line < pass.
            let module = tf.module(root);
            let mut base: HashMap<String, Input> = HashMap::new();
            for var in module.variables() {
                if let Ok(v) = std::env::var(format!("TF_VAR_{}", var.name)) {
                    base.insert(var.name.clone(), Input::Raw(v));
                }
            }
            for &f in &module.var_files {
                if let Some(body) = crate::parse::hcl_body(s.repo.syntax(f)) {
                    for (k, v) in tfvars_values(body) {
                        base.insert(k, Input::Value(v));
                    }
                }
            }
            for (k, v) in &cli {
                base.insert(k.clone(), v.clone());
            }
            bases.push((idx, base));
        }
        an.objects = (0..an.roots.len()).map(|_| OnceLock::new()).collect();
        an.providers = (0..an.roots.len()).map(|_| OnceLock::new()).collect();
        // Staged applies nobody declared: inferred from the repository's scripts, else
        // from the roots' own phase flags. Nothing above evaluated a value.
        if passes.is_empty()
            && let Some(inferred) = an.infer_passes(s)
        {
            an.passes = inferred;
        }
        an.selected = match &s.inputs.pass {
            Some(p) => an
                .passes
                .iter()
                .position(|x| x.name.as_deref() == Some(p.as_str()))
                .into_iter()
                .collect(),
            None => (0..an.passes.len()).collect(),
        };
        for (idx, base) in bases {
            let per_pass = an
                .passes
                .iter()
                .map(|p| {
                    let mut m = base.clone();
                    for (k, v) in &p.overrides {
                        m.insert(k.clone(), Input::Value(v.clone()));
                    }
                    m
                })
                .collect();
            an.inputs.insert(idx, per_pass);
        }
        an.expand_instances(s);
        // Attribute names read after each resource/data address, per module.
        let mut modules: Vec<ModuleId> = an.insts.iter().map(|i| i.module).collect();
        modules.sort();
        modules.dedup();
        // Modules are read side by side; the sets merge in module order.
        let per_module =
            crate::model::map_on_threads(&modules, |&m| (m, read_attributes(s, tf, m)));
        for (m, found) in per_module {
            for (addr, a) in found {
                an.read_attrs.entry((m, addr)).or_default().insert(a);
            }
        }
        an
    }
}

/// The attribute names read after each resource or data source address in a module's
/// blocks and locals, as (address, attribute), in written order.
fn read_attributes(s: &Workspace, tf: &TerraformModel, m: ModuleId) -> Vec<(String, String)> {
    let module = tf.module(m);
    let mut exprs: Vec<&Expression> = Vec::new();
    for b in &module.blocks {
        if let Some(block) = tf.hcl_block(&s.repo, b.at) {
            exprs.extend(
                expr::body_expressions(&block.body)
                    .into_iter()
                    .map(|(_, e)| e),
            );
        }
    }
    for l in &module.locals {
        if let Some(e) = tf.local_expr(&s.repo, l) {
            exprs.push(e);
        }
    }
    let mut out = Vec::new();
    for e in exprs {
        for r in expr::references(e) {
            let (addr, rest_attrs): (String, Vec<&str>) = if r.root == "data" {
                if r.attrs.len() < 2 {
                    continue;
                }
                (
                    format!("data.{}.{}", r.attrs[0], r.attrs[1]),
                    r.attrs[2..].iter().map(String::as_str).collect(),
                )
            } else if is_reserved_root(&r.root) || r.attrs.is_empty() {
                continue;
            } else {
                (
                    format!("{}.{}", r.root, r.attrs[0]),
                    r.attrs[1..].iter().map(String::as_str).collect(),
                )
            };
            let attr = rest_attrs.first().map(|s| s.to_string()).or_else(|| {
                r.rest.iter().find_map(|st| match st {
                    RefStep::Attr(a) => Some(a.clone()),
                    _ => None,
                })
            });
            if let Some(a) = attr {
                out.push((addr, a));
            }
        }
    }
    out
}
