//! Module instances: the instance tree expanded from the roots through module calls
//! (`count`/`for_each` enumerated), and finding blocks, addresses and spans in it.

use super::*;

/// `.terraform/modules/modules.json` of a root: module keys mapped to module folders of
/// the repository. Only this one file of `.terraform/` is ever read.
pub(super) fn modules_json(s: &Workspace, root: &TfModule) -> HashMap<String, ModuleId> {
    let mut out = HashMap::new();
    let path: PathBuf = s
        .repo
        .root
        .join(&root.dir)
        .join(".terraform/modules/modules.json");
    // Inside the repository only, never through a link out of it, never blocking.
    let real_root = s
        .repo
        .root
        .canonicalize()
        .unwrap_or_else(|_| s.repo.root.clone());
    let rel = format!("{}/.terraform/modules/modules.json", root.dir)
        .trim_start_matches('/')
        .to_string();
    let Ok(text) = crate::safe_fs::read_in_root_text(&real_root, &rel, VAR_FILE_LIMIT) else {
        return out;
    };
    let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) else {
        s.verbose(format!("{}: not valid JSON", path.display()));
        return out;
    };
    let tf = s.terraform();
    for m in json
        .get("Modules")
        .and_then(|m| m.as_array())
        .into_iter()
        .flatten()
    {
        let (Some(key), Some(dir)) = (
            m.get("Key").and_then(|k| k.as_str()),
            m.get("Dir").and_then(|d| d.as_str()),
        ) else {
            continue;
        };
        if key.is_empty() {
            continue;
        }
        let rel = if dir.starts_with("./") || dir.starts_with("../") {
            dir.to_string()
        } else {
            format!("./{dir}")
        };
        if let Some(d) = join_within(&root.dir, &rel)
            && let Some(id) = tf.module_at(&d)
        {
            out.insert(key.to_string(), id);
        }
    }
    out
}

impl Analysis {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn expand(
        &mut self,
        s: &Workspace,
        tf: &TerraformModel,
        inst: usize,
        depth: usize,
        chain: &mut Vec<ModuleId>,
        mapped: &HashMap<String, ModuleId>,
        key_prefix: &str,
    ) {
        let module = tf.module(self.insts[inst].module);
        for call in &module.calls {
            let key = format!("{key_prefix}{}", call.name);
            let target = match &call.source {
                ModuleSource::Local(t) => Some(*t),
                ModuleSource::External(src) => match mapped.get(&key) {
                    Some(t) => {
                        s.verbose(format!(
                            "{}: module.{} ({src}) read from the directory .terraform/modules/modules.json maps it to",
                            module.dir, call.name
                        ));
                        Some(*t)
                    }
                    None => {
                        s.verbose(format!(
                            "{}: module.{} comes from {src}: external, not inspected",
                            module.dir, call.name
                        ));
                        None
                    }
                },
                ModuleSource::Missing(d) => {
                    s.verbose(format!(
                        "{}: module.{} points at {d}, which holds no .tf files",
                        module.dir, call.name
                    ));
                    None
                }
                ModuleSource::Escapes(d) => {
                    s.verbose(format!(
                        "{}: module.{} points at {d}, outside the repository: not inspected",
                        module.dir, call.name
                    ));
                    None
                }
                ModuleSource::Unknown => None,
            };
            let Some(target) = target else { continue };
            if depth + 1 > MAX_MODULE_DEPTH || chain.contains(&target) {
                s.verbose(format!(
                    "{}: module.{} not followed (a module cycle or nesting deeper than {MAX_MODULE_DEPTH})",
                    module.dir, call.name
                ));
                continue;
            }
            // Once values can be evaluated: the call's instances, per pass.
            let instances = if self.inputs.is_empty() {
                None
            } else {
                self.call_instances(
                    s,
                    BlockAt {
                        inst,
                        block: call.block,
                    },
                )
            };
            let base = format!("{}module.{}", self.insts[inst].prefix, call.name);
            let list: Vec<(String, Option<Vec<Option<Iter>>>)> = match instances {
                // `count` of 0 or 1: one instance, keeping the address without an index.
                Some(v) if v.len() == 1 && v[0].0 == Value::Number(0.0) => {
                    vec![(
                        format!("{base}."),
                        Some(v.into_iter().next().map(|x| x.1).unwrap_or_default()),
                    )]
                }
                Some(v) if !v.is_empty() => v
                    .into_iter()
                    .map(|(k, binds)| {
                        let key = match &k {
                            Value::String(s) => expr::quote_string(s),
                            other => other.to_string(),
                        };
                        (format!("{base}[{key}]."), Some(binds))
                    })
                    .collect(),
                _ => vec![(format!("{base}."), None)],
            };
            let several = list.len() > 1;
            for (prefix, binds) in list {
                if self.expanded >= MAX_MODULE_INSTANCES {
                    if self.expanded == MAX_MODULE_INSTANCES {
                        // Recorded once per root: the count moves past the limit.
                        self.truncated.push(module.blocks[call.block].header);
                        self.expanded += 1;
                    }
                    break;
                }
                self.expanded += 1;
                let child = self.insts.len();
                self.insts.push(Inst {
                    module: target,
                    root: self.insts[inst].root,
                    parent: Some((inst, call.block)),
                    prefix,
                    children: HashMap::new(),
                    keyed: HashMap::new(),
                    binds,
                });
                self.insts[inst]
                    .children
                    .entry(call.name.clone())
                    .or_insert(child);
                if several {
                    self.insts[inst]
                        .keyed
                        .entry(call.name.clone())
                        .or_default()
                        .push(child);
                }
                chain.push(target);
                self.expand(s, tf, child, depth + 1, chain, mapped, &format!("{key}."));
                chain.pop();
            }
        }
    }

