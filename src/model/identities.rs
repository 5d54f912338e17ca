//! Computed identities: the physical names each Terraform root creates (per instance and
//! pass, with the instance count), the names it looks up, and the account IDs its ARNs
//! carry. Rules compare literals written elsewhere (Helm values, manifests, other roots)
//! with this index; a count-0 instance names an object that does not exist.
//!
//! [`physical_names`] is the list of fixed names of account-scoped objects a root creates,
//! usable by any rule (an "already exists" check, live or offline).

use crate::model::environments::Environments;
use crate::model::gitops::{GitopsModel, GroupId, NodeRef};
use crate::model::terraform::BlockKind;
use crate::model::terraform::analysis::{Analysis, BlockAt, Count, Iter, unknown_text};
use crate::model::terraform::expr::Value;
use crate::model::workspace::Workspace;
use crate::parse::yaml::Yaml;
use crate::source::Span;
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use hcl_edit::expr::Expression;
use hcl_edit::structure::Block;
use std::collections::BTreeMap;
use std::sync::Arc;

/// What kind of identity a name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IdKind {
    Cluster,
    Role,
    Policy,
    RdsIdentifier,
    HostedZone,
    Secret,
    Bucket,
    EcrRepository,
    Other,
}

impl IdKind {
    pub fn noun(self) -> &'static str {
        match self {
            IdKind::Cluster => "EKS cluster name",
            IdKind::Role => "IAM role name",
            IdKind::Policy => "IAM policy name",
            IdKind::RdsIdentifier => "RDS identifier",
            IdKind::HostedZone => "hosted zone",
            IdKind::Secret => "Secrets Manager secret name",
            IdKind::Bucket => "S3 bucket name",
            IdKind::EcrRepository => "ECR repository name",
            IdKind::Other => "name",
        }
    }
}

/// Resource types whose name is unique per account (and region): (type, name argument,
/// kind). A second object with the same name fails with "already exists".
pub const ACCOUNT_SCOPED: &[(&str, &str, IdKind)] = &[
    ("aws_secretsmanager_secret", "name", IdKind::Secret),
    ("aws_iam_role", "name", IdKind::Role),
    ("aws_iam_policy", "name", IdKind::Policy),
    ("aws_iam_user", "name", IdKind::Other),
    ("aws_iam_instance_profile", "name", IdKind::Other),
    ("aws_s3_bucket", "bucket", IdKind::Bucket),
    ("aws_ecr_repository", "name", IdKind::EcrRepository),
    ("aws_db_instance", "identifier", IdKind::RdsIdentifier),
    (
        "aws_rds_cluster",
        "cluster_identifier",
        IdKind::RdsIdentifier,
    ),
    ("aws_db_subnet_group", "name", IdKind::Other),
    ("aws_db_parameter_group", "name", IdKind::Other),
    ("aws_eks_cluster", "name", IdKind::Cluster),
    ("aws_cloudwatch_log_group", "name", IdKind::Other),
    ("aws_dynamodb_table", "name", IdKind::Other),
    ("aws_sqs_queue", "name", IdKind::Other),
    ("aws_sns_topic", "name", IdKind::Other),
    ("aws_kms_alias", "name", IdKind::Other),
    ("aws_ssm_parameter", "name", IdKind::Other),
    ("aws_lambda_function", "function_name", IdKind::Other),
];

/// The name argument and kind of an account-scoped resource type.
pub fn account_scoped(ty: &str) -> Option<(&'static str, IdKind)> {
    ACCOUNT_SCOPED
        .iter()
        .find(|(t, _, _)| *t == ty)
        .map(|(_, a, k)| (*a, *k))
}

/// One instance of a named object a root creates (or looks up), in one pass.
#[derive(Debug, Clone)]
pub struct Named {
    /// The root instance.
    pub root: usize,
    pub at: BlockAt,
    pub ty: String,
    pub kind: IdKind,
    /// Instance address, module path and index included.
    pub address: String,
    pub name: String,
    pub pass: usize,
    /// The instances of the block's module instance times this instance's existence: zero
    /// when the block or its module is switched off.
    pub count: Count,
    /// A data source: the object is looked up, not created.
    pub lookup: bool,
}

