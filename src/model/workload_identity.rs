//! Workload identity: which IAM role a Kubernetes service account assumes (IRSA through the
//! `eks.amazonaws.com/role-arn` annotation, set by Terraform on a `helm_release` or a
//! service account resource, or written in an Application's Helm values; EKS pod identity
//! through `aws_eks_pod_identity_association`), and what the policies attached to a role
//! in Terraform allow, evaluated with the root's values.

use crate::model::gitops::{GitopsModel, GroupId};
use crate::model::iam::policy::Policy;
use crate::model::identities::role_arn;
use crate::model::terraform::BlockKind;
use crate::model::terraform::analysis::{Analysis, BlockAt, unknown_text};
use crate::model::terraform::expr::{Unknown, Value};
use crate::model::workspace::Workspace;
use crate::parse::yaml::Yaml;
use crate::source::Span;
use hcl_edit::expr::Expression;

/// The role a service account assumes, as far as the model can tell.
#[derive(Debug, Clone)]
pub enum RoleRef {
    /// An `aws_iam_role` block of a root.
    Terraform { at: BlockAt, address: String },
    /// A role ARN written as a literal that no Terraform root creates.
    Outside { arn: String, span: Span },
    /// Cannot tell: why.
    Unknown(String),
}

const ANNOTATION: &str = "eks.amazonaws.com/role-arn";

/// The `aws_iam_role` block a value names: an ARN known only after apply whose origin is a
/// role, or a literal ARN or name of a role the roots create.
fn role_of_value(s: &Workspace, an: &Analysis, roots: &[usize], v: &Value) -> Option<RoleRef> {
    let tf = s.terraform();
    match v {
        Value::Unknown(Unknown::AtApply { origin }) => {
            for &root in roots {
                if let Some(at) = an.origin_block(s, root, origin) {
                    let tb = &an.module(tf, at.inst).blocks[at.block];
                    if tb.kind == BlockKind::Resource && tb.type_name == "aws_iam_role" {
                        return Some(RoleRef::Terraform {
                            at,
                            address: an.address(tf, at),
                        });
                    }
                }
            }
            Some(RoleRef::Unknown(format!(
                "the role ARN is `{origin}`, which is not an `aws_iam_role` the model can follow"
            )))
        }
        Value::Unknown(u) => Some(RoleRef::Unknown(unknown_text(u))),
        Value::String(text) => {
            let (_, name) = role_arn(text)?;
            Some(role_named(s, an, roots, name).unwrap_or(RoleRef::Outside {
                arn: text.clone(),
                span: Span::new(crate::source::FileId(0), 0..0),
            }))
        }
        _ => None,
    }
}

/// The `aws_iam_role` of the roots named `name` (an instance that exists in some pass).
pub fn role_named(s: &Workspace, an: &Analysis, roots: &[usize], name: &str) -> Option<RoleRef> {
    let tf = s.terraform();
    for &root in roots {
        for at in an.blocks_of_root(tf, root) {
            let tb = &an.module(tf, at.inst).blocks[at.block];
            if tb.kind != BlockKind::Resource || tb.type_name != "aws_iam_role" {
                continue;
            }
            let Some(e) = an.hcl(s, at).and_then(|b| b.body.get_attribute("name")) else {
                continue;
            };
            let found = an.selected.iter().any(|&pass| {
                an.count(s, pass, at).is_active()
                    && an
                        .eval_iter(s, pass, at.inst, an.first_iter(s, pass, at), &e.value)
                        .as_str()
                        == Some(name)
            });
            if found {
                return Some(RoleRef::Terraform {
                    at,
                    address: an.address(tf, at),
                });
            }
        }
    }
    None
}

/// Whether a Helm `set` name is the service account's role annotation.
fn is_annotation_param(name: &str) -> bool {
    name.replace("\\.", ".")
        .ends_with("serviceAccount.annotations.eks.amazonaws.com/role-arn")
}

