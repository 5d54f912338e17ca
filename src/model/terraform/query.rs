//! The questions rules ask the Terraform model, answered in plain data: the blocks of a
//! root, a block's address, span, counts, gate terms, read phase and provider, its
//! arguments with their spans, values and whether they are known at plan, the references
//! an argument makes. No syntax type crosses this face: what a rule needs from the
//! configuration's text is asked here, and the analysis keeps the syntax to itself.

use super::BlockKind;
use super::analysis::{Analysis, BlockAt, Count, GateTerm, GuardedRef, Iter, ReadPhase};
use super::expr::{self, Reference, Unknown, Value};
use crate::model::workspace::Workspace;
use crate::source::Span;
use hcl_edit::Span as _;
use hcl_edit::expr::{Expression, ObjectKey};
use std::collections::BTreeSet;
use std::ops::Range;

/// A pass of a staged apply (an index into [`Analysis::passes`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PassId(pub usize);

/// A module instance (an index into [`Analysis::insts`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InstanceId(pub usize);

/// A root in scope (a position in [`Analysis::roots`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RootId(pub usize);

impl From<usize> for PassId {
    fn from(p: usize) -> PassId {
        PassId(p)
    }
}

impl From<usize> for InstanceId {
    fn from(i: usize) -> InstanceId {
        InstanceId(i)
    }
}

impl From<usize> for RootId {
    fn from(r: usize) -> RootId {
        RootId(r)
    }
}

/// A block of one module instance, with the model to ask about it.
#[derive(Clone, Copy)]
pub struct BlockQ<'a> {
    an: &'a Analysis,
    s: &'a Workspace,
    pub at: BlockAt,
}

/// An argument of a block (or of one of its nested blocks), evaluated in the block's
/// module instance.
#[derive(Clone)]
pub struct Arg<'a> {
    an: &'a Analysis,
    s: &'a Workspace,
    at: BlockAt,
    name: &'a str,
    attr: Option<Range<usize>>,
    value: &'a Expression,
}

/// The shape of a `count` argument, for an edit that adds terms to its condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CountShape {
    /// `count = cond ? a : b`: the condition's byte range, and whether it needs
    /// parentheses to be joined with `&&`.
    Conditional {
        cond: Range<usize>,
        needs_parens: bool,
    },
    /// Any other expression: its byte range.
    Other(Range<usize>),
}

/// Where a block puts its Kubernetes object: the namespace value per instance and where
/// it is written.
#[derive(Debug, Clone)]
pub struct Placement {
    pub values: Vec<Value>,
    pub span: Span,
}

impl Analysis {
    /// The passes, in order.
    pub fn pass_ids(&self) -> impl Iterator<Item = PassId> + use<> {
        (0..self.passes.len()).map(PassId)
    }

    /// The roots in scope, in order.
    pub fn root_ids(&self) -> impl Iterator<Item = RootId> + use<> {
        (0..self.roots.len()).map(RootId)
    }

    /// The objects a root creates, by type and identifying value, with their count per
    /// pass.
    pub fn created_objects(&self, s: &Workspace, root: RootId) -> &super::analysis::Objects {
        self.objects(s, root.0)
    }

    /// Ask about one block.
    pub fn block<'a>(&'a self, s: &'a Workspace, at: BlockAt) -> BlockQ<'a> {
        BlockQ { an: self, s, at }
    }