/// A named block whose name cannot be evaluated, with the reason.
#[derive(Debug, Clone)]
pub struct Unnamed {
    pub root: usize,
    pub at: BlockAt,
    pub kind: IdKind,
    pub pass: usize,
    pub reason: String,
}

#[derive(Debug, Default)]
pub struct Names {
    pub named: Vec<Named>,
    pub unnamed: Vec<Unnamed>,
}

impl Names {
    /// The names of one kind created (not looked up) by the given roots.
    pub fn created<'a, 'r>(
        &'a self,
        kind: IdKind,
        roots: &'r [usize],
    ) -> impl Iterator<Item = &'a Named> + use<'a, 'r> {
        self.named
            .iter()
            .filter(move |n| n.kind == kind && !n.lookup && roots.contains(&n.root))
    }

    /// Whether a name of this kind cannot be evaluated in one of the roots.
    pub fn unknown_in<'a>(&'a self, kind: IdKind, roots: &'a [usize]) -> Option<&'a Unnamed> {
        self.unnamed
            .iter()
            .find(|u| u.kind == kind && roots.contains(&u.root))
    }
}

fn index_text(iter: &Iter) -> String {
    match iter {
        Iter::None => String::new(),
        Iter::Count(i) => format!("[{i}]"),
        Iter::Each(k, _) => match k {
            Value::String(s) => format!("[\"{s}\"]"),
            other => format!("[{other}]"),
        },
    }
}

/// The argument `path` (`a` or `a.b` for a nested block) of a block instance.
fn arg_value(
    s: &Workspace,
    an: &Analysis,
    pass: usize,
    at: BlockAt,
    block: &Block,
    iter: &Iter,
    path: &str,
) -> Option<Value> {
    let e = match path.split_once('.') {
        Some((nested, key)) => crate::model::terraform::analysis::nested_attr(block, nested, key)?,
        None => &block.body.get_attribute(path)?.value,
    };
    Some(an.eval_iter(s, pass, at.inst, iter.clone(), e))
}

/// What a block names: (name argument, kind, lookup).
fn naming(kind: BlockKind, ty: &str) -> Option<(&'static str, IdKind, bool)> {
    match (kind, ty) {
        (BlockKind::Resource, "aws_route53_zone") => Some(("name", IdKind::HostedZone, false)),
        (BlockKind::Resource, _) => account_scoped(ty).map(|(a, k)| (a, k, false)),
        (BlockKind::Data, "aws_route53_zone") => Some(("name", IdKind::HostedZone, true)),
        (BlockKind::Data, "aws_eks_cluster") => Some(("name", IdKind::Cluster, true)),
        (BlockKind::Data, "aws_secretsmanager_secret") => Some(("name", IdKind::Secret, true)),
        (BlockKind::Data, "aws_iam_role") => Some(("name", IdKind::Role, true)),
        _ => None,
    }
}

