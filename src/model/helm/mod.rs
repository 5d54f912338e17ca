//! Helm charts kept in the repository, rendered as `helm template` would render them with
//! the values an installer passes (an ArgoCD Application, an ApplicationSet, a Terraform
//! `helm_release` with a local `chart` path).
//!
//! The templates are parsed once at load (`Syntax::Template`); this model finds a chart's
//! files, builds the top-level data (`.Values` merged from the chart's `values.yaml` and
//! the installer's values, `.Release`, `.Chart`, `.Capabilities`) and evaluates each
//! template ([`render`]). Each rendered file is YAML documents whose spans point at the
//! template text that produced them, or at the values line a printed value came from;
//! a file whose output depends on what cannot be evaluated (`lookup`, random functions,
//! `.Files.Glob`, the cluster's API groups) is "cannot tell", with the reason, and its
//! manifests are left out; a file whose render fails says where and why.
//!
//! Subcharts unpacked in `charts/NAME` render with the chart (their values under their key,
//! `global` shared, `condition` honoured); dependencies that are not unpacked are not
//! rendered, and the caller treats them as sources it cannot see into.

pub mod funcs;
pub mod render;
pub mod value;

use crate::parse::Syntax;
use crate::parse::gotmpl::Node;
use crate::parse::yaml::{YamlDoc, parse_generated};
use crate::repo::Repository;
use crate::source::{FileId, FileKind, Span};
use render::{Failure, Renderer, Stop};
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
pub use value::{V, Val};

/// A chart folder of the repository.
#[derive(Clone, Debug)]
pub struct Chart {
    pub dir: String,
    pub name: String,
    pub chart_file: FileId,
    /// `.Chart`: Chart.yaml's fields under Helm's names (`Name`, `Version`, `AppVersion`).
    meta: BTreeMap<String, Val>,
    /// Templates whose output is manifests (under `templates/`, not `_*`, not NOTES.txt).
    pub templates: Vec<FileId>,
    /// Every template file of the chart (helpers included), in path order.
    pub files: Vec<FileId>,
    /// The chart's `values.yaml`.
    pub defaults: Option<FileId>,
    /// Subcharts (`charts/NAME`) and Chart.yaml dependencies, not rendered: (name, what).
    pub unrendered: Vec<(String, String)>,
    /// Subcharts kept unpacked in `charts/NAME` (with their `Chart.yaml`): rendered with
    /// the chart, with their share of its values.
    pub subcharts: Vec<Subchart>,
}

#[derive(Clone, Debug)]
pub struct Subchart {
    pub dir: String,
    /// The key of its values in the parent's: the dependency's `alias`, else its name.
    pub key: String,
    /// The dependency's `condition` (values paths, the first one set decides).
    pub condition: Option<String>,
}

/// Where a values file (its first document) sets the key path `keys`.
pub fn values_file_sets(repo: &Repository, file: FileId, keys: &[&str]) -> Option<Span> {
    let Syntax::Yaml(docs) = repo.syntax(file) else {
        return None;
    };
    docs.first()?.root().path(keys).map(|y| y.span())
}

