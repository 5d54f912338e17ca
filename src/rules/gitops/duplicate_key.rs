//! `duplicate-key`: a YAML mapping with the same key twice; the last one silently wins.

use crate::diagnostic::{Finding, Severity};
use crate::rules::syntax::{Kind, NodeId, Syntax, Yaml, YamlDoc};
use crate::rules::{Context, Rule};
use std::collections::HashMap;

crate::rules::declare_rule! {
    pub struct DuplicateKey {
        id: "duplicate-key",
        severity: Severity::Warning,
        summary: "A YAML mapping sets the same key twice and the first setting is silently lost",
        fix: None,
    }
}

impl Rule for DuplicateKey {
    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let repo = &cx.session.repo;
        let mut out = Vec::new();
        for (file, syntax) in repo.iter() {
            if !cx.session.in_scope(&file.rel_path) {
                continue;
            }
            if let Syntax::Yaml(docs) = syntax {
                for doc in docs {
                    check_doc(cx, doc, "", &mut out);
                }
            }
        }
        // YAML held in scalars (inline `helm.values`, manifests in chart values).
        let model = cx.session.gitops();
        for (i, doc) in model.embedded.iter().enumerate() {
            // Rendered chart output is not text anyone wrote.
            if model.is_rendered(i as u32) {
                continue;
            }
            if cx.session.in_scope(&repo.file(doc.file).rel_path) {
                check_doc(cx, doc, "(embedded) ", &mut out);
            }
        }
        out
    }
}

fn check_doc(cx: &Context<'_>, doc: &YamlDoc, prefix: &str, out: &mut Vec<Finding>) {
    let mut parents: Option<HashMap<NodeId, (NodeId, String)>> = None;
    // key text → the previous entry with it (key, value); one table for every mapping.
    let mut seen: foldhash::HashMap<&str, (NodeId, NodeId)> = foldhash::HashMap::default();
    for node in doc.all() {
        let Kind::Map(entries) = node.kind() else {
            continue;
        };
        if entries.len() < 2 {
            continue;
        }
        seen.clear();
        for &[k, v] in entries {
            let Kind::Scalar { value, .. } = doc.kind(k) else {
                continue;
            };
            if value == "<<" {
                continue;
            }
            if let Some((first, first_value)) = seen.insert(value, (k, v)) {
                let parents = parents.get_or_insert_with(|| parent_map(doc));
                let path = key_path(parents, node.id);
                let address = if path.is_empty() {
                    value.to_string()
                } else {
                    format!("{path}.{value}")
                };
                let first_span = Yaml { doc, id: first }.span();
                let later_span = Yaml { doc, id: k }.span();
                let line = cx
                    .session
                    .repo
                    .file(doc.file)
                    .line_col(first_span.start as usize)
                    .0;
                let same = same_value(doc, first_value, v, 0);
                // Anchored at the repeated key, as yamllint and go-yaml's strict mode do.
                let (message, help) = if same {
                    (
                        format!(
                            "{prefix}key `{address}` is set again with the same value (first set on line {line}): lenient parsers keep one, but strict ones (yaml.v3 decoding into a struct, kustomize, yamllint) reject the file"
                        ),
                        "remove the repeated key",
                    )
                } else {
                    (
                        format!(
                            "{prefix}key `{address}` is set again (first set on line {line}): YAML keeps only this later value, and the first setting is silently lost"
                        ),
                        "remove one of the two keys, or merge their contents into one (YAML keeps only the last)",
                    )
                };
                out.push(
                    cx.finding(later_span, message)
                        .with_span_label("set again")
                        .with_label(first_span, "first set here")
                        .with_help(help)
                        .with_address(address),
                );
            }
        }
    }
}

/// Whether two values are the same YAML (scalars by text, collections item by item).
fn same_value(doc: &YamlDoc, a: NodeId, b: NodeId, depth: usize) -> bool {
    if depth > 64 {
        return false;
    }
    match (doc.kind(a), doc.kind(b)) {
        (Kind::Scalar { value: x, .. }, Kind::Scalar { value: y, .. }) => x == y,
        (Kind::Seq(x), Kind::Seq(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|(p, q)| same_value(doc, *p, *q, depth + 1))
        }
        (Kind::Map(x), Kind::Map(y)) => {
            x.len() == y.len()
                && x.iter().zip(y).all(|([k1, v1], [k2, v2])| {
                    same_value(doc, *k1, *k2, depth + 1) && same_value(doc, *v1, *v2, depth + 1)
                })
        }
        (Kind::Alias(x), Kind::Alias(y)) => x == y,
        _ => false,
    }
}