/// Every named object the roots of `an` create or look up, per instance and selected pass.
/// A counted block switched off still names its first instance, with count zero.
pub fn names(s: &Workspace, an: &Analysis) -> Names {
    let tf = s.terraform();
    let mut out = Names::default();
    for &root in &an.roots {
        for at in an.blocks_of_root(tf, root) {
            let tb = &an.module(tf, at.inst).blocks[at.block];
            let Some((arg, kind, lookup)) = naming(tb.kind, &tb.type_name) else {
                continue;
            };
            let Some(block) = an.hcl(s, at) else { continue };
            if block.body.get_attribute(arg).is_none() {
                // `name_prefix` or a provider-generated name: no fixed name; a lookup by
                // another argument (`zone_id`, `arn`): a name the model cannot see.
                let other = if lookup {
                    Some("it is looked up by another argument")
                } else if block.body.get_attribute("name_prefix").is_some() {
                    Some("its name is generated from `name_prefix`")
                } else {
                    None
                };
                if let Some(why) = other
                    && let Some(&pass) = an.selected.first()
                    && !an.count(s, pass, at).is_zero()
                {
                    out.unnamed.push(Unnamed {
                        root,
                        at,
                        kind,
                        pass,
                        reason: format!("`{}`: {why}", an.address(tf, at)),
                    });
                }
                continue;
            }
            for &pass in &an.selected {
                let inst_count = an.inst_count(s, pass, at.inst);
                let counted = block.body.get_attribute("count").is_some();
                let (iters, count) = match an.iters(s, pass, at) {
                    Ok(v) if v.is_empty() && counted => (vec![Iter::Count(0)], Count::Known(0)),
                    Ok(v) => (v, inst_count),
                    Err(u) => {
                        // The first instance's name, when it does not depend on the
                        // instance, with the unknown count.
                        let first = if counted { Iter::Count(0) } else { Iter::None };
                        match arg_value(s, an, pass, at, block, &first, arg) {
                            Some(Value::String(name)) if !name.is_empty() => {
                                out.named.push(Named {
                                    root,
                                    at,
                                    ty: tb.type_name.clone(),
                                    kind,
                                    address: an.address(tf, at),
                                    name,
                                    pass,
                                    count: Count::Unknown(u),
                                    lookup,
                                });
                            }
                            _ => out.unnamed.push(Unnamed {
                                root,
                                at,
                                kind,
                                pass,
                                reason: format!(
                                    "the instances of `{}` cannot be enumerated: {}",
                                    an.address(tf, at),
                                    unknown_text(&u)
                                ),
                            }),
                        }
                        continue;
                    }
                };
                for iter in iters {
                    match arg_value(s, an, pass, at, block, &iter, arg) {
                        Some(Value::String(name)) if !name.is_empty() => out.named.push(Named {
                            root,
                            at,
                            ty: tb.type_name.clone(),
                            kind,
                            address: format!("{}{}", an.address(tf, at), index_text(&iter)),
                            name,
                            pass,
                            count: count.clone(),
                            lookup,
                        }),
                        Some(Value::Unknown(u)) => out.unnamed.push(Unnamed {
                            root,
                            at,
                            kind,
                            pass,
                            reason: format!(
                                "the name of `{}` cannot be evaluated: {}",
                                an.address(tf, at),
                                unknown_text(&u)
                            ),
                        }),
                        _ => {}
                    }
                }
            }
        }
    }
    out
}

/// The physical names of account-scoped objects the roots of `an` create, per instance and
/// pass (the fixed names a second apply, or another root, would clash with).
pub fn physical_names(names: &Names) -> Vec<&Named> {
    names
        .named
        .iter()
        .filter(|n| !n.lookup && account_scoped(&n.ty).is_some())
        .collect()
}

/// Whether objects of this type are named per region (a secret, a queue) rather than
/// account-wide (IAM, S3 bucket names).
pub fn is_regional(ty: &str) -> bool {
    !matches!(
        ty,
        "aws_iam_role"
            | "aws_iam_policy"
            | "aws_iam_user"
            | "aws_iam_instance_profile"
            | "aws_s3_bucket"
    )
}

/// The region of the AWS provider configuration a block uses, when it evaluates.
pub fn region_of(s: &Workspace, an: &Analysis, at: BlockAt, pass: usize) -> Option<String> {
    let pc = an.provider_of(s, at)?;
    let e = an.hcl(s, pc)?.body.get_attribute("region")?;
    an.eval(s, pass, pc.inst, &e.value)
        .as_str()
        .map(str::to_owned)
}

/// Whether a literal is an obvious placeholder or documentation example rather than a real
/// identity: `123456789012`, `<ACCOUNT_ID>`, `${…}`, `{{ … }}`, `example.com`, `CHANGE_ME`.
pub fn is_placeholder(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    const ACCOUNTS: &[&str] = &[
        "123456789012",
        "111111111111",
        "000000000000",
        "111122223333",
        "444455556666",
        "999999999999",
        "012345678901",
        "210987654321",
        "098765432109",
    ];
    ACCOUNTS.iter().any(|a| t.contains(a))
        || t.contains('<')
        || t.contains("${")
        || t.contains("{{")
        || t.contains("example")
        || t.contains("changeme")
        || t.contains("change_me")
        || t.contains("replace")
        || t.contains("xxxx")
        || t.contains("your-")
        || t.contains("my-cluster")
}

