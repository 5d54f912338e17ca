//! Rules about ArgoCD Applications and what they deploy. They ask the GitOps model
//! (`Workspace::gitops`) and never read files themselves.

pub mod app_of_apps_loop;
pub mod duplicate_key;
pub mod missing_service_account;
pub mod missing_source_path;
pub mod secret_without_value;
pub mod sync_option_hazard;
pub mod undeployed_issuer;
pub mod undeployed_secret_store;
pub mod unknown_target_revision;

crate::rules::declare_domain! {
    [
        undeployed_issuer::UndeployedIssuer,
        missing_source_path::MissingSourcePath,
        unknown_target_revision::UnknownTargetRevision,
        undeployed_secret_store::UndeployedSecretStore,
        secret_without_value::SecretWithoutValue,
        duplicate_key::DuplicateKey,
        app_of_apps_loop::AppOfAppsLoop,
        sync_option_hazard::SyncOptionHazard,
        missing_service_account::MissingServiceAccount,
    ],
}

use crate::diagnostic::Finding;
use crate::model::gitops::{AppId, DocRef, GitopsModel, GroupId, NodeRef, ObjId, SourcesShape};
use crate::rules::Context;
use crate::source::{FileId, Span};
use std::borrow::Cow;
use std::collections::BTreeMap;

pub use crate::model::gitops::Reference;

/// The file a model node lives in.
pub fn node_file(model: &GitopsModel, r: NodeRef) -> Option<FileId> {
    match r.doc {
        DocRef::File(f, _) => Some(f),
        DocRef::Embedded(i) => model.embedded.get(i as usize).map(|d| d.file),
    }
}

/// Collect the references of every Application from those of the objects and values trees
/// it deploys (`of_object`, `of_values`, answered by the model's shared walk) and of its
/// Helm parameters (`of_parameter`).
pub fn references_by_app<'m>(
    model: &'m GitopsModel,
    of_object: &dyn Fn(ObjId) -> &'m [Reference],
    of_values: &dyn Fn(NodeRef) -> &'m [Reference],
    of_parameter: &dyn Fn(&str, &crate::model::gitops::Val) -> Option<Reference>,
) -> Vec<(AppId, Cow<'m, Reference>)> {
    let mut out = Vec::new();
    for (id, app) in model.apps.iter().enumerate() {
        if model.group(app.group).unresolved {
            continue;
        }
        for &o in &app.objects {
            out.extend(of_object(o).iter().map(|r| (id, Cow::Borrowed(r))));
        }
        for v in &app.values {
            out.extend(of_values(v.root).iter().map(|r| (id, Cow::Borrowed(r))));
        }
        for s in &app.sources {
            for (name, value) in &s.helm.parameters {
                let n = name.value.replace("\\.", ".");
                if let Some(r) = of_parameter(&n, value) {
                    out.push((id, Cow::Owned(r)));
                }
            }
        }
    }
    out
}

/// A reference location and what it names: (file, start, end, kind, name).
type LocationKey<'r> = (FileId, u32, u32, &'r str, &'r str);

/// How a reference fares in one cluster group.
enum Outcome {
    Satisfied,
    /// An opaque source of this Application may deploy it.
    CannotTell(AppId, Span, String),
    Missing,
}

