//! `unmanaged-namespace`: a Kubernetes object is placed in a namespace that nothing
//! creates (or that is created without an ordering dependency).

use super::{PerBlock, block_span};
use crate::diagnostic::{Finding, Severity};
use crate::engine::Session;
use crate::model::terraform::BlockKind;
use crate::model::terraform::analysis::{
    Analysis, BlockAt, Count, Iter, nested_attr, unknown_text,
};
use crate::model::terraform::expr::{self, Truth, Unknown, Value};
use crate::rules::{Context, Rule, RuleMeta};
use crate::source::Span;
use hcl_edit::Span as _;
use hcl_edit::expr::{Expression, ObjectKey};

pub struct UnmanagedNamespace;

static META: RuleMeta = RuleMeta {
    id: "unmanaged-namespace",
    default_severity: Severity::Error,
    summary: "A Kubernetes object is placed in a namespace this configuration never creates",
    doc: include_str!("../../../rules/unmanaged-namespace.md"),
    options: &[],
};

const BUILT_IN: &[&str] = &["default", "kube-system", "kube-public", "kube-node-lease"];

/// Where a block puts its object: the namespace value per instance and where it is written.
struct Placement {
    values: Vec<Value>,
    span: Span,
}

fn placement(an: &Analysis, s: &Session, pass: usize, at: BlockAt) -> Option<Placement> {
    let tf = s.terraform();
    let tb = &an.module(tf, at.inst).blocks[at.block];
    let ty = tb.type_name.as_str();
    let block = an.hcl(s, at)?;
    let file = s.repo.file(tb.at.file);
    let iters = an.iters(s, pass, at).unwrap_or_else(|_| vec![Iter::None]);
    let eval_all = |e: &Expression| -> Vec<Value> {
        iters
            .iter()
            .take(32)
            .map(|i| an.eval_iter(s, pass, at.inst, i.clone(), e))
            .collect()
    };
    match ty {
        "kubernetes_namespace" | "kubernetes_namespace_v1" => None,
        "helm_release" => {
            if let Some(c) = block.body.get_attribute("create_namespace")
                && an.eval(s, pass, at.inst, &c.value).truthiness() == Truth::True
            {
                return None;
            }
            let a = block.body.get_attribute("namespace")?;
            Some(Placement {
                values: eval_all(&a.value),
                span: file.span(a.value.span().unwrap_or(0..0)),
            })
        }
        "kubernetes_manifest" => {
            let a = block.body.get_attribute("manifest")?;
            let values: Vec<Value> = iters
                .iter()
                .take(32)
                .map(|i| match an.manifest(s, pass, at, i.clone()) {
                    Ok(m) => manifest_namespace(&m),
                    Err(r) => Value::undecidable(r),
                })
                .collect();
            let range = key_span(&a.value, &["metadata", "namespace"]).or(a.value.span());
            Some(Placement {
                values,
                span: file.span(range.unwrap_or(0..0)),
            })
        }
        "kubectl_manifest" => {
            if let Some(o) = block.body.get_attribute("override_namespace") {
                return Some(Placement {
                    values: eval_all(&o.value),
                    span: file.span(o.value.span().unwrap_or(0..0)),
                });
            }
            let a = block.body.get_attribute("yaml_body")?;
            let values = iters
                .iter()
                .take(32)
                .map(|i| match an.manifest(s, pass, at, i.clone()) {
                    Ok(m) => manifest_namespace(&m),
                    Err(r) => Value::undecidable(r),
                })
                .collect();
            Some(Placement {
                values,
                span: file.span(a.value.span().unwrap_or(0..0)),
            })
        }
        t if t.starts_with("kubernetes_") => {
            let e = nested_attr(block, "metadata", "namespace")?;
            Some(Placement {
                values: eval_all(e),
                span: file.span(e.span().unwrap_or(0..0)),
            })
        }
        _ => None,
    }
}

/// `metadata.namespace` of a manifest; a manifest without one is cluster-scoped or in the
/// default namespace.
fn manifest_namespace(m: &Value) -> Value {
    match m {
        Value::Object(o) => match o.get("metadata") {
            Some(Value::Object(md)) => md.get("namespace").cloned().unwrap_or(Value::Null),
            Some(Value::Unknown(u)) => Value::Unknown(u.clone()),
            _ => Value::Null,
        },
        Value::Unknown(u) => Value::Unknown(u.clone()),
        _ => Value::Null,
    }
}

