//! The module index: every folder holding `.tf` files is a module; its top-level blocks are
//! indexed by address, local module calls are resolved to the called folder, and the roots
//! (modules no other module calls) are known.
//!
//! Blocks are referred to by [`BlockRef`] (file and position in its body) rather than
//! copied, so the model is cheap to build and the syntax stays in the repository.

use crate::repo::Repository;
use crate::source::{FileId, FileKind, Span};
use foldhash::{HashMap, HashMapExt};
use hcl_edit::Span as _;
use hcl_edit::expr::Expression;
use hcl_edit::structure::{Attribute, Block, Body};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModuleId(pub u32);

/// A top-level block: its file and index in that file's body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BlockRef {
    pub file: FileId,
    pub index: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BlockKind {
    Resource,
    Data,
    Module,
    Variable,
    Output,
    Provider,
    Locals,
    Terraform,
    Moved,
    Import,
    Removed,
    Check,
    Other,
}

impl BlockKind {
    fn of(ident: &str) -> BlockKind {
        match ident {
            "resource" => BlockKind::Resource,
            "data" => BlockKind::Data,
            "module" => BlockKind::Module,
            "variable" => BlockKind::Variable,
            "output" => BlockKind::Output,
            "provider" => BlockKind::Provider,
            "locals" => BlockKind::Locals,
            "terraform" => BlockKind::Terraform,
            "moved" => BlockKind::Moved,
            "import" => BlockKind::Import,
            "removed" => BlockKind::Removed,
            "check" => BlockKind::Check,
            _ => BlockKind::Other,
        }
    }
}

/// One indexed top-level block.
#[derive(Clone, Debug)]
pub struct TfBlock {
    pub at: BlockRef,
    pub kind: BlockKind,
    /// Resource or data source type; provider name for `provider` blocks.
    pub type_name: String,
    /// The block's name label (empty for `provider`, `locals`, `terraform`).
    pub name: String,
    /// The whole block.
    pub span: Span,
    /// The block header: its identifier and labels.
    pub header: Span,
    /// A provider block's `alias`, when literal.
    pub alias: Option<String>,
    /// Whether the block sets `count` or `for_each` (resources, data sources, module calls).
    pub expansion: Expansion,
}

/// How many instances a block declares, as far as references to it are concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Expansion {
    /// No `count` or `for_each`: one instance, referred to without a key.
    Single,
    /// `count`: a list of instances, `x[0]`.
    Count,
    /// `for_each`: a map of instances, `x["key"]`.
    ForEach,
}

impl Expansion {
    /// What a block body declares: `for_each` wins when both are set (Terraform rejects
    /// that combination separately).
    pub fn of(body: &Body) -> Expansion {
        if body.get_attribute("for_each").is_some() {
            Expansion::ForEach
        } else if body.get_attribute("count").is_some() {
            Expansion::Count
        } else {
            Expansion::Single
        }
    }

    /// The meta-argument that makes the block multi-instance.
    pub fn argument(self) -> Option<&'static str> {
        match self {
            Expansion::Single => None,
            Expansion::Count => Some("count"),
            Expansion::ForEach => Some("for_each"),
        }
    }
}

impl TfBlock {
    /// The address Terraform uses: `aws_eks_cluster.this`, `data.aws_eks_cluster.this`,
    /// `module.eks`, `var.region`, `output.cluster_name`, `provider.aws` (`provider.aws.west`).
    pub fn address(&self) -> String {
        match self.kind {
            BlockKind::Resource => format!("{}.{}", self.type_name, self.name),
            BlockKind::Data => format!("data.{}.{}", self.type_name, self.name),
            BlockKind::Module => format!("module.{}", self.name),
            BlockKind::Variable => format!("var.{}", self.name),
            BlockKind::Output => format!("output.{}", self.name),
            BlockKind::Provider => match &self.alias {
                Some(a) => format!("provider.{}.{a}", self.type_name),
                None => format!("provider.{}", self.type_name),
            },
            BlockKind::Check => format!("check.{}", self.name),
            _ => String::new(),
        }
    }
}

/// A `local` value: one attribute of a `locals` block.
#[derive(Clone, Debug)]
pub struct LocalDef {
    pub name: String,
    /// The `locals` block holding it.
    pub block: BlockRef,
    /// The attribute `name = expr`.
    pub span: Span,
}