/// The (account ID, role name) of an IAM role ARN.
pub fn role_arn(text: &str) -> Option<(&str, &str)> {
    let rest = text.strip_prefix("arn:")?;
    let (_, rest) = rest.split_once(':')?; // partition
    let rest = rest.strip_prefix("iam::")?;
    let (account, rest) = rest.split_once(':')?;
    let name = rest.strip_prefix("role/")?;
    let name = name.rsplit('/').next()?;
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) && !name.is_empty())
        .then_some((account, name))
}

/// The first label of an RDS endpoint host (`NAME.HASH.REGION.rds.amazonaws.com`).
pub fn rds_host_label(text: &str) -> Option<&str> {
    let host = text
        .split("://")
        .last()
        .unwrap_or(text)
        .split(['/', ':', '@'])
        .find(|p| p.contains(".rds.amazonaws.com"))?;
    let labels: Vec<&str> = host.split('.').collect();
    (labels.len() >= 6 && labels[labels.len() - 3] == "rds").then_some(labels[0])
}

/// Where the value of an expression is written: for `var.NAME`, the tfvars attribute that
/// sets it (the last file wins, as Terraform reads them) or the module call's argument,
/// followed up to the root; `None` when it is not a plain variable reference.
pub fn where_set(
    s: &Workspace,
    an: &Analysis,
    inst: usize,
    e: &Expression,
    depth: usize,
) -> Option<Span> {
    use hcl_edit::Span as _;
    if depth > 16 {
        return None;
    }
    let refs = crate::model::terraform::expr::references(e);
    let [r] = refs.as_slice() else { return None };
    if !matches!(e, Expression::Traversal(_)) || r.root != "var" {
        return None;
    }
    let name = r.attrs.first()?;
    let tf = s.terraform();
    match an.insts[inst].parent {
        Some((parent, call)) => {
            let at = BlockAt {
                inst: parent,
                block: call,
            };
            let arg = an.hcl(s, at)?.body.get_attribute(name)?;
            where_set(s, an, parent, &arg.value, depth + 1)
                .or_else(|| Some(an.span(s, at, arg.value.span())))
        }
        None => {
            let module = an.module(tf, inst);
            module
                .var_files
                .iter()
                .rev()
                .find_map(|&f| match s.repo.syntax(f) {
                    crate::parse::Syntax::Hcl(body) => body
                        .get_attribute(name)
                        .and_then(|a| a.value.span())
                        .map(|r| s.repo.file(f).span(r)),
                    _ => None,
                })
        }
    }
}

/// The (account ID, region, repository) of an ECR image reference:
/// `ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPO[:TAG|@DIGEST]` (`REPO` may hold slashes).
pub fn ecr_image(text: &str) -> Option<(&str, &str, &str)> {
    let (host, path) = text.trim().split_once('/')?;
    let (account, rest) = host.split_once(".dkr.ecr.")?;
    let region = rest
        .strip_suffix(".amazonaws.com")
        .or_else(|| rest.strip_suffix(".amazonaws.com.cn"))?;
    let repo = path.split(['@', ':']).next()?;
    (account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && !region.is_empty()
        && !repo.is_empty())
    .then_some((account, region, repo))
}