/// The span of `a.b` inside an object expression.
fn key_span(e: &Expression, path: &[&str]) -> Option<std::ops::Range<usize>> {
    let (first, rest) = path.split_first()?;
    let Expression::Object(o) = e else {
        return None;
    };
    for (k, v) in o.iter() {
        let name = match k {
            ObjectKey::Ident(i) => i.value().as_str().to_string(),
            ObjectKey::Expression(Expression::String(s)) => s.value().to_string(),
            ObjectKey::Expression(x) => expr::canonical_text(x),
        };
        if name == *first {
            return if rest.is_empty() {
                v.expr().span()
            } else {
                key_span(v.expr(), rest)
            };
        }
    }
    None
}

impl Rule for UnmanagedNamespace {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let s = cx.session;
        let tf = s.terraform();
        let an = s.terraform_analysis();
        let provided: Vec<&String> = s
            .config
            .gitops
            .provided
            .iter()
            .filter(|(k, _)| {
                k.eq_ignore_ascii_case("namespace") || k.eq_ignore_ascii_case("namespaces")
            })
            .flat_map(|(_, v)| v)
            .collect();
        let mut out = PerBlock::default();
        for (rp, &root) in an.roots.iter().enumerate() {
            let objects = an.objects(s, rp);
            for at in an.blocks_of_root(tf, root) {
                let tb = &an.module(tf, at.inst).blocks[at.block];
                if tb.kind != BlockKind::Resource {
                    continue;
                }
                let key = block_span(an, s, at);
                let address = an.address(tf, at);
                for pass in an.selected.iter().copied() {
                    if out.has_error(key) {
                        break;
                    }
                    let phrase = an.passes[pass].phrase();
                    if an.count(s, pass, at).is_zero() {
                        continue;
                    }
                    let Some(p) = placement(an, s, pass, at) else {
                        break;
                    };
                    let mut names: Vec<String> = Vec::new();
                    for v in &p.values {
                        match v {
                            Value::String(n) if !names.contains(n) => names.push(n.clone()),
                            Value::Null => {}
                            Value::Unknown(Unknown::Undecidable { reason }) => {
                                out.put(key, cx.note(p.span, format!(
                                    "cannot tell which namespace `{address}` is placed in {phrase}: {reason}"
                                )).with_address(address.clone()));
                            }
                            // Derived from a computed attribute: it depends on what made it.
                            _ => {}
                        }
                    }
                    for ns in names {
                        if BUILT_IN.contains(&ns.as_str()) || provided.iter().any(|p| **p == ns) {
                            continue;
                        }
                        let creators = objects.by_key.get(&("namespace".to_string(), ns.clone()));
                        let existing: Vec<_> = creators
                            .into_iter()
                            .flatten()
                            .filter(|c| c.counts[..=pass].iter().any(Count::is_active))
                            .collect();
                        if existing
                            .iter()
                            .any(|c| c.counts[..pass].iter().any(Count::is_active))
                        {
                            continue;
                        }
                        if let Some(c) = existing.first() {
                            // Created in this apply: is there an ordering dependency?
                            if depends_on_block(an, s, at, c.at) {
                                continue;
                            }
                            let creator = an.address(tf, c.at);
                            let reference = reference_for(an, s, c.at);
                            let f = Finding::new(
                                META.id,
                                cx.severity().min(Severity::Warning),
                                p.span,
                                format!(
                                    "`{address}` names namespace \"{ns}\" by a literal value with no dependency on `{creator}`, which creates it: Terraform may create the object first (\"namespaces \\\"{ns}\\\" not found\")"
                                ),
                            )
                            .with_span_label("no dependency on the namespace resource")
                            .with_label(an.span(s, c.at, None), format!("creates namespace \"{ns}\""))
                            .with_help(format!("refer to the namespace through its resource: namespace = {reference}"))
                            .with_address(address.clone());
                            out.put(key, f);
                            continue;
                        }
                        let undecided = creators.into_iter().flatten().find(|c| {
                            c.counts[..=pass]
                                .iter()
                                .any(|n| matches!(n, Count::Unknown(_)))
                        });
                        if let Some(c) = undecided {
                            let why = c.counts[..=pass]
                                .iter()
                                .find_map(|n| match n {
                                    Count::Unknown(u) => Some(unknown_text(u)),
                                    _ => None,
                                })
                                .unwrap_or_default();
                            out.put(key, cx.note(p.span, format!(
                                "cannot tell whether namespace \"{ns}\" exists {phrase}: whether `{}` creates it cannot be decided ({why})",
                                an.address(tf, c.at)
                            )).with_address(address.clone()));
                            continue;
                        }
                        if let Some((u, reason)) =
                            objects.unresolved.get("namespace").and_then(|l| l.first())
                        {
                            out.put(key, cx.note(p.span, format!(
                                "cannot tell whether namespace \"{ns}\" is created {phrase}: the namespace `{}` creates cannot be evaluated ({reason})",
                                an.address(tf, *u)
                            )).with_address(address.clone()));
                            continue;
                        }
                        let mut f = cx.finding(
                            p.span,
                            match creators {
                                Some(_) => format!(
                                    "`{address}` is placed in namespace \"{ns}\", but every resource that creates it is gated off {phrase}: apply fails (\"namespaces \\\"{ns}\\\" not found\")"
                                ),
                                None => format!(
                                    "`{address}` is placed in namespace \"{ns}\", which this configuration never creates and which is not built in: apply fails on a fresh cluster (\"namespaces \\\"{ns}\\\" not found\")"
                                ),
                            },
                        )
                        .with_span_label(format!("namespace \"{ns}\" is not created"))
                        .with_address(address.clone());
                        for c in creators.into_iter().flatten().take(3) {
                            f = f.with_label(
                                an.span(s, c.at, None),
                                format!("creates \"{ns}\" but has no instances {phrase}"),
                            );
                        }
                        let name = ns.replace(|c: char| !c.is_ascii_alphanumeric(), "_");
                        f = f.with_help(format!(
                            "create it in this configuration and refer to it: resource \"kubernetes_namespace_v1\" \"{name}\" {{ metadata {{ name = \"{ns}\" }} }}, then namespace = kubernetes_namespace_v1.{name}.metadata[0].name (or list it under [gitops] provided = {{ Namespace = [\"{ns}\"] }} in preflight.toml if something else creates it first)"
                        ));
                        out.put(key, f);
                    }
                }
            }
        }
        out.into_vec()
    }
}