/// Where a module call's `source` leads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModuleSource {
    /// A module folder of this repository.
    Local(ModuleId),
    /// A local path (`./`, `../`) with no `.tf` files.
    Missing(String),
    /// A local path that leaves the repository.
    Escapes(String),
    /// Registry, git, S3… sources: not inspected.
    External(String),
    /// `source` absent or not a literal string.
    Unknown,
}

#[derive(Clone, Debug)]
pub struct ModuleCall {
    /// The `module` block.
    pub block: usize,
    pub name: String,
    pub source: ModuleSource,
    /// The `source` attribute's value.
    pub source_span: Option<Span>,
}

#[derive(Debug, Default)]
pub struct TfModule {
    pub id: Option<ModuleId>,
    /// Folder relative to the repository root ("" for the root folder).
    pub dir: String,
    /// `.tf` files, in name order.
    pub files: Vec<FileId>,
    /// `terraform.tfvars` then `*.auto.tfvars` in name order, as Terraform loads them.
    pub var_files: Vec<FileId>,
    /// Every top-level block except `locals`, in file order.
    pub blocks: Vec<TfBlock>,
    pub locals: Vec<LocalDef>,
    pub calls: Vec<ModuleCall>,
    by_address: HashMap<String, usize>,
    /// First block of an address → the later blocks with the same address (override files'
    /// blocks, duplicates), in order: `blocks_at` without a scan of every block.
    same_address: HashMap<usize, Vec<usize>>,
    locals_by_name: HashMap<String, usize>,
}

impl TfModule {
    /// The first block with this address.
    pub fn block(&self, address: &str) -> Option<&TfBlock> {
        self.by_address.get(address).map(|&i| &self.blocks[i])
    }

    /// The index in `blocks` of the (first) block declared at `address`.
    pub fn block_index(&self, address: &str) -> Option<usize> {
        self.by_address.get(address).copied()
    }

    pub fn local(&self, name: &str) -> Option<&LocalDef> {
        self.locals_by_name.get(name).map(|&i| &self.locals[i])
    }

    pub fn blocks_of(&self, kind: BlockKind) -> impl Iterator<Item = &TfBlock> {
        self.blocks.iter().filter(move |b| b.kind == kind)
    }

    pub fn variables(&self) -> impl Iterator<Item = &TfBlock> {
        self.blocks_of(BlockKind::Variable)
    }

    pub fn call(&self, name: &str) -> Option<&ModuleCall> {
        self.calls.iter().find(|c| c.name == name)
    }

    /// Every block with this address: the first declaration and the override files' blocks
    /// merged into it.
    pub fn blocks_at<'m>(&'m self, address: &'m str) -> impl Iterator<Item = &'m TfBlock> + 'm {
        // Blocks without an address (`locals`, `terraform`, …) are not indexed.
        let scan = address
            .is_empty()
            .then(|| self.blocks.iter().filter(|b| b.address().is_empty()));
        let indexed = (!address.is_empty()).then(|| {
            let first = self.by_address.get(address).copied();
            let rest = first
                .and_then(|i| self.same_address.get(&i))
                .map_or(&[][..], Vec::as_slice);
            first
                .into_iter()
                .chain(rest.iter().copied())
                .map(|i| &self.blocks[i])
        });
        scan.into_iter()
            .flatten()
            .chain(indexed.into_iter().flatten())
    }

    /// How the block at `address` expands after override files are merged (an override can
    /// add `count` or `for_each`); `None` when nothing has that address.
    pub fn expansion(&self, address: &str) -> Option<Expansion> {
        let first = self.block(address)?;
        let merged = self
            .blocks_at(address)
            .map(|b| b.expansion)
            .find(|e| *e != Expansion::Single);
        Some(merged.unwrap_or(first.expansion))
    }
}

#[derive(Debug, Default)]
pub struct TerraformModel {
    pub modules: Vec<TfModule>,
    by_dir: HashMap<String, ModuleId>,
    /// For each module, the (calling module, call index) pairs that call it.
    pub callers: Vec<Vec<(ModuleId, usize)>>,
}

