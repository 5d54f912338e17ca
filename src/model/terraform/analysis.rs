//! The evaluated Terraform model: module instances reached from the roots, variable values
//! (defaults, tfvars, `--var-file`, `--var`, `TF_VAR_*`, declared passes), lazy evaluation of
//! locals, module outputs and block attributes, gates and instance counts, references,
//! providers and the objects the configuration creates.
//!
//! Evaluation is lazy and memoised per (pass, module instance, item); a cycle or a chain
//! deeper than [`MAX_CHAIN`] evaluates to `Unknown::Undecidable`. The model is shared by
//! rules running in parallel: the memo sits behind a mutex that is never held while
//! evaluating, and each top-level evaluation carries its own cycle-guard stack.

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
use std::sync::{Mutex, OnceLock};

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

/// A reference found in a block, with the conditions guarding it.
#[derive(Debug, Clone)]
pub struct GuardedRef {
    pub reference: Reference,
    /// Where it is.
    pub span: Span,
    /// Terms of enclosing conditionals under which it is evaluated (canonical texts).
    pub guards: Vec<String>,
    /// Inside `try()`/`can()`, or a splat over the block: safe with zero instances.
    pub tolerant: bool,
    /// Inside `depends_on`.
    pub depends_on: bool,
    /// The attribute holding it.
    pub attribute: String,
    /// Inside a `for` expression and indexed by its key or value variable: the canonical
    /// text of the collection iterated (`[for k, v in var.m : aws_x.this[k].arn]` gives
    /// `var.m`), so only keys of that collection are indexed.
    pub for_collection: Option<String>,
}

/// Provider configurations of one root.
#[derive(Debug, Default)]
pub struct Providers {
    /// Provider configuration → the resources and data sources its arguments depend on.
    pub reads: BTreeMap<BlockAt, BTreeSet<BlockAt>>,
    /// Provider configuration → the resources and data sources that use it.
    pub users: BTreeMap<BlockAt, Vec<BlockAt>>,
    /// Resource or data source → the provider configurations that read it.
    pub fed: BTreeMap<BlockAt, Vec<BlockAt>>,
}

impl Providers {
    /// The phase gate of a block that configures providers (a cluster data source): the
    /// gate terms common to every user of every provider configuration it feeds, less the
    /// terms that also gate `creator` (what it reads). Adding these terms to the block can
    /// never switch off a read some active user needs.
    pub fn phase_terms(
        &self,
        an: &Analysis,
        s: &Workspace,
        at: BlockAt,
        creator: Option<BlockAt>,
    ) -> Vec<GateTerm> {
        let mut users: Vec<BlockAt> = Vec::new();
        for pc in self.fed.get(&at).into_iter().flatten() {
            users.extend(self.users.get(pc).into_iter().flatten().copied());
        }
        users.sort();
        users.dedup();
        let Some((first, rest)) = users.split_first() else {
            return Vec::new();
        };
        let mut common = an.terms(s, *first);
        for u in rest {
            let t: HashSet<String> = an.terms(s, *u).into_iter().map(|t| t.qualified).collect();
            common.retain(|c| t.contains(&c.qualified));
        }
        if let Some(c) = creator {
            let ct: HashSet<String> = an.terms(s, c).into_iter().map(|t| t.qualified).collect();
            common.retain(|t| !ct.contains(&t.qualified));
        }
        common.dedup_by(|a, b| a.qualified == b.qualified);
        common
    }
}

/// An object a block creates: its type and identifying value.
#[derive(Debug, Clone)]
pub struct Created {
    pub at: BlockAt,
    /// Instance count per pass (zero in passes where the identifying value differs).
    pub counts: Vec<Count>,
}

/// A Kubernetes object a `kubernetes_manifest` / `kubectl_manifest` instance creates.
#[derive(Debug, Clone)]
pub struct ManifestObject {
    pub at: BlockAt,
    pub pass: usize,
    /// Instances of the block's module (unknown when its own instances cannot be
    /// enumerated).
    pub count: Count,
    /// The evaluated manifest.
    pub manifest: Value,
}

impl ManifestObject {
    /// (kind, metadata.name) when both are known strings.
    pub fn kind_and_name(&self) -> Option<(String, String)> {
        let m = self.manifest.as_object()?;
        let kind = m.get("kind")?.as_str()?;
        let name = m.get("metadata")?.as_object()?.get("name")?.as_str()?;
        Some((kind.to_string(), name.to_string()))
    }
}

/// A local chart a `helm_release` installs, rendered with its values.
struct LocalRender {
    dir: String,
    chart: crate::model::helm::Chart,
    rendered: crate::model::helm::RenderedChart,
    /// Why some values could not be evaluated.
    unknown: Option<String>,
}

/// The objects one root creates, by (type, identifying value). Namespaces use type
/// `namespace`.
#[derive(Debug, Default)]
pub struct Objects {
    pub by_key: HashMap<(String, String), Vec<Created>>,
    /// Creators whose identifying value cannot be evaluated, by type, with the reason.
    pub unresolved: HashMap<String, Vec<(BlockAt, String)>>,
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
    memo: Mutex<HashMap<Key, Value>>,
    /// Per root instance: the weight of its memoised values.
    kept: Mutex<HashMap<usize, usize>>,
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

fn toml_to_value(v: &toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::String(s.clone()),
        toml::Value::Integer(i) => Value::Number(*i as f64),
        toml::Value::Float(f) => Value::Number(*f),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::List(a.iter().map(toml_to_value).collect()),
        toml::Value::Table(t) => Value::Object(
            t.iter()
                .map(|(k, v)| (k.clone(), toml_to_value(v)))
                .collect(),
        ),
    }
}

