//! References: what blocks refer to, with the conditions guarding each, `depends_on`,
//! gate terms and the dependencies of an expression.

use super::*;

/// A reference found in a block, with the conditions guarding it.
#[derive(Debug, Clone)]
pub struct GuardedRef {
    pub reference: Reference,
    /// Where it is.
    pub span: Span,
    /// Terms of enclosing conditionals under which it is evaluated (canonical texts).
    pub guards: Vec<String>,
    /// Inside `try()`/`can()`, or a splat over the block: safe with zero instances.
    pub tolerant: bool,
    /// Inside `depends_on`.
    pub depends_on: bool,
    /// Inside a `for` expression and indexed by its key or value variable: the canonical
    /// text of the collection iterated (`[for k, v in var.m : aws_x.this[k].arn]` gives
    /// `var.m`), so only keys of that collection are indexed.
    pub for_collection: Option<String>,
}

/// Roots of references that are not resource types.
pub fn is_reserved_root(root: &str) -> bool {
    matches!(
        root,
        "var" | "local" | "module" | "data" | "count" | "each" | "path" | "terraform" | "self"
    )
}

/// Whether a guard text tests that `address` has instances: `length(address) > 0` (or
/// `!= 0`, `>= 1`, `== 1`, reversed), `can(address[0])`, `address != []`. A reference under
/// such a guard is evaluated only when the instances exist, whatever the block's source.
pub fn guard_tests_instances(guard: &str, address: &str) -> bool {
    use hcl_edit::expr::BinaryOperator as B;
    use std::str::FromStr;
    let Ok(e) = Expression::from_str(guard) else {
        return false;
    };
    let is_target = |e: &Expression| {
        let e = strip_parens(e);
        let t = canonical_text(e);
        t == address || t == format!("{address}[*]")
    };
    let is_length_of_target = |e: &Expression| match strip_parens(e) {
        Expression::FuncCall(c)
            if c.name.namespace.is_empty() && c.name.name.as_str() == "length" =>
        {
            c.args.len() == 1 && c.args.iter().all(is_target)
        }
        _ => false,
    };
    let number = |e: &Expression| match strip_parens(e) {
        Expression::Number(n) => n.value().as_f64(),
        _ => None,
    };
    match strip_parens(&e) {
        Expression::BinaryOp(op) => {
            let o = *op.operator.value();
            let (l, r) = (&op.lhs_expr, &op.rhs_expr);
            if is_length_of_target(l) {
                let n = number(r);
                return matches!((o, n), (B::Greater, Some(x)) if x >= 0.0)
                    || matches!((o, n), (B::NotEq, Some(x)) if x == 0.0)
                    || matches!((o, n), (B::GreaterEq | B::Eq, Some(x)) if x >= 1.0);
            }
            if is_length_of_target(r) {
                let n = number(l);
                return matches!((o, n), (B::Less, Some(x)) if x >= 0.0)
                    || matches!((o, n), (B::NotEq, Some(x)) if x == 0.0)
                    || matches!((o, n), (B::LessEq | B::Eq, Some(x)) if x >= 1.0);
            }
            o == B::NotEq
                && is_target(l)
                && matches!(strip_parens(r), Expression::Array(a) if a.is_empty())
        }
        Expression::FuncCall(c) if c.name.namespace.is_empty() && c.name.name.as_str() == "can" => {
            c.args
                .iter()
                .any(|a| canonical_text(strip_parens(a)).starts_with(&format!("{address}[")))
        }
        _ => false,
    }
}

/// A reference found by [`guarded`].
pub(super) struct Found {
    reference: Reference,
    guards: Vec<String>,
    tolerant: bool,
    for_collection: Option<String>,
}

/// Whether an expression is an empty collection or null (`[]`, `{}`, `null`, `toset([])`).
pub(super) fn is_empty_collection(e: &Expression) -> bool {
    match strip_parens(e) {
        Expression::Null(_) => true,
        Expression::Array(a) => a.is_empty(),
        Expression::Object(o) => o.is_empty(),
        Expression::FuncCall(c)
            if c.name.namespace.is_empty()
                && matches!(c.name.name.as_str(), "toset" | "tomap" | "tolist")
                && c.args.len() == 1 =>
        {
            c.args.iter().all(is_empty_collection)
        }
        _ => false,
    }
}

