//! What each Application deploys: its sources resolved against the repository.

use super::ahead::{Layer, LayerDocs, RenderCache, RenderInput, render_all, render_one};
use super::apps::AppSpec;
use super::{
    Application, DocRef, GitopsModel, Missing, MissingKind, NodeRef, ObjId, Opaque, SourceKind,
    Values, ValuesOrigin, chart_basename, git::normalize_url, object_of,
};
use crate::model::helm::{Release, RenderedChart};
use crate::parse::Syntax;
use crate::parse::yaml::{Kind, parse_embedded};
use crate::parse::yaml::{Yaml, YamlDoc};
use crate::repo::Repository;
use crate::source::{FileId, FileKind, Span};
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

/// Keys under which charts take whole extra manifests in their values.
pub const EXTRA_MANIFEST_KEYS: &[&str] = &[
    "extraDeploy",
    "extraObjects",
    "extraManifests",
    "extraResources",
];

const KUSTOMIZATION_FILES: &[&str] = &["kustomization.yaml", "kustomization.yml", "Kustomization"];

#[derive(Default)]
struct Kust {
    files: Vec<FileId>,
    missing: Vec<(Span, MissingKind, String)>,
    /// (span, name, what)
    opaque: Vec<(Span, String, String)>,
}

/// The entries of [`GitopsModel::entries_under`] whose key is one of
/// [`EXTRA_MANIFEST_KEYS`], in the same order.
fn extra_manifest_entries<'m>(
    model: &'m GitopsModel,
    repo: &'m Repository,
    r: NodeRef,
) -> Vec<(Yaml<'m>, Yaml<'m>)> {
    // A key is the text of its scalar unless an escape (`"extra\x4fbjects"`) writes it
    // otherwise: a file with neither the keys' common start nor a backslash has none.
    if let DocRef::File(f, _) = r.doc {
        let text = &repo.file(f).text;
        if !text.contains("extra") && !text.contains('\\') {
            return Vec::new();
        }
    }
    super::refs::entries_named(model, repo, r, EXTRA_MANIFEST_KEYS)
}

/// What [`Builder::value_files`] finds.
#[derive(Default)]
struct ValueFiles {
    /// The local chart's folder they were looked for in.
    chart_dir: Option<String>,
    files: Vec<(FileId, ValuesOrigin)>,
    missing: Vec<Missing>,
    unseen: Option<String>,
}

/// `helm.parameters` of a source: (name, value, where the value is written).
fn parameters(s: &super::Source) -> Vec<(String, String, Span)> {
    s.helm
        .parameters
        .iter()
        .map(|(name, val)| (name.value.clone(), val.value.clone(), val.span))
        .collect()
}

/// A directory source: (path, recurse, include, exclude).
type DirKey = (String, bool, Option<String>, Option<String>);

pub(super) struct Builder<'a> {
    repo: &'a Repository,
    model: &'a mut GitopsModel,
    kustomizations: HashMap<String, Rc<Kust>>,
    directories: HashMap<DirKey, Rc<Vec<FileId>>>,
    embedded: HashMap<NodeRef, Vec<u32>>,
    extras: HashMap<NodeRef, Rc<Vec<ObjId>>>,
    /// Without configured or remote URLs: repository URLs some source of which names a
    /// path that exists here.
    fallback_urls: HashSet<String>,
    /// Applications rendered by the local charts of the Application being resolved.
    pending: Vec<AppSpec>,
    /// Evaluation steps spent rendering charts so far.
    render_steps: usize,
    /// No chart renders once this many steps are spent ([`MAX_TOTAL_RENDER_STEPS`]).
    render_budget: usize,
    /// Charts, chart defaults and values trees of the renders done on this thread.
    cache: RenderCache,
    /// Documents of YAML text in scalars (`helm.values: |`), parsed ahead of
    /// [`Builder::embedded_docs`] to plan the renders of a level, by the scalar's node.
    parsed: HashMap<NodeRef, Vec<YamlDoc>>,
    /// Embedded documents parsed out of a scalar: the scalar and the document's index.
    text_origin: HashMap<u32, (NodeRef, u32)>,
    /// The value files of the sources whose renders are planned, by (position in the
    /// level, source).
    planned_value_files: HashMap<(usize, usize), ValueFiles>,
    /// The renders of the level being resolved done ahead, by (position in the level,
    /// source): the inputs planned and what they rendered (`None`: not rendered ahead).
    ahead: HashMap<(usize, usize), (RenderInput, Option<RenderedChart>)>,
    /// How many threads render a level's charts ahead (0: none, each chart renders when
    /// its Application is resolved).
    threads: usize,
    /// The position in its level of the Application being resolved.
    current: usize,
}

/// At most this many threads render the charts of a level.
const MAX_RENDER_THREADS: usize = 8;

