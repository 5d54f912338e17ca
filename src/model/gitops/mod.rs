//! The GitOps model: which Applications exist, what each one deploys, and to which cluster.
//!
//! Built once per check from the loaded repository (see [`GitopsModel::build`]); rules only
//! ask it questions. What the model cannot see (remote charts, remote kustomize bases, other
//! repositories, generators it does not expand) is recorded as [`Opaque`] so that rules can
//! say "cannot tell" instead of guessing.
//!
//! - Applications: `argoproj.io` `Application` (one `source` or several `sources`) and the
//!   Applications an `ApplicationSet` generates (list and git generators).
//! - App-of-apps: an Application whose source deploys Application manifests is their parent;
//!   children belong to their root's cluster group.
//! - Cluster groups: destination server (or name); the in-cluster destination shared by
//!   several environments is further split by app-of-apps root or by the folder holding the
//!   Application manifests.

mod ahead;
mod applied;
mod apps;
pub(crate) mod deploy;
pub mod git;
mod lookup;
mod refs;

use crate::config::GitopsConfig;
use crate::parse::Syntax;
use crate::parse::yaml::{Kind, NodeId, Yaml, YamlDoc};
use crate::repo::Repository;
use crate::source::{FileId, Span};
use std::collections::{HashMap, HashSet};

pub use applied::TerraformApplied;
pub use deploy::normalize_path as deploy_normalize_path;
pub use git::{GitInfo, Revision};
pub use lookup::HelmValue;
pub use refs::{AllRefs, Reference, Refs, SecretRead, StoreRef};

pub type AppId = usize;
pub type GroupId = usize;
pub type ObjId = usize;

/// A YAML document: one of a repository file's documents, or one parsed out of a scalar
/// (`helm.values: |`, a manifest string in `extraObjects`) and owned by the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DocRef {
    File(FileId, u32),
    Embedded(u32),
}

/// A node of a [`DocRef`] document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NodeRef {
    pub doc: DocRef,
    pub node: NodeId,
}

/// A string value and where it is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Val {
    pub value: String,
    pub span: Span,
}

/// A Kubernetes object found in a manifest or in chart values.
#[derive(Clone, Debug)]
pub struct Object {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
    /// The object's root mapping.
    pub node: NodeRef,
    /// `metadata.name`'s value.
    pub name_span: Span,
    /// Found inside Helm values (`extraObjects`, …) rather than in a manifest file.
    pub from_values: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceKind {
    /// Plain manifests in a folder of this repository.
    Directory,
    /// A kustomization in this repository.
    Kustomize,
    /// A Helm chart in this repository (values are read; templates are not rendered).
    LocalChart,
    /// A chart from a Helm repository or OCI registry (`chart:`).
    RemoteChart,
    /// Another git repository.
    OtherRepo,
    /// A `ref:` source without `path`: values files only.
    ValuesOnly,
    /// Could not be resolved (templated fields the model cannot fill); the reason.
    Unresolved(String),
}

/// One `source` of an Application.
#[derive(Clone, Debug)]
pub struct Source {
    pub span: Span,
    pub repo_url: Option<Val>,
    pub path: Option<Val>,
    pub chart: Option<Val>,
    pub target_revision: Option<Val>,
    pub ref_name: Option<Val>,
    /// Whether `repoURL` is this repository.
    pub this_repo: bool,
    pub kind: SourceKind,
    pub helm: Helm,
    pub directory: Directory,
}

#[derive(Clone, Debug, Default)]
pub struct Helm {
    pub value_files: Vec<Val>,
    pub ignore_missing_value_files: bool,
    /// `helm.values` (a YAML string, or a mapping).
    pub values: Option<NodeRef>,
    pub values_object: Option<NodeRef>,
    /// `helm.parameters`: (name, value).
    pub parameters: Vec<(Val, Val)>,
    /// `helm.skipCrds`: the chart's `crds/` are not applied.
    pub skip_crds: bool,
    /// `helm.releaseName`.
    pub release_name: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct Directory {
    pub recurse: bool,
    pub include: Option<String>,
    pub exclude: Option<String>,
}

/// Where a tree of Helm values comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ValuesOrigin {
    /// The chart's own `values.yaml` (local charts).
    ChartDefaults,
    ValueFile(FileId),
    Inline,
    Object,
}

/// A tree of Helm values an Application passes to a chart.
#[derive(Clone, Debug)]
pub struct Values {
    /// Index into the Application's `sources`.
    pub source: usize,
    pub root: NodeRef,
    pub origin: ValuesOrigin,
}

/// Something an Application deploys that the model cannot see into.
#[derive(Clone, Debug)]
pub struct Opaque {
    pub source: usize,
    pub span: Span,
    /// The chart's name, or the last path segment of the base or repository path.
    pub name: String,
    /// What it is, for messages ("the remote chart `x` from `repo`").
    pub what: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MissingKind {
    /// A this-repository source `path`.
    SourcePath,
    /// A `valueFiles` entry.
    ValueFile,
    /// `$name/…` where no source of the Application has `ref: name`.
    Ref,
    /// A `resources`/`bases`/`components`/… entry of a kustomization.
    KustomizeEntry,
    /// A folder named by a kustomization that holds no kustomization file.
    KustomizationFile,
    /// A this-repository source `path` that climbs out of the repository (`path` is the
    /// path as written).
    OutsideRepository,
}

/// A path an Application needs that does not exist.
#[derive(Clone, Debug)]
pub struct Missing {
    pub span: Span,
    pub kind: MissingKind,
    /// The path as resolved in the repository (or the ref name).
    pub path: String,
    pub source: usize,
}

/// How an Application writes its sources: what a fix that adds a source must follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourcesShape {
    /// `spec.sources:`, a list.
    List,
    /// `spec.source:`, one mapping (a second source means turning it into `sources:`).
    Single,
    /// Neither.
    None,
}

/// An Application, written or generated by an ApplicationSet.
#[derive(Clone, Debug)]
pub struct Application {
    pub name: String,
    pub name_span: Span,
    /// The file holding the Application (or the ApplicationSet that generated it).
    pub file: FileId,
    /// The document of the Application (or ApplicationSet).
    pub doc: DocRef,
    /// The ApplicationSet that generated it.
    pub generated_by: Option<String>,
    /// `destination.server`, or `destination.name`; empty when neither is set.
    pub destination: String,
    pub destination_span: Option<Span>,
    /// `destination.namespace`.
    pub destination_namespace: Option<Val>,
    /// `syncPolicy.syncOptions` (`ServerSideApply=true`, `Replace=true`, …).
    pub sync_options: Vec<Val>,
    pub group: GroupId,
    /// The Application whose source deploys this Application's manifest.
    pub parent: Option<AppId>,
    pub sources: Vec<Source>,
    pub sources_shape: SourcesShape,
    /// Objects deployed: manifests of its sources and manifests given in chart values.
    pub objects: Vec<ObjId>,
    /// Manifest files deployed from this repository.
    pub files: Vec<FileId>,
    pub values: Vec<Values>,
    pub opaque: Vec<Opaque>,
    pub missing: Vec<Missing>,
}

/// Applications that deploy to the same cluster.
#[derive(Clone, Debug)]
pub struct ClusterGroup {
    pub destination: String,
    /// What splits a shared destination (app-of-apps root or Application folder).
    pub qualifier: Option<String>,
    /// The destination could not be resolved (templated): it may be any cluster.
    pub unresolved: bool,
}

impl ClusterGroup {
    /// For messages: "`https://kubernetes.default.svc` (Applications in gitops/argocd/apps/dev)".
    pub fn describe(&self) -> String {
        let dest = if self.destination.is_empty() {
            "(no destination)".to_string()
        } else {
            format!("`{}`", self.destination)
        };
        match &self.qualifier {
            Some(q) => format!("{dest} ({q})"),
            None => dest,
        }
    }
}

/// Why an object counts as present without any Application deploying it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Provided {
    /// `[gitops.provided]` in preflight.toml.
    Config,
    /// Created by Terraform (`kubernetes_manifest`, `kubectl_manifest`).
    Terraform,
}

