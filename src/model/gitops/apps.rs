//! Reading Applications and expanding ApplicationSets into the Applications they generate.

use super::{Directory, DocRef, Helm, NodeRef, Source, SourceKind, Val};
use crate::parse::Syntax;
use crate::parse::yaml::Yaml;
use crate::repo::Repository;
use crate::source::{FileId, Span};
use globset::GlobBuilder;
use std::collections::BTreeMap;

/// An Application as written (or generated), before its sources are resolved.
pub(super) struct AppSpec {
    pub name: String,
    pub name_span: Span,
    pub file: FileId,
    pub doc: DocRef,
    pub generated_by: Option<String>,
    pub destination: String,
    pub destination_span: Option<Span>,
    pub destination_namespace: Option<Val>,
    pub sync_options: Vec<Val>,
    pub sources: Vec<Source>,
    pub sources_shape: super::SourcesShape,
}

/// Template parameters of one generated Application.
struct Subst {
    params: Option<BTreeMap<String, String>>,
}

impl Subst {
    const NONE: Subst = Subst { params: None };

    /// Fill `{{param}}` / `{{ .param }}` placeholders; the unknown expression on failure.
    fn apply(&self, s: &str) -> Result<String, String> {
        let Some(params) = &self.params else {
            return Ok(s.to_string());
        };
        let mut out = String::new();
        let mut rest = s;
        while let Some(i) = rest.find("{{") {
            out.push_str(&rest[..i]);
            let Some(j) = rest[i..].find("}}") else {
                return Err(rest[i..].to_string());
            };
            let expr = rest[i + 2..i + j]
                .trim()
                .trim_start_matches('-')
                .trim_end_matches('-')
                .trim();
            let key = expr.strip_prefix('.').unwrap_or(expr);
            match params.get(key) {
                Some(v) => out.push_str(v),
                None => return Err(format!("{{{{{expr}}}}}")),
            }
            rest = &rest[i + j + 2..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

/// Collect the Applications of the found documents (`(doc, is_application_set)`).
pub(super) fn collect(
    repo: &Repository,
    found: &[(DocRef, bool)],
    embedded: &[crate::parse::yaml::YamlDoc],
) -> Vec<AppSpec> {
    let mut out = Vec::new();
    for &(doc_ref, is_set) in found {
        let (file, doc) = match doc_ref {
            DocRef::File(file, i) => {
                let Syntax::Yaml(docs) = repo.syntax(file) else {
                    continue;
                };
                let Some(doc) = docs.get(i as usize) else {
                    continue;
                };
                (file, doc)
            }
            // Rendered by Terraform (see `applied`).
            DocRef::Embedded(i) => match embedded.get(i as usize) {
                Some(doc) => (doc.file, doc),
                None => continue,
            },
        };
        let root = doc.root();
        if is_set {
            expand_set(repo, file, doc_ref, root, &mut out);
        } else {
            out.push(read_app(file, doc_ref, root, &Subst::NONE, None));
        }
    }
    out
}

/// The Applications of one document (an Application, or the Applications an
/// ApplicationSet generates): for documents the model produces, such as rendered charts.
pub(super) fn collect_doc(
    repo: &Repository,
    file: FileId,
    doc_ref: DocRef,
    root: Yaml<'_>,
    is_set: bool,
) -> Vec<AppSpec> {
    let mut out = Vec::new();
    if is_set {
        expand_set(repo, file, doc_ref, root, &mut out);
    } else {
        out.push(read_app(file, doc_ref, root, &Subst::NONE, None));
    }
    out
}

fn val(node: Option<Yaml<'_>>, sub: &Subst, unresolved: &mut Option<String>) -> Option<Val> {
    let node = node?;
    let raw = node.as_string()?;
    let value = match sub.apply(raw) {
        Ok(v) => v,
        Err(expr) => {
            unresolved.get_or_insert(format!("unresolved template parameter `{expr}`"));
            raw.to_string()
        }
    };
    Some(Val {
        value,
        span: node.span(),
    })
}

/// Read an Application (`root` has `metadata` and `spec`; for an ApplicationSet, its
/// `template`).
fn read_app(
    file: FileId,
    doc: DocRef,
    root: Yaml<'_>,
    sub: &Subst,
    generated_by: Option<String>,
) -> AppSpec {
    let mut ignore = None;
    let name = val(root.path(&["metadata", "name"]), sub, &mut ignore);
    let (name, name_span) = match name {
        Some(v) => (v.value, v.span),
        None => ("(unnamed)".to_string(), root.span()),
    };
    let spec = root.get("spec");
    let dest = spec.and_then(|s| s.get("destination"));
    let mut dest_unresolved = None;
    let server = val(
        dest.and_then(|d| d.get("server")),
        sub,
        &mut dest_unresolved,
    );
    let dname = val(dest.and_then(|d| d.get("name")), sub, &mut dest_unresolved);
    let dest_val = server.or(dname);
    let (destination, destination_span) = match dest_val {
        Some(v) if dest_unresolved.is_some() => {
            (format!("{{{{unresolved}}}} {}", v.value), Some(v.span))
        }
        Some(v) => (v.value, Some(v.span)),
        None => (String::new(), None),
    };
    let destination_namespace = val(dest.and_then(|d| d.get("namespace")), sub, &mut ignore);
    let sync_options = spec
        .and_then(|s| s.path(&["syncPolicy", "syncOptions"]))
        .into_iter()
        .flat_map(|o| o.items())
        .filter_map(|o| val(Some(o), sub, &mut ignore))
        .collect();
    let mut sources = Vec::new();
    let mut sources_shape = super::SourcesShape::None;
    if let Some(spec) = spec {
        let list: Vec<Yaml<'_>> = match spec.get("sources") {
            Some(s) if s.is_seq() => {
                sources_shape = super::SourcesShape::List;
                s.items().collect()
            }
            _ => {
                if spec.get("source").is_some_and(|s| s.is_map()) {
                    sources_shape = super::SourcesShape::Single;
                }
                spec.get("source").into_iter().collect()
            }
        };
        for s in list.into_iter().filter(|s| s.is_map()) {
            sources.push(read_source(s, doc, sub));
        }
    }
    AppSpec {
        name,
        name_span,
        file,
        doc,
        generated_by,
        destination,
        destination_span,
        destination_namespace,
        sync_options,
        sources,
        sources_shape,
    }
}

fn read_source(s: Yaml<'_>, doc: DocRef, sub: &Subst) -> Source {
    let mut unresolved = None;
    let repo_url = val(s.get("repoURL"), sub, &mut unresolved);
    let path = val(s.get("path"), sub, &mut unresolved);
    let chart = val(s.get("chart"), sub, &mut unresolved);
    let target_revision = val(s.get("targetRevision"), sub, &mut unresolved);
    let ref_name = val(s.get("ref"), sub, &mut unresolved);
    // `${…}` is not ArgoCD syntax: the file is a template (Terraform's templatefile(),
    // envsubst) rendered before it is applied, with values preflight does not have.
    if let Some(v) = [&repo_url, &path, &chart, &target_revision]
        .into_iter()
        .flatten()
        .find(|v| v.value.contains("${"))
    {
        unresolved.get_or_insert(format!(
            "unresolved placeholder in `{}`: the file is a template rendered before it is applied",
            v.value
        ));
    }
    let mut helm = Helm::default();
    if let Some(h) = s.get("helm") {
        let mut ignore = None;
        helm.value_files = h
            .get("valueFiles")
            .into_iter()
            .flat_map(|v| v.items())
            .filter_map(|v| val(Some(v), sub, &mut ignore))
            .collect();
        helm.ignore_missing_value_files = h
            .get("ignoreMissingValueFiles")
            .and_then(|b| b.as_bool())
            .unwrap_or(false);
        helm.values = h
            .get("values")
            .filter(|v| !v.is_null())
            .map(|v| NodeRef { doc, node: v.id });
        helm.values_object = h
            .get("valuesObject")
            .filter(|v| v.is_map())
            .map(|v| NodeRef { doc, node: v.id });
        helm.skip_crds = h.get("skipCrds").and_then(|b| b.as_bool()).unwrap_or(false);
        helm.release_name = val(h.get("releaseName"), sub, &mut ignore).map(|v| v.value);
        helm.parameters = h
            .get("parameters")
            .into_iter()
            .flat_map(|p| p.items())
            .filter_map(|p| {
                let name = val(p.get("name"), sub, &mut ignore)?;
                let value = val(p.get("value"), sub, &mut ignore)?;
                Some((name, value))
            })
            .collect();
    }
    let directory = s
        .get("directory")
        .map(|d| {
            let mut ignore = None;
            Directory {
                recurse: d.get("recurse").and_then(|b| b.as_bool()).unwrap_or(false),
                include: val(d.get("include"), sub, &mut ignore).map(|v| v.value),
                exclude: val(d.get("exclude"), sub, &mut ignore).map(|v| v.value),
            }
        })
        .unwrap_or_default();
    Source {
        span: s.span(),
        repo_url,
        path,
        chart,
        target_revision,
        ref_name,
        this_repo: false,
        kind: match unresolved {
            Some(reason) => SourceKind::Unresolved(reason),
            None => SourceKind::Directory,
        },
        helm,
        directory,
    }
}

fn expand_set(
    repo: &Repository,
    file: FileId,
    doc: DocRef,
    root: Yaml<'_>,
    out: &mut Vec<AppSpec>,
) {
    let set_name = root
        .str_at(&["metadata", "name"])
        .unwrap_or("(unnamed)")
        .to_string();
    let Some(template) = root.path(&["spec", "template"]) else {
        return;
    };
    let mut param_sets: Vec<BTreeMap<String, String>> = Vec::new();
    let mut not_expanded: Vec<String> = Vec::new();
    for generator in root
        .path(&["spec", "generators"])
        .into_iter()
        .flat_map(|g| g.items())
    {
        for (k, body) in generator.entries() {
            match k.as_str() {
                Some("list") => {
                    let elements: Vec<_> = body
                        .get("elements")
                        .into_iter()
                        .flat_map(|e| e.items())
                        .collect();
                    if body.get("elementsYaml").is_some() {
                        not_expanded.push("list generator with `elementsYaml`".into());
                    }
                    for e in elements {
                        let mut params = BTreeMap::new();
                        flatten(e, "", &mut params, 0);
                        param_sets.push(params);
                    }
                }
                Some("git") => git_params(repo, body, &mut param_sets, &mut not_expanded),
                Some("selector") | Some("values") => {}
                Some(other) => not_expanded.push(format!("`{other}` generator")),
                None => {}
            }
        }
    }
    for params in param_sets {
        out.push(read_app(
            file,
            doc,
            template,
            &Subst {
                params: Some(params),
            },
            Some(set_name.clone()),
        ));
    }
    for reason in not_expanded {
        // The Applications it generates are unknown: one placeholder whose destination and
        // sources are unresolved, so rules can say "cannot tell".
        let mut app = read_app(
            file,
            doc,
            template,
            &Subst {
                params: Some(BTreeMap::new()),
            },
            Some(set_name.clone()),
        );
        let why = format!(
            "unresolved: ApplicationSet `{set_name}` uses a {reason} preflight does not expand"
        );
        if !app.destination.starts_with("{{unresolved}}") {
            app.destination = format!("{{{{unresolved}}}} {}", app.destination);
        }
        for s in &mut app.sources {
            s.kind = SourceKind::Unresolved(why.clone());
        }
        if app.sources.is_empty() {
            app.sources.push(Source {
                span: template.span(),
                repo_url: None,
                path: None,
                chart: None,
                target_revision: None,
                ref_name: None,
                this_repo: false,
                kind: SourceKind::Unresolved(why.clone()),
                helm: Helm::default(),
                directory: Directory::default(),
            });
        }
        out.push(app);
    }
}

/// Scalars of a mapping as dotted parameter names (`values.cluster`).
fn flatten(node: Yaml<'_>, prefix: &str, out: &mut BTreeMap<String, String>, depth: usize) {
    if depth > 16 {
        return;
    }
    for (k, v) in node.entries() {
        let Some(k) = k.as_str() else { continue };
        let key = if prefix.is_empty() {
            k.to_string()
        } else {
            format!("{prefix}.{k}")
        };
        if v.is_map() {
            flatten(v, &key, out, depth + 1);
        } else if let Some(s) = v.as_str() {
            out.insert(key, s.to_string());
        }
    }
}

fn path_params(dir: &str, out: &mut BTreeMap<String, String>) {
    let base = dir.rsplit('/').next().unwrap_or(dir);
    out.insert("path".into(), dir.into());
    out.insert("path.path".into(), dir.into());
    out.insert("path.basename".into(), base.into());
    let norm: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    out.insert("path.basenameNormalized".into(), norm);
    for (i, seg) in dir.split('/').enumerate() {
        out.insert(format!("path[{i}]"), seg.into());
    }
}

fn glob(pattern: &str) -> Option<globset::GlobMatcher> {
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .ok()
        .map(|g| g.compile_matcher())
}

fn git_params(
    repo: &Repository,
    body: Yaml<'_>,
    sets: &mut Vec<BTreeMap<String, String>>,
    not_expanded: &mut Vec<String>,
) {
    let mut include = Vec::new();
    let mut exclude = Vec::new();
    for d in body.get("directories").into_iter().flat_map(|d| d.items()) {
        let Some(p) = d.str_at(&["path"]) else {
            continue;
        };
        let Some(g) = glob(p.trim_end_matches('/')) else {
            not_expanded.push(format!("git directory pattern `{p}`"));
            continue;
        };
        if d.get("exclude").and_then(|e| e.as_bool()) == Some(true) {
            exclude.push(g);
        } else {
            include.push(g);
        }
    }
    if !include.is_empty() {
        let mut dirs: Vec<&str> = repo
            .folders()
            .filter(|d| include.iter().any(|g| g.is_match(d)))
            .filter(|d| !exclude.iter().any(|g| g.is_match(d)))
            .collect();
        dirs.sort();
        for d in dirs {
            let mut params = BTreeMap::new();
            path_params(d, &mut params);
            sets.push(params);
        }
    }
    for f in body.get("files").into_iter().flat_map(|f| f.items()) {
        let Some(p) = f.str_at(&["path"]) else {
            continue;
        };
        let Some(g) = glob(p) else {
            not_expanded.push(format!("git files pattern `{p}`"));
            continue;
        };
        let files: Vec<&str> = repo.listed_paths().filter(|f| g.is_match(f)).collect();
        for path in files {
            let Some(sf) = repo.file_by_path(path) else {
                not_expanded.push(format!("git files generator reading `{path}` (not YAML)"));
                continue;
            };
            let Syntax::Yaml(docs) = repo.syntax(sf.id) else {
                not_expanded.push(format!("git files generator reading `{path}` (not YAML)"));
                continue;
            };
            for d in docs {
                let mut params = BTreeMap::new();
                flatten(d.root(), "", &mut params, 0);
                let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
                path_params(dir, &mut params);
                let fname = path.rsplit('/').next().unwrap_or(path);
                params.insert("path.filename".into(), fname.into());
                params.insert(
                    "path.filenameNormalized".into(),
                    fname.to_lowercase().replace(
                        |c: char| !c.is_ascii_alphanumeric() && c != '-' && c != '.',
                        "-",
                    ),
                );
                sets.push(params);
            }
        }
    }
}