/// The attributes of a tfvars body, evaluated as constants.
fn tfvars_values(body: &Body) -> Vec<(String, Value)> {
    body.attributes()
        .map(|a| {
            (
                a.key.as_str().to_string(),
                expr::eval(&a.value, &EmptyScope),
            )
        })
        .collect()
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
            memo: Mutex::new(HashMap::new()),
            kept: Mutex::new(HashMap::new()),
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
        for m in modules {
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
                        an.read_attrs.entry((m, addr)).or_default().insert(a);
                    }
                }
            }
        }
        an
    }

    /// Passes of a staged apply, when none are declared. First from the repository's
    /// scripts and Makefiles: `terraform apply` of a root in scope run more than once in
    /// one script, with a boolean `-var` going from `false` to `true`. Else from the roots
    /// themselves: a boolean root variable that gates every user of a provider configured
    /// from an object the root creates, and not that object's creator, is a phase flag
    /// (pass 1 with it `false`, pass 2 `true`).
    fn infer_passes(&self, s: &Workspace) -> Option<Vec<Pass>> {
        let tf = s.terraform();
        let mut first: Vec<(String, Value)> = Vec::new();
        let mut second: Vec<(String, Value)> = Vec::new();
        let mut sources: Vec<String> = Vec::new();
        for (rp, &root) in self.roots.iter().enumerate() {
            let module = tf.module(self.insts[root].module);
            let found = script_passes(s, &module.dir).or_else(|| {
                self.phase_flags(s, rp).map(|(flags, why)| {
                    let off = flags
                        .iter()
                        .map(|f| (f.clone(), Value::Bool(false)))
                        .collect();
                    let on = flags
                        .iter()
                        .map(|f| (f.clone(), Value::Bool(true)))
                        .collect();
                    (off, on, why)
                })
            });
            if let Some((off, on, why)) = found {
                for (k, v) in off {
                    if !first.iter().any(|(n, _)| *n == k) {
                        first.push((k, v));
                    }
                }
                for (k, v) in on {
                    if !second.iter().any(|(n, _)| *n == k) {
                        second.push((k, v));
                    }
                }
                sources.push(why);
            }
        }
        if first.is_empty() {
            return None;
        }
        let source = format!("inferred: {}", sources.join("; "));
        Some(vec![
            Pass {
                name: Some("pass1".into()),
                overrides: first,
                source: source.clone(),
            },
            Pass {
                name: Some("pass2".into()),
                overrides: second,
                source,
            },
        ])
    }

    /// The phase flags of a root (see [`Analysis::infer_passes`]), with the reason.
    fn phase_flags(&self, s: &Workspace, rp: usize) -> Option<(Vec<String>, String)> {
        let tf = s.terraform();
        let root = self.roots[rp];
        let module = tf.module(self.insts[root].module);
        let bools: Vec<&str> = module
            .variables()
            .filter(|v| is_bool_variable(s, tf, v))
            .map(|v| v.name.as_str())
            .collect();
        if bools.is_empty() {
            return None;
        }
        let providers = self.providers(s, rp);
        let blocks: Vec<BlockAt> = self.blocks_of_root(tf, root).collect();
        let mut flags: Vec<String> = Vec::new();
        let mut why = String::new();
        // One population per created object: the kubernetes, helm and kubectl providers
        // configured from one cluster are checked together.
        let mut groups: BTreeMap<Vec<BlockAt>, (Vec<BlockAt>, Vec<BlockAt>)> = BTreeMap::new();
        for (pc, reads) in &providers.reads {
            let mut creators: Vec<BlockAt> = Vec::new();
            for r in reads {
                let rb = &self.module(tf, r.inst).blocks[r.block];
                match rb.kind {
                    BlockKind::Resource => creators.push(*r),
                    BlockKind::Data => {
                        if let Some((target, _)) = data_target(&rb.type_name) {
                            creators.extend(blocks.iter().copied().filter(|b| {
                                let tb = &self.module(tf, b.inst).blocks[b.block];
                                tb.kind == BlockKind::Resource && tb.type_name == target
                            }));
                        }
                    }
                    _ => {}
                }
            }
            creators.sort();
            creators.dedup();
            let users = providers.users.get(pc).map_or(&[][..], Vec::as_slice);
            if creators.is_empty() || users.is_empty() {
                continue;
            }
            let g = groups.entry(creators).or_default();
            g.0.push(*pc);
            g.1.extend_from_slice(users);
        }
        for (creators, (pcs, users)) in &groups {
            let creator_terms: HashSet<String> = creators
                .iter()
                .flat_map(|c| self.terms(s, *c))
                .map(|t| t.qualified)
                .collect();
            let user_terms: Vec<HashSet<String>> = users
                .iter()
                .map(|u| self.terms(s, *u).into_iter().map(|t| t.qualified).collect())
                .collect();
            for v in &bools {
                let term = format!("var.{v}");
                if !creator_terms.contains(&term)
                    && user_terms.iter().all(|t| t.contains(&term))
                    && !flags.iter().any(|f| f == v)
                {
                    flags.push(v.to_string());
                    if why.is_empty() {
                        let names: Vec<String> = pcs
                            .iter()
                            .map(|pc| self.module(tf, pc.inst).blocks[pc.block].address())
                            .collect();
                        why = format!(
                            "`{term}` in {} gates every user of {} and not `{}`, which {} configured from",
                            if module.dir.is_empty() {
                                "the root"
                            } else {
                                module.dir.as_str()
                            },
                            names.join(", "),
                            self.address(tf, creators[0]),
                            if pcs.len() == 1 { "it is" } else { "they are" },
                        );
                    }
                }
            }
        }
        (!flags.is_empty()).then_some((flags, why))
    }

    #[allow(clippy::too_many_arguments)]
    fn expand(
        &mut self,
        s: &Workspace,
        tf: &TerraformModel,
        inst: usize,
        depth: usize,
        chain: &mut Vec<ModuleId>,
        mapped: &HashMap<String, ModuleId>,
        key_prefix: &str,
    ) {
        let module = tf.module(self.insts[inst].module);
        for call in &module.calls {
            let key = format!("{key_prefix}{}", call.name);
            let target = match &call.source {
                ModuleSource::Local(t) => Some(*t),
                ModuleSource::External(src) => match mapped.get(&key) {
                    Some(t) => {
                        s.verbose(format!(
                            "{}: module.{} ({src}) read from the directory .terraform/modules/modules.json maps it to",
                            module.dir, call.name
                        ));
                        Some(*t)
                    }
                    None => {
                        s.verbose(format!(
                            "{}: module.{} comes from {src}: external, not inspected",
                            module.dir, call.name
                        ));
                        None
                    }
                },
                ModuleSource::Missing(d) => {
                    s.verbose(format!(
                        "{}: module.{} points at {d}, which holds no .tf files",
                        module.dir, call.name
                    ));
                    None
                }
                ModuleSource::Escapes(d) => {
                    s.verbose(format!(
                        "{}: module.{} points at {d}, outside the repository: not inspected",
                        module.dir, call.name
                    ));
                    None
                }
                ModuleSource::Unknown => None,
            };
            let Some(target) = target else { continue };
            if depth + 1 > MAX_MODULE_DEPTH || chain.contains(&target) {
                s.verbose(format!(
                    "{}: module.{} not followed (a module cycle or nesting deeper than {MAX_MODULE_DEPTH})",
                    module.dir, call.name
                ));
                continue;
            }
            // Once values can be evaluated: the call's instances, per pass.
            let instances = if self.inputs.is_empty() {
                None
            } else {
                self.call_instances(
                    s,
                    BlockAt {
                        inst,
                        block: call.block,
                    },
                )
            };
            let base = format!("{}module.{}", self.insts[inst].prefix, call.name);
            let list: Vec<(String, Option<Vec<Option<Iter>>>)> = match instances {
                // `count` of 0 or 1: one instance, keeping the address without an index.
                Some(v) if v.len() == 1 && v[0].0 == Value::Number(0.0) => {
                    vec![(
                        format!("{base}."),
                        Some(v.into_iter().next().map(|x| x.1).unwrap_or_default()),
                    )]
                }
                Some(v) if !v.is_empty() => v
                    .into_iter()
                    .map(|(k, binds)| {
                        let key = match &k {
                            Value::String(s) => expr::quote_string(s),
                            other => other.to_string(),
                        };
                        (format!("{base}[{key}]."), Some(binds))
                    })
                    .collect(),
                _ => vec![(format!("{base}."), None)],
            };
            let several = list.len() > 1;
            for (prefix, binds) in list {
                if self.expanded >= MAX_MODULE_INSTANCES {
                    if self.expanded == MAX_MODULE_INSTANCES {
                        // Recorded once per root: the count moves past the limit.
                        self.truncated.push(module.blocks[call.block].header);
                        self.expanded += 1;
                    }
                    break;
                }
                self.expanded += 1;
                let child = self.insts.len();
                self.insts.push(Inst {
                    module: target,
                    root: self.insts[inst].root,
                    parent: Some((inst, call.block)),
                    prefix,
                    children: HashMap::new(),
                    keyed: HashMap::new(),
                    binds,
                });
                self.insts[inst]
                    .children
                    .entry(call.name.clone())
                    .or_insert(child);
                if several {
                    self.insts[inst]
                        .keyed
                        .entry(call.name.clone())
                        .or_default()
                        .push(child);
                }
                chain.push(target);
                self.expand(s, tf, child, depth + 1, chain, mapped, &format!("{key}."));
                chain.pop();
            }
        }
    }

    /// The instances of a module call with `count`/`for_each` across the passes: each
    /// instance key with its binding in every pass (`None` where it does not exist). `None`
    /// when the call has neither, or when the instances cannot be enumerated in some pass
    /// (or there would be too many).
    fn call_instances(
        &self,
        s: &Workspace,
        at: BlockAt,
    ) -> Option<Vec<(Value, Vec<Option<Iter>>)>> {
        let block = self.hcl(s, at)?;
        if block.body.get_attribute("count").is_none()
            && block.body.get_attribute("for_each").is_none()
        {
            return None;
        }
        let n = self.passes.len();
        let mut out: Vec<(Value, Vec<Option<Iter>>)> = Vec::new();
        for pass in 0..n {
            let iters = self.iters(s, pass, at).ok()?;
            for it in iters {
                let key = match &it {
                    Iter::Count(i) => Value::Number(*i as f64),
                    Iter::Each(k, _) => k.clone(),
                    Iter::None => return None,
                };
                match out.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, b)) => b[pass] = Some(it),
                    None => {
                        let mut b = vec![None; n];
                        b[pass] = Some(it);
                        out.push((key, b));
                    }
                }
            }
        }
        if self.expanded + out.len() > MAX_MODULE_INSTANCES {
            s.verbose(format!(
                "{}: the instances of `{}` are not enumerated: over {MAX_MODULE_INSTANCES} module instances",
                self.module(s.terraform(), at.inst).dir,
                self.address(s.terraform(), at)
            ));
            return None;
        }
        Some(out)
    }

    /// Expand module calls with `count`/`for_each` into their instances, now that the
    /// inputs are known: every instance binds its own `count.index` or `each`, and the
    /// resources inside are enumerated per instance. The first expansion (one instance per
    /// call) served what needs no values: inferring the passes.
    fn expand_instances(&mut self, s: &Workspace) {
        let tf = s.terraform();
        let iterated = self.insts.iter().any(|i| {
            let m = tf.module(i.module);
            m.calls.iter().any(|c| {
                tf.hcl_block(&s.repo, m.blocks[c.block].at)
                    .is_some_and(|b| {
                        b.body.get_attribute("count").is_some()
                            || b.body.get_attribute("for_each").is_some()
                    })
            })
        });
        if !iterated {
            return;
        }
        let old_roots = std::mem::take(&mut self.roots);
        let mut old_inputs = std::mem::take(&mut self.inputs);
        let mut insts = Vec::new();
        for (i, &r) in old_roots.iter().enumerate() {
            let mut root = self.insts[r].clone();
            root.root = i;
            root.children.clear();
            root.keyed.clear();
            insts.push(root);
            if let Some(v) = old_inputs.remove(&r) {
                self.inputs.insert(i, v);
            }
        }
        self.insts = insts;
        self.roots = (0..old_roots.len()).collect();
        if let Ok(mut m) = self.memo.lock() {
            m.clear();
        }
        // The roots come first (their indexes key the inputs); the instances of each
        // follow, root after root. A value memoised while a tree was half expanded may
        // have missed a module: the memo is dropped again once all are expanded.
        self.truncated.clear();
        for i in 0..self.roots.len() {
            let module = self.insts[i].module;
            let mapped = modules_json(s, tf.module(module));
            self.expanded = 1;
            self.expand(s, tf, i, 0, &mut vec![module], &mapped, "");
        }
        if let Ok(mut m) = self.memo.lock() {
            m.clear();
        }
        // What was derived from the first tree names its instances by index.
        self.objects = (0..self.roots.len()).map(|_| OnceLock::new()).collect();
        self.providers = (0..self.roots.len()).map(|_| OnceLock::new()).collect();
    }

    /// The binding of a module instance in its call, in a pass (`Iter::None` for a plain
    /// call or one whose instances were not enumerated).
    fn bind(&self, inst: usize, pass: usize) -> Iter {
        self.insts[inst]
            .binds
            .as_ref()
            .and_then(|b| b.get(pass).cloned().flatten())
            .unwrap_or(Iter::None)
    }

    /// The instances of a root (the root first).
    pub fn instances_of(&self, root: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.insts.len()).filter(move |&i| self.insts[i].root == root)
    }

    /// Every (instance, block) of a root.
    pub fn blocks_of_root<'a>(
        &'a self,
        tf: &'a TerraformModel,
        root: usize,
    ) -> impl Iterator<Item = BlockAt> + 'a {
        self.instances_of(root).flat_map(move |inst| {
            (0..tf.module(self.insts[inst].module).blocks.len())
                .map(move |block| BlockAt { inst, block })
        })
    }

    pub fn module<'t>(&self, tf: &'t TerraformModel, inst: usize) -> &'t TfModule {
        tf.module(self.insts[inst].module)
    }

    /// The block's Terraform address including its module path.
    pub fn address(&self, tf: &TerraformModel, at: BlockAt) -> String {
        format!(
            "{}{}",
            self.insts[at.inst].prefix,
            self.module(tf, at.inst).blocks[at.block].address()
        )
    }

    pub fn hcl<'r>(&self, s: &'r Workspace, at: BlockAt) -> Option<&'r Block> {
        let tf = s.terraform();
        tf.hcl_block(&s.repo, self.module(tf, at.inst).blocks[at.block].at)
    }

    /// Convert a byte range of a block's file to a span.
    pub fn span(&self, s: &Workspace, at: BlockAt, range: Option<std::ops::Range<usize>>) -> Span {
        let tf = s.terraform();
        let b = &self.module(tf, at.inst).blocks[at.block];
        match range {
            Some(r) => s.repo.file(b.at.file).span(r),
            None => b.header,
        }
    }

    /// Evaluate an expression in a module instance.
    pub fn eval(&self, s: &Workspace, pass: usize, inst: usize, e: &Expression) -> Value {
        let stack = RefCell::new(Vec::new());
        let cx = self.ctx(s, pass, inst, Iter::None, &stack);
        expr::eval(e, &cx)
    }

    /// Evaluate an expression in a block instance (`count.index`, `each.*` bound).
    pub fn eval_iter(
        &self,
        s: &Workspace,
        pass: usize,
        inst: usize,
        iter: Iter,
        e: &Expression,
    ) -> Value {
        let stack = RefCell::new(Vec::new());
        let cx = self.ctx(s, pass, inst, iter, &stack);
        expr::eval(e, &cx)
    }

    fn ctx<'a>(
        &'a self,
        s: &'a Workspace,
        pass: usize,
        inst: usize,
        iter: Iter,
        stack: &'a RefCell<Vec<Key>>,
    ) -> Ctx<'a> {
        let tf = s.terraform();
        let dir = s.repo.root.join(&self.module(tf, inst).dir);
        Ctx {
            an: self,
            s,
            pass,
            inst,
            iter,
            stack,
            dir,
        }
    }

    fn memo(&self, stack: &RefCell<Vec<Key>>, key: Key, f: impl FnOnce() -> Value) -> Value {
        // Under an assumption a value holds only for it: neither read nor kept.
        let assuming = stack
            .borrow()
            .iter()
            .any(|k| matches!(k.2, Slot::Assume(..)));
        if !assuming
            && let Ok(m) = self.memo.lock()
            && let Some(v) = m.get(&key)
        {
            return v.clone();
        }
        {
            let st = stack.borrow();
            if st.contains(&key) {
                return Value::undecidable(format!(
                    "{} refers to itself (a cycle)",
                    slot_text(&key.2)
                ));
            }
            if st.len() > MAX_CHAIN {
                return Value::undecidable("the chain of references is too long to follow");
            }
        }
        stack.borrow_mut().push(key.clone());
        let mut v = f();
        stack.borrow_mut().pop();
        if assuming {
            return v;
        }
        // A value whose evaluation ran out of work budget names this slot as the origin,
        // so that what depends on it says where the budget was spent.
        if let Some(Unknown::Undecidable { reason }) = v.first_unknown()
            && *reason == expr::over_budget_reason()
        {
            v = Value::undecidable(format!("{} is {OVER_BUDGET}: {reason}", slot_text(&key.2)));
        }
        // Bounded memory: one slot, and everything one root keeps.
        let w = v.weight(MAX_SLOT_WEIGHT);
        let root = self.insts.get(key.1).map_or(key.1, |i| i.root);
        if w > MAX_SLOT_WEIGHT {
            v = Value::undecidable(format!(
                "{} is {OVER_BUDGET}: it holds more than {} MiB of values",
                slot_text(&key.2),
                MAX_SLOT_WEIGHT / (1024 * 1024)
            ));
        } else if let Ok(mut kept) = self.kept.lock() {
            let total = kept.entry(root).or_insert(0);
            if *total + w > MAX_ROOT_WEIGHT {
                v = Value::undecidable(format!(
                    "{} is {OVER_BUDGET}: the root's values exceed {} MiB",
                    slot_text(&key.2),
                    MAX_ROOT_WEIGHT / (1024 * 1024)
                ));
            } else {
                *total += w;
            }
        }
        if let Ok(mut m) = self.memo.lock() {
            m.insert(key, v.clone());
        }
        v
    }

    /// The block's own instance count (its `count` / `for_each`), in its instance.
    pub fn own_count(&self, s: &Workspace, pass: usize, at: BlockAt) -> Count {
        let stack = RefCell::new(Vec::new());
        count_from_value(&self.own_count_value(s, pass, at, &stack))
    }

    fn own_count_value(
        &self,
        s: &Workspace,
        pass: usize,
        at: BlockAt,
        stack: &RefCell<Vec<Key>>,
    ) -> Value {
        self.memo(stack, (pass, at.inst, Slot::Count(at.block)), || {
            let Some(block) = self.hcl(s, at) else {
                return Value::Number(1.0);
            };
            let cx = self.ctx(s, pass, at.inst, Iter::None, stack);
            if let Some(a) = block.body.get_attribute("count") {
                let v = expr::eval(&a.value, &cx);
                return match v.to_number() {
                    Ok(Value::Number(n)) if n >= 0.0 && n.fract() == 0.0 => Value::Number(n),
                    Ok(Value::Unknown(u)) => Value::Unknown(u),
                    Ok(Value::Null) => Value::undecidable("count is null"),
                    _ => Value::undecidable("count is not a whole number"),
                };
            }
            if let Some(a) = block.body.get_attribute("for_each") {
                return match expr::eval(&a.value, &cx) {
                    Value::Object(m) => Value::Number(m.len() as f64),
                    Value::List(items) => match Unknown::combine_shallow(items.iter()) {
                        Some(u) => Value::Unknown(u),
                        None => {
                            let mut keys: Vec<String> = items
                                .iter()
                                .filter_map(|v| v.as_str().map(str::to_owned))
                                .collect();
                            keys.sort();
                            keys.dedup();
                            Value::Number(keys.len() as f64)
                        }
                    },
                    Value::Unknown(u) => Value::Unknown(u),
                    Value::Null => Value::undecidable("for_each is null"),
                    other => Value::undecidable(format!("for_each is a {}", other.type_name())),
                };
            }
            Value::Number(1.0)
        })
    }

    /// How many instances of a module instance exist (the product of the calls' counts).
    pub fn inst_count(&self, s: &Workspace, pass: usize, inst: usize) -> Count {
        let stack = RefCell::new(Vec::new());
        count_from_value(&self.inst_count_value(s, pass, inst, &stack))
    }

    fn inst_count_value(
        &self,
        s: &Workspace,
        pass: usize,
        inst: usize,
        stack: &RefCell<Vec<Key>>,
    ) -> Value {
        let Some((parent, block)) = self.insts[inst].parent else {
            return Value::Number(1.0);
        };
        self.memo(stack, (pass, inst, Slot::InstCount), || {
            let own = match &self.insts[inst].binds {
                Some(b) => Count::Known(u64::from(b.get(pass).is_some_and(Option::is_some))),
                None => count_from_value(&self.own_count_value(
                    s,
                    pass,
                    BlockAt {
                        inst: parent,
                        block,
                    },
                    stack,
                )),
            };
            let up = count_from_value(&self.inst_count_value(s, pass, parent, stack));
            match up.times(&own) {
                Count::Known(n) => Value::Number(n as f64),
                Count::Unknown(u) => Value::Unknown(u),
            }
        })
    }

    /// The block's instance count under the current values, module calls included.
    pub fn count(&self, s: &Workspace, pass: usize, at: BlockAt) -> Count {
        self.inst_count(s, pass, at.inst)
            .times(&self.own_count(s, pass, at))
    }

    /// The `count` or `for_each` attribute of a block.
    pub fn gate_attr<'r>(
        &self,
        s: &'r Workspace,
        at: BlockAt,
    ) -> Option<&'r hcl_edit::structure::Attribute> {
        let b = self.hcl(s, at)?;
        b.body
            .get_attribute("count")
            .or_else(|| b.body.get_attribute("for_each"))
    }

    /// The canonical text of a block's `for_each`, when it has one.
    pub fn for_each_text(&self, s: &Workspace, at: BlockAt) -> Option<String> {
        let b = self.hcl(s, at)?;
        b.body
            .get_attribute("for_each")
            .map(|a| canonical_text(strip_parens(&a.value)))
    }

    /// The block's own gate terms (`a && b ? 1 : 0` → `a`, `b`), qualified.
    pub fn own_terms(&self, s: &Workspace, at: BlockAt) -> Vec<GateTerm> {
        let Some(attr) = self.gate_attr(s, at) else {
            return Vec::new();
        };
        let g = expr::gate_terms(&attr.value);
        if g.kind == GateKind::NotConditional {
            return Vec::new();
        }
        g.terms
            .iter()
            .map(|t| GateTerm {
                qualified: self.qualify(s, at.inst, t.expr, &t.text, 0),
                text: t.text.clone(),
            })
            .collect()
    }

    /// Effective gate terms: the module calls' terms, then the block's own.
    pub fn terms(&self, s: &Workspace, at: BlockAt) -> Vec<GateTerm> {
        let mut out = Vec::new();
        let mut chain = Vec::new();
        let mut cur = at.inst;
        while let Some((p, b)) = self.insts[cur].parent {
            chain.push(BlockAt { inst: p, block: b });
            cur = p;
        }
        for c in chain.iter().rev() {
            out.extend(self.own_terms(s, *c));
        }
        out.extend(self.own_terms(s, at));
        out
    }

    /// A term's meaning in the root: `var.x` in a child becomes the caller's argument
    /// expression when that is a single term.
    fn qualify(
        &self,
        s: &Workspace,
        inst: usize,
        e: &Expression,
        text: &str,
        depth: usize,
    ) -> String {
        let fallback = format!("{}{text}", self.insts[inst].prefix);
        if depth > MAX_MODULE_DEPTH {
            return fallback;
        }
        let Some((parent, block)) = self.insts[inst].parent else {
            return fallback;
        };
        let Expression::Traversal(t) = e else {
            return fallback;
        };
        let Expression::Variable(root) = &t.expr else {
            return fallback;
        };
        if root.value().as_str() != "var" || t.operators.len() != 1 {
            return fallback;
        }
        let TraversalOperator::GetAttr(name) = t.operators[0].value() else {
            return fallback;
        };
        let Some(call) = self.hcl(
            s,
            BlockAt {
                inst: parent,
                block,
            },
        ) else {
            return fallback;
        };
        let Some(arg) = call.body.get_attribute(name.value().as_str()) else {
            return fallback;
        };
        if expr::conjunction_terms(&arg.value).len() != 1 {
            return fallback;
        }
        let inner = strip_parens(&arg.value);
        self.qualify(s, parent, inner, &canonical_text(inner), depth + 1)
    }

    /// When a data source is read, in a pass (first instance).
    pub fn read_phase(&self, s: &Workspace, pass: usize, at: BlockAt) -> ReadPhase {
        let stack = RefCell::new(Vec::new());
        let iter = self.first_iter(s, pass, at);
        self.read_phase_in(s, pass, at, iter, &stack)
    }

    fn read_phase_in(
        &self,
        s: &Workspace,
        pass: usize,
        at: BlockAt,
        iter: Iter,
        stack: &RefCell<Vec<Key>>,
    ) -> ReadPhase {
        let Some(block) = self.hcl(s, at) else {
            return ReadPhase::Unknown("the block cannot be read".into());
        };
        let tf = s.terraform();
        if let Count::Unknown(Unknown::AtApply { origin }) =
            count_from_value(&self.own_count_value(s, pass, at, stack))
        {
            return ReadPhase::Apply(format!("its count is known only after apply ({origin})"));
        }
        // depends_on on a managed resource (or a module holding one) defers the read; so
        // does depends_on on an enclosing module call.
        let mut deps: Vec<(usize, &hcl_edit::structure::Attribute)> = Vec::new();
        if let Some(d) = block.body.get_attribute("depends_on") {
            deps.push((at.inst, d));
        }
        let mut cur = at.inst;
        while let Some((p, b)) = self.insts[cur].parent {
            if let Some(call) = self.hcl(s, BlockAt { inst: p, block: b })
                && let Some(d) = call.body.get_attribute("depends_on")
            {
                deps.push((p, d));
            }
            cur = p;
        }
        for (inst, d) in deps {
            for r in expr::references(&d.value) {
                let module = self.module(tf, inst);
                let pending = if r.root == "module" {
                    r.attrs.first().is_some_and(|m| {
                        self.insts[inst]
                            .children
                            .get(m)
                            .is_none_or(|c| self.has_managed(tf, *c, 0))
                    })
                } else if r.root != "data" && !is_reserved_root(&r.root) {
                    r.attrs
                        .first()
                        .is_some_and(|n| module.block(&format!("{}.{n}", r.root)).is_some())
                } else {
                    false
                };
                if pending {
                    return ReadPhase::Apply(format!("it depends on `{}`", r.dotted()));
                }
            }
        }
        let cx = self.ctx(s, pass, at.inst, iter, stack);
        let mut undecided = None;
        for (key, e) in expr::body_expressions(&block.body) {
            if matches!(key, "count" | "for_each" | "depends_on" | "provider") {
                continue;
            }
            match expr::eval(e, &cx).first_unknown() {
                Some(Unknown::AtApply { origin }) => {
                    return ReadPhase::Apply(format!(
                        "`{key}` is known only after apply ({origin})"
                    ));
                }
                Some(Unknown::Undecidable { reason }) => {
                    undecided.get_or_insert(format!("`{key}`: {reason}"));
                }
                Some(u @ Unknown::AtApplyIf { .. }) => {
                    undecided.get_or_insert(format!("`{key}` is {}", unknown_text(u)));
                }
                // Known at plan: the data source is still read during plan.
                Some(Unknown::AtPlan { .. }) | None => {}
            }
        }
        match undecided {
            Some(r) => ReadPhase::Unknown(r),
            None => ReadPhase::Plan,
        }
    }

    fn has_managed(&self, tf: &TerraformModel, inst: usize, depth: usize) -> bool {
        depth > MAX_MODULE_DEPTH
            || self
                .module(tf, inst)
                .blocks_of(BlockKind::Resource)
                .next()
                .is_some()
            || self.insts[inst]
                .children
                .values()
                .any(|c| self.has_managed(tf, *c, depth + 1))
    }

    /// The bindings of a block's instances: `Err` when they cannot be enumerated.
    pub fn iters(&self, s: &Workspace, pass: usize, at: BlockAt) -> Result<Vec<Iter>, Unknown> {
        let Some(block) = self.hcl(s, at) else {
            return Ok(vec![Iter::None]);
        };
        if block.body.get_attribute("count").is_some() {
            return match self.own_count(s, pass, at) {
                Count::Known(n) => Ok((0..n.min(1000) as usize).map(Iter::Count).collect()),
                Count::Unknown(u) => Err(u),
            };
        }
        if let Some(a) = block.body.get_attribute("for_each") {
            return match self.eval(s, pass, at.inst, &a.value) {
                Value::Object(m) => Ok(m
                    .into_iter()
                    .map(|(k, v)| Iter::Each(Value::String(k), v))
                    .collect()),
                Value::List(items) => match Unknown::combine_shallow(items.iter()) {
                    Some(u) => Err(u),
                    None => Ok(items
                        .into_iter()
                        .map(|v| Iter::Each(v.clone(), v))
                        .collect()),
                },
                Value::Unknown(u) => Err(u),
                other => Err(Unknown::undecidable(format!(
                    "for_each is a {}",
                    other.type_name()
                ))),
            };
        }
        Ok(vec![Iter::None])
    }

    /// The binding of the first instance (or an undecided one).
    pub fn first_iter(&self, s: &Workspace, pass: usize, at: BlockAt) -> Iter {
        match self.iters(s, pass, at) {
            Ok(v) => v.into_iter().next().unwrap_or(Iter::None),
            Err(_) => Iter::None,
        }
    }

    /// The whole value of a resource or data source: an object, or a list/map of them.
    pub fn block_value(&self, s: &Workspace, pass: usize, at: BlockAt) -> Value {
        let stack = RefCell::new(Vec::new());
        self.block_value_in(s, pass, at, &stack)
    }

    fn block_value_in(
        &self,
        s: &Workspace,
        pass: usize,
        at: BlockAt,
        stack: &RefCell<Vec<Key>>,
    ) -> Value {
        self.memo(stack, (pass, at.inst, Slot::Block(at.block)), || {
            let Some(block) = self.hcl(s, at) else {
                return Value::undecidable("the block cannot be read");
            };
            if block.body.get_attribute("count").is_some() {
                return match count_from_value(&self.own_count_value(s, pass, at, stack)) {
                    Count::Known(n) => Value::List(
                        (0..n.min(1000) as usize)
                            .map(|i| self.instance_object(s, pass, at, Iter::Count(i), stack))
                            .collect(),
                    ),
                    Count::Unknown(u) => Value::Unknown(u),
                };
            }
            if let Some(a) = block.body.get_attribute("for_each") {
                let cx = self.ctx(s, pass, at.inst, Iter::None, stack);
                let items: Vec<(String, Value)> = match expr::eval(&a.value, &cx) {
                    Value::Object(m) => m.into_iter().collect(),
                    Value::List(items) => {
                        if let Some(u) = Unknown::combine_shallow(items.iter()) {
                            return Value::Unknown(u);
                        }
                        items
                            .into_iter()
                            .filter_map(|v| v.as_str().map(|k| (k.to_string(), v.clone())))
                            .collect()
                    }
                    Value::Unknown(u) => return Value::Unknown(u),
                    other => {
                        return Value::undecidable(format!("for_each is a {}", other.type_name()));
                    }
                };
                return Value::Object(
                    items
                        .into_iter()
                        .map(|(k, v)| {
                            let o = self.instance_object(
                                s,
                                pass,
                                at,
                                Iter::Each(Value::String(k.clone()), v),
                                stack,
                            );
                            (k, o)
                        })
                        .collect(),
                );
            }
            self.instance_object(s, pass, at, Iter::None, stack)
        })
    }

    fn instance_object(
        &self,
        s: &Workspace,
        pass: usize,
        at: BlockAt,
        iter: Iter,
        stack: &RefCell<Vec<Key>>,
    ) -> Value {
        let tf = s.terraform();
        let Some(block) = self.hcl(s, at) else {
            return Value::undecidable("the block cannot be read");
        };
        let tb = &self.module(tf, at.inst).blocks[at.block];
        let is_data = tb.kind == BlockKind::Data;
        let cx = self.ctx(s, pass, at.inst, iter.clone(), stack);
        let mut obj = body_object(&block.body, &cx, 0);
        let index = match &iter {
            Iter::None => String::new(),
            Iter::Count(i) => format!("[{i}]"),
            Iter::Each(k, _) => format!("[{k}]"),
        };
        let address = format!("{}{}{index}", self.insts[at.inst].prefix, tb.address());
        let phase = if is_data {
            Some(self.read_phase_in(s, pass, at, iter.clone(), stack))
        } else {
            None
        };
        let computed = |attr: &str| -> Value {
            if let Some(phase) = &phase {
                match phase {
                    ReadPhase::Plan => {
                        Value::Unknown(Unknown::at_plan(format!("{address}.{attr}")))
                    }
                    ReadPhase::Apply(_) => Value::at_apply(format!("{address}.{attr}")),
                    ReadPhase::Unknown(r) => Value::undecidable(r.clone()),
                }
            } else {
                Value::at_apply(format!("{address}.{attr}"))
            }
        };
        if let Some(names) = self
            .read_attrs
            .get(&(self.insts[at.inst].module, tb.address()))
        {
            for n in names {
                if !obj.contains_key(n) {
                    // Planned by the provider from the configuration (a reviewed table).
                    let v = (!is_data)
                        .then(|| {
                            super::planned::planned(
                                &tb.type_name,
                                n,
                                &obj,
                                &format!("{address}.{n}"),
                            )
                        })
                        .flatten()
                        .unwrap_or_else(|| computed(n));
                    obj.insert(n.clone(), v);
                }
            }
        }
        for n in ["id", "arn"] {
            if !obj.contains_key(n) {
                let v = computed(n);
                obj.insert(n.to_string(), v);
            }
        }
        Value::Object(obj)
    }

    /// The value of a variable in an instance.
    fn var_value(
        &self,
        s: &Workspace,
        pass: usize,
        inst: usize,
        name: &str,
        stack: &RefCell<Vec<Key>>,
    ) -> Option<Value> {
        let tf = s.terraform();
        let module = self.module(tf, inst);
        let var = module.block(&format!("var.{name}"))?;
        let at = var.at;
        Some(self.memo(stack, (pass, inst, Slot::Var(name.to_string())), || {
            let decl = tf.hcl_block(&s.repo, at);
            let type_expr = decl.and_then(|b| b.body.get_attribute("type")).map(|a| &a.value);
            let default = decl
                .and_then(|b| b.body.get_attribute("default"))
                .map(|a| expr::eval(&a.value, &EmptyScope));
            let given = match self.insts[inst].parent {
                None => self
                    .inputs
                    .get(&inst)
                    .and_then(|p| p.get(pass))
                    .and_then(|m| m.get(name))
                    .map(|i| match i {
                        Input::Value(v) => v.clone(),
                        Input::Raw(text) => parse_raw(text, type_expr),
                    }),
                Some((parent, block)) => self
                    .hcl(s, BlockAt { inst: parent, block })
                    .and_then(|call| call.body.get_attribute(name))
                    .map(|a| {
                        let cx = self.ctx(s, pass, parent, self.bind(inst, pass), stack);
                        expr::eval(&a.value, &cx)
                    }),
            };
            let v = match (given, default) {
                (Some(Value::Null), Some(d)) if !non_nullable(decl) => {
                    let _ = d;
                    Value::Null
                }
                (Some(Value::Null), Some(d)) => d,
                (Some(v), _) => v,
                (None, Some(d)) => d,
                (None, None) => Value::undecidable(match self.insts[inst].parent {
                    None => format!(
                        "`var.{name}` has no value (no default; not set in terraform.tfvars, *.auto.tfvars, --var-file, --var or TF_VAR_{name})"
                    ),
                    Some(_) => format!(
                        "`var.{name}` of {} has no value: the module call does not set it and it has no default",
                        self.insts[inst].prefix.trim_end_matches('.')
                    ),
                }),
            };
            match type_expr {
                Some(t) => apply_type_defaults(t, v, 0),
                None => v,
            }
        }))
    }

    fn local_value(
        &self,
        s: &Workspace,
        pass: usize,
        inst: usize,
        name: &str,
        stack: &RefCell<Vec<Key>>,
    ) -> Option<Value> {
        let tf = s.terraform();
        let module = self.module(tf, inst);
        let def = module.local(name)?;
        let e = tf.local_expr(&s.repo, def)?;
        Some(
            self.memo(stack, (pass, inst, Slot::Local(name.to_string())), || {
                let cx = self.ctx(s, pass, inst, Iter::None, stack);
                expr::eval(e, &cx)
            }),
        )
    }

    fn output_value(
        &self,
        s: &Workspace,
        pass: usize,
        inst: usize,
        name: &str,
        stack: &RefCell<Vec<Key>>,
    ) -> Option<Value> {
        let tf = s.terraform();
        let module = self.module(tf, inst);
        let out = module.block(&format!("output.{name}"))?;
        let attr = tf.attribute(&s.repo, out.at, "value")?;
        Some(
            self.memo(stack, (pass, inst, Slot::Output(name.to_string())), || {
                let cx = self.ctx(s, pass, inst, Iter::None, stack);
                expr::eval(&attr.value, &cx)
            }),
        )
    }

    fn module_value(
        &self,
        s: &Workspace,
        pass: usize,
        inst: usize,
        call: &str,
        attrs: &[&str],
        stack: &RefCell<Vec<Key>>,
    ) -> Option<(Value, usize)> {
        let tf = s.terraform();
        let module = self.module(tf, inst);
        let call_block = module.block(&format!("module.{call}"))?;
        let Some(&child) = self.insts[inst].children.get(call) else {
            let src = module
                .call(call)
                .map(|c| match &c.source {
                    ModuleSource::External(x) => format!("an external module ({x}), not inspected"),
                    _ => "not a module of this repository".to_string(),
                })
                .unwrap_or_default();
            return Some((Value::undecidable(format!("`module.{call}` is {src}")), 1));
        };
        let hb = tf.hcl_block(&s.repo, call_block.at);
        let iterated = hb.is_some_and(|b| {
            b.body.get_attribute("count").is_some() || b.body.get_attribute("for_each").is_some()
        });
        if !iterated && attrs.len() >= 2 {
            let v = self
                .output_value(s, pass, child, attrs[1], stack)
                .unwrap_or_else(|| {
                    Value::undecidable(format!("`module.{call}` has no output `{}`", attrs[1]))
                });
            return Some((v, 2));
        }
        let outputs_of = |child: usize| -> Value {
            Value::Object(
                self.module(tf, child)
                    .blocks_of(BlockKind::Output)
                    .filter_map(|o| {
                        self.output_value(s, pass, child, &o.name, stack)
                            .map(|v| (o.name.clone(), v))
                    })
                    .collect(),
            )
        };
        // A call expanded into its instances: each instance's own outputs.
        if let Some(list) = self.insts[inst].keyed.get(call) {
            let present = list.iter().filter_map(|&c| match self.bind(c, pass) {
                Iter::None => None,
                b => Some((b, c)),
            });
            let v = if hb.is_some_and(|b| b.body.get_attribute("count").is_some()) {
                Value::List(present.map(|(_, c)| outputs_of(c)).collect())
            } else {
                Value::Object(
                    present
                        .filter_map(|(b, c)| match b {
                            Iter::Each(k, _) => k.as_str().map(|k| (k.to_string(), outputs_of(c))),
                            _ => None,
                        })
                        .collect(),
                )
            };
            return Some((v, 1));
        }
        let obj = outputs_of(child);
        if !iterated {
            return Some((obj, 1));
        }
        let at = BlockAt {
            inst,
            block: self.block_index(tf, inst, &format!("module.{call}"))?,
        };
        let v = if hb.is_some_and(|b| b.body.get_attribute("count").is_some()) {
            match count_from_value(&self.own_count_value(s, pass, at, stack)) {
                Count::Known(n) => Value::List(vec![obj; n.min(1000) as usize]),
                Count::Unknown(u) => Value::Unknown(u),
            }
        } else {
            let fe = hb.and_then(|b| b.body.get_attribute("for_each"));
            let cx = self.ctx(s, pass, inst, Iter::None, stack);
            match fe.map(|a| expr::eval(&a.value, &cx)) {
                Some(Value::Object(m)) => {
                    Value::Object(m.into_keys().map(|k| (k, obj.clone())).collect())
                }
                Some(Value::List(items)) => Value::Object(
                    items
                        .iter()
                        .filter_map(|v| v.as_str().map(|k| (k.to_string(), obj.clone())))
                        .collect(),
                ),
                Some(Value::Unknown(u)) => Value::Unknown(u),
                _ => Value::undecidable("for_each of the module call cannot be evaluated"),
            }
        };
        Some((v, 1))
    }

    /// The index of a block by address in an instance's module.
    pub fn block_index(&self, tf: &TerraformModel, inst: usize, address: &str) -> Option<usize> {
        let m = self.module(tf, inst);
        let b = m.block(address)?;
        m.blocks.iter().position(|x| x.at == b.at)
    }

    /// The block a reference points at in an instance (resource, data source, module call).
    pub fn target(&self, tf: &TerraformModel, inst: usize, r: &Reference) -> Option<BlockAt> {
        let addr = match r.root.as_str() {
            "data" if r.attrs.len() >= 2 => format!("data.{}.{}", r.attrs[0], r.attrs[1]),
            "module" if !r.attrs.is_empty() => format!("module.{}", r.attrs[0]),
            root if !is_reserved_root(root) && !r.attrs.is_empty() => {
                format!("{root}.{}", r.attrs[0])
            }
            _ => return None,
        };
        self.block_index(tf, inst, &addr)
            .map(|block| BlockAt { inst, block })
    }

    /// The module calls preflight cannot read (registry, git and other remote sources)
    /// that a block waits for: referenced by it or in its `depends_on`, through the
    /// `depends_on` of what it depends on, or through the `depends_on` of the calls of the
    /// modules it sits in. Each as `(address, source)`. What such a module creates is
    /// unseen, so a question about it ("does anything create this namespace?") cannot be
    /// answered with "no".
    pub fn opaque_dependencies(&self, s: &Workspace, at: BlockAt) -> Vec<(String, String)> {
        let tf = s.terraform();
        let mut out: Vec<(String, String)> = Vec::new();
        let mut seen: HashSet<BlockAt> = HashSet::new();
        let mut work = vec![at];
        let mut cur = at.inst;
        while let Some((p, call)) = self.insts[cur].parent {
            work.push(BlockAt {
                inst: p,
                block: call,
            });
            cur = p;
        }
        while let Some(b) = work.pop() {
            if !seen.insert(b) || seen.len() > 512 {
                continue;
            }
            let tb = &self.module(tf, b.inst).blocks[b.block];
            if tb.kind == BlockKind::Module
                && let Some(call) = self.module(tf, b.inst).call(&tb.name)
                && let ModuleSource::External(src) = &call.source
            {
                let addr = self.address(tf, b);
                if !out.iter().any(|(a, _)| *a == addr) {
                    out.push((addr, src.clone()));
                }
            }
            // The block's own references, then only `depends_on` edges: what the blocks
            // it refers to read in turn is their input, not something they wait for.
            let refs = self.block_refs(s, b);
            for r in refs.iter() {
                if b != at && !r.depends_on {
                    continue;
                }
                if let Some(t) = self.target(tf, b.inst, &r.reference) {
                    work.push(t);
                }
            }
        }
        out
    }

    /// Every reference of a block (in all its attributes, nested blocks included), with
    /// the conditions guarding each. Cached per module block.
    pub fn block_refs(&self, s: &Workspace, at: BlockAt) -> std::sync::Arc<Vec<GuardedRef>> {
        let key = (self.insts[at.inst].module, at.block);
        if let Ok(m) = self.refs.lock()
            && let Some(v) = m.get(&key)
        {
            return v.clone();
        }
        let mut out = Vec::new();
        if let Some(block) = self.hcl(s, at) {
            let file = s
                .repo
                .file(self.module(s.terraform(), at.inst).blocks[at.block].at.file);
            for be in expr::body_expressions_with_path(&block.body) {
                let mut found = Vec::new();
                let mut guards: Vec<String> = be
                    .dynamic_for_each
                    .iter()
                    .flat_map(|fe| collection_guards(fe))
                    .collect();
                guarded(be.expr, &mut guards, false, &mut found, 0);
                for g in found {
                    let span = file.span(g.reference.span.clone().unwrap_or(0..0));
                    let splat = matches!(g.reference.rest.first(), Some(RefStep::Splat));
                    out.push(GuardedRef {
                        span,
                        guards: g.guards,
                        tolerant: g.tolerant || splat,
                        depends_on: be.key == "depends_on",
                        attribute: be.key.to_string(),
                        reference: g.reference,
                        for_collection: g.for_collection,
                    });
                }
            }
        }
        let arc = std::sync::Arc::new(out);
        if let Ok(mut m) = self.refs.lock() {
            m.insert(key, arc.clone());
        }
        arc
    }

    /// The references of a local's expression.
    fn local_refs(&self, s: &Workspace, inst: usize, name: &str) -> Vec<Reference> {
        let tf = s.terraform();
        self.module(tf, inst)
            .local(name)
            .and_then(|d| tf.local_expr(&s.repo, d))
            .map(expr::references)
            .unwrap_or_default()
    }

    /// The resources and data sources an expression set depends on, transitively through
    /// locals, variables (into the caller), module outputs and other blocks. Bounded.
    pub fn dependencies(
        &self,
        s: &Workspace,
        inst: usize,
        exprs: &[&Expression],
    ) -> BTreeSet<BlockAt> {
        let tf = s.terraform();
        #[derive(PartialEq, Eq, Hash, Clone)]
        enum Node {
            Local(usize, String),
            Var(usize, String),
            Output(usize, String),
            Block(BlockAt),
        }
        let mut out = BTreeSet::new();
        let mut seen: HashSet<Node> = HashSet::new();
        let mut work: Vec<(usize, Reference)> = Vec::new();
        for e in exprs {
            work.extend(expr::references(e).into_iter().map(|r| (inst, r)));
        }
        let mut steps = 0usize;
        while let Some((i, r)) = work.pop() {
            steps += 1;
            if steps > 100_000 {
                s.verbose("dependency walk stopped: too many references");
                break;
            }
            let node = match r.root.as_str() {
                "var" => r.attrs.first().map(|n| Node::Var(i, n.clone())),
                "local" => r.attrs.first().map(|n| Node::Local(i, n.clone())),
                "module" => match (r.attrs.first(), r.attrs.get(1)) {
                    (Some(m), Some(o)) => self.insts[i]
                        .children
                        .get(m)
                        .map(|c| Node::Output(*c, o.clone())),
                    (Some(m), None) => {
                        if let Some(&c) = self.insts[i].children.get(m) {
                            for o in self.module(tf, c).blocks_of(BlockKind::Output) {
                                let n = Node::Output(c, o.name.clone());
                                if seen.insert(n)
                                    && let Some(a) = tf.attribute(&s.repo, o.at, "value")
                                {
                                    work.extend(
                                        expr::references(&a.value).into_iter().map(|r| (c, r)),
                                    );
                                }
                            }
                        }
                        None
                    }
                    _ => None,
                },
                _ => self.target(tf, i, &r).map(Node::Block),
            };
            let Some(node) = node else { continue };
            if !seen.insert(node.clone()) {
                continue;
            }
            match node {
                Node::Local(i, n) => {
                    work.extend(self.local_refs(s, i, &n).into_iter().map(|r| (i, r)))
                }
                Node::Var(i, n) => {
                    if let Some((p, b)) = self.insts[i].parent
                        && let Some(call) = self.hcl(s, BlockAt { inst: p, block: b })
                        && let Some(a) = call.body.get_attribute(&n)
                    {
                        work.extend(expr::references(&a.value).into_iter().map(|r| (p, r)));
                    }
                }
                Node::Output(c, o) => {
                    if let Some(ob) = self.module(tf, c).block(&format!("output.{o}"))
                        && let Some(a) = tf.attribute(&s.repo, ob.at, "value")
                    {
                        work.extend(expr::references(&a.value).into_iter().map(|r| (c, r)));
                    }
                }
                Node::Block(b) => {
                    let kind = self.module(tf, b.inst).blocks[b.block].kind;
                    if matches!(kind, BlockKind::Resource | BlockKind::Data) {
                        out.insert(b);
                    }
                    if let Some(block) = self.hcl(s, b) {
                        for (_, e) in expr::body_expressions(&block.body) {
                            work.extend(expr::references(e).into_iter().map(|r| (b.inst, r)));
                        }
                    }
                }
            }
        }
        out
    }

    /// The provider configuration block a resource, data source (or provider user) uses.
    /// `None` when the provider has no configuration block in the repository.
    pub fn provider_of(&self, s: &Workspace, at: BlockAt) -> Option<BlockAt> {
        let tf = s.terraform();
        let tb = &self.module(tf, at.inst).blocks[at.block];
        if !matches!(tb.kind, BlockKind::Resource | BlockKind::Data) {
            return None;
        }
        let explicit = self
            .hcl(s, at)
            .and_then(|b| b.body.get_attribute("provider"))
            .map(|a| canonical_text(&a.value));
        let local = explicit.unwrap_or_else(|| provider_for_type(&tb.type_name).to_string());
        self.resolve_provider(s, at.inst, &local, 0)
    }

    fn resolve_provider(
        &self,
        s: &Workspace,
        inst: usize,
        local: &str,
        depth: usize,
    ) -> Option<BlockAt> {
        if depth > MAX_MODULE_DEPTH {
            return None;
        }
        let tf = s.terraform();
        let module = self.module(tf, inst);
        let address = format!("provider.{local}");
        if let Some(i) = self.block_index(tf, inst, &address) {
            return Some(BlockAt { inst, block: i });
        }
        let (parent, call) = self.insts[inst].parent?;
        let _ = module;
        // `providers = { kubernetes = kubernetes.eks }` in the call.
        if let Some(cb) = self.hcl(
            s,
            BlockAt {
                inst: parent,
                block: call,
            },
        ) && let Some(a) = cb.body.get_attribute("providers")
            && let Expression::Object(o) = &a.value
        {
            for (k, v) in o.iter() {
                let key = match k {
                    hcl_edit::expr::ObjectKey::Ident(id) => id.value().as_str().to_string(),
                    hcl_edit::expr::ObjectKey::Expression(e) => canonical_text(e),
                };
                if key == local {
                    return self.resolve_provider(s, parent, &canonical_text(v.expr()), depth + 1);
                }
            }
        }
        if local.contains('.') {
            return None;
        }
        self.resolve_provider(s, parent, local, depth + 1)
    }

    /// The objects a root creates (see [`Objects`]), built on first use.
    pub fn objects(&self, s: &Workspace, root_pos: usize) -> &Objects {
        self.objects[root_pos].get_or_init(|| self.build_objects(s, self.roots[root_pos]))
    }

    /// The provider configurations of a root: what each reads and which blocks use it.
    pub fn providers(&self, s: &Workspace, root_pos: usize) -> &Providers {
        self.providers[root_pos].get_or_init(|| {
            let tf = s.terraform();
            let root = self.roots[root_pos];
            let mut p = Providers::default();
            for at in self.blocks_of_root(tf, root) {
                let kind = self.module(tf, at.inst).blocks[at.block].kind;
                match kind {
                    BlockKind::Provider => {
                        let exprs: Vec<&Expression> = self
                            .hcl(s, at)
                            .map(|b| {
                                expr::body_expressions(&b.body)
                                    .into_iter()
                                    .map(|(_, e)| e)
                                    .collect()
                            })
                            .unwrap_or_default();
                        p.reads.insert(at, self.dependencies(s, at.inst, &exprs));
                        p.users.entry(at).or_default();
                    }
                    BlockKind::Resource | BlockKind::Data => {
                        if let Some(pc) = self.provider_of(s, at) {
                            p.users.entry(pc).or_default().push(at);
                        }
                    }
                    _ => {}
                }
            }
            for (pc, deps) in &p.reads {
                for d in deps {
                    p.fed.entry(*d).or_default().push(*pc);
                }
            }
            p
        })
    }

    fn build_objects(&self, s: &Workspace, root: usize) -> Objects {
        let tf = s.terraform();
        let mut objects = Objects::default();
        let mut index: HashMap<(String, String, BlockAt), usize> = HashMap::new();
        let blocks: Vec<BlockAt> = self.blocks_of_root(tf, root).collect();
        for (pass, _) in self.passes.iter().enumerate() {
            for &at in &blocks {
                let tb = &self.module(tf, at.inst).blocks[at.block];
                if tb.kind != BlockKind::Resource {
                    continue;
                }
                let count = self.count(s, pass, at);
                let idents = match self.created_idents(s, pass, at) {
                    Ok(v) => v,
                    Err((ty, reason)) => {
                        let list = objects.unresolved.entry(ty).or_default();
                        if !list.iter().any(|(b, _)| *b == at) {
                            list.push((at, reason));
                        }
                        continue;
                    }
                };
                for (ty, ident) in idents {
                    let key = (ty.clone(), ident.clone(), at);
                    let pos = *index.entry(key).or_insert_with(|| {
                        let list = objects
                            .by_key
                            .entry((ty.clone(), ident.clone()))
                            .or_default();
                        list.push(Created {
                            at,
                            counts: vec![Count::Known(0); self.passes.len()],
                        });
                        list.len() - 1
                    });
                    if let Some(c) = objects
                        .by_key
                        .get_mut(&(ty, ident))
                        .and_then(|l| l.get_mut(pos))
                    {
                        c.counts[pass] = count.clone();
                    }
                }
            }
        }
        objects
    }

    /// The (type, identifying value) pairs a resource creates in a pass, or the type and why
    /// its identifying value cannot be evaluated.
    fn created_idents(
        &self,
        s: &Workspace,
        pass: usize,
        at: BlockAt,
    ) -> Result<Vec<(String, String)>, (String, String)> {
        let tf = s.terraform();
        let tb = &self.module(tf, at.inst).blocks[at.block];
        let ty = tb.type_name.as_str();
        let Some(block) = self.hcl(s, at) else {
            return Ok(Vec::new());
        };
        let iters = match self.iters(s, pass, at) {
            Ok(v) => v,
            Err(u) => {
                let kind = if is_namespace_creator(s, block) {
                    "namespace"
                } else {
                    ty
                };
                return Err((
                    kind.to_string(),
                    format!("its instances cannot be enumerated: {}", unknown_text(&u)),
                ));
            }
        };
        // A counted creator gated to zero still names its object (with its count zero).
        let iters = if iters.is_empty() && block.body.get_attribute("count").is_some() {
            vec![Iter::Count(0)]
        } else {
            iters
        };
        let mut out = Vec::new();
        for iter in iters {
            if ty == "helm_release" {
                match self.local_chart_namespaces(s, pass, at, block, iter.clone()) {
                    Ok(names) => {
                        out.extend(names.into_iter().map(|n| ("namespace".to_string(), n)))
                    }
                    Err(reason) => return Err(("namespace".to_string(), reason)),
                }
            }
            let (kind, v) = match ty {
                "kubernetes_namespace" | "kubernetes_namespace_v1" => (
                    "namespace",
                    nested_attr(block, "metadata", "name")
                        .map(|e| self.eval_iter(s, pass, at.inst, iter.clone(), e))
                        .unwrap_or_else(|| Value::undecidable("metadata.name is not set")),
                ),
                "helm_release" => {
                    let create = block.body.get_attribute("create_namespace").map(|a| {
                        self.eval_iter(s, pass, at.inst, iter.clone(), &a.value)
                            .truthiness()
                    });
                    match create {
                        Some(Truth::True) => (
                            "namespace",
                            block
                                .body
                                .get_attribute("namespace")
                                .map(|a| self.eval_iter(s, pass, at.inst, iter.clone(), &a.value))
                                .unwrap_or(Value::string("default")),
                        ),
                        Some(Truth::Unknown) => {
                            return Err(("namespace".into(), "whether it creates its namespace (`create_namespace`) cannot be evaluated".into()));
                        }
                        _ => (
                            ty,
                            attr_value(self, s, pass, at, block, iter.clone(), "name"),
                        ),
                    }
                }
                "kubernetes_manifest" | "kubectl_manifest" => {
                    let m = self.manifest(s, pass, at, iter.clone());
                    match m {
                        Ok(m) if manifest_kind(&m).as_deref() == Some("Namespace") => (
                            "namespace",
                            m.as_object()
                                .and_then(|o| o.get("metadata"))
                                .and_then(|md| md.as_object())
                                .and_then(|md| md.get("name"))
                                .cloned()
                                .unwrap_or_else(|| {
                                    Value::undecidable("the manifest has no metadata.name")
                                }),
                        ),
                        Ok(_) => continue,
                        Err(reason) => {
                            if block_text_mentions_namespace(s, self, at) {
                                return Err(("namespace".into(), reason));
                            }
                            continue;
                        }
                    }
                }
                _ => {
                    let path = resource_ident(ty);
                    (ty, attr_value(self, s, pass, at, block, iter.clone(), path))
                }
            };
            match v {
                Value::String(name) => out.push((kind.to_string(), name)),
                Value::Unknown(u) if kind == "namespace" => {
                    return Err((kind.to_string(), unknown_text(&u)));
                }
                Value::Unknown(Unknown::Undecidable { reason })
                    if block.body.get_attribute(resource_ident(ty)).is_some() =>
                {
                    return Err((kind.to_string(), reason));
                }
                _ => {}
            }
        }
        Ok(out)
    }

    /// The Namespaces a `helm_release` of a chart in this repository (a local `chart`
    /// path) renders, with its `values` and `set` blocks. Empty for a chart from a
    /// repository; an error (the reason) when a template that would render a Namespace
    /// cannot be evaluated.
    fn local_chart_namespaces(
        &self,
        s: &Workspace,
        pass: usize,
        at: BlockAt,
        block: &Block,
        iter: Iter,
    ) -> Result<Vec<String>, String> {
        use crate::model::helm::Outcome;
        let Some(LocalRender {
            dir,
            chart,
            rendered,
            unknown,
        }) = self.local_chart_render(s, pass, at, block, iter)
        else {
            return Ok(Vec::new());
        };
        if let Some(u) = &unknown
            && chart
                .templates
                .iter()
                .any(|&f| s.repo.file(f).text.contains("kind: Namespace"))
        {
            return Err(format!(
                "the chart `{dir}` it installs may render Namespaces from values preflight cannot evaluate ({u})"
            ));
        }
        let mut names = Vec::new();
        for rf in &rendered.files {
            let mentions_namespace = || s.repo.file(rf.file).text.contains("kind: Namespace");
            match &rf.outcome {
                Outcome::Docs(docs) => {
                    for d in docs {
                        let r = d.root();
                        if r.str_at(&["kind"]) == Some("Namespace")
                            && let Some(n) = r.str_at(&["metadata", "name"])
                        {
                            names.push(n.to_string());
                        }
                    }
                }
                Outcome::CannotTell { reason, .. } if mentions_namespace() => {
                    return Err(format!(
                        "the chart `{dir}` it installs renders its Namespaces from what preflight cannot evaluate ({reason})"
                    ));
                }
                Outcome::Failed(f) if mentions_namespace() => {
                    return Err(format!("rendering the chart `{dir}` fails ({})", f.message));
                }
                _ => {}
            }
        }
        Ok(names)
    }

    /// The manifests the `helm_release`s of local charts of every root render, in any pass
    /// where they exist, one render per release instance (values that cannot be evaluated
    /// give nothing). Their spans point into the chart's templates and values.
    pub fn helm_release_manifests(&self, s: &Workspace) -> Vec<crate::parse::yaml::YamlDoc> {
        use crate::model::helm::Outcome;
        let tf = s.terraform();
        let mut out = Vec::new();
        let mut seen: HashSet<(BlockAt, String)> = HashSet::new();
        for &root in &self.roots {
            for at in self.blocks_of_root(tf, root) {
                let tb = &self.module(tf, at.inst).blocks[at.block];
                if tb.kind != BlockKind::Resource || tb.type_name != "helm_release" {
                    continue;
                }
                let Some(block) = self.hcl(s, at) else {
                    continue;
                };
                for pass in 0..self.passes.len() {
                    if self.count(s, pass, at).is_zero() {
                        continue;
                    }
                    let Ok(iters) = self.iters(s, pass, at) else {
                        continue;
                    };
                    for iter in iters {
                        // One render per instance, whatever the pass.
                        if !seen.insert((at, format!("{iter:?}"))) {
                            continue;
                        }
                        let Some(r) = self.local_chart_render(s, pass, at, block, iter) else {
                            continue;
                        };
                        if r.unknown.is_some() {
                            continue;
                        }
                        for rf in r.rendered.files {
                            if let Outcome::Docs(docs) = rf.outcome {
                                out.extend(docs);
                            }
                        }
                    }
                }
            }
        }
        out
    }

    /// Render the local chart a `helm_release` installs (`None`: not a chart of this
    /// repository).
    fn local_chart_render(
        &self,
        s: &Workspace,
        pass: usize,
        at: BlockAt,
        block: &Block,
        iter: Iter,
    ) -> Option<LocalRender> {
        use crate::model::helm::{self, value};
        if block.body.get_attribute("repository").is_some() {
            return None;
        }
        let chart = block.body.get_attribute("chart")?;
        let Value::String(path) = self.eval_iter(s, pass, at.inst, iter.clone(), &chart.value)
        else {
            return None;
        };
        let tf = s.terraform();
        let root_dir = &self.module(tf, self.insts[at.inst].root).dir;
        let root = s.repo.root.to_string_lossy().into_owned();
        let rel = match path.strip_prefix(&root) {
            Some(r) => r.trim_start_matches('/').to_string(),
            None if path.starts_with('/') => return None,
            // Relative to the directory Terraform runs in: the root module's.
            None if root_dir.is_empty() => path.clone(),
            None => format!("{root_dir}/{path}"),
        };
        let dir = crate::model::gitops::deploy_normalize_path(&rel)?;
        let chart = helm::chart_at(&s.repo, &dir)?;
        let mut values = helm::chart_defaults(&s.repo, &chart);
        let mut unknown: Option<String> = None;
        if let Some(a) = block.body.get_attribute("values") {
            match self.eval_iter(s, pass, at.inst, iter.clone(), &a.value) {
                Value::List(docs) => {
                    for d in docs {
                        match d {
                            Value::String(text) => {
                                // A repository file read as is (`file(...)`): its
                                // parsed YAML, so values keep where they are written.
                                let same = s.repo.files.iter().find(|f| {
                                    f.kind == crate::source::FileKind::Yaml
                                        && f.text.len() == text.len()
                                        && *f.text == *text
                                });
                                match same.map(|f| s.repo.syntax(f.id)) {
                                    Some(crate::parse::Syntax::Yaml(docs)) => {
                                        for d in docs {
                                            value::merge(
                                                &mut values,
                                                &value::from_yaml(d.root(), 0),
                                            );
                                        }
                                    }
                                    _ => value::merge(
                                        &mut values,
                                        &helm::funcs::from_text_yaml(&text),
                                    ),
                                }
                            }
                            other => {
                                unknown.get_or_insert(format!(
                                    "a `values` entry is {}",
                                    other.type_name()
                                ));
                            }
                        }
                    }
                }
                Value::Unknown(u) => {
                    unknown.get_or_insert(unknown_text(&u));
                }
                _ => {}
            }
        }
        let sets: Vec<&Block> = block
            .body
            .blocks()
            .filter(|b| matches!(b.ident.as_str(), "set" | "set_sensitive"))
            .collect();
        for b in sets {
            let (Some(n), Some(v)) = (b.body.get_attribute("name"), b.body.get_attribute("value"))
            else {
                continue;
            };
            let name = self.eval_iter(s, pass, at.inst, iter.clone(), &n.value);
            let val = self.eval_iter(s, pass, at.inst, iter.clone(), &v.value);
            match (name, val) {
                (Value::String(n), Value::String(v)) => {
                    value::set_path(&mut values, &n, &v, self.span(s, at, None), false)
                }
                (Value::String(n), Value::Number(x)) => value::set_path(
                    &mut values,
                    &n,
                    &crate::model::helm::value::go_float(x),
                    self.span(s, at, None),
                    false,
                ),
                (Value::String(n), Value::Bool(x)) => value::set_path(
                    &mut values,
                    &n,
                    if x { "true" } else { "false" },
                    self.span(s, at, None),
                    false,
                ),
                _ => {
                    unknown.get_or_insert("a `set` value cannot be evaluated".to_string());
                }
            }
        }
        let release_name = match block
            .body
            .get_attribute("name")
            .map(|a| self.eval_iter(s, pass, at.inst, iter.clone(), &a.value))
        {
            Some(Value::String(n)) => n,
            _ => "release".to_string(),
        };
        let namespace = match block
            .body
            .get_attribute("namespace")
            .map(|a| self.eval_iter(s, pass, at.inst, iter.clone(), &a.value))
        {
            Some(Value::String(n)) => Some(n),
            None => Some("default".to_string()),
            _ => None,
        };
        let rendered = helm::render(
            &s.repo,
            &chart,
            values,
            &helm::Release {
                name: release_name,
                namespace,
            },
        );
        Some(LocalRender {
            dir,
            chart,
            rendered,
            unknown,
        })
    }

    /// A `kubernetes_manifest`'s `manifest` or a `kubectl_manifest`'s decoded `yaml_body`.
    pub fn manifest(
        &self,
        s: &Workspace,
        pass: usize,
        at: BlockAt,
        iter: Iter,
    ) -> Result<Value, String> {
        let Some(block) = self.hcl(s, at) else {
            return Err("the block cannot be read".into());
        };
        let tf = s.terraform();
        let ty = self.module(tf, at.inst).blocks[at.block].type_name.as_str();
        if ty == "kubernetes_manifest" {
            let Some(a) = block.body.get_attribute("manifest") else {
                return Err("`manifest` is not set".into());
            };
            return match self.eval_iter(s, pass, at.inst, iter, &a.value) {
                Value::Unknown(u) => Err(unknown_text(&u)),
                v => Ok(v),
            };
        }
        let Some(a) = block.body.get_attribute("yaml_body") else {
            return Err("`yaml_body` is not set".into());
        };
        match self.eval_iter(s, pass, at.inst, iter, &a.value) {
            Value::String(text) => {
                yaml_to_value(&text).ok_or_else(|| "yaml_body is not a YAML mapping".to_string())
            }
            Value::Unknown(u) => Err(unknown_text(&u)),
            other => Err(format!("yaml_body is a {}", other.type_name())),
        }
    }

    /// The known text of every value Terraform marks sensitive in the roots of this
    /// analysis, in every module instance and selected pass (strings and numbers at any
    /// depth; unknown parts have no text). Terraform's mark follows the value through every
    /// operation and function, so besides each `sensitive = true` variable and output this
    /// is every local, output and resource or data argument whose expression refers to a
    /// sensitive value (a sensitive variable, a local that does, a child module's sensitive
    /// output): `lower(var.token)` is as secret as `var.token`. Reports print `(sensitive)`
    /// in their place.
    pub fn sensitive_strings(&self, s: &Workspace) -> Vec<String> {
        let tf = s.terraform();
        let declared = |at: super::BlockRef| {
            tf.hcl_block(&s.repo, at).is_some_and(|b| {
                b.body
                    .get_attribute("sensitive")
                    .map(|a| expr::eval(&a.value, &EmptyScope))
                    == Some(Value::Bool(true))
            })
        };
        let mut exprs: Vec<(usize, &Expression)> = Vec::new();
        let mut vars: Vec<(usize, String)> = Vec::new();
        for inst in 0..self.insts.len() {
            let module = self.module(tf, inst);
            let sensitive_var: HashSet<&str> = module
                .variables()
                .filter(|b| declared(b.at))
                .map(|b| b.name.as_str())
                .collect();
            vars.extend(sensitive_var.iter().map(|n| (inst, n.to_string())));
            // Child calls whose module declares a sensitive output.
            let sensitive_output = |call: &str, out: &str| {
                self.insts[inst].children.get(call).is_some_and(|&c| {
                    self.module(tf, c)
                        .block(&format!("output.{out}"))
                        .is_some_and(|b| declared(b.at))
                })
            };
            // Locals that refer to a sensitive value, to a fixed point (bounded).
            let local_refs: Vec<(&str, Vec<expr::Reference>, Option<&Expression>)> = module
                .locals
                .iter()
                .map(|l| {
                    let e = tf.local_expr(&s.repo, l);
                    (
                        l.name.as_str(),
                        e.map(expr::references).unwrap_or_default(),
                        e,
                    )
                })
                .collect();
            let mut tainted_locals: HashSet<&str> = HashSet::new();
            let tainted = |r: &expr::Reference, locals: &HashSet<&str>| match r.root.as_str() {
                "var" => r
                    .attrs
                    .first()
                    .is_some_and(|n| sensitive_var.contains(n.as_str())),
                "local" => r.attrs.first().is_some_and(|n| locals.contains(n.as_str())),
                "module" => match (r.attrs.first(), r.attrs.get(1)) {
                    (Some(c), Some(o)) => sensitive_output(c, o),
                    _ => false,
                },
                _ => false,
            };
            for _ in 0..=local_refs.len().min(64) {
                let before = tainted_locals.len();
                for (name, refs, _) in &local_refs {
                    if !tainted_locals.contains(name)
                        && refs.iter().any(|r| tainted(r, &tainted_locals))
                    {
                        tainted_locals.insert(name);
                    }
                }
                if tainted_locals.len() == before {
                    break;
                }
            }
            for (name, _, e) in &local_refs {
                if let (true, Some(e)) = (tainted_locals.contains(name), e) {
                    exprs.push((inst, e));
                }
            }
            for b in &module.blocks {
                let Some(block) = tf.hcl_block(&s.repo, b.at) else {
                    continue;
                };
                match b.kind {
                    BlockKind::Output => {
                        if let Some(a) = block.body.get_attribute("value")
                            && (declared(b.at)
                                || expr::references(&a.value)
                                    .iter()
                                    .any(|r| tainted(r, &tainted_locals)))
                        {
                            exprs.push((inst, &a.value));
                        }
                    }
                    BlockKind::Resource | BlockKind::Data | BlockKind::Module => {
                        for (_, e) in expr::body_expressions(&block.body) {
                            if expr::references(e)
                                .iter()
                                .any(|r| tainted(r, &tainted_locals))
                            {
                                exprs.push((inst, e));
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        let mut out = BTreeSet::new();
        for &pass in &self.selected {
            for (inst, name) in &vars {
                let stack = RefCell::new(Vec::new());
                if let Some(v) = self.var_value(s, pass, *inst, name, &stack) {
                    leaf_texts(&v, &mut out, 0);
                }
            }
            for &(inst, e) in &exprs {
                leaf_texts(&self.eval(s, pass, inst, e), &mut out, 0);
            }
        }
        out.into_iter().collect()
    }

    /// The locals, variables and outputs of the roots of this analysis whose value is
    /// "cannot tell" because it is over the value or work budget (it would copy or process
    /// too much), where the budget was spent: their spans and the reason. Every local,
    /// variable and output of every instance is evaluated in every selected pass.
    pub fn over_budget(&self, s: &Workspace) -> Vec<(Span, String)> {
        let tf = s.terraform();
        let mut out: Vec<(Span, String)> = Vec::new();
        let mut seen = HashSet::new();
        for inst in 0..self.insts.len() {
            let module = self.module(tf, inst);
            let mut slots: Vec<(Span, Slot)> = module
                .locals
                .iter()
                .map(|l| (l.span, Slot::Local(l.name.clone())))
                .collect();
            for b in &module.blocks {
                match b.kind {
                    BlockKind::Variable => slots.push((b.header, Slot::Var(b.name.clone()))),
                    BlockKind::Output => slots.push((b.header, Slot::Output(b.name.clone()))),
                    _ => {}
                }
            }
            for (span, slot) in slots {
                for &pass in &self.selected {
                    let stack = RefCell::new(Vec::new());
                    let v = match &slot {
                        Slot::Local(n) => self.local_value(s, pass, inst, n, &stack),
                        Slot::Var(n) => self.var_value(s, pass, inst, n, &stack),
                        Slot::Output(n) => self.output_value(s, pass, inst, n, &stack),
                        _ => None,
                    };
                    let own = format!("{} is {OVER_BUDGET}", slot_text(&slot));
                    if let Some(Value::Unknown(Unknown::Undecidable { reason })) = v
                        && reason.starts_with(&own)
                        && seen.insert((span.file, span.start))
                    {
                        out.push((span, reason));
                    }
                }
            }
        }
        out
    }

    /// Whether any variable or output of the model is declared `sensitive` (so that
    /// [`Analysis::sensitive_strings`] is worth asking).
    pub fn declares_sensitive(s: &Workspace) -> bool {
        let tf = s.terraform();
        tf.modules.iter().any(|m| {
            m.blocks.iter().any(|b| {
                matches!(b.kind, BlockKind::Variable | BlockKind::Output)
                    && tf
                        .hcl_block(&s.repo, b.at)
                        .is_some_and(|h| h.body.get_attribute("sensitive").is_some())
            })
        })
    }

    /// The Kubernetes objects the `kubernetes_manifest` and `kubectl_manifest` resources of
    /// every root create, per pass (all passes), with the instance count. A block gated to
    /// zero in a pass yields nothing for that pass; a block whose instances cannot be
    /// enumerated yields its first instance's manifest with the unknown count.
    pub fn manifest_objects(&self, s: &Workspace) -> Vec<ManifestObject> {
        let tf = s.terraform();
        let mut out = Vec::new();
        for &root in &self.roots {
            for at in self.blocks_of_root(tf, root) {
                let tb = &self.module(tf, at.inst).blocks[at.block];
                if tb.kind != BlockKind::Resource
                    || !matches!(
                        tb.type_name.as_str(),
                        "kubernetes_manifest" | "kubectl_manifest"
                    )
                {
                    continue;
                }
                for pass in 0..self.passes.len() {
                    let inst_count = self.inst_count(s, pass, at.inst);
                    if inst_count.is_zero() {
                        continue;
                    }
                    let (iters, count) = match self.iters(s, pass, at) {
                        Ok(v) => (v, inst_count),
                        Err(u) => {
                            let first = match self.hcl(s, at) {
                                Some(b) if b.body.get_attribute("count").is_some() => {
                                    Iter::Count(0)
                                }
                                _ => Iter::None,
                            };
                            (vec![first], Count::Unknown(u))
                        }
                    };
                    for iter in iters {
                        match self.manifest(s, pass, at, iter) {
                            Ok(manifest) => out.push(ManifestObject {
                                at,
                                pass,
                                count: count.clone(),
                                manifest,
                            }),
                            Err(reason) => s.verbose(format!(
                                "{}: the manifest cannot be evaluated: {reason}",
                                self.address(tf, at)
                            )),
                        }
                    }
                }
            }
        }
        out
    }

    /// Find where a value of the form `origin` (an address with attributes) is declared.
    pub fn origin_block(&self, s: &Workspace, root: usize, origin: &str) -> Option<BlockAt> {
        let tf = s.terraform();
        // Split off leading `module.X.` segments to find the instance.
        let mut inst = root;
        let mut rest = origin;
        while let Some(r) = rest.strip_prefix("module.") {
            let (name, tail) = r.split_once('.')?;
            let name = name.split('[').next().unwrap_or(name);
            match self.insts[inst].children.get(name) {
                Some(&c) => {
                    inst = c;
                    rest = tail;
                }
                None => {
                    return self
                        .block_index(tf, inst, &format!("module.{name}"))
                        .map(|block| BlockAt { inst, block });
                }
            }
        }
        let parts: Vec<&str> = rest.split(['.', '[']).collect();
        let addr = if parts.first() == Some(&"data") && parts.len() >= 3 {
            format!("data.{}.{}", parts[1], parts[2])
        } else if parts.len() >= 2 {
            format!("{}.{}", parts[0], parts[1])
        } else {
            return None;
        };
        self.block_index(tf, inst, &addr)
            .map(|block| BlockAt { inst, block })
    }
}

fn strip_parens(mut e: &Expression) -> &Expression {
    while let Expression::Parenthesis(p) = e {
        e = p.inner();
    }
    e
}

fn slot_text(slot: &Slot) -> String {
    match slot {
        Slot::Var(n) => format!("`var.{n}`"),
        Slot::Local(n) => format!("`local.{n}`"),
        Slot::Output(n) => format!("output `{n}`"),
        Slot::Block(_) => "a block".into(),
        Slot::Count(_) => "a block's count".into(),
        Slot::InstCount => "a module call's count".into(),
        Slot::Assume(c, b) => format!("the assumption that `{c}` is {b}"),
    }
}

/// The strings and numbers of a value, at any depth (bounded), as text.
fn leaf_texts(v: &Value, out: &mut BTreeSet<String>, depth: usize) {
    if depth > 64 || out.len() > 10_000 {
        return;
    }
    match v {
        Value::String(t) => {
            out.insert(t.clone());
        }
        Value::Number(n) if n.is_finite() => {
            out.insert(if n.fract() == 0.0 && n.abs() < 1e15 {
                format!("{}", *n as i64)
            } else {
                n.to_string()
            });
        }
        Value::List(items) => items.iter().for_each(|i| leaf_texts(i, out, depth + 1)),
        Value::Object(m) => m.values().for_each(|i| leaf_texts(i, out, depth + 1)),
        _ => {}
    }
}

/// Words for an unknown.
pub fn unknown_text(u: &Unknown) -> String {
    match u {
        Unknown::AtApply { origin } => format!("known only after apply ({origin})"),
        Unknown::Undecidable { reason } => reason.clone(),
        Unknown::AtPlan { origin } => {
            format!("`{origin}` is known when Terraform plans, but preflight cannot see its value")
        }
        Unknown::AtApplyIf {
            origin,
            condition,
            decided_by,
            when,
        } => format!(
            "known only after apply ({origin}) when `{condition}` is {when}; Terraform decides that at plan from `{decided_by}`, which preflight cannot see"
        ),
    }
}

fn count_from_value(v: &Value) -> Count {
    match v {
        Value::Number(n) => Count::Known(*n as u64),
        Value::Unknown(u) => Count::Unknown(u.clone()),
        _ => Count::Unknown(Unknown::undecidable("count is not a number")),
    }
}

/// Roots of references that are not resource types.
pub fn is_reserved_root(root: &str) -> bool {
    matches!(
        root,
        "var" | "local" | "module" | "data" | "count" | "each" | "path" | "terraform" | "self"
    )
}

/// The provider a resource type belongs to by its prefix.
pub fn provider_for_type(ty: &str) -> &str {
    ty.split('_').next().unwrap_or(ty)
}

/// The argument identifying the object a resource type creates.
pub fn resource_ident(ty: &str) -> &'static str {
    match ty {
        "aws_s3_bucket" => "bucket",
        "aws_db_instance" | "aws_rds_cluster" => "identifier",
        "aws_acm_certificate" => "domain_name",
        "aws_iam_user" | "aws_iam_group" => "name",
        "aws_cloudwatch_log_group" => "name",
        _ => "name",
    }
}

/// What a data source type reads: (created resource type, its identifying argument in
/// the data source). `None` for data sources that read nothing the configuration creates
/// by name.
pub fn data_target(ty: &str) -> Option<(&str, &'static str)> {
    Some(match ty {
        "aws_eks_cluster_auth" => ("aws_eks_cluster", "name"),
        "aws_eks_cluster" => ("aws_eks_cluster", "name"),
        "aws_s3_bucket" => ("aws_s3_bucket", "bucket"),
        "aws_db_instance" => ("aws_db_instance", "db_instance_identifier"),
        "aws_rds_cluster" => ("aws_rds_cluster", "cluster_identifier"),
        "aws_acm_certificate" => ("aws_acm_certificate", "domain"),
        "aws_iam_user" => ("aws_iam_user", "user_name"),
        "kubernetes_namespace" | "kubernetes_namespace_v1" => ("namespace", "metadata.name"),
        // Data sources that compute rather than read.
        "aws_iam_policy_document"
        | "aws_caller_identity"
        | "aws_region"
        | "aws_partition"
        | "aws_availability_zones"
        | "template_file"
        | "external"
        | "http"
        | "local_file"
        | "archive_file"
        | "cloudinit_config"
        | "terraform_remote_state" => return None,
        other => (other, "name"),
    })
}

fn provider_is_kubernetes_like(ty: &str) -> bool {
    matches!(provider_for_type(ty), "kubernetes" | "helm" | "kubectl")
}

fn is_namespace_creator(s: &Workspace, block: &Block) -> bool {
    let _ = s;
    block.labels.first().is_some_and(|l| {
        matches!(
            l.as_str(),
            "kubernetes_namespace" | "kubernetes_namespace_v1"
        )
    })
}

fn block_text_mentions_namespace(s: &Workspace, an: &Analysis, at: BlockAt) -> bool {
    let tf = s.terraform();
    let b = &an.module(tf, at.inst).blocks[at.block];
    let text = &s.repo.file(b.at.file).text;
    text.get(b.span.range()).is_some_and(|t| {
        t.contains("kind: Namespace")
            || t.contains("kind = \"Namespace\"")
            || t.contains("\"Namespace\"")
    })
}

/// The `kind` of a manifest value.
pub fn manifest_kind(m: &Value) -> Option<String> {
    m.as_object()?.get("kind")?.as_str().map(str::to_owned)
}

/// An attribute of a nested block: `metadata { name = … }`.
pub fn nested_attr<'b>(block: &'b Block, nested: &str, key: &str) -> Option<&'b Expression> {
    block
        .body
        .blocks()
        .find(|b| b.ident.as_str() == nested)
        .and_then(|b| b.body.get_attribute(key))
        .map(|a| &a.value)
}

fn attr_value(
    an: &Analysis,
    s: &Workspace,
    pass: usize,
    at: BlockAt,
    block: &Block,
    iter: Iter,
    path: &str,
) -> Value {
    match block.body.get_attribute(path) {
        Some(a) => an.eval_iter(s, pass, at.inst, iter, &a.value),
        None => Value::Null,
    }
}

fn non_nullable(decl: Option<&Block>) -> bool {
    decl.and_then(|b| b.body.get_attribute("nullable"))
        .is_some_and(|a| matches!(&a.value, Expression::Bool(b) if !*b.value()))
}

/// Parse a `--var`/`TF_VAR_` value: literally for string (or untyped) variables, as an HCL
/// expression otherwise, like Terraform.
fn parse_raw(text: &str, type_expr: Option<&Expression>) -> Value {
    let is_string = match type_expr {
        None => true,
        Some(t) => canonical_text(t) == "string",
    };
    if is_string {
        return Value::String(text.to_string());
    }
    match crate::parse::hcl::parse_expression(text) {
        Some(e) => expr::eval(&e, &EmptyScope),
        None => Value::String(text.to_string()),
    }
}

/// Fill `optional(T, default)` attributes of object types that the value leaves out.
fn apply_type_defaults(ty: &Expression, v: Value, depth: usize) -> Value {
    if depth > 16 {
        return v;
    }
    let Expression::FuncCall(call) = strip_parens(ty) else {
        return v;
    };
    let name = call.name.name.as_str();
    let arg = call.args.iter().next();
    match (name, v) {
        ("object", Value::Object(mut m)) => {
            if let Some(Expression::Object(spec)) = arg {
                for (k, te) in spec.iter() {
                    let key = match k {
                        hcl_edit::expr::ObjectKey::Ident(id) => id.value().as_str().to_string(),
                        hcl_edit::expr::ObjectKey::Expression(e) => canonical_text(e),
                    };
                    let te = te.expr();
                    let (inner_ty, default) = match strip_parens(te) {
                        Expression::FuncCall(c) if c.name.name.as_str() == "optional" => {
                            let mut it = c.args.iter();
                            let t = it.next();
                            let d = it
                                .next()
                                .map(|d| expr::eval(d, &EmptyScope))
                                .unwrap_or(Value::Null);
                            (t, Some(d))
                        }
                        _ => (Some(te), None),
                    };
                    let cur = m.remove(&key);
                    let nv = match (cur, default) {
                        (Some(Value::Null), Some(d)) | (None, Some(d)) => d,
                        (Some(x), _) => x,
                        (None, None) => continue,
                    };
                    let nv = match inner_ty {
                        Some(t) => apply_type_defaults(t, nv, depth + 1),
                        None => nv,
                    };
                    m.insert(key, nv);
                }
            }
            Value::Object(m)
        }
        ("map", Value::Object(m)) => match arg {
            Some(t) => Value::Object(
                m.into_iter()
                    .map(|(k, x)| (k, apply_type_defaults(t, x, depth + 1)))
                    .collect(),
            ),
            None => Value::Object(m),
        },
        ("list" | "set", Value::List(items)) => match arg {
            Some(t) => Value::List(
                items
                    .into_iter()
                    .map(|x| apply_type_defaults(t, x, depth + 1))
                    .collect(),
            ),
            None => Value::List(items),
        },
        (_, v) => v,
    }
}

/// Largest variable file read.
const VAR_FILE_LIMIT: u64 = 16 * 1024 * 1024;

/// A file the user named on the command line (`--var-file`): anything they can read,
/// including a pipe (`<(…)`), up to the variable-file limit.
fn read_user_file(path: &Path) -> Result<String, crate::safe_fs::Refusal> {
    use std::io::Read;
    let err = |e: std::io::Error| crate::safe_fs::Refusal::Io(e.to_string());
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .map_err(err)?
        .take(VAR_FILE_LIMIT + 1)
        .read_to_end(&mut bytes)
        .map_err(err)?;
    if bytes.len() as u64 > VAR_FILE_LIMIT {
        return Err(crate::safe_fs::Refusal::TooLarge(bytes.len() as u64));
    }
    String::from_utf8(bytes).map_err(|_| crate::safe_fs::Refusal::Io("not UTF-8 text".into()))
}

fn var_file_values(
    s: &Workspace,
    path: &Path,
    read: Result<String, crate::safe_fs::Refusal>,
) -> Vec<(String, Input)> {
    let text = match read {
        Ok(t) => t,
        Err(e) => {
            s.verbose(format!("var file {}: not read: it {e}", path.display()));
            return Vec::new();
        }
    };
    if path.extension().is_some_and(|e| e == "json") {
        return match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(serde_json::Value::Object(m)) => m
                .iter()
                .map(|(k, v)| (k.clone(), Input::Value(Value::from_json(v))))
                .collect(),
            _ => {
                s.verbose(format!("var file {}: not a JSON object", path.display()));
                Vec::new()
            }
        };
    }
    match crate::parse::hcl::parse(&text) {
        Ok(body) => tfvars_values(&body)
            .into_iter()
            .map(|(k, v)| (k, Input::Value(v)))
            .collect(),
        Err(e) => {
            s.verbose(format!("var file {}: {}", path.display(), e.message));
            Vec::new()
        }
    }
}

/// `.terraform/modules/modules.json` of a root: module keys mapped to module folders of
/// the repository. Only this one file of `.terraform/` is ever read.
fn modules_json(s: &Workspace, root: &TfModule) -> HashMap<String, ModuleId> {
    let mut out = HashMap::new();
    let path: PathBuf = s
        .repo
        .root
        .join(&root.dir)
        .join(".terraform/modules/modules.json");
    // Inside the repository only, never through a link out of it, never blocking.
    let real_root = s
        .repo
        .root
        .canonicalize()
        .unwrap_or_else(|_| s.repo.root.clone());
    let rel = format!("{}/.terraform/modules/modules.json", root.dir)
        .trim_start_matches('/')
        .to_string();
    let Ok(text) = crate::safe_fs::read_in_root_text(&real_root, &rel, VAR_FILE_LIMIT) else {
        return out;
    };
    let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) else {
        s.verbose(format!("{}: not valid JSON", path.display()));
        return out;
    };
    let tf = s.terraform();
    for m in json
        .get("Modules")
        .and_then(|m| m.as_array())
        .into_iter()
        .flatten()
    {
        let (Some(key), Some(dir)) = (
            m.get("Key").and_then(|k| k.as_str()),
            m.get("Dir").and_then(|d| d.as_str()),
        ) else {
            continue;
        };
        if key.is_empty() {
            continue;
        }
        let rel = if dir.starts_with("./") || dir.starts_with("../") {
            dir.to_string()
        } else {
            format!("./{dir}")
        };
        if let Some(d) = join_within(&root.dir, &rel)
            && let Some(id) = tf.module_at(&d)
        {
            out.insert(key.to_string(), id);
        }
    }
    out
}