/// The kinds of object the model asks about by name (issuers, secret stores, namespaces):
/// the kinds `[gitops.provided]` can declare. A kind missing here could never match, so the
/// configuration rejects it; a rule that asks `provided` about a new kind adds it here.
pub const PROVIDABLE_KINDS: &[&str] = &[
    "ClusterIssuer",
    "Issuer",
    "ClusterSecretStore",
    "SecretStore",
    "Namespace",
];

#[derive(Default)]
pub struct GitopsModel {
    pub apps: Vec<Application>,
    pub groups: Vec<ClusterGroup>,
    pub objects: Vec<Object>,
    /// YAML documents parsed out of scalars (inline Helm values, manifest strings).
    pub embedded: Vec<YamlDoc>,
    pub git: GitInfo,
    /// The URLs that mean this repository (normalised).
    pub this_repo_urls: HashSet<String>,
    /// A URL of this repository as written, for suggested fixes.
    pub this_repo_url: Option<String>,
    /// Extension point for the Terraform model: (kind, name) of Kubernetes objects that
    /// Terraform creates (`kubernetes_manifest`, `kubectl_manifest`). Filled by the engine
    /// once the Terraform model exists; empty until then.
    pub provided_by_terraform: HashSet<(String, String)>,
    provided_by_config: HashSet<(String, String)>,
    group_apps: Vec<Vec<AppId>>,
    /// Groups whose destination could not be resolved: they may be any cluster.
    unresolved_groups: Vec<GroupId>,
    deployed: HashMap<(GroupId, String, String), Vec<(AppId, ObjId)>>,
    defined: HashMap<(String, String), Vec<ObjId>>,
    /// Objects of each repository file, in document order.
    file_objects: HashMap<FileId, Vec<ObjId>>,
    /// Kustomization folder → the files it deploys (for "which folder deploys this file").
    kustomize_files: HashMap<String, Vec<FileId>>,
    /// Local charts rendered for an Application: what each render gave.
    pub renders: Vec<ChartRender>,
    /// Embedded documents that are rendered chart output (not text written in a file).
    rendered_docs: HashSet<u32>,
    /// Applications rendered by a local chart → the Application that renders them.
    rendered_parent: HashMap<AppId, AppId>,
    /// What every object and values tree refers to, walked once on first ask.
    refs: std::sync::OnceLock<AllRefs>,
}

/// One render of a local chart for one Application source.
#[derive(Clone, Debug)]
pub struct ChartRender {
    pub app: AppId,
    pub source: usize,
    /// The chart's folder.
    pub chart: String,
    /// Why the values may be incomplete (a value file preflight cannot read): a failure
    /// caused by a missing value is then "cannot tell".
    pub values_unknown: Option<String>,
    /// Each template's outcome. The documents of an `Outcome::Docs` are moved to
    /// [`GitopsModel::embedded`] (in order), so the list here is left empty.
    pub files: Vec<crate::model::helm::RenderedFile>,
    /// A template of the chart does not parse: nothing was rendered.
    pub syntax_error: Option<FileId>,
}

/// [`GitopsModel::entries_under`] stops walking past this many entries.
pub(crate) const MAX_ENTRIES_UNDER: usize = 1_000_000;

impl GitopsModel {
    /// Build the model. `provided_by_terraform` is the Terraform extension point (see the
    /// field of that name).
    pub fn build(
        repo: &Repository,
        config: &GitopsConfig,
        provided_by_terraform: HashSet<(String, String)>,
    ) -> GitopsModel {
        Self::build_with(repo, config, provided_by_terraform, &[], Vec::new())
    }