impl TerraformModel {
    pub fn build(repo: &Repository) -> TerraformModel {
        let mut by_dir: HashMap<String, Vec<FileId>> = HashMap::new();
        let mut tfvars: HashMap<String, Vec<FileId>> = HashMap::new();
        for file in &repo.files {
            let dir = parent_dir(&file.rel_path).to_string();
            match file.kind {
                FileKind::Terraform => by_dir.entry(dir).or_default().push(file.id),
                FileKind::TerraformVars => tfvars.entry(dir).or_default().push(file.id),
                _ => {}
            }
        }
        let mut dirs: Vec<_> = by_dir.into_iter().collect();
        dirs.sort_by(|a, b| a.0.cmp(&b.0));
        let mut model = TerraformModel::default();
        for (i, (dir, files)) in dirs.into_iter().enumerate() {
            let id = ModuleId(i as u32);
            let mut module = TfModule {
                id: Some(id),
                dir: dir.clone(),
                files,
                ..Default::default()
            };
            module.var_files =
                auto_var_files(repo, tfvars.get(&dir).map(Vec::as_slice).unwrap_or(&[]));
            for &file in &module.files.clone() {
                if let Some(body) = crate::parse::hcl_body(repo.syntax(file)) {
                    index_body(repo, file, body, &mut module);
                }
            }
            model.by_dir.insert(dir, id);
            model.modules.push(module);
        }
        model.callers = vec![Vec::new(); model.modules.len()];
        for m in 0..model.modules.len() {
            let calls = resolve_calls(repo, &model, &model.modules[m]);
            for (ci, call) in calls.iter().enumerate() {
                if let ModuleSource::Local(target) = call.source {
                    model.callers[target.0 as usize].push((ModuleId(m as u32), ci));
                }
            }
            model.modules[m].calls = calls;
        }
        model
    }

    pub fn module(&self, id: ModuleId) -> &TfModule {
        &self.modules[id.0 as usize]
    }

    pub fn module_at(&self, dir: &str) -> Option<ModuleId> {
        self.by_dir.get(dir).copied()
    }

    pub fn ids(&self) -> impl Iterator<Item = ModuleId> {
        (0..self.modules.len() as u32).map(ModuleId)
    }

    /// Modules no other module of the repository calls (a module calling only itself is
    /// still a root; its loop is reported, not followed).
    pub fn roots(&self) -> impl Iterator<Item = ModuleId> + '_ {
        self.ids().filter(|id| self.is_root(*id))
    }

    pub fn is_root(&self, id: ModuleId) -> bool {
        self.callers[id.0 as usize]
            .iter()
            .all(|(caller, _)| *caller == id)
    }

    /// Every module reachable from `root` through local calls, `root` first, each once.
    pub fn reachable(&self, root: ModuleId) -> Vec<ModuleId> {
        let mut seen = vec![false; self.modules.len()];
        let mut order = vec![root];
        seen[root.0 as usize] = true;
        let mut i = 0;
        while i < order.len() {
            for call in &self.module(order[i]).calls {
                if let ModuleSource::Local(t) = call.source
                    && !seen[t.0 as usize]
                {
                    seen[t.0 as usize] = true;
                    order.push(t);
                }
            }
            i += 1;
        }
        order
    }

    /// The syntax of an indexed block.
    pub fn hcl_block<'r>(&self, repo: &'r Repository, at: BlockRef) -> Option<&'r Block> {
        crate::parse::hcl_body(repo.syntax(at.file))
            .and_then(|body| body.get(at.index as usize))
            .and_then(|s| s.as_block())
    }

    /// An attribute of an indexed block's body.
    pub fn attribute<'r>(
        &self,
        repo: &'r Repository,
        at: BlockRef,
        key: &str,
    ) -> Option<&'r Attribute> {
        self.hcl_block(repo, at)
            .and_then(|b| b.body.get_attribute(key))
    }

    /// The expression of a `local`.
    pub fn local_expr<'r>(&self, repo: &'r Repository, local: &LocalDef) -> Option<&'r Expression> {
        self.attribute(repo, local.block, &local.name)
            .map(|a| &a.value)
    }
}

/// The folder part of a repository path ("" at the root).
pub fn parent_dir(rel: &str) -> &str {
    rel.rsplit_once('/').map_or("", |(d, _)| d)
}

fn auto_var_files(repo: &Repository, files: &[FileId]) -> Vec<FileId> {
    let name = |id: &FileId| {
        repo.file(*id)
            .rel_path
            .rsplit('/')
            .next()
            .unwrap_or("")
            .to_string()
    };
    let mut out: Vec<FileId> = files
        .iter()
        .copied()
        .filter(|f| name(f) == "terraform.tfvars")
        .collect();
    let mut auto: Vec<FileId> = files
        .iter()
        .copied()
        .filter(|f| name(f).ends_with(".auto.tfvars"))
        .collect();
    auto.sort_by_key(name);
    out.extend(auto);
    out
}