/// Find the chart whose `Chart.yaml` is in `dir`.
pub fn chart_at(repo: &Repository, dir: &str) -> Option<Chart> {
    let prefix = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    let chart_file = repo.file_by_path(&format!("{prefix}Chart.yaml"))?;
    let mut meta = BTreeMap::new();
    let mut name = dir.rsplit('/').next().unwrap_or(dir).to_string();
    let mut unrendered = Vec::new();
    let mut deps: Vec<(String, Option<String>, Option<String>)> = Vec::new();
    if let Syntax::Yaml(docs) = repo.syntax(chart_file.id)
        && let Some(d) = docs.first()
    {
        for (k, v) in d.root().entries() {
            let Some(k) = k.as_str() else { continue };
            let helm_key = match k {
                "apiVersion" => "APIVersion".to_string(),
                _ => {
                    let mut c = k.chars();
                    c.next()
                        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                        .unwrap_or_default()
                }
            };
            meta.insert(helm_key, value::from_yaml(v, 0));
        }
        if let Some(n) = d.root().str_at(&["name"]) {
            name = n.to_string();
        }
        for dep in d
            .root()
            .get("dependencies")
            .into_iter()
            .flat_map(|x| x.items())
        {
            if let Some(n) = dep.str_at(&["name"]) {
                deps.push((
                    n.to_string(),
                    dep.str_at(&["alias"]).map(str::to_string),
                    dep.str_at(&["condition"]).map(str::to_string),
                ));
            }
        }
    }
    // Dependencies unpacked in `charts/NAME` are rendered; the others are not visible.
    let mut subcharts = Vec::new();
    let mut sub_dirs: Vec<String> = Vec::new();
    let charts_prefix = format!("{prefix}charts/");
    let first = repo
        .files
        .partition_point(|f| f.rel_path.as_str() < charts_prefix.as_str());
    for f in &repo.files[first..] {
        let Some(rest) = f.rel_path.strip_prefix(charts_prefix.as_str()) else {
            break;
        };
        if let Some((sub, "Chart.yaml")) = rest.split_once('/') {
            sub_dirs.push(format!("{charts_prefix}{sub}"));
        }
    }
    for sd in &sub_dirs {
        let base = sd.rsplit('/').next().unwrap_or(sd).to_string();
        let sub_name = repo
            .file_by_path(&format!("{sd}/Chart.yaml"))
            .and_then(|f| match repo.syntax(f.id) {
                Syntax::Yaml(docs) => docs.first()?.root().str_at(&["name"]).map(str::to_string),
                _ => None,
            })
            .unwrap_or(base);
        let dep = deps.iter().find(|(n, _, _)| *n == sub_name);
        subcharts.push(Subchart {
            dir: sd.clone(),
            key: dep
                .and_then(|(_, a, _)| a.clone())
                .unwrap_or_else(|| sub_name.clone()),
            condition: dep.and_then(|(_, _, c)| c.clone()),
        });
    }
    for (n, _, _) in &deps {
        let local = subcharts.iter().any(|sc| {
            repo.file_by_path(&format!("{}/Chart.yaml", sc.dir))
                .and_then(|f| match repo.syntax(f.id) {
                    Syntax::Yaml(docs) => docs.first()?.root().str_at(&["name"]).map(|x| x == n),
                    _ => None,
                })
                .unwrap_or(false)
        });
        if !local {
            unrendered.push((n.clone(), format!("the chart dependency `{n}`")));
        }
    }
    let mut templates = Vec::new();
    let mut files = Vec::new();
    let start = repo
        .files
        .partition_point(|f| f.rel_path.as_str() < prefix.as_str());
    for f in &repo.files[start..] {
        let Some(rest) = f.rel_path.strip_prefix(prefix.as_str()) else {
            break;
        };
        if f.kind != FileKind::HelmTemplate {
            continue;
        }
        // A subchart's files belong to the subchart.
        if rest.starts_with("charts/") {
            continue;
        }
        files.push(f.id);
        let base = rest.rsplit('/').next().unwrap_or(rest);
        if rest.starts_with("templates/")
            && !base.starts_with('_')
            && !base.ends_with(".txt")
            && !base.ends_with(".tpl")
        {
            templates.push(f.id);
        }
    }
    let defaults = repo
        .file_by_path(&format!("{prefix}values.yaml"))
        .map(|f| f.id);
    Some(Chart {
        dir: dir.to_string(),
        name,
        chart_file: chart_file.id,
        meta,
        templates,
        files,
        defaults,
        unrendered,
        subcharts,
    })
}

/// `.Release` of an install.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Release {
    pub name: String,
    /// `None` when the installer does not say (or templates it).
    pub namespace: Option<String>,
}

fn release_namespace(r: &Release) -> Val {
    match &r.namespace {
        Some(ns) => Val::str(ns.clone()),
        None => Val::unknown(
            "the release namespace is not set where the chart is installed, or is templated",
        ),
    }
}

/// What rendering one template gave.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// Its manifests (possibly none).
    Docs(Vec<YamlDoc>),
    /// Its output depends on what preflight cannot evaluate: left out.
    CannotTell { span: Span, reason: String },
    /// `helm template` fails here.
    Failed(Failure),
}

#[derive(Clone, Debug)]
pub struct RenderedFile {
    pub file: FileId,
    pub outcome: Outcome,
}

/// A chart rendered with one set of values.
#[derive(Clone, Debug)]
pub struct RenderedChart {
    pub files: Vec<RenderedFile>,
    /// A template of the chart does not parse: nothing renders (`helm-template-syntax`
    /// reports it).
    pub syntax_error: Option<FileId>,
    /// Evaluation steps the render took (callers bound the total).
    pub steps: usize,
}