    /// The blocks of a root of one kind, and of one type when given, in every instance.
    pub fn blocks_of<'a>(
        &'a self,
        s: &'a Workspace,
        root: RootId,
        kind: BlockKind,
        type_name: Option<&str>,
    ) -> Vec<BlockQ<'a>> {
        let tf = s.terraform();
        self.blocks_of_root(tf, self.roots[root.0])
            .filter(|at| {
                let b = &self.module(tf, at.inst).blocks[at.block];
                b.kind == kind && type_name.is_none_or(|t| b.type_name == t)
            })
            .map(|at| self.block(s, at))
            .collect()
    }

    /// Evaluate the text of an expression (a gate term, `var.x`) in a module instance:
    /// `None` when it does not parse.
    pub fn eval_text(
        &self,
        s: &Workspace,
        pass: impl Into<PassId>,
        inst: impl Into<InstanceId>,
        text: &str,
    ) -> Option<Value> {
        let e = crate::parse::hcl::parse_expression(text)?;
        Some(self.eval(s, pass.into().0, inst.into().0, &e))
    }

    /// Whether a block depends (by reference, depends_on, or its module calls') on another.
    pub fn depends_on_block(&self, s: &Workspace, at: BlockAt, target: BlockAt) -> bool {
        let mut sets = Vec::new();
        if let Some(b) = self.hcl(s, at) {
            let exprs: Vec<&Expression> = expr::body_expressions(&b.body)
                .into_iter()
                .map(|(_, e)| e)
                .collect();
            sets.push(self.dependencies(s, at.inst, &exprs));
        }
        let mut cur = at.inst;
        while let Some((p, call)) = self.insts[cur].parent {
            if let Some(cb) = self.hcl(
                s,
                BlockAt {
                    inst: p,
                    block: call,
                },
            ) && let Some(d) = cb.body.get_attribute("depends_on")
            {
                sets.push(self.dependencies(s, p, &[&d.value]));
            }
            cur = p;
        }
        sets.iter().any(|d| d.contains(&target))
    }

    /// Where a block puts its Kubernetes object in a pass (`None`: it places none, or it
    /// is a namespace itself).
    pub fn placement(&self, s: &Workspace, pass: usize, at: BlockAt) -> Option<Placement> {
        let tf = s.terraform();
        let tb = &self.module(tf, at.inst).blocks[at.block];
        let ty = tb.type_name.as_str();
        let block = self.hcl(s, at)?;
        let file = s.repo.file(tb.at.file);
        let iters = self.iters(s, pass, at).unwrap_or_else(|_| vec![Iter::None]);
        let eval_all = |e: &Expression| -> Vec<Value> {
            iters
                .iter()
                .take(32)
                .map(|i| self.eval_iter(s, pass, at.inst, i.clone(), e))
                .collect()
        };
        match ty {
            "kubernetes_namespace" | "kubernetes_namespace_v1" => None,
            "helm_release" => {
                // Per instance: `create_namespace = try(each.value.create_namespace, false)`.
                let a = block.body.get_attribute("namespace")?;
                let create = block.body.get_attribute("create_namespace");
                let values = iters
                    .iter()
                    .take(32)
                    .filter(|i| {
                        create.is_none_or(|c| {
                            self.eval_iter(s, pass, at.inst, (*i).clone(), &c.value)
                                .truthiness()
                                != expr::Truth::True
                        })
                    })
                    .map(|i| self.eval_iter(s, pass, at.inst, i.clone(), &a.value))
                    .collect::<Vec<_>>();
                if values.is_empty() {
                    return None;
                }
                Some(Placement {
                    values,
                    span: file.span(a.value.span().unwrap_or(0..0)),
                })
            }
            "kubernetes_manifest" => {
                let a = block.body.get_attribute("manifest")?;
                let values: Vec<Value> = iters
                    .iter()
                    .take(32)
                    .map(|i| match self.manifest(s, pass, at, i.clone()) {
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
                    .map(|i| match self.manifest(s, pass, at, i.clone()) {
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
                let e = super::analysis::nested_attr(block, "metadata", "namespace")?;
                Some(Placement {
                    values: eval_all(e),
                    span: file.span(e.span().unwrap_or(0..0)),
                })
            }
            _ => None,
        }
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
fn key_span(e: &Expression, path: &[&str]) -> Option<Range<usize>> {
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

impl<'a> BlockQ<'a> {
    fn tb(&self) -> &'a super::TfBlock {
        &self.an.module(self.s.terraform(), self.at.inst).blocks[self.at.block]
    }

    pub fn kind(&self) -> BlockKind {
        self.tb().kind
    }

    pub fn type_name(&self) -> &'a str {
        &self.tb().type_name
    }

    /// The module instance the block sits in.
    pub fn instance(&self) -> InstanceId {
        InstanceId(self.at.inst)
    }

    /// The block's Terraform address including its module path.
    pub fn address(&self) -> String {
        self.an.address(self.s.terraform(), self.at)
    }

    /// The whole block.
    pub fn span(&self) -> Span {
        self.tb().span
    }

    /// The block's header (type and labels).
    pub fn header(&self) -> Span {
        self.tb().header
    }

    /// Whether the block's syntax can be read (it parsed).
    pub fn readable(&self) -> bool {
        self.an.hcl(self.s, self.at).is_some()
    }

    /// The block's own instance count (its `count` / `for_each`).
    pub fn own_count(&self, pass: impl Into<PassId>) -> Count {
        self.an.own_count(self.s, pass.into().0, self.at)
    }

    /// The block's instance count, the module calls' counts included.
    pub fn count(&self, pass: impl Into<PassId>) -> Count {
        self.an.count(self.s, pass.into().0, self.at)
    }

    /// The bindings of the block's instances: `Err` when they cannot be enumerated.
    pub fn iters(&self, pass: impl Into<PassId>) -> Result<Vec<Iter>, Unknown> {
        self.an.iters(self.s, pass.into().0, self.at)
    }

    /// When the data source is read.
    pub fn read_phase(&self, pass: impl Into<PassId>) -> ReadPhase {
        self.an.read_phase(self.s, pass.into().0, self.at)
    }

    /// The block's own gate terms.
    pub fn own_terms(&self) -> Vec<GateTerm> {
        self.an.own_terms(self.s, self.at)
    }

    /// The effective gate terms: the module calls', then the block's own.
    pub fn terms(&self) -> Vec<GateTerm> {
        self.an.terms(self.s, self.at)
    }

    /// The provider configuration block the block uses.
    pub fn provider(&self) -> Option<BlockQ<'a>> {
        self.an
            .provider_of(self.s, self.at)
            .map(|p| self.an.block(self.s, p))
    }

    /// Every reference the block makes, with the conditions guarding each.
    pub fn references(&self) -> std::sync::Arc<Vec<GuardedRef>> {
        self.an.block_refs(self.s, self.at)
    }

    /// The block's top-level argument `name`.
    pub fn arg(&self, name: &str) -> Option<Arg<'a>> {
        let b = self.an.hcl(self.s, self.at)?;
        let a = b.body.get_attribute(name)?;
        Some(self.make_arg(a))
    }

    /// An argument by path: `name`, or `nested.name` for the first nested block `nested`.
    pub fn arg_path(&self, path: &str) -> Option<Arg<'a>> {
        match path.split_once('.') {
            Some((nested, key)) => self.nested(nested).into_iter().next()?.arg(key),
            None => self.arg(path),
        }
    }

    /// The `count` or `for_each` argument.
    pub fn gate(&self) -> Option<Arg<'a>> {
        self.arg("count").or_else(|| self.arg("for_each"))
    }

    pub fn has_count(&self) -> bool {
        self.arg("count").is_some()
    }

    pub fn has_for_each(&self) -> bool {
        self.arg("for_each").is_some()
    }

    /// The nested blocks `ident` (`set`, `default_tags`, `metadata`), in order.
    pub fn nested(&self, ident: &str) -> Vec<Nested<'a>> {
        let Some(b) = self.an.hcl(self.s, self.at) else {
            return Vec::new();
        };
        b.body
            .blocks()
            .filter(|n| n.ident.as_str() == ident)
            .map(|n| Nested {
                block: *self,
                body: &n.body,
            })
            .collect::<Vec<_>>()
    }

    fn make_arg(&self, a: &'a hcl_edit::structure::Attribute) -> Arg<'a> {
        Arg {
            an: self.an,
            s: self.s,
            at: self.at,
            name: a.key.as_str(),
            attr: a.span(),
            value: &a.value,
        }
    }
}

