//! Evaluation: values of variables, locals, outputs and blocks per pass and module
//! instance, instance counts, block bindings, read phases, sensitive values and the value
//! budget.

use super::*;

pub(super) fn slot_text(slot: &Slot) -> String {
    match slot {
        Slot::Var(n) => format!("`var.{n}`"),
        Slot::Local(n) => format!("`local.{n}`"),
        Slot::Output(n) => format!("output `{n}`"),
        Slot::Block(_) => "a block".into(),
        Slot::Count(_) => "a block's count".into(),
        Slot::InstCount => "a module call's count".into(),
        Slot::Assume(c, b) => format!("the assumption that `{c}` is {b}"),
    }
}

/// The strings and numbers of a value, at any depth (bounded), as text.
pub(super) fn leaf_texts(v: &Value, out: &mut BTreeSet<String>, depth: usize) {
    if depth > 64 || out.len() > 10_000 {
        return;
    }
    match v {
        Value::String(t) => {
            out.insert(t.clone());
        }
        Value::Number(n) if n.is_finite() => {
            out.insert(if n.fract() == 0.0 && n.abs() < 1e15 {
                format!("{}", *n as i64)
            } else {
                n.to_string()
            });
        }
        Value::List(items) => items.iter().for_each(|i| leaf_texts(i, out, depth + 1)),
        Value::Object(m) => m.values().for_each(|i| leaf_texts(i, out, depth + 1)),
        _ => {}
    }
}

/// Words for an unknown.
pub fn unknown_text(u: &Unknown) -> String {
    match u {
        Unknown::AtApply { origin } => format!("known only after apply ({origin})"),
        Unknown::Undecidable { reason } => reason.clone(),
        Unknown::AtPlan { origin } => {
            format!("`{origin}` is known when Terraform plans, but preflight cannot see its value")
        }
        Unknown::AtApplyIf(a) => {
            let expr::ApplyIf {
                origin,
                condition,
                decided_by,
                when,
            } = &**a;
            format!(
                "known only after apply ({origin}) when `{condition}` is {when}; Terraform decides that at plan from `{decided_by}`, which preflight cannot see"
            )
        }
    }
}

pub(super) fn count_from_value(v: &Value) -> Count {
    match v {
        Value::Number(n) => Count::Known(*n as u64),
        Value::Unknown(u) => Count::Unknown(u.clone()),
        _ => Count::Unknown(Unknown::undecidable("count is not a number")),
    }
}

/// The value of a body as an object: attributes (meta-arguments left out) and nested
/// blocks as lists of objects.
pub(super) fn body_object(body: &Body, cx: &dyn Scope, depth: usize) -> BTreeMap<String, Value> {
    let mut obj = BTreeMap::new();
    for a in body.attributes() {
        let k = a.key.as_str();
        if depth == 0 && matches!(k, "count" | "for_each" | "provider" | "depends_on") {
            continue;
        }
        obj.insert(k.to_string(), expr::eval(&a.value, cx));
    }
    if depth > 8 {
        return obj;
    }
    for b in body.blocks() {
        let id = b.ident.as_str();
        match id {
            "lifecycle" | "provisioner" | "connection" | "precondition" | "postcondition" => {
                continue;
            }
            "dynamic" => {
                if let Some(l) = b.labels.first() {
                    obj.insert(
                        l.as_str().to_string(),
                        Value::undecidable(format!("`{}` is built by a dynamic block", l.as_str())),
                    );
                }
            }
            _ => {
                let v = Value::object(body_object(&b.body, cx, depth + 1));
                if let Value::List(items) = obj
                    .entry(id.to_string())
                    .or_insert_with(|| Value::list(Vec::new()))
                {
                    Arc::make_mut(items).push(v);
                }
            }
        }
    }
    obj
}

/// Parse a YAML document (the first) into a value.
pub fn yaml_to_value(text: &str) -> Option<Value> {
    let docs = crate::parse::yaml::parse_stream(crate::source::FileId(u32::MAX), text).ok()?;
    let doc = docs.into_iter().next()?;
    fn conv(y: crate::parse::yaml::Yaml<'_>, depth: usize) -> Value {
        if depth > 64 {
            return Value::undecidable("YAML nested too deeply");
        }
        if y.is_map() {
            return Value::object(
                y.entries()
                    .filter_map(|(k, v)| k.as_string().map(|k| (k.to_string(), conv(v, depth + 1))))
                    .collect(),
            );
        }
        if y.is_seq() {
            return Value::list(y.items().map(|v| conv(v, depth + 1)).collect());
        }
        if y.is_null() {
            return Value::Null;
        }
        if let Some(b) = y.as_bool() {
            return Value::Bool(b);
        }
        match y.as_string() {
            Some(s) => Value::String(s.to_string()),
            None => Value::Null,
        }
    }
    Some(conv(doc.root(), 0))
}