    /// [`GitopsModel::build`], with what Terraform adds:
    /// - `applied`: the ArgoCD Applications Terraform applies (`kubectl_manifest` of a
    ///   `templatefile()`), rendered, which take the place of their raw templates;
    /// - `rendered_by_terraform`: the manifests Terraform renders from charts of this
    ///   repository (`helm_release` of a local chart): the objects exist, and the
    ///   Applications among them (an app-of-apps chart bootstrapped by Terraform) are
    ///   Applications.
    pub fn build_with(
        repo: &Repository,
        config: &GitopsConfig,
        provided_by_terraform: HashSet<(String, String)>,
        applied: &[TerraformApplied],
        rendered_by_terraform: Vec<YamlDoc>,
    ) -> GitopsModel {
        Self::index(repo, config).finish(
            repo,
            provided_by_terraform,
            applied,
            rendered_by_terraform,
        )
    }

    /// The part of the model that needs nothing from Terraform: the git facts, and every
    /// Kubernetes object of every YAML file. [`Indexed::finish`] completes it.
    pub fn index(repo: &Repository, config: &GitopsConfig) -> Indexed {
        let mut git = GitInfo::read(&repo.root);
        let mut this_repo_urls: HashSet<String> = config
            .repo_urls
            .iter()
            .map(|u| git::normalize_url(u))
            .collect();
        git.foreign = !this_repo_urls.is_empty()
            && !git.remotes.is_empty()
            && !git.remotes.iter().any(|r| this_repo_urls.contains(r));
        if !git.foreign {
            this_repo_urls.extend(git.remotes.iter().cloned());
        }
        let this_repo_url = config
            .repo_urls
            .first()
            .cloned()
            .or_else(|| git.remote_urls.first().cloned());
        let provided_by_config = config
            .provided
            .iter()
            .flat_map(|(k, names)| names.iter().map(move |n| (k.clone(), n.clone())))
            .collect();
        let mut model = GitopsModel {
            git,
            this_repo_urls,
            this_repo_url,
            provided_by_config,
            ..GitopsModel::default()
        };
        let found = crate::timing::time("gitops index", || model.index_files(repo));
        Indexed { model, found }
    }
}

/// The GitOps model as far as it goes without Terraform (see [`GitopsModel::index`]).
pub struct Indexed {
    model: GitopsModel,
    /// The Application and ApplicationSet documents of the files (`true`: a set).
    found: Vec<(DocRef, bool)>,
}

impl Indexed {
    /// The whole model, with what Terraform adds (see [`GitopsModel::build_with`]).
    pub fn finish(
        self,
        repo: &Repository,
        provided_by_terraform: HashSet<(String, String)>,
        applied: &[TerraformApplied],
        rendered_by_terraform: Vec<YamlDoc>,
    ) -> GitopsModel {
        let Indexed {
            mut model,
            mut found,
        } = self;
        model.provided_by_terraform = provided_by_terraform;
        let (rendered, replaced) = model.add_applied(repo, applied);
        found.retain(|(d, _)| !matches!(d, DocRef::File(f, _) if replaced.contains(f)));
        found.extend(rendered);
        let mut specs = crate::timing::time("gitops apps", || {
            apps::collect(repo, &found, &model.embedded)
        });
        for doc in rendered_by_terraform {
            let n = model.embedded.len() as u32;
            let file = doc.file;
            model.embedded.push(doc);
            model.rendered_docs.insert(n);
            let doc_ref = DocRef::Embedded(n);
            let root = model.embedded[n as usize].root();
            if let Some(obj) = object_of(root, doc_ref, false) {
                if obj.api_version.starts_with("argoproj.io/")
                    && matches!(obj.kind.as_str(), "Application" | "ApplicationSet")
                {
                    let set = obj.kind == "ApplicationSet";
                    specs.extend(apps::collect_doc(repo, file, doc_ref, root, set));
                }
                let id = model.objects.len();
                model
                    .defined
                    .entry((obj.kind.clone(), obj.name.clone()))
                    .or_default()
                    .push(id);
                model.objects.push(obj);
            }
        }
        let mut builder = deploy::Builder::new(repo, &mut model);
        crate::timing::time("gitops resolve", || builder.resolve(specs));
        crate::timing::time("gitops link", || model.link_and_group(repo, &found));
        model
    }
}

impl GitopsModel {
    /// Record every Kubernetes object of every YAML file; return Application and
    /// ApplicationSet documents.
    fn index_files(&mut self, repo: &Repository) -> Vec<(DocRef, bool)> {
        let mut found = Vec::new();
        for (file, syntax) in repo.iter() {
            let Syntax::Yaml(docs) = syntax else { continue };
            for (i, doc) in docs.iter().enumerate() {
                let doc_ref = DocRef::File(file.id, i as u32);
                let root = doc.root();
                if let Some(obj) = object_of(root, doc_ref, false) {
                    if obj.api_version.starts_with("argoproj.io/") {
                        match obj.kind.as_str() {
                            "Application" => found.push((doc_ref, false)),
                            "ApplicationSet" => found.push((doc_ref, true)),
                            _ => {}
                        }
                    }
                    let id = self.objects.len();
                    self.defined
                        .entry((obj.kind.clone(), obj.name.clone()))
                        .or_default()
                        .push(id);
                    self.file_objects.entry(file.id).or_default().push(id);
                    self.objects.push(obj);
                } else if root.str_at(&["kind"]) == Some("List") {
                    for item in root.path(&["items"]).into_iter().flat_map(|n| n.items()) {
                        if let Some(obj) = object_of(item, doc_ref, false) {
                            let id = self.objects.len();
                            self.defined
                                .entry((obj.kind.clone(), obj.name.clone()))
                                .or_default()
                                .push(id);
                            self.file_objects.entry(file.id).or_default().push(id);
                            self.objects.push(obj);
                        }
                    }
                }
            }
        }
        found
    }