/// A nested block of a block (`set { … }`).
#[derive(Clone, Copy)]
pub struct Nested<'a> {
    block: BlockQ<'a>,
    body: &'a hcl_edit::structure::Body,
}

impl<'a> Nested<'a> {
    pub fn arg(&self, name: &str) -> Option<Arg<'a>> {
        self.body
            .get_attribute(name)
            .map(|a| self.block.make_arg(a))
    }
}

impl<'a> Arg<'a> {
    /// The argument's name.
    pub fn name(&self) -> &'a str {
        self.name
    }

    /// The span of the argument's value (the block header when it has none).
    pub fn span(&self) -> Span {
        self.an.span(self.s, self.at, self.value.span())
    }

    /// The span of the whole argument, name included (the block header when it has none).
    pub fn attr_span(&self) -> Span {
        self.an.span(self.s, self.at, self.attr.clone())
    }

    /// The byte range of the value in its file.
    pub fn span_range(&self) -> Option<Range<usize>> {
        self.value.span()
    }

    /// The value's canonical text.
    pub fn text(&self) -> String {
        expr::canonical_text(self.value)
    }

    /// The value as written in its file.
    pub fn written(&self) -> Option<&'a str> {
        let tf = self.s.terraform();
        let file = self.an.module(tf, self.at.inst).blocks[self.at.block]
            .at
            .file;
        self.s.repo.file(file).text.get(self.value.span()?)
    }

    /// The value in a pass, with no instance binding.
    pub fn value(&self, pass: impl Into<PassId>) -> Value {
        self.an
            .eval(self.s, pass.into().0, self.at.inst, self.value)
    }

    /// The value in a pass for one instance of the block.
    pub fn value_in(&self, pass: impl Into<PassId>, iter: Iter) -> Value {
        self.an
            .eval_iter(self.s, pass.into().0, self.at.inst, iter, self.value)
    }

    /// The value in a pass for the block's first instance.
    pub fn value_first(&self, pass: impl Into<PassId>) -> Value {
        let pass = pass.into();
        let iter = self.an.first_iter(self.s, pass.0, self.at);
        self.value_in(pass, iter)
    }

    /// Whether the value is known when Terraform plans, in a pass (first instance): `Err`
    /// with the unknown that is not (known only after apply, or cannot tell). A value
    /// Terraform knows at plan but preflight cannot see is known at plan.
    pub fn known_at_plan(&self, pass: impl Into<PassId>) -> Result<(), Unknown> {
        match self.value_first(pass).first_unknown() {
            Some(Unknown::AtPlan { .. }) | None => Ok(()),
            Some(u) => Err(u.clone()),
        }
    }

    /// The references the value makes, as plain data.
    pub fn references(&self) -> Vec<Reference> {
        expr::references(self.value)
    }

    /// The span of `a.b` inside an object value, when the value is an object literal.
    pub fn key_span(&self, path: &[&str]) -> Option<Span> {
        key_span(self.value, path).map(|r| self.an.span(self.s, self.at, Some(r)))
    }

    /// The shape of the value as a `count` (for edits to its condition).
    pub fn count_shape(&self) -> Option<CountShape> {
        match self.value {
            Expression::Conditional(c) => Some(CountShape::Conditional {
                cond: c.cond_expr.span()?,
                needs_parens: !matches!(
                    &c.cond_expr,
                    Expression::Variable(_)
                        | Expression::Traversal(_)
                        | Expression::FuncCall(_)
                        | Expression::Parenthesis(_)
                        | Expression::Bool(_)
                ) && !matches!(&c.cond_expr, Expression::BinaryOp(op) if op.operator.value().to_string() == "&&"),
            }),
            other => other.span().map(CountShape::Other),
        }
    }

    /// Whether the value is the identity running Terraform:
    /// `data.aws_caller_identity.X.arn` or `data.aws_iam_session_context.X.issuer_arn`,
    /// directly or through locals and module variables. Returns the text of the data
    /// source attribute.
    pub fn caller_identity(&self) -> Option<String> {
        caller_arn(self.s, self.an, self.at.inst, self.value, 0)
    }

    /// Where the value is written: for `var.NAME`, the tfvars attribute that sets it or the
    /// module call's argument, followed up to the root; `None` when it is not a plain
    /// variable reference.
    pub fn where_set(&self) -> Option<Span> {
        crate::model::identities::where_set(self.s, self.an, self.at.inst, self.value, 0)
    }

    /// The resources and data sources the value depends on, transitively.
    pub fn dependencies(&self) -> BTreeSet<BlockAt> {
        self.an.dependencies(self.s, self.at.inst, &[self.value])
    }
}