/// Merged values: the chart's defaults, then each layer in order (value files, inline
/// values, `valuesObject`), then `--set`-style parameters.
pub fn chart_defaults(repo: &Repository, chart: &Chart) -> Val {
    let mut base = Val::map(BTreeMap::new());
    if let Some(f) = chart.defaults
        && let Syntax::Yaml(docs) = repo.syntax(f)
    {
        for d in docs {
            value::merge(&mut base, &value::from_yaml(d.root(), 0));
        }
    }
    base
}

/// Charts and their defaults read once for many renders (every Application of a chart,
/// every render of a subchart): each chart folder is read once and its `values.yaml`
/// converted once; the values are shared between renders and copied on write.
#[derive(Default)]
pub struct Charts {
    charts: HashMap<String, Option<Rc<Chart>>>,
    defaults: HashMap<String, Val>,
}

impl Charts {
    /// [`chart_at`], once per folder.
    pub fn chart(&mut self, repo: &Repository, dir: &str) -> Option<Rc<Chart>> {
        if let Some(c) = self.charts.get(dir) {
            return c.clone();
        }
        let c = chart_at(repo, dir).map(Rc::new);
        self.charts.insert(dir.to_string(), c.clone());
        c
    }

    /// Forget the defaults converted so far.
    pub fn forget_defaults(&mut self) {
        self.defaults.clear();
    }

    /// [`chart_defaults`], once per chart.
    pub fn defaults(&mut self, repo: &Repository, chart: &Chart) -> Val {
        if let Some(v) = self.defaults.get(&chart.dir) {
            return v.clone();
        }
        let v = chart_defaults(repo, chart);
        self.defaults.insert(chart.dir.clone(), v.clone());
        v
    }
}

/// Render every manifest template of `chart` with `values` (already merged).
pub fn render(repo: &Repository, chart: &Chart, values: Val, release: &Release) -> RenderedChart {
    render_with(
        repo,
        &mut Charts::default(),
        &Rc::new(chart.clone()),
        values,
        release,
    )
}

/// [`render`], with the subcharts and their defaults taken from `charts`.
pub fn render_with(
    repo: &Repository,
    charts: &mut Charts,
    chart: &Rc<Chart>,
    values: Val,
    release: &Release,
) -> RenderedChart {
    // The chart and its unpacked subcharts, each with its values and `.Chart`.
    let mut all: Vec<(Rc<Chart>, Val, String)> = Vec::new();
    collect_charts(
        repo,
        charts,
        chart.clone(),
        with_global(values),
        chart.name.clone(),
        0,
        &mut all,
    );
    let mut defines: HashMap<String, (FileId, &[Node])> = HashMap::new();
    for (c, _, _) in &all {
        for &f in &c.files {
            match repo.syntax(f) {
                Syntax::Template(Ok(t)) => {
                    for d in &t.defines {
                        defines.insert(d.name.clone(), (f, d.body.as_slice()));
                    }
                }
                Syntax::Template(Err(_)) => {
                    return RenderedChart {
                        files: Vec::new(),
                        syntax_error: Some(f),
                        steps: 0,
                    };
                }
                _ => {}
            }
        }
    }
    let rel = release_map(release);
    let mut out = Vec::new();
    let mut steps = 0;
    for (chart, values, template_prefix) in &all {
        let top = render::top_level(values.clone(), &rel, &chart.meta);
        for &file in &chart.templates {
            let Syntax::Template(Ok(t)) = repo.syntax(file) else {
                continue;
            };
            let root = with_template(repo, chart, template_prefix, &top, file);
            let mut r = Renderer {
                repo,
                defines: &defines,
                chart_dir: chart.dir.clone(),
                root,
                steps: 0,
                depth: 0,
            };
            let result = r.render_file(file, &t.body);
            steps += r.steps;
            let outcome = match result {
                Ok(o) => {
                    let segs = o.segments(0..o.text.len());
                    match parse_generated(file, &o.text, segs) {
                        Ok(docs) => Outcome::Docs(docs),
                        Err(e) => {
                            let span = o
                                .segments(0..o.text.len())
                                .iter()
                                .rev()
                                .find(|s| s.at as usize <= e.offset)
                                .map(|s| Span::new(s.file, s.offset as usize..s.offset as usize))
                                .unwrap_or_else(|| Span::new(file, 0..0));
                            Outcome::CannotTell {
                                span,
                                reason: format!(
                                    "the rendered output is not YAML preflight reads ({})",
                                    e.message
                                ),
                            }
                        }
                    }
                }
                Err(Stop::Unknown { span, reason }) => Outcome::CannotTell { span, reason },
                Err(Stop::Fail(f)) => Outcome::Failed(f),
            };
            out.push(RenderedFile { file, outcome });
        }
    }
    RenderedChart {
        files: out,
        syntax_error: None,
        steps,
    }
}

