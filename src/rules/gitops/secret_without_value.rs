//! `secret-without-value`: an `ExternalSecret` reads an AWS Secrets Manager secret that
//! Terraform creates without any `aws_secretsmanager_secret_version` (the secret has no
//! `AWSCURRENT` value), or asks for a `property` its initial JSON value does not have.

use crate::diagnostic::{Finding, Severity};
use crate::model::gitops::{GitopsModel, GroupId, NodeRef};
use crate::model::terraform::BlockKind;
use crate::model::terraform::analysis::{Analysis, BlockAt, Count, Iter, unknown_text};
use crate::model::terraform::expr::{self, Unknown, Value};
use crate::model::workspace::Workspace;
use crate::parse::yaml::Yaml;
use crate::rules::{Context, Rule};
use crate::source::Span;
use hcl_edit::expr::{Expression, TraversalOperator};
use std::collections::HashSet;
use std::collections::{BTreeMap, BTreeSet, HashMap};

crate::rules::declare_rule! {
    pub struct SecretWithoutValue {
        id: "secret-without-value",
        severity: Severity::Error,
        summary: "An ExternalSecret reads a Secrets Manager secret that Terraform creates without a value, or a property its value lacks",
        fix: None,
    }
}

/// Deepest YAML nesting walked, and deepest chain of Terraform variables/locals followed.
const MAX_DEPTH: usize = 64;

/// A `secretStoreRef` (or `sourceRef.storeRef`).
#[derive(Clone, Debug)]
struct StoreRef {
    kind: Option<String>,
    name: String,
}

/// One read of a remote secret: `remoteRef` or `dataFrom[].extract`.
#[derive(Clone, Debug)]
struct SecretRead {
    key: String,
    key_span: Span,
    property: Option<(String, Span)>,
    /// `None`: no store reference is written around the read.
    store: Option<StoreRef>,
    via: &'static str,
}

/// Every remote-secret read under a node: ExternalSecret manifests, ClusterExternalSecrets,
/// and chart values that template one.
fn reads_under(y: Yaml<'_>, store: Option<StoreRef>, depth: usize, out: &mut Vec<SecretRead>) {
    walk(y, store, depth, out, &mut HashSet::new());
}

/// Each node is visited once: aliases make a document a graph whose paths can be
/// exponentially many (an alias bomb), while its nodes are few.
fn walk(
    y: Yaml<'_>,
    store: Option<StoreRef>,
    depth: usize,
    out: &mut Vec<SecretRead>,
    seen: &mut HashSet<crate::parse::yaml::NodeId>,
) {
    if depth > MAX_DEPTH || !seen.insert(y.resolved().id) {
        return;
    }
    if y.is_seq() {
        for item in y.items() {
            walk(item, store.clone(), depth + 1, out, seen);
        }
        return;
    }
    if !y.is_map() {
        return;
    }
    let store = y
        .get("secretStoreRef")
        .and_then(store_ref)
        .map(Some)
        .unwrap_or(store);
    // `data[].sourceRef.storeRef` overrides the ExternalSecret's store for one item; a
    // `generatorRef` reads no store at all.
    let source = y.get("sourceRef");
    let local_store = match source {
        Some(src) if src.get("generatorRef").is_some() => None,
        Some(src) => Some(src.get("storeRef").and_then(store_ref).or(store.clone())),
        None => Some(store.clone()),
    };
    for (k, v) in y.entries() {
        match k.as_str() {
            Some("remoteRef") => {
                if let Some(s) = &local_store {
                    read_of(v, "remoteRef.key", s.clone(), out);
                }
                continue;
            }
            Some("dataFrom") => {
                for item in v.items() {
                    let item_store = match item.get("sourceRef") {
                        Some(src) if src.get("generatorRef").is_some() => continue,
                        Some(src) => src.get("storeRef").and_then(store_ref).or(store.clone()),
                        None => store.clone(),
                    };
                    if let Some(e) = item.get("extract") {
                        read_of(e, "dataFrom.extract.key", item_store, out);
                    }
                }
                continue;
            }
            _ => {}
        }
        walk(v, store.clone(), depth + 1, out, seen);
    }
}

fn store_ref(r: Yaml<'_>) -> Option<StoreRef> {
    Some(StoreRef {
        name: r.str_at(&["name"])?.to_string(),
        kind: r.str_at(&["kind"]).map(str::to_owned),
    })
}

fn read_of(r: Yaml<'_>, via: &'static str, store: Option<StoreRef>, out: &mut Vec<SecretRead>) {
    let Some((_, key)) = r.get_entry("key") else {
        return;
    };
    let Some(k) = key.as_string() else { return };
    // Tags and other metadata are read, not the value.
    if r.str_at(&["metadataPolicy"]) == Some("Fetch") {
        return;
    }
    out.push(SecretRead {
        key: k.to_string(),
        key_span: key.span(),
        property: r
            .get_entry("property")
            .and_then(|(_, p)| p.as_string().map(|s| (s.to_string(), p.span()))),
        store,
        via,
    });
}

/// What the store of a read is.
enum StoreIs {
    SecretsManager,
    /// Another provider (or AWS Parameter Store): not this rule's business.
    Other,
    /// Not found or not readable: the reason.
    Unknown(String),
}

fn store_provider(y: Yaml<'_>) -> Option<bool> {
    let provider = y.path(&["spec", "provider"])?;
    match provider.get("aws") {
        Some(aws) => Some(aws.str_at(&["service"]) == Some("SecretsManager")),
        None => provider.entries().next().map(|_| false),
    }
}