/// The value of a body as an object: attributes (meta-arguments left out) and nested
/// blocks as lists of objects.
fn body_object(body: &Body, cx: &dyn Scope, depth: usize) -> BTreeMap<String, Value> {
    let mut obj = BTreeMap::new();
    for a in body.attributes() {
        let k = a.key.as_str();
        if depth == 0 && matches!(k, "count" | "for_each" | "provider" | "depends_on") {
            continue;
        }
        obj.insert(k.to_string(), expr::eval(&a.value, cx));
    }
    if depth > 8 {
        return obj;
    }
    for b in body.blocks() {
        let id = b.ident.as_str();
        match id {
            "lifecycle" | "provisioner" | "connection" | "precondition" | "postcondition" => {
                continue;
            }
            "dynamic" => {
                if let Some(l) = b.labels.first() {
                    obj.insert(
                        l.as_str().to_string(),
                        Value::undecidable(format!("`{}` is built by a dynamic block", l.as_str())),
                    );
                }
            }
            _ => {
                let v = Value::Object(body_object(&b.body, cx, depth + 1));
                if let Value::List(items) = obj
                    .entry(id.to_string())
                    .or_insert_with(|| Value::List(Vec::new()))
                {
                    items.push(v);
                }
            }
        }
    }
    obj
}