    /// Parents (app-of-apps), cluster groups and the deployed-object index.
    fn link_and_group(&mut self, repo: &Repository, _found: &[(DocRef, bool)]) {
        // Which Applications each document defines.
        let mut by_doc: HashMap<DocRef, Vec<AppId>> = HashMap::new();
        let mut by_file: HashMap<FileId, Vec<AppId>> = HashMap::new();
        for (id, app) in self.apps.iter().enumerate() {
            by_doc.entry(app.doc).or_default().push(id);
            by_file.entry(app.file).or_default().push(id);
        }
        let mut parent: Vec<Option<AppId>> = vec![None; self.apps.len()];
        for (&child, &p) in &self.rendered_parent {
            parent[child] = Some(p);
        }
        for (id, app) in self.apps.iter().enumerate() {
            for f in &app.files {
                for &child in by_file.get(f).into_iter().flatten() {
                    if child != id
                        && parent[child].is_none()
                        && !app.generated_by_same(&self.apps[child])
                    {
                        parent[child] = Some(id);
                    }
                }
            }
        }
        let mut has_children = vec![false; self.apps.len()];
        for p in parent.iter().flatten() {
            has_children[*p] = true;
        }
        // Root of each Application, with a guard against parent loops.
        let root_of = |mut id: AppId| {
            let mut seen = HashSet::new();
            while let Some(p) = parent[id] {
                if !seen.insert(id) || seen.contains(&p) {
                    // A loop: pick its smallest member, the same for every member.
                    return seen.into_iter().chain([p]).min().unwrap_or(id);
                }
                id = p;
            }
            id
        };
        let mut group_ids: HashMap<(String, Option<String>, bool), GroupId> = HashMap::new();
        for id in 0..self.apps.len() {
            let root = root_of(id);
            let app = &self.apps[id];
            let unresolved = app.destination.contains("{{");
            let qualifier = if !is_in_cluster(&app.destination) && !app.destination.is_empty() {
                None
            } else if root != id || has_children[id] {
                let r = &self.apps[root];
                Some(format!(
                    "Applications under `{}` in {}",
                    r.name,
                    repo.file(r.file).rel_path
                ))
            } else {
                let path = &repo.file(app.file).rel_path;
                let folder = path.rsplit_once('/').map_or("", |(d, _)| d);
                Some(format!(
                    "Applications in {}",
                    if folder.is_empty() {
                        "the repository root"
                    } else {
                        folder
                    }
                ))
            };
            let key = (app.destination.clone(), qualifier.clone(), unresolved);
            let next = self.groups.len();
            let g = *group_ids.entry(key).or_insert(next);
            if g == next {
                self.groups.push(ClusterGroup {
                    destination: app.destination.clone(),
                    qualifier,
                    unresolved,
                });
                self.group_apps.push(Vec::new());
                if unresolved {
                    self.unresolved_groups.push(g);
                }
            }
            self.group_apps[g].push(id);
            self.apps[id].group = g;
            self.apps[id].parent = parent[id];
        }
        for (id, app) in self.apps.iter().enumerate() {
            for &o in &app.objects {
                let obj = &self.objects[o];
                self.deployed
                    .entry((app.group, obj.kind.clone(), obj.name.clone()))
                    .or_default()
                    .push((id, o));
            }
        }
    }

    // ---- questions -------------------------------------------------------------------

    pub fn app(&self, id: AppId) -> &Application {
        &self.apps[id]
    }

    /// The cluster groups a set of files touches: a group is touched when one of its
    /// Applications is defined in, deploys, or reads values from a file in scope. A change
    /// to one Application (say, cert-manager losing its issuer source) can break references
    /// anywhere in its cluster, so checks of references are scoped by group.
    pub fn touched_groups(
        &self,
        in_scope: impl Fn(FileId) -> bool,
    ) -> std::collections::HashSet<GroupId> {
        let mut out = std::collections::HashSet::new();
        for app in &self.apps {
            let mut values_files = app.values.iter().map(|v| match v.root.doc {
                DocRef::File(f, _) => f,
                DocRef::Embedded(i) => self.embedded.get(i as usize).map_or(app.file, |d| d.file),
            });
            if in_scope(app.file)
                || app.files.iter().any(|f| in_scope(*f))
                || values_files.any(&in_scope)
            {
                out.insert(app.group);
            }
        }
        out
    }

    /// Whether an embedded document is rendered chart output.
    pub fn is_rendered(&self, embedded: u32) -> bool {
        self.rendered_docs.contains(&embedded)
    }

    pub fn group(&self, id: GroupId) -> &ClusterGroup {
        &self.groups[id]
    }

    pub fn object(&self, id: ObjId) -> &Object {
        &self.objects[id]
    }

    pub fn apps_in_group(&self, g: GroupId) -> &[AppId] {
        self.group_apps.get(g).map_or(&[], Vec::as_slice)
    }

    /// Which Applications of cluster group `g` deploy an object of `kind` named `name`.
    pub fn deployed(&self, g: GroupId, kind: &str, name: &str) -> &[(AppId, ObjId)] {
        self.deployed
            .get(&(g, kind.to_string(), name.to_string()))
            .map_or(&[], Vec::as_slice)
    }

    /// Every object of `kind` named `name` written in a manifest file of the repository,
    /// deployed or not.
    pub fn defined(&self, kind: &str, name: &str) -> &[ObjId] {
        self.defined
            .get(&(kind.to_string(), name.to_string()))
            .map_or(&[], Vec::as_slice)
    }