/// Whether a block depends (by reference, depends_on, or its module calls') on another.
fn depends_on_block(an: &Analysis, s: &Session, at: BlockAt, target: BlockAt) -> bool {
    let mut sets = Vec::new();
    if let Some(b) = an.hcl(s, at) {
        let exprs: Vec<&Expression> = expr::body_expressions(&b.body)
            .into_iter()
            .map(|(_, e)| e)
            .collect();
        sets.push(an.dependencies(s, at.inst, &exprs));
    }
    let mut cur = at.inst;
    while let Some((p, call)) = an.insts[cur].parent {
        if let Some(cb) = an.hcl(
            s,
            BlockAt {
                inst: p,
                block: call,
            },
        ) && let Some(d) = cb.body.get_attribute("depends_on")
        {
            sets.push(an.dependencies(s, p, &[&d.value]));
        }
        cur = p;
    }
    sets.iter().any(|d| d.contains(&target))
}

fn reference_for(an: &Analysis, s: &Session, at: BlockAt) -> String {
    let tf = s.terraform();
    let tb = &an.module(tf, at.inst).blocks[at.block];
    let idx = match an.hcl(s, at) {
        Some(b) if b.body.get_attribute("count").is_some() => "[0]",
        Some(b) if b.body.get_attribute("for_each").is_some() => "[each.key]",
        _ => "",
    };
    let addr = tb.address();
    match tb.type_name.as_str() {
        "kubernetes_namespace" | "kubernetes_namespace_v1" => {
            format!("{addr}{idx}.metadata[0].name")
        }
        "helm_release" => format!("{addr}{idx}.namespace"),
        _ => format!("{addr}{idx}.manifest.metadata.name (or depends_on = [{addr}])"),
    }
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::Severity;
    use crate::testing::{check_rule, expect};

    #[test]
    fn literal_namespace_nobody_creates() {
        let found = check_rule(
            "unmanaged-namespace",
            &[(
                "main.tf",
                r#"resource "kubernetes_config_map_v1" "bootstrap" {
  metadata {
    name      = "bootstrap"
    namespace = "argocd"
  }
}

resource "kubernetes_config_map_v1" "system" {
  metadata {
    name      = "x"
    namespace = "kube-system"
  }
}

resource "helm_release" "argocd" {
  name       = "argocd"
  chart      = "argo-cd"
  namespace  = "argocd-helm"
}

resource "helm_release" "created" {
  name             = "x"
  chart            = "x"
  namespace        = "made-here"
  create_namespace = true
}

resource "kubernetes_manifest" "m" {
  manifest = {
    apiVersion = "v1"
    kind       = "ConfigMap"
    metadata   = { name = "m", namespace = "made-here" }
  }
}
"#,
            )],
        );
        expect(
            &found,
            &[
                ("unmanaged-namespace", "main.tf", 4),
                ("unmanaged-namespace", "main.tf", 18),
                ("unmanaged-namespace", "main.tf", 32),
            ],
        );
        // The manifest's namespace is created by the helm release in the same apply, with no
        // dependency: a warning.
        let m = found.iter().find(|r| r.line == 32).unwrap();
        assert_eq!(m.severity, Severity::Warning);
        assert!(
            found
                .iter()
                .filter(|r| r.line != 32)
                .all(|r| r.severity == Severity::Error)
        );
    }

    #[test]
    fn namespaces_from_variables_and_modules() {
        let root = r#"variable "ns" {
  type = string
}