fn classify_store(
    s: &Workspace,
    model: &GitopsModel,
    tf_stores: &HashMap<(String, String), Vec<Value>>,
    groups: &[GroupId],
    store: &Option<StoreRef>,
) -> StoreIs {
    let Some(store) = store else {
        return StoreIs::Unknown("no `secretStoreRef` is written next to it".into());
    };
    if store.name.contains("{{") || store.name.contains("${") {
        return StoreIs::Unknown(format!("the store name `{}` is a template", store.name));
    }
    let kinds: Vec<&str> = match store.kind.as_deref() {
        Some(k) => vec![k],
        None => vec!["SecretStore", "ClusterSecretStore"],
    };
    let mut verdicts = Vec::new();
    for kind in &kinds {
        let mut objs: Vec<usize> = groups
            .iter()
            .flat_map(|&g| model.deployed(g, kind, &store.name).iter().map(|(_, o)| *o))
            .collect();
        objs.extend(model.defined(kind, &store.name).iter().copied());
        for o in objs {
            if let Some(y) = model.yaml(&s.repo, model.object(o).node) {
                verdicts.push(store_provider(y));
            }
        }
        for m in tf_stores
            .get(&(kind.to_string(), store.name.clone()))
            .into_iter()
            .flatten()
        {
            let aws = m
                .as_object()
                .and_then(|o| o.get("spec"))
                .and_then(|o| o.as_object())
                .and_then(|o| o.get("provider"))
                .and_then(|o| o.as_object());
            verdicts.push(aws.map(|p| match p.get("aws").and_then(|a| a.as_object()) {
                Some(a) => a.get("service").and_then(|v| v.as_str()) == Some("SecretsManager"),
                None => false,
            }));
        }
    }
    if verdicts.contains(&Some(true)) {
        StoreIs::SecretsManager
    } else if !verdicts.is_empty() && verdicts.iter().all(|v| *v == Some(false)) {
        StoreIs::Other
    } else if verdicts.is_empty() {
        StoreIs::Unknown(format!(
            "no {} `{}` is defined in the repository",
            kinds.join(" or "),
            store.name
        ))
    } else {
        StoreIs::Unknown(format!("the provider of `{}` cannot be read", store.name))
    }
}

/// One instance of an `aws_secretsmanager_secret` in one pass.
#[derive(Clone, Debug)]
struct TfSecret {
    at: BlockAt,
    /// Instance address, module path and index included.
    address: String,
    /// The index as written after the address (`[0]`, `["a"]`, or empty).
    index: String,
    name: String,
    pass: usize,
    count: Count,
}

/// An instance of an `aws_secretsmanager_secret_version` (or a rotation) in one pass.
struct TfVersion {
    at: BlockAt,
    iter: Iter,
    pass: usize,
    secret_id: Value,
    count: Count,
    rotation: bool,
}

/// The Terraform side, evaluated once per check.
#[derive(Default)]
struct Secrets {
    by_name: HashMap<String, Vec<TfSecret>>,
    /// `name_prefix` secrets: (block, prefix).
    prefixes: Vec<(BlockAt, String)>,
    versions: Vec<TfVersion>,
    /// Version blocks whose instances cannot be enumerated in a pass: (block, pass, why).
    unenumerable: Vec<(BlockAt, usize, String)>,
    /// Versions and rotations blocks with no instance in a pass.
    gated: Vec<(BlockAt, usize)>,
}

fn index_text(iter: &Iter) -> String {
    match iter {
        Iter::None => String::new(),
        Iter::Count(i) => format!("[{i}]"),
        Iter::Each(k, _) => format!("[{k}]"),
    }
}

fn collect_secrets(s: &Workspace, an: &Analysis) -> Secrets {
    let tf = s.terraform();
    let mut out = Secrets::default();
    for &root in &an.roots {
        for at in an.blocks_of_root(tf, root) {
            let tb = &an.module(tf, at.inst).blocks[at.block];
            if tb.kind != BlockKind::Resource {
                continue;
            }
            let ty = tb.type_name.as_str();
            if !matches!(
                ty,
                "aws_secretsmanager_secret"
                    | "aws_secretsmanager_secret_version"
                    | "aws_secretsmanager_secret_rotation"
            ) {
                continue;
            }
            let Some(block) = an.hcl(s, at) else { continue };
            for &pass in &an.selected {
                let inst_count = an.inst_count(s, pass, at.inst);
                if inst_count.is_zero() {
                    if ty != "aws_secretsmanager_secret" {
                        out.gated.push((at, pass));
                    }
                    continue;
                }
                let iters = match an.iters(s, pass, at) {
                    Ok(v) => v,
                    Err(u) => {
                        if ty != "aws_secretsmanager_secret" {
                            out.unenumerable.push((at, pass, unknown_text(&u)));
                        } else {
                            s.verbose(format!(
                                "{}: the secret's instances cannot be enumerated: {}",
                                an.address(tf, at),
                                unknown_text(&u)
                            ));
                        }
                        continue;
                    }
                };
                if iters.is_empty() && ty != "aws_secretsmanager_secret" {
                    out.gated.push((at, pass));
                }
                for iter in iters {
                    if ty == "aws_secretsmanager_secret" {
                        let attr = |n: &str| {
                            block
                                .body
                                .get_attribute(n)
                                .map(|a| an.eval_iter(s, pass, at.inst, iter.clone(), &a.value))
                        };
                        match (attr("name"), attr("name_prefix")) {
                            (Some(Value::String(name)), _) => {
                                let index = index_text(&iter);
                                out.by_name.entry(name.clone()).or_default().push(TfSecret {
                                    at,
                                    address: format!("{}{index}", an.address(tf, at)),
                                    index,
                                    name,
                                    pass,
                                    count: inst_count.clone(),
                                });
                            }
                            (None, Some(Value::String(prefix)))
                                if !out.prefixes.iter().any(|(b, p)| *b == at && *p == prefix) =>
                            {
                                out.prefixes.push((at, prefix));
                            }
                            (Some(Value::Unknown(u)), _) | (None, Some(Value::Unknown(u))) => {
                                s.verbose(format!(
                                    "{}: the secret's name cannot be evaluated: {}",
                                    an.address(tf, at),
                                    unknown_text(&u)
                                ));
                            }
                            _ => {}
                        }
                    } else {
                        let secret_id = block
                            .body
                            .get_attribute("secret_id")
                            .map(|a| an.eval_iter(s, pass, at.inst, iter.clone(), &a.value))
                            .unwrap_or(Value::Null);
                        out.versions.push(TfVersion {
                            at,
                            iter,
                            pass,
                            secret_id,
                            count: inst_count.clone(),
                            rotation: ty == "aws_secretsmanager_secret_rotation",
                        });
                    }
                }
            }
        }
    }
    out
}