/// The evaluation scope of one module instance (and block instance).
pub(super) struct Ctx<'a> {
    an: &'a Analysis,
    s: &'a Workspace,
    pass: usize,
    inst: usize,
    iter: Iter,
    stack: &'a RefCell<Vec<Key>>,
    dir: PathBuf,
}

impl Scope for Ctx<'_> {
    fn has_assumptions(&self) -> bool {
        self.stack
            .borrow()
            .iter()
            .any(|k| matches!(k.2, Slot::Assume(..)))
    }

    fn assumed(&self, condition: &str) -> Option<bool> {
        self.stack.borrow().iter().rev().find_map(|k| match &k.2 {
            Slot::Assume(c, b) if k.1 == self.inst && c == condition => Some(*b),
            _ => None,
        })
    }

    fn assume(&self, condition: &str, outcome: bool) -> bool {
        let mut st = self.stack.borrow_mut();
        let open = st
            .iter()
            .filter(|k| matches!(k.2, Slot::Assume(..)))
            .count();
        if open >= MAX_ASSUMPTIONS || st.len() > MAX_CHAIN {
            return false;
        }
        st.push((
            self.pass,
            self.inst,
            Slot::Assume(condition.to_string(), outcome),
        ));
        true
    }

    fn unassume(&self) {
        let mut st = self.stack.borrow_mut();
        if let Some(i) = st.iter().rposition(|k| matches!(k.2, Slot::Assume(..))) {
            st.remove(i);
        }
    }

    fn resolve(&self, root: &str, attrs: &[&str]) -> Option<(Value, usize)> {
        let (an, s, pass, inst) = (self.an, self.s, self.pass, self.inst);
        let tf = s.terraform();
        match root {
            "var" => {
                let n = attrs.first()?;
                an.var_value(s, pass, inst, n, self.stack).map(|v| (v, 1))
            }
            "local" => {
                let n = attrs.first()?;
                an.local_value(s, pass, inst, n, self.stack).map(|v| (v, 1))
            }
            "module" => {
                let n = attrs.first()?;
                an.module_value(s, pass, inst, n, attrs, self.stack)
            }
            "data" => {
                if attrs.len() < 2 {
                    return None;
                }
                let block = an.block_index(tf, inst, &format!("data.{}.{}", attrs[0], attrs[1]))?;
                Some((
                    an.block_value_in(s, pass, BlockAt { inst, block }, self.stack),
                    2,
                ))
            }
            "count" => Some((
                match (&self.iter, attrs.first()) {
                    (Iter::Count(i), Some(&"index")) => Value::Number(*i as f64),
                    _ => Value::undecidable("`count.index` outside a counted block instance"),
                },
                attrs.len().min(1),
            )),
            "each" => Some((
                match (&self.iter, attrs.first()) {
                    (Iter::Each(k, _), Some(&"key")) => k.clone(),
                    (Iter::Each(_, v), Some(&"value")) => v.clone(),
                    _ => Value::undecidable("`each` outside a for_each block instance"),
                },
                attrs.len().min(1),
            )),
            "path" => {
                let v = match attrs.first() {
                    Some(&"module") => Value::String(self.dir.to_string_lossy().into_owned()),
                    Some(&"root") => Value::String(
                        s.repo
                            .root
                            .join(&an.module(tf, an.insts[inst].root).dir)
                            .to_string_lossy()
                            .into_owned(),
                    ),
                    Some(&"cwd") => Value::String(s.repo.root.to_string_lossy().into_owned()),
                    _ => return None,
                };
                Some((v, 1))
            }
            "terraform" => match attrs.first() {
                Some(&"workspace") => Some((Value::string("default"), 1)),
                _ => None,
            },
            "self" => Some((Value::undecidable("`self` is not evaluated"), 0)),
            ty => {
                let n = attrs.first()?;
                let block = an.block_index(tf, inst, &format!("{ty}.{n}"))?;
                Some((
                    an.block_value_in(s, pass, BlockAt { inst, block }, self.stack),
                    1,
                ))
            }
        }
    }

    fn module_dir(&self) -> Option<&Path> {
        Some(&self.dir)
    }

    fn repo_root(&self) -> Option<&Path> {
        Some(&self.s.repo.root)
    }
}

impl Analysis {
    /// Evaluate an expression in a module instance.
    pub fn eval(&self, s: &Workspace, pass: usize, inst: usize, e: &Expression) -> Value {
        let stack = RefCell::new(Vec::new());
        let cx = self.ctx(s, pass, inst, Iter::None, &stack);
        expr::eval(e, &cx)
    }