/// The negation of a condition as a guard text: `!(x != "")`, never `!x != ""`.
pub(super) fn negated_text(cond: &Expression) -> String {
    let cond = strip_parens(cond);
    match cond {
        Expression::UnaryOp(op) if *op.operator.value() == hcl_edit::expr::UnaryOperator::Not => {
            canonical_text(strip_parens(&op.expr))
        }
        Expression::Variable(_) | Expression::Traversal(_) | Expression::FuncCall(_) => {
            format!("!{}", canonical_text(cond))
        }
        _ => format!("!({})", canonical_text(cond)),
    }
}

/// The guards under which the elements of a collection are visited (a `dynamic` block's
/// content, a `for` expression's body): the terms of `c ? [x] : []`, the negation for
/// `c ? [] : [x]`, otherwise that the collection is not empty.
pub(super) fn collection_guards(e: &Expression) -> Vec<String> {
    let e = strip_parens(e);
    if let Expression::Conditional(c) = e {
        if is_empty_collection(&c.false_expr) {
            return expr::conjunction_terms(&c.cond_expr)
                .into_iter()
                .map(|t| canonical_text(strip_parens(t)))
                .collect();
        }
        if is_empty_collection(&c.true_expr) {
            return vec![negated_text(&c.cond_expr)];
        }
    }
    vec![format!("length({}) > 0", canonical_text(e))]
}

/// Spans of the traversals in an expression whose first index is one of `vars`.
pub(super) fn indexed_by(
    e: &Expression,
    vars: &[&str],
    out: &mut Vec<std::ops::Range<usize>>,
    depth: usize,
) {
    use hcl_edit::Span as _;
    if depth > 128 {
        return;
    }
    let d = depth + 1;
    match e {
        Expression::Traversal(t) => {
            let first_index = t.operators.iter().find_map(|op| match op.value() {
                TraversalOperator::Index(i) => Some(Some(i)),
                TraversalOperator::GetAttr(_) => None,
                _ => Some(None),
            });
            if let Some(Some(Expression::Variable(v))) = first_index
                && vars.contains(&v.value().as_str())
                && let Some(span) = t.span()
            {
                out.push(span);
            }
            indexed_by(&t.expr, vars, out, d);
            for op in &t.operators {
                if let TraversalOperator::Index(i) = op.value() {
                    indexed_by(i, vars, out, d);
                }
            }
        }
        Expression::Parenthesis(p) => indexed_by(p.inner(), vars, out, d),
        Expression::Conditional(c) => {
            indexed_by(&c.cond_expr, vars, out, d);
            indexed_by(&c.true_expr, vars, out, d);
            indexed_by(&c.false_expr, vars, out, d);
        }
        Expression::FuncCall(c) => c.args.iter().for_each(|a| indexed_by(a, vars, out, d)),
        Expression::BinaryOp(op) => {
            indexed_by(&op.lhs_expr, vars, out, d);
            indexed_by(&op.rhs_expr, vars, out, d);
        }
        Expression::UnaryOp(op) => indexed_by(&op.expr, vars, out, d),
        Expression::Array(a) => a.iter().for_each(|i| indexed_by(i, vars, out, d)),
        Expression::Object(o) => {
            for (_, v) in o.iter() {
                indexed_by(v.expr(), vars, out, d);
            }
        }
        Expression::ForExpr(f) => {
            if let Some(k) = &f.key_expr {
                indexed_by(k, vars, out, d);
            }
            indexed_by(&f.value_expr, vars, out, d);
        }
        _ => {}
    }
}