/// The account IDs in the ARNs written in the files of the modules a root reaches
/// (`arn:aws:iam::210987654322:role/x`), placeholders left out.
pub fn arn_accounts(s: &Workspace, an: &Analysis, root: usize) -> Vec<String> {
    let tf = s.terraform();
    let mut out = Vec::new();
    for m in tf.reachable(an.insts[root].module) {
        for &f in &tf.module(m).files {
            let text = &s.repo.file(f).text;
            let mut rest: &str = text;
            while let Some(i) = rest.find("arn:aws") {
                rest = &rest[i + 4..];
                // partition:service:region:account:
                let mut fields = rest.splitn(5, ':');
                let (_, _, _, Some(account)) =
                    (fields.next(), fields.next(), fields.next(), fields.next())
                else {
                    continue;
                };
                if account.len() == 12
                    && account.bytes().all(|b| b.is_ascii_digit())
                    && !is_placeholder(account)
                {
                    out.push(account.to_string());
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The AWS account IDs a root is pinned to: its AWS providers' `allowed_account_ids`, and
/// the value of an `account_id` / `aws_account_id` variable. Placeholders are left out.
pub fn root_accounts(s: &Workspace, an: &Analysis, root: usize) -> Vec<String> {
    let tf = s.terraform();
    let mut out = Vec::new();
    let Some(&pass) = an.selected.first() else {
        return out;
    };
    let mut add = |v: &Value| {
        let mut push = |x: &Value| {
            if let Some(a) = x.as_str()
                && a.len() == 12
                && a.bytes().all(|b| b.is_ascii_digit())
                && !is_placeholder(a)
            {
                out.push(a.to_string());
            }
        };
        match v {
            Value::List(items) => items.iter().for_each(&mut push),
            other => push(other),
        }
    };
    let module = an.module(tf, root);
    for at in an.blocks_of_root(tf, root).filter(|at| at.inst == root) {
        let tb = &module.blocks[at.block];
        if tb.kind == BlockKind::Provider
            && tb.type_name == "aws"
            && let Some(a) = an
                .hcl(s, at)
                .and_then(|b| b.body.get_attribute("allowed_account_ids"))
        {
            add(&an.eval(s, pass, root, &a.value));
        }
    }
    for name in ["account_id", "aws_account_id"] {
        if module.variables().any(|v| v.name == name)
            && let Ok(e) = format!("var.{name}").parse::<Expression>()
        {
            add(&an.eval(s, pass, root, &e));
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Resource types that name an EKS cluster they do not create, by `cluster_name`.
pub const CLUSTER_CONSUMERS: &[&str] = &[
    "aws_eks_access_entry",
    "aws_eks_access_policy_association",
    "aws_eks_pod_identity_association",
    "aws_eks_addon",
    "aws_eks_node_group",
    "aws_eks_fargate_profile",
];

/// A string literal in what an Application deploys (manifests, Helm values, Helm
/// parameters), with the cluster groups it is deployed to. YAML comments are not values.
#[derive(Debug, Clone)]
pub struct Literal {
    /// The last key that is not a sequence item (`domainFilters` for `domainFilters[0]`),
    /// the one above it, and the last path component as written (`[]` for a sequence
    /// item; a parameter's last dotted part). Interned: literals share their keys.
    key: Arc<str>,
    parent_key: Arc<str>,
    last: Arc<str>,
    pub value: String,
    pub span: Span,
    pub groups: Vec<GroupId>,
    /// A Helm parameter (`spec.source.helm.parameters`) rather than a values tree.
    pub parameter: bool,
}

impl Literal {
    /// The last key (the sequence item's key for `domainFilters[0]`).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The key right above the last one.
    pub fn parent_key(&self) -> &str {
        &self.parent_key
    }

    /// The last component of the path as written (`[]` for a sequence item).
    pub fn last(&self) -> &str {
        &self.last
    }

    /// Whether the check looks at it: its file is in scope, or one of its cluster groups.
    pub fn in_scope(&self, s: &Workspace) -> bool {
        s.in_scope(&s.repo.file(self.span.file).rel_path)
            || self.groups.iter().any(|g| s.gitops_group_in_scope(*g))
    }
}

/// The (key, parent key, last component) of a path of keys, `[]` for sequence items.
fn tail_keys<'k>(path: &[&'k str]) -> (&'k str, &'k str, &'k str) {
    let mut keys = path.iter().rev().filter(|k| **k != "[]");
    let key = keys.next().copied().unwrap_or("");
    let parent = keys.next().copied().unwrap_or("");
    (key, parent, path.last().copied().unwrap_or(""))
}

/// Interned key strings: a few distinct keys serve every literal.
#[derive(Default)]
struct Interner(HashMap<Box<str>, Arc<str>>);

impl Interner {
    fn get(&mut self, k: &str) -> Arc<str> {
        if let Some(a) = self.0.get(k) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(k);
        self.0.insert(k.into(), a.clone());
        a
    }
}

/// Deepest YAML nesting walked.
const MAX_YAML_DEPTH: usize = 64;

fn walk_literals<'a>(
    y: Yaml<'a>,
    path: &mut Vec<&'a str>,
    seen: &mut HashSet<crate::parse::yaml::NodeId>,
    out: &mut Vec<((&'a str, &'a str, &'a str), String, Span)>,
) {
    if path.len() > MAX_YAML_DEPTH || (y.doc.has_aliases() && !seen.insert(y.resolved().id)) {
        return;
    }
    if y.is_seq() {
        for item in y.items() {
            path.push("[]");
            walk_literals(item, path, seen, out);
            path.pop();
        }
    } else if y.is_map() {
        for (k, v) in y.entries() {
            let Some(k) = k.as_str() else { continue };
            path.push(k);
            walk_literals(v, path, seen, out);
            path.pop();
        }
    } else if let Some(v) = y.as_string() {
        let keys = tail_keys(path);
        if may_name_identity(keys.0, keys.1, v) {
            out.push((keys, v.to_string(), y.span()));
        }
    }
}

/// Whether a deployed scalar (under `key`, itself under `parent_key`) may name an identity
/// the rules compare with what Terraform computes: an ARN, an AWS endpoint or image
/// (`….amazonaws.com`), or a value under a key that names a cluster, a domain filter or a
/// remote secret's key. The others (most of every values file) are not kept: a model of
/// every string deployed would hold several times the text it came from.
pub fn may_name_identity(key: &str, parent_key: &str, value: &str) -> bool {
    value.starts_with("arn:")
        || value.contains(".amazonaws.com")
        || is_cluster_key(key)
        || key == "domainFilters"
        || (key == "key" && matches!(parent_key, "remoteRef" | "extract"))
}

/// Keys whose value is an EKS cluster name (`autoDiscovery.clusterName`,
/// `settings.clusterName`, `cluster_name` …), compared without case, `-` and `_`.
pub fn is_cluster_key(key: &str) -> bool {
    let is = |name: &str| {
        key.bytes()
            .filter(|b| *b != b'-' && *b != b'_')
            .map(|b| b.to_ascii_lowercase())
            .eq(name.bytes())
    };
    is("clustername") || is("eksclustername")
}

/// Every string literal the Applications of resolved cluster groups deploy that may name
/// an identity ([`may_name_identity`]), and every Helm parameter they set.
pub fn gitops_literals(s: &Workspace, model: &GitopsModel) -> Vec<Literal> {
    // The trees to walk, in the order the Applications first deploy them: the first walk
    // to reach a literal decides its keys, so the order must not depend on a hash.
    let mut nodes: Vec<(NodeRef, Vec<GroupId>)> = Vec::new();
    let mut by_node: HashMap<NodeRef, usize> = HashMap::new();
    let mut deploy = |node: NodeRef, group: GroupId| {
        let i = *by_node.entry(node).or_insert_with(|| {
            nodes.push((node, Vec::new()));
            nodes.len() - 1
        });
        nodes[i].1.push(group);
    };
    let mut params: BTreeMap<(u32, u32, u32), Literal> = BTreeMap::new();
    let mut interner = Interner::default();
    for app in &model.apps {
        if model.group(app.group).unresolved {
            continue;
        }
        for &o in &app.objects {
            deploy(model.object(o).node, app.group);
        }
        for v in &app.values {
            deploy(v.root, app.group);
        }
        for src in &app.sources {
            for (name, value) in &src.helm.parameters {
                let n = name.value.replace("\\.", "\u{0}");
                let path: Vec<String> = n
                    .split('.')
                    .map(|p| {
                        let p = p.replace('\u{0}', ".");
                        match p.split_once('[') {
                            Some((k, _)) => k.to_string(),
                            None => p,
                        }
                    })
                    .collect();
                let parts: Vec<&str> = path.iter().map(String::as_str).collect();
                let (k, parent, last) = tail_keys(&parts);
                let key = (value.span.file.0, value.span.start, value.span.end);
                params
                    .entry(key)
                    .or_insert_with(|| Literal {
                        key: interner.get(k),
                        parent_key: interner.get(parent),
                        last: interner.get(last),
                        value: value.value.clone(),
                        span: value.span,
                        groups: Vec::new(),
                        parameter: true,
                    })
                    .groups
                    .push(app.group);
            }
        }
    }
    let mut by_span: BTreeMap<(u32, u32, u32), Literal> = BTreeMap::new();
    // The walks are independent: in parallel, merged in the same order after. On threads
    // of their own, not rayon's: this runs inside a `OnceLock`'s initialisation, and a
    // rayon worker waiting here could pick up a rule that asks for the same `OnceLock`.
    // The set of nodes seen is cleared between walks, not dropped: it grows once per part.
    let walk = |part: &[(NodeRef, Vec<GroupId>)]| {
        let mut seen = HashSet::new();
        let mut path = Vec::new();
        let mut out = Vec::new();
        for (node, groups) in part {
            let Some(y) = model.yaml(&s.repo, *node) else {
                continue;
            };
            seen.clear();
            path.clear();
            let mut found = Vec::new();
            walk_literals(y, &mut path, &mut seen, &mut found);
            out.push((groups.clone(), found));
        }
        out
    };
    let walked: Vec<(Vec<GroupId>, Vec<_>)> = crate::model::chunks_on_threads(&nodes, walk);
    for (groups, found) in walked {
        for ((k, parent, last), value, span) in found {
            let e = by_span
                .entry((span.file.0, span.start, span.end))
                .or_insert_with(|| Literal {
                    key: interner.get(k),
                    parent_key: interner.get(parent),
                    last: interner.get(last),
                    value,
                    span,
                    groups: Vec::new(),
                    parameter: false,
                });
            e.groups.extend(groups.iter().copied());
        }
    }
    let mut out: Vec<Literal> = by_span.into_values().chain(params.into_values()).collect();
    for l in &mut out {
        l.groups.sort_unstable();
        l.groups.dedup();
    }
    out
}

/// The environments of a literal's cluster groups (none when a group has none).
pub fn literal_envs<'a>(envs: &'a Environments, l: &Literal) -> Vec<&'a str> {
    let mut v: Vec<&str> = l.groups.iter().filter_map(|g| envs.of_group(*g)).collect();
    v.sort_unstable();
    v.dedup();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_and_hosts() {
        assert_eq!(
            role_arn("arn:aws:iam::210987654322:role/goldenpath-idp-eso-role"),
            Some(("210987654322", "goldenpath-idp-eso-role"))
        );
        assert_eq!(role_arn("arn:aws:iam::aws:policy/ReadOnly"), None);
        assert_eq!(
            rds_host_label("goldenpath-dev-platform-dev.cxmcacaams2q.eu-west-2.rds.amazonaws.com"),
            Some("goldenpath-dev-platform-dev")
        );
        assert_eq!(
            rds_host_label("postgres://u@db1.abc.eu-west-2.rds.amazonaws.com:5432/app"),
            Some("db1")
        );
        assert_eq!(rds_host_label("db.internal"), None);
        assert!(is_placeholder("arn:aws:iam::123456789012:role/x"));
        assert!(is_placeholder("<CLUSTER_NAME>"));
        assert!(!is_placeholder("goldenpath-dev-eks"));
    }

    /// What the identity rules look for is kept; the rest of a values file is not.
    #[test]
    fn literals_that_may_name_an_identity() {
        for (key, parent, value) in [
            (
                "role-arn",
                "annotations",
                "arn:aws:iam::210987654322:role/x",
            ),
            ("host", "db", "app.cxmcacaams2q.eu-west-2.rds.amazonaws.com"),
            (
                "repository",
                "image",
                "210987654322.dkr.ecr.eu-west-2.amazonaws.com/web",
            ),
            ("clusterName", "autoDiscovery", "dev-eks"),
            ("cluster_name", "settings", "dev-eks"),
            ("domainFilters", "", "example.org"),
            ("key", "remoteRef", "prod/db"),
            ("key", "extract", "prod/all"),
        ] {
            assert!(may_name_identity(key, parent, value), "{key}: {value}");
        }
        for (key, parent, value) in [
            ("replicaCount", "", "3"),
            ("key", "tolerations", "dedicated"),
            ("name", "cluster", "dev-eks"),
        ] {
            assert!(!may_name_identity(key, parent, value), "{key}: {value}");
        }
    }
}