variable "create" {
  type    = bool
  default = false
}

resource "kubernetes_namespace_v1" "apps" {
  count = var.create ? 1 : 0
  metadata {
    name = "apps"
  }
}

resource "kubernetes_namespace_v1" "platform" {
  metadata {
    name = "platform"
  }
}

module "addon" {
  source    = "../../modules/addon"
  namespace = kubernetes_namespace_v1.platform.metadata[0].name
}

module "other" {
  source    = "../../modules/addon"
  namespace = var.ns
}

resource "kubernetes_secret_v1" "s" {
  metadata {
    name      = "s"
    namespace = "apps"
  }
}
"#;
        let addon = r#"variable "namespace" {
  type = string
}

resource "kubernetes_service_account_v1" "sa" {
  metadata {
    name      = "sa"
    namespace = var.namespace
  }
}
"#;
        let found = check_rule(
            "unmanaged-namespace",
            &[
                ("envs/dev/main.tf", root),
                ("envs/dev/terraform.tfvars", "ns = \"team-x\"\n"),
                ("modules/addon/main.tf", addon),
            ],
        );
        // module.other puts it in "team-x" (from tfvars); `s` needs "apps", gated off.
        expect(
            &found,
            &[
                ("unmanaged-namespace", "envs/dev/main.tf", 36),
                ("unmanaged-namespace", "modules/addon/main.tf", 8),
            ],
        );
        assert!(found.iter().any(|r| r.message.contains("team-x")));
        assert!(found.iter().any(|r| r.message.contains("gated off")));
    }

    #[test]
    fn referenced_namespace_is_clean_and_undecidable_is_a_note() {
        let found = check_rule(
            "unmanaged-namespace",
            &[(
                "main.tf",
                r#"variable "ns" {
  type = string
}

resource "kubernetes_namespace_v1" "argocd" {
  metadata {
    name = "argocd"
  }
}

resource "kubernetes_config_map_v1" "ok" {
  metadata {
    name      = "ok"
    namespace = kubernetes_namespace_v1.argocd.metadata[0].name
  }
}

resource "kubernetes_config_map_v1" "dep" {
  metadata {
    name      = "dep"
    namespace = "argocd"
  }
  depends_on = [kubernetes_namespace_v1.argocd]
}

resource "kubernetes_config_map_v1" "unknown" {
  metadata {
    name      = "u"
    namespace = var.ns
  }
}
"#,
            )],
        );
        expect(&found, &[("unmanaged-namespace", "main.tf", 29)]);
        assert_eq!(found[0].severity, Severity::Note);
    }
}
