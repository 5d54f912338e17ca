//! Policies written in Terraform: `data "aws_iam_policy_document"` blocks and
//! `jsonencode({...})` (or literal JSON strings and heredocs) in `policy`,
//! `assume_role_policy` and `inline_policy { policy }` arguments.
//!
//! Expressions are read structurally: literals keep their value, anything computed
//! (`var.x`, `aws_iam_role.this.arn`, `${...}` in a template) becomes a `${...}`
//! placeholder, which evaluation treats as unknown.

use super::policy::{PKind, PNode, Policy};
use crate::model::terraform::{BlockKind, TerraformModel, TfModule};
use crate::repo::Repository;
use crate::source::SourceFile;
use hcl_edit::Span as _;
use hcl_edit::expr::{Expression, ObjectKey};
use hcl_edit::structure::{Block, Body};
use hcl_edit::template::Element;

/// A policy found in a Terraform module.
#[derive(Debug, Clone)]
pub struct TfPolicy {
    /// The block's address, e.g. `data.aws_iam_policy_document.ci` or `aws_iam_policy.eso`.
    pub address: String,
    /// The argument holding it (`policy`, `assume_role_policy`, `inline_policy.policy`);
    /// empty for a policy document data source.
    pub argument: String,
    pub policy: Policy,
}