/// The roles the service account `namespace/name` may assume in the given roots and cluster
/// group. Several answers when several places set it.
pub fn roles_of_service_account(
    s: &Workspace,
    an: &Analysis,
    model: &GitopsModel,
    roots: &[usize],
    group: Option<GroupId>,
    namespace: &str,
    name: &str,
) -> Vec<RoleRef> {
    let tf = s.terraform();
    let mut out = Vec::new();
    for &root in roots {
        for at in an.blocks_of_root(tf, root) {
            let tb = &an.module(tf, at.inst).blocks[at.block];
            if tb.kind != BlockKind::Resource {
                continue;
            }
            let Some(block) = an.hcl(s, at) else { continue };
            // The first pass in which the block exists.
            let Some(pass) = an
                .selected
                .iter()
                .copied()
                .find(|&p| an.count(s, p, at).is_active())
            else {
                continue;
            };
            let eval =
                |e: &Expression| an.eval_iter(s, pass, at.inst, an.first_iter(s, pass, at), e);
            let attr = |k: &str| block.body.get_attribute(k).map(|a| eval(&a.value));
            match tb.type_name.as_str() {
                "helm_release" => {
                    let ns = attr("namespace").unwrap_or(Value::string("default"));
                    let release = attr("name");
                    if ns.as_str() != Some(namespace) {
                        continue;
                    }
                    let mut sa_name = release.as_ref().and_then(|v| v.as_str()).map(str::to_owned);
                    let mut role = None;
                    for set in block.body.get_blocks("set") {
                        let (Some(n), Some(v)) = (
                            set.body.get_attribute("name"),
                            set.body.get_attribute("value"),
                        ) else {
                            continue;
                        };
                        let Value::String(param) = eval(&n.value) else {
                            continue;
                        };
                        if param == "serviceAccount.name" {
                            sa_name = eval(&v.value).as_str().map(str::to_owned);
                        } else if is_annotation_param(&param) {
                            role = role_of_value(s, an, roots, &eval(&v.value));
                        }
                    }
                    if sa_name.as_deref() == Some(name)
                        && let Some(r) = role
                    {
                        out.push(r);
                    }
                }
                "kubernetes_service_account" | "kubernetes_service_account_v1" => {
                    let md = |k: &str| {
                        crate::model::terraform::analysis::nested_attr(block, "metadata", k)
                            .map(eval)
                    };
                    if md("name").as_ref().and_then(|v| v.as_str()) != Some(name)
                        || md("namespace")
                            .as_ref()
                            .and_then(|v| v.as_str())
                            .unwrap_or("default")
                            != namespace
                    {
                        continue;
                    }
                    if let Some(Value::Object(a)) = md("annotations")
                        && let Some(v) = a.get(ANNOTATION)
                        && let Some(r) = role_of_value(s, an, roots, v)
                    {
                        out.push(r);
                    }
                }
                "aws_eks_pod_identity_association" => {
                    if attr("namespace").as_ref().and_then(|v| v.as_str()) == Some(namespace)
                        && attr("service_account").as_ref().and_then(|v| v.as_str()) == Some(name)
                        && let Some(v) = attr("role_arn")
                        && let Some(r) = role_of_value(s, an, roots, &v)
                    {
                        out.push(r);
                    }
                }
                _ => {}
            }
        }
    }
    // Helm values of an Application of the group installing into the namespace.
    if let Some(g) = group {
        for a in values_role_annotations(s, model) {
            if a.group != g || a.namespace != namespace || a.name != name {
                continue;
            }
            match role_of_value(s, an, roots, &Value::string(a.arn.clone())) {
                Some(RoleRef::Outside { arn, .. }) => {
                    out.push(RoleRef::Outside { arn, span: a.span })
                }
                Some(r) => out.push(r),
                None => {}
            }
        }
    }
    out
}

/// A role annotation written in the Helm values an Application passes to a chart:
/// `serviceAccount.annotations."eks.amazonaws.com/role-arn"`, for the chart's service account
/// (`serviceAccount.name`, else the release name) in the destination namespace.
#[derive(Debug, Clone)]
pub struct ValuesAnnotation {
    pub app: usize,
    pub group: GroupId,
    pub namespace: String,
    pub name: String,
    pub arn: String,
    pub span: Span,
}