const MAX_CALLER_DEPTH: usize = 16;

fn caller_arn(
    s: &Workspace,
    an: &Analysis,
    inst: usize,
    e: &Expression,
    depth: usize,
) -> Option<String> {
    if depth > MAX_CALLER_DEPTH {
        return None;
    }
    let mut e = e;
    while let Expression::Parenthesis(p) = e {
        e = p.inner();
    }
    let refs = expr::references(e);
    let [r] = refs.as_slice() else {
        return None;
    };
    // The expression must be the reference itself, not a string built from it.
    if !matches!(e, Expression::Traversal(_)) {
        return None;
    }
    let tf = s.terraform();
    match (r.root.as_str(), r.attrs.as_slice()) {
        ("data", [ty, name, attr, ..])
            if (ty == "aws_caller_identity" && attr == "arn")
                || (ty == "aws_iam_session_context" && attr == "issuer_arn") =>
        {
            Some(format!("data.{ty}.{name}.{attr}"))
        }
        ("local", [name, ..]) => {
            let def = an.module(tf, inst).local(name)?;
            let le = tf.local_expr(&s.repo, def)?;
            caller_arn(s, an, inst, le, depth + 1)
        }
        ("var", [name, ..]) => {
            let (parent, call) = an.insts[inst].parent?;
            let call = an.hcl(
                s,
                BlockAt {
                    inst: parent,
                    block: call,
                },
            )?;
            let arg = &call.body.get_attribute(name)?.value;
            caller_arn(s, an, parent, arg, depth + 1)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::{PassId, RootId};
    use crate::model::terraform::BlockKind;
    use crate::model::terraform::analysis::{Analysis, Count, ReadPhase};
    use crate::model::terraform::expr::{Unknown, Value};
    use crate::model::workspace::Workspace;

    const ROOT: &str = r#"variable "enable" {
  type    = bool
  default = false
}

variable "other" {
  type    = bool
  default = true
}

provider "kubernetes" {
  host = aws_eks_cluster.this.endpoint
}

resource "aws_eks_cluster" "this" {
  name     = "dev-eks"
  role_arn = "arn:aws:iam::123456789012:role/eks"
}

data "aws_eks_cluster" "gated" {
  count = var.enable && var.other ? 1 : 0
  name  = "dev-eks"
}

resource "aws_s3_bucket" "logs" {
  bucket = "dev-logs"
}

resource "aws_s3_bucket_policy" "logs" {
  bucket = aws_s3_bucket.logs.id
  policy = "{}"
}

module "app" {
  source  = "../../modules/app"
  enabled = var.enable
}
"#;

    const APP: &str = r#"variable "enabled" {
  type = bool
}

resource "kubernetes_namespace_v1" "app" {
  count = var.enabled ? 1 : 0
  metadata {
    name = "app"
  }
}
"#;

    const CONFIG: &str =
        "[terraform.passes]\npass1 = { enable = false }\npass2 = { enable = true }\n";

    /// The model of a small tree, built without the engine.
    fn with_model(check: impl FnOnce(&Workspace, &Analysis)) {
        let dir = tempfile::tempdir().expect("temp dir");
        crate::testing::write_tree(
            dir.path(),
            &[
                ("preflight.toml", CONFIG),
                ("envs/dev/main.tf", ROOT),
                ("modules/app/main.tf", APP),
            ],
        );
        let s = Workspace::for_tests(dir.path(), &[]);
        let an = Analysis::build(&s);
        check(&s, &an);
    }

    fn named<'a>(
        an: &'a Analysis,
        s: &'a Workspace,
        kind: BlockKind,
        ty: &str,
    ) -> super::BlockQ<'a> {
        let found = an.blocks_of(s, RootId(0), kind, Some(ty));
        assert_eq!(found.len(), 1, "one {ty}");
        found[0]
    }

    #[test]
    fn passes_and_roots_come_from_the_configuration() {
        with_model(|s, an| {
            let roots: Vec<RootId> = an.root_ids().collect();
            assert_eq!(roots, [RootId(0)]);
            assert_eq!(
                s.terraform().module(an.insts[an.roots[0]].module).dir,
                "envs/dev"
            );
            let names: Vec<Option<&str>> = an.passes.iter().map(|p| p.name.as_deref()).collect();
            assert_eq!(names, [Some("pass1"), Some("pass2")]);
            assert_eq!(an.pass_ids().collect::<Vec<_>>(), [PassId(0), PassId(1)]);
        });
    }

    #[test]
    fn a_count_gated_data_source_counts_per_pass_with_its_gate_terms() {
        with_model(|s, an| {
            let d = named(an, s, BlockKind::Data, "aws_eks_cluster");
            assert_eq!(d.address(), "data.aws_eks_cluster.gated");
            assert_eq!(d.own_count(PassId(0)), Count::Known(0));
            assert_eq!(d.own_count(PassId(1)), Count::Known(1));
            assert_eq!(d.count(PassId(1)), Count::Known(1));
            let terms: Vec<String> = d.own_terms().into_iter().map(|t| t.qualified).collect();
            assert_eq!(terms, ["var.enable", "var.other"]);
            let gate = d.gate().expect("a count");
            assert_eq!(gate.name(), "count");
            assert_eq!(gate.text(), "var.enable && var.other ? 1 : 0");
            assert!(d.has_count() && !d.has_for_each());
            assert_eq!(d.read_phase(PassId(1)), ReadPhase::Plan);
        });
    }

    #[test]
    fn an_argument_has_its_value_and_span() {
        with_model(|s, an| {
            let c = named(an, s, BlockKind::Resource, "aws_eks_cluster");
            let name = c.arg("name").expect("name");
            assert_eq!(name.value(PassId(0)), Value::string("dev-eks"));
            assert_eq!(name.written(), Some("\"dev-eks\""));
            let span = name.span();
            let text = &s.repo.file(span.file).text;
            assert_eq!(text.get(span.range()), Some("\"dev-eks\""));
            assert_eq!(name.known_at_plan(PassId(0)), Ok(()));
            assert!(c.arg("nothing").is_none());
        });
    }

    #[test]
    fn an_attribute_the_provider_computes_is_known_only_after_apply() {
        with_model(|s, an| {
            let p = named(an, s, BlockKind::Resource, "aws_s3_bucket_policy");
            let bucket = p.arg("bucket").expect("bucket");
            match bucket.known_at_plan(PassId(0)) {
                Err(Unknown::AtApply { origin }) => assert_eq!(origin, "aws_s3_bucket.logs.id"),
                other => panic!("expected known only after apply, got {other:?}"),
            }
            let refs: Vec<String> = bucket.references().iter().map(|r| r.dotted()).collect();
            assert_eq!(refs, ["aws_s3_bucket.logs.id"]);
            let deps: Vec<String> = bucket
                .dependencies()
                .into_iter()
                .map(|d| an.block(s, d).address())
                .collect();
            assert_eq!(deps, ["aws_s3_bucket.logs"]);
            assert!(
                p.arg("policy")
                    .expect("policy")
                    .known_at_plan(PassId(0))
                    .is_ok()
            );
        });
    }

    #[test]
    fn a_module_instance_block_has_its_address_count_terms_and_provider() {
        with_model(|s, an| {
            let ns = named(an, s, BlockKind::Resource, "kubernetes_namespace_v1");
            assert_eq!(ns.address(), "module.app.kubernetes_namespace_v1.app");
            assert_ne!(ns.instance().0, an.roots[0]);
            assert_eq!(ns.count(PassId(0)), Count::Known(0));
            assert_eq!(ns.count(PassId(1)), Count::Known(1));
            let terms: Vec<(String, String)> = ns
                .terms()
                .into_iter()
                .map(|t| (t.qualified, t.text))
                .collect();
            assert_eq!(
                terms,
                [("var.enable".to_string(), "var.enabled".to_string())]
            );
            let name = ns.arg_path("metadata.name").expect("metadata.name");
            assert_eq!(name.value(PassId(1)), Value::string("app"));
            let provider = ns.provider().expect("the root's kubernetes provider");
            assert_eq!(provider.kind(), BlockKind::Provider);
            assert_eq!(provider.instance().0, an.roots[0]);
        });
    }

    #[test]
    fn created_objects_are_named_per_pass() {
        with_model(|s, an| {
            let objects = an.created_objects(s, RootId(0));
            let ns = &objects.by_key[&("namespace".to_string(), "app".to_string())];
            assert_eq!(ns[0].counts, [Count::Known(0), Count::Known(1)]);
            let cluster = &objects.by_key[&("aws_eks_cluster".to_string(), "dev-eks".to_string())];
            assert_eq!(cluster[0].counts, [Count::Known(1), Count::Known(1)]);
        });
    }

    #[test]
    fn a_text_evaluates_in_an_instance() {
        with_model(|s, an| {
            let root = an.roots[0];
            assert_eq!(
                an.eval_text(s, 0, root, "var.enable"),
                Some(Value::Bool(false))
            );
            assert_eq!(
                an.eval_text(s, 1, root, "var.enable"),
                Some(Value::Bool(true))
            );
            assert_eq!(an.eval_text(s, 0, root, "var.enable &&"), None);
        });
    }
}