/// Parse a YAML document (the first) into a value.
pub fn yaml_to_value(text: &str) -> Option<Value> {
    let docs = crate::parse::yaml::parse_stream(crate::source::FileId(u32::MAX), text).ok()?;
    let doc = docs.into_iter().next()?;
    fn conv(y: crate::parse::yaml::Yaml<'_>, depth: usize) -> Value {
        if depth > 64 {
            return Value::undecidable("YAML nested too deeply");
        }
        if y.is_map() {
            return Value::Object(
                y.entries()
                    .filter_map(|(k, v)| k.as_string().map(|k| (k.to_string(), conv(v, depth + 1))))
                    .collect(),
            );
        }
        if y.is_seq() {
            return Value::List(y.items().map(|v| conv(v, depth + 1)).collect());
        }
        if y.is_null() {
            return Value::Null;
        }
        if let Some(b) = y.as_bool() {
            return Value::Bool(b);
        }
        match y.as_string() {
            Some(s) => Value::String(s.to_string()),
            None => Value::Null,
        }
    }
    Some(conv(doc.root(), 0))
}

/// Whether a guard text tests that `address` has instances: `length(address) > 0` (or
/// `!= 0`, `>= 1`, `== 1`, reversed), `can(address[0])`, `address != []`. A reference under
/// such a guard is evaluated only when the instances exist, whatever the block's source.
pub fn guard_tests_instances(guard: &str, address: &str) -> bool {
    use hcl_edit::expr::BinaryOperator as B;
    use std::str::FromStr;
    let Ok(e) = Expression::from_str(guard) else {
        return false;
    };
    let is_target = |e: &Expression| {
        let e = strip_parens(e);
        let t = canonical_text(e);
        t == address || t == format!("{address}[*]")
    };
    let is_length_of_target = |e: &Expression| match strip_parens(e) {
        Expression::FuncCall(c)
            if c.name.namespace.is_empty() && c.name.name.as_str() == "length" =>
        {
            c.args.len() == 1 && c.args.iter().all(is_target)
        }
        _ => false,
    };
    let number = |e: &Expression| match strip_parens(e) {
        Expression::Number(n) => n.value().as_f64(),
        _ => None,
    };
    match strip_parens(&e) {
        Expression::BinaryOp(op) => {
            let o = *op.operator.value();
            let (l, r) = (&op.lhs_expr, &op.rhs_expr);
            if is_length_of_target(l) {
                let n = number(r);
                return matches!((o, n), (B::Greater, Some(x)) if x >= 0.0)
                    || matches!((o, n), (B::NotEq, Some(x)) if x == 0.0)
                    || matches!((o, n), (B::GreaterEq | B::Eq, Some(x)) if x >= 1.0);
            }
            if is_length_of_target(r) {
                let n = number(l);
                return matches!((o, n), (B::Less, Some(x)) if x >= 0.0)
                    || matches!((o, n), (B::NotEq, Some(x)) if x == 0.0)
                    || matches!((o, n), (B::LessEq | B::Eq, Some(x)) if x >= 1.0);
            }
            o == B::NotEq
                && is_target(l)
                && matches!(strip_parens(r), Expression::Array(a) if a.is_empty())
        }
        Expression::FuncCall(c) if c.name.namespace.is_empty() && c.name.name.as_str() == "can" => {
            c.args
                .iter()
                .any(|a| canonical_text(strip_parens(a)).starts_with(&format!("{address}[")))
        }
        _ => false,
    }
}