/// `chart` and, depth first, its unpacked subcharts whose condition holds, each with its
/// values: the subchart's defaults, then the parent's values under its key, and the
/// parent's `global`.
fn collect_charts(
    repo: &Repository,
    charts: &mut Charts,
    chart: Rc<Chart>,
    values: Val,
    template_prefix: String,
    depth: usize,
    out: &mut Vec<(Rc<Chart>, Val, String)>,
) {
    out.push((chart.clone(), values.clone(), template_prefix.clone()));
    if depth >= 5 {
        return;
    }
    for sc in &chart.subcharts {
        if let Some(cond) = &sc.condition {
            let decided = cond.split(',').map(str::trim).find_map(|path| {
                let keys: Vec<&str> = path.split('.').collect();
                match values.get_path(&keys).map(|v| &v.v) {
                    Some(V::Bool(b)) => Some(*b),
                    _ => None,
                }
            });
            if decided == Some(false) {
                continue;
            }
        }
        let Some(sub) = charts.chart(repo, &sc.dir) else {
            continue;
        };
        let mut sub_values = charts.defaults(repo, &sub);
        if let Some(own) = values.get_path(&[sc.key.as_str()])
            && own.as_map().is_some()
        {
            value::merge(&mut sub_values, own);
        }
        let mut sub_values = with_global(sub_values);
        if let (Some(g), V::Map(m)) = (values.get_path(&["global"]).cloned(), &mut sub_values.v) {
            let m = Rc::make_mut(m);
            let mut merged = m
                .get("global")
                .cloned()
                .unwrap_or(Val::map(BTreeMap::new()));
            value::merge(&mut merged, &g);
            m.insert("global".to_string(), merged);
        }
        let name = sub.name.clone();
        collect_charts(
            repo,
            charts,
            sub,
            sub_values,
            format!("{template_prefix}/charts/{name}"),
            depth + 1,
            out,
        );
    }
}

/// Helm always gives the top chart a `global` map (`.Values.global.x` never fails).
fn with_global(mut values: Val) -> Val {
    if let V::Map(m) = &mut values.v
        && m.get("global").is_none_or(|g| g.as_map().is_none())
    {
        Rc::make_mut(m).insert("global".to_string(), Val::map(BTreeMap::new()));
    }
    values
}

/// `.Release` of a first install (`helm template` renders as an install).
fn release_map(release: &Release) -> BTreeMap<String, Val> {
    let mut rel = BTreeMap::new();
    rel.insert("Name".to_string(), Val::str(release.name.clone()));
    rel.insert("Namespace".to_string(), release_namespace(release));
    rel.insert("Service".to_string(), Val::str("Helm"));
    rel.insert("IsInstall".to_string(), Val::bool(true));
    rel.insert("IsUpgrade".to_string(), Val::bool(false));
    rel.insert("Revision".to_string(), V::Int(1).into());
    rel
}

/// The top-level data with `.Template` set for `file`.
fn with_template(repo: &Repository, chart: &Chart, prefix: &str, top: &Val, file: FileId) -> Val {
    let rel_path = &repo.file(file).rel_path;
    let in_chart = rel_path
        .strip_prefix(&format!("{}/", chart.dir))
        .unwrap_or(rel_path);
    let mut root = top.clone();
    if let V::Map(m) = &mut root.v {
        let mut tm = BTreeMap::new();
        tm.insert("Name".to_string(), Val::str(format!("{prefix}/{in_chart}")));
        tm.insert(
            "BasePath".to_string(),
            Val::str(format!("{prefix}/templates")),
        );
        Rc::make_mut(m).insert("Template".to_string(), Val::map(tm));
    }
    root
}

