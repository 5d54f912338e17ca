//! IAM: policy documents (JSON files and Terraform), their evaluation with three-valued
//! answers, and the table of the permissions Terraform needs per resource type.

pub mod actions;
pub mod compare;
#[cfg(feature = "aws")]
pub mod live;
pub mod pattern;
pub mod policy;
pub mod terraform;

pub use policy::{
    Decision, Effect, Evaluation, Item, PKind, PNode, Policy, PolicyKind, Request, Selector,
    Statement,
};

use crate::parse::Syntax;
use crate::repo::Repository;
use crate::source::FileId;

/// Read the policy in a JSON file of the repository, with positions when the file could
/// also be read as YAML. `None` when the file does not parse or holds no `Statement`.
pub fn policy_in_file(repo: &Repository, file: FileId) -> Option<Policy> {
    let Syntax::Json(doc) = repo.syntax(file) else {
        return None;
    };
    match &doc.spanned {
        Some(y) => Policy::from_node(&PNode::from_yaml(y.root())),
        None => {
            let source = repo.file(file);
            let text = &source.text;
            // Without `"Statement"` in the text, only an escaped key could name one.
            if !text.contains("Statement") && !text.contains("\\u") {
                return None;
            }
            let mut p = Policy::from_json(&crate::parse::json::value(text).ok()?)?;
            let whole = Some(source.span(0..text.len()));
            p.span = whole;
            for st in &mut p.statements {
                st.span = whole;
            }
            Some(p)
        }
    }
}

/// What is known about the account a policy is evaluated for.
#[derive(Clone, Debug, Default)]
pub struct Target {
    pub account_id: Option<String>,
    pub region: Option<String>,
    /// `aws` unless configured.
    pub partition: Option<String>,
}

impl Target {
    pub fn partition(&self) -> &str {
        self.partition.as_deref().unwrap_or("aws")
    }

    /// The placeholder spellings to substitute in a documented policy.
    pub fn substitutions(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Some(a) = &self.account_id {
            for p in [
                "${AWS::AccountId}",
                "${aws_account_id}",
                "${account_id}",
                "<ACCOUNT_ID>",
                "<AWS_ACCOUNT_ID>",
                "AWS_ACCOUNT_ID",
                "ACCOUNT_ID",
            ] {
                out.push((p, a.clone()));
            }
        }
        if let Some(r) = &self.region {
            for p in [
                "${AWS::Region}",
                "${aws_region}",
                "${region}",
                "<REGION>",
                "AWS_REGION",
                "REGION",
            ] {
                out.push((p, r.clone()));
            }
        }
        for p in [
            "${AWS::Partition}",
            "${partition}",
            "<PARTITION>",
            "PARTITION",
        ] {
            out.push((p, self.partition().to_string()));
        }
        out
    }

    /// Substitute known values into a policy.
    pub fn apply(&self, policy: &mut Policy) {
        let subs = self.substitutions();
        let pairs: Vec<(&str, &str)> = subs.iter().map(|(a, b)| (*a, b.as_str())).collect();
        policy.substitute(&pairs);
    }
}
