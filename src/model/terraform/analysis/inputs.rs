//! Inputs of the roots: variables and their values (defaults, tfvars, `--var-file`,
//! `--var`, `TF_VAR_*`), and the passes of a staged apply with their inference.

use super::*;

pub(super) fn toml_to_value(v: &toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::String(s.clone()),
        toml::Value::Integer(i) => Value::Number(*i as f64),
        toml::Value::Float(f) => Value::Number(*f),
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::list(a.iter().map(toml_to_value).collect()),
        toml::Value::Table(t) => Value::object(
            t.iter()
                .map(|(k, v)| (k.clone(), toml_to_value(v)))
                .collect(),
        ),
    }
}

/// The attributes of a tfvars body, evaluated as constants.
pub(super) fn tfvars_values(body: &Body) -> Vec<(String, Value)> {
    body.attributes()
        .map(|a| {
            (
                a.key.as_str().to_string(),
                expr::eval(&a.value, &EmptyScope),
            )
        })
        .collect()
}

pub(super) fn non_nullable(decl: Option<&Block>) -> bool {
    decl.and_then(|b| b.body.get_attribute("nullable"))
        .is_some_and(|a| matches!(&a.value, Expression::Bool(b) if !*b.value()))
}

/// Parse a `--var`/`TF_VAR_` value: literally for string (or untyped) variables, as an HCL
/// expression otherwise, like Terraform.
pub(super) fn parse_raw(text: &str, type_expr: Option<&Expression>) -> Value {
    let is_string = match type_expr {
        None => true,
        Some(t) => canonical_text(t) == "string",
    };
    if is_string {
        return Value::String(text.to_string());
    }
    match crate::parse::hcl::parse_expression(text) {
        Some(e) => expr::eval(&e, &EmptyScope),
        None => Value::String(text.to_string()),
    }
}

/// Fill `optional(T, default)` attributes of object types that the value leaves out.
pub(super) fn apply_type_defaults(ty: &Expression, v: Value, depth: usize) -> Value {
    if depth > 16 {
        return v;
    }
    let Expression::FuncCall(call) = strip_parens(ty) else {
        return v;
    };
    let name = call.name.name.as_str();
    let arg = call.args.iter().next();
    match (name, v) {
        ("object", Value::Object(mut obj)) => {
            if let Some(Expression::Object(spec)) = arg {
                let m = Arc::make_mut(&mut obj);
                for (k, te) in spec.iter() {
                    let key = match k {
                        hcl_edit::expr::ObjectKey::Ident(id) => id.value().as_str().to_string(),
                        hcl_edit::expr::ObjectKey::Expression(e) => canonical_text(e),
                    };
                    let te = te.expr();
                    let (inner_ty, default) = match strip_parens(te) {
                        Expression::FuncCall(c) if c.name.name.as_str() == "optional" => {
                            let mut it = c.args.iter();
                            let t = it.next();
                            let d = it
                                .next()
                                .map(|d| expr::eval(d, &EmptyScope))
                                .unwrap_or(Value::Null);
                            (t, Some(d))
                        }
                        _ => (Some(te), None),
                    };
                    let cur = m.remove(&key);
                    let nv = match (cur, default) {
                        (Some(Value::Null), Some(d)) | (None, Some(d)) => d,
                        (Some(x), _) => x,
                        (None, None) => continue,
                    };
                    let nv = match inner_ty {
                        Some(t) => apply_type_defaults(t, nv, depth + 1),
                        None => nv,
                    };
                    m.insert(key, nv);
                }
            }
            Value::Object(obj)
        }
        ("map", Value::Object(m)) => match arg {
            Some(t) => Value::object(
                Arc::unwrap_or_clone(m)
                    .into_iter()
                    .map(|(k, x)| (k, apply_type_defaults(t, x, depth + 1)))
                    .collect(),
            ),
            None => Value::Object(m),
        },
        ("list" | "set", Value::List(items)) => match arg {
            Some(t) => Value::list(
                Arc::unwrap_or_clone(items)
                    .into_iter()
                    .map(|x| apply_type_defaults(t, x, depth + 1))
                    .collect(),
            ),
            None => Value::List(items),
        },
        (_, v) => v,
    }
}