/// The rendered text of one template (for tests and comparisons with `helm template`).
pub fn render_text(
    repo: &Repository,
    chart: &Chart,
    values: Val,
    release: &Release,
    file: FileId,
) -> Result<String, String> {
    let Syntax::Template(Ok(t)) = repo.syntax(file) else {
        return Err("not a parsed template".into());
    };
    let mut defines: HashMap<String, (FileId, &[Node])> = HashMap::new();
    for &f in &chart.files {
        if let Syntax::Template(Ok(t)) = repo.syntax(f) {
            for d in &t.defines {
                defines.insert(d.name.clone(), (f, d.body.as_slice()));
            }
        }
    }
    let rel = release_map(release);
    let mut r = Renderer {
        repo,
        defines: &defines,
        chart_dir: chart.dir.clone(),
        root: with_template(
            repo,
            chart,
            &chart.name,
            &render::top_level(with_global(values), &rel, &chart.meta),
            file,
        ),
        steps: 0,
        depth: 0,
    };
    match r.render_file(file, &t.body) {
        Ok(o) => Ok(o.text),
        Err(Stop::Unknown { reason, .. }) => Err(format!("cannot tell: {reason}")),
        Err(Stop::Fail(f)) => Err(f.message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Render `template` in a chart with `values` (YAML) and return its text.
    fn render_one(template: &str, values: &str, helpers: &str) -> Result<String, String> {
        let dir = tempfile::tempdir().unwrap();
        crate::testing::write_tree(
            dir.path(),
            &[
                (
                    "c/Chart.yaml",
                    "apiVersion: v2\nname: c\nversion: 1.2.3\nappVersion: \"9\"\n",
                ),
                ("c/values.yaml", values),
                ("c/templates/t.yaml", template),
                ("c/templates/_h.tpl", helpers),
            ],
        );
        let ex = crate::discover::Excludes::new(&[]).unwrap();
        let repo = Repository::load(
            dir.path(),
            &crate::repo::LoadOptions {
                excludes: &ex,
                max_file_bytes: 1 << 20,
            },
        );
        let chart = chart_at(&repo, "c").unwrap();
        let file = repo.file_by_path("c/templates/t.yaml").unwrap().id;
        let values = chart_defaults(&repo, &chart);
        let release = Release {
            name: "rel".into(),
            namespace: Some("ns".into()),
        };
        render_text(&repo, &chart, values, &release, file)
    }

    fn ok(template: &str, values: &str) -> String {
        render_one(template, values, "").unwrap_or_else(|e| panic!("{template}: {e}"))
    }

    #[test]
    fn go_template_semantics() {
        // Short-circuit `and`/`or`: the nil dereference is never evaluated.
        assert_eq!(
            ok(
                "{{ if and .Values.a .Values.a.b }}x{{ else }}y{{ end }}",
                "{}"
            ),
            "y"
        );
        assert_eq!(ok("{{ or .Values.missing \"d\" }}", "{}"), "d");
        // Range over maps (sorted), lists, integers; variables and scopes.
        assert_eq!(
            ok(
                "{{ range $k, $v := .Values.m }}{{ $k }}={{ $v }};{{ end }}",
                "m: {b: 2, a: 1}"
            ),
            "a=1;b=2;"
        );
        assert_eq!(
            ok(
                "{{ range $i, $x := .Values.l }}{{ $i }}{{ $x }}{{ end }}",
                "l: [x, y]"
            ),
            "0x1y"
        );
        assert_eq!(ok("{{ range 3 }}{{ . }}{{ end }}", "{}"), "012");
        assert_eq!(
            ok("{{ range .Values.none }}x{{ else }}empty{{ end }}", "{}"),
            "empty"
        );
        assert_eq!(
            ok(
                "{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}",
                "{}"
            ),
            "2"
        );
        assert_eq!(
            ok(
                "{{ range .Values.l }}{{ if eq . \"b\" }}{{ break }}{{ end }}{{ . }}{{ end }}",
                "l: [a, b, c]"
            ),
            "a"
        );
        // `with` rebinds the dot; `$` is the top.
        assert_eq!(
            ok(
                "{{ with .Values.img }}{{ .repo }}:{{ $.Chart.AppVersion }}{{ end }}",
                "img: {repo: r}"
            ),
            "r:9"
        );
        // A missing key prints nothing; a field of it fails.
        assert_eq!(ok("[{{ .Values.nope }}]", "{}"), "[]");
        assert_eq!(ok("[{{ .Values.global.registry }}]", "{}"), "[]");
        let e = render_one("{{ .Values.a.b }}", "{}", "").unwrap_err();
        assert!(e.contains("nil pointer"), "{e}");
        // Built-in objects.
        assert_eq!(
            ok(
                "{{ .Release.Name }}/{{ .Release.Namespace }}/{{ .Chart.Name }}-{{ .Chart.Version }}/{{ .Template.Name }}",
                "{}"
            ),
            "rel/ns/c-1.2.3/c/templates/t.yaml"
        );
    }

    #[test]
    fn helm_and_sprig_functions() {
        let h = "{{- define \"lbl\" -}}\napp: {{ .name }}\ntier: web\n{{- end }}";
        let t = "metadata:\n  labels:\n    {{- include \"lbl\" .Values | nindent 4 }}\n";
        assert_eq!(
            render_one(t, "name: web", h).unwrap(),
            "metadata:\n  labels:\n    app: web\n    tier: web\n"
        );
        assert_eq!(
            ok(
                "x:\n  {{- toYaml .Values.r | nindent 2 }}",
                "r: {limits: {cpu: 1}, list: [a, 'true']}"
            ),
            "x:\n  limits:\n    cpu: 1\n  list:\n  - a\n  - \"true\""
        );
        assert_eq!(
            ok(
                "{{ .Values.p | default 80 }} {{ .Values.q | default 80 }}",
                "q: 8080"
            ),
            "80 8080"
        );
        assert_eq!(
            ok(
                "{{ quote .Values.s }} {{ .Values.s | upper }} {{ lower \"AB\" }}",
                "s: a b"
            ),
            "\"a b\" A B ab"
        );
        assert_eq!(ok("{{ printf \"%s-%d\" .Values.s 3 }}", "s: x"), "x-3");
        assert_eq!(
            ok(
                "{{ trimSuffix \"-\" (trunc 5 \"abcd-efg\") }} {{ trim \"  x \" }} {{ trimPrefix \"v\" \"v1\" }}",
                "{}"
            ),
            "abcd x 1"
        );
        assert_eq!(ok("{{ b64enc \"user\" }}", "{}"), "dXNlcg==");
        assert_eq!(
            ok("{{ toJson .Values.m }}", "m: {b: [1, x], a: null}"),
            "{\"a\":null,\"b\":[1,\"x\"]}"
        );
        assert_eq!(
            ok(
                "{{ $d := dict \"a\" 1 \"b\" 2 }}{{ hasKey $d \"a\" }} {{ hasKey $d \"z\" }}",
                "{}"
            ),
            "true false"
        );
        assert_eq!(
            ok("{{ ternary \"on\" \"off\" .Values.e }}", "e: true"),
            "on"
        );
        assert_eq!(ok("{{ len (list 1 2 3) }}", "{}"), "3");
        assert_eq!(
            ok(
                "{{ $m := merge (dict \"a\" 1) (dict \"a\" 2 \"b\" 3) }}{{ $m.a }}{{ $m.b }}",
                "{}"
            ),
            "13"
        );
        assert_eq!(ok("{{ (fromYaml \"a: {b: c}\").a.b }}", "{}"), "c");
        assert_eq!(
            ok("{{ tpl .Values.t . }}", "t: \"{{ .Release.Name }}-x\""),
            "rel-x"
        );
        assert_eq!(
            ok("{{ dig \"a\" \"b\" \"none\" .Values }}", "a: {}"),
            "none"
        );
        assert_eq!(
            ok(
                "{{ if semverCompare \">=1.19-0\" .Capabilities.KubeVersion.GitVersion }}new{{ end }}",
                "{}"
            ),
            "new"
        );
        let e = render_one(
            "{{ required \"image.tag is required\" .Values.tag }}",
            "{}",
            "",
        )
        .unwrap_err();
        assert!(e.contains("image.tag is required"), "{e}");
    }

    #[test]
    fn what_cannot_be_evaluated_is_cannot_tell() {
        for t in [
            "{{ if lookup \"v1\" \"Secret\" \"ns\" \"s\" }}a{{ end }}",
            "{{ randAlphaNum 8 }}",
            "{{ now }}",
            "{{ if .Capabilities.APIVersions.Has \"monitoring.coreos.com/v1\" }}x{{ end }}",
            "{{ .Files.Glob \"x/*\" }}",
            "{{ .Files.Get \"../outside.txt\" }}",
            "{{ someUnknownFunction 1 }}",
        ] {
            let e = render_one(t, "{}", "").unwrap_err();
            assert!(e.starts_with("cannot tell"), "{t}: {e}");
        }
        // Unknown values that decide nothing do not stop the render.
        assert_eq!(
            ok(
                "{{ $s := lookup \"v1\" \"Secret\" \"ns\" \"s\" }}fine",
                "{}"
            ),
            "fine"
        );
    }

    /// A ClusterIssuer rendered by a chart Terraform installs exists for the Applications.
    #[test]
    fn objects_a_terraform_helm_release_renders_exist_for_gitops() {
        let tf = "resource \"helm_release\" \"issuers\" {\n  name  = \"issuers\"\n  chart = \"${path.module}/../../charts/issuers\"\n  set {\n    name  = \"issuer\"\n    value = \"letsencrypt-prod\"\n  }\n}\n";
        let issuer = "apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata:\n  name: {{ .Values.issuer }}\n";
        let app = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: web\nspec:\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: web\n  source:\n    repoURL: https://github.com/acme/infra.git\n    targetRevision: HEAD\n    path: k8s/web\n";
        let ingress = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: web\n  annotations:\n    cert-manager.io/cluster-issuer: letsencrypt-prod\n";
        let base = [
            (
                "preflight.toml",
                "[gitops]\nrepo_urls = [\"https://github.com/acme/infra.git\"]\n",
            ),
            (
                "charts/issuers/Chart.yaml",
                "apiVersion: v2\nname: issuers\nversion: 0.1.0\n",
            ),
            ("charts/issuers/values.yaml", "issuer: staging\n"),
            ("charts/issuers/templates/issuer.yaml", issuer),
            ("apps/web.yaml", app),
            ("k8s/web/ingress.yaml", ingress),
        ];
        let mut with_tf = base.to_vec();
        with_tf.push(("envs/dev/main.tf", tf));
        crate::testing::expect(
            &crate::testing::check_rule("undeployed-issuer", &with_tf),
            &[],
        );
        // Without the `set`, the chart renders `staging`: the issuer is missing.
        let unset = tf.replace(
            "  set {\n    name  = \"issuer\"\n    value = \"letsencrypt-prod\"\n  }\n",
            "",
        );
        let mut without = base.to_vec();
        without.push(("envs/dev/main.tf", &unset));
        crate::testing::expect(
            &crate::testing::check_rule("undeployed-issuer", &without),
            &[("undeployed-issuer", "k8s/web/ingress.yaml", 6)],
        );
    }

    /// An app-of-apps chart Terraform bootstraps: the Applications it renders are checked.
    #[test]
    fn applications_a_terraform_helm_release_renders_are_applications() {
        let tf = "resource \"helm_release\" \"apps\" {\n  name      = \"apps\"\n  namespace = \"argocd\"\n  chart     = \"../../charts/apps\"\n  values    = [file(\"${path.module}/apps.yaml\")]\n}\n";
        let template = "{{- range .Values.apps }}\n---\napiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: {{ .name }}\n  namespace: argocd\nspec:\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: {{ .name }}\n  source:\n    repoURL: https://github.com/acme/infra.git\n    targetRevision: HEAD\n    path: {{ .path }}\n{{- end }}\n";
        let files = [
            (
                "preflight.toml",
                "[gitops]\nrepo_urls = [\"https://github.com/acme/infra.git\"]\n",
            ),
            (
                "charts/apps/Chart.yaml",
                "apiVersion: v2\nname: apps\nversion: 0.1.0\n",
            ),
            ("charts/apps/templates/apps.yaml", template),
            ("envs/dev/main.tf", tf),
            (
                "envs/dev/apps.yaml",
                "apps:\n  - name: web\n    path: k8s/web\n  - name: api\n    path: k8s/api-moved\n",
            ),
            (
                "k8s/web/cm.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n",
            ),
        ];
        crate::testing::expect(
            &crate::testing::check_rule("missing-source-path", &files),
            &[("missing-source-path", "envs/dev/apps.yaml", 5)],
        );
    }

    #[test]
    fn hostile_templates_are_bounded() {
        let h = "{{ define \"loop\" }}{{ include \"loop\" . }}{{ end }}";
        let e = render_one("{{ include \"loop\" . }}", "{}", h).unwrap_err();
        assert!(e.starts_with("cannot tell"), "{e}");
        let e = render_one(
            "{{ range 100000 }}{{ range 100000 }}x{{ end }}{{ end }}",
            "{}",
            "",
        )
        .unwrap_err();
        assert!(e.starts_with("cannot tell"), "{e}");
    }
}