    /// Whether the object exists outside the repository's Applications.
    pub fn provided(&self, kind: &str, name: &str) -> Option<Provided> {
        let key = (kind.to_string(), name.to_string());
        if self.provided_by_config.contains(&key) {
            Some(Provided::Config)
        } else if self.provided_by_terraform.contains(&key) {
            Some(Provided::Terraform)
        } else {
            None
        }
    }

    /// The opaque sources that could deploy into group `g`: those of its Applications and
    /// those of Applications whose destination could not be resolved.
    pub fn opaque_for(&self, g: GroupId) -> Vec<(AppId, &Opaque)> {
        let mut out = Vec::new();
        let unresolved = self.unresolved_groups.iter().copied().filter(|&u| u != g);
        for gid in std::iter::once(g).chain(unresolved) {
            for &a in self.apps_in_group(gid) {
                out.extend(self.apps[a].opaque.iter().map(|o| (a, o)));
            }
        }
        out
    }

    /// The objects of a repository file.
    /// Inline `helm.values` strings that do not parse as YAML: where the parser stopped (in
    /// the Application's file) and why, with the Application's name. ArgoCD hands the string
    /// to Helm, which fails the sync on it. Strings holding `{{` (an ApplicationSet template
    /// fills them first) are not judged.
    pub fn inline_values_errors(&self, repo: &Repository) -> Vec<(Span, String, String)> {
        let mut out: Vec<(Span, String, String)> = Vec::new();
        for app in &self.apps {
            for source in &app.sources {
                let Some(r) = source.helm.values else {
                    continue;
                };
                let Some(doc) = self.doc(repo, r.doc) else {
                    continue;
                };
                let node = Yaml { doc, id: r.node }.resolved();
                let Some(text) = node.as_str() else { continue };
                if text.contains("{{") {
                    continue;
                }
                let file_text = &repo.file(doc.file).text;
                if let Err(e) = crate::parse::yaml::parse_embedded(doc, node.id, file_text) {
                    let end = crate::source::floor_char_boundary(file_text, e.offset + 1);
                    let span = Span::new(doc.file, e.offset..end.max(e.offset));
                    if !out.iter().any(|(s, _, _)| *s == span) {
                        out.push((span, e.message, app.name.clone()));
                    }
                }
            }
        }
        out
    }

    pub fn file_objects(&self, file: FileId) -> &[ObjId] {
        self.file_objects.get(&file).map_or(&[], Vec::as_slice)
    }

    /// The node a [`NodeRef`] points at.
    pub fn yaml<'a>(&'a self, repo: &'a Repository, r: NodeRef) -> Option<Yaml<'a>> {
        let doc = self.doc(repo, r.doc)?;
        Some(Yaml { doc, id: r.node })
    }

    pub fn doc<'a>(&'a self, repo: &'a Repository, d: DocRef) -> Option<&'a YamlDoc> {
        match d {
            DocRef::File(f, i) => match repo.syntax.get(f.0 as usize)? {
                Syntax::Yaml(docs) => docs.get(i as usize),
                _ => None,
            },
            DocRef::Embedded(i) => self.embedded.get(i as usize),
        }
    }

    /// The folder to add as a source to deploy `file`: the nearest kustomization folder
    /// that deploys it, else the file's own folder.
    pub fn deploying_folder(&self, repo: &Repository, file: FileId) -> String {
        let path = &repo.file(file).rel_path;
        let mut dir = path.rsplit_once('/').map_or("", |(d, _)| d);
        loop {
            if self
                .kustomize_files
                .get(dir)
                .is_some_and(|files| files.contains(&file))
            {
                return dir.to_string();
            }
            match dir.rsplit_once('/') {
                Some((d, _)) => dir = d,
                None if !dir.is_empty() => dir = "",
                None => break,
            }
        }
        path.rsplit_once('/').map_or("", |(d, _)| d).to_string()
    }

    /// The Application of group `g` that installs the remote chart `chart`.
    pub fn app_with_chart(&self, g: GroupId, chart: &str) -> Option<AppId> {
        self.apps_in_group(g).iter().copied().find(|&a| {
            self.apps[a].sources.iter().any(|s| {
                s.kind == SourceKind::RemoteChart
                    && s.chart
                        .as_ref()
                        .is_some_and(|c| chart_basename(&c.value) == chart)
            })
        })
    }

    /// Every map entry under `r`, depth first, each node visited once (aliases are not
    /// followed into subtrees already seen).
    pub fn entries_under<'a>(
        &'a self,
        repo: &'a Repository,
        r: NodeRef,
    ) -> Vec<(Yaml<'a>, Yaml<'a>)> {
        let mut out = Vec::new();
        let Some(start) = self.yaml(repo, r) else {
            return out;
        };
        let mut seen = HashSet::new();
        let mut stack = vec![start.resolved()];
        // A tree reaches each node once: only aliases can lead back to a node seen.
        let graph = start.doc.has_aliases();
        while let Some(node) = stack.pop() {
            if (graph && !seen.insert(node.id)) || out.len() > MAX_ENTRIES_UNDER {
                continue;
            }
            match node.kind() {
                Kind::Map(_) => {
                    let entries: Vec<_> = node.entries().collect();
                    for (k, v) in entries.into_iter().rev() {
                        out.push((k, v));
                        stack.push(v);
                    }
                }
                Kind::Seq(_) => {
                    let items: Vec<_> = node.items().collect();
                    for item in items.into_iter().rev() {
                        stack.push(item);
                    }
                }
                _ => {}
            }
        }
        // Depth-first order with keys in document order.
        out.sort_by_key(|(k, _)| k.span().start);
        out
    }

    /// What every object and every values tree refers to (issuers, secret stores, secret
    /// reads): walked once, on the first ask, and shared by every rule that asks.
    pub fn refs(&self, repo: &Repository) -> &AllRefs {
        self.refs.get_or_init(|| AllRefs::build(self, repo))
    }
}

