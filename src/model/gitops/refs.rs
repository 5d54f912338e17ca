//! What the manifests and values trees an Application deploys refer to, walked once per
//! tree and shared by every rule that asks: cert-manager issuers, External Secrets stores,
//! and remote-secret reads.

use super::{GitopsModel, NodeRef, ObjId};
use crate::parse::yaml::{NodeId, Yaml};
use crate::repo::Repository;
use crate::source::Span;
use std::collections::{HashMap, HashSet};

/// A reference from something an Application deploys to an object that must exist in the
/// same cluster.
#[derive(Clone, Debug)]
pub struct Reference {
    pub kind: String,
    pub name: String,
    /// Where the name is written.
    pub span: Span,
    /// What refers ("the annotation `cert-manager.io/cluster-issuer`").
    pub via: String,
}

/// A `secretStoreRef` (or `sourceRef.storeRef`).
#[derive(Clone, Debug)]
pub struct StoreRef {
    pub kind: Option<String>,
    pub name: String,
}

/// One read of a remote secret: `remoteRef` or `dataFrom[].extract`.
#[derive(Clone, Debug)]
pub struct SecretRead {
    pub key: String,
    pub key_span: Span,
    pub property: Option<(String, Span)>,
    /// `None`: no store reference is written around the read.
    pub store: Option<StoreRef>,
    pub via: &'static str,
}

/// What one manifest or values tree refers to.
#[derive(Debug, Default)]
pub struct Refs {
    /// cert-manager issuers: annotations anywhere, and `issuerRef` mappings.
    pub issuers: Vec<Reference>,
    /// `secretStoreRef` mappings (of ExternalSecret manifests, or any values tree).
    pub stores: Vec<Reference>,
    /// Remote-secret reads (of ExternalSecret manifests, or any values tree).
    pub secret_reads: Vec<SecretRead>,
}

/// The references of every object and every values tree of the model.
#[derive(Debug, Default)]
pub struct AllRefs {
    /// Per object, by id.
    pub objects: Vec<Refs>,
    /// Per values tree an Application passes to a chart.
    pub values: HashMap<NodeRef, Refs>,
}

static EMPTY: Refs = Refs {
    issuers: Vec::new(),
    stores: Vec::new(),
    secret_reads: Vec::new(),
};

impl AllRefs {
    pub(super) fn build(model: &GitopsModel, repo: &Repository) -> AllRefs {
        let objects = model
            .objects
            .iter()
            .map(|obj| {
                let external_secret = obj.api_version.starts_with("external-secrets.io/")
                    && matches!(
                        obj.kind.as_str(),
                        "ExternalSecret" | "ClusterExternalSecret"
                    );
                Refs::of(model, repo, obj.node, external_secret)
            })
            .collect();
        let mut values = HashMap::new();
        for app in &model.apps {
            for v in &app.values {
                values
                    .entry(v.root)
                    .or_insert_with(|| Refs::of(model, repo, v.root, true));
            }
        }
        AllRefs { objects, values }
    }

    /// The references of an object.
    pub fn object(&self, id: ObjId) -> &Refs {
        self.objects.get(id).unwrap_or(&EMPTY)
    }

    /// The references of a values tree.
    pub fn values(&self, root: NodeRef) -> &Refs {
        self.values.get(&root).unwrap_or(&EMPTY)
    }
}

const CLUSTER_ISSUER: &str = "cert-manager.io/cluster-issuer";
const ISSUER: &str = "cert-manager.io/issuer";