/// Turn references into findings: one per reference location, naming every cluster group
/// where the referenced object is missing. `controller` is the chart whose Application
/// should also deploy the referenced objects (for the suggested fix).
pub fn check_references(
    cx: &Context<'_>,
    refs: Vec<(AppId, Cow<'_, Reference>)>,
    controller: &str,
) -> Vec<Finding> {
    let session = cx.session;
    let model = session.gitops();
    let repo = &session.repo;
    // (span, kind, name) → (reference, groups, first app)
    let mut by_location: BTreeMap<LocationKey, (&Reference, Vec<GroupId>, AppId)> = BTreeMap::new();
    for (app, r) in &refs {
        let (app, r) = (*app, r.as_ref());
        if !session.in_scope(&repo.file(r.span.file).rel_path)
            && !session.gitops_group_in_scope(model.app(app).group)
        {
            continue;
        }
        let key = (
            r.span.file,
            r.span.start,
            r.span.end,
            r.kind.as_str(),
            r.name.as_str(),
        );
        let g = model.app(app).group;
        let entry = by_location
            .entry(key)
            .or_insert_with(|| (r, Vec::new(), app));
        entry.1.push(g);
    }
    let mut findings = Vec::new();
    for (_, (r, mut groups, first_app)) in by_location {
        groups.sort_unstable();
        groups.dedup();
        let app_name = &model.app(first_app).name;
        if r.name.contains("{{") || r.name.contains("${") {
            findings.push(
                cx.note(
                    r.span,
                    format!(
                        "cannot tell whether {} `{}` is deployed: the name is a template",
                        r.kind, r.name
                    ),
                )
                .with_help("preflight does not render templates; check the rendered name by hand")
                .with_address(app_name.clone()),
            );
            continue;
        }
        let mut missing = Vec::new();
        let mut unsure = Vec::new();
        for &g in &groups {
            match outcome(model, g, r) {
                Outcome::Satisfied => {}
                Outcome::Missing => missing.push(g),
                Outcome::CannotTell(a, s, what) => unsure.push((g, a, s, what)),
            }
        }
        if !missing.is_empty() {
            findings.push(missing_finding(
                cx, model, r, &missing, controller, first_app,
            ));
        } else if let Some((g, a, s, what)) = unsure.first() {
            findings.push(
                cx.note(
                    r.span,
                    format!(
                        "cannot tell whether {} `{}` is deployed to {}: {} in Application `{}` is not visible to preflight and may define it",
                        r.kind,
                        r.name,
                        model.group(*g).describe(),
                        what,
                        model.app(*a).name
                    ),
                )
                .with_label(*s, format!("may deploy {} `{}`", r.kind, r.name))
                .with_help(format!(
                    "if it is created outside the repository, declare it in preflight.toml: `[gitops.provided]` {} = [\"{}\"]",
                    r.kind, r.name
                ))
                .with_address(app_name.clone()),
            );
        }
    }
    findings
}

fn outcome(model: &GitopsModel, g: GroupId, r: &Reference) -> Outcome {
    if !model.deployed(g, &r.kind, &r.name).is_empty() || model.provided(&r.kind, &r.name).is_some()
    {
        return Outcome::Satisfied;
    }
    match model
        .opaque_for(g)
        .into_iter()
        .find(|(_, o)| o.may_deploy(&r.kind))
    {
        Some((a, o)) => Outcome::CannotTell(a, o.span, o.what.clone()),
        None => Outcome::Missing,
    }
}

/// A YAML scalar for a generated snippet: plain when that reads back as the same string,
/// else double-quoted (JSON string syntax is valid YAML).
fn yaml_scalar(v: &str) -> String {
    let plain = !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._/:@+-~".contains(c))
        && !v.contains(": ")
        && !v.ends_with(':')
        && !v.starts_with(['-', ':', '@'])
        && !matches!(
            v,
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "~"
        )
        && v.parse::<f64>().is_err();
    if plain {
        v.to_string()
    } else {
        serde_json::Value::String(v.to_string()).to_string()
    }
}

/// The fix that appends a source to an Application's block-style `sources:` list, with the
/// indentation of its last item; nothing for other shapes (a single `source:`, a flow list,
/// a generated Application), where the change is not a mechanical insertion.
fn append_source_fix(
    repo: &crate::repo::Repository,
    app: &crate::model::gitops::Application,
    entry: impl Fn(&str, &str, &str) -> String,
) -> Vec<crate::diagnostic::Edit> {
    if app.sources_shape != SourcesShape::List {
        return Vec::new();
    }
    let Some(last) = app.sources.last() else {
        return Vec::new();
    };
    if last.span.file != app.file {
        return Vec::new();
    }
    let text = &*repo.file(app.file).text;
    let (start, end) = (last.span.start as usize, last.span.end as usize);
    if start >= end
        || end > text.len()
        || !text.is_char_boundary(start)
        || !text.is_char_boundary(end)
    {
        return Vec::new();
    }
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let dash = &text[line_start..start];
    // `    - repoURL: …`: the item starts right after its dash, in block style.
    if dash.trim() != "-" || !dash.chars().all(|c| c == ' ' || c == '-') || !dash.ends_with(' ') {
        return Vec::new();
    }
    let indent = " ".repeat(dash.chars().count());
    let at = text[..end].trim_end().len();
    if at <= start {
        return Vec::new();
    }
    let nl = if text.contains("\r\n") { "\r\n" } else { "\n" };
    vec![crate::diagnostic::Edit {
        span: crate::source::Span::new(app.file, at..at),
        replacement: format!("{nl}{}", entry(dash, &indent, nl)),
    }]
}

fn missing_finding(
    cx: &Context<'_>,
    model: &GitopsModel,
    r: &Reference,
    groups: &[GroupId],
    controller: &str,
    first_app: AppId,
) -> Finding {
    let repo = &cx.session.repo;
    let mut clusters: Vec<String> = groups
        .iter()
        .take(3)
        .map(|&g| model.group(g).describe())
        .collect();
    if groups.len() > 3 {
        clusters.push(format!("{} more", groups.len() - 3));
    }
    let mut f = cx
        .finding(
            r.span,
            format!(
                "{} `{}` is not deployed to {} {} by any Application",
                r.kind,
                r.name,
                if groups.len() == 1 {
                    "cluster"
                } else {
                    "clusters"
                },
                match clusters.split_last() {
                    Some((last, rest)) if !rest.is_empty() =>
                        format!("{} and {last}", rest.join(", ")),
                    _ => clusters.join(""),
                }
            ),
        )
        .with_span_label(format!("{} finds no {} `{}`", r.via, r.kind, r.name))
        .with_address(model.app(first_app).name.clone());
    let g = groups[0];
    let def = model
        .defined(&r.kind, &r.name)
        .iter()
        .copied()
        .min_by_key(|&o| model.object(o).from_values);
    let controller_app = model.app_with_chart(g, controller);
    if let Some(o) = def {
        let obj = model.object(o);
        f = f.with_label(
            obj.name_span,
            format!(
                "{} `{}` is defined here, but no Application of that cluster deploys it",
                r.kind, r.name
            ),
        );
        let folder = node_file(model, obj.node)
            .map(|file| model.deploying_folder(repo, file))
            .unwrap_or_default();
        let url = model
            .this_repo_url
            .clone()
            .unwrap_or_else(|| "<this repository's URL>".into());
        match controller_app {
            Some(a) => {
                let app = model.app(a);
                let rev = app
                    .sources
                    .iter()
                    .find(|s| s.this_repo)
                    .and_then(|s| s.target_revision.as_ref())
                    .map_or("HEAD".to_string(), |v| v.value.clone());
                let entry = |dash: &str, indent: &str, nl: &str| {
                    format!(
                        "{dash}repoURL: {}{nl}{indent}targetRevision: {}{nl}{indent}path: {}",
                        yaml_scalar(&url),
                        yaml_scalar(&rev),
                        yaml_scalar(&folder)
                    )
                };
                let file = &repo.file(app.file).rel_path;
                let help = match app.sources_shape {
                    SourcesShape::List => format!(
                        "add `{folder}` as a source of the Application `{}` ({file}):\n{}",
                        app.name,
                        entry("  - ", "    ", "\n")
                    ),
                    SourcesShape::Single => format!(
                        "the Application `{}` ({file}) has a single `source:`; replace it with `sources:` listing that source and `{folder}`:\n  sources:\n    - <the current source>\n{}",
                        app.name,
                        entry("    - ", "      ", "\n")
                    ),
                    SourcesShape::None => format!(
                        "give the Application `{}` ({file}) a source for `{folder}`:\n  source:\n{}",
                        app.name,
                        entry("    ", "    ", "\n")
                    ),
                };
                f = f
                    .with_label(
                        app.name_span,
                        format!("`{}` installs {controller} but not `{folder}`", app.name),
                    )
                    .with_help(help);
                if model.this_repo_url.is_some() && app.generated_by.is_none() {
                    f = f
                        .with_fix(append_source_fix(repo, app, |dash, indent, nl| {
                            entry(dash, indent, nl)
                        }))
                        .with_fix_title(format!(
                            "add a source for `{folder}` to the Application `{}`",
                            app.name
                        ));
                }
            }
            None => {
                f = f.with_help(format!(
                    "add `{folder}` (which defines {} `{}`) as a source of an Application that deploys to {}",
                    r.kind,
                    r.name,
                    model.group(g).describe()
                ));
            }
        }
    } else {
        f = f.with_help(format!(
            "no {kind} `{name}` is defined in the repository: define it in a folder an Application of {} deploys, fix the name, or, if it is created outside the repository, declare it in preflight.toml: `[gitops.provided]` {kind} = [\"{name}\"]",
            model.group(g).describe(),
            kind = r.kind,
            name = r.name
        ));
        if let Some(a) = controller_app {
            let app = model.app(a);
            f = f.with_label(
                app.name_span,
                format!("`{}` installs {controller}", app.name),
            );
        }
    }
    f
}