/// Largest variable file read.
pub(super) const VAR_FILE_LIMIT: u64 = 16 * 1024 * 1024;

/// A file the user named on the command line (`--var-file`): anything they can read,
/// including a pipe (`<(…)`), up to the variable-file limit.
pub(super) fn read_user_file(path: &Path) -> Result<String, crate::safe_fs::Refusal> {
    use std::io::Read;
    let err = |e: std::io::Error| crate::safe_fs::Refusal::Io(e.to_string());
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .map_err(err)?
        .take(VAR_FILE_LIMIT + 1)
        .read_to_end(&mut bytes)
        .map_err(err)?;
    if bytes.len() as u64 > VAR_FILE_LIMIT {
        return Err(crate::safe_fs::Refusal::TooLarge(bytes.len() as u64));
    }
    String::from_utf8(bytes).map_err(|_| crate::safe_fs::Refusal::Io("not UTF-8 text".into()))
}

pub(super) fn var_file_values(
    s: &Workspace,
    path: &Path,
    read: Result<String, crate::safe_fs::Refusal>,
) -> Vec<(String, Input)> {
    let text = match read {
        Ok(t) => t,
        Err(e) => {
            s.verbose(format!("var file {}: not read: it {e}", path.display()));
            return Vec::new();
        }
    };
    if path.extension().is_some_and(|e| e == "json") {
        return match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(serde_json::Value::Object(m)) => m
                .iter()
                .map(|(k, v)| (k.clone(), Input::Value(Value::from_json(v))))
                .collect(),
            _ => {
                s.verbose(format!("var file {}: not a JSON object", path.display()));
                Vec::new()
            }
        };
    }
    match crate::parse::hcl::parse(&text) {
        Ok(body) => tfvars_values(&body)
            .into_iter()
            .map(|(k, v)| (k, Input::Value(v)))
            .collect(),
        Err(e) => {
            s.verbose(format!("var file {}: {}", path.display(), e.message));
            Vec::new()
        }
    }
}

/// Whether a variable is declared `type = bool`, or has a boolean default and no type.
pub(super) fn is_bool_variable(
    s: &Workspace,
    tf: &TerraformModel,
    v: &crate::model::terraform::module::TfBlock,
) -> bool {
    let Some(block) = tf.hcl_block(&s.repo, v.at) else {
        return false;
    };
    match block.body.get_attribute("type") {
        Some(t) => canonical_text(&t.value) == "bool",
        None => matches!(
            block
                .body
                .get_attribute("default")
                .map(|d| strip_parens(&d.value)),
            Some(Expression::Bool(_))
        ),
    }
}

/// Passes from the scripts: the `terraform apply` runs of the root folder `dir` in one
/// script or Makefile target, in order, whose boolean `-var`s go from `false` to `true`.
/// Returns the first and last run's boolean settings and where they are.
pub(super) type Overrides = Vec<(String, Value)>;

pub(super) fn script_passes(s: &Workspace, dir: &str) -> Option<(Overrides, Overrides, String)> {
    use crate::model::steps::StepKind;
    let steps = &s.steps().steps;
    let runs: Vec<&crate::model::steps::Step> = steps
        .iter()
        .filter(|st| matches!(&st.kind, StepKind::Terraform { command, dir: Some(d), .. } if command == "apply" && d == dir))
        .collect();
    // `TF_VAR_` loses to the root's terraform.tfvars and *.auto.tfvars.
    let tfvars_names: HashSet<String> = s
        .terraform()
        .module_at(dir)
        .map(|m| {
            s.terraform()
                .module(m)
                .var_files
                .iter()
                .filter_map(|&f| crate::parse::hcl_body(s.repo.syntax(f)))
                .flat_map(|b| b.attributes().map(|a| a.key.as_str().to_string()))
                .collect()
        })
        .unwrap_or_default();
    let bools = |st: &crate::model::steps::Step| -> Overrides {
        st.settings(&s.repo, |n| tfvars_names.contains(n))
            .into_iter()
            .filter_map(|(k, v)| match v.as_str() {
                "true" => Some((k, Value::Bool(true))),
                "false" => Some((k, Value::Bool(false))),
                _ => None,
            })
            .collect()
    };
    for (i, a) in runs.iter().enumerate() {
        for b in &runs[i + 1..] {
            if a.file != b.file || a.unit != b.unit {
                continue;
            }
            let (x, y) = (bools(a), bools(b));
            let flips = x.iter().any(|(k, v)| {
                *v == Value::Bool(false) && y.iter().any(|(n, w)| n == k && *w == Value::Bool(true))
            });
            if flips {
                let f = s.repo.file(a.file);
                let line = |st: &crate::model::steps::Step| f.line_col(st.span.start as usize).0;
                let why = format!(
                    "{} runs `terraform apply` on {} at line {} and again at line {}",
                    f.rel_path,
                    if dir.is_empty() { "." } else { dir },
                    line(a),
                    line(b)
                );
                return Some((x, y, why));
            }
        }
    }
    None
}