impl Refs {
    /// Walk the tree at `root`; `secrets`: whether it may hold External Secrets fields (an
    /// ExternalSecret manifest, or chart values that may template one).
    fn of(model: &GitopsModel, repo: &Repository, root: NodeRef, secrets: bool) -> Refs {
        let mut out = Refs::default();
        for (k, v) in model.entries_under(repo, root) {
            match k.as_str() {
                Some(key @ (CLUSTER_ISSUER | ISSUER)) => {
                    if let Some(name) = v.as_string() {
                        out.issuers.push(Reference {
                            kind: if key == CLUSTER_ISSUER {
                                "ClusterIssuer"
                            } else {
                                "Issuer"
                            }
                            .into(),
                            name: name.to_string(),
                            span: v.span(),
                            via: format!("the annotation `{key}`"),
                        });
                    }
                }
                Some("issuerRef") => {
                    let group = v.str_at(&["group"]).unwrap_or("cert-manager.io");
                    if group != "cert-manager.io" {
                        continue; // an external issuer type
                    }
                    if let Some(name) = v.get("name").filter(|n| n.as_string().is_some()) {
                        out.issuers.push(Reference {
                            kind: v.str_at(&["kind"]).unwrap_or("Issuer").to_string(),
                            name: name.as_string().unwrap_or_default().to_string(),
                            span: name.span(),
                            via: "`issuerRef`".into(),
                        });
                    }
                }
                Some("secretStoreRef") if secrets => {
                    let Some(name) = v.get("name").filter(|n| n.as_string().is_some()) else {
                        continue;
                    };
                    out.stores.push(Reference {
                        kind: v.str_at(&["kind"]).unwrap_or("SecretStore").to_string(),
                        name: name.as_string().unwrap_or_default().to_string(),
                        span: name.span(),
                        via: "`secretStoreRef`".into(),
                    });
                }
                _ => {}
            }
        }
        if secrets && let Some(y) = model.yaml(repo, root) {
            walk(y, None, 0, &mut out.secret_reads, &mut HashSet::new());
        }
        out
    }
}

/// Deepest YAML nesting walked for secret reads.
const MAX_DEPTH: usize = 64;

/// Every remote-secret read under a node: ExternalSecret manifests, ClusterExternalSecrets,
/// and chart values that template one. Each node is visited once: aliases make a document
/// a graph whose paths can be exponentially many (an alias bomb), while its nodes are few.
fn walk(
    y: Yaml<'_>,
    store: Option<StoreRef>,
    depth: usize,
    out: &mut Vec<SecretRead>,
    seen: &mut HashSet<NodeId>,
) {
    if depth > MAX_DEPTH || !seen.insert(y.resolved().id) {
        return;
    }
    if y.is_seq() {
        for item in y.items() {
            walk(item, store.clone(), depth + 1, out, seen);
        }
        return;
    }
    if !y.is_map() {
        return;
    }
    let store = y
        .get("secretStoreRef")
        .and_then(store_ref)
        .map(Some)
        .unwrap_or(store);
    // `data[].sourceRef.storeRef` overrides the ExternalSecret's store for one item; a
    // `generatorRef` reads no store at all.
    let source = y.get("sourceRef");
    let local_store = match source {
        Some(src) if src.get("generatorRef").is_some() => None,
        Some(src) => Some(src.get("storeRef").and_then(store_ref).or(store.clone())),
        None => Some(store.clone()),
    };
    for (k, v) in y.entries() {
        match k.as_str() {
            Some("remoteRef") => {
                if let Some(s) = &local_store {
                    read_of(v, "remoteRef.key", s.clone(), out);
                }
                continue;
            }
            Some("dataFrom") => {
                for item in v.items() {
                    let item_store = match item.get("sourceRef") {
                        Some(src) if src.get("generatorRef").is_some() => continue,
                        Some(src) => src.get("storeRef").and_then(store_ref).or(store.clone()),
                        None => store.clone(),
                    };
                    if let Some(e) = item.get("extract") {
                        read_of(e, "dataFrom.extract.key", item_store, out);
                    }
                }
                continue;
            }
            _ => {}
        }
        walk(v, store.clone(), depth + 1, out, seen);
    }
}

fn store_ref(r: Yaml<'_>) -> Option<StoreRef> {
    Some(StoreRef {
        name: r.str_at(&["name"])?.to_string(),
        kind: r.str_at(&["kind"]).map(str::to_owned),
    })
}

fn read_of(r: Yaml<'_>, via: &'static str, store: Option<StoreRef>, out: &mut Vec<SecretRead>) {
    let Some((_, key)) = r.get_entry("key") else {
        return;
    };
    let Some(k) = key.as_string() else { return };
    // Tags and other metadata are read, not the value.
    if r.str_at(&["metadataPolicy"]) == Some("Fetch") {
        return;
    }
    out.push(SecretRead {
        key: k.to_string(),
        key_span: key.span(),
        property: r
            .get_entry("property")
            .and_then(|(_, p)| p.as_string().map(|s| (s.to_string(), p.span()))),
        store,
        via,
    });
}
