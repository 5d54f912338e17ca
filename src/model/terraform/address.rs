//! Configuration addresses as `moved`, `import` and `removed` blocks write them:
//! `module.a["k"].module.b.aws_s3_bucket.x[0]`, read the way Terraform reads them (a
//! traversal, not an expression to evaluate).

use hcl_edit::expr::{Expression, TraversalOperator};

/// One `module.NAME[KEY]` step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleStep {
    pub name: String,
    pub keyed: bool,
}

/// The resource part of an address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourcePart {
    pub data: bool,
    pub type_name: String,
    pub name: String,
    pub keyed: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigAddress {
    pub modules: Vec<ModuleStep>,
    /// `None`: the address is a module call (`module.a`).
    pub resource: Option<ResourcePart>,
}

impl ConfigAddress {
    /// The address relative to its module, as the module index keys blocks:
    /// `aws_s3_bucket.x`, `data.aws_region.r`; `module.NAME` for a module address.
    pub fn local_address(&self) -> Option<String> {
        match (&self.resource, self.modules.last()) {
            (Some(r), _) if r.data => Some(format!("data.{}.{}", r.type_name, r.name)),
            (Some(r), _) => Some(format!("{}.{}", r.type_name, r.name)),
            (None, Some(m)) => Some(format!("module.{}", m.name)),
            (None, None) => None,
        }
    }

    pub fn is_keyed(&self) -> bool {
        self.modules.iter().any(|m| m.keyed) || self.resource.as_ref().is_some_and(|r| r.keyed)
    }
}

/// Why an expression is not an address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AddressError {
    /// Not a name followed by attributes and keys at all (a string, a call).
    NotATraversal,
    /// `module` or `data` without the names that must follow.
    Incomplete,
    /// Attributes after a resource's name (and key): `aws_s3_bucket.x[0].id`.
    ExtraOperators {
        /// Whether the resource had an instance key before them.
        after_key: bool,
    },
}

/// Read an address expression.
pub fn parse(expr: &Expression) -> Result<ConfigAddress, AddressError> {
    let (root, ops): (&str, Vec<&TraversalOperator>) = match expr {
        Expression::Variable(v) => (v.as_str(), Vec::new()),
        Expression::Traversal(t) => match &t.expr {
            Expression::Variable(v) => {
                (v.as_str(), t.operators.iter().map(|o| o.value()).collect())
            }
            _ => return Err(AddressError::NotATraversal),
        },
        _ => return Err(AddressError::NotATraversal),
    };
    // Names and keys as one stream: the root, then each operator.
    enum Tok {
        Name(String),
        Key,
    }
    let mut toks = vec![Tok::Name(root.to_string())];
    for op in ops {
        toks.push(match op {
            TraversalOperator::GetAttr(n) => Tok::Name(n.value().to_string()),
            TraversalOperator::Index(_) | TraversalOperator::LegacyIndex(_) => Tok::Key,
            // A splat is no address.
            _ => return Err(AddressError::ExtraOperators { after_key: false }),
        });
    }
    let mut i = 0;
    let mut modules = Vec::new();
    let name_at = |i: usize| match toks.get(i) {
        Some(Tok::Name(n)) => Some(n.clone()),
        _ => None,
    };
    while name_at(i).as_deref() == Some("module") {
        let name = name_at(i + 1).ok_or(AddressError::Incomplete)?;
        let keyed = matches!(toks.get(i + 2), Some(Tok::Key));
        modules.push(ModuleStep { name, keyed });
        i += 2 + usize::from(keyed);
    }
    if i == toks.len() {
        return Ok(ConfigAddress {
            modules,
            resource: None,
        });
    }
    let data = name_at(i).as_deref() == Some("data");
    if data {
        i += 1;
    }
    let type_name = name_at(i).ok_or(AddressError::Incomplete)?;
    let name = name_at(i + 1).ok_or(AddressError::Incomplete)?;
    i += 2;
    let keyed = matches!(toks.get(i), Some(Tok::Key));
    if keyed {
        i += 1;
    }
    if i < toks.len() {
        return Err(AddressError::ExtraOperators { after_key: keyed });
    }
    Ok(ConfigAddress {
        modules,
        resource: Some(ResourcePart {
            data,
            type_name,
            name,
            keyed,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn p(s: &str) -> Result<ConfigAddress, AddressError> {
        parse(&Expression::from_str(s).unwrap())
    }

    #[test]
    fn reads_module_and_resource_addresses() {
        let a = p("module.a[\"k\"].module.b.aws_s3_bucket.x[0]").unwrap();
        assert_eq!(a.modules.len(), 2);
        assert!(a.modules[0].keyed && !a.modules[1].keyed);
        assert_eq!(a.local_address().as_deref(), Some("aws_s3_bucket.x"));
        assert!(a.is_keyed());
        let m = p("module.eks").unwrap();
        assert_eq!(m.resource, None);
        assert_eq!(m.local_address().as_deref(), Some("module.eks"));
        let d = p("data.aws_region.r").unwrap();
        assert_eq!(d.local_address().as_deref(), Some("data.aws_region.r"));
        assert_eq!(
            p("aws_s3_bucket.x[0].id"),
            Err(AddressError::ExtraOperators { after_key: true })
        );
        assert_eq!(
            p("aws_s3_bucket.x.id"),
            Err(AddressError::ExtraOperators { after_key: false })
        );
        assert_eq!(p("aws_s3_bucket"), Err(AddressError::Incomplete));
        assert_eq!(p("\"aws_s3_bucket.x\""), Err(AddressError::NotATraversal));
        assert!(!p("aws_s3_bucket.x").unwrap().is_keyed());
    }
}
