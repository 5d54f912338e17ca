//! Reading one Helm value the way Helm merges an Application's values for a source: chart
//! defaults, then `valueFiles` in order, `values`, `valuesObject`, and `parameters` last.

use super::{AppId, GitopsModel, Val};
use crate::repo::Repository;
use crate::source::Span;

/// The effective value of a dotted key.
#[derive(Clone, Debug, PartialEq)]
pub enum HelmValue {
    /// A scalar (its text) and where it is set.
    Scalar(String, Span),
    /// A mapping or a list, set at the span.
    Tree(Span),
    /// Not set by anything the model can see.
    Unset,
}

impl HelmValue {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            HelmValue::Scalar(v, _) => Some(v),
            _ => None,
        }
    }

    pub fn span(&self) -> Option<Span> {
        match self {
            HelmValue::Scalar(_, s) | HelmValue::Tree(s) => Some(*s),
            HelmValue::Unset => None,
        }
    }

    /// `Some(true/false)` for a boolean scalar.
    pub fn as_bool(&self) -> Option<bool> {
        match self.as_str()? {
            "true" | "True" | "TRUE" => Some(true),
            "false" | "False" | "FALSE" => Some(false),
            _ => None,
        }
    }
}

impl GitopsModel {
    /// The value of `key` (dotted: `serviceAccount.create`) that the Application passes to
    /// its source `source`, the last setting winning. `parameters` name keys with dots
    /// (escaped dots are not split).
    pub fn helm_value(&self, repo: &Repository, app: AppId, source: usize, key: &str) -> HelmValue {
        let a = &self.apps[app];
        let path: Vec<&str> = key.split('.').collect();
        let mut found = HelmValue::Unset;
        for v in a.values.iter().filter(|v| v.source == source) {
            let Some(mut node) = self.yaml(repo, v.root) else {
                continue;
            };
            for (i, seg) in path.iter().enumerate() {
                match node.resolved().get_entry(seg) {
                    Some((k, val)) => {
                        node = val.resolved();
                        if i + 1 == path.len() {
                            found = if node.is_map() || node.is_seq() {
                                HelmValue::Tree(k.span())
                            } else {
                                match node.as_string() {
                                    Some(s) => HelmValue::Scalar(s.to_string(), k.span()),
                                    None => HelmValue::Scalar(String::new(), k.span()),
                                }
                            };
                        }
                    }
                    None => break,
                }
            }
        }
        if let Some(src) = a.sources.get(source) {
            for (name, value) in &src.helm.parameters {
                if name.value == key {
                    found = HelmValue::Scalar(value.value.clone(), name.span);
                }
            }
        }
        found
    }

    /// The `(name, value)` parameter set for `key`, if any.
    pub fn helm_parameter<'a>(
        &'a self,
        app: AppId,
        source: usize,
        key: &str,
    ) -> Option<&'a (Val, Val)> {
        self.apps[app]
            .sources
            .get(source)?
            .helm
            .parameters
            .iter()
            .rev()
            .find(|(n, _)| n.value == key)
    }
}
