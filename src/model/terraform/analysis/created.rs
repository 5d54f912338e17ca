//! Created objects: namespaces, manifests, Helm releases and other named objects the
//! configuration creates, per pass.

use super::*;

/// An object a block creates: its type and identifying value.
#[derive(Debug, Clone)]
pub struct Created {
    pub at: BlockAt,
    /// Instance count per pass (zero in passes where the identifying value differs).
    pub counts: Vec<Count>,
}

/// A Kubernetes object a `kubernetes_manifest` / `kubectl_manifest` instance creates.
#[derive(Debug, Clone)]
pub struct ManifestObject {
    pub at: BlockAt,
    pub pass: usize,
    /// Instances of the block's module (unknown when its own instances cannot be
    /// enumerated).
    pub count: Count,
    /// The evaluated manifest.
    pub manifest: Value,
}

impl ManifestObject {
    /// (kind, metadata.name) when both are known strings.
    pub fn kind_and_name(&self) -> Option<(String, String)> {
        let m = self.manifest.as_object()?;
        let kind = m.get("kind")?.as_str()?;
        let name = m.get("metadata")?.as_object()?.get("name")?.as_str()?;
        Some((kind.to_string(), name.to_string()))
    }
}

/// A local chart a `helm_release` installs, rendered with its values.
pub(super) struct LocalRender {
    dir: String,
    chart: crate::model::helm::Chart,
    rendered: crate::model::helm::RenderedChart,
    /// Why some values could not be evaluated.
    unknown: Option<String>,
}

/// The objects one root creates, by (type, identifying value). Namespaces use type
/// `namespace`.
#[derive(Debug, Default)]
pub struct Objects {
    pub by_key: HashMap<(String, String), Vec<Created>>,
    /// Creators whose identifying value cannot be evaluated, by type, with the reason.
    pub unresolved: HashMap<String, Vec<(BlockAt, String)>>,
}

/// The argument identifying the object a resource type creates.
pub fn resource_ident(ty: &str) -> &'static str {
    match ty {
        "aws_s3_bucket" => "bucket",
        "aws_db_instance" | "aws_rds_cluster" => "identifier",
        "aws_acm_certificate" => "domain_name",
        "aws_iam_user" | "aws_iam_group" => "name",
        "aws_cloudwatch_log_group" => "name",
        _ => "name",
    }
}

/// What a data source type reads: (created resource type, its identifying argument in
/// the data source). `None` for data sources that read nothing the configuration creates
/// by name.
pub fn data_target(ty: &str) -> Option<(&str, &'static str)> {
    Some(match ty {
        "aws_eks_cluster_auth" => ("aws_eks_cluster", "name"),
        "aws_eks_cluster" => ("aws_eks_cluster", "name"),
        "aws_s3_bucket" => ("aws_s3_bucket", "bucket"),
        "aws_db_instance" => ("aws_db_instance", "db_instance_identifier"),
        "aws_rds_cluster" => ("aws_rds_cluster", "cluster_identifier"),
        "aws_acm_certificate" => ("aws_acm_certificate", "domain"),
        "aws_iam_user" => ("aws_iam_user", "user_name"),
        "kubernetes_namespace" | "kubernetes_namespace_v1" => ("namespace", "metadata.name"),
        // Data sources that compute rather than read.
        "aws_iam_policy_document"
        | "aws_caller_identity"
        | "aws_region"
        | "aws_partition"
        | "aws_availability_zones"
        | "template_file"
        | "external"
        | "http"
        | "local_file"
        | "archive_file"
        | "cloudinit_config"
        | "terraform_remote_state" => return None,
        other => (other, "name"),
    })
}

pub(super) fn is_namespace_creator(s: &Workspace, block: &Block) -> bool {
    let _ = s;
    block.labels.first().is_some_and(|l| {
        matches!(
            l.as_str(),
            "kubernetes_namespace" | "kubernetes_namespace_v1"
        )
    })
}

pub(super) fn block_text_mentions_namespace(s: &Workspace, an: &Analysis, at: BlockAt) -> bool {
    let tf = s.terraform();
    let b = &an.module(tf, at.inst).blocks[at.block];
    let text = &s.repo.file(b.at.file).text;
    text.get(b.span.range()).is_some_and(|t| {
        t.contains("kind: Namespace")
            || t.contains("kind = \"Namespace\"")
            || t.contains("\"Namespace\"")
    })
}

/// The `kind` of a manifest value.
pub fn manifest_kind(m: &Value) -> Option<String> {
    m.as_object()?.get("kind")?.as_str().map(str::to_owned)
}