impl Analysis {
    /// Passes of a staged apply, when none are declared. First from the repository's
    /// scripts and Makefiles: `terraform apply` of a root in scope run more than once in
    /// one script, with a boolean `-var` going from `false` to `true`. Else from the roots
    /// themselves: a boolean root variable that gates every user of a provider configured
    /// from an object the root creates, and not that object's creator, is a phase flag
    /// (pass 1 with it `false`, pass 2 `true`).
    pub(super) fn infer_passes(&self, s: &Workspace) -> Option<Vec<Pass>> {
        let tf = s.terraform();
        let mut first: Vec<(String, Value)> = Vec::new();
        let mut second: Vec<(String, Value)> = Vec::new();
        let mut sources: Vec<String> = Vec::new();
        // Each root is read on its own (side by side), then merged in root order.
        let indexed: Vec<(usize, usize)> = self.roots.iter().copied().enumerate().collect();
        let per_root = crate::model::map_on_threads(&indexed, |&(rp, root)| {
            let module = tf.module(self.insts[root].module);
            script_passes(s, &module.dir).or_else(|| {
                self.phase_flags(s, rp).map(|(flags, why)| {
                    let off = flags
                        .iter()
                        .map(|f| (f.clone(), Value::Bool(false)))
                        .collect();
                    let on = flags
                        .iter()
                        .map(|f| (f.clone(), Value::Bool(true)))
                        .collect();
                    (off, on, why)
                })
            })
        });
        for (off, on, why) in per_root.into_iter().flatten() {
            for (k, v) in off {
                if !first.iter().any(|(n, _)| *n == k) {
                    first.push((k, v));
                }
            }
            for (k, v) in on {
                if !second.iter().any(|(n, _)| *n == k) {
                    second.push((k, v));
                }
            }
            sources.push(why);
        }
        if first.is_empty() {
            return None;
        }
        let source = format!("inferred: {}", sources.join("; "));
        Some(vec![
            Pass {
                name: Some("pass1".into()),
                overrides: first,
                source: source.clone(),
            },
            Pass {
                name: Some("pass2".into()),
                overrides: second,
                source,
            },
        ])
    }