fn label_text(block: &Block, i: usize) -> String {
    block
        .labels
        .get(i)
        .map(|l| l.as_str().to_string())
        .unwrap_or_default()
}

fn index_body(repo: &Repository, file: FileId, body: &Body, module: &mut TfModule) {
    let src = repo.file(file);
    for (index, structure) in body.iter().enumerate() {
        let Some(block) = structure.as_block() else {
            continue;
        };
        let at = BlockRef {
            file,
            index: index as u32,
        };
        let kind = BlockKind::of(block.ident.as_str());
        let span = src.span(block.span().unwrap_or(0..0));
        if kind == BlockKind::Locals {
            for attr in block.body.attributes() {
                let name = attr.key.as_str().to_string();
                module
                    .locals_by_name
                    .entry(name.clone())
                    .or_insert(module.locals.len());
                module.locals.push(LocalDef {
                    name,
                    block: at,
                    span: src.span(attr.span().unwrap_or(0..0)),
                });
            }
            continue;
        }
        let header_end = block
            .labels
            .last()
            .and_then(|l| l.span())
            .or_else(|| block.ident.span())
            .map_or(span.start as usize, |r| r.end);
        let header = src.span(span.start as usize..header_end);
        let (type_name, name) = match kind {
            BlockKind::Resource | BlockKind::Data => (label_text(block, 0), label_text(block, 1)),
            BlockKind::Provider => (label_text(block, 0), String::new()),
            _ => (String::new(), label_text(block, 0)),
        };
        let alias = if kind == BlockKind::Provider {
            block
                .body
                .get_attribute("alias")
                .and_then(|a| a.value.as_str())
                .map(str::to_owned)
        } else {
            None
        };
        let expansion = match kind {
            BlockKind::Resource | BlockKind::Data | BlockKind::Module => Expansion::of(&block.body),
            _ => Expansion::Single,
        };
        let tf = TfBlock {
            at,
            kind,
            type_name,
            name,
            span,
            header,
            alias,
            expansion,
        };
        let address = tf.address();
        if !address.is_empty() {
            let at = module.blocks.len();
            let first = *module.by_address.entry(address).or_insert(at);
            if first != at {
                module.same_address.entry(first).or_default().push(at);
            }
        }
        module.blocks.push(tf);
    }
}

fn resolve_calls(repo: &Repository, model: &TerraformModel, module: &TfModule) -> Vec<ModuleCall> {
    let mut calls = Vec::new();
    for (i, b) in module.blocks.iter().enumerate() {
        if b.kind != BlockKind::Module {
            continue;
        }
        let attr = model.attribute(repo, b.at, "source");
        let src_file = repo.file(b.at.file);
        let source_span = attr.and_then(|a| a.value.span()).map(|r| src_file.span(r));
        let source = match attr.and_then(|a| a.value.as_str()) {
            None => ModuleSource::Unknown,
            Some(s) if s.starts_with("./") || s.starts_with("../") || s == "." || s == ".." => {
                match join_within(&module.dir, s) {
                    None => ModuleSource::Escapes(s.to_string()),
                    Some(dir) => match model.module_at(&dir) {
                        Some(id) => ModuleSource::Local(id),
                        None => ModuleSource::Missing(dir),
                    },
                }
            }
            Some(s) => ModuleSource::External(s.to_string()),
        };
        calls.push(ModuleCall {
            block: i,
            name: b.name.clone(),
            source,
            source_span,
        });
    }
    calls
}