/// The secret name an ARN names (`arn:aws:secretsmanager:…:secret:NAME-AbCdEf`).
fn arn_names(arn: &str) -> Vec<&str> {
    let Some((_, rest)) = arn.split_once(":secret:") else {
        return Vec::new();
    };
    let mut v = vec![rest];
    if let Some((name, suffix)) = rest.rsplit_once('-')
        && suffix.len() == 6
    {
        v.push(name);
    }
    v
}

/// Whether a version's `secret_id` names a secret instance: `Some(true)` yes, `Some(false)`
/// no, `None` cannot tell.
fn names_secret(
    s: &Workspace,
    an: &Analysis,
    deps: &mut HashMap<BlockAt, BTreeSet<BlockAt>>,
    v: &TfVersion,
    secret: &TfSecret,
) -> Option<bool> {
    match &v.secret_id {
        Value::String(lit) => {
            Some(*lit == secret.name || arn_names(lit).contains(&secret.name.as_str()))
        }
        Value::Unknown(Unknown::AtApply { origin })
            if *origin == format!("{}.id", secret.address)
                || *origin == format!("{}.arn", secret.address) =>
        {
            Some(true)
        }
        Value::Unknown(u) => {
            // Another instance of the same secret block.
            let block = an.address(s.terraform(), secret.at);
            if let Unknown::AtApply { origin } = u
                && origin
                    .strip_prefix(block.as_str())
                    .is_some_and(|rest| rest.starts_with('[') || rest.starts_with('.'))
            {
                return Some(false);
            }
            // Another origin: the secret itself behind a function, or a data source
            // reading a secret by name.
            let d = version_deps(s, an, deps, v.at);
            let refers = d.contains(&secret.at);
            // A data source reading the secret by name.
            let tf = s.terraform();
            for &b in d {
                let tb = &an.module(tf, b.inst).blocks[b.block];
                if tb.kind == BlockKind::Data && tb.type_name == "aws_secretsmanager_secret" {
                    let by = an.hcl(s, b).and_then(|h| {
                        h.body
                            .get_attribute("name")
                            .or_else(|| h.body.get_attribute("arn"))
                            .map(|a| an.eval(s, v.pass, b.inst, &a.value))
                    });
                    match by {
                        Some(Value::String(n))
                            if n == secret.name
                                || arn_names(&n).contains(&secret.name.as_str()) =>
                        {
                            return Some(true);
                        }
                        Some(Value::String(_)) => {}
                        _ => return None,
                    }
                }
            }
            if refers { None } else { Some(false) }
        }
        _ => Some(false),
    }
}

fn version_deps<'a>(
    s: &Workspace,
    an: &Analysis,
    cache: &'a mut HashMap<BlockAt, BTreeSet<BlockAt>>,
    at: BlockAt,
) -> &'a BTreeSet<BlockAt> {
    cache.entry(at).or_insert_with(|| {
        let e = an
            .hcl(s, at)
            .and_then(|b| b.body.get_attribute("secret_id"))
            .map(|a| &a.value);
        an.dependencies(s, at.inst, &e.into_iter().collect::<Vec<_>>())
    })
}

/// The initial value's JSON object, when the version's `secret_string` can be read as one:
/// `Ok(object)`, `Err(why it is not a JSON object)`; `None` when it cannot be evaluated.
fn initial_json(s: &Workspace, an: &Analysis, v: &TfVersion) -> Option<Result<Value, String>> {
    let block = an.hcl(s, v.at)?;
    if block.body.get_attribute("secret_binary").is_some() {
        return None;
    }
    let e = &block.body.get_attribute("secret_string")?.value;
    json_of(s, an, v.pass, v.at.inst, v.iter.clone(), e, 0)
}

