//! ArgoCD Applications that Terraform applies: `kubectl_manifest` (`yaml_body`) and
//! `kubernetes_manifest` (`manifest`, often `yamldecode(templatefile(…))`) whose evaluated
//! manifest is an `argoproj.io` Application or ApplicationSet. The GitOps model reads them
//! like files under `gitops/`.

use super::BlockKind;
use super::analysis::{Analysis, BlockAt, Iter, manifest_kind};
use super::expr::Value;
use crate::model::workspace::Workspace;
use crate::source::{FileId, Span};
use hcl_edit::expr::Expression;

/// One Application (or ApplicationSet) document Terraform applies.
#[derive(Clone, Debug)]
pub struct AppliedDoc {
    pub at: BlockAt,
    /// The rendered YAML (or JSON) text.
    pub text: String,
    /// The repository file the text was rendered from (`templatefile`/`file`), if any.
    pub template: Option<FileId>,
    /// Where the manifest is written in Terraform (the `yaml_body`/`manifest` attribute).
    pub attribute: Span,
}

fn strip(mut e: &Expression) -> &Expression {
    while let Expression::Parenthesis(p) = e {
        e = p.inner();
    }
    e
}

impl Analysis {
    /// Every Application/ApplicationSet document the roots apply, once per distinct text.
    pub fn applied_argocd_documents(&self, s: &Workspace) -> Vec<AppliedDoc> {
        let tf = s.terraform();
        let mut out: Vec<AppliedDoc> = Vec::new();
        for &root in &self.roots {
            for at in self.blocks_of_root(tf, root) {
                let tb = &self.module(tf, at.inst).blocks[at.block];
                let attr_name = match (tb.kind, tb.type_name.as_str()) {
                    (BlockKind::Resource, "kubectl_manifest") => "yaml_body",
                    (BlockKind::Resource, "kubernetes_manifest") => "manifest",
                    _ => continue,
                };
                let Some(block) = self.hcl(s, at) else {
                    continue;
                };
                let Some(attr) = block.body.get_attribute(attr_name) else {
                    continue;
                };
                let Some(range) = hcl_edit::Span::span(attr) else {
                    continue;
                };
                let attribute = s.repo.file(tb.at.file).span(range);
                for pass in 0..self.passes.len() {
                    if self.inst_count(s, pass, at.inst).is_zero() {
                        continue;
                    }
                    let Ok(iters) = self.iters(s, pass, at) else {
                        continue;
                    };
                    for iter in iters {
                        let Ok(m) = self.manifest(s, pass, at, iter.clone()) else {
                            continue;
                        };
                        let is_argo = m
                            .as_object()
                            .and_then(|o| o.get("apiVersion"))
                            .and_then(|v| v.as_str())
                            .is_some_and(|v| v.starts_with("argoproj.io/"));
                        let kind = manifest_kind(&m);
                        if !is_argo
                            || !matches!(kind.as_deref(), Some("Application" | "ApplicationSet"))
                        {
                            continue;
                        }
                        let (text, template) =
                            self.applied_text(s, pass, at, iter, &attr.value, &m);
                        let Some(text) = text else { continue };
                        if out.iter().any(|d| d.at == at && d.text == text) {
                            continue;
                        }
                        out.push(AppliedDoc {
                            at,
                            text,
                            template,
                            attribute,
                        });
                    }
                }
            }
        }
        out
    }

    /// The manifest's text and the file it was rendered from.
    fn applied_text(
        &self,
        s: &Workspace,
        pass: usize,
        at: BlockAt,
        iter: Iter,
        e: &Expression,
        manifest: &Value,
    ) -> (Option<String>, Option<FileId>) {
        let tf = s.terraform();
        let dir = self.module(tf, at.inst).dir.clone();
        let mut e = strip(e);
        let mut decoded = false;
        if let Expression::FuncCall(c) = e
            && c.name.namespace.is_empty()
            && c.name.name.as_str() == "yamldecode"
            && let Some(a) = c.args.iter().next()
        {
            e = strip(a);
            decoded = true;
        }
        let template = match e {
            Expression::FuncCall(c)
                if c.name.namespace.is_empty()
                    && matches!(c.name.name.as_str(), "templatefile" | "file") =>
            {
                c.args.iter().next().and_then(|p| {
                    match self.eval_iter(s, pass, at.inst, iter.clone(), p) {
                        Value::String(path) => super::replace::repo_file(s, &dir, &path),
                        _ => None,
                    }
                })
            }
            _ => None,
        };
        let ty = self.module(tf, at.inst).blocks[at.block].type_name.as_str();
        let text = if ty == "kubectl_manifest" || decoded {
            match self.eval_iter(s, pass, at.inst, iter, e) {
                Value::String(t) => Some(t),
                _ => None,
            }
        } else {
            // An HCL object: its JSON form is YAML too.
            manifest
                .to_json()
                .and_then(|j| serde_json::to_string_pretty(&j).ok())
        };
        (text, template)
    }
}