/// Walk an expression collecting references with their guarding conditions.
pub(super) fn guarded(
    e: &Expression,
    guards: &mut Vec<String>,
    tolerant: bool,
    out: &mut Vec<Found>,
    depth: usize,
) {
    if depth > 128 {
        return;
    }
    let d = depth + 1;
    match e {
        Expression::Parenthesis(p) => guarded(p.inner(), guards, tolerant, out, d),
        Expression::Conditional(c) => {
            guarded(&c.cond_expr, guards, tolerant, out, d);
            let terms: Vec<String> = expr::conjunction_terms(&c.cond_expr)
                .into_iter()
                .map(|t| canonical_text(strip_parens(t)))
                .collect();
            let mark = guards.len();
            guards.extend(terms);
            guarded(&c.true_expr, guards, tolerant, out, d);
            guards.truncate(mark);
            guards.push(negated_text(&c.cond_expr));
            guarded(&c.false_expr, guards, tolerant, out, d);
            guards.truncate(mark);
        }
        Expression::FuncCall(call) => {
            let name = call.name.name.as_str();
            let tol = tolerant || (call.name.namespace.is_empty() && matches!(name, "try" | "can"));
            for a in call.args.iter() {
                guarded(a, guards, tol, out, d);
            }
        }
        Expression::BinaryOp(op) => {
            guarded(&op.lhs_expr, guards, tolerant, out, d);
            guarded(&op.rhs_expr, guards, tolerant, out, d);
        }
        Expression::UnaryOp(op) => guarded(&op.expr, guards, tolerant, out, d),
        Expression::Array(items) => {
            for i in items.iter() {
                guarded(i, guards, tolerant, out, d);
            }
        }
        Expression::Object(o) => {
            for (k, v) in o.iter() {
                if let hcl_edit::expr::ObjectKey::Expression(ke) = k
                    && !matches!(ke, Expression::Variable(_))
                {
                    guarded(ke, guards, tolerant, out, d);
                }
                guarded(v.expr(), guards, tolerant, out, d);
            }
        }
        Expression::ForExpr(f) => {
            guarded(&f.intro.collection_expr, guards, tolerant, out, d);
            let coll = canonical_text(strip_parens(&f.intro.collection_expr));
            let mut vars = vec![f.intro.value_var.value().as_str()];
            if let Some(k) = &f.intro.key_var {
                vars.push(k.value().as_str());
            }
            let mut spans = Vec::new();
            let mark = guards.len();
            guards.extend(collection_guards(&f.intro.collection_expr));
            let start = out.len();
            let mut body: Vec<&Expression> = vec![&f.value_expr];
            body.extend(f.key_expr.as_ref());
            body.extend(f.cond.as_ref().map(|c| &c.expr));
            for b in body {
                indexed_by(b, &vars, &mut spans, 0);
                guarded(b, guards, tolerant, out, d);
            }
            guards.truncate(mark);
            // The loop's own variables are not references.
            let mut i = start;
            while i < out.len() {
                if vars.contains(&out[i].reference.root.as_str()) {
                    out.remove(i);
                    continue;
                }
                if out[i].for_collection.is_none()
                    && out[i]
                        .reference
                        .span
                        .as_ref()
                        .is_some_and(|s| spans.contains(s))
                {
                    out[i].for_collection = Some(coll.clone());
                }
                i += 1;
            }
        }
        other => {
            for r in expr::references(other) {
                out.push(Found {
                    reference: r,
                    guards: guards.clone(),
                    tolerant,
                    for_collection: None,
                });
            }
        }
    }
}