    /// Evaluate an expression in a block instance (`count.index`, `each.*` bound).
    pub fn eval_iter(
        &self,
        s: &Workspace,
        pass: usize,
        inst: usize,
        iter: Iter,
        e: &Expression,
    ) -> Value {
        let stack = RefCell::new(Vec::new());
        let cx = self.ctx(s, pass, inst, iter, &stack);
        expr::eval(e, &cx)
    }

    pub(super) fn ctx<'a>(
        &'a self,
        s: &'a Workspace,
        pass: usize,
        inst: usize,
        iter: Iter,
        stack: &'a RefCell<Vec<Key>>,
    ) -> Ctx<'a> {
        let tf = s.terraform();
        let dir = s.repo.root.join(&self.module(tf, inst).dir);
        Ctx {
            an: self,
            s,
            pass,
            inst,
            iter,
            stack,
            dir,
        }
    }

    pub(super) fn memo(
        &self,
        stack: &RefCell<Vec<Key>>,
        key: Key,
        f: impl FnOnce() -> Value,
    ) -> Value {
        // Under an assumption a value holds only for it: neither read nor kept.
        let assuming = stack
            .borrow()
            .iter()
            .any(|k| matches!(k.2, Slot::Assume(..)));
        if !assuming
            && let Ok(m) = self.memo.lock()
            && let Some(v) = m.get(&key)
        {
            return v.clone();
        }
        {
            let st = stack.borrow();
            if st.contains(&key) {
                return Value::undecidable(format!(
                    "{} refers to itself (a cycle)",
                    slot_text(&key.2)
                ));
            }
            if st.len() > MAX_CHAIN {
                return Value::undecidable("the chain of references is too long to follow");
            }
        }
        stack.borrow_mut().push(key.clone());
        let mut v = f();
        stack.borrow_mut().pop();
        if assuming {
            return v;
        }
        // A value whose evaluation ran out of work budget names this slot as the origin,
        // so that what depends on it says where the budget was spent.
        if let Some(Unknown::Undecidable { reason }) = v.first_unknown()
            && *reason == expr::over_budget_reason()
        {
            v = Value::undecidable(format!("{} is {OVER_BUDGET}: {reason}", slot_text(&key.2)));
        }
        // Bounded memory: one slot, and everything one root keeps.
        let w = v.weight(MAX_SLOT_WEIGHT);
        let root = self.insts.get(key.1).map_or(key.1, |i| i.root);
        if w > MAX_SLOT_WEIGHT {
            v = Value::undecidable(format!(
                "{} is {OVER_BUDGET}: it holds more than {} MiB of values",
                slot_text(&key.2),
                MAX_SLOT_WEIGHT / (1024 * 1024)
            ));
        } else if let Ok(mut kept) = self.kept.lock() {
            let total = kept.entry(root).or_insert(0);
            if *total + w > MAX_ROOT_WEIGHT {
                v = Value::undecidable(format!(
                    "{} is {OVER_BUDGET}: the root's values exceed {} MiB",
                    slot_text(&key.2),
                    MAX_ROOT_WEIGHT / (1024 * 1024)
                ));
            } else {
                *total += w;
            }
        }
        if let Ok(mut m) = self.memo.lock() {
            m.insert(key, v.clone());
        }
        v
    }

    /// The block's own instance count (its `count` / `for_each`), in its instance.
    pub fn own_count(&self, s: &Workspace, pass: usize, at: BlockAt) -> Count {
        let stack = RefCell::new(Vec::new());
        count_from_value(&self.own_count_value(s, pass, at, &stack))
    }

    pub(super) fn own_count_value(
        &self,
        s: &Workspace,
        pass: usize,
        at: BlockAt,
        stack: &RefCell<Vec<Key>>,
    ) -> Value {
        self.memo(stack, (pass, at.inst, Slot::Count(at.block)), || {
            let Some(block) = self.hcl(s, at) else {
                return Value::Number(1.0);
            };
            let cx = self.ctx(s, pass, at.inst, Iter::None, stack);
            if let Some(a) = block.body.get_attribute("count") {
                let v = expr::eval(&a.value, &cx);
                return match v.to_number() {
                    Ok(Value::Number(n)) if n >= 0.0 && n.fract() == 0.0 => Value::Number(n),
                    Ok(Value::Unknown(u)) => Value::Unknown(u),
                    Ok(Value::Null) => Value::undecidable("count is null"),
                    _ => Value::undecidable("count is not a whole number"),
                };
            }
            if let Some(a) = block.body.get_attribute("for_each") {
                return match expr::eval(&a.value, &cx) {
                    Value::Object(m) => Value::Number(m.len() as f64),
                    Value::List(items) => match Unknown::combine_shallow(items.iter()) {
                        Some(u) => Value::Unknown(u),
                        None => {
                            let mut keys: Vec<String> = items
                                .iter()
                                .filter_map(|v| v.as_str().map(str::to_owned))
                                .collect();
                            keys.sort();
                            keys.dedup();
                            Value::Number(keys.len() as f64)
                        }
                    },
                    Value::Unknown(u) => Value::Unknown(u),
                    Value::Null => Value::undecidable("for_each is null"),
                    other => Value::undecidable(format!("for_each is a {}", other.type_name())),
                };
            }
            Value::Number(1.0)
        })
    }

    /// How many instances of a module instance exist (the product of the calls' counts).
    pub fn inst_count(&self, s: &Workspace, pass: usize, inst: usize) -> Count {
        let stack = RefCell::new(Vec::new());
        count_from_value(&self.inst_count_value(s, pass, inst, &stack))
    }

    pub(super) fn inst_count_value(
        &self,
        s: &Workspace,
        pass: usize,
        inst: usize,
        stack: &RefCell<Vec<Key>>,
    ) -> Value {
        let Some((parent, block)) = self.insts[inst].parent else {
            return Value::Number(1.0);
        };
        self.memo(stack, (pass, inst, Slot::InstCount), || {
            let own = match &self.insts[inst].binds {
                Some(b) => Count::Known(u64::from(b.get(pass).is_some_and(Option::is_some))),
                None => count_from_value(&self.own_count_value(
                    s,
                    pass,
                    BlockAt {
                        inst: parent,
                        block,
                    },
                    stack,
                )),
            };
            let up = count_from_value(&self.inst_count_value(s, pass, parent, stack));
            match up.times(&own) {
                Count::Known(n) => Value::Number(n as f64),
                Count::Unknown(u) => Value::Unknown(u),
            }
        })
    }

    /// The block's instance count under the current values, module calls included.
    pub fn count(&self, s: &Workspace, pass: usize, at: BlockAt) -> Count {
        self.inst_count(s, pass, at.inst)
            .times(&self.own_count(s, pass, at))
    }

    /// When a data source is read, in a pass (first instance).
    pub fn read_phase(&self, s: &Workspace, pass: usize, at: BlockAt) -> ReadPhase {
        let stack = RefCell::new(Vec::new());
        let iter = self.first_iter(s, pass, at);
        self.read_phase_in(s, pass, at, iter, &stack)
    }

    pub(super) fn read_phase_in(
        &self,
        s: &Workspace,
        pass: usize,
        at: BlockAt,
        iter: Iter,
        stack: &RefCell<Vec<Key>>,
    ) -> ReadPhase {
        let Some(block) = self.hcl(s, at) else {
            return ReadPhase::Unknown("the block cannot be read".into());
        };
        let tf = s.terraform();
        if let Count::Unknown(Unknown::AtApply { origin }) =
            count_from_value(&self.own_count_value(s, pass, at, stack))
        {
            return ReadPhase::Apply(format!("its count is known only after apply ({origin})"));
        }
        // depends_on on a managed resource (or a module holding one) defers the read; so
        // does depends_on on an enclosing module call.
        let mut deps: Vec<(usize, &hcl_edit::structure::Attribute)> = Vec::new();
        if let Some(d) = block.body.get_attribute("depends_on") {
            deps.push((at.inst, d));
        }
        let mut cur = at.inst;
        while let Some((p, b)) = self.insts[cur].parent {
            if let Some(call) = self.hcl(s, BlockAt { inst: p, block: b })
                && let Some(d) = call.body.get_attribute("depends_on")
            {
                deps.push((p, d));
            }
            cur = p;
        }
        for (inst, d) in deps {
            for r in expr::references(&d.value) {
                let module = self.module(tf, inst);
                let pending = if r.root == "module" {
                    r.attrs.first().is_some_and(|m| {
                        self.insts[inst]
                            .children
                            .get(m)
                            .is_none_or(|c| self.has_managed(tf, *c, 0))
                    })
                } else if r.root != "data" && !is_reserved_root(&r.root) {
                    r.attrs
                        .first()
                        .is_some_and(|n| module.block(&format!("{}.{n}", r.root)).is_some())
                } else {
                    false
                };
                if pending {
                    return ReadPhase::Apply(format!("it depends on `{}`", r.dotted()));
                }
            }
        }
        let cx = self.ctx(s, pass, at.inst, iter, stack);
        let mut undecided = None;
        for (key, e) in expr::body_expressions(&block.body) {
            if matches!(key, "count" | "for_each" | "depends_on" | "provider") {
                continue;
            }
            match expr::eval(e, &cx).first_unknown() {
                Some(Unknown::AtApply { origin }) => {
                    return ReadPhase::Apply(format!(
                        "`{key}` is known only after apply ({origin})"
                    ));
                }
                Some(Unknown::Undecidable { reason }) => {
                    undecided.get_or_insert(format!("`{key}`: {reason}"));
                }
                Some(u @ Unknown::AtApplyIf(_)) => {
                    undecided.get_or_insert(format!("`{key}` is {}", unknown_text(u)));
                }
                // Known at plan: the data source is still read during plan.
                Some(Unknown::AtPlan { .. }) | None => {}
            }
        }
        match undecided {
            Some(r) => ReadPhase::Unknown(r),
            None => ReadPhase::Plan,
        }
    }

    pub(super) fn has_managed(&self, tf: &TerraformModel, inst: usize, depth: usize) -> bool {
        depth > MAX_MODULE_DEPTH
            || self
                .module(tf, inst)
                .blocks_of(BlockKind::Resource)
                .next()
                .is_some()
            || self.insts[inst]
                .children
                .values()
                .any(|c| self.has_managed(tf, *c, depth + 1))
    }

    /// The bindings of a block's instances: `Err` when they cannot be enumerated.
    pub fn iters(&self, s: &Workspace, pass: usize, at: BlockAt) -> Result<Vec<Iter>, Unknown> {
        let Some(block) = self.hcl(s, at) else {
            return Ok(vec![Iter::None]);
        };
        if block.body.get_attribute("count").is_some() {
            return match self.own_count(s, pass, at) {
                Count::Known(n) => Ok((0..n.min(1000) as usize).map(Iter::Count).collect()),
                Count::Unknown(u) => Err(u),
            };
        }
        if let Some(a) = block.body.get_attribute("for_each") {
            return match self.eval(s, pass, at.inst, &a.value) {
                Value::Object(m) => Ok(Arc::unwrap_or_clone(m)
                    .into_iter()
                    .map(|(k, v)| Iter::Each(Value::String(k), v))
                    .collect()),
                Value::List(items) => match Unknown::combine_shallow(items.iter()) {
                    Some(u) => Err(u),
                    None => Ok(Arc::unwrap_or_clone(items)
                        .into_iter()
                        .map(|v| Iter::Each(v.clone(), v))
                        .collect()),
                },
                Value::Unknown(u) => Err(u),
                other => Err(Unknown::undecidable(format!(
                    "for_each is a {}",
                    other.type_name()
                ))),
            };
        }
        Ok(vec![Iter::None])
    }

    /// The binding of the first instance (or an undecided one).
    pub fn first_iter(&self, s: &Workspace, pass: usize, at: BlockAt) -> Iter {
        match self.iters(s, pass, at) {
            Ok(v) => v.into_iter().next().unwrap_or(Iter::None),
            Err(_) => Iter::None,
        }
    }

    /// The whole value of a resource or data source: an object, or a list/map of them.
    pub fn block_value(&self, s: &Workspace, pass: usize, at: BlockAt) -> Value {
        let stack = RefCell::new(Vec::new());
        self.block_value_in(s, pass, at, &stack)
    }

    pub(super) fn block_value_in(
        &self,
        s: &Workspace,
        pass: usize,
        at: BlockAt,
        stack: &RefCell<Vec<Key>>,
    ) -> Value {
        self.memo(stack, (pass, at.inst, Slot::Block(at.block)), || {
            let Some(block) = self.hcl(s, at) else {
                return Value::undecidable("the block cannot be read");
            };
            if block.body.get_attribute("count").is_some() {
                return match count_from_value(&self.own_count_value(s, pass, at, stack)) {
                    Count::Known(n) => Value::list(
                        (0..n.min(1000) as usize)
                            .map(|i| self.instance_object(s, pass, at, Iter::Count(i), stack))
                            .collect(),
                    ),
                    Count::Unknown(u) => Value::Unknown(u),
                };
            }
            if let Some(a) = block.body.get_attribute("for_each") {
                let cx = self.ctx(s, pass, at.inst, Iter::None, stack);
                let items: Vec<(String, Value)> = match expr::eval(&a.value, &cx) {
                    Value::Object(m) => Arc::unwrap_or_clone(m).into_iter().collect(),
                    Value::List(items) => {
                        if let Some(u) = Unknown::combine_shallow(items.iter()) {
                            return Value::Unknown(u);
                        }
                        items
                            .iter()
                            .filter_map(|v| v.as_str().map(|k| (k.to_string(), v.clone())))
                            .collect()
                    }
                    Value::Unknown(u) => return Value::Unknown(u),
                    other => {
                        return Value::undecidable(format!("for_each is a {}", other.type_name()));
                    }
                };
                return Value::object(
                    items
                        .into_iter()
                        .map(|(k, v)| {
                            let o = self.instance_object(
                                s,
                                pass,
                                at,
                                Iter::Each(Value::String(k.clone()), v),
                                stack,
                            );
                            (k, o)
                        })
                        .collect(),
                );
            }
            self.instance_object(s, pass, at, Iter::None, stack)
        })
    }

    pub(super) fn instance_object(
        &self,
        s: &Workspace,
        pass: usize,
        at: BlockAt,
        iter: Iter,
        stack: &RefCell<Vec<Key>>,
    ) -> Value {
        let tf = s.terraform();
        let Some(block) = self.hcl(s, at) else {
            return Value::undecidable("the block cannot be read");
        };
        let tb = &self.module(tf, at.inst).blocks[at.block];
        let is_data = tb.kind == BlockKind::Data;
        let cx = self.ctx(s, pass, at.inst, iter.clone(), stack);
        let mut obj = body_object(&block.body, &cx, 0);
        let index = match &iter {
            Iter::None => String::new(),
            Iter::Count(i) => format!("[{i}]"),
            Iter::Each(k, _) => format!("[{k}]"),
        };
        let address = format!("{}{}{index}", self.insts[at.inst].prefix, tb.address());
        let phase = if is_data {
            Some(self.read_phase_in(s, pass, at, iter.clone(), stack))
        } else {
            None
        };
        let computed = |attr: &str| -> Value {
            if let Some(phase) = &phase {
                match phase {
                    ReadPhase::Plan => {
                        Value::Unknown(Unknown::at_plan(format!("{address}.{attr}")))
                    }
                    ReadPhase::Apply(_) => Value::at_apply(format!("{address}.{attr}")),
                    ReadPhase::Unknown(r) => Value::undecidable(r.clone()),
                }
            } else {
                Value::at_apply(format!("{address}.{attr}"))
            }
        };
        if let Some(names) = self
            .read_attrs
            .get(&(self.insts[at.inst].module, tb.address()))
        {
            for n in names {
                if !obj.contains_key(n) {
                    // Planned by the provider from the configuration (a reviewed table).
                    let v = (!is_data)
                        .then(|| {
                            crate::model::terraform::planned::planned(
                                &tb.type_name,
                                n,
                                &obj,
                                &format!("{address}.{n}"),
                            )
                        })
                        .flatten()
                        .unwrap_or_else(|| computed(n));
                    obj.insert(n.clone(), v);
                }
            }
        }
        for n in ["id", "arn"] {
            if !obj.contains_key(n) {
                let v = computed(n);
                obj.insert(n.to_string(), v);
            }
        }
        Value::object(obj)
    }

    pub(super) fn local_value(
        &self,
        s: &Workspace,
        pass: usize,
        inst: usize,
        name: &str,
        stack: &RefCell<Vec<Key>>,
    ) -> Option<Value> {
        let tf = s.terraform();
        let module = self.module(tf, inst);
        let def = module.local(name)?;
        let e = tf.local_expr(&s.repo, def)?;
        Some(
            self.memo(stack, (pass, inst, Slot::Local(name.to_string())), || {
                let cx = self.ctx(s, pass, inst, Iter::None, stack);
                expr::eval(e, &cx)
            }),
        )
    }

    pub(super) fn output_value(
        &self,
        s: &Workspace,
        pass: usize,
        inst: usize,
        name: &str,
        stack: &RefCell<Vec<Key>>,
    ) -> Option<Value> {
        let tf = s.terraform();
        let module = self.module(tf, inst);
        let out = module.block(&format!("output.{name}"))?;
        let attr = tf.attribute(&s.repo, out.at, "value")?;
        Some(
            self.memo(stack, (pass, inst, Slot::Output(name.to_string())), || {
                let cx = self.ctx(s, pass, inst, Iter::None, stack);
                expr::eval(&attr.value, &cx)
            }),
        )
    }

    pub(super) fn module_value(
        &self,
        s: &Workspace,
        pass: usize,
        inst: usize,
        call: &str,
        attrs: &[&str],
        stack: &RefCell<Vec<Key>>,
    ) -> Option<(Value, usize)> {
        let tf = s.terraform();
        let module = self.module(tf, inst);
        let call_block = module.block(&format!("module.{call}"))?;
        let Some(&child) = self.insts[inst].children.get(call) else {
            let src = module
                .call(call)
                .map(|c| match &c.source {
                    ModuleSource::External(x) => format!("an external module ({x}), not inspected"),
                    _ => "not a module of this repository".to_string(),
                })
                .unwrap_or_default();
            return Some((Value::undecidable(format!("`module.{call}` is {src}")), 1));
        };
        let hb = tf.hcl_block(&s.repo, call_block.at);
        let iterated = hb.is_some_and(|b| {
            b.body.get_attribute("count").is_some() || b.body.get_attribute("for_each").is_some()
        });
        if !iterated && attrs.len() >= 2 {
            let v = self
                .output_value(s, pass, child, attrs[1], stack)
                .unwrap_or_else(|| {
                    Value::undecidable(format!("`module.{call}` has no output `{}`", attrs[1]))
                });
            return Some((v, 2));
        }
        let outputs_of = |child: usize| -> Value {
            Value::object(
                self.module(tf, child)
                    .blocks_of(BlockKind::Output)
                    .filter_map(|o| {
                        self.output_value(s, pass, child, &o.name, stack)
                            .map(|v| (o.name.clone(), v))
                    })
                    .collect(),
            )
        };
        // A call expanded into its instances: each instance's own outputs.
        if let Some(list) = self.insts[inst].keyed.get(call) {
            let present = list.iter().filter_map(|&c| match self.bind(c, pass) {
                Iter::None => None,
                b => Some((b, c)),
            });
            let v = if hb.is_some_and(|b| b.body.get_attribute("count").is_some()) {
                Value::list(present.map(|(_, c)| outputs_of(c)).collect())
            } else {
                Value::object(
                    present
                        .filter_map(|(b, c)| match b {
                            Iter::Each(k, _) => k.as_str().map(|k| (k.to_string(), outputs_of(c))),
                            _ => None,
                        })
                        .collect(),
                )
            };
            return Some((v, 1));
        }
        let obj = outputs_of(child);
        if !iterated {
            return Some((obj, 1));
        }
        let at = BlockAt {
            inst,
            block: self.block_index(tf, inst, &format!("module.{call}"))?,
        };
        let v = if hb.is_some_and(|b| b.body.get_attribute("count").is_some()) {
            match count_from_value(&self.own_count_value(s, pass, at, stack)) {
                Count::Known(n) => Value::list(vec![obj; n.min(1000) as usize]),
                Count::Unknown(u) => Value::Unknown(u),
            }
        } else {
            let fe = hb.and_then(|b| b.body.get_attribute("for_each"));
            let cx = self.ctx(s, pass, inst, Iter::None, stack);
            match fe.map(|a| expr::eval(&a.value, &cx)) {
                Some(Value::Object(m)) => {
                    Value::object(m.keys().map(|k| (k.clone(), obj.clone())).collect())
                }
                Some(Value::List(items)) => Value::object(
                    items
                        .iter()
                        .filter_map(|v| v.as_str().map(|k| (k.to_string(), obj.clone())))
                        .collect(),
                ),
                Some(Value::Unknown(u)) => Value::Unknown(u),
                _ => Value::undecidable("for_each of the module call cannot be evaluated"),
            }
        };
        Some((v, 1))
    }

    /// The known text of every value Terraform marks sensitive in the roots of this
    /// analysis, in every module instance and selected pass (strings and numbers at any
    /// depth; unknown parts have no text). Terraform's mark follows the value through every
    /// operation and function, so besides each `sensitive = true` variable and output this
    /// is every local, output and resource or data argument whose expression refers to a
    /// sensitive value (a sensitive variable, a local that does, a child module's sensitive
    /// output): `lower(var.token)` is as secret as `var.token`. Reports print `(sensitive)`
    /// in their place.
    pub fn sensitive_strings(&self, s: &Workspace) -> Vec<String> {
        let tf = s.terraform();
        let declared = |at: crate::model::terraform::BlockRef| {
            tf.hcl_block(&s.repo, at).is_some_and(|b| {
                b.body
                    .get_attribute("sensitive")
                    .map(|a| expr::eval(&a.value, &EmptyScope))
                    == Some(Value::Bool(true))
            })
        };
        let mut exprs: Vec<(usize, &Expression)> = Vec::new();
        let mut vars: Vec<(usize, String)> = Vec::new();
        for inst in 0..self.insts.len() {
            let module = self.module(tf, inst);
            let sensitive_var: HashSet<&str> = module
                .variables()
                .filter(|b| declared(b.at))
                .map(|b| b.name.as_str())
                .collect();
            vars.extend(sensitive_var.iter().map(|n| (inst, n.to_string())));
            // Child calls whose module declares a sensitive output.
            let sensitive_output = |call: &str, out: &str| {
                self.insts[inst].children.get(call).is_some_and(|&c| {
                    self.module(tf, c)
                        .block(&format!("output.{out}"))
                        .is_some_and(|b| declared(b.at))
                })
            };
            // Locals that refer to a sensitive value, to a fixed point (bounded).
            let local_refs: Vec<(&str, Vec<expr::Reference>, Option<&Expression>)> = module
                .locals
                .iter()
                .map(|l| {
                    let e = tf.local_expr(&s.repo, l);
                    (
                        l.name.as_str(),
                        e.map(expr::references).unwrap_or_default(),
                        e,
                    )
                })
                .collect();
            let mut tainted_locals: HashSet<&str> = HashSet::new();
            let tainted = |r: &expr::Reference, locals: &HashSet<&str>| match r.root.as_str() {
                "var" => r
                    .attrs
                    .first()
                    .is_some_and(|n| sensitive_var.contains(n.as_str())),
                "local" => r.attrs.first().is_some_and(|n| locals.contains(n.as_str())),
                "module" => match (r.attrs.first(), r.attrs.get(1)) {
                    (Some(c), Some(o)) => sensitive_output(c, o),
                    _ => false,
                },
                _ => false,
            };
            for _ in 0..=local_refs.len().min(64) {
                let before = tainted_locals.len();
                for (name, refs, _) in &local_refs {
                    if !tainted_locals.contains(name)
                        && refs.iter().any(|r| tainted(r, &tainted_locals))
                    {
                        tainted_locals.insert(name);
                    }
                }
                if tainted_locals.len() == before {
                    break;
                }
            }
            for (name, _, e) in &local_refs {
                if let (true, Some(e)) = (tainted_locals.contains(name), e) {
                    exprs.push((inst, e));
                }
            }
            for b in &module.blocks {
                let Some(block) = tf.hcl_block(&s.repo, b.at) else {
                    continue;
                };
                match b.kind {
                    BlockKind::Output => {
                        if let Some(a) = block.body.get_attribute("value")
                            && (declared(b.at)
                                || expr::references(&a.value)
                                    .iter()
                                    .any(|r| tainted(r, &tainted_locals)))
                        {
                            exprs.push((inst, &a.value));
                        }
                    }
                    BlockKind::Resource | BlockKind::Data | BlockKind::Module => {
                        for (_, e) in expr::body_expressions(&block.body) {
                            if expr::references(e)
                                .iter()
                                .any(|r| tainted(r, &tainted_locals))
                            {
                                exprs.push((inst, e));
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        let mut out = BTreeSet::new();
        for &pass in &self.selected {
            for (inst, name) in &vars {
                let stack = RefCell::new(Vec::new());
                if let Some(v) = self.var_value(s, pass, *inst, name, &stack) {
                    leaf_texts(&v, &mut out, 0);
                }
            }
            for &(inst, e) in &exprs {
                leaf_texts(&self.eval(s, pass, inst, e), &mut out, 0);
            }
        }
        out.into_iter().collect()
    }

    /// The locals, variables and outputs of the roots of this analysis whose value is
    /// "cannot tell" because it is over the value or work budget (it would copy or process
    /// too much), where the budget was spent: their spans and the reason. Every local,
    /// variable and output of every instance is evaluated in every selected pass.
    pub fn over_budget(&self, s: &Workspace) -> Vec<(Span, String)> {
        let tf = s.terraform();
        let mut out: Vec<(Span, String)> = Vec::new();
        let mut seen = HashSet::new();
        for inst in 0..self.insts.len() {
            let module = self.module(tf, inst);
            let mut slots: Vec<(Span, Slot)> = module
                .locals
                .iter()
                .map(|l| (l.span, Slot::Local(l.name.clone())))
                .collect();
            for b in &module.blocks {
                match b.kind {
                    BlockKind::Variable => slots.push((b.header, Slot::Var(b.name.clone()))),
                    BlockKind::Output => slots.push((b.header, Slot::Output(b.name.clone()))),
                    _ => {}
                }
            }
            for (span, slot) in slots {
                for &pass in &self.selected {
                    let stack = RefCell::new(Vec::new());
                    let v = match &slot {
                        Slot::Local(n) => self.local_value(s, pass, inst, n, &stack),
                        Slot::Var(n) => self.var_value(s, pass, inst, n, &stack),
                        Slot::Output(n) => self.output_value(s, pass, inst, n, &stack),
                        _ => None,
                    };
                    // Only a value over budget names the slot: the text is made for those.
                    if let Some(Value::Unknown(Unknown::Undecidable { reason })) = v
                        && reason.contains(OVER_BUDGET)
                        && reason.starts_with(&format!("{} is {OVER_BUDGET}", slot_text(&slot)))
                        && seen.insert((span.file, span.start))
                    {
                        out.push((span, reason));
                    }
                }
            }
        }
        out
    }

    /// Whether any variable or output of the model is declared `sensitive` (so that
    /// [`Analysis::sensitive_strings`] is worth asking).
    pub fn declares_sensitive(s: &Workspace) -> bool {
        let tf = s.terraform();
        tf.modules.iter().any(|m| {
            m.blocks.iter().any(|b| {
                matches!(b.kind, BlockKind::Variable | BlockKind::Output)
                    && tf
                        .hcl_block(&s.repo, b.at)
                        .is_some_and(|h| h.body.get_attribute("sensitive").is_some())
            })
        })
    }
}