fn json_of(
    s: &Workspace,
    an: &Analysis,
    pass: usize,
    inst: usize,
    iter: Iter,
    e: &Expression,
    depth: usize,
) -> Option<Result<Value, String>> {
    if depth > MAX_DEPTH {
        return None;
    }
    let mut e = e;
    while let Expression::Parenthesis(p) = e {
        e = p.inner();
    }
    if let Expression::FuncCall(call) = e
        && call.name.namespace.is_empty()
        && call.name.name.as_str() == "jsonencode"
        && let Some(arg) = call.args.iter().next()
    {
        return match an.eval_iter(s, pass, inst, iter, arg) {
            o @ Value::Object(_) => Some(Ok(o)),
            Value::Unknown(_) => None,
            other => Some(Err(format!("it encodes a {}", other.type_name()))),
        };
    }
    match an.eval_iter(s, pass, inst, iter.clone(), e) {
        Value::String(text) => Some(match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(j @ serde_json::Value::Object(_)) => Ok(Value::from_json(&j)),
            _ => Err("it is not a JSON object".to_string()),
        }),
        Value::Unknown(_) => {
            // Follow `var.x` into the module call and `local.x` to its definition, where a
            // `jsonencode({...})` with values known only after apply still has its keys.
            let Expression::Traversal(t) = e else {
                return None;
            };
            let Expression::Variable(root) = &t.expr else {
                return None;
            };
            let [op] = t.operators.as_slice() else {
                return None;
            };
            let TraversalOperator::GetAttr(name) = op.value() else {
                return None;
            };
            let name = name.value().as_str();
            let tf = s.terraform();
            match root.value().as_str() {
                "var" => {
                    let (parent, call) = an.insts[inst].parent?;
                    let call = an.hcl(
                        s,
                        BlockAt {
                            inst: parent,
                            block: call,
                        },
                    )?;
                    let arg = &call.body.get_attribute(name)?.value;
                    json_of(s, an, pass, parent, Iter::None, arg, depth + 1)
                }
                "local" => {
                    let def = an.module(tf, inst).local(name)?;
                    let le = tf.local_expr(&s.repo, def)?;
                    json_of(s, an, pass, inst, Iter::None, le, depth + 1)
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// Whether an ESO `property` (a key, or a gjson path `a.b`) is in the object. `None`: cannot
/// tell.
fn has_property(obj: &Value, property: &str) -> Option<bool> {
    let map = obj.as_object()?;
    if map.contains_key(property) {
        return Some(true);
    }
    let mut cur = obj;
    for seg in property.split('.') {
        match cur {
            Value::Object(m) => match m.get(seg) {
                Some(v) => cur = v,
                None => return Some(false),
            },
            Value::Unknown(_) => return None,
            _ => return Some(false),
        }
    }
    Some(true)
}

/// A version's initial value as a JSON object (see [`initial_json`]).
type InitialJson = Option<Result<Value, String>>;

/// How one Terraform secret fares for one read.
enum Verdict {
    /// A version sets it; its initial JSON value when known.
    HasValue(Option<Result<Value, String>>, BlockAt),
    /// No version: the version blocks gated to zero that would set it.
    NoValue(Vec<BlockAt>),
    CannotTell(String),
}

fn verdict(
    s: &Workspace,
    an: &Analysis,
    secrets: &Secrets,
    deps: &mut HashMap<BlockAt, BTreeSet<BlockAt>>,
    secret: &TfSecret,
) -> Verdict {
    let tf = s.terraform();
    let mut unsure = None;
    let mut found: Option<(Option<Result<Value, String>>, BlockAt)> = None;
    for v in secrets.versions.iter().filter(|v| v.pass == secret.pass) {
        match names_secret(s, an, deps, v, secret) {
            Some(true) => match &v.count {
                Count::Known(0) => {}
                Count::Known(_) => {
                    let json = if v.rotation {
                        None
                    } else {
                        initial_json(s, an, v)
                    };
                    if found
                        .as_ref()
                        .is_none_or(|(j, _)| j.is_none() && json.is_some())
                    {
                        found = Some((json, v.at));
                    }
                }
                Count::Unknown(u) => {
                    unsure.get_or_insert(format!(
                        "whether `{}` is created cannot be told: {}",
                        an.address(tf, v.at),
                        unknown_text(u)
                    ));
                }
            },
            Some(false) => {}
            None => {
                unsure.get_or_insert(format!(
                    "the `secret_id` of `{}` cannot be evaluated",
                    an.address(tf, v.at)
                ));
            }
        }
    }
    if let Some((json, at)) = found {
        return Verdict::HasValue(json, at);
    }
    for (at, pass, why) in &secrets.unenumerable {
        if *pass == secret.pass && version_deps(s, an, deps, *at).contains(&secret.at) {
            unsure.get_or_insert(format!(
                "the instances of `{}` cannot be enumerated: {why}",
                an.address(tf, *at)
            ));
        }
    }
    if let Some(u) = unsure {
        return Verdict::CannotTell(u);
    }
    let gated = secrets
        .gated
        .iter()
        .filter(|(at, pass)| {
            *pass == secret.pass && version_deps(s, an, deps, *at).contains(&secret.at)
        })
        .map(|(at, _)| *at)
        .collect();
    Verdict::NoValue(gated)
}

/// `{ password = "CHANGE_ME", username = "CHANGE_ME" }` for the properties asked for.
fn placeholder_object(properties: &BTreeSet<String>) -> String {
    if properties.is_empty() {
        return "{ KEY = \"CHANGE_ME\" }".to_string();
    }
    let parts: Vec<String> = properties
        .iter()
        .map(|p| {
            let ident = p
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                && !p.starts_with(|c: char| c.is_ascii_digit() || c == '-');
            if ident {
                format!("{p} = \"CHANGE_ME\"")
            } else {
                format!("{} = \"CHANGE_ME\"", expr::quote_string(p))
            }
        })
        .collect();
    format!("{{ {} }}", parts.join(", "))
}

/// A read with the cluster groups of the Applications that deploy it.
struct Located {
    read: SecretRead,
    groups: Vec<GroupId>,
    app: Option<String>,
}

fn collect_reads(s: &Workspace, model: &GitopsModel) -> Vec<Located> {
    let repo = &s.repo;
    let mut obj_groups: HashMap<usize, Vec<(GroupId, String)>> = HashMap::new();
    let mut values: BTreeMap<usize, Vec<(GroupId, String)>> = BTreeMap::new();
    let mut value_roots: Vec<NodeRef> = Vec::new();
    for app in &model.apps {
        for &o in &app.objects {
            obj_groups
                .entry(o)
                .or_default()
                .push((app.group, app.name.clone()));
        }
        for v in &app.values {
            let pos = match value_roots.iter().position(|r| *r == v.root) {
                Some(p) => p,
                None => {
                    value_roots.push(v.root);
                    value_roots.len() - 1
                }
            };
            values
                .entry(pos)
                .or_default()
                .push((app.group, app.name.clone()));
        }
    }
    let mut by_span: BTreeMap<(u32, u32, u32), Located> = BTreeMap::new();
    let mut add = |reads: Vec<SecretRead>, deployers: &[(GroupId, String)]| {
        for r in reads {
            let key = (r.key_span.file.0, r.key_span.start, r.key_span.end);
            let entry = by_span.entry(key).or_insert_with(|| Located {
                read: r,
                groups: Vec::new(),
                app: None,
            });
            for (g, name) in deployers {
                if !entry.groups.contains(g) {
                    entry.groups.push(*g);
                }
                entry.app.get_or_insert_with(|| name.clone());
            }
        }
    };
    for (id, obj) in model.objects.iter().enumerate() {
        if !obj.api_version.starts_with("external-secrets.io/")
            || !matches!(
                obj.kind.as_str(),
                "ExternalSecret" | "ClusterExternalSecret"
            )
        {
            continue;
        }
        let Some(y) = model.yaml(repo, obj.node) else {
            continue;
        };
        let mut reads = Vec::new();
        reads_under(y, None, 0, &mut reads);
        add(reads, obj_groups.get(&id).map_or(&[], Vec::as_slice));
    }
    for (pos, deployers) in &values {
        let Some(y) = model.yaml(repo, value_roots[*pos]) else {
            continue;
        };
        let mut reads = Vec::new();
        reads_under(y, None, 0, &mut reads);
        add(reads, deployers);
    }
    by_span.into_values().collect()
}

impl Rule for SecretWithoutValue {
    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let s = cx.session;
        let model = s.gitops();
        let reads: Vec<Located> = collect_reads(s, model)
            .into_iter()
            .filter(|l| {
                s.in_scope(&s.repo.file(l.read.key_span.file).rel_path)
                    || l.groups.iter().any(|&g| s.gitops_group_in_scope(g))
            })
            .filter(|l| !l.read.key.contains("{{") && !l.read.key.contains("${"))
            .collect();
        if reads.is_empty() {
            return Vec::new();
        }
        let an = s.terraform_analysis_all();
        let secrets = collect_secrets(s, an);
        if secrets.by_name.is_empty() && secrets.prefixes.is_empty() {
            return Vec::new();
        }
        let mut tf_stores: HashMap<(String, String), Vec<Value>> = HashMap::new();
        if reads.iter().any(|l| l.read.store.is_some()) {
            for m in an.manifest_objects(s) {
                if !m.count.is_zero()
                    && let Some(k) = m.kind_and_name()
                {
                    tf_stores.entry(k).or_default().push(m.manifest);
                }
            }
        }
        // Properties asked for, per secret name (for the suggested initial value).
        let mut asked: HashMap<String, BTreeSet<String>> = HashMap::new();
        for l in &reads {
            let e = asked.entry(l.read.key.clone()).or_default();
            if let Some((p, _)) = &l.read.property {
                e.insert(p.split('.').next().unwrap_or(p).to_string());
            }
        }
        let mut deps = HashMap::new();
        let mut findings = Vec::new();
        for l in &reads {
            let store = match classify_store(s, model, &tf_stores, &l.groups, &l.read.store) {
                StoreIs::Other => continue,
                StoreIs::SecretsManager => None,
                StoreIs::Unknown(why) => Some(why),
            };
            if let Some(f) = check_read(cx, an, &secrets, &mut deps, l, store, &asked) {
                findings.push(f);
            }
        }
        findings
    }
}

fn secret_names_of(key: &str) -> Vec<&str> {
    if key.starts_with("arn:") {
        arn_names(key)
    } else {
        vec![key]
    }
}

fn check_read(
    cx: &Context<'_>,
    an: &Analysis,
    secrets: &Secrets,
    deps: &mut HashMap<BlockAt, BTreeSet<BlockAt>>,
    l: &Located,
    store_unknown: Option<String>,
    asked: &HashMap<String, BTreeSet<String>>,
) -> Option<Finding> {
    let s = cx.session;
    let tf = s.terraform();
    let r = &l.read;
    let store_note = store_unknown
        .as_ref()
        .map(|why| format!(" (if its store is AWS Secrets Manager: {why})"))
        .unwrap_or_default();
    let with_app = |f: Finding| match &l.app {
        Some(a) => f.with_address(a.clone()),
        None => f,
    };
    let candidates: Vec<&TfSecret> = secret_names_of(&r.key)
        .into_iter()
        .flat_map(|n| secrets.by_name.get(n).into_iter().flatten())
        .collect();
    if candidates.is_empty() {
        let (at, prefix) = secrets
            .prefixes
            .iter()
            .find(|(_, p)| r.key.starts_with(p.as_str()))?;
        let address = an.address(tf, *at);
        return Some(with_app(
            cx.note(
                r.key_span,
                format!(
                    "cannot tell whether `{}` is the secret `{address}` creates: its name is generated from `name_prefix = \"{prefix}\"`",
                    r.key
                ),
            )
            .with_label(an.span(s, *at, None), "creates a secret with a generated name")
            .with_help("give the secret a fixed `name` so that the ExternalSecret can name it"),
        ));
    }
    // Per created instance: the last selected pass where it exists decides.
    let mut latest: BTreeMap<String, &TfSecret> = BTreeMap::new();
    let mut unsure_count: Option<(&TfSecret, String)> = None;
    for c in &candidates {
        match &c.count {
            Count::Known(0) => {}
            Count::Known(_) => {
                let e = latest.entry(c.address.clone()).or_insert(c);
                if c.pass >= e.pass {
                    *e = c;
                }
            }
            Count::Unknown(u) => {
                unsure_count.get_or_insert((c, unknown_text(u)));
            }
        }
    }
    if latest.is_empty() {
        let (c, why) = unsure_count?;
        return Some(with_app(
            cx.note(
                r.key_span,
                format!(
                    "cannot tell whether Terraform creates the secret `{}` read here (`{}`): {why}",
                    r.key, c.address
                ),
            )
            .with_label(an.span(s, c.at, None), "may create the secret"),
        ));
    }
    let mut missing: Option<(&TfSecret, Vec<BlockAt>)> = None;
    let mut unsure: Option<(&TfSecret, String)> = None;
    let mut with_value: Vec<(&TfSecret, InitialJson, BlockAt)> = Vec::new();
    for c in latest.values() {
        match verdict(s, an, secrets, deps, c) {
            Verdict::HasValue(json, v) => with_value.push((c, json, v)),
            Verdict::NoValue(gated) => {
                missing.get_or_insert((c, gated));
            }
            Verdict::CannotTell(why) => {
                unsure.get_or_insert((c, why));
            }
        }
    }
    let pass_phrase = |p: usize| {
        if an.passes.len() > 1 {
            format!(" {}", an.passes[p].phrase())
        } else {
            String::new()
        }
    };
    if !with_value.is_empty() {
        let (property, pspan) = r.property.as_ref()?;
        // Report only when every value that may be read is known and lacks the property.
        let mut lacking = None;
        for (c, json, v) in &with_value {
            match json {
                Some(Ok(obj)) => match has_property(obj, property) {
                    Some(false) => {
                        let keys: Vec<&str> = obj
                            .as_object()
                            .map(|m| m.keys().map(String::as_str).collect())
                            .unwrap_or_default();
                        lacking.get_or_insert((c, v, format!("its keys are {}", keys_text(&keys))));
                    }
                    _ => return None,
                },
                Some(Err(why)) => {
                    lacking.get_or_insert((c, v, why.clone()));
                }
                None => return None,
            }
        }
        let (c, v, why) = lacking?;
        let mut props = asked.get(&r.key).cloned().unwrap_or_default();
        if let Some(Some(Ok(Value::Object(m)))) = with_value.first().map(|w| &w.1) {
            props.extend(m.keys().cloned());
        }
        return Some(with_app(
            cx.finding(
                *pspan,
                format!(
                    "property `{property}` is not in the initial value of `{}`{}: {why}{store_note}",
                    r.key,
                    pass_phrase(c.pass)
                ),
            )
            .with_span_label("the ExternalSecret asks for this property")
            .with_label(r.key_span, "of this secret")
            .with_label(an.span(s, *v, None), "sets the initial value without it")
            .with_help(format!(
                "add `{property}` to the initial value, e.g. `secret_string = jsonencode({})`, or fix the property name",
                placeholder_object(&props)
            )),
        ));
    }
    if let Some((c, why)) = unsure {
        return Some(with_app(
            cx.note(
                r.key_span,
                format!(
                    "cannot tell whether the secret `{}` that `{}` creates has a value{}: {why}",
                    r.key,
                    c.address,
                    pass_phrase(c.pass)
                ),
            )
            .with_label(an.span(s, c.at, None), "creates the secret"),
        ));
    }
    let (c, gated) = missing?;
    let props = asked.get(&r.key).cloned().unwrap_or_default();
    let mut f = cx
        .finding(
            r.key_span,
            format!(
                "`{}` reads the secret `{}`, which Terraform creates (`{}`) without an active `aws_secretsmanager_secret_version`{}: it has no AWSCURRENT value and the ExternalSecret cannot sync{store_note}",
                r.via,
                r.key,
                c.address,
                pass_phrase(c.pass)
            ),
        )
        .with_span_label("the ExternalSecret reads this secret")
        .with_label(an.span(s, c.at, None), "creates the secret with no value");
    for g in &gated {
        f = f.with_label(
            an.span(s, *g, None),
            format!("gated to zero{}", pass_phrase(c.pass)),
        );
    }
    let module = an.module(tf, c.at.inst);
    let initial = ["initial_value", "secret_string", "initial_secret_string"]
        .into_iter()
        .find(|v| module.block(&format!("var.{v}")).is_some());
    let help = match (initial, an.insts[c.at.inst].parent) {
        (Some(var), Some((p, b))) => {
            let call = BlockAt { inst: p, block: b };
            f = f.with_label(
                an.span(s, call, None),
                format!("does not set the module's `{var}`"),
            );
            format!(
                "set the module's `{var}` input on `{}` ({}): `{var} = jsonencode({})`; the real value can replace the placeholder later",
                an.address(tf, call),
                s.repo.file(module_file(an, s, call)).rel_path,
                placeholder_object(&props)
            )
        }
        _ => {
            let tb = &module.blocks[c.at.block];
            format!(
                "add a version next to `{}` ({}):\nresource \"aws_secretsmanager_secret_version\" \"{}\" {{\n  secret_id     = {}{}.id\n  secret_string = jsonencode({})\n}}",
                tb.address(),
                s.repo.file(tb.at.file).rel_path,
                tb.name,
                tb.address(),
                c.index,
                placeholder_object(&props)
            )
        }
    };
    Some(with_app(f.with_help(help)))
}

fn module_file(an: &Analysis, s: &Workspace, at: BlockAt) -> crate::source::FileId {
    an.module(s.terraform(), at.inst).blocks[at.block].at.file
}

fn keys_text(keys: &[&str]) -> String {
    if keys.is_empty() {
        return "none".to_string();
    }
    keys.iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use crate::testing::{check_rule, check_tree, expect};

    const CONFIG: (&str, &str) = (
        "preflight.toml",
        "[gitops]\nrepo_urls = [\"https://github.com/acme/infra.git\"]\n",
    );

    const APP: (&str, &str) = (
        "apps/app.yaml",
        "apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: app
spec:
  destination:
    server: https://eks.example.com
  source:
    repoURL: https://github.com/acme/infra.git
    targetRevision: HEAD
    path: k8s
",
    );

    fn store(provider: &str) -> String {
        format!(
            "apiVersion: external-secrets.io/v1beta1
kind: ClusterSecretStore
metadata:
  name: aws
spec:
  provider:
{provider}
"
        )
    }

    const AWS_SM: &str = "    aws:\n      service: SecretsManager\n      region: eu-west-1";

    fn external_secret(key: &str, property: &str) -> String {
        format!(
            "apiVersion: external-secrets.io/v1beta1
kind: ExternalSecret
metadata:
  name: db
spec:
  secretStoreRef:
    name: aws
    kind: ClusterSecretStore
  data:
    - secretKey: password
      remoteRef:
        key: {key}
        property: {property}
"
        )
    }

    fn run(tf: &str, es: &str, store_provider: &str) -> Vec<crate::testing::Reported> {
        check_rule(
            "secret-without-value",
            &[
                CONFIG,
                APP,
                ("k8s/es.yaml", es),
                ("k8s/store.yaml", &store(store_provider)),
                ("infra/main.tf", tf),
            ],
        )
    }

    const SECRET: &str = "variable \"env\" {\n  default = \"dev\"\n}\n\nresource \"aws_secretsmanager_secret\" \"db\" {\n  name = \"app/${var.env}/db\"\n}\n";

    #[test]
    fn a_secret_without_version_is_an_error() {
        let f = run(SECRET, &external_secret("app/dev/db", "password"), AWS_SM);
        expect(&f, &[("secret-without-value", "k8s/es.yaml", 12)]);
        assert!(
            f[0].help
                .contains("secret_id     = aws_secretsmanager_secret.db.id")
        );
        assert!(
            f[0].help
                .contains("jsonencode({ password = \"CHANGE_ME\" })")
        );
        assert!(!f[0].message.contains("store"), "{}", f[0].message);
    }

    #[test]
    fn a_version_gives_it_a_value_and_its_keys_are_checked() {
        let tf = format!(
            "{SECRET}\nresource \"aws_secretsmanager_secret_version\" \"db\" {{\n  secret_id     = aws_secretsmanager_secret.db.id\n  secret_string = jsonencode({{ username = \"u\", password = random_password.db.result }})\n}}\n"
        );
        expect(
            &run(&tf, &external_secret("app/dev/db", "password"), AWS_SM),
            &[],
        );
        // A property the initial value lacks: reported at the property.
        let f = run(&tf, &external_secret("app/dev/db", "pass"), AWS_SM);
        expect(&f, &[("secret-without-value", "k8s/es.yaml", 13)]);
        assert!(
            f[0].message.contains("`password`, `username`"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn a_version_gated_to_zero_does_not_count() {
        let tf = format!(
            "{SECRET}\nresource \"aws_secretsmanager_secret_version\" \"db\" {{\n  count         = 0\n  secret_id     = aws_secretsmanager_secret.db.arn\n  secret_string = \"{{}}\"\n}}\n"
        );
        let f = run(&tf, &external_secret("app/dev/db", "password"), AWS_SM);
        expect(&f, &[("secret-without-value", "k8s/es.yaml", 12)]);
        assert!(
            f[0].finding
                .labels
                .iter()
                .any(|l| l.message.contains("gated to zero"))
        );
    }

    #[test]
    fn versions_by_literal_name_and_through_module_outputs() {
        let by_name = format!(
            "{SECRET}\nresource \"aws_secretsmanager_secret_version\" \"db\" {{\n  secret_id     = \"app/dev/db\"\n  secret_string = jsonencode({{ password = \"x\" }})\n}}\n"
        );
        expect(
            &run(&by_name, &external_secret("app/dev/db", "password"), AWS_SM),
            &[],
        );
        let module = "variable \"name\" {}\n\nresource \"aws_secretsmanager_secret\" \"this\" {\n  for_each = toset([\"a\", \"b\"])\n  name     = \"${var.name}/${each.key}\"\n}\n\noutput \"ids\" {\n  value = { for k, s in aws_secretsmanager_secret.this : k => s.id }\n}\n";
        let root = "module \"s\" {\n  source = \"../modules/s\"\n  name   = \"app\"\n}\n\nresource \"aws_secretsmanager_secret_version\" \"a\" {\n  secret_id     = module.s.ids[\"a\"]\n  secret_string = jsonencode({ password = \"x\" })\n}\n";
        let files = [
            CONFIG,
            APP,
            ("k8s/a.yaml", &external_secret("app/a", "password") as &str),
            ("k8s/b.yaml", &external_secret("app/b", "password")),
            ("k8s/store.yaml", &store(AWS_SM)),
            ("infra/main.tf", root),
            ("modules/s/main.tf", module),
        ];
        let f = check_rule("secret-without-value", &files);
        expect(&f, &[("secret-without-value", "k8s/b.yaml", 12)]);
        assert!(
            f[0].help
                .contains("aws_secretsmanager_secret.this[\"b\"].id"),
            "{}",
            f[0].help
        );
    }

    #[test]
    fn secrets_terraform_does_not_create_and_other_stores_are_not_reported() {
        expect(
            &run(
                SECRET,
                &external_secret("app/dev/other", "password"),
                AWS_SM,
            ),
            &[],
        );
        let vault = "    vault:\n      server: https://vault.example.com";
        expect(
            &run(SECRET, &external_secret("app/dev/db", "password"), vault),
            &[],
        );
        let parameter_store = "    aws:\n      service: ParameterStore";
        expect(
            &run(
                SECRET,
                &external_secret("app/dev/db", "password"),
                parameter_store,
            ),
            &[],
        );
    }

    #[test]
    fn an_unknown_store_is_checked_and_said() {
        let f = check_rule(
            "secret-without-value",
            &[
                CONFIG,
                APP,
                ("k8s/es.yaml", &external_secret("app/dev/db", "password")),
                ("infra/main.tf", SECRET),
            ],
        );
        expect(&f, &[("secret-without-value", "k8s/es.yaml", 12)]);
        assert!(
            f[0].message.contains("no ClusterSecretStore `aws`"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn helm_values_extract_and_the_module_initial_value() {
        let module = "variable \"name\" {}\n\nvariable \"initial_value\" {\n  default = null\n}\n\nresource \"aws_secretsmanager_secret\" \"this\" {\n  name = var.name\n}\n\nresource \"aws_secretsmanager_secret_version\" \"this\" {\n  count         = var.initial_value == null ? 0 : 1\n  secret_id     = aws_secretsmanager_secret.this.id\n  secret_string = var.initial_value\n}\n";
        let root = |init: &str| {
            format!(
                "variable \"environment\" {{}}\n\nmodule \"kc\" {{\n  source = \"../../modules/secret\"\n  name   = \"goldenpath/${{var.environment}}/keycloak/postgres\"\n{init}}}\n"
            )
        };
        let app = "apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: keycloak
spec:
  destination:
    server: https://eks.example.com
  sources:
    - repoURL: https://charts.bitnami.com/bitnami
      chart: keycloak
      targetRevision: 1.0.0
      helm:
        valueFiles: [$values/values/keycloak.yaml]
    - repoURL: https://github.com/acme/infra.git
      targetRevision: HEAD
      ref: values
";
        let values = "externalSecret:\n  secretStoreRef:\n    name: aws\n    kind: ClusterSecretStore\n  dataFrom:\n    - extract:\n        key: goldenpath/dev/keycloak/postgres\n";
        let files = |tf: String| {
            vec![
                (CONFIG.0.to_string(), CONFIG.1.to_string()),
                ("apps/keycloak.yaml".into(), app.to_string()),
                ("values/keycloak.yaml".into(), values.to_string()),
                ("k8s/store.yaml".into(), store(AWS_SM)),
                ("envs/dev/main.tf".into(), tf),
                (
                    "envs/dev/terraform.tfvars".into(),
                    "environment = \"dev\"\n".into(),
                ),
                ("modules/secret/main.tf".into(), module.to_string()),
            ]
        };
        let run = |tf: String, paths: &[&str]| {
            let owned = files(tf);
            let refs: Vec<(&str, &str)> = owned
                .iter()
                .map(|(a, b)| (a.as_str(), b.as_str()))
                .collect();
            check_tree(&refs, paths, Default::default())
                .into_iter()
                .filter(|r| r.rule == "secret-without-value")
                .collect::<Vec<_>>()
        };
        let f = run(root(""), &[]);
        expect(&f, &[("secret-without-value", "values/keycloak.yaml", 7)]);
        assert!(
            f[0].help.contains("`initial_value = jsonencode("),
            "{}",
            f[0].help
        );
        // Checking only the values file still finds the Terraform secret.
        expect(
            &run(root(""), &["values"]),
            &[("secret-without-value", "values/keycloak.yaml", 7)],
        );
        // Checking only an unrelated folder reports nothing.
        expect(&run(root(""), &["k8s"]), &[]);
        let fixed = root("  initial_value = jsonencode({ password = \"x\" })\n");
        expect(&run(fixed, &[]), &[]);
    }

    #[test]
    fn a_generated_name_is_a_note() {
        let tf =
            "resource \"aws_secretsmanager_secret\" \"db\" {\n  name_prefix = \"app/dev/db-\"\n}\n";
        let f = run(tf, &external_secret("app/dev/db-x1", "password"), AWS_SM);
        expect(&f, &[("secret-without-value", "k8s/es.yaml", 12)]);
        assert_eq!(f[0].severity, crate::diagnostic::Severity::Note);
    }
}

#[cfg(test)]
mod data_source_tests {
    use crate::testing::{check_rule, expect};

    #[test]
    fn a_version_through_a_data_source_read_at_apply_counts() {
        let tf = "resource \"aws_secretsmanager_secret\" \"db\" {\n  name = \"app/dev/db\"\n}\n\ndata \"aws_secretsmanager_secret\" \"db\" {\n  name       = \"app/dev/db\"\n  depends_on = [aws_secretsmanager_secret.db]\n}\n\nresource \"aws_secretsmanager_secret_version\" \"db\" {\n  secret_id     = data.aws_secretsmanager_secret.db.id\n  secret_string = jsonencode({ password = \"x\" })\n}\n";
        let es = "apiVersion: external-secrets.io/v1beta1\nkind: ExternalSecret\nmetadata:\n  name: db\nspec:\n  data:\n    - secretKey: password\n      remoteRef:\n        key: app/dev/db\n";
        let app = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: app\nspec:\n  destination:\n    server: https://eks.example.com\n  source:\n    repoURL: https://github.com/acme/infra.git\n    targetRevision: HEAD\n    path: k8s\n";
        let f = check_rule(
            "secret-without-value",
            &[
                (
                    "preflight.toml",
                    "[gitops]\nrepo_urls = [\"https://github.com/acme/infra.git\"]\n",
                ),
                ("apps/app.yaml", app),
                ("k8s/es.yaml", es),
                ("infra/main.tf", tf),
            ],
        );
        expect(&f, &[]);
    }
}