/// Join a relative path onto a repository folder; `None` when it leaves the repository.
pub fn join_within(dir: &str, rel: &str) -> Option<String> {
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for seg in rel.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testing::load_repo as load;

    /// `blocks_at` gives the first declaration then the override files' blocks, in order,
    /// as the scan of every block did; blocks without an address only for "".
    #[test]
    fn blocks_at_lists_every_block_of_an_address_in_order() {
        let (_d, repo) = load(&[
            (
                "main.tf",
                "resource \"x\" \"a\" {}\nresource \"x\" \"b\" {}\nterraform {}\nmoved {\n  from = x.c\n  to   = x.b\n}\n",
            ),
            (
                "main_override.tf",
                "resource \"x\" \"a\" {\n  count = 1\n}\nlocals {\n  m = 2\n}\n",
            ),
            ("z_override.tf", "resource \"x\" \"a\" {}\n"),
        ]);
        let model = TerraformModel::build(&repo);
        let root = model.module(model.module_at("").unwrap());
        let at = |address: &str| -> Vec<(String, u32)> {
            root.blocks_at(address)
                .map(|b| (repo.file(b.at.file).rel_path.clone(), b.at.index))
                .collect()
        };
        let scanned = |address: &str| -> Vec<(String, u32)> {
            root.blocks
                .iter()
                .filter(|b| b.address() == address)
                .map(|b| (repo.file(b.at.file).rel_path.clone(), b.at.index))
                .collect()
        };
        for address in ["x.a", "x.b", "", "x.none"] {
            assert_eq!(at(address), scanned(address), "{address}");
        }
        assert_eq!(at("x.a").len(), 3);
        assert_eq!(at("").len(), 2, "terraform and moved");
        assert_eq!(root.expansion("x.a"), Some(Expansion::Count));
    }

    #[test]
    fn indexes_blocks_calls_and_roots() {
        let (_d, repo) = load(&[
            (
                "envs/dev/main.tf",
                "module \"eks\" {\n  source = \"../../modules/eks\"\n}\nmodule \"vpc\" {\n  source = \"terraform-aws-modules/vpc/aws\"\n}\nmodule \"gone\" {\n  source = \"../../modules/gone\"\n}\nmodule \"out\" {\n  source = \"../../../elsewhere\"\n}\ndata \"aws_eks_cluster\" \"this\" {\n  name = module.eks.cluster_name\n}\nlocals {\n  a = 1\n  b = 2\n}\nprovider \"kubernetes\" {\n  alias = \"eks\"\n}\n",
            ),
            ("envs/dev/terraform.tfvars", "x = 1\n"),
            ("envs/dev/b.auto.tfvars", "x = 2\n"),
            ("envs/dev/a.auto.tfvars", "x = 3\n"),
            (
                "modules/eks/main.tf",
                "resource \"aws_eks_cluster\" \"this\" {\n  name = var.name\n}\nvariable \"name\" {}\n",
            ),
        ]);
        let model = TerraformModel::build(&repo);
        let dev = model.module(model.module_at("envs/dev").unwrap());
        let eks = model.module_at("modules/eks").unwrap();
        assert_eq!(dev.calls[0].source, ModuleSource::Local(eks));
        assert!(matches!(dev.calls[1].source, ModuleSource::External(_)));
        assert_eq!(
            dev.calls[2].source,
            ModuleSource::Missing("modules/gone".into())
        );
        assert!(matches!(dev.calls[3].source, ModuleSource::Escapes(_)));
        assert!(dev.block("data.aws_eks_cluster.this").is_some());
        assert!(dev.block("provider.kubernetes.eks").is_some());
        assert_eq!(dev.locals.len(), 2);
        let var_files: Vec<_> = dev
            .var_files
            .iter()
            .map(|f| repo.file(*f).rel_path.as_str())
            .collect();
        assert_eq!(
            var_files,
            [
                "envs/dev/terraform.tfvars",
                "envs/dev/a.auto.tfvars",
                "envs/dev/b.auto.tfvars"
            ]
        );
        let roots: Vec<_> = model
            .roots()
            .map(|r| model.module(r).dir.as_str())
            .collect();
        assert_eq!(roots, ["envs/dev"]);
        assert_eq!(
            model.reachable(model.module_at("envs/dev").unwrap()).len(),
            2
        );
        let header = dev.block("data.aws_eks_cluster.this").unwrap().header;
        assert_eq!(
            &repo.file(header.file).text[header.range()],
            "data \"aws_eks_cluster\" \"this\""
        );
    }

    #[test]
    fn join_within_stays_inside() {
        assert_eq!(
            join_within("envs/dev", "../../modules/eks").as_deref(),
            Some("modules/eks")
        );
        assert_eq!(join_within("envs/dev", "../../../x"), None);
        assert_eq!(join_within("", "./m").as_deref(), Some("m"));
    }

    #[test]
    fn a_module_calling_itself_does_not_loop() {
        let (_d, repo) = load(&[("m/main.tf", "module \"me\" {\n  source = \"./\"\n}\n")]);
        let model = TerraformModel::build(&repo);
        let m = model.module_at("m").unwrap();
        assert_eq!(model.reachable(m), vec![m]);
    }
}