    /// The instances of a module call with `count`/`for_each` across the passes: each
    /// instance key with its binding in every pass (`None` where it does not exist). `None`
    /// when the call has neither, or when the instances cannot be enumerated in some pass
    /// (or there would be too many).
    pub(super) fn call_instances(
        &self,
        s: &Workspace,
        at: BlockAt,
    ) -> Option<Vec<(Value, Vec<Option<Iter>>)>> {
        let block = self.hcl(s, at)?;
        if block.body.get_attribute("count").is_none()
            && block.body.get_attribute("for_each").is_none()
        {
            return None;
        }
        let n = self.passes.len();
        let mut out: Vec<(Value, Vec<Option<Iter>>)> = Vec::new();
        for pass in 0..n {
            let iters = self.iters(s, pass, at).ok()?;
            for it in iters {
                let key = match &it {
                    Iter::Count(i) => Value::Number(*i as f64),
                    Iter::Each(k, _) => k.clone(),
                    Iter::None => return None,
                };
                match out.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, b)) => b[pass] = Some(it),
                    None => {
                        let mut b = vec![None; n];
                        b[pass] = Some(it);
                        out.push((key, b));
                    }
                }
            }
        }
        if self.expanded + out.len() > MAX_MODULE_INSTANCES {
            s.verbose(format!(
                "{}: the instances of `{}` are not enumerated: over {MAX_MODULE_INSTANCES} module instances",
                self.module(s.terraform(), at.inst).dir,
                self.address(s.terraform(), at)
            ));
            return None;
        }
        Some(out)
    }

    /// Expand module calls with `count`/`for_each` into their instances, now that the
    /// inputs are known: every instance binds its own `count.index` or `each`, and the
    /// resources inside are enumerated per instance. The first expansion (one instance per
    /// call) served what needs no values: inferring the passes.
    pub(super) fn expand_instances(&mut self, s: &Workspace) {
        let tf = s.terraform();
        let iterated = self.insts.iter().any(|i| {
            let m = tf.module(i.module);
            m.calls.iter().any(|c| {
                tf.hcl_block(&s.repo, m.blocks[c.block].at)
                    .is_some_and(|b| {
                        b.body.get_attribute("count").is_some()
                            || b.body.get_attribute("for_each").is_some()
                    })
            })
        });
        if !iterated {
            return;
        }
        let old_roots = std::mem::take(&mut self.roots);
        let mut old_inputs = std::mem::take(&mut self.inputs);
        let mut insts = Vec::new();
        for (i, &r) in old_roots.iter().enumerate() {
            let mut root = self.insts[r].clone();
            root.root = i;
            root.children.clear();
            root.keyed.clear();
            insts.push(root);
            if let Some(v) = old_inputs.remove(&r) {
                self.inputs.insert(i, v);
            }
        }
        self.insts = insts;
        self.roots = (0..old_roots.len()).collect();
        if let Ok(mut m) = self.memo.lock() {
            m.clear();
        }
        // The roots come first (their indexes key the inputs); the instances of each
        // follow, root after root. A value memoised while a tree was half expanded may
        // have missed a module: the memo is dropped again once all are expanded.
        self.truncated.clear();
        for i in 0..self.roots.len() {
            let module = self.insts[i].module;
            let mapped = modules_json(s, tf.module(module));
            self.expanded = 1;
            self.expand(s, tf, i, 0, &mut vec![module], &mapped, "");
        }
        if let Ok(mut m) = self.memo.lock() {
            m.clear();
        }
        // What was derived from the first tree names its instances by index.
        self.objects = (0..self.roots.len()).map(|_| OnceLock::new()).collect();
        self.providers = (0..self.roots.len()).map(|_| OnceLock::new()).collect();
    }

    /// The binding of a module instance in its call, in a pass (`Iter::None` for a plain
    /// call or one whose instances were not enumerated).
    pub(super) fn bind(&self, inst: usize, pass: usize) -> Iter {
        self.insts[inst]
            .binds
            .as_ref()
            .and_then(|b| b.get(pass).cloned().flatten())
            .unwrap_or(Iter::None)
    }

    /// The instances of a root (the root first).
    pub fn instances_of(&self, root: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.insts.len()).filter(move |&i| self.insts[i].root == root)
    }

    /// Every (instance, block) of a root.
    pub fn blocks_of_root<'a>(
        &'a self,
        tf: &'a TerraformModel,
        root: usize,
    ) -> impl Iterator<Item = BlockAt> + 'a {
        self.instances_of(root).flat_map(move |inst| {
            (0..tf.module(self.insts[inst].module).blocks.len())
                .map(move |block| BlockAt { inst, block })
        })
    }

    pub fn module<'t>(&self, tf: &'t TerraformModel, inst: usize) -> &'t TfModule {
        tf.module(self.insts[inst].module)
    }

    /// The block's Terraform address including its module path.
    pub fn address(&self, tf: &TerraformModel, at: BlockAt) -> String {
        format!(
            "{}{}",
            self.insts[at.inst].prefix,
            self.module(tf, at.inst).blocks[at.block].address()
        )
    }

    pub(in crate::model) fn hcl<'r>(&self, s: &'r Workspace, at: BlockAt) -> Option<&'r Block> {
        let tf = s.terraform();
        tf.hcl_block(&s.repo, self.module(tf, at.inst).blocks[at.block].at)
    }

    /// Convert a byte range of a block's file to a span.
    pub fn span(&self, s: &Workspace, at: BlockAt, range: Option<std::ops::Range<usize>>) -> Span {
        let tf = s.terraform();
        let b = &self.module(tf, at.inst).blocks[at.block];
        match range {
            Some(r) => s.repo.file(b.at.file).span(r),
            None => b.header,
        }
    }

    /// The index of a block by address in an instance's module.
    pub fn block_index(&self, tf: &TerraformModel, inst: usize, address: &str) -> Option<usize> {
        self.module(tf, inst).block_index(address)
    }

    /// Find where a value of the form `origin` (an address with attributes) is declared.
    pub fn origin_block(&self, s: &Workspace, root: usize, origin: &str) -> Option<BlockAt> {
        let tf = s.terraform();
        // Split off leading `module.X.` segments to find the instance.
        let mut inst = root;
        let mut rest = origin;
        while let Some(r) = rest.strip_prefix("module.") {
            let (name, tail) = r.split_once('.')?;
            let name = name.split('[').next().unwrap_or(name);
            match self.insts[inst].children.get(name) {
                Some(&c) => {
                    inst = c;
                    rest = tail;
                }
                None => {
                    return self
                        .block_index(tf, inst, &format!("module.{name}"))
                        .map(|block| BlockAt { inst, block });
                }
            }
        }
        let parts: Vec<&str> = rest.split(['.', '[']).collect();
        let addr = if parts.first() == Some(&"data") && parts.len() >= 3 {
            format!("data.{}.{}", parts[1], parts[2])
        } else if parts.len() >= 2 {
            format!("{}.{}", parts[0], parts[1])
        } else {
            return None;
        };
        self.block_index(tf, inst, &addr)
            .map(|block| BlockAt { inst, block })
    }
}
