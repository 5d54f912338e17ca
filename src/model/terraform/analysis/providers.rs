//! Providers: the configuration block each resource and data source uses, and what
//! each provider configuration reads.

use super::*;

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

/// The provider a resource type belongs to by its prefix.
pub fn provider_for_type(ty: &str) -> &str {
    ty.split('_').next().unwrap_or(ty)
}

pub(super) fn provider_is_kubernetes_like(ty: &str) -> bool {
    matches!(provider_for_type(ty), "kubernetes" | "helm" | "kubectl")
}

/// Whether a resource type places objects in a Kubernetes namespace.
pub fn is_kubernetes_resource(ty: &str) -> bool {
    provider_is_kubernetes_like(ty)
}

impl Analysis {
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

    pub(super) fn resolve_provider(
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
}