/// An attribute of a nested block: `metadata { name = … }`.
pub fn nested_attr<'b>(block: &'b Block, nested: &str, key: &str) -> Option<&'b Expression> {
    block
        .body
        .blocks()
        .find(|b| b.ident.as_str() == nested)
        .and_then(|b| b.body.get_attribute(key))
        .map(|a| &a.value)
}

pub(super) fn attr_value(
    an: &Analysis,
    s: &Workspace,
    pass: usize,
    at: BlockAt,
    block: &Block,
    iter: Iter,
    path: &str,
) -> Value {
    match block.body.get_attribute(path) {
        Some(a) => an.eval_iter(s, pass, at.inst, iter, &a.value),
        None => Value::Null,
    }
}

impl Analysis {
    /// The objects a root creates (see [`Objects`]), built on first use.
    pub fn objects(&self, s: &Workspace, root_pos: usize) -> &Objects {
        self.objects[root_pos].get_or_init(|| self.build_objects(s, self.roots[root_pos]))
    }

    pub(super) fn build_objects(&self, s: &Workspace, root: usize) -> Objects {
        let tf = s.terraform();
        let mut objects = Objects::default();
        let mut index: HashMap<(String, String, BlockAt), usize> = HashMap::new();
        let blocks: Vec<BlockAt> = self.blocks_of_root(tf, root).collect();
        for (pass, _) in self.passes.iter().enumerate() {
            for &at in &blocks {
                let tb = &self.module(tf, at.inst).blocks[at.block];
                if tb.kind != BlockKind::Resource {
                    continue;
                }
                let count = self.count(s, pass, at);
                let idents = match self.created_idents(s, pass, at) {
                    Ok(v) => v,
                    Err((ty, reason)) => {
                        let list = objects.unresolved.entry(ty).or_default();
                        if !list.iter().any(|(b, _)| *b == at) {
                            list.push((at, reason));
                        }
                        continue;
                    }
                };
                for (ty, ident) in idents {
                    let key = (ty.clone(), ident.clone(), at);
                    let pos = *index.entry(key).or_insert_with(|| {
                        let list = objects
                            .by_key
                            .entry((ty.clone(), ident.clone()))
                            .or_default();
                        list.push(Created {
                            at,
                            counts: vec![Count::Known(0); self.passes.len()],
                        });
                        list.len() - 1
                    });
                    if let Some(c) = objects
                        .by_key
                        .get_mut(&(ty, ident))
                        .and_then(|l| l.get_mut(pos))
                    {
                        c.counts[pass] = count.clone();
                    }
                }
            }
        }
        objects
    }