pub fn values_role_annotations(s: &Workspace, model: &GitopsModel) -> Vec<ValuesAnnotation> {
    let mut out = Vec::new();
    for (a, app) in model.apps.iter().enumerate() {
        if model.group(app.group).unresolved {
            continue;
        }
        let (Some(namespace), Some(release)) =
            (app_namespace(model, s, a), release_name(model, s, a))
        else {
            continue;
        };
        for v in &app.values {
            let Some(y) = model.yaml(&s.repo, v.root) else {
                continue;
            };
            let Some(sa) = y.get("serviceAccount") else {
                continue;
            };
            let name = sa
                .str_at(&["name"])
                .map(str::to_owned)
                .unwrap_or(release.clone());
            if let Some(ann) = sa.get("annotations").and_then(|m| m.get(ANNOTATION))
                && let Some(text) = ann.as_string()
            {
                out.push(ValuesAnnotation {
                    app: a,
                    group: app.group,
                    namespace: namespace.clone(),
                    name,
                    arn: text.to_string(),
                    span: ann.span(),
                });
            }
        }
    }
    out
}

/// The destination namespace of an Application.
fn app_namespace(model: &GitopsModel, s: &Workspace, a: usize) -> Option<String> {
    let app = model.app(a);
    let doc = model.doc(&s.repo, app.doc)?;
    doc.root()
        .str_at(&["spec", "destination", "namespace"])
        .map(str::to_owned)
}

/// The Helm release name of an Application's chart (`helm.releaseName`, else the
/// Application's name).
fn release_name(model: &GitopsModel, s: &Workspace, a: usize) -> Option<String> {
    let app = model.app(a);
    let doc = model.doc(&s.repo, app.doc)?;
    let spec = doc.root().get("spec")?;
    let mut sources: Vec<Yaml<'_>> = spec
        .get("sources")
        .map(|l| l.items().collect())
        .unwrap_or_default();
    if let Some(one) = spec.get("source") {
        sources.push(one);
    }
    for src in sources {
        if src.get("chart").is_some() {
            return Some(
                src.str_at(&["helm", "releaseName"])
                    .map(str::to_owned)
                    .unwrap_or_else(|| app.name.clone()),
            );
        }
    }
    None
}

/// One policy that applies to a role.
#[derive(Debug, Clone)]
pub struct RolePolicy {
    pub at: BlockAt,
    pub address: String,
    pub policy: Result<Policy, String>,
}