/// Child → (parent, how the child is reached from it).
fn parent_map(doc: &YamlDoc) -> HashMap<NodeId, (NodeId, String)> {
    let mut m = HashMap::new();
    for node in doc.all() {
        match node.kind() {
            Kind::Map(entries) => {
                for &[k, v] in entries {
                    let key = match doc.kind(k) {
                        Kind::Scalar { value, .. } => value.to_string(),
                        _ => "?".into(),
                    };
                    m.insert(v, (node.id, key));
                }
            }
            Kind::Seq(items) => {
                for (i, &item) in items.iter().enumerate() {
                    m.insert(item, (node.id, format!("[{i}]")));
                }
            }
            _ => {}
        }
    }
    m
}

fn key_path(parents: &HashMap<NodeId, (NodeId, String)>, mut id: NodeId) -> String {
    let mut parts = Vec::new();
    while let Some((p, k)) = parents.get(&id) {
        parts.push(k.as_str());
        id = *p;
        if parts.len() > 256 {
            break;
        }
    }
    parts.reverse();
    let mut s = String::new();
    for p in parts {
        if !s.is_empty() && !p.starts_with('[') {
            s.push('.');
        }
        s.push_str(p);
    }
    s
}

#[cfg(test)]
mod tests {
    use crate::testing::{check_rule, expect};

    #[test]
    fn duplicate_keys_in_files_and_inline_values() {
        let app = "apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: grafana
spec:
  destination:
    server: https://kubernetes.default.svc
  source:
    repoURL: https://grafana.github.io/helm-charts
    chart: grafana
    targetRevision: 7.3.0
    helm:
      values: |
        ingress:
          enabled: true
          hosts: [a.example.com]
          enabled: false
";
        let values = "ingress:\n  annotations:\n    cert-manager.io/cluster-issuer: letsencrypt-staging\n    kubernetes.io/ingress.class: kong\n    cert-manager.io/cluster-issuer: letsencrypt-prod\nreplicas: 1\nbase: &b\n  x: 1\nuse:\n  <<: *b\n  <<: *b\n";
        let findings = check_rule(
            "duplicate-key",
            &[
                ("gitops/argocd/apps/dev/grafana.yaml", app),
                ("gitops/helm/grafana/values/dev.yaml", values),
                ("ok.yaml", "a: 1\nb:\n  a: 2\n---\na: 3\n"),
            ],
        );
        expect(
            &findings,
            &[
                ("duplicate-key", "gitops/argocd/apps/dev/grafana.yaml", 17),
                ("duplicate-key", "gitops/helm/grafana/values/dev.yaml", 5),
            ],
        );
        let values_finding = findings
            .iter()
            .find(|f| f.file.ends_with("dev.yaml"))
            .unwrap();
        assert_eq!(
            values_finding.finding.address,
            "ingress.annotations.cert-manager.io/cluster-issuer"
        );
        assert!(
            values_finding.message.contains("first set on line 3")
                && values_finding.message.contains("silently lost"),
            "{}",
            values_finding.message
        );
    }

    #[test]
    fn a_repeat_with_the_same_value_says_strict_parsers_reject_it() {
        let findings = check_rule(
            "duplicate-key",
            &[(
                "values.yaml",
                "ingresses: []\nreplicas: 2\ningresses: []\nlabels:\n  a: [1, {b: 2}]\n  a: [1, {b: 3}]\n",
            )],
        );
        expect(
            &findings,
            &[
                ("duplicate-key", "values.yaml", 3),
                ("duplicate-key", "values.yaml", 6),
            ],
        );
        assert!(
            findings[0].message.contains("same value"),
            "{}",
            findings[0].message
        );
        assert!(
            findings[1].message.contains("silently lost"),
            "{}",
            findings[1].message
        );
    }
}