    /// The (type, identifying value) pairs a resource creates in a pass, or the type and why
    /// its identifying value cannot be evaluated.
    pub(super) fn created_idents(
        &self,
        s: &Workspace,
        pass: usize,
        at: BlockAt,
    ) -> Result<Vec<(String, String)>, (String, String)> {
        let tf = s.terraform();
        let tb = &self.module(tf, at.inst).blocks[at.block];
        let ty = tb.type_name.as_str();
        let Some(block) = self.hcl(s, at) else {
            return Ok(Vec::new());
        };
        let iters = match self.iters(s, pass, at) {
            Ok(v) => v,
            Err(u) => {
                let kind = if is_namespace_creator(s, block) {
                    "namespace"
                } else {
                    ty
                };
                return Err((
                    kind.to_string(),
                    format!("its instances cannot be enumerated: {}", unknown_text(&u)),
                ));
            }
        };
        // A counted creator gated to zero still names its object (with its count zero).
        let iters = if iters.is_empty() && block.body.get_attribute("count").is_some() {
            vec![Iter::Count(0)]
        } else {
            iters
        };
        let mut out = Vec::new();
        for iter in iters {
            if ty == "helm_release" {
                match self.local_chart_namespaces(s, pass, at, block, iter.clone()) {
                    Ok(names) => {
                        out.extend(names.into_iter().map(|n| ("namespace".to_string(), n)))
                    }
                    Err(reason) => return Err(("namespace".to_string(), reason)),
                }
            }
            let (kind, v) = match ty {
                "kubernetes_namespace" | "kubernetes_namespace_v1" => (
                    "namespace",
                    nested_attr(block, "metadata", "name")
                        .map(|e| self.eval_iter(s, pass, at.inst, iter.clone(), e))
                        .unwrap_or_else(|| Value::undecidable("metadata.name is not set")),
                ),
                "helm_release" => {
                    let create = block.body.get_attribute("create_namespace").map(|a| {
                        self.eval_iter(s, pass, at.inst, iter.clone(), &a.value)
                            .truthiness()
                    });
                    match create {
                        Some(Truth::True) => (
                            "namespace",
                            block
                                .body
                                .get_attribute("namespace")
                                .map(|a| self.eval_iter(s, pass, at.inst, iter.clone(), &a.value))
                                .unwrap_or(Value::string("default")),
                        ),
                        Some(Truth::Unknown) => {
                            return Err(("namespace".into(), "whether it creates its namespace (`create_namespace`) cannot be evaluated".into()));
                        }
                        _ => (
                            ty,
                            attr_value(self, s, pass, at, block, iter.clone(), "name"),
                        ),
                    }
                }
                "kubernetes_manifest" | "kubectl_manifest" => {
                    let m = self.manifest(s, pass, at, iter.clone());
                    match m {
                        Ok(m) if manifest_kind(&m).as_deref() == Some("Namespace") => (
                            "namespace",
                            m.as_object()
                                .and_then(|o| o.get("metadata"))
                                .and_then(|md| md.as_object())
                                .and_then(|md| md.get("name"))
                                .cloned()
                                .unwrap_or_else(|| {
                                    Value::undecidable("the manifest has no metadata.name")
                                }),
                        ),
                        Ok(_) => continue,
                        Err(reason) => {
                            if block_text_mentions_namespace(s, self, at) {
                                return Err(("namespace".into(), reason));
                            }
                            continue;
                        }
                    }
                }
                _ => {
                    let path = resource_ident(ty);
                    (ty, attr_value(self, s, pass, at, block, iter.clone(), path))
                }
            };
            match v {
                Value::String(name) => out.push((kind.to_string(), name)),
                Value::Unknown(u) if kind == "namespace" => {
                    return Err((kind.to_string(), unknown_text(&u)));
                }
                Value::Unknown(Unknown::Undecidable { reason })
                    if block.body.get_attribute(resource_ident(ty)).is_some() =>
                {
                    return Err((kind.to_string(), reason));
                }
                _ => {}
            }
        }
        Ok(out)
    }

    /// The Namespaces a `helm_release` of a chart in this repository (a local `chart`
    /// path) renders, with its `values` and `set` blocks. Empty for a chart from a
    /// repository; an error (the reason) when a template that would render a Namespace
    /// cannot be evaluated.
    pub(super) fn local_chart_namespaces(
        &self,
        s: &Workspace,
        pass: usize,
        at: BlockAt,
        block: &Block,
        iter: Iter,
    ) -> Result<Vec<String>, String> {
        use crate::model::helm::Outcome;
        let Some(LocalRender {
            dir,
            chart,
            rendered,
            unknown,
        }) = self.local_chart_render(s, pass, at, block, iter)
        else {
            return Ok(Vec::new());
        };
        if let Some(u) = &unknown
            && chart
                .templates
                .iter()
                .any(|&f| s.repo.file(f).text.contains("kind: Namespace"))
        {
            return Err(format!(
                "the chart `{dir}` it installs may render Namespaces from values preflight cannot evaluate ({u})"
            ));
        }
        let mut names = Vec::new();
        for rf in &rendered.files {
            let mentions_namespace = || s.repo.file(rf.file).text.contains("kind: Namespace");
            match &rf.outcome {
                Outcome::Docs(docs) => {
                    for d in docs {
                        let r = d.root();
                        if r.str_at(&["kind"]) == Some("Namespace")
                            && let Some(n) = r.str_at(&["metadata", "name"])
                        {
                            names.push(n.to_string());
                        }
                    }
                }
                Outcome::CannotTell { reason, .. } if mentions_namespace() => {
                    return Err(format!(
                        "the chart `{dir}` it installs renders its Namespaces from what preflight cannot evaluate ({reason})"
                    ));
                }
                Outcome::Failed(f) if mentions_namespace() => {
                    return Err(format!("rendering the chart `{dir}` fails ({})", f.message));
                }
                _ => {}
            }
        }
        Ok(names)
    }