/// Every policy written in a module, in block order.
pub fn policies_in(repo: &Repository, model: &TerraformModel, module: &TfModule) -> Vec<TfPolicy> {
    let mut out = Vec::new();
    for b in &module.blocks {
        let Some(block) = model.hcl_block(repo, b.at) else {
            continue;
        };
        let file = repo.file(b.at.file);
        match b.kind {
            BlockKind::Data if b.type_name == "aws_iam_policy_document" => {
                if let Some(policy) = Policy::from_node(&document_block(block, file)) {
                    out.push(TfPolicy {
                        address: b.address(),
                        argument: String::new(),
                        policy,
                    });
                }
            }
            BlockKind::Resource => {
                let mut args: Vec<(String, &Expression)> = ["policy", "assume_role_policy"]
                    .iter()
                    .filter_map(|k| {
                        block
                            .body
                            .get_attribute(k)
                            .map(|a| (k.to_string(), &a.value))
                    })
                    .collect();
                for inner in block.body.get_blocks("inline_policy") {
                    if let Some(a) = inner.body.get_attribute("policy") {
                        args.push(("inline_policy.policy".into(), &a.value));
                    }
                }
                for (argument, expr) in args {
                    if let Some(policy) = policy_from_expr(expr, file) {
                        out.push(TfPolicy {
                            address: b.address(),
                            argument,
                            policy,
                        });
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// A policy from an argument's expression: `jsonencode({...})`, a JSON string or heredoc.
/// `None` for references (`data.aws_iam_policy_document.x.json`) and non-policies.
pub fn policy_from_expr(expr: &Expression, file: &SourceFile) -> Option<Policy> {
    match expr {
        Expression::FuncCall(call) if call.name.name.as_str() == "jsonencode" => {
            let arg = call.args.iter().next()?;
            Policy::from_node(&node(arg, file, 0))
        }
        Expression::Parenthesis(p) => policy_from_expr(p.inner(), file),
        Expression::String(_) | Expression::HeredocTemplate(_) | Expression::StringTemplate(_) => {
            let text = match node(expr, file, 0).kind {
                PKind::Scalar(s) => s,
                _ => return None,
            };
            let value: serde_json::Value = serde_json::from_str(&text).ok()?;
            let mut policy = Policy::from_json(&value)?;
            // No positions inside a string: point every statement at the argument.
            let span = expr.span().map(|r| file.span(r));
            policy.span = span;
            for st in &mut policy.statements {
                st.span = span;
            }
            Some(policy)
        }
        _ => None,
    }
}

fn placeholder(expr: &Expression, file: &SourceFile) -> String {
    let text = expr
        .span()
        .and_then(|r| file.text.get(r))
        .unwrap_or("?")
        .trim();
    format!("${{{text}}}")
}

/// An expression as a JSON-like tree; computed parts become `${...}` placeholders.
pub fn node(expr: &Expression, file: &SourceFile, depth: usize) -> PNode {
    let span = expr.span().map(|r| file.span(r));
    if depth > 64 {
        return PNode::new(PKind::Null, span);
    }
    let kind = match expr {
        Expression::Null(_) => PKind::Null,
        Expression::Bool(b) => PKind::Scalar(b.value().to_string()),
        Expression::Number(n) => PKind::Scalar(n.value().to_string()),
        Expression::String(s) => PKind::Scalar(s.value().clone()),
        Expression::Array(a) => PKind::List(a.iter().map(|e| node(e, file, depth + 1)).collect()),
        Expression::Object(o) => PKind::Map(
            o.iter()
                .map(|(k, v)| {
                    let key = match k {
                        ObjectKey::Ident(i) => i.as_str().to_string(),
                        ObjectKey::Expression(Expression::String(s)) => s.value().clone(),
                        ObjectKey::Expression(e) => placeholder(e, file),
                    };
                    (key, node(v.expr(), file, depth + 1))
                })
                .collect(),
        ),
        Expression::StringTemplate(t) => PKind::Scalar(template_text(t.iter(), file)),
        Expression::HeredocTemplate(h) => PKind::Scalar(template_text(h.template.iter(), file)),
        Expression::Parenthesis(p) => return node(p.inner(), file, depth + 1),
        Expression::FuncCall(c) if c.name.name.as_str() == "jsonencode" => {
            // A nested jsonencode is a JSON string; keep its structure for reading.
            match c.args.iter().next() {
                Some(a) => return node(a, file, depth + 1),
                None => PKind::Null,
            }
        }
        other => PKind::Scalar(placeholder(other, file)),
    };
    PNode::new(kind, span)
}

fn template_text<'a>(elements: impl Iterator<Item = &'a Element>, file: &SourceFile) -> String {
    let mut s = String::new();
    for e in elements {
        match e {
            Element::Literal(l) => s.push_str(l.value()),
            Element::Interpolation(i) => s.push_str(&placeholder(&i.expr, file)),
            Element::Directive(_) => s.push_str("${%directive}"),
        }
    }
    s
}

/// An `aws_iam_policy_document` block as the JSON it renders.
pub fn document_block(block: &Block, file: &SourceFile) -> PNode {
    let span = block.span().map(|r| file.span(r));
    let statements = block
        .body
        .get_blocks("statement")
        .map(|st| statement_block(st, file))
        .collect();
    PNode::new(
        PKind::Map(vec![(
            "Statement".into(),
            PNode::new(PKind::List(statements), span),
        )]),
        span,
    )
}

fn statement_block(st: &Block, file: &SourceFile) -> PNode {
    let span = st.span().map(|r| file.span(r));
    let body: &Body = &st.body;
    let attr = |k: &str| body.get_attribute(k).map(|a| node(&a.value, file, 0));
    let mut entries = Vec::new();
    if let Some(sid) = attr("sid") {
        entries.push(("Sid".to_string(), sid));
    }
    entries.push((
        "Effect".to_string(),
        attr("effect").unwrap_or_else(|| PNode::new(PKind::Scalar("Allow".into()), span)),
    ));
    for (tf, json) in [
        ("actions", "Action"),
        ("not_actions", "NotAction"),
        ("resources", "Resource"),
        ("not_resources", "NotResource"),
    ] {
        if let Some(v) = attr(tf) {
            entries.push((json.to_string(), v));
        }
    }
    for (tf, json) in [
        ("principals", "Principal"),
        ("not_principals", "NotPrincipal"),
    ] {
        let blocks: Vec<_> = body.get_blocks(tf).collect();
        if !blocks.is_empty() {
            let map = blocks
                .iter()
                .map(|b| {
                    let get = |k: &str| b.body.get_attribute(k).map(|a| node(&a.value, file, 0));
                    let kind = match get("type").map(|n| n.kind) {
                        Some(PKind::Scalar(s)) => s,
                        _ => "AWS".into(),
                    };
                    (
                        kind,
                        get("identifiers").unwrap_or(PNode::new(PKind::Null, None)),
                    )
                })
                .collect();
            entries.push((json.to_string(), PNode::new(PKind::Map(map), span)));
        }
    }
    let conditions: Vec<_> = body
        .get_blocks("condition")
        .map(|c| {
            let cspan = c.span().map(|r| file.span(r));
            (
                "condition".to_string(),
                PNode::new(PKind::Scalar("present".into()), cspan),
            )
        })
        .collect();
    if !conditions.is_empty() {
        entries.push((
            "Condition".to_string(),
            PNode::new(PKind::Map(conditions), span),
        ));
    }
    PNode::new(PKind::Map(entries), span)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::iam::{Decision, PolicyKind, Request};

    use crate::testing::load_repo as load;

    const TF: &str = r#"
data "aws_iam_policy_document" "eso" {
  statement {
    sid       = "ReadSecrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = ["arn:aws:secretsmanager:${var.region}:*:secret:goldenpath/*"]
  }
  statement {
    effect    = "Deny"
    actions   = ["secretsmanager:DeleteSecret"]
    resources = ["*"]
  }
}

data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [aws_iam_openid_connect_provider.eks.arn]
    }
    condition {
      test     = "StringEquals"
      variable = "oidc:sub"
      values   = ["system:serviceaccount:eso:eso"]
    }
  }
}

resource "aws_iam_policy" "dns" {
  name = "goldenpath-idp-external-dns-policy"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["route53:ChangeResourceRecordSets"]
      Resource = ["arn:aws:route53:::hostedzone/${var.zone_id}"]
    }]
  })
}

resource "aws_iam_role" "ci" {
  name               = "ci"
  assume_role_policy = data.aws_iam_policy_document.trust.json
  inline_policy {
    name   = "logs"
    policy = <<-EOT
      {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "logs:*", "Resource": "*"}]}
    EOT
  }
}
"#;

    #[test]
    fn reads_documents_jsonencode_and_heredocs() {
        let (_d, repo) = load(&[("m/main.tf", TF)]);
        let model = TerraformModel::build(&repo);
        let m = model.module(model.module_at("m").unwrap());
        let found = policies_in(&repo, &model, m);
        let names: Vec<_> = found
            .iter()
            .map(|p| format!("{} {}", p.address, p.argument))
            .collect();
        assert_eq!(
            names,
            [
                "data.aws_iam_policy_document.eso ",
                "data.aws_iam_policy_document.trust ",
                "aws_iam_policy.dns policy",
                "aws_iam_role.ci inline_policy.policy"
            ]
        );
        let eso = &found[0].policy;
        assert_eq!(eso.kind, PolicyKind::Identity);
        assert_eq!(eso.placeholders(), ["${var.region}"]);
        let file = repo.file_by_path("m/main.tf").unwrap();
        let sp = eso.statements[0].span.unwrap();
        assert!(file.text[sp.range()].starts_with("statement {"));
        assert!(matches!(
            eso.evaluate(&Request::new(
                "secretsmanager:GetSecretValue",
                "arn:aws:secretsmanager:eu-west-2:1:secret:goldenpath/app"
            ))
            .decision,
            Decision::CannotTell(_)
        ));
        assert_eq!(
            eso.evaluate(&Request::new("secretsmanager:DeleteSecret", "x"))
                .decision,
            Decision::Denied
        );
        let trust = &found[1].policy;
        assert_eq!(trust.kind, PolicyKind::Trust);
        assert!(trust.statements[0].condition);
        assert!(trust.statements_missing_resource().is_empty());
        let dns = &found[2].policy;
        let action = &dns.statements[0].actions.as_ref().unwrap().items()[0];
        assert_eq!(
            &file.text[action.span.unwrap().range()],
            "\"route53:ChangeResourceRecordSets\""
        );
        assert_eq!(
            found[3]
                .policy
                .evaluate(&Request::new("logs:CreateLogGroup", "arn:aws:logs:x"))
                .decision,
            Decision::Allowed
        );
    }
}