/// Whether a variable is declared `type = bool`, or has a boolean default and no type.
fn is_bool_variable(s: &Workspace, tf: &TerraformModel, v: &super::module::TfBlock) -> bool {
    let Some(block) = tf.hcl_block(&s.repo, v.at) else {
        return false;
    };
    match block.body.get_attribute("type") {
        Some(t) => canonical_text(&t.value) == "bool",
        None => matches!(
            block
                .body
                .get_attribute("default")
                .map(|d| strip_parens(&d.value)),
            Some(Expression::Bool(_))
        ),
    }
}

/// Passes from the scripts: the `terraform apply` runs of the root folder `dir` in one
/// script or Makefile target, in order, whose boolean `-var`s go from `false` to `true`.
/// Returns the first and last run's boolean settings and where they are.
type Overrides = Vec<(String, Value)>;
fn script_passes(s: &Workspace, dir: &str) -> Option<(Overrides, Overrides, String)> {
    use crate::model::steps::StepKind;
    let steps = &s.steps().steps;
    let runs: Vec<&crate::model::steps::Step> = steps
        .iter()
        .filter(|st| matches!(&st.kind, StepKind::Terraform { command, dir: Some(d), .. } if command == "apply" && d == dir))
        .collect();
    // `TF_VAR_` loses to the root's terraform.tfvars and *.auto.tfvars.
    let tfvars_names: HashSet<String> = s
        .terraform()
        .module_at(dir)
        .map(|m| {
            s.terraform()
                .module(m)
                .var_files
                .iter()
                .filter_map(|&f| crate::parse::hcl_body(s.repo.syntax(f)))
                .flat_map(|b| b.attributes().map(|a| a.key.as_str().to_string()))
                .collect()
        })
        .unwrap_or_default();
    let bools = |st: &crate::model::steps::Step| -> Overrides {
        st.settings(&s.repo, |n| tfvars_names.contains(n))
            .into_iter()
            .filter_map(|(k, v)| match v.as_str() {
                "true" => Some((k, Value::Bool(true))),
                "false" => Some((k, Value::Bool(false))),
                _ => None,
            })
            .collect()
    };
    for (i, a) in runs.iter().enumerate() {
        for b in &runs[i + 1..] {
            if a.file != b.file || a.unit != b.unit {
                continue;
            }
            let (x, y) = (bools(a), bools(b));
            let flips = x.iter().any(|(k, v)| {
                *v == Value::Bool(false) && y.iter().any(|(n, w)| n == k && *w == Value::Bool(true))
            });
            if flips {
                let f = s.repo.file(a.file);
                let line = |st: &crate::model::steps::Step| f.line_col(st.span.start as usize).0;
                let why = format!(
                    "{} runs `terraform apply` on {} at line {} and again at line {}",
                    f.rel_path,
                    if dir.is_empty() { "." } else { dir },
                    line(a),
                    line(b)
                );
                return Some((x, y, why));
            }
        }
    }
    None
}