    /// The manifests the `helm_release`s of local charts of every root render, in any pass
    /// where they exist, one render per release instance (values that cannot be evaluated
    /// give nothing). Their spans point into the chart's templates and values.
    pub fn helm_release_manifests(&self, s: &Workspace) -> Vec<crate::parse::yaml::YamlDoc> {
        use crate::model::helm::Outcome;
        let tf = s.terraform();
        let mut out = Vec::new();
        let mut seen: HashSet<(BlockAt, String)> = HashSet::new();
        for &root in &self.roots {
            for at in self.blocks_of_root(tf, root) {
                let tb = &self.module(tf, at.inst).blocks[at.block];
                if tb.kind != BlockKind::Resource || tb.type_name != "helm_release" {
                    continue;
                }
                let Some(block) = self.hcl(s, at) else {
                    continue;
                };
                for pass in 0..self.passes.len() {
                    if self.count(s, pass, at).is_zero() {
                        continue;
                    }
                    let Ok(iters) = self.iters(s, pass, at) else {
                        continue;
                    };
                    for iter in iters {
                        // One render per instance, whatever the pass.
                        if !seen.insert((at, format!("{iter:?}"))) {
                            continue;
                        }
                        let Some(r) = self.local_chart_render(s, pass, at, block, iter) else {
                            continue;
                        };
                        if r.unknown.is_some() {
                            continue;
                        }
                        for rf in r.rendered.files {
                            if let Outcome::Docs(docs) = rf.outcome {
                                out.extend(docs);
                            }
                        }
                    }
                }
            }
        }
        out
    }

    /// Render the local chart a `helm_release` installs (`None`: not a chart of this
    /// repository).
    pub(super) fn local_chart_render(
        &self,
        s: &Workspace,
        pass: usize,
        at: BlockAt,
        block: &Block,
        iter: Iter,
    ) -> Option<LocalRender> {
        use crate::model::helm::{self, value};
        if block.body.get_attribute("repository").is_some() {
            return None;
        }
        let chart = block.body.get_attribute("chart")?;
        let Value::String(path) = self.eval_iter(s, pass, at.inst, iter.clone(), &chart.value)
        else {
            return None;
        };
        let tf = s.terraform();
        let root_dir = &self.module(tf, self.insts[at.inst].root).dir;
        let root = s.repo.root.to_string_lossy().into_owned();
        let rel = match path.strip_prefix(&root) {
            Some(r) => r.trim_start_matches('/').to_string(),
            None if path.starts_with('/') => return None,
            // Relative to the directory Terraform runs in: the root module's.
            None if root_dir.is_empty() => path.clone(),
            None => format!("{root_dir}/{path}"),
        };
        let dir = crate::model::gitops::deploy_normalize_path(&rel)?;
        let chart = helm::chart_at(&s.repo, &dir)?;
        let mut values = helm::chart_defaults(&s.repo, &chart);
        let mut unknown: Option<String> = None;
        if let Some(a) = block.body.get_attribute("values") {
            match self.eval_iter(s, pass, at.inst, iter.clone(), &a.value) {
                Value::List(docs) => {
                    for d in docs.iter() {
                        match d {
                            Value::String(text) => {
                                // A repository file read as is (`file(...)`): its
                                // parsed YAML, so values keep where they are written.
                                let same = s.repo.files.iter().find(|f| {
                                    f.kind == crate::source::FileKind::Yaml
                                        && f.text.len() == text.len()
                                        && *f.text == *text
                                });
                                match same.map(|f| s.repo.syntax(f.id)) {
                                    Some(crate::parse::Syntax::Yaml(docs)) => {
                                        for d in docs {
                                            value::merge(
                                                &mut values,
                                                &value::from_yaml(d.root(), 0),
                                            );
                                        }
                                    }
                                    _ => value::merge(
                                        &mut values,
                                        &helm::funcs::from_text_yaml(text),
                                    ),
                                }
                            }
                            other => {
                                unknown.get_or_insert(format!(
                                    "a `values` entry is {}",
                                    other.type_name()
                                ));
                            }
                        }
                    }
                }
                Value::Unknown(u) => {
                    unknown.get_or_insert(unknown_text(&u));
                }
                _ => {}
            }
        }
        let sets: Vec<&Block> = block
            .body
            .blocks()
            .filter(|b| matches!(b.ident.as_str(), "set" | "set_sensitive"))
            .collect();
        for b in sets {
            let (Some(n), Some(v)) = (b.body.get_attribute("name"), b.body.get_attribute("value"))
            else {
                continue;
            };
            let name = self.eval_iter(s, pass, at.inst, iter.clone(), &n.value);
            let val = self.eval_iter(s, pass, at.inst, iter.clone(), &v.value);
            match (name, val) {
                (Value::String(n), Value::String(v)) => {
                    value::set_path(&mut values, &n, &v, self.span(s, at, None), false)
                }
                (Value::String(n), Value::Number(x)) => value::set_path(
                    &mut values,
                    &n,
                    &crate::model::helm::value::go_float(x),
                    self.span(s, at, None),
                    false,
                ),
                (Value::String(n), Value::Bool(x)) => value::set_path(
                    &mut values,
                    &n,
                    if x { "true" } else { "false" },
                    self.span(s, at, None),
                    false,
                ),
                _ => {
                    unknown.get_or_insert("a `set` value cannot be evaluated".to_string());
                }
            }
        }
        let release_name = match block
            .body
            .get_attribute("name")
            .map(|a| self.eval_iter(s, pass, at.inst, iter.clone(), &a.value))
        {
            Some(Value::String(n)) => n,
            _ => "release".to_string(),
        };
        let namespace = match block
            .body
            .get_attribute("namespace")
            .map(|a| self.eval_iter(s, pass, at.inst, iter.clone(), &a.value))
        {
            Some(Value::String(n)) => Some(n),
            None => Some("default".to_string()),
            _ => None,
        };
        let rendered = helm::render(
            &s.repo,
            &chart,
            values,
            &helm::Release {
                name: release_name,
                namespace,
            },
        );
        Some(LocalRender {
            dir,
            chart,
            rendered,
            unknown,
        })
    }

