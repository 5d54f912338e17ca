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
        let mut candidates: Vec<NamespaceFix> = Vec::new();
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
                            .with_address(address.clone())
                            .with_fix(reference_fix(an, s, at, c.at, p.span, &ns, &reference));
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
                        if creators.is_none()
                            && let Some(c) = namespace_candidate(an, s, at, p.span, &ns, &name)
                        {
                            candidates.push(c);
                        }
                        f = f.with_help(format!(
                            "create it in this configuration and refer to it: resource \"kubernetes_namespace_v1\" \"{name}\" {{ metadata {{ name = \"{ns}\" }} }}, then namespace = kubernetes_namespace_v1.{name}.metadata[0].name (or list it under [gitops] provided = {{ Namespace = [\"{ns}\"] }} in preflight.toml if something else creates it first)"
                        ));
                        out.put(key, f);
                    }
                }
            }
        }
        let mut findings = out.into_vec();
        attach_namespace_fixes(s, &mut findings, &candidates);
        findings
    }
}

/// A finding that the namespace resource fixes: the literal to replace, and where the
/// resource could go (after the user's block).
struct NamespaceFix {
    dir: String,
    ns: String,
    name: String,
    literal: Span,
    /// The end of the user's block.
    after: Span,
    /// The user's `count` as written (the namespace gets the same), with its canonical text.
    count: Option<(String, String)>,
}

/// The fix for a namespace nothing creates, when it is mechanical: the user has no
/// `for_each` (a counted user's namespace gets the same `count`), the namespace is a
/// literal string, and the resource name is free in the module.
fn namespace_candidate(
    an: &Analysis,
    s: &Session,
    at: BlockAt,
    literal: Span,
    ns: &str,
    name: &str,
) -> Option<NamespaceFix> {
    let tf = s.terraform();
    let module = an.module(tf, at.inst);
    let tb = &module.blocks[at.block];
    let block = an.hcl(s, at)?;
    if block.body.get_attribute("for_each").is_some() {
        return None;
    }
    let text = &s.repo.file(literal.file).text;
    let count = match block.body.get_attribute("count") {
        Some(c) => {
            let written = text.get(c.value.span()?)?.trim().to_string();
            Some((written, expr::canonical_text(&c.value)))
        }
        None => None,
    };
    if module
        .blocks
        .iter()
        .any(|b| b.type_name == "kubernetes_namespace_v1" && b.name == name)
    {
        return None;
    }
    if literal.file != tb.span.file
        || text.get(literal.range()) != Some(format!("\"{ns}\"").as_str())
    {
        return None;
    }
    let end = tb.span.end as usize;
    if text.get(..end).is_none_or(|t| !t.ends_with('}')) {
        return None;
    }
    Some(NamespaceFix {
        dir: module.dir.clone(),
        ns: ns.to_string(),
        name: name.to_string(),
        literal,
        after: Span::new(tb.span.file, end..end),
        count,
    })
}

/// Every user of one namespace in one module gets the same resource, placed after the first
/// user's block (identical edits are made once), and its literal replaced by a reference.
fn attach_namespace_fixes(s: &Session, findings: &mut [Finding], candidates: &[NamespaceFix]) {
    for f in findings.iter_mut() {
        if f.severity != Severity::Error {
            continue;
        }
        let Some(c) = candidates.iter().find(|c| c.literal == f.span) else {
            continue;
        };
        let group: Vec<&NamespaceFix> = candidates
            .iter()
            .filter(|o| o.dir == c.dir && o.ns == c.ns)
            .collect();
        // One resource serves them all only when they are all counted alike.
        if group
            .iter()
            .any(|o| o.count.as_ref().map(|x| &x.1) != c.count.as_ref().map(|x| &x.1))
        {
            continue;
        }
        let Some(first) = group
            .iter()
            .min_by_key(|o| (s.repo.file(o.after.file).rel_path.as_str(), o.after.start))
        else {
            continue;
        };
        let text = &s.repo.file(first.after.file).text;
        let nl = if text.contains("\r\n") { "\r\n" } else { "\n" };
        let (count_line, index) = match &first.count {
            Some((written, _)) => (format!("{nl}  count = {written}{nl}"), "[0]"),
            None => (String::new(), ""),
        };
        let resource = format!(
            "{nl}{nl}resource \"kubernetes_namespace_v1\" \"{name}\" {{{count_line}{nl}  metadata {{{nl}    name = \"{ns}\"{nl}  }}{nl}}}",
            name = c.name,
            ns = c.ns
        );
        f.fix = vec![
            crate::diagnostic::Edit {
                span: first.after,
                replacement: resource,
            },
            crate::diagnostic::Edit {
                span: c.literal,
                replacement: format!("kubernetes_namespace_v1.{}{index}.metadata[0].name", c.name),
            },
        ];
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

/// The safe fix for a literal namespace whose creator is in the same module instance:
/// replace the literal with a reference to the creating resource, which also gives
/// Terraform the ordering dependency. Offered only when the reference cannot fail: the
/// creator has no `for_each`, and a counted creator is gated exactly like the user.
fn reference_fix(
    an: &Analysis,
    s: &Session,
    user: BlockAt,
    creator: BlockAt,
    literal: crate::source::Span,
    ns: &str,
    reference: &str,
) -> Vec<crate::diagnostic::Edit> {
    let tf = s.terraform();
    let creator_block = &an.module(tf, creator.inst).blocks[creator.block];
    if user.inst != creator.inst
        || !matches!(
            creator_block.type_name.as_str(),
            "kubernetes_namespace" | "kubernetes_namespace_v1" | "helm_release"
        )
    {
        return Vec::new();
    }
    let (Some(cb), Some(ub)) = (an.hcl(s, creator), an.hcl(s, user)) else {
        return Vec::new();
    };
    if cb.body.get_attribute("for_each").is_some() {
        return Vec::new();
    }
    if let Some(cc) = cb.body.get_attribute("count") {
        let same = ub
            .body
            .get_attribute("count")
            .is_some_and(|uc| expr::canonical_text(&uc.value) == expr::canonical_text(&cc.value));
        if !same {
            return Vec::new();
        }
    }
    let text = &s.repo.file(literal.file).text;
    if text.get(literal.range()) != Some(format!("\"{ns}\"").as_str()) {
        return Vec::new();
    }
    vec![crate::diagnostic::Edit {
        span: literal,
        replacement: reference.to_string(),
    }]
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