/// A reference found by [`guarded`].
struct Found {
    reference: Reference,
    guards: Vec<String>,
    tolerant: bool,
    for_collection: Option<String>,
}

/// Whether an expression is an empty collection or null (`[]`, `{}`, `null`, `toset([])`).
fn is_empty_collection(e: &Expression) -> bool {
    match strip_parens(e) {
        Expression::Null(_) => true,
        Expression::Array(a) => a.is_empty(),
        Expression::Object(o) => o.is_empty(),
        Expression::FuncCall(c)
            if c.name.namespace.is_empty()
                && matches!(c.name.name.as_str(), "toset" | "tomap" | "tolist")
                && c.args.len() == 1 =>
        {
            c.args.iter().all(is_empty_collection)
        }
        _ => false,
    }
}

/// The negation of a condition as a guard text: `!(x != "")`, never `!x != ""`.
fn negated_text(cond: &Expression) -> String {
    let cond = strip_parens(cond);
    match cond {
        Expression::UnaryOp(op) if *op.operator.value() == hcl_edit::expr::UnaryOperator::Not => {
            canonical_text(strip_parens(&op.expr))
        }
        Expression::Variable(_) | Expression::Traversal(_) | Expression::FuncCall(_) => {
            format!("!{}", canonical_text(cond))
        }
        _ => format!("!({})", canonical_text(cond)),
    }
}