impl Application {
    /// The value of a sync option (`ServerSideApply=true` → `Some("true")`).
    pub fn sync_option(&self, name: &str) -> Option<&Val> {
        self.sync_options.iter().rev().find(|o| {
            o.value
                .split_once('=')
                .is_some_and(|(k, _)| k.trim() == name)
        })
    }

    /// Whether a sync option is set to `true`.
    pub fn sync_option_on(&self, name: &str) -> bool {
        self.sync_option(name)
            .and_then(|o| o.value.split_once('='))
            .is_some_and(|(_, v)| v.trim().eq_ignore_ascii_case("true"))
    }

    fn generated_by_same(&self, other: &Application) -> bool {
        self.generated_by.is_some() && self.doc == other.doc
    }
}

/// The values of every Kubernetes Secret manifest's `data` and `stringData` (documents of
/// kind `Secret`, core API, in any YAML file, at most 100,000): each value's span and its
/// text as written. They are never printed.
pub fn secret_values(repo: &Repository) -> Vec<(Span, Option<String>)> {
    let mut out = Vec::new();
    for (_, syntax) in repo.iter() {
        let Syntax::Yaml(docs) = syntax else { continue };
        for doc in docs {
            let root = doc.root();
            if root.str_at(&["kind"]) != Some("Secret")
                || root.str_at(&["apiVersion"]).is_some_and(|v| v != "v1")
            {
                continue;
            }
            for key in ["data", "stringData"] {
                let Some(map) = root.get(key).map(Yaml::resolved) else {
                    continue;
                };
                if !map.is_map() {
                    out.push((map.span(), None));
                    continue;
                }
                for (_, v) in map.entries() {
                    let v = v.resolved();
                    out.push((v.span(), v.as_string().map(str::to_owned)));
                    if out.len() >= 100_000 {
                        return out;
                    }
                }
            }
        }
    }
    out
}

/// Whether a destination is the cluster ArgoCD runs in (shared by every environment that
/// runs its own ArgoCD).
pub fn is_in_cluster(destination: &str) -> bool {
    let d = destination.trim_end_matches('/');
    d == "https://kubernetes.default.svc" || d == "in-cluster"
}

/// `oci://…/cert-manager` or `jetstack/cert-manager` → `cert-manager`.
pub fn chart_basename(chart: &str) -> &str {
    chart.rsplit('/').next().unwrap_or(chart)
}

/// A Kubernetes object at `node` (needs `kind` and `metadata.name`).
fn object_of(node: Yaml<'_>, doc: DocRef, from_values: bool) -> Option<Object> {
    let kind = node.str_at(&["kind"])?;
    let (_, name) = node.path(&["metadata"])?.get_entry("name")?;
    let name_str = name.as_string()?;
    Some(Object {
        api_version: node.str_at(&["apiVersion"]).unwrap_or_default().to_string(),
        kind: kind.to_string(),
        name: name_str.to_string(),
        namespace: node.str_at(&["metadata", "namespace"]).map(str::to_string),
        node: NodeRef { doc, node: node.id },
        name_span: name.span(),
        from_values,
    })
}

/// Known charts: what they deploy is implied by their name. `None` when the chart is not
/// known.
fn known_chart_deploys(chart: &str, kind: &str) -> Option<bool> {
    const CONTROLLERS: &[&str] = &[
        "cert-manager",
        "external-secrets",
        "ingress-nginx",
        "kong",
        "ingress",
        "external-dns",
        "kube-prometheus-stack",
        "prometheus",
        "grafana",
        "loki",
        "tempo",
        "argo-cd",
        "argo-rollouts",
        "aws-load-balancer-controller",
        "cluster-autoscaler",
        "metrics-server",
        "keycloak",
        "backstage",
        "postgresql",
        "redis",
        "karpenter",
        "datadog",
        "fluent-bit",
        "aws-ebs-csi-driver",
        "secrets-store-csi-driver",
        "velero",
        "kyverno",
    ];
    if CONTROLLERS.contains(&chart) {
        // Controllers and their CRDs; issuers and secret stores are the user's to add.
        return Some(matches!(
            kind,
            "CustomResourceDefinition" | "Deployment" | "Service"
        ));
    }
    None
}

