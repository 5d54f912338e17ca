//! Secrets that External Secrets Operator reads and Terraform creates: every remote-secret
//! read an `ExternalSecret` (or chart values that template one) makes, with the store it
//! names; every `aws_secretsmanager_secret` Terraform creates, per instance and pass, and
//! the versions that give it a value. The verdict for one secret (a value, no value, cannot
//! tell) is the model's; `secret-without-value` reports it.

use crate::model::gitops::{GitopsModel, GroupId, NodeRef, SecretRead, StoreRef};
use crate::model::terraform::BlockKind;
use crate::model::terraform::analysis::{Analysis, BlockAt, Count, Iter, unknown_text};
use crate::model::terraform::expr::{Unknown, Value};
use crate::model::workspace::Workspace;
use crate::parse::yaml::Yaml;
use hcl_edit::expr::{Expression, TraversalOperator};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Deepest chain of Terraform variables/locals followed.
const MAX_DEPTH: usize = 64;

/// What the store of a read is.
pub enum StoreIs {
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

pub fn classify_store(
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
pub struct TfSecret {
    pub at: BlockAt,
    /// Instance address, module path and index included.
    pub address: String,
    /// The index as written after the address (`[0]`, `["a"]`, or empty).
    pub index: String,
    pub name: String,
    pub pass: usize,
    pub count: Count,
}

/// An instance of an `aws_secretsmanager_secret_version` (or a rotation) in one pass.
pub struct TfVersion {
    pub at: BlockAt,
    pub iter: Iter,
    pub pass: usize,
    pub secret_id: Value,
    pub count: Count,
    pub rotation: bool,
}

/// The Terraform side, evaluated once per check.
#[derive(Default)]
pub struct Secrets {
    pub by_name: HashMap<String, Vec<TfSecret>>,
    /// `name_prefix` secrets: (block, prefix).
    pub prefixes: Vec<(BlockAt, String)>,
    pub versions: Vec<TfVersion>,
    /// Version blocks whose instances cannot be enumerated in a pass: (block, pass, why).
    pub unenumerable: Vec<(BlockAt, usize, String)>,
    /// Versions and rotations blocks with no instance in a pass.
    pub gated: Vec<(BlockAt, usize)>,
}

fn index_text(iter: &Iter) -> String {
    match iter {
        Iter::None => String::new(),
        Iter::Count(i) => format!("[{i}]"),
        Iter::Each(k, _) => format!("[{k}]"),
    }
}

pub fn collect_secrets(s: &Workspace, an: &Analysis) -> Secrets {
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

/// The blocks each version's `secret_id` depends on, computed once per version block.
#[derive(Default)]
pub struct VersionDeps(HashMap<BlockAt, BTreeSet<BlockAt>>);

/// The Kubernetes objects Terraform creates in some pass (`kubernetes_manifest`,
/// `kubectl_manifest`), by (kind, name): where a secret store may be defined.
pub fn terraform_stores(s: &Workspace, an: &Analysis) -> HashMap<(String, String), Vec<Value>> {
    let mut tf_stores: HashMap<(String, String), Vec<Value>> = HashMap::new();
    for m in an.manifest_objects(s) {
        if !m.count.is_zero()
            && let Some(k) = m.kind_and_name()
        {
            tf_stores.entry(k).or_default().push(m.manifest);
        }
    }
    tf_stores
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
    deps: &mut VersionDeps,
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
    cache: &'a mut VersionDeps,
    at: BlockAt,
) -> &'a BTreeSet<BlockAt> {
    cache.0.entry(at).or_insert_with(|| {
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
    deps: &mut VersionDeps,
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

/// A read with the cluster groups of the Applications that deploy it.
pub struct Located {
    pub read: SecretRead,
    pub groups: Vec<GroupId>,
    pub app: Option<String>,
}

pub fn collect_reads(s: &Workspace, model: &GitopsModel) -> Vec<Located> {
    let repo = &s.repo;
    // The deployers' names are borrowed from the model, not copied per object.
    let mut obj_groups: HashMap<usize, Vec<(GroupId, &str)>> = HashMap::new();
    let mut values: BTreeMap<usize, Vec<(GroupId, &str)>> = BTreeMap::new();
    let mut value_roots: Vec<NodeRef> = Vec::new();
    let mut value_pos: HashMap<NodeRef, usize> = HashMap::new();
    for app in &model.apps {
        for &o in &app.objects {
            obj_groups
                .entry(o)
                .or_default()
                .push((app.group, app.name.as_str()));
        }
        for v in &app.values {
            let pos = *value_pos.entry(v.root).or_insert_with(|| {
                value_roots.push(v.root);
                value_roots.len() - 1
            });
            values
                .entry(pos)
                .or_default()
                .push((app.group, app.name.as_str()));
        }
    }
    let mut by_span: BTreeMap<(u32, u32, u32), Located> = BTreeMap::new();
    let mut add = |reads: Vec<SecretRead>, deployers: &[(GroupId, &str)]| {
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
                entry.app.get_or_insert_with(|| name.to_string());
            }
        }
    };
    let refs = model.refs(repo);
    for id in 0..model.objects.len() {
        let reads = refs.object(id).secret_reads.clone();
        add(reads, obj_groups.get(&id).map_or(&[], Vec::as_slice));
    }
    for (pos, deployers) in &values {
        add(
            refs.values(value_roots[*pos]).secret_reads.clone(),
            deployers,
        );
    }
    by_span.into_values().collect()
}

fn secret_names_of(key: &str) -> Vec<&str> {
    if key.starts_with("arn:") {
        arn_names(key)
    } else {
        vec![key]
    }
}

/// What one remote-secret read finds among the secrets Terraform creates.
pub enum ReadVerdict<'s> {
    /// No secret has the name read; one whose name is generated from `prefix` may be it.
    Prefixed { at: BlockAt, prefix: &'s str },
    /// A secret of that name may be created: whether cannot be told.
    MayBeCreated { secret: &'s TfSecret, why: String },
    /// Every value that may be read is known and lacks the property asked for: the version
    /// that sets the value without it, why, and the keys of the first value known (for a
    /// suggested value).
    PropertyMissing {
        secret: &'s TfSecret,
        version: BlockAt,
        why: String,
        keys: Vec<String>,
    },
    /// Whether the secret has a value cannot be told.
    CannotTell { secret: &'s TfSecret, why: String },
    /// The secret is created without a value; the version blocks gated to zero that would
    /// set it.
    NoValue {
        secret: &'s TfSecret,
        gated: Vec<BlockAt>,
    },
}

/// The verdict for one read: `None` when the read is fine or names no secret Terraform
/// creates. Per created instance, the last selected pass where it exists decides.
pub fn read_verdict<'s>(
    s: &Workspace,
    an: &Analysis,
    secrets: &'s Secrets,
    deps: &mut VersionDeps,
    r: &SecretRead,
) -> Option<ReadVerdict<'s>> {
    let candidates: Vec<&TfSecret> = secret_names_of(&r.key)
        .into_iter()
        .flat_map(|n| secrets.by_name.get(n).into_iter().flatten())
        .collect();
    if candidates.is_empty() {
        let (at, prefix) = secrets
            .prefixes
            .iter()
            .find(|(_, p)| r.key.starts_with(p.as_str()))?;
        return Some(ReadVerdict::Prefixed { at: *at, prefix });
    }
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
        let (secret, why) = unsure_count?;
        return Some(ReadVerdict::MayBeCreated { secret, why });
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
    if !with_value.is_empty() {
        let (property, _) = r.property.as_ref()?;
        // Only when every value that may be read is known and lacks the property.
        let mut lacking = None;
        for (c, json, v) in &with_value {
            match json {
                Some(Ok(obj)) => match has_property(obj, property) {
                    Some(false) => {
                        let keys: Vec<&str> = obj
                            .as_object()
                            .map(|m| m.keys().map(String::as_str).collect())
                            .unwrap_or_default();
                        lacking.get_or_insert((
                            *c,
                            *v,
                            format!("its keys are {}", keys_text(&keys)),
                        ));
                    }
                    _ => return None,
                },
                Some(Err(why)) => {
                    lacking.get_or_insert((*c, *v, why.clone()));
                }
                None => return None,
            }
        }
        let (secret, version, why) = lacking?;
        let keys = match with_value.first().map(|w| &w.1) {
            Some(Some(Ok(Value::Object(m)))) => m.keys().cloned().collect(),
            _ => Vec::new(),
        };
        return Some(ReadVerdict::PropertyMissing {
            secret,
            version,
            why,
            keys,
        });
    }
    if let Some((secret, why)) = unsure {
        return Some(ReadVerdict::CannotTell { secret, why });
    }
    let (secret, gated) = missing?;
    Some(ReadVerdict::NoValue { secret, gated })
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