/// The guards under which the elements of a collection are visited (a `dynamic` block's
/// content, a `for` expression's body): the terms of `c ? [x] : []`, the negation for
/// `c ? [] : [x]`, otherwise that the collection is not empty.
fn collection_guards(e: &Expression) -> Vec<String> {
    let e = strip_parens(e);
    if let Expression::Conditional(c) = e {
        if is_empty_collection(&c.false_expr) {
            return expr::conjunction_terms(&c.cond_expr)
                .into_iter()
                .map(|t| canonical_text(strip_parens(t)))
                .collect();
        }
        if is_empty_collection(&c.true_expr) {
            return vec![negated_text(&c.cond_expr)];
        }
    }
    vec![format!("length({}) > 0", canonical_text(e))]
}

/// Spans of the traversals in an expression whose first index is one of `vars`.
fn indexed_by(e: &Expression, vars: &[&str], out: &mut Vec<std::ops::Range<usize>>, depth: usize) {
    use hcl_edit::Span as _;
    if depth > 128 {
        return;
    }
    let d = depth + 1;
    match e {
        Expression::Traversal(t) => {
            let first_index = t.operators.iter().find_map(|op| match op.value() {
                TraversalOperator::Index(i) => Some(Some(i)),
                TraversalOperator::GetAttr(_) => None,
                _ => Some(None),
            });
            if let Some(Some(Expression::Variable(v))) = first_index
                && vars.contains(&v.value().as_str())
                && let Some(span) = t.span()
            {
                out.push(span);
            }
            indexed_by(&t.expr, vars, out, d);
            for op in &t.operators {
                if let TraversalOperator::Index(i) = op.value() {
                    indexed_by(i, vars, out, d);
                }
            }
        }
        Expression::Parenthesis(p) => indexed_by(p.inner(), vars, out, d),
        Expression::Conditional(c) => {
            indexed_by(&c.cond_expr, vars, out, d);
            indexed_by(&c.true_expr, vars, out, d);
            indexed_by(&c.false_expr, vars, out, d);
        }
        Expression::FuncCall(c) => c.args.iter().for_each(|a| indexed_by(a, vars, out, d)),
        Expression::BinaryOp(op) => {
            indexed_by(&op.lhs_expr, vars, out, d);
            indexed_by(&op.rhs_expr, vars, out, d);
        }
        Expression::UnaryOp(op) => indexed_by(&op.expr, vars, out, d),
        Expression::Array(a) => a.iter().for_each(|i| indexed_by(i, vars, out, d)),
        Expression::Object(o) => {
            for (_, v) in o.iter() {
                indexed_by(v.expr(), vars, out, d);
            }
        }
        Expression::ForExpr(f) => {
            if let Some(k) = &f.key_expr {
                indexed_by(k, vars, out, d);
            }
            indexed_by(&f.value_expr, vars, out, d);
        }
        _ => {}
    }
}