#[cfg(test)]
thread_local! {
    /// Tests set how many threads render ahead (0: none).
    static TEST_THREADS: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
    /// Tests set the render budget.
    static TEST_BUDGET: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
    /// How many renders were taken from those done ahead.
    static TEST_AHEAD: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// The steps every render of a build may take: [`MAX_TOTAL_RENDER_STEPS`].
fn render_budget() -> usize {
    #[cfg(test)]
    if let Some(n) = TEST_BUDGET.get() {
        return n;
    }
    MAX_TOTAL_RENDER_STEPS
}

/// How many threads render a level's charts ahead: one per core, at most
/// [`MAX_RENDER_THREADS`].
fn render_threads() -> usize {
    #[cfg(test)]
    if let Some(n) = TEST_THREADS.get() {
        return n;
    }
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(MAX_RENDER_THREADS)
}

/// Rendering every chart of a repository stops after this many evaluation steps.
const MAX_TOTAL_RENDER_STEPS: usize = 50_000_000;

/// How deep app-of-apps charts may render Applications that render Applications.
const MAX_RENDER_DEPTH: usize = 4;
/// At most this many Applications come from rendered charts.
const MAX_RENDERED_APPS: usize = 5_000;

/// What a template that could not be rendered may deploy, for [`Opaque::may_deploy`]: its
/// file name and the kinds its text writes (`kind: ClusterIssuer`), lower-cased.
fn template_kinds(repo: &Repository, file: FileId) -> String {
    let f = repo.file(file);
    let stem = f.rel_path.rsplit('/').next().unwrap_or(&f.rel_path);
    let mut out = stem.split('.').next().unwrap_or(stem).to_lowercase();
    for line in f.text.lines() {
        if let Some(k) = line.trim_start().strip_prefix("kind:") {
            let k = k.trim().trim_matches(['"', '\'']).to_lowercase();
            if !k.is_empty() && !out.contains(&k) {
                out.push(' ');
                out.push_str(&k);
            }
        }
    }
    out
}

/// `a/./b/../c/` → `a/c`; `None` when it leaves the repository.
pub fn normalize_path(p: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
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

fn join(dir: &str, rel: &str) -> Option<String> {
    if dir.is_empty() {
        normalize_path(rel)
    } else {
        normalize_path(&format!("{dir}/{rel}"))
    }
}

fn is_remote_base(e: &str) -> bool {
    e.contains("://")
        || e.starts_with("git@")
        || e.starts_with("github.com/")
        || e.starts_with("gitlab.com/")
        || e.starts_with("bitbucket.org/")
        || e.contains("?ref=")
}

fn last_segment(s: &str) -> String {
    let s = s.split('?').next().unwrap_or(s).trim_end_matches('/');
    let s = s.strip_suffix(".git").unwrap_or(s);
    s.rsplit(['/', ':']).next().unwrap_or(s).to_string()
}

impl<'a> Builder<'a> {
    pub fn new(repo: &'a Repository, model: &'a mut GitopsModel) -> Builder<'a> {
        Builder {
            repo,
            model,
            kustomizations: HashMap::new(),
            directories: HashMap::new(),
            embedded: HashMap::new(),
            extras: HashMap::new(),
            fallback_urls: HashSet::new(),
            pending: Vec::new(),
            render_steps: 0,
            render_budget: render_budget(),
            cache: RenderCache::default(),
            parsed: HashMap::new(),
            text_origin: HashMap::new(),
            ahead: HashMap::new(),
            planned_value_files: HashMap::new(),
            threads: render_threads(),
            current: 0,
        }
    }

    fn is_this_repo(&self, url: &str) -> bool {
        let n = normalize_url(url);
        if self.model.this_repo_urls.is_empty() {
            self.fallback_urls.contains(&n)
        } else {
            self.model.this_repo_urls.contains(&n)
        }
    }

    pub fn resolve(&mut self, specs: Vec<AppSpec>) {
        if self.model.this_repo_urls.is_empty() {
            for spec in &specs {
                for s in &spec.sources {
                    if let (Some(url), Some(path), None) = (&s.repo_url, &s.path, &s.chart)
                        && !matches!(s.kind, SourceKind::Unresolved(_))
                        && normalize_path(&path.value).is_some_and(|p| self.repo.exists(&p))
                    {
                        self.fallback_urls.insert(normalize_url(&url.value));
                    }
                }
            }
        }
        // Breadth first, level by level: the Applications written, then those their
        // charts render, and so on. The charts of a level render side by side first; the
        // Applications are then resolved one after another, in order, with those renders.
        let mut level: Vec<(AppSpec, Option<usize>)> =
            specs.into_iter().map(|s| (s, None)).collect();
        let mut depth = 0;
        let mut rendered = 0usize;
        while !level.is_empty() {
            self.render_ahead(&level);
            let mut next = Vec::new();
            for (pos, (spec, parent)) in level.into_iter().enumerate() {
                self.current = pos;
                self.pending.clear();
                let app = self.resolve_app(spec);
                let id = self.model.apps.len();
                self.model.apps.push(app);
                if let Some(p) = parent {
                    self.model.rendered_parent.insert(id, p);
                }
                let children = std::mem::take(&mut self.pending);
                if depth < MAX_RENDER_DEPTH {
                    for c in children {
                        if rendered >= MAX_RENDERED_APPS {
                            break;
                        }
                        rendered += 1;
                        next.push((c, Some(id)));
                    }
                }
            }
            self.ahead.clear();
            self.planned_value_files.clear();
            self.parsed.clear();
            level = next;
            depth += 1;
        }
    }

    /// Render the local charts the Applications of `level` will ask for, side by side (see
    /// [`super::ahead`]).
    fn render_ahead(&mut self, level: &[(AppSpec, Option<usize>)]) {
        if self.threads == 0 {
            return;
        }
        let mut jobs: Vec<((usize, usize), RenderInput)> = Vec::new();
        for (pos, (spec, _)) in level.iter().enumerate() {
            for (i, input, value_files) in self.plan_renders(spec) {
                jobs.push(((pos, i), input));
                self.planned_value_files.insert((pos, i), value_files);
            }
        }
        if jobs.is_empty() {
            return;
        }
        let docs = LayerDocs {
            repo: self.repo,
            model: &*self.model,
            texts: &self.embedded,
            parsed: &self.parsed,
        };
        let (keys, inputs): (Vec<_>, Vec<_>) = jobs.into_iter().unzip();
        let done = render_all(
            &docs,
            &mut self.cache,
            &inputs,
            self.threads,
            self.render_steps,
            self.render_budget,
        );
        for ((key, input), done) in keys.into_iter().zip(inputs).zip(done) {
            self.ahead.insert(key, (input, done));
        }
    }

    /// The renders resolving `spec` asks for, as [`Builder::resolve_source`] and
    /// [`Builder::render_local`] decide them: (source, inputs).
    fn plan_renders(&mut self, spec: &AppSpec) -> Vec<(usize, RenderInput, ValueFiles)> {
        let mut out = Vec::new();
        for (i, s) in spec.sources.iter().enumerate() {
            let Some(dir) = self.local_chart_dir(s) else {
                continue;
            };
            let mut layers = Vec::new();
            let value_files = self.value_files(&spec.sources, i, Some(&dir));
            for &(f, ref origin) in &value_files.files {
                if *origin == ValuesOrigin::ChartDefaults {
                    continue;
                }
                if let Syntax::Yaml(docs) = self.repo.syntax(f) {
                    for (n, d) in docs.iter().enumerate() {
                        layers.push(Layer::Node(NodeRef {
                            doc: DocRef::File(f, n as u32),
                            node: d.root().id,
                        }));
                    }
                }
            }
            if let Some(r) = s.helm.values {
                let is_text = self
                    .model
                    .yaml(self.repo, r)
                    .is_some_and(|y| y.resolved().as_str().is_some());
                if is_text {
                    let known = self.embedded.get(&r).map(Vec::len);
                    let n = match known.or_else(|| self.parsed.get(&r).map(Vec::len)) {
                        Some(n) => n,
                        None => {
                            let docs = self.parse_text(r);
                            let n = docs.len();
                            self.parsed.insert(r, docs);
                            n
                        }
                    };
                    layers.extend((0..n).map(|k| Layer::Text(r, k as u32)));
                } else {
                    layers.push(Layer::Node(r));
                }
            }
            if let Some(r) = s.helm.values_object {
                layers.push(Layer::Node(r));
            }
            let release = Release {
                name: s
                    .helm
                    .release_name
                    .clone()
                    .unwrap_or_else(|| spec.name.clone()),
                namespace: self.destination_namespace(spec.doc),
            };
            out.push((
                i,
                RenderInput {
                    dir,
                    layers,
                    parameters: parameters(s),
                    release,
                },
                value_files,
            ));
        }
        out
    }

    /// The folder of the local chart a source deploys, as [`Builder::resolve_source`]
    /// finds it.
    fn local_chart_dir(&self, s: &super::Source) -> Option<String> {
        if matches!(s.kind, SourceKind::Unresolved(_)) || s.chart.is_some() {
            return None;
        }
        if !s
            .repo_url
            .as_ref()
            .is_some_and(|u| self.is_this_repo(&u.value))
        {
            return None;
        }
        if s.path.is_none() && s.ref_name.is_some() {
            return None;
        }
        let p = normalize_path(s.path.as_ref().map_or("", |p| p.value.as_str()))?;
        (self.repo.exists(&p) && !self.has_kustomization(&p) && self.has_chart(&p)).then_some(p)
    }

    fn has_kustomization(&self, dir: &str) -> bool {
        KUSTOMIZATION_FILES
            .iter()
            .any(|k| self.repo.is_listed(&join(dir, k).unwrap_or_default()))
    }

    fn has_chart(&self, dir: &str) -> bool {
        self.repo
            .is_listed(&join(dir, "Chart.yaml").unwrap_or_default())
    }

    fn resolve_app(&mut self, spec: AppSpec) -> Application {
        let mut app = Application {
            name: spec.name,
            name_span: spec.name_span,
            file: spec.file,
            doc: spec.doc,
            generated_by: spec.generated_by,
            destination: spec.destination,
            destination_span: spec.destination_span,
            destination_namespace: spec.destination_namespace,
            sync_options: spec.sync_options,
            group: 0,
            parent: None,
            sources: spec.sources,
            sources_shape: spec.sources_shape,
            objects: Vec::new(),
            files: Vec::new(),
            values: Vec::new(),
            opaque: Vec::new(),
            missing: Vec::new(),
        };
        for i in 0..app.sources.len() {
            self.resolve_source(&mut app, i);
        }
        let mut seen = HashSet::new();
        app.files.retain(|f| seen.insert(*f));
        for f in app.files.clone() {
            app.objects.extend_from_slice(self.model.file_objects(f));
        }
        for v in app.values.clone() {
            let objs = self.extra_objects(v.root);
            app.objects.extend(objs.iter().copied());
        }
        let mut seen = HashSet::new();
        app.objects.retain(|o| seen.insert(*o));
        app
    }

    fn resolve_source(&mut self, app: &mut Application, i: usize) {
        let s = app.sources[i].clone();
        let opaque = |name: String, what: String| Opaque {
            source: i,
            span: s.span,
            name,
            what,
        };
        if let SourceKind::Unresolved(reason) = &s.kind {
            let name = s
                .chart
                .as_ref()
                .map(|c| chart_basename(&c.value).to_string())
                .or_else(|| s.path.as_ref().map(|p| last_segment(&p.value)))
                .unwrap_or_default();
            app.opaque.push(opaque(name, reason.clone()));
            return;
        }
        let this_repo = s
            .repo_url
            .as_ref()
            .is_some_and(|u| self.is_this_repo(&u.value));
        app.sources[i].this_repo = this_repo;
        let url = s.repo_url.as_ref().map_or("", |u| u.value.as_str());
        let mut local_chart_dir = None;
        let kind = if let Some(chart) = &s.chart {
            let name = chart_basename(&chart.value).to_string();
            app.opaque.push(opaque(
                name.clone(),
                format!("the chart `{}` from `{url}`", chart.value),
            ));
            SourceKind::RemoteChart
        } else if !this_repo {
            match &s.path {
                None if s.ref_name.is_some() => SourceKind::ValuesOnly,
                path => {
                    let p = path.as_ref().map_or("", |p| p.value.as_str());
                    let name = if p.is_empty() {
                        last_segment(url)
                    } else {
                        last_segment(p)
                    };
                    app.opaque.push(opaque(
                        name,
                        format!("path `{p}` of the repository `{url}`"),
                    ));
                    SourceKind::OtherRepo
                }
            }
        } else {
            match &s.path {
                None if s.ref_name.is_some() => SourceKind::ValuesOnly,
                path => {
                    let raw = path.as_ref().map_or("", |p| p.value.as_str());
                    match normalize_path(raw) {
                        None => {
                            app.opaque.push(opaque(
                                last_segment(raw),
                                format!("path `{raw}`, outside the repository"),
                            ));
                            if let Some(pv) = path {
                                app.missing.push(Missing {
                                    span: pv.span,
                                    kind: MissingKind::OutsideRepository,
                                    path: raw.to_string(),
                                    source: i,
                                });
                            }
                            SourceKind::Unresolved("the path leaves the repository".into())
                        }
                        Some(p) if !self.repo.exists(&p) => {
                            if let Some(pv) = path {
                                app.missing.push(Missing {
                                    span: pv.span,
                                    kind: MissingKind::SourcePath,
                                    path: p,
                                    source: i,
                                });
                            }
                            SourceKind::Directory
                        }
                        Some(p) => self.resolve_local(app, i, &p, &mut local_chart_dir),
                    }
                }
            }
        };
        app.sources[i].kind = kind.clone();
        if kind != SourceKind::ValuesOnly {
            let unseen = self.resolve_values(app, i, local_chart_dir.as_deref());
            if let (SourceKind::LocalChart, Some(dir)) = (&kind, &local_chart_dir) {
                self.render_local(app, i, dir, unseen);
            }
        }
    }

    /// Render the local chart in `dir` with the values source `i` passes; its manifests
    /// join what the Application deploys, the Applications among them are resolved next.
    fn render_local(&mut self, app: &mut Application, i: usize, dir: &str, unseen: Option<String>) {
        use crate::model::helm::Outcome;
        let span = app.sources[i].span;
        let opaque = |what: String| Opaque {
            source: i,
            span,
            name: last_segment(dir),
            what,
        };
        if self.render_steps > self.render_budget {
            app.opaque.push(opaque(format!(
                "the local chart `{dir}` (not rendered: the repository's charts take more than {} steps to render)",
                self.render_budget
            )));
            return;
        }
        let Some(chart) = self.cache.charts.chart(self.repo, dir) else {
            app.opaque.push(opaque(format!(
                "the local chart `{dir}`, which preflight could not read"
            )));
            return;
        };
        for (name, what) in &chart.unrendered {
            app.opaque.push(Opaque {
                name: name.clone(),
                ..opaque(format!("{what} of the local chart `{dir}` (not rendered)"))
            });
        }
        let layers = app
            .values
            .iter()
            .filter(|v| v.source == i && v.origin != ValuesOrigin::ChartDefaults)
            .map(|v| self.layer_of(v.root))
            .collect();
        let input = RenderInput {
            dir: dir.to_string(),
            layers,
            parameters: parameters(&app.sources[i]),
            release: Release {
                name: app.sources[i]
                    .helm
                    .release_name
                    .clone()
                    .unwrap_or_else(|| app.name.clone()),
                namespace: self.destination_namespace(app.doc),
            },
        };
        let ahead = match self.ahead.remove(&(self.current, i)) {
            Some((planned, rendered)) if planned == input => rendered,
            _ => None,
        };
        #[cfg(test)]
        TEST_AHEAD.set(TEST_AHEAD.get() + usize::from(ahead.is_some()));
        let mut rendered = match ahead {
            Some(a) => a,
            None => {
                let docs = LayerDocs {
                    repo: self.repo,
                    model: &*self.model,
                    texts: &self.embedded,
                    parsed: &self.parsed,
                };
                render_one(&docs, &mut self.cache, &chart, &input)
            }
        };
        self.render_steps += rendered.steps;
        let app_id = self.model.apps.len();
        if let Some(f) = rendered.syntax_error {
            app.opaque.push(opaque(format!(
                "the local chart `{dir}`, whose template `{}` does not parse",
                self.repo.file(f).rel_path
            )));
        }
        for rf in &mut rendered.files {
            match &mut rf.outcome {
                // The documents move to `embedded`; the render keeps what else it found.
                Outcome::Docs(docs) => {
                    for d in std::mem::take(docs) {
                        let n = self.model.embedded.len() as u32;
                        self.model.embedded.push(d);
                        self.model.rendered_docs.insert(n);
                        let doc_ref = DocRef::Embedded(n);
                        let root = self.model.embedded[n as usize].root();
                        let mut objs = Vec::new();
                        if let Some(o) = object_of(root, doc_ref, false) {
                            objs.push(o);
                        } else if root.str_at(&["kind"]) == Some("List") {
                            for item in root.path(&["items"]).into_iter().flat_map(|x| x.items()) {
                                objs.extend(object_of(item, doc_ref, false));
                            }
                        }
                        for o in objs {
                            if o.api_version.starts_with("argoproj.io/")
                                && matches!(o.kind.as_str(), "Application" | "ApplicationSet")
                                && let Some(y) = self.model.yaml(self.repo, o.node)
                            {
                                let set = o.kind == "ApplicationSet";
                                self.pending.extend(super::apps::collect_doc(
                                    self.repo, rf.file, doc_ref, y, set,
                                ));
                            }
                            let id = self.model.objects.len();
                            self.model
                                .defined
                                .entry((o.kind.clone(), o.name.clone()))
                                .or_default()
                                .push(id);
                            self.model.objects.push(o);
                            app.objects.push(id);
                        }
                    }
                }
                Outcome::CannotTell { reason, .. } => app.opaque.push(Opaque {
                    name: template_kinds(self.repo, rf.file),
                    ..opaque(format!(
                        "the template `{}` of the local chart `{dir}` ({reason})",
                        self.repo.file(rf.file).rel_path
                    ))
                }),
                Outcome::Failed(f) => app.opaque.push(opaque(format!(
                    "the local chart `{dir}`, whose render fails in `{}` ({})",
                    self.repo.file(rf.file).rel_path,
                    f.message
                ))),
            }
        }
        self.model.renders.push(super::ChartRender {
            app: app_id,
            source: i,
            chart: dir.to_string(),
            values_unknown: unseen,
            files: rendered.files,
            syntax_error: rendered.syntax_error,
        });
    }

    /// `spec.destination.namespace` of an Application's document (`None` when templated
    /// or unset).
    fn destination_namespace(&self, doc: DocRef) -> Option<String> {
        let doc = self.model.doc(self.repo, doc)?;
        let root = doc.root();
        let ns = root
            .str_at(&["spec", "destination", "namespace"])
            .or_else(|| root.str_at(&["spec", "template", "spec", "destination", "namespace"]))?;
        (!ns.contains("{{")).then(|| ns.to_string())
    }

    /// A folder of this repository: kustomization, chart or plain manifests.
    fn resolve_local(
        &mut self,
        app: &mut Application,
        i: usize,
        dir: &str,
        chart_dir: &mut Option<String>,
    ) -> SourceKind {
        let span = app.sources[i].span;
        if self.has_kustomization(dir) {
            let k = self.kustomize(dir, &mut Vec::new());
            app.files.extend_from_slice(&k.files);
            for (s, kind, path) in &k.missing {
                app.missing.push(Missing {
                    span: *s,
                    kind: *kind,
                    path: path.clone(),
                    source: i,
                });
            }
            for (_, name, what) in &k.opaque {
                app.opaque.push(Opaque {
                    source: i,
                    span,
                    name: name.clone(),
                    what: what.clone(),
                });
            }
            return SourceKind::Kustomize;
        }
        if self.has_chart(dir) {
            *chart_dir = Some(dir.to_string());
            return SourceKind::LocalChart;
        }
        let d = app.sources[i].directory.clone();
        let files = self.directory(dir, d.recurse, d.include, d.exclude);
        app.files.extend_from_slice(&files);
        SourceKind::Directory
    }

    /// Manifest files of a plain directory source.
    fn directory(
        &mut self,
        dir: &str,
        recurse: bool,
        include: Option<String>,
        exclude: Option<String>,
    ) -> Rc<Vec<FileId>> {
        let key = (dir.to_string(), recurse, include.clone(), exclude.clone());
        if let Some(c) = self.directories.get(&key) {
            return c.clone();
        }
        let matcher = |g: &Option<String>| {
            g.as_ref().map(|g| {
                // `{a,b}` alternatives are globset syntax too.
                globset::Glob::new(g).ok().map(|g| g.compile_matcher())
            })
        };
        let (inc, exc) = (matcher(&include), matcher(&exclude));
        let prefix = if dir.is_empty() {
            String::new()
        } else {
            format!("{dir}/")
        };
        let files = &self.repo.files;
        let start = files.partition_point(|f| f.rel_path.as_str() < prefix.as_str());
        let mut out = Vec::new();
        for f in &files[start..] {
            let Some(rest) = f.rel_path.strip_prefix(prefix.as_str()) else {
                break;
            };
            if !recurse && rest.contains('/') {
                continue;
            }
            if !matches!(f.kind, FileKind::Yaml | FileKind::Json) {
                continue;
            }
            let name = rest.rsplit('/').next().unwrap_or(rest);
            let hit = |m: &Option<Option<globset::GlobMatcher>>| match m {
                Some(Some(m)) => m.is_match(rest) || m.is_match(name),
                Some(None) => false,
                None => true,
            };
            if !hit(&inc) {
                continue;
            }
            if exc.is_some() && hit(&exc) {
                continue;
            }
            out.push(f.id);
        }
        let out = Rc::new(out);
        self.directories.insert(key, out.clone());
        out
    }

    /// Resolve the kustomization in `dir` (cached; `stack` guards against loops).
    fn kustomize(&mut self, dir: &str, stack: &mut Vec<String>) -> Rc<Kust> {
        if let Some(k) = self.kustomizations.get(dir) {
            return k.clone();
        }
        let mut out = Kust::default();
        stack.push(dir.to_string());
        let kfile = KUSTOMIZATION_FILES
            .iter()
            .filter_map(|k| join(dir, k))
            .find(|p| self.repo.is_listed(p));
        let docs = kfile
            .as_deref()
            .and_then(|p| self.repo.file_by_path(p))
            .and_then(|f| match self.repo.syntax(f.id) {
                Syntax::Yaml(docs) => Some(docs),
                _ => None,
            });
        let Some(root) = docs.and_then(|d| d.first()).map(|d| d.root()) else {
            if let Some(k) = &kfile {
                // `Kustomization` (no extension) or a file that did not parse: unseen.
                out.opaque.push((
                    Span::new(FileId(0), 0..0),
                    last_segment(dir),
                    format!("the kustomization `{k}`, which preflight could not read"),
                ));
            }
            stack.pop();
            let k = Rc::new(out);
            self.kustomizations.insert(dir.to_string(), k.clone());
            return k;
        };
        let mut entries: Vec<(&str, &str, Span)> = Vec::new();
        for key in [
            "resources",
            "bases",
            "components",
            "crds",
            "patchesStrategicMerge",
        ] {
            for item in root.get(key).into_iter().flat_map(|v| v.items()) {
                if let Some(s) = item.as_string() {
                    entries.push((key, s, item.span()));
                }
            }
        }
        for key in ["patches", "patchesJson6902"] {
            for item in root.get(key).into_iter().flat_map(|v| v.items()) {
                if let Some(p) = item.get("path")
                    && let Some(s) = p.as_string()
                {
                    entries.push(("patches", s, p.span()));
                }
            }
        }
        for chart in root.get("helmCharts").into_iter().flat_map(|v| v.items()) {
            let name = chart.str_at(&["name"]).unwrap_or("chart").to_string();
            out.opaque.push((
                chart.span(),
                name.clone(),
                format!("the Helm chart `{name}` inflated by the kustomization in `{dir}`"),
            ));
        }
        for (key, e, span) in entries {
            if key != "patchesStrategicMerge" && key != "patches" && is_remote_base(e) {
                out.opaque.push((
                    span,
                    last_segment(e),
                    format!("the remote kustomize base `{e}`"),
                ));
                continue;
            }
            if key == "patchesStrategicMerge" && e.contains('\n') {
                continue; // an inline patch
            }
            let Some(p) = join(dir, e) else {
                out.opaque.push((
                    span,
                    last_segment(e),
                    format!("`{e}`, outside the repository"),
                ));
                continue;
            };
            if self.repo.is_listed(&p) {
                if matches!(key, "resources" | "crds" | "bases" | "components")
                    && let Some(f) = self.repo.file_by_path(&p)
                {
                    out.files.push(f.id);
                }
            } else if self.repo.is_folder(&p) {
                if matches!(key, "patches" | "patchesStrategicMerge") {
                    out.missing.push((span, MissingKind::KustomizeEntry, p));
                    continue;
                }
                if stack.contains(&p) {
                    continue;
                }
                let has_kust = KUSTOMIZATION_FILES
                    .iter()
                    .any(|k| self.repo.is_listed(&join(&p, k).unwrap_or_default()));
                if !has_kust {
                    out.missing.push((span, MissingKind::KustomizationFile, p));
                    continue;
                }
                let child = self.kustomize(&p, stack);
                out.files.extend_from_slice(&child.files);
                out.missing.extend(child.missing.iter().cloned());
                out.opaque.extend(child.opaque.iter().cloned());
            } else {
                out.missing.push((span, MissingKind::KustomizeEntry, p));
            }
        }
        stack.pop();
        self.model
            .kustomize_files
            .insert(dir.to_string(), out.files.clone());
        let k = Rc::new(out);
        self.kustomizations.insert(dir.to_string(), k.clone());
        k
    }

    /// The value files source `i` of `sources` passes, in order (the chart's defaults
    /// first for a local chart); the value files it names that do not exist; why some of
    /// them cannot be read, if so.
    fn value_files(
        &self,
        sources: &[super::Source],
        i: usize,
        chart_dir: Option<&str>,
    ) -> ValueFiles {
        let s = &sources[i];
        let mut out = ValueFiles {
            chart_dir: chart_dir.map(str::to_string),
            ..ValueFiles::default()
        };
        if let Some(dir) = chart_dir
            && let Some(f) = join(dir, "values.yaml").and_then(|p| self.repo.file_by_path(&p))
        {
            out.files.push((f.id, ValuesOrigin::ChartDefaults));
        }
        for vf in &s.helm.value_files {
            let v = vf.value.trim();
            if v.contains("://") {
                out.unseen
                    .get_or_insert(format!("the value file `{v}` is fetched over HTTP"));
                continue; // fetched over HTTP: not visible
            }
            let resolved = if let Some(rest) = v.strip_prefix('$') {
                let (name, rel) = rest.split_once('/').unwrap_or((rest, ""));
                let Some(r) = sources
                    .iter()
                    .find(|o| o.ref_name.as_ref().is_some_and(|n| n.value == name))
                else {
                    out.missing.push(Missing {
                        span: vf.span,
                        kind: MissingKind::Ref,
                        path: name.to_string(),
                        source: i,
                    });
                    continue;
                };
                let this = r
                    .repo_url
                    .as_ref()
                    .is_some_and(|u| self.is_this_repo(&u.value));
                if !this {
                    out.unseen
                        .get_or_insert(format!("the value file `{v}` is in another repository"));
                    continue;
                }
                normalize_path(rel)
            } else if let Some(dir) = chart_dir {
                join(dir, v)
            } else {
                // Relative to a remote chart, or to a source that is not a chart here.
                continue;
            };
            let Some(p) = resolved else { continue };
            match self.repo.file_by_path(&p) {
                Some(f) => out.files.push((f.id, ValuesOrigin::ValueFile(f.id))),
                None if self.repo.is_listed(&p) => {}
                None if s.helm.ignore_missing_value_files => {}
                None => out.missing.push(Missing {
                    span: vf.span,
                    kind: MissingKind::ValueFile,
                    path: p,
                    source: i,
                }),
            }
        }
        out
    }

    /// Values of a Helm source: defaults of a local chart, value files, inline values.
    /// Returns why some of them cannot be read, if so.
    fn resolve_values(
        &mut self,
        app: &mut Application,
        i: usize,
        chart_dir: Option<&str>,
    ) -> Option<String> {
        let s = app.sources[i].clone();
        // A chart source's value files were found (by the same function, from the same
        // sources) when its render was planned.
        let planned = match (
            chart_dir,
            self.planned_value_files.remove(&(self.current, i)),
        ) {
            (Some(dir), Some(v)) if v.chart_dir.as_deref() == Some(dir) => Some(v),
            _ => None,
        };
        let ValueFiles {
            files,
            missing,
            mut unseen,
            ..
        } = planned.unwrap_or_else(|| self.value_files(&app.sources, i, chart_dir));
        app.missing.extend(missing);
        for (f, origin) in files {
            self.file_values(app, i, f, origin);
        }
        if let Some(r) = s.helm.values {
            let is_scalar = self
                .model
                .yaml(self.repo, r)
                .is_some_and(|y| matches!(y.resolved().kind(), Kind::Scalar { .. }));
            if is_scalar {
                for d in self.embedded_docs(r) {
                    let root = self.model.embedded[d as usize].root();
                    app.values.push(Values {
                        source: i,
                        root: NodeRef {
                            doc: DocRef::Embedded(d),
                            node: root.id,
                        },
                        origin: ValuesOrigin::Inline,
                    });
                }
            } else {
                app.values.push(Values {
                    source: i,
                    root: r,
                    origin: ValuesOrigin::Inline,
                });
            }
        }
        if let Some(r) = s.helm.values_object {
            app.values.push(Values {
                source: i,
                root: r,
                origin: ValuesOrigin::Object,
            });
        }
        if s.helm
            .parameters
            .iter()
            .any(|(_, v)| v.value.contains("{{"))
        {
            unseen.get_or_insert("a parameter's value is templated".to_string());
        }
        unseen
    }

    /// The values tree of a render that `r`, a root of an Application's values, is.
    fn layer_of(&self, r: NodeRef) -> Layer {
        if let DocRef::Embedded(d) = r.doc
            && let Some(&(scalar, k)) = self.text_origin.get(&d)
            && self
                .model
                .embedded
                .get(d as usize)
                .is_some_and(|doc| doc.root().id == r.node)
        {
            return Layer::Text(scalar, k);
        }
        Layer::Node(r)
    }

    fn file_values(&mut self, app: &mut Application, i: usize, f: FileId, origin: ValuesOrigin) {
        if let Syntax::Yaml(docs) = self.repo.syntax(f) {
            for (n, d) in docs.iter().enumerate() {
                app.values.push(Values {
                    source: i,
                    root: NodeRef {
                        doc: DocRef::File(f, n as u32),
                        node: d.root().id,
                    },
                    origin: origin.clone(),
                });
            }
        }
    }

    /// Documents parsed out of a scalar (cached per node).
    fn embedded_docs(&mut self, r: NodeRef) -> Vec<u32> {
        if let Some(ids) = self.embedded.get(&r) {
            return ids.clone();
        }
        let parsed = match self.parsed.remove(&r) {
            Some(docs) => docs,
            None => self.parse_text(r),
        };
        let mut ids = Vec::new();
        for (k, d) in parsed.into_iter().enumerate() {
            let id = self.model.embedded.len() as u32;
            ids.push(id);
            self.text_origin.insert(id, (r, k as u32));
            self.model.embedded.push(d);
        }
        self.embedded.insert(r, ids.clone());
        ids
    }

    /// The documents of the YAML text in the scalar at `r` (none when it does not parse).
    fn parse_text(&self, r: NodeRef) -> Vec<YamlDoc> {
        self.model
            .doc(self.repo, r.doc)
            .and_then(|doc| {
                let text = &self.repo.file(doc.file).text;
                parse_embedded(doc, r.node, text).ok()
            })
            .unwrap_or_default()
    }

    /// Manifests given in values under `extraObjects` and similar keys (cached per tree).
    fn extra_objects(&mut self, root: NodeRef) -> Rc<Vec<ObjId>> {
        if let Some(o) = self.extras.get(&root) {
            return o.clone();
        }
        // (node, is a string holding YAML)
        let mut candidates: Vec<(NodeRef, bool)> = Vec::new();
        for (_, v) in extra_manifest_entries(self.model, self.repo, root) {
            let doc = root.doc;
            let mut push = |n: crate::parse::yaml::Yaml<'_>| {
                if n.is_map() {
                    candidates.push((NodeRef { doc, node: n.id }, false));
                } else if n.as_string().is_some() {
                    candidates.push((NodeRef { doc, node: n.id }, true));
                }
            };
            if v.is_seq() {
                v.items().for_each(&mut push);
            } else if v.is_map() && v.get("kind").is_none() {
                v.entries().for_each(|(_, x)| push(x));
            } else {
                push(v);
            }
        }
        let mut out = Vec::new();
        for (node, is_string) in candidates {
            let roots: Vec<NodeRef> = if is_string {
                self.embedded_docs(node)
                    .into_iter()
                    .map(|d| NodeRef {
                        doc: DocRef::Embedded(d),
                        node: self.model.embedded[d as usize].root().id,
                    })
                    .collect()
            } else {
                vec![node]
            };
            for r in roots {
                let obj = self
                    .model
                    .yaml(self.repo, r)
                    .and_then(|y| object_of(y, r.doc, true));
                if let Some(obj) = obj {
                    let id = self.model.objects.len();
                    self.model
                        .defined
                        .entry((obj.kind.clone(), obj.name.clone()))
                        .or_default()
                        .push(id);
                    self.model.objects.push(obj);
                    out.push(id);
                }
            }
        }
        let out = Rc::new(out);
        self.extras.insert(root, out.clone());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::{EXTRA_MANIFEST_KEYS, TEST_AHEAD, TEST_BUDGET, TEST_THREADS};
    use crate::model::gitops::GitopsModel;
    use crate::repo::Repository;

    const APP: &str = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: NAME\nspec:\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: NS\n  sources:\n    - repoURL: https://github.com/acme/infra.git\n      targetRevision: HEAD\n      path: charts/web\n      helm:\n        releaseName: REL\n        valueFiles:\n          - values.yaml\n          - $values/envs/ENV.yaml\n        parameters:\n          - name: image.tag\n            value: \"TAG\"\n          - name: extraObjects[0].metadata.name\n            value: extra-NAME\n    - repoURL: https://github.com/acme/infra.git\n      targetRevision: HEAD\n      ref: values\n";

    /// A repository with charts rendered by many Applications: value files shared and not,
    /// parameters, inline values (a mapping and YAML text), subcharts, extra manifests in
    /// values, an app-of-apps chart whose Applications render charts in turn, and
    /// templates that fail or cannot be told.
    fn repo() -> (tempfile::TempDir, Repository) {
        let mut files: Vec<(String, String)> = vec![
            (
                "preflight.toml".into(),
                "[gitops]\nrepo_urls = [\"https://github.com/acme/infra.git\"]\n".into(),
            ),
            (
                "charts/web/Chart.yaml".into(),
                "apiVersion: v2\nname: web\nversion: 1.0.0\ndependencies:\n  - name: cache\n    condition: cache.enabled\n  - name: remote\n".into(),
            ),
            (
                "charts/web/values.yaml".into(),
                "image:\n  repository: web\n  tag: latest\nreplicas: 1\ncache:\n  enabled: true\n  size: 1\nextraObjects:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata:\n      name: extra\n  - |\n    apiVersion: v1\n    kind: Secret\n    metadata:\n      name: extra-secret\nglobal:\n  region: eu\n".into(),
            ),
            (
                "charts/web/templates/_helpers.tpl".into(),
                "{{- define \"web.name\" -}}{{ .Release.Name }}-{{ .Values.image.repository }}{{- end }}\n".into(),
            ),
            (
                "charts/web/templates/deploy.yaml".into(),
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ include \"web.name\" . }}\n  namespace: {{ .Release.Namespace }}\nspec:\n  replicas: {{ .Values.replicas }}\n  template:\n    spec:\n      containers:\n        - image: {{ .Values.image.repository }}:{{ .Values.image.tag }}\n---\napiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: ServiceAccount\n    metadata:\n      name: {{ .Release.Name }}\n".into(),
            ),
            (
                "charts/web/templates/fails.yaml".into(),
                "{{- if .Values.strict }}\nkind: ConfigMap\nmetadata:\n  name: {{ .Values.missing.key }}\n{{- end }}\n".into(),
            ),
            (
                "charts/web/templates/lookup.yaml".into(),
                "{{- if .Values.live }}{{ if lookup \"v1\" \"Secret\" \"ns\" \"s\" }}x: 1{{ end }}{{ end }}\n".into(),
            ),
            (
                "charts/web/charts/cache/Chart.yaml".into(),
                "apiVersion: v2\nname: cache\nversion: 0.1.0\n".into(),
            ),
            (
                "charts/web/charts/cache/values.yaml".into(),
                "size: 0\n".into(),
            ),
            (
                "charts/web/charts/cache/templates/sts.yaml".into(),
                "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: cache-{{ .Values.size }}-{{ .Values.global.region }}\n".into(),
            ),
            (
                "charts/apps/Chart.yaml".into(),
                "apiVersion: v2\nname: apps\nversion: 0.1.0\n".into(),
            ),
            (
                "charts/apps/values.yaml".into(),
                "apps: [child-a, child-b]\n".into(),
            ),
            (
                "charts/apps/templates/apps.yaml".into(),
                "{{- range .Values.apps }}\n---\napiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: {{ . }}\nspec:\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: {{ . }}\n  source:\n    repoURL: https://github.com/acme/infra.git\n    targetRevision: HEAD\n    path: charts/web\n    helm:\n      values: |\n        replicas: 3\n        image:\n          tag: {{ . }}\n      valuesObject:\n        strict: {{ eq . \"child-b\" }}\n{{- end }}\n".into(),
            ),
            (
                "apps/root.yaml".into(),
                "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: root\nspec:\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: argocd\n  source:\n    repoURL: https://github.com/acme/infra.git\n    targetRevision: HEAD\n    path: charts/apps\n".into(),
            ),
            (
                "apps/inline.yaml".into(),
                "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: inline\nspec:\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: inline\n  source:\n    repoURL: https://github.com/acme/infra.git\n    targetRevision: HEAD\n    path: charts/web\n    helm:\n      values: |\n        live: true\n        cache:\n          enabled: false\n        extraObjects:\n          - |\n            apiVersion: v1\n            kind: ConfigMap\n            metadata:\n              name: inline-extra\n      valuesObject:\n        replicas: 5\n".into(),
            ),
        ];
        for (i, env) in ["dev", "prod", "stage"].iter().enumerate() {
            files.push((
                format!("envs/{env}.yaml"),
                format!(
                    "replicas: {}\nimage:\n  tag: {env}\ncache:\n  size: {i}\n",
                    i + 2
                ),
            ));
            for n in 0..3 {
                let name = format!("web-{env}-{n}");
                files.push((
                    format!("apps/{env}/{name}.yaml"),
                    APP.replace("NAME", &name)
                        .replace("NS", env)
                        .replace("REL", if n == 0 { "web" } else { &name })
                        .replace("ENV", env)
                        .replace("TAG", &format!("v{n}")),
                ));
            }
        }
        let refs: Vec<(&str, &str)> = files
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        crate::testing::load_repo(&refs)
    }

    /// Everything the build puts in the model, printed in a stable order.
    fn dump(m: &GitopsModel) -> String {
        let mut defined: Vec<_> = m.defined.iter().collect();
        defined.sort();
        let mut rendered_docs: Vec<_> = m.rendered_docs.iter().collect();
        rendered_docs.sort();
        let mut parents: Vec<_> = m.rendered_parent.iter().collect();
        parents.sort();
        let mut kustomize: Vec<_> = m.kustomize_files.iter().collect();
        kustomize.sort();
        let mut file_objects: Vec<_> = m.file_objects.iter().collect();
        file_objects.sort();
        format!(
            "{:#?}\n{:#?}\n{:#?}\n{:#?}\n{defined:?}\n{rendered_docs:?}\n{parents:?}\n{kustomize:?}\n{file_objects:?}",
            m.apps, m.objects, m.embedded, m.renders
        )
    }

    fn build(repo: &Repository, threads: usize) -> (String, usize) {
        TEST_THREADS.set(Some(threads));
        TEST_AHEAD.set(0);
        let config = crate::config::GitopsConfig {
            repo_urls: vec!["https://github.com/acme/infra.git".into()],
            ..Default::default()
        };
        let m = GitopsModel::build(repo, &config, Default::default());
        TEST_THREADS.set(None);
        (dump(&m), TEST_AHEAD.get())
    }

    /// Renders done ahead, on one thread or several, give the model the build gives when
    /// every chart renders as its Application is resolved: the same Applications, objects
    /// with the same ids, the same embedded documents.
    #[test]
    fn renders_ahead_build_the_same_model() {
        let (_dir, repo) = repo();
        let (sequential, ahead) = build(&repo, 0);
        assert_eq!(ahead, 0);
        // 9 Applications of the value files, `inline`, `root`, and its 2 children.
        assert_eq!(
            sequential.matches("ChartRender {").count(),
            13,
            "{sequential}"
        );
        assert!(sequential.contains("child-b"), "{sequential}");
        assert!(sequential.contains("inline-extra"), "{sequential}");
        for threads in [1, 2, 3] {
            let (model, ahead) = build(&repo, threads);
            assert_eq!(ahead, 13, "{threads} threads");
            assert!(model == sequential, "{threads} threads:\n{model}");
        }
    }

    /// The render budget stops the same renders, whatever was rendered ahead.
    #[test]
    fn renders_ahead_keep_the_budget() {
        let (_dir, repo) = repo();
        for budget in [0, 50, 100, 150, 1000] {
            TEST_BUDGET.set(Some(budget));
            let (sequential, _) = build(&repo, 0);
            let skipped = sequential
                .matches("not rendered: the repository's charts")
                .count();
            assert!(budget >= 1000 || skipped > 0, "{budget}: nothing skipped");
            for threads in [1, 3] {
                let (model, _) = build(&repo, threads);
                assert!(
                    model == sequential,
                    "budget {budget}, {threads} threads:\n{model}"
                );
            }
        }
        TEST_BUDGET.set(None);
    }

    #[test]
    fn extra_manifest_keys_start_alike() {
        // `extra_manifest_entries` skips files without this start.
        assert!(EXTRA_MANIFEST_KEYS.iter().all(|k| k.starts_with("extra")));
    }
}