impl Opaque {
    /// Whether this source could deploy an object of `kind` that the model cannot see. A
    /// well-known chart deploys what its name implies; an unknown one is judged by its
    /// name; an unresolved source could deploy anything.
    pub fn may_deploy(&self, kind: &str) -> bool {
        let name = self.name.to_lowercase();
        if self.what.starts_with("unresolved") {
            return true;
        }
        if let Some(known) = known_chart_deploys(&name, kind) {
            return known;
        }
        let hints: &[&str] = match kind {
            "ClusterIssuer" | "Issuer" => &["issuer", "letsencrypt", "acme", "cert"],
            "SecretStore" | "ClusterSecretStore" => {
                &["secret-store", "secretstore", "secrets-store", "store"]
            }
            _ => return true,
        };
        hints.iter().any(|h| name.contains(h))
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{check_tree, expect};

    const CONFIG: (&str, &str) = (
        "preflight.toml",
        "[gitops]\nrepo_urls = [\"https://github.com/acme/infra.git\"]\n",
    );

    fn gitops_findings(files: &[(&str, &str)]) -> Vec<crate::testing::Reported> {
        check_tree(files, &[], Default::default())
            .into_iter()
            .filter(|r| r.rule != "parse-error" && r.rule != "skipped-file")
            .collect()
    }

    #[test]
    fn odd_yaml_never_panics() {
        let odd = [
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\n",
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: [1, 2]\nspec: 5\n",
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: {a: b}\nspec:\n  source: hello\n  sources: {x: y}\n  destination: ~\n",
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: a\nspec:\n  sources:\n    - 1\n    - repoURL: [x]\n      path: {p: q}\n      helm: [1]\n    - repoURL: https://github.com/acme/infra.git\n      helm:\n        valueFiles: {a: b}\n        values: [1, 2]\n        parameters: x\n",
            "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: &n b\nspec:\n  source: &s\n    repoURL: https://github.com/acme/infra.git\n    path: k\n    helm:\n      values: *n\n  sources: [*s, *s]\n",
            "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  name: s\nspec:\n  generators: {list: 1}\n  template: 3\n",
            "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata:\n  name: s\nspec:\n  generators:\n    - list:\n        elements: [1, [2], {a: {b: {c: d}}}]\n    - git:\n        directories: [{path: '[invalid'}, 3]\n        files: 4\n    - matrix: {}\n  template:\n    metadata:\n      name: '{{a.b.c}}-{{'\n    spec:\n      destination: {server: '{{nope}}'}\n      source: {repoURL: '{{x}}'}\n",
            "apiVersion: v1\nkind: List\nitems: 3\n",
        ];
        let mut files: Vec<(String, String)> = odd
            .iter()
            .enumerate()
            .map(|(i, t)| (format!("apps/odd{i}.yaml"), t.to_string()))
            .collect();
        files.push((
            "k/kustomization.yaml".into(),
            "resources: {a: b}\nbases: [., ../k, 5]\ncomponents: x\n".into(),
        ));
        let refs: Vec<(&str, &str)> = files
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let mut all = vec![CONFIG];
        all.extend(refs);
        let _ = gitops_findings(&all);
    }

    #[test]
    fn app_of_apps_loops_terminate() {
        let app = |name: &str, path: &str| {
            format!(
                "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: {name}\nspec:\n  destination:\n    server: https://kubernetes.default.svc\n  source:\n    repoURL: https://github.com/acme/infra.git\n    targetRevision: HEAD\n    path: {path}\n"
            )
        };
        let a = app("a", "apps/b");
        let b = app("b", "apps/a");
        let findings = gitops_findings(&[CONFIG, ("apps/a/a.yaml", &a), ("apps/b/b.yaml", &b)]);
        // The model ends; the loop itself is reported, once per Application on it.
        expect(
            &findings,
            &[
                ("app-of-apps-loop", "apps/a/a.yaml", 4),
                ("app-of-apps-loop", "apps/b/b.yaml", 4),
            ],
        );
    }

    #[test]
    fn directory_recurse_include_and_exclude() {
        let app = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: web\nspec:\n  destination:\n    server: https://eks.example.com\n  source:\n    repoURL: https://github.com/acme/infra.git\n    targetRevision: HEAD\n    path: k8s\n    directory:\n      recurse: true\n      exclude: '*-skip.yaml'\n";
        let ingress = |name: &str, issuer: &str| {
            format!(
                "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: {name}\n  annotations:\n    cert-manager.io/cluster-issuer: {issuer}\n"
            )
        };
        let issuer =
            "apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata:\n  name: deep\n";
        let findings = gitops_findings(&[
            CONFIG,
            ("apps/web.yaml", app),
            ("k8s/top.yaml", &ingress("top", "deep")),
            ("k8s/sub/dir/issuer.yaml", issuer),
            ("k8s/sub/missing.yaml", &ingress("m", "absent")),
            ("k8s/sub/x-skip.yaml", &ingress("s", "skipped")),
            ("other/ing.yaml", &ingress("o", "not-deployed")),
        ]);
        expect(
            &findings,
            &[("undeployed-issuer", "k8s/sub/missing.yaml", 6)],
        );
    }

    #[test]
    fn an_unrenderable_template_that_may_define_the_issuer_makes_it_a_note() {
        let app = |name: &str, path: &str| {
            format!(
                "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: {name}\nspec:\n  destination:\n    server: https://eks.example.com\n    namespace: {name}\n  source:\n    repoURL: https://github.com/acme/infra.git\n    targetRevision: HEAD\n    path: {path}\n"
            )
        };
        let ingress = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: web\n  annotations:\n    cert-manager.io/cluster-issuer: {{ .Values.issuer }}\n";
        let issuer = |name: &str| {
            format!(
                "{{{{- if lookup \"v1\" \"Secret\" \"cert-manager\" \"eab\" }}}}\napiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata:\n  name: {name}\n{{{{- end }}}}\n"
            )
        };
        let files = |issuer_text: String| {
            vec![
                ("apps/web.yaml".to_string(), app("web", "charts/web")),
                (
                    "apps/issuers.yaml".to_string(),
                    app("issuers", "charts/issuers"),
                ),
                (
                    "charts/web/Chart.yaml".to_string(),
                    "apiVersion: v2\nname: web\nversion: 1.0.0\n".to_string(),
                ),
                (
                    "charts/web/values.yaml".to_string(),
                    "issuer: letsencrypt\n".to_string(),
                ),
                (
                    "charts/web/templates/ingress.yaml".to_string(),
                    ingress.to_string(),
                ),
                (
                    "charts/issuers/Chart.yaml".to_string(),
                    "apiVersion: v2\nname: issuers\nversion: 1.0.0\n".to_string(),
                ),
                (
                    "charts/issuers/templates/issuer.yaml".to_string(),
                    issuer_text,
                ),
            ]
        };
        let run = |owned: Vec<(String, String)>| {
            let mut all: Vec<(&str, &str)> = vec![CONFIG];
            all.extend(owned.iter().map(|(a, b)| (a.as_str(), b.as_str())));
            gitops_findings(&all)
        };
        // The issuer's template cannot be rendered: the reference is a note, not an error.
        let found = run(files(issuer("letsencrypt")));
        let refs: Vec<_> = found
            .iter()
            .filter(|f| f.rule == "undeployed-issuer")
            .collect();
        assert_eq!(
            refs.len(),
            1,
            "{:?}",
            found.iter().map(|f| &f.message).collect::<Vec<_>>()
        );
        assert_eq!(refs[0].severity, crate::diagnostic::Severity::Note);
        assert_eq!(
            (refs[0].file.as_str(), refs[0].line),
            ("charts/web/values.yaml", 1)
        );
        // Rendered without `lookup`, the issuer exists: nothing to report.
        let plain =
            "apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata:\n  name: letsencrypt\n"
                .to_string();
        let found = run(files(plain));
        expect(&found, &[]);
    }

    #[test]
    fn subcharts_render_with_their_share_of_the_values() {
        let app = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: web\nspec:\n  destination:\n    server: https://eks.example.com\n    namespace: web\n  source:\n    repoURL: https://github.com/acme/infra.git\n    targetRevision: HEAD\n    path: charts/web\n";
        let ingress = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: web\n  annotations:\n    cert-manager.io/cluster-issuer: letsencrypt\n";
        let issuer = "apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata:\n  name: {{ .Values.name }}\n  labels:\n    team: {{ .Values.global.team }}\n";
        let chart = |deps: &str| format!("apiVersion: v2\nname: web\nversion: 1.0.0\n{deps}");
        let run = |chart_yaml: String, parent_values: &str, unpacked: bool| {
            let mut files: Vec<(String, String)> = vec![
                ("apps/web.yaml".into(), app.into()),
                ("charts/web/Chart.yaml".into(), chart_yaml),
                ("charts/web/values.yaml".into(), parent_values.into()),
                ("charts/web/templates/ingress.yaml".into(), ingress.into()),
            ];
            if unpacked {
                files.push((
                    "charts/web/charts/issuers/Chart.yaml".into(),
                    "apiVersion: v2\nname: issuers\nversion: 1.0.0\n".into(),
                ));
                files.push((
                    "charts/web/charts/issuers/values.yaml".into(),
                    "name: staging\n".into(),
                ));
                files.push((
                    "charts/web/charts/issuers/templates/issuer.yaml".into(),
                    issuer.into(),
                ));
            }
            let mut all: Vec<(&str, &str)> = vec![CONFIG];
            all.extend(files.iter().map(|(a, b)| (a.as_str(), b.as_str())));
            gitops_findings(&all)
        };
        // The parent's `issuers:` values reach the subchart, `global` too.
        let found = run(
            chart(""),
            "global:\n  team: web\nissuers:\n  name: letsencrypt\n",
            true,
        );
        expect(&found, &[]);
        // A condition that is false leaves the subchart out: the issuer is missing.
        let deps = "dependencies:\n  - name: issuers\n    version: 1.0.0\n    condition: issuers.enabled\n";
        let found = run(
            chart(deps),
            "issuers:\n  enabled: false\n  name: letsencrypt\n",
            true,
        );
        expect(
            &found,
            &[("undeployed-issuer", "charts/web/templates/ingress.yaml", 6)],
        );
        // A dependency that is not unpacked cannot be seen into: a note.
        let deps = "dependencies:\n  - name: issuers\n    version: 1.0.0\n    repository: https://charts.example.com\n";
        let found = run(chart(deps), "{}\n", false);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, crate::diagnostic::Severity::Note);
        assert!(
            found[0].message.contains("dependency `issuers`"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn charts_rendering_themselves_terminate() {
        let root = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: root\nspec:\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: argocd\n  source:\n    repoURL: https://github.com/acme/infra.git\n    targetRevision: HEAD\n    path: charts/loop\n";
        let template = "{{- range $i := until 4 }}\n---\napiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: {{ $.Release.Name }}-{{ $i }}\nspec:\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: argocd\n  source:\n    repoURL: https://github.com/acme/infra.git\n    targetRevision: HEAD\n    path: charts/loop\n{{- end }}\n";
        let started = std::time::Instant::now();
        let findings = gitops_findings(&[
            CONFIG,
            ("apps/root.yaml", root),
            (
                "charts/loop/Chart.yaml",
                "apiVersion: v2\nname: loop\nversion: 0.1.0\n",
            ),
            ("charts/loop/templates/apps.yaml", template),
        ]);
        assert!(started.elapsed().as_secs() < 60);
        assert!(
            findings.iter().all(|f| f.rule == "app-of-apps-loop"),
            "{:?}",
            findings
                .iter()
                .map(|f| (&f.rule, &f.message))
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn thousands_of_applications_stay_fast() {
        let mut owned = Vec::new();
        for i in 0..1500 {
            owned.push((
                format!("apps/env{i}/web.yaml"),
                format!(
                    "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: web-{i}\nspec:\n  destination:\n    server: https://kubernetes.default.svc\n  sources:\n    - repoURL: https://charts.example.com\n      chart: web\n      targetRevision: 1.0.0\n      helm:\n        valueFiles: [$v/values/web.yaml]\n    - repoURL: https://github.com/acme/infra.git\n      targetRevision: HEAD\n      ref: v\n"
                ),
            ));
        }
        owned.push((
            "values/web.yaml".into(),
            "ingress:\n  annotations:\n    cert-manager.io/cluster-issuer: shared\n".into(),
        ));
        let mut files: Vec<(&str, &str)> = vec![CONFIG];
        files.extend(owned.iter().map(|(a, b)| (a.as_str(), b.as_str())));
        let started = std::time::Instant::now();
        let findings = gitops_findings(&files);
        // One finding for the shared location, naming every cluster.
        expect(&findings, &[("undeployed-issuer", "values/web.yaml", 3)]);
        assert!(started.elapsed().as_secs() < 60);
    }
}