    /// A `kubernetes_manifest`'s `manifest` or a `kubectl_manifest`'s decoded `yaml_body`.
    pub fn manifest(
        &self,
        s: &Workspace,
        pass: usize,
        at: BlockAt,
        iter: Iter,
    ) -> Result<Value, String> {
        let Some(block) = self.hcl(s, at) else {
            return Err("the block cannot be read".into());
        };
        let tf = s.terraform();
        let ty = self.module(tf, at.inst).blocks[at.block].type_name.as_str();
        if ty == "kubernetes_manifest" {
            let Some(a) = block.body.get_attribute("manifest") else {
                return Err("`manifest` is not set".into());
            };
            return match self.eval_iter(s, pass, at.inst, iter, &a.value) {
                Value::Unknown(u) => Err(unknown_text(&u)),
                v => Ok(v),
            };
        }
        let Some(a) = block.body.get_attribute("yaml_body") else {
            return Err("`yaml_body` is not set".into());
        };
        match self.eval_iter(s, pass, at.inst, iter, &a.value) {
            Value::String(text) => {
                yaml_to_value(&text).ok_or_else(|| "yaml_body is not a YAML mapping".to_string())
            }
            Value::Unknown(u) => Err(unknown_text(&u)),
            other => Err(format!("yaml_body is a {}", other.type_name())),
        }
    }

    /// The Kubernetes objects the `kubernetes_manifest` and `kubectl_manifest` resources of
    /// every root create, per pass (all passes), with the instance count. A block gated to
    /// zero in a pass yields nothing for that pass; a block whose instances cannot be
    /// enumerated yields its first instance's manifest with the unknown count.
    pub fn manifest_objects(&self, s: &Workspace) -> Vec<ManifestObject> {
        let tf = s.terraform();
        let mut out = Vec::new();
        for &root in &self.roots {
            for at in self.blocks_of_root(tf, root) {
                let tb = &self.module(tf, at.inst).blocks[at.block];
                if tb.kind != BlockKind::Resource
                    || !matches!(
                        tb.type_name.as_str(),
                        "kubernetes_manifest" | "kubectl_manifest"
                    )
                {
                    continue;
                }
                for pass in 0..self.passes.len() {
                    let inst_count = self.inst_count(s, pass, at.inst);
                    if inst_count.is_zero() {
                        continue;
                    }
                    let (iters, count) = match self.iters(s, pass, at) {
                        Ok(v) => (v, inst_count),
                        Err(u) => {
                            let first = match self.hcl(s, at) {
                                Some(b) if b.body.get_attribute("count").is_some() => {
                                    Iter::Count(0)
                                }
                                _ => Iter::None,
                            };
                            (vec![first], Count::Unknown(u))
                        }
                    };
                    for iter in iters {
                        match self.manifest(s, pass, at, iter) {
                            Ok(manifest) => out.push(ManifestObject {
                                at,
                                pass,
                                count: count.clone(),
                                manifest,
                            }),
                            Err(reason) => s.verbose(format!(
                                "{}: the manifest cannot be evaluated: {reason}",
                                self.address(tf, at)
                            )),
                        }
                    }
                }
            }
        }
        out
    }
}
