//! Kubernetes service accounts Terraform creates (`kubernetes_service_account(_v1)`, and
//! `ServiceAccount` manifests), and the Helm releases that may create one through their
//! values, for the question "does anything create service account N in namespace S".

use super::BlockKind;
use super::analysis::{Analysis, BlockAt, nested_attr, unknown_text};
use super::expr::Value;
use crate::model::workspace::Workspace;
use crate::source::Span;

/// What Terraform does about one service account name.
#[derive(Clone, Debug, PartialEq)]
pub enum Creates {
    /// Creates it (in some pass), at this block.
    Yes(Span, String),
    /// Might: the block's name or namespace cannot be evaluated, or a Helm release's values
    /// name it.
    Maybe(Span, String),
}

fn text(v: &Value) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Null => Ok("default".into()),
        Value::Unknown(u) => Err(unknown_text(u)),
        other => Err(format!("it is a {}", other.type_name())),
    }
}

impl Analysis {
    /// Whether any root of this analysis creates the service account `name` in `namespace`.
    pub fn creates_service_account(
        &self,
        s: &Workspace,
        namespace: &str,
        name: &str,
    ) -> Vec<Creates> {
        let tf = s.terraform();
        let mut out = Vec::new();
        for &root in &self.roots {
            for at in self.blocks_of_root(tf, root) {
                let tb = &self.module(tf, at.inst).blocks[at.block];
                if tb.kind != BlockKind::Resource {
                    continue;
                }
                let addr = self.address(tf, at);
                match tb.type_name.as_str() {
                    "kubernetes_service_account" | "kubernetes_service_account_v1" => {
                        if let Some(c) = self.account_block(s, at, namespace, name, &addr) {
                            out.push(c);
                        }
                    }
                    "helm_release" => {
                        if let Some(c) = self.release_names_account(s, at, namespace, name, &addr) {
                            out.push(c);
                        }
                    }
                    _ => {}
                }
            }
        }
        for m in self.manifest_objects(s) {
            let Some(o) = m.manifest.as_object() else {
                continue;
            };
            if o.get("kind").and_then(|k| k.as_str()) != Some("ServiceAccount") {
                continue;
            }
            let md = o.get("metadata").and_then(|v| v.as_object());
            let n = md.and_then(|m| m.get("name")).map(text);
            let ns = md
                .and_then(|m| m.get("namespace"))
                .map(text)
                .unwrap_or(Ok("default".into()));
            let span = self.span(s, m.at, None);
            let addr = self.address(tf, m.at);
            match (n, ns) {
                (Some(Ok(n)), Ok(ns)) if n == name && ns == namespace => {
                    out.push(Creates::Yes(span, addr))
                }
                (Some(Ok(_)), Ok(_)) => {}
                _ => out.push(Creates::Maybe(span, addr)),
            }
        }
        out
    }

    fn account_block(
        &self,
        s: &Workspace,
        at: BlockAt,
        namespace: &str,
        name: &str,
        addr: &str,
    ) -> Option<Creates> {
        let block = self.hcl(s, at)?;
        let span = self.span(s, at, None);
        let mut maybe = None;
        for pass in 0..self.passes.len() {
            if self.count(s, pass, at).is_zero() {
                continue;
            }
            let iters = match self.iters(s, pass, at) {
                Ok(v) => v,
                Err(u) => {
                    maybe = Some(Creates::Maybe(
                        span,
                        format!("{addr} ({})", unknown_text(&u)),
                    ));
                    continue;
                }
            };
            for iter in iters {
                let ev = |key: &str| match nested_attr(block, "metadata", key) {
                    Some(e) => text(&self.eval_iter(s, pass, at.inst, iter.clone(), e)),
                    None => Ok("default".into()),
                };
                match (ev("name"), ev("namespace")) {
                    (Ok(n), Ok(ns)) if n == name && ns == namespace => {
                        return Some(Creates::Yes(span, addr.to_string()));
                    }
                    (Ok(_), Ok(_)) => {}
                    (Err(why), _) | (_, Err(why)) => {
                        maybe = Some(Creates::Maybe(span, format!("{addr} ({why})")));
                    }
                }
            }
        }
        maybe
    }

    /// A Helm release in `namespace` whose `set` values or `values` documents name the
    /// account: its chart may create it.
    fn release_names_account(
        &self,
        s: &Workspace,
        at: BlockAt,
        namespace: &str,
        name: &str,
        addr: &str,
    ) -> Option<Creates> {
        let block = self.hcl(s, at)?;
        let span = self.span(s, at, None);
        for pass in 0..self.passes.len() {
            if self.count(s, pass, at).is_zero() {
                continue;
            }
            let ev = |e| self.eval(s, pass, at.inst, e);
            let ns = match block.body.get_attribute("namespace") {
                Some(a) => text(&ev(&a.value)),
                None => Ok("default".into()),
            };
            match ns {
                Ok(ns) if ns != namespace => continue,
                _ => {}
            }
            let mut texts: Vec<Value> = block
                .body
                .blocks()
                .filter(|b| b.ident.as_str() == "set")
                .filter_map(|b| b.body.get_attribute("value"))
                .map(|a| ev(&a.value))
                .collect();
            if let Some(a) = block.body.get_attribute("values") {
                match ev(&a.value) {
                    Value::List(items) => texts.extend(std::sync::Arc::unwrap_or_clone(items)),
                    v => texts.push(v),
                }
            }
            if let Some(a) = block.body.get_attribute("set")
                && let Value::List(items) = ev(&a.value)
            {
                for i in items.iter() {
                    if let Some(v) = i.as_object().and_then(|o| o.get("value")) {
                        texts.push(v.clone());
                    }
                }
            }
            for t in texts {
                match t {
                    Value::String(v) if v.contains(name) => {
                        return Some(Creates::Maybe(
                            span,
                            format!("{addr}, whose values name `{name}`"),
                        ));
                    }
                    _ => {}
                }
            }
        }
        None
    }
}