/// The policies Terraform attaches to a role (inline `aws_iam_role_policy`,
/// `inline_policy` blocks, `aws_iam_role_policy_attachment` of an `aws_iam_policy` of the
/// same root), evaluated; `Err` for one that cannot be read (an AWS managed policy, an
/// unknown document).
pub fn role_policies(s: &Workspace, an: &Analysis, role: BlockAt) -> Vec<RolePolicy> {
    let tf = s.terraform();
    let root = an.insts[role.inst].root;
    let Some(pass) = an
        .selected
        .iter()
        .copied()
        .find(|&p| an.count(s, p, role).is_active())
        .or_else(|| an.selected.first().copied())
    else {
        return Vec::new();
    };
    let role_block = an.hcl(s, role);
    let role_name = role_block
        .and_then(|b| b.body.get_attribute("name"))
        .map(|a| an.eval_iter(s, pass, role.inst, an.first_iter(s, pass, role), &a.value));
    let read = |at: BlockAt, e: &Expression| -> Result<Policy, String> {
        match an.eval_iter(s, pass, at.inst, an.first_iter(s, pass, at), e) {
            Value::String(text) => serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|j| Policy::from_json(&j))
                .ok_or_else(|| "its document is not a policy".to_string()),
            Value::Unknown(u) => Err(format!(
                "its document cannot be evaluated: {}",
                unknown_text(&u)
            )),
            other => Err(format!("its document is a {}", other.type_name())),
        }
    };
    let mut out = Vec::new();
    if let Some(b) = role_block {
        for inner in b.body.get_blocks("inline_policy") {
            if let Some(p) = inner.body.get_attribute("policy") {
                out.push(RolePolicy {
                    at: role,
                    address: an.address(tf, role),
                    policy: read(role, &p.value),
                });
            }
        }
        if b.body.get_attribute("managed_policy_arns").is_some() {
            out.push(RolePolicy {
                at: role,
                address: an.address(tf, role),
                policy: Err(
                    "`managed_policy_arns` attaches policies the model does not read".into(),
                ),
            });
        }
    }
    for at in an.blocks_of_root(tf, root) {
        let tb = &an.module(tf, at.inst).blocks[at.block];
        if tb.kind != BlockKind::Resource
            || !matches!(
                tb.type_name.as_str(),
                "aws_iam_role_policy" | "aws_iam_role_policy_attachment"
            )
        {
            continue;
        }
        let Some(block) = an.hcl(s, at) else { continue };
        if !an.count(s, pass, at).is_active() {
            continue;
        }
        let Some(r) = block.body.get_attribute("role") else {
            continue;
        };
        let deps = an.dependencies(s, at.inst, &[&r.value]);
        let by_name = match (
            &role_name,
            an.eval_iter(s, pass, at.inst, an.first_iter(s, pass, at), &r.value),
        ) {
            (Some(Value::String(n)), Value::String(v)) => *n == v,
            _ => false,
        };
        if !deps.contains(&role) && !by_name {
            continue;
        }
        let address = an.address(tf, at);
        if tb.type_name == "aws_iam_role_policy" {
            if let Some(p) = block.body.get_attribute("policy") {
                out.push(RolePolicy {
                    at,
                    address,
                    policy: read(at, &p.value),
                });
            }
            continue;
        }
        let Some(p) = block.body.get_attribute("policy_arn") else {
            continue;
        };
        let target = an
            .dependencies(s, at.inst, &[&p.value])
            .into_iter()
            .find(|d| {
                let t = &an.module(tf, d.inst).blocks[d.block];
                t.kind == BlockKind::Resource && t.type_name == "aws_iam_policy"
            });
        let policy = match target {
            Some(pol) => match an.hcl(s, pol).and_then(|b| b.body.get_attribute("policy")) {
                Some(doc) => read(pol, &doc.value),
                None => Err("the attached policy has no `policy`".into()),
            },
            None => Err(format!(
                "`{address}` attaches a policy the model cannot read (an AWS managed policy or one created elsewhere)"
            )),
        };
        out.push(RolePolicy {
            at,
            address,
            policy,
        });
    }
    out
}

/// The keys an ExternalSecret reads: (key, span).
pub fn external_secret_keys(spec: Yaml<'_>) -> Vec<(String, Span)> {
    let mut out = Vec::new();
    for item in spec
        .get("data")
        .map(|d| d.items().collect::<Vec<_>>())
        .unwrap_or_default()
    {
        if item.path(&["sourceRef", "generatorRef"]).is_some() {
            continue;
        }
        if let Some(k) = item.path(&["remoteRef", "key"])
            && let Some(v) = k.as_string()
        {
            out.push((v.to_string(), k.span()));
        }
    }
    for item in spec
        .get("dataFrom")
        .map(|d| d.items().collect::<Vec<_>>())
        .unwrap_or_default()
    {
        if let Some(k) = item.path(&["extract", "key"])
            && let Some(v) = k.as_string()
        {
            out.push((v.to_string(), k.span()));
        }
    }
    out
}

/// The Secrets Manager store an ExternalSecret uses in a group: (region, service account
/// namespace, service account name, store name).
pub fn secret_store_identity(
    s: &Workspace,
    model: &GitopsModel,
    g: GroupId,
    es_namespace: Option<&str>,
    store: Yaml<'_>,
) -> Option<(Option<String>, String, String, String)> {
    let name = store.str_at(&["name"])?;
    let kind = store.str_at(&["kind"]).unwrap_or("SecretStore");
    let (_, obj) = model.deployed(g, kind, name).first()?;
    let o = model.object(*obj);
    let y = model.yaml(&s.repo, o.node)?;
    let aws = y.path(&["spec", "provider", "aws"])?;
    if aws.str_at(&["service"]) != Some("SecretsManager") {
        return None;
    }
    let sa = aws.path(&["auth", "jwt", "serviceAccountRef"])?;
    let sa_name = sa.str_at(&["name"])?;
    let ns = sa
        .str_at(&["namespace"])
        .or(o.namespace.as_deref())
        .or(es_namespace)?;
    Some((
        aws.str_at(&["region"]).map(str::to_owned),
        ns.to_string(),
        sa_name.to_string(),
        name.to_string(),
    ))
}