impl Analysis {
    /// The `count` or `for_each` attribute of a block.
    pub(in crate::model) fn gate_attr<'r>(
        &self,
        s: &'r Workspace,
        at: BlockAt,
    ) -> Option<&'r hcl_edit::structure::Attribute> {
        let b = self.hcl(s, at)?;
        b.body
            .get_attribute("count")
            .or_else(|| b.body.get_attribute("for_each"))
    }

    /// The canonical text of a block's `for_each`, when it has one.
    pub fn for_each_text(&self, s: &Workspace, at: BlockAt) -> Option<String> {
        let b = self.hcl(s, at)?;
        b.body
            .get_attribute("for_each")
            .map(|a| canonical_text(strip_parens(&a.value)))
    }

    /// The block's own gate terms (`a && b ? 1 : 0` → `a`, `b`), qualified.
    pub fn own_terms(&self, s: &Workspace, at: BlockAt) -> Vec<GateTerm> {
        let Some(attr) = self.gate_attr(s, at) else {
            return Vec::new();
        };
        let g = expr::gate_terms(&attr.value);
        if g.kind == GateKind::NotConditional {
            return Vec::new();
        }
        g.terms
            .iter()
            .map(|t| GateTerm {
                qualified: self.qualify(s, at.inst, t.expr, &t.text, 0),
                text: t.text.clone(),
            })
            .collect()
    }

    /// Effective gate terms: the module calls' terms, then the block's own.
    pub fn terms(&self, s: &Workspace, at: BlockAt) -> Vec<GateTerm> {
        let mut out = Vec::new();
        let mut chain = Vec::new();
        let mut cur = at.inst;
        while let Some((p, b)) = self.insts[cur].parent {
            chain.push(BlockAt { inst: p, block: b });
            cur = p;
        }
        for c in chain.iter().rev() {
            out.extend(self.own_terms(s, *c));
        }
        out.extend(self.own_terms(s, at));
        out
    }

    /// A term's meaning in the root: `var.x` in a child becomes the caller's argument
    /// expression when that is a single term.
    pub(super) fn qualify(
        &self,
        s: &Workspace,
        inst: usize,
        e: &Expression,
        text: &str,
        depth: usize,
    ) -> String {
        let fallback = format!("{}{text}", self.insts[inst].prefix);
        if depth > MAX_MODULE_DEPTH {
            return fallback;
        }
        let Some((parent, block)) = self.insts[inst].parent else {
            return fallback;
        };
        let Expression::Traversal(t) = e else {
            return fallback;
        };
        let Expression::Variable(root) = &t.expr else {
            return fallback;
        };
        if root.value().as_str() != "var" || t.operators.len() != 1 {
            return fallback;
        }
        let TraversalOperator::GetAttr(name) = t.operators[0].value() else {
            return fallback;
        };
        let Some(call) = self.hcl(
            s,
            BlockAt {
                inst: parent,
                block,
            },
        ) else {
            return fallback;
        };
        let Some(arg) = call.body.get_attribute(name.value().as_str()) else {
            return fallback;
        };
        if expr::conjunction_terms(&arg.value).len() != 1 {
            return fallback;
        }
        let inner = strip_parens(&arg.value);
        self.qualify(s, parent, inner, &canonical_text(inner), depth + 1)
    }

    /// The block a reference points at in an instance (resource, data source, module call).
    pub fn target(&self, tf: &TerraformModel, inst: usize, r: &Reference) -> Option<BlockAt> {
        let addr = match r.root.as_str() {
            "data" if r.attrs.len() >= 2 => format!("data.{}.{}", r.attrs[0], r.attrs[1]),
            "module" if !r.attrs.is_empty() => format!("module.{}", r.attrs[0]),
            root if !is_reserved_root(root) && !r.attrs.is_empty() => {
                format!("{root}.{}", r.attrs[0])
            }
            _ => return None,
        };
        self.block_index(tf, inst, &addr)
            .map(|block| BlockAt { inst, block })
    }

    /// The module calls preflight cannot read (registry, git and other remote sources)
    /// that a block waits for: referenced by it or in its `depends_on`, through the
    /// `depends_on` of what it depends on, or through the `depends_on` of the calls of the
    /// modules it sits in. Each as `(address, source)`. What such a module creates is
    /// unseen, so a question about it ("does anything create this namespace?") cannot be
    /// answered with "no".
    pub fn opaque_dependencies(&self, s: &Workspace, at: BlockAt) -> Vec<(String, String)> {
        let tf = s.terraform();
        let mut out: Vec<(String, String)> = Vec::new();
        let mut seen: HashSet<BlockAt> = HashSet::new();
        let mut work = vec![at];
        let mut cur = at.inst;
        while let Some((p, call)) = self.insts[cur].parent {
            work.push(BlockAt {
                inst: p,
                block: call,
            });
            cur = p;
        }
        while let Some(b) = work.pop() {
            if !seen.insert(b) || seen.len() > 512 {
                continue;
            }
            let tb = &self.module(tf, b.inst).blocks[b.block];
            if tb.kind == BlockKind::Module
                && let Some(call) = self.module(tf, b.inst).call(&tb.name)
                && let ModuleSource::External(src) = &call.source
            {
                let addr = self.address(tf, b);
                if !out.iter().any(|(a, _)| *a == addr) {
                    out.push((addr, src.clone()));
                }
            }
            // The block's own references, then only `depends_on` edges: what the blocks
            // it refers to read in turn is their input, not something they wait for.
            let refs = self.block_refs(s, b);
            for r in refs.iter() {
                if b != at && !r.depends_on {
                    continue;
                }
                if let Some(t) = self.target(tf, b.inst, &r.reference) {
                    work.push(t);
                }
            }
        }
        out
    }

    /// Every reference of a block (in all its attributes, nested blocks included), with
    /// the conditions guarding each. Cached per module block.
    pub fn block_refs(&self, s: &Workspace, at: BlockAt) -> std::sync::Arc<Vec<GuardedRef>> {
        let key = (self.insts[at.inst].module, at.block);
        if let Ok(m) = self.refs.lock()
            && let Some(v) = m.get(&key)
        {
            return v.clone();
        }
        let mut out = Vec::new();
        if let Some(block) = self.hcl(s, at) {
            let file = s
                .repo
                .file(self.module(s.terraform(), at.inst).blocks[at.block].at.file);
            for be in expr::body_expressions_with_path(&block.body) {
                let mut found = Vec::new();
                let mut guards: Vec<String> = be
                    .dynamic_for_each
                    .iter()
                    .flat_map(|fe| collection_guards(fe))
                    .collect();
                guarded(be.expr, &mut guards, false, &mut found, 0);
                for g in found {
                    let span = file.span(g.reference.span.clone().unwrap_or(0..0));
                    let splat = matches!(g.reference.rest.first(), Some(RefStep::Splat));
                    out.push(GuardedRef {
                        span,
                        guards: g.guards,
                        tolerant: g.tolerant || splat,
                        depends_on: be.key == "depends_on",
                        reference: g.reference,
                        for_collection: g.for_collection,
                    });
                }
            }
        }
        // Kept for the whole check: no spare capacity.
        out.shrink_to_fit();
        let arc = std::sync::Arc::new(out);
        if let Ok(mut m) = self.refs.lock() {
            m.insert(key, arc.clone());
        }
        arc
    }

    /// The references of a local's expression.
    pub(super) fn local_refs(&self, s: &Workspace, inst: usize, name: &str) -> Vec<Reference> {
        let tf = s.terraform();
        self.module(tf, inst)
            .local(name)
            .and_then(|d| tf.local_expr(&s.repo, d))
            .map(expr::references)
            .unwrap_or_default()
    }

    /// The resources and data sources an expression set depends on, transitively through
    /// locals, variables (into the caller), module outputs and other blocks. Bounded.
    pub fn dependencies(
        &self,
        s: &Workspace,
        inst: usize,
        exprs: &[&Expression],
    ) -> BTreeSet<BlockAt> {
        let tf = s.terraform();
        #[derive(PartialEq, Eq, Hash, Clone)]
        enum Node {
            Local(usize, String),
            Var(usize, String),
            Output(usize, String),
            Block(BlockAt),
        }
        let mut out = BTreeSet::new();
        let mut seen: HashSet<Node> = HashSet::new();
        let mut work: Vec<(usize, Reference)> = Vec::new();
        for e in exprs {
            work.extend(expr::references(e).into_iter().map(|r| (inst, r)));
        }
        let mut steps = 0usize;
        while let Some((i, r)) = work.pop() {
            steps += 1;
            if steps > 100_000 {
                s.verbose("dependency walk stopped: too many references");
                break;
            }
            let node = match r.root.as_str() {
                "var" => r.attrs.first().map(|n| Node::Var(i, n.clone())),
                "local" => r.attrs.first().map(|n| Node::Local(i, n.clone())),
                "module" => match (r.attrs.first(), r.attrs.get(1)) {
                    (Some(m), Some(o)) => self.insts[i]
                        .children
                        .get(m)
                        .map(|c| Node::Output(*c, o.clone())),
                    (Some(m), None) => {
                        if let Some(&c) = self.insts[i].children.get(m) {
                            for o in self.module(tf, c).blocks_of(BlockKind::Output) {
                                let n = Node::Output(c, o.name.clone());
                                if seen.insert(n)
                                    && let Some(a) = tf.attribute(&s.repo, o.at, "value")
                                {
                                    work.extend(
                                        expr::references(&a.value).into_iter().map(|r| (c, r)),
                                    );
                                }
                            }
                        }
                        None
                    }
                    _ => None,
                },
                _ => self.target(tf, i, &r).map(Node::Block),
            };
            let Some(node) = node else { continue };
            if !seen.insert(node.clone()) {
                continue;
            }
            match node {
                Node::Local(i, n) => {
                    work.extend(self.local_refs(s, i, &n).into_iter().map(|r| (i, r)))
                }
                Node::Var(i, n) => {
                    if let Some((p, b)) = self.insts[i].parent
                        && let Some(call) = self.hcl(s, BlockAt { inst: p, block: b })
                        && let Some(a) = call.body.get_attribute(&n)
                    {
                        work.extend(expr::references(&a.value).into_iter().map(|r| (p, r)));
                    }
                }
                Node::Output(c, o) => {
                    if let Some(ob) = self.module(tf, c).block(&format!("output.{o}"))
                        && let Some(a) = tf.attribute(&s.repo, ob.at, "value")
                    {
                        work.extend(expr::references(&a.value).into_iter().map(|r| (c, r)));
                    }
                }
                Node::Block(b) => {
                    let kind = self.module(tf, b.inst).blocks[b.block].kind;
                    if matches!(kind, BlockKind::Resource | BlockKind::Data) {
                        out.insert(b);
                    }
                    if let Some(block) = self.hcl(s, b) {
                        for (_, e) in expr::body_expressions(&block.body) {
                            work.extend(expr::references(e).into_iter().map(|r| (b.inst, r)));
                        }
                    }
                }
            }
        }
        out
    }
}