/// Walk an expression collecting references with their guarding conditions.
fn guarded(
    e: &Expression,
    guards: &mut Vec<String>,
    tolerant: bool,
    out: &mut Vec<Found>,
    depth: usize,
) {
    if depth > 128 {
        return;
    }
    let d = depth + 1;
    match e {
        Expression::Parenthesis(p) => guarded(p.inner(), guards, tolerant, out, d),
        Expression::Conditional(c) => {
            guarded(&c.cond_expr, guards, tolerant, out, d);
            let terms: Vec<String> = expr::conjunction_terms(&c.cond_expr)
                .into_iter()
                .map(|t| canonical_text(strip_parens(t)))
                .collect();
            let mark = guards.len();
            guards.extend(terms);
            guarded(&c.true_expr, guards, tolerant, out, d);
            guards.truncate(mark);
            guards.push(negated_text(&c.cond_expr));
            guarded(&c.false_expr, guards, tolerant, out, d);
            guards.truncate(mark);
        }
        Expression::FuncCall(call) => {
            let name = call.name.name.as_str();
            let tol = tolerant || (call.name.namespace.is_empty() && matches!(name, "try" | "can"));
            for a in call.args.iter() {
                guarded(a, guards, tol, out, d);
            }
        }
        Expression::BinaryOp(op) => {
            guarded(&op.lhs_expr, guards, tolerant, out, d);
            guarded(&op.rhs_expr, guards, tolerant, out, d);
        }
        Expression::UnaryOp(op) => guarded(&op.expr, guards, tolerant, out, d),
        Expression::Array(items) => {
            for i in items.iter() {
                guarded(i, guards, tolerant, out, d);
            }
        }
        Expression::Object(o) => {
            for (k, v) in o.iter() {
                if let hcl_edit::expr::ObjectKey::Expression(ke) = k
                    && !matches!(ke, Expression::Variable(_))
                {
                    guarded(ke, guards, tolerant, out, d);
                }
                guarded(v.expr(), guards, tolerant, out, d);
            }
        }
        Expression::ForExpr(f) => {
            guarded(&f.intro.collection_expr, guards, tolerant, out, d);
            let coll = canonical_text(strip_parens(&f.intro.collection_expr));
            let mut vars = vec![f.intro.value_var.value().as_str()];
            if let Some(k) = &f.intro.key_var {
                vars.push(k.value().as_str());
            }
            let mut spans = Vec::new();
            let mark = guards.len();
            guards.extend(collection_guards(&f.intro.collection_expr));
            let start = out.len();
            let mut body: Vec<&Expression> = vec![&f.value_expr];
            body.extend(f.key_expr.as_ref());
            body.extend(f.cond.as_ref().map(|c| &c.expr));
            for b in body {
                indexed_by(b, &vars, &mut spans, 0);
                guarded(b, guards, tolerant, out, d);
            }
            guards.truncate(mark);
            // The loop's own variables are not references.
            let mut i = start;
            while i < out.len() {
                if vars.contains(&out[i].reference.root.as_str()) {
                    out.remove(i);
                    continue;
                }
                if out[i].for_collection.is_none()
                    && out[i]
                        .reference
                        .span
                        .as_ref()
                        .is_some_and(|s| spans.contains(s))
                {
                    out[i].for_collection = Some(coll.clone());
                }
                i += 1;
            }
        }
        other => {
            for r in expr::references(other) {
                out.push(Found {
                    reference: r,
                    guards: guards.clone(),
                    tolerant,
                    for_collection: None,
                });
            }
        }
    }
}

/// The evaluation scope of one module instance (and block instance).
struct Ctx<'a> {
    an: &'a Analysis,
    s: &'a Workspace,
    pass: usize,
    inst: usize,
    iter: Iter,
    stack: &'a RefCell<Vec<Key>>,
    dir: PathBuf,
}

impl Scope for Ctx<'_> {
    fn has_assumptions(&self) -> bool {
        self.stack
            .borrow()
            .iter()
            .any(|k| matches!(k.2, Slot::Assume(..)))
    }

    fn assumed(&self, condition: &str) -> Option<bool> {
        self.stack.borrow().iter().rev().find_map(|k| match &k.2 {
            Slot::Assume(c, b) if k.1 == self.inst && c == condition => Some(*b),
            _ => None,
        })
    }

    fn assume(&self, condition: &str, outcome: bool) -> bool {
        let mut st = self.stack.borrow_mut();
        let open = st
            .iter()
            .filter(|k| matches!(k.2, Slot::Assume(..)))
            .count();
        if open >= MAX_ASSUMPTIONS || st.len() > MAX_CHAIN {
            return false;
        }
        st.push((
            self.pass,
            self.inst,
            Slot::Assume(condition.to_string(), outcome),
        ));
        true
    }

    fn unassume(&self) {
        let mut st = self.stack.borrow_mut();
        if let Some(i) = st.iter().rposition(|k| matches!(k.2, Slot::Assume(..))) {
            st.remove(i);
        }
    }

    fn resolve(&self, root: &str, attrs: &[&str]) -> Option<(Value, usize)> {
        let (an, s, pass, inst) = (self.an, self.s, self.pass, self.inst);
        let tf = s.terraform();
        match root {
            "var" => {
                let n = attrs.first()?;
                an.var_value(s, pass, inst, n, self.stack).map(|v| (v, 1))
            }
            "local" => {
                let n = attrs.first()?;
                an.local_value(s, pass, inst, n, self.stack).map(|v| (v, 1))
            }
            "module" => {
                let n = attrs.first()?;
                an.module_value(s, pass, inst, n, attrs, self.stack)
            }
            "data" => {
                if attrs.len() < 2 {
                    return None;
                }
                let block = an.block_index(tf, inst, &format!("data.{}.{}", attrs[0], attrs[1]))?;
                Some((
                    an.block_value_in(s, pass, BlockAt { inst, block }, self.stack),
                    2,
                ))
            }
            "count" => Some((
                match (&self.iter, attrs.first()) {
                    (Iter::Count(i), Some(&"index")) => Value::Number(*i as f64),
                    _ => Value::undecidable("`count.index` outside a counted block instance"),
                },
                attrs.len().min(1),
            )),
            "each" => Some((
                match (&self.iter, attrs.first()) {
                    (Iter::Each(k, _), Some(&"key")) => k.clone(),
                    (Iter::Each(_, v), Some(&"value")) => v.clone(),
                    _ => Value::undecidable("`each` outside a for_each block instance"),
                },
                attrs.len().min(1),
            )),
            "path" => {
                let v = match attrs.first() {
                    Some(&"module") => Value::String(self.dir.to_string_lossy().into_owned()),
                    Some(&"root") => Value::String(
                        s.repo
                            .root
                            .join(&an.module(tf, an.insts[inst].root).dir)
                            .to_string_lossy()
                            .into_owned(),
                    ),
                    Some(&"cwd") => Value::String(s.repo.root.to_string_lossy().into_owned()),
                    _ => return None,
                };
                Some((v, 1))
            }
            "terraform" => match attrs.first() {
                Some(&"workspace") => Some((Value::string("default"), 1)),
                _ => None,
            },
            "self" => Some((Value::undecidable("`self` is not evaluated"), 0)),
            ty => {
                let n = attrs.first()?;
                let block = an.block_index(tf, inst, &format!("{ty}.{n}"))?;
                Some((
                    an.block_value_in(s, pass, BlockAt { inst, block }, self.stack),
                    1,
                ))
            }
        }
    }

    fn module_dir(&self) -> Option<&Path> {
        Some(&self.dir)
    }

    fn repo_root(&self) -> Option<&Path> {
        Some(&self.s.repo.root)
    }
}

/// Whether a resource type places objects in a Kubernetes namespace.
pub fn is_kubernetes_resource(ty: &str) -> bool {
    provider_is_kubernetes_like(ty)
}
