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
        let objects = crate::model::map_on_threads(&model.objects, |obj| {
            let external_secret = obj.api_version.starts_with("external-secrets.io/")
                && matches!(
                    obj.kind.as_str(),
                    "ExternalSecret" | "ClusterExternalSecret"
                );
            Refs::of(model, repo, obj.node, external_secret)
        });
        let mut roots = Vec::new();
        let mut seen = HashSet::new();
        for app in &model.apps {
            for v in &app.values {
                if seen.insert(v.root) {
                    roots.push(v.root);
                }
            }
        }
        let walked = crate::model::map_on_threads(&roots, |&r| Refs::of(model, repo, r, true));
        let values = roots.into_iter().zip(walked).collect();
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
        for (k, v) in entries_named(
            model,
            repo,
            root,
            &[CLUSTER_ISSUER, ISSUER, "issuerRef", "secretStoreRef"],
        ) {
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
            SEEN.with_borrow_mut(|seen| {
                seen.clear();
                walk(y, None, 0, &mut out.secret_reads, seen);
            });
        }
        out
    }
}

/// The map entries under `root` whose key is one of `keys`: those of
/// [`GitopsModel::entries_under`], in its order, without collecting every other entry.
pub(super) fn entries_named<'a>(
    model: &'a GitopsModel,
    repo: &'a Repository,
    root: NodeRef,
    keys: &[&str],
) -> Vec<(Yaml<'a>, Yaml<'a>)> {
    let mut out = Vec::new();
    let Some(start) = model.yaml(repo, root) else {
        return out;
    };
    // The same walk as `entries_under`: depth first, each node once, stopping past as
    // many entries.
    SEEN.with_borrow_mut(|seen| {
        seen.clear();
        walk_named(start, keys, seen, &mut out);
    });
    // `entries_under` sorts every entry by where its key is written (a stable sort of the
    // walk's order); these are a part of its entries in the same order, so they come out
    // of the same sort as they come out of its.
    out.sort_by_cached_key(|(k, _)| k.span().start);
    out
}

thread_local! {
    /// The nodes a walk has seen, kept between walks on a thread (cleared, not freed).
    static SEEN: std::cell::RefCell<Seen> = std::cell::RefCell::new(Seen::default());
}

type Seen = foldhash::HashSet<NodeId>;

fn walk_named<'a>(
    start: Yaml<'a>,
    keys: &[&str],
    seen: &mut Seen,
    out: &mut Vec<(Yaml<'a>, Yaml<'a>)>,
) {
    let mut stack = vec![start.resolved()];
    let mut scratch = Vec::new();
    let mut entries = 0usize;
    // A tree reaches each node once: only aliases can lead back to a node seen.
    let graph = start.doc.has_aliases();
    while let Some(node) = stack.pop() {
        if (graph && !seen.insert(node.id)) || entries > super::MAX_ENTRIES_UNDER {
            continue;
        }
        if node.is_map() {
            scratch.clear();
            scratch.extend(node.entries());
            entries += scratch.len();
            for &(k, v) in scratch.iter().rev() {
                if k.as_str_among(keys).is_some() {
                    out.push((k, v));
                }
                stack.push(v);
            }
        } else if node.is_seq() {
            let at = stack.len();
            stack.extend(node.items());
            stack[at..].reverse();
        }
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
    seen: &mut Seen,
) {
    if depth > MAX_DEPTH || (y.doc.has_aliases() && !seen.insert(y.resolved().id)) {
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
        match k.as_str_among(&["remoteRef", "dataFrom"]) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::GitopsConfig;

    const URL: &str = "https://github.com/acme/infra.git";

    use crate::testing::load_repo as load;

    #[test]
    fn each_tree_is_walked_once_for_issuers_stores_and_secret_reads() {
        let app = format!(
            "apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: web
spec:
  destination:
    server: https://eks.example.com
  source:
    repoURL: {URL}
    targetRevision: HEAD
    path: k8s
    helm:
      values: |
        ingress:
          annotations:
            cert-manager.io/cluster-issuer: letsencrypt
        externalSecret:
          secretStoreRef:
            name: aws
            kind: ClusterSecretStore
          remoteRef:
            key: web/db
            property: password
"
        );
        let (_d, repo) = load(&[
            ("apps/web.yaml", app.as_str()),
            (
                "k8s/secret.yaml",
                "apiVersion: external-secrets.io/v1beta1
kind: ExternalSecret
metadata:
  name: db
spec:
  secretStoreRef:
    name: vault
  data:
    - secretKey: url
      remoteRef:
        key: db/url
  dataFrom:
    - extract:
        key: db/all
",
            ),
            (
                "k8s/cert.yaml",
                "apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: web
spec:
  issuerRef:
    name: internal
    kind: Issuer
  secretStoreRef:
    name: not-an-external-secret
",
            ),
        ]);
        let config = GitopsConfig {
            repo_urls: vec![URL.to_string()],
            ..GitopsConfig::default()
        };
        let model = GitopsModel::build(&repo, &config, HashSet::new());
        let refs = model.refs(&repo);
        assert!(std::ptr::eq(refs, model.refs(&repo)), "walked once");
        let obj = |kind: &str| {
            let id = model.objects.iter().position(|o| o.kind == kind).unwrap();
            refs.object(id)
        };
        let es = obj("ExternalSecret");
        assert!(es.issuers.is_empty());
        let stores: Vec<(&str, &str)> = es
            .stores
            .iter()
            .map(|r| (r.kind.as_str(), r.name.as_str()))
            .collect();
        assert_eq!(stores, [("SecretStore", "vault")]);
        let reads: Vec<(&str, &str, Option<&str>)> = es
            .secret_reads
            .iter()
            .map(|r| {
                (
                    r.key.as_str(),
                    r.via,
                    r.store.as_ref().map(|s| s.name.as_str()),
                )
            })
            .collect();
        assert_eq!(
            reads,
            [
                ("db/url", "remoteRef.key", Some("vault")),
                ("db/all", "dataFrom.extract.key", Some("vault")),
            ]
        );
        // A Certificate names an issuer; its stray `secretStoreRef` is not a store reference.
        let cert = obj("Certificate");
        let issuers: Vec<(&str, &str, &str)> = cert
            .issuers
            .iter()
            .map(|r| (r.kind.as_str(), r.name.as_str(), r.via.as_str()))
            .collect();
        assert_eq!(issuers, [("Issuer", "internal", "`issuerRef`")]);
        assert!(cert.stores.is_empty() && cert.secret_reads.is_empty());
        // The inline values of the Application: all three.
        let web = &model.apps[0];
        let values = refs.values(web.values[0].root);
        assert_eq!(values.issuers[0].name, "letsencrypt");
        assert_eq!(values.issuers[0].kind, "ClusterIssuer");
        assert_eq!(values.stores[0].name, "aws");
        let read = &values.secret_reads[0];
        assert_eq!(read.key, "web/db");
        assert_eq!(
            read.property.as_ref().map(|p| p.0.as_str()),
            Some("password")
        );
        assert_eq!(
            read.store.as_ref().and_then(|s| s.kind.as_deref()),
            Some("ClusterSecretStore")
        );
    }
}
