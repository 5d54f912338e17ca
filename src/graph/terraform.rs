//! The Terraform part: per root in scope, the blocks that decide whether a fresh
//! environment applies — data sources, provider configurations, module calls, and the
//! resources that create what they read (clusters, namespaces, releases) — with an edge for
//! every reference between them.

use super::{Cluster, Edge, Node, Shape, node_id};
use crate::model::terraform::analysis::{Analysis, BlockAt, Count};
use crate::model::terraform::expr as refs;
use crate::model::terraform::{BlockKind, ModuleId, ModuleSource, TfBlock};
use crate::model::workspace::Workspace;
use std::collections::{HashMap, HashSet};

fn creates_something_read(b: &TfBlock, read_types: &HashSet<&str>) -> bool {
    b.kind == BlockKind::Resource
        && (read_types.contains(b.type_name.as_str())
            || b.type_name.starts_with("kubernetes_namespace")
            || b.type_name == "helm_release"
            || b.type_name == "aws_eks_cluster")
}

/// The address a reference names, if it names a block.
fn target_address(r: &refs::Reference) -> Option<String> {
    match r.root.as_str() {
        "data" if r.attrs.len() >= 2 => Some(format!("data.{}.{}", r.attrs[0], r.attrs[1])),
        "module" if !r.attrs.is_empty() => Some(format!("module.{}", r.attrs[0])),
        "var" | "local" | "each" | "count" | "path" | "terraform" | "self" => None,
        t if t.contains('_') && !r.attrs.is_empty() => Some(format!("{t}.{}", r.attrs[0])),
        _ => None,
    }
}

pub fn clusters(session: &Workspace) -> Vec<Cluster> {
    let model = session.terraform();
    let repo = &session.repo;
    let mut out = Vec::new();
    for &root in session.terraform_roots() {
        let modules = model.reachable(root);
        let read_types: HashSet<&str> = modules
            .iter()
            .flat_map(|m| model.module(*m).blocks_of(BlockKind::Data))
            .map(|b| b.type_name.as_str())
            .collect();
        let mut c = Cluster {
            id: node_id("tf", &model.module(root).dir),
            label: format!(
                "Terraform root {}",
                if model.module(root).dir.is_empty() {
                    "."
                } else {
                    &model.module(root).dir
                }
            ),
            ..Default::default()
        };
        // (module, address) → node id
        let mut ids: HashMap<(ModuleId, String), String> = HashMap::new();
        let mut drawn: Vec<(ModuleId, &TfBlock)> = Vec::new();
        let counts = PassCounts::new(session, root);
        for &m in &modules {
            let module = model.module(m);
            for (bi, b) in module.blocks.iter().enumerate() {
                let keep = matches!(
                    b.kind,
                    BlockKind::Data | BlockKind::Provider | BlockKind::Module
                ) || creates_something_read(b, &read_types);
                if !keep {
                    continue;
                }
                let id = node_id("tf", &format!("{}_{}_{}", m.0, b.address(), b.at.index));
                let prefix = if m == root {
                    String::new()
                } else {
                    format!("{}: ", module.dir)
                };
                let (label, shape) = match b.kind {
                    BlockKind::Data => (format!("{prefix}{}", b.address()), Shape::Read),
                    BlockKind::Provider => (format!("{prefix}{}", b.address()), Shape::Actor),
                    BlockKind::Module => {
                        let src = match module.call(&b.name).map(|c| &c.source) {
                            Some(ModuleSource::Local(t)) => model.module(*t).dir.clone(),
                            Some(ModuleSource::External(s)) => s.clone(),
                            _ => "?".into(),
                        };
                        (format!("{prefix}{}\n{src}", b.address()), Shape::Group)
                    }
                    _ => (format!("{prefix}{}", b.address()), Shape::Object),
                };
                ids.entry((m, b.address())).or_insert_with(|| id.clone());
                let label = match counts.describe(session, m, bi) {
                    Some(per_pass) => format!("{label}\n{per_pass}"),
                    None => label,
                };
                c.nodes.push(Node {
                    id,
                    label,
                    shape,
                    span: Some(b.span),
                    findings: Vec::new(),
                });
                drawn.push((m, b));
            }
        }
        // Calls into a module: the call node points at the drawn blocks of that module.
        for &(m, b) in &drawn {
            let Some(from) = ids.get(&(m, b.address())).cloned() else {
                continue;
            };
            let Some(block) = model.hcl_block(repo, b.at) else {
                continue;
            };
            let mut targets = HashSet::new();
            for (_, expr) in refs::body_expressions(&block.body) {
                for r in refs::references(expr) {
                    if let Some(addr) = target_address(&r)
                        && let Some(to) = ids.get(&(m, addr.clone()))
                        && *to != from
                        && targets.insert(to.clone())
                    {
                        let label = if b.kind == BlockKind::Provider {
                            "configured from"
                        } else {
                            "reads"
                        };
                        c.edges.push(Edge {
                            from: from.clone(),
                            to: to.clone(),
                            label: label.into(),
                            broken: false,
                        });
                    }
                }
            }
            if b.kind == BlockKind::Module
                && let Some(ModuleSource::Local(t)) =
                    model.module(m).call(&b.name).map(|c| &c.source)
            {
                for inner in &model.module(*t).blocks {
                    if let Some(to) = ids.get(&(*t, inner.address()))
                        && inner.kind != BlockKind::Module
                    {
                        c.edges.push(Edge {
                            from: from.clone(),
                            to: to.clone(),
                            label: "contains".into(),
                            broken: false,
                        });
                    }
                }
            }
        }
        if !c.nodes.is_empty() {
            out.push(c);
        }
    }
    out
}

/// Instance counts per declared pass, for labels: "pass1: 0 · pass2: 1".
struct PassCounts<'a> {
    an: &'a Analysis,
    /// The first instance of each module under the root.
    inst_of: HashMap<ModuleId, usize>,
}

impl<'a> PassCounts<'a> {
    fn new(session: &'a Workspace, root: ModuleId) -> PassCounts<'a> {
        let an = session.terraform_analysis();
        let mut inst_of = HashMap::new();
        if let Some(r) = an
            .roots
            .iter()
            .copied()
            .find(|&r| an.insts[r].module == root)
        {
            for i in an.instances_of(r) {
                inst_of.entry(an.insts[i].module).or_insert(i);
            }
        }
        PassCounts { an, inst_of }
    }

    fn describe(&self, session: &Workspace, module: ModuleId, block: usize) -> Option<String> {
        let inst = *self.inst_of.get(&module)?;
        let parts: Vec<String> = self
            .an
            .selected
            .iter()
            .filter_map(|&p| {
                let name = self.an.passes[p].name.as_ref()?;
                let n = match self.an.count(session, p, BlockAt { inst, block }) {
                    Count::Known(n) => n.to_string(),
                    Count::Unknown(_) => "?".to_string(),
                };
                Some(format!("{name}: {n}"))
            })
            .collect();
        (!parts.is_empty()).then(|| parts.join(" · "))
    }
}
