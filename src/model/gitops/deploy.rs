//! What each Application deploys: its sources resolved against the repository.

use super::apps::AppSpec;
use super::{
    Application, DocRef, GitopsModel, Missing, MissingKind, NodeRef, ObjId, Opaque, SourceKind,
    Values, ValuesOrigin, chart_basename, git::normalize_url, object_of,
};
use crate::parse::Syntax;
use crate::parse::yaml::{Kind, parse_embedded};
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
        let mut queue: std::collections::VecDeque<(AppSpec, Option<usize>, usize)> =
            specs.into_iter().map(|s| (s, None, 0)).collect();
        let mut rendered = 0usize;
        while let Some((spec, parent, depth)) = queue.pop_front() {
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
                    queue.push_back((c, Some(id), depth + 1));
                }
            }
        }
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
        use crate::model::helm::{self, Outcome, Release, value};
        let span = app.sources[i].span;
        let opaque = |what: String| Opaque {
            source: i,
            span,
            name: last_segment(dir),
            what,
        };
        if self.render_steps > MAX_TOTAL_RENDER_STEPS {
            app.opaque.push(opaque(format!(
                "the local chart `{dir}` (not rendered: the repository's charts take more than {MAX_TOTAL_RENDER_STEPS} steps to render)"
            )));
            return;
        }
        let Some(chart) = helm::chart_at(self.repo, dir) else {
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
        // Chart defaults, value files, inline values, valuesObject, then parameters.
        let mut values = helm::chart_defaults(self.repo, &chart);
        for v in app.values.iter().filter(|v| v.source == i) {
            if v.origin == ValuesOrigin::ChartDefaults {
                continue;
            }
            if let Some(y) = self.model.yaml(self.repo, v.root) {
                value::merge(&mut values, &value::from_yaml(y, 0));
            }
        }
        for (name, val) in &app.sources[i].helm.parameters {
            value::set_path(&mut values, &name.value, &val.value, val.span, false);
        }
        let namespace = self.destination_namespace(app);
        let release = Release {
            name: app.sources[i]
                .helm
                .release_name
                .clone()
                .unwrap_or_else(|| app.name.clone()),
            namespace,
        };
        let rendered = helm::render(self.repo, &chart, values, &release);
        self.render_steps += rendered.steps;
        let app_id = self.model.apps.len();
        if let Some(f) = rendered.syntax_error {
            app.opaque.push(opaque(format!(
                "the local chart `{dir}`, whose template `{}` does not parse",
                self.repo.file(f).rel_path
            )));
        }
        for rf in &rendered.files {
            match &rf.outcome {
                Outcome::Docs(docs) => {
                    for d in docs {
                        let n = self.model.embedded.len() as u32;
                        self.model.embedded.push(d.clone());
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

    /// `spec.destination.namespace` of an Application (`None` when templated or unset).
    fn destination_namespace(&self, app: &Application) -> Option<String> {
        let doc = self.model.doc(self.repo, app.doc)?;
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
        if KUSTOMIZATION_FILES.iter().any(|k| {
            self.repo
                .all_paths
                .contains(&join(dir, k).unwrap_or_default())
        }) {
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
        if self
            .repo
            .all_paths
            .contains(&join(dir, "Chart.yaml").unwrap_or_default())
        {
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
            .find(|p| self.repo.all_paths.contains(p));
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
            if self.repo.all_paths.contains(&p) {
                if matches!(key, "resources" | "crds" | "bases" | "components")
                    && let Some(f) = self.repo.file_by_path(&p)
                {
                    out.files.push(f.id);
                }
            } else if self.repo.all_dirs.contains(&p) {
                if matches!(key, "patches" | "patchesStrategicMerge") {
                    out.missing.push((span, MissingKind::KustomizeEntry, p));
                    continue;
                }
                if stack.contains(&p) {
                    continue;
                }
                let has_kust = KUSTOMIZATION_FILES.iter().any(|k| {
                    self.repo
                        .all_paths
                        .contains(&join(&p, k).unwrap_or_default())
                });
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

    /// Values of a Helm source: defaults of a local chart, value files, inline values.
    /// Returns why some of them cannot be read, if so.
    fn resolve_values(
        &mut self,
        app: &mut Application,
        i: usize,
        chart_dir: Option<&str>,
    ) -> Option<String> {
        let s = app.sources[i].clone();
        let mut unseen = None;
        if let Some(dir) = chart_dir
            && let Some(f) = join(dir, "values.yaml").and_then(|p| self.repo.file_by_path(&p))
        {
            self.file_values(app, i, f.id, ValuesOrigin::ChartDefaults);
        }
        for vf in &s.helm.value_files {
            let v = vf.value.trim();
            if v.contains("://") {
                unseen.get_or_insert(format!("the value file `{v}` is fetched over HTTP"));
                continue; // fetched over HTTP: not visible
            }
            let resolved = if let Some(rest) = v.strip_prefix('$') {
                let (name, rel) = rest.split_once('/').unwrap_or((rest, ""));
                let Some(r) = app
                    .sources
                    .iter()
                    .find(|o| o.ref_name.as_ref().is_some_and(|n| n.value == name))
                else {
                    app.missing.push(Missing {
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
                    unseen.get_or_insert(format!("the value file `{v}` is in another repository"));
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
                Some(f) => self.file_values(app, i, f.id, ValuesOrigin::ValueFile(f.id)),
                None if self.repo.all_paths.contains(&p) => {}
                None if s.helm.ignore_missing_value_files => {}
                None => app.missing.push(Missing {
                    span: vf.span,
                    kind: MissingKind::ValueFile,
                    path: p,
                    source: i,
                }),
            }
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
        let parsed = self.model.doc(self.repo, r.doc).and_then(|doc| {
            let text = &self.repo.file(doc.file).text;
            parse_embedded(doc, r.node, text).ok()
        });
        let mut ids = Vec::new();
        for d in parsed.unwrap_or_default() {
            ids.push(self.model.embedded.len() as u32);
            self.model.embedded.push(d);
        }
        self.embedded.insert(r, ids.clone());
        ids
    }

    /// Manifests given in values under `extraObjects` and similar keys (cached per tree).
    fn extra_objects(&mut self, root: NodeRef) -> Rc<Vec<ObjId>> {
        if let Some(o) = self.extras.get(&root) {
            return o.clone();
        }
        // (node, is a string holding YAML)
        let mut candidates: Vec<(NodeRef, bool)> = Vec::new();
        for (k, v) in self.model.entries_under(self.repo, root) {
            if !k.as_str().is_some_and(|k| EXTRA_MANIFEST_KEYS.contains(&k)) {
                continue;
            }
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
