//! `unmanaged-namespace`: a Kubernetes object is placed in a namespace that nothing
//! creates (or that is created without an ordering dependency).

use super::{PerBlock, block_span};
use crate::diagnostic::{Finding, Severity};
use crate::model::terraform::BlockKind;
use crate::model::terraform::analysis::{Analysis, BlockAt, Count, unknown_text};
use crate::model::terraform::expr::{Unknown, Value};
use crate::model::workspace::Workspace;
use crate::rules::{Context, Rule};
use crate::source::Span;

crate::rules::declare_rule! {
    pub struct UnmanagedNamespace {
        id: "unmanaged-namespace",
        severity: Severity::Error,
        summary: "A Kubernetes object is placed in a namespace this configuration never creates",
        fix: Safe,
    }
}

const BUILT_IN: &[&str] = &["default", "kube-system", "kube-public", "kube-node-lease"];

impl Rule for UnmanagedNamespace {
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
        let gitops = s.gitops();
        // Namespaces the repository's scripts create with kubectl.
        let ns_steps = s.steps().namespaces(|f| {
            gitops
                .file_objects(f)
                .iter()
                .map(|&o| gitops.object(o))
                .filter(|o| o.kind == "Namespace")
                .map(|o| o.name.clone())
                .collect()
        });
        let all = s.terraform_analysis_all();
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
                    let Some(p) = an.placement(s, pass, at) else {
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
                        // A block never needs a dependency on itself (another instance of a
                        // `for_each` release that creates the namespace is created with it).
                        let existing: Vec<_> = creators
                            .into_iter()
                            .flatten()
                            .filter(|c| c.counts[..=pass].iter().any(Count::is_active))
                            .collect();
                        if existing.iter().any(|c| c.at == at) {
                            continue;
                        }
                        if existing
                            .iter()
                            .any(|c| c.counts[..pass].iter().any(Count::is_active))
                        {
                            continue;
                        }
                        if let Some(c) = existing.first() {
                            // Created in this apply: is there an ordering dependency?
                            if an.depends_on_block(s, at, c.at) {
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
                            .with_fix(reference_fix(an, s, at, c.at, p.span, &ns, &reference))
                            .with_fix_title(format!("name the namespace through its resource: {reference}"));
                            out.put(key, f);
                            continue;
                        }
                        // Created outside this root: by a script before the apply (no
                        // finding), by something whose order or content preflight cannot
                        // see (a note naming it).
                        if let Some(steps) = ns_steps.get(&ns) {
                            if steps.iter().any(|st| st.before_apply) {
                                continue;
                            }
                            let st = &steps[0];
                            let file = &s.repo.file(st.step.file);
                            let line = file.line_col(st.step.start as usize).0;
                            out.put(key, cx.note(p.span, format!(
                                "cannot tell whether namespace \"{ns}\" exists when `{address}` is created {phrase}: {}:{line} creates it with kubectl, but preflight cannot tell whether that runs before this root is applied",
                                file.rel_path
                            )).with_label(st.step, "creates the namespace").with_address(address.clone()));
                            continue;
                        }
                        if let Some((dep, source)) = an.opaque_dependencies(s, at).first() {
                            out.put(key, cx.note(p.span, format!(
                                "cannot tell whether namespace \"{ns}\" exists when `{address}` is created {phrase}: it waits for `{dep}` (`{source}`), a module preflight does not read, which may create it"
                            )).with_address(address.clone()));
                            continue;
                        }
                        if let Some((other, c)) =
                            created_by_other_root(all, s, an.insts[root].module, &ns)
                        {
                            out.put(key, cx.note(p.span, format!(
                                "cannot tell whether namespace \"{ns}\" exists when `{address}` is created {phrase}: the root `{other}` creates it (`{}`), and preflight cannot tell whether that root is applied first",
                                all.address(tf, c)
                            )).with_label(all.span(s, c, None), "creates the namespace in another root").with_address(address.clone()));
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
                        // The dependent waits for a creator gated off: the fix is the
                        // dependent's own gate.
                        let waits_for = creators.into_iter().flatten().find_map(|c| {
                            an.block_refs(s, at)
                                .iter()
                                .find(|r| {
                                    r.depends_on
                                        && an.target(tf, at.inst, &r.reference) == Some(c.at)
                                })
                                .map(|r| (r.span, c.at))
                        });
                        if let Some((dep_span, c)) = waits_for {
                            let gate = super::gate_span(an, s, at);
                            let mut g = cx
                                .finding(
                                    gate,
                                    format!(
                                        "`{address}` is placed in namespace \"{ns}\" and waits for `{}`, which creates it but has no instances {phrase}: apply fails (\"namespaces \\\"{ns}\\\" not found\")",
                                        an.address(tf, c)
                                    ),
                                )
                                .with_span_label("has instances while the namespace's creator has none")
                                .with_label(dep_span, "waits for a block with no instances")
                                .with_label(p.span, format!("placed in \"{ns}\""))
                                .with_address(address.clone());
                            let cond = an
                                .own_terms(s, c)
                                .into_iter()
                                .map(|t| t.text)
                                .collect::<Vec<_>>()
                                .join(" && ");
                            g = g.with_help(if cond.is_empty() {
                                format!("gate `{address}` on the same condition as `{}`", an.address(tf, c))
                            } else {
                                format!("gate `{address}` on the condition of its namespace's creator: count = {cond} ? 1 : 0")
                            });
                            out.put(key, g);
                            continue;
                        }
                        // A Namespace manifest that exists but that nothing applies before
                        // this apply (an ArgoCD Application syncs after the bootstrap; an
                        // overlay of another environment or cluster).
                        if let Some(&o) = gitops.defined("Namespace", &ns).first() {
                            let obj = gitops.object(o);
                            let file = &s.repo.file(obj.name_span.file).rel_path;
                            f.message.push_str(&format!(
                                "; {file} defines it, but nothing applies that manifest before this apply (an ArgoCD sync comes after the bootstrap that installs ArgoCD)"
                            ));
                            f = f.with_label(
                                obj.name_span,
                                "defined here, not applied before this apply",
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
    s: &Workspace,
    at: BlockAt,
    literal: Span,
    ns: &str,
    name: &str,
) -> Option<NamespaceFix> {
    let tf = s.terraform();
    let module = an.module(tf, at.inst);
    let tb = &module.blocks[at.block];
    let q = an.block(s, at);
    if !q.readable() || q.has_for_each() {
        return None;
    }
    let text = &s.repo.file(literal.file).text;
    let count = match q.arg("count") {
        Some(c) => {
            let written = text.get(c.span_range()?)?.trim().to_string();
            Some((written, c.text()))
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
fn attach_namespace_fixes(s: &Workspace, findings: &mut [Finding], candidates: &[NamespaceFix]) {
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
        f.fix_title = format!(
            "create namespace \"{}\" with a kubernetes_namespace_v1 resource and refer to it",
            c.ns
        );
    }
}

/// Another root of the repository that creates the namespace in some pass: its folder and
/// the creating block (in the whole-repository analysis).
fn created_by_other_root(
    all: &Analysis,
    s: &Workspace,
    this_root: crate::model::terraform::ModuleId,
    ns: &str,
) -> Option<(String, BlockAt)> {
    let tf = s.terraform();
    for (rp, &root) in all.roots.iter().enumerate() {
        let module = all.insts[root].module;
        if module == this_root {
            continue;
        }
        let objects = all.objects(s, rp);
        if let Some(c) = objects
            .by_key
            .get(&("namespace".to_string(), ns.to_string()))
            .into_iter()
            .flatten()
            .find(|c| c.counts.iter().any(|n| !n.is_zero()))
        {
            let dir = tf.module(module).dir.clone();
            return Some((if dir.is_empty() { ".".into() } else { dir }, c.at));
        }
    }
    None
}

/// The safe fix for a literal namespace whose creator is in the same module instance:
/// replace the literal with a reference to the creating resource, which also gives
/// Terraform the ordering dependency. Offered only when the reference cannot fail: the
/// creator has no `for_each`, and a counted creator is gated exactly like the user.
fn reference_fix(
    an: &Analysis,
    s: &Workspace,
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
    let (cb, ub) = (an.block(s, creator), an.block(s, user));
    if !cb.readable() || !ub.readable() {
        return Vec::new();
    }
    if cb.has_for_each() {
        return Vec::new();
    }
    if let Some(cc) = cb.arg("count") {
        let same = ub.arg("count").is_some_and(|uc| uc.text() == cc.text());
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

fn reference_for(an: &Analysis, s: &Workspace, at: BlockAt) -> String {
    let tf = s.terraform();
    let tb = &an.module(tf, at.inst).blocks[at.block];
    let q = an.block(s, at);
    let idx = if q.has_count() {
        "[0]"
    } else if q.has_for_each() {
        "[each.key]"
    } else {
        ""
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

    const OUTSIDE: &str = r#"module "addons" {
  source  = "aws-ia/eks-blueprints-addons/aws"
  version = "1.16.0"
}

resource "kubernetes_config_map_v1" "ui" {
  metadata {
    name      = "ui"
    namespace = "ui"
  }
}

resource "kubernetes_config_map_v1" "tools" {
  metadata {
    name      = "tools"
    namespace = "tools"
  }
}

resource "kubernetes_config_map_v1" "shop" {
  metadata {
    name      = "shop"
    namespace = "shop"
  }
  depends_on = [module.addons]
}

resource "kubernetes_config_map_v1" "shared" {
  metadata {
    name      = "shared"
    namespace = "shared"
  }
}

resource "kubernetes_config_map_v1" "argocd" {
  metadata {
    name      = "bootstrap"
    namespace = "argocd"
  }
}
"#;

    #[test]
    fn namespaces_created_outside_the_root() {
        let found = check_rule(
            "unmanaged-namespace",
            &[
                ("infra/main.tf", OUTSIDE),
                (
                    "bin/reset-environment",
                    "#!/bin/bash\nbase=\"/workspace/k8s/base\"\nkubectl apply -k \"$base\"\nterraform -chdir=infra apply -auto-approve\n",
                ),
                (
                    "k8s/base/kustomization.yaml",
                    "resources:\n  - namespace.yaml\n",
                ),
                (
                    "k8s/base/namespace.yaml",
                    "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ui\n",
                ),
                ("scripts/tools.sh", "kubectl create namespace tools\n"),
                (
                    "platform/main.tf",
                    "resource \"kubernetes_namespace_v1\" \"shared\" {\n  metadata {\n    name = \"shared\"\n  }\n}\n",
                ),
                (
                    "gitops/argocd/namespace.yaml",
                    "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: argocd\n",
                ),
            ],
        );
        // ui: the reset script applies its Namespace before `terraform apply`: no finding.
        expect(
            &found,
            &[
                ("unmanaged-namespace", "infra/main.tf", 16),
                ("unmanaged-namespace", "infra/main.tf", 23),
                ("unmanaged-namespace", "infra/main.tf", 31),
                ("unmanaged-namespace", "infra/main.tf", 38),
            ],
        );
        let sev: Vec<Severity> = found.iter().map(|f| f.severity).collect();
        assert_eq!(
            sev,
            [
                Severity::Note,
                Severity::Note,
                Severity::Note,
                Severity::Error
            ]
        );
        assert!(
            found[0].message.contains("scripts/tools.sh:1"),
            "{}",
            found[0].message
        );
        assert!(
            found[1].message.contains("module.addons"),
            "{}",
            found[1].message
        );
        assert!(
            found[2].message.contains("`platform`"),
            "{}",
            found[2].message
        );
        assert!(
            found[3]
                .message
                .contains("gitops/argocd/namespace.yaml defines it"),
            "{}",
            found[3].message
        );
    }

    #[test]
    fn for_each_releases_create_namespaces_per_instance() {
        let found = check_rule(
            "unmanaged-namespace",
            &[(
                "main.tf",
                r#"variable "releases" {
  default = {
    gpu = { namespace = "gpu-operator", create_namespace = true, chart = "gpu-operator" }
    mon = { namespace = "monitoring", chart = "prometheus" }
  }
}

resource "helm_release" "this" {
  for_each         = var.releases
  name             = each.key
  chart            = each.value.chart
  namespace        = try(each.value.namespace, null)
  create_namespace = try(each.value.create_namespace, false)
}
"#,
            )],
        );
        // gpu-operator is created by its own instance; monitoring by nothing.
        expect(&found, &[("unmanaged-namespace", "main.tf", 12)]);
        assert!(
            found[0].message.contains("\"monitoring\""),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn waiting_for_a_gated_off_namespace_creator_is_reported_at_the_gate() {
        let found = check_rule(
            "unmanaged-namespace",
            &[(
                "main.tf",
                r#"variable "enable_argocd" {
  type    = bool
  default = false
}

resource "kubernetes_namespace_v1" "argocd" {
  count = var.enable_argocd ? 1 : 0
  metadata {
    name = "argocd"
  }
}

resource "kubernetes_config_map_v1" "bootstrap" {
  metadata {
    name      = "bootstrap"
    namespace = "argocd"
  }
  depends_on = [kubernetes_namespace_v1.argocd]
}
"#,
            )],
        );
        // At the dependent's header (it has no count): the fix is a gate there.
        expect(&found, &[("unmanaged-namespace", "main.tf", 13)]);
        assert!(found[0].help.contains("count = var.enable_argocd ? 1 : 0"));
    }
}
