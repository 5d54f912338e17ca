//! The GitOps part: per cluster group, each Application, its sources and values files, and
//! the objects other things name (issuers, secret stores, namespaces) it deploys.

use super::{Cluster, Edge, Node, Shape, node_id};
use crate::model::gitops::{DocRef, SourceKind};
use crate::model::workspace::Workspace;
use std::collections::BTreeSet;

/// Kinds worth drawing: the ones other objects refer to by name.
const KINDS: &[&str] = &[
    "ClusterIssuer",
    "Issuer",
    "ClusterSecretStore",
    "SecretStore",
    "Namespace",
];

pub fn clusters(session: &Workspace) -> Vec<Cluster> {
    let model = session.gitops();
    let repo = &session.repo;
    let mut out = Vec::new();
    for (g, group) in model.groups.iter().enumerate() {
        if !session.gitops_group_in_scope(g) {
            continue;
        }
        let mut c = Cluster {
            id: format!("argocd_{g}"),
            label: format!("ArgoCD → {}", group.describe()),
            ..Default::default()
        };
        let mut seen = BTreeSet::new();
        for (a, app) in model.apps.iter().enumerate() {
            if app.group != g {
                continue;
            }
            let app_id = node_id("app", &format!("{g}_{a}"));
            c.nodes.push(Node {
                id: app_id.clone(),
                label: format!("Application {}", app.name),
                shape: Shape::Actor,
                span: Some(app.name_span),
                findings: Vec::new(),
            });
            for (i, s) in app.sources.iter().enumerate() {
                let what = match &s.kind {
                    SourceKind::RemoteChart => format!(
                        "chart {}",
                        s.chart.as_ref().map_or("?", |v| v.value.as_str())
                    ),
                    SourceKind::OtherRepo => format!(
                        "repo {}",
                        s.repo_url.as_ref().map_or("?", |v| v.value.as_str())
                    ),
                    SourceKind::ValuesOnly => format!(
                        "values ref {}",
                        s.ref_name.as_ref().map_or("?", |v| v.value.as_str())
                    ),
                    SourceKind::Unresolved(why) => format!("unresolved: {why}"),
                    _ => s.path.as_ref().map_or("(root)".into(), |v| v.value.clone()),
                };
                let src_id = node_id("src", &format!("{g}_{a}_{i}"));
                c.nodes.push(Node {
                    id: src_id.clone(),
                    label: what,
                    shape: Shape::Group,
                    span: Some(s.span),
                    findings: Vec::new(),
                });
                c.edges.push(Edge {
                    from: app_id.clone(),
                    to: src_id,
                    label: "source".into(),
                    broken: false,
                });
            }
            let mut values_files = BTreeSet::new();
            for v in &app.values {
                // Inline values live in the Application's own file, already drawn.
                if let DocRef::File(f, _) = v.root.doc
                    && f != app.file
                {
                    values_files.insert(f);
                }
            }
            for f in values_files {
                let file = repo.file(f);
                let id = node_id("values", &format!("{g}_{a}_{}", file.rel_path));
                c.nodes.push(Node {
                    id: id.clone(),
                    label: file.rel_path.clone(),
                    shape: Shape::Read,
                    span: Some(file.span(0..file.text.len())),
                    findings: Vec::new(),
                });
                c.edges.push(Edge {
                    from: app_id.clone(),
                    to: id,
                    label: "values".into(),
                    broken: false,
                });
            }
            for &o in &app.objects {
                let obj = &model.objects[o];
                if !KINDS.contains(&obj.kind.as_str()) {
                    continue;
                }
                let id = node_id("obj", &format!("{g}_{}_{}", obj.kind, obj.name));
                if seen.insert(id.clone()) {
                    c.nodes.push(Node {
                        id: id.clone(),
                        label: format!("{} {}", obj.kind, obj.name),
                        shape: Shape::Object,
                        span: Some(obj.name_span),
                        findings: Vec::new(),
                    });
                }
                c.edges.push(Edge {
                    from: app_id.clone(),
                    to: id,
                    label: "deploys".into(),
                    broken: false,
                });
            }
        }
        out.push(c);
    }
    out
}