    /// The phase flags of a root (see [`Analysis::infer_passes`]), with the reason.
    pub(super) fn phase_flags(&self, s: &Workspace, rp: usize) -> Option<(Vec<String>, String)> {
        let tf = s.terraform();
        let root = self.roots[rp];
        let module = tf.module(self.insts[root].module);
        let bools: Vec<&str> = module
            .variables()
            .filter(|v| is_bool_variable(s, tf, v))
            .map(|v| v.name.as_str())
            .collect();
        if bools.is_empty() {
            return None;
        }
        let providers = self.providers(s, rp);
        let blocks: Vec<BlockAt> = self.blocks_of_root(tf, root).collect();
        let mut flags: Vec<String> = Vec::new();
        let mut why = String::new();
        // One population per created object: the kubernetes, helm and kubectl providers
        // configured from one cluster are checked together.
        let mut groups: BTreeMap<Vec<BlockAt>, (Vec<BlockAt>, Vec<BlockAt>)> = BTreeMap::new();
        for (pc, reads) in &providers.reads {
            let mut creators: Vec<BlockAt> = Vec::new();
            for r in reads {
                let rb = &self.module(tf, r.inst).blocks[r.block];
                match rb.kind {
                    BlockKind::Resource => creators.push(*r),
                    BlockKind::Data => {
                        if let Some((target, _)) = data_target(&rb.type_name) {
                            creators.extend(blocks.iter().copied().filter(|b| {
                                let tb = &self.module(tf, b.inst).blocks[b.block];
                                tb.kind == BlockKind::Resource && tb.type_name == target
                            }));
                        }
                    }
                    _ => {}
                }
            }
            creators.sort();
            creators.dedup();
            let users = providers.users.get(pc).map_or(&[][..], Vec::as_slice);
            if creators.is_empty() || users.is_empty() {
                continue;
            }
            let g = groups.entry(creators).or_default();
            g.0.push(*pc);
            g.1.extend_from_slice(users);
        }
        for (creators, (pcs, users)) in &groups {
            let creator_terms: HashSet<String> = creators
                .iter()
                .flat_map(|c| self.terms(s, *c))
                .map(|t| t.qualified)
                .collect();
            let user_terms: Vec<HashSet<String>> = users
                .iter()
                .map(|u| self.terms(s, *u).into_iter().map(|t| t.qualified).collect())
                .collect();
            for v in &bools {
                let term = format!("var.{v}");
                if !creator_terms.contains(&term)
                    && user_terms.iter().all(|t| t.contains(&term))
                    && !flags.iter().any(|f| f == v)
                {
                    flags.push(v.to_string());
                    if why.is_empty() {
                        let names: Vec<String> = pcs
                            .iter()
                            .map(|pc| self.module(tf, pc.inst).blocks[pc.block].address())
                            .collect();
                        why = format!(
                            "`{term}` in {} gates every user of {} and not `{}`, which {} configured from",
                            if module.dir.is_empty() {
                                "the root"
                            } else {
                                module.dir.as_str()
                            },
                            names.join(", "),
                            self.address(tf, creators[0]),
                            if pcs.len() == 1 { "it is" } else { "they are" },
                        );
                    }
                }
            }
        }
        (!flags.is_empty()).then_some((flags, why))
    }

    /// The value of a variable in an instance.
    pub(super) fn var_value(
        &self,
        s: &Workspace,
        pass: usize,
        inst: usize,
        name: &str,
        stack: &RefCell<Vec<Key>>,
    ) -> Option<Value> {
        let tf = s.terraform();
        let module = self.module(tf, inst);
        let var = module.block(&format!("var.{name}"))?;
        let at = var.at;
        Some(self.memo(stack, (pass, inst, Slot::Var(name.to_string())), || {
            let decl = tf.hcl_block(&s.repo, at);
            let type_expr = decl.and_then(|b| b.body.get_attribute("type")).map(|a| &a.value);
            let default = decl
                .and_then(|b| b.body.get_attribute("default"))
                .map(|a| expr::eval(&a.value, &EmptyScope));
            let given = match self.insts[inst].parent {
                None => self
                    .inputs
                    .get(&inst)
                    .and_then(|p| p.get(pass))
                    .and_then(|m| m.get(name))
                    .map(|i| match i {
                        Input::Value(v) => v.clone(),
                        Input::Raw(text) => parse_raw(text, type_expr),
                    }),
                Some((parent, block)) => self
                    .hcl(s, BlockAt { inst: parent, block })
                    .and_then(|call| call.body.get_attribute(name))
                    .map(|a| {
                        let cx = self.ctx(s, pass, parent, self.bind(inst, pass), stack);
                        expr::eval(&a.value, &cx)
                    }),
            };
            let v = match (given, default) {
                (Some(Value::Null), Some(d)) if !non_nullable(decl) => {
                    let _ = d;
                    Value::Null
                }
                (Some(Value::Null), Some(d)) => d,
                (Some(v), _) => v,
                (None, Some(d)) => d,
                (None, None) => Value::undecidable(match self.insts[inst].parent {
                    None => format!(
                        "`var.{name}` has no value (no default; not set in terraform.tfvars, *.auto.tfvars, --var-file, --var or TF_VAR_{name})"
                    ),
                    Some(_) => format!(
                        "`var.{name}` of {} has no value: the module call does not set it and it has no default",
                        self.insts[inst].prefix.trim_end_matches('.')
                    ),
                }),
            };
            match type_expr {
                Some(t) => apply_type_defaults(t, v, 0),
                None => v,
            }
        }))
    }
}
