//! What a reference may name where it is written, as Terraform decides it before any value
//! is known: `each` only where `for_each` is set, `count` only where `count` is set, `self`
//! only in provisioners, connections and postconditions, the attributes `path`,
//! `terraform`, `each` and `count` have, and names that are no reference at all.
//!
//! The messages are Terraform's own diagnostics (summary and detail), so a finding quotes
//! what `terraform validate` would print.

use super::Expansion;
use super::expr::Reference;
use hcl_edit::structure::Block;

/// Where an expression sits: its top-level block and the nested blocks leading to it.
#[derive(Clone, Debug)]
pub struct Scope {
    /// Whether Terraform's rules for `each`, `count` and `self` apply with certainty here:
    /// resources, data sources, module calls, outputs, locals, variables and imports.
    /// (Provider and check blocks are left alone: other Terraform-compatible tools give
    /// them `for_each`.)
    pub checked: bool,
    /// The top-level block's `count`/`for_each`.
    pub expansion: Expansion,
    /// Whether the top-level block can have `count` at all (resources, data, modules).
    pub countable: bool,
    /// Inside a provisioner, a connection or a postcondition.
    pub self_allowed: bool,
}

impl Scope {
    /// The scope of an attribute inside `top`, under the nested blocks `path`.
    pub fn of(top: &Block, path: &[&str]) -> Scope {
        let kind = top.ident.as_str();
        let countable = matches!(kind, "resource" | "data" | "module");
        let expansion = match kind {
            "resource" | "data" | "module" | "import" => Expansion::of(&top.body),
            _ => Expansion::Single,
        };
        let self_allowed = path
            .iter()
            .any(|p| matches!(*p, "provisioner" | "connection" | "postcondition"));
        Scope {
            checked: matches!(
                kind,
                "resource" | "data" | "module" | "output" | "locals" | "variable" | "import"
            ),
            expansion,
            countable,
            self_allowed,
        }
    }
}

/// A reference Terraform rejects, with Terraform's diagnostic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidReference {
    pub problem: Problem,
    /// Terraform's diagnostic summary, e.g. `Invalid reference`.
    pub summary: &'static str,
    /// Terraform's diagnostic detail.
    pub detail: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// A name with no attribute access (`x`, `var`, `data.t`).
    Bare,
    /// `each` where the block has no `for_each`.
    EachWithoutForEach,
    /// `count` where the block has no `count`.
    CountWithoutCount,
    /// `self` outside provisioners, connections and postconditions.
    SelfOutside,
    /// An attribute `path`, `terraform`, `each` or `count` does not have.
    NoSuchAttribute {
        object: &'static str,
        name: String,
        valid: &'static [&'static str],
    },
}

/// Roots that name no object of the configuration and are not checked here: other
/// Terraform versions and tools add objects under them.
const UNCHECKED_ROOTS: &[&str] = &["ephemeral", "resource", "action", "list"];

/// The attributes of Terraform's built-in objects.
pub const PATH_ATTRS: &[&str] = &["module", "root", "cwd"];
pub const TERRAFORM_ATTRS: &[&str] = &["workspace", "applying"];
pub const EACH_ATTRS: &[&str] = &["key", "value"];
pub const COUNT_ATTRS: &[&str] = &["index"];

/// Whether `r`, written in `scope`, is a reference Terraform rejects. `r` must not be a
/// `for` or `dynamic` iterator symbol.
pub fn check(scope: &Scope, r: &Reference) -> Option<InvalidReference> {
    let root = r.root.as_str();
    if UNCHECKED_ROOTS.contains(&root) {
        return None;
    }
    let invalid = |summary, detail: String, problem| {
        Some(InvalidReference {
            problem,
            summary,
            detail,
        })
    };
    let first = r.attrs.first();
    match (root, first) {
        ("self", _) => {
            if scope.checked && !scope.self_allowed {
                return invalid(
                    "Invalid \"self\" reference",
                    "The \"self\" object is not available in this context. This object can be used only in resource provisioner, connection, and postcondition blocks.".into(),
                    Problem::SelfOutside,
                );
            }
            None
        }
        ("var" | "local" | "module" | "each" | "count" | "path" | "terraform", None) => invalid(
            "Invalid reference",
            format!(
                "The \"{root}\" object cannot be accessed directly. Instead, access one of its attributes."
            ),
            Problem::Bare,
        ),
        ("data", _) if r.attrs.len() < 2 => invalid(
            "Invalid reference",
            "The \"data\" object must be followed by two attribute names: the data source type and the resource name.".into(),
            Problem::Bare,
        ),
        (_, None) if !matches!(root, "var" | "local" | "module" | "data") => invalid(
            "Invalid reference",
            "A reference to a resource type must be followed by at least one attribute access, specifying the resource name.".into(),
            Problem::Bare,
        ),
        ("path", Some(a)) if !PATH_ATTRS.contains(&a.as_str()) => invalid(
            "Invalid \"path\" attribute",
            format!("The \"path\" object does not have an attribute named \"{a}\"."),
            Problem::NoSuchAttribute {
                object: "path",
                name: a.clone(),
                valid: PATH_ATTRS,
            },
        ),
        ("terraform", Some(a)) if a == "env" => invalid(
            "Invalid \"terraform\" attribute",
            "The terraform.env attribute was deprecated in v0.10 and removed in v0.12. The \"state environment\" concept was renamed to \"workspace\" in v0.12, and so the workspace name can now be accessed using the terraform.workspace attribute.".into(),
            Problem::NoSuchAttribute {
                object: "terraform",
                name: a.clone(),
                valid: TERRAFORM_ATTRS,
            },
        ),
        ("terraform", Some(a)) if !TERRAFORM_ATTRS.contains(&a.as_str()) => invalid(
            "Invalid \"terraform\" attribute",
            format!(
                "The \"terraform\" object does not have an attribute named \"{a}\". The only supported attributes are terraform.workspace, the name of the currently-selected workspace, and terraform.applying, a boolean which is true only during apply."
            ),
            Problem::NoSuchAttribute {
                object: "terraform",
                name: a.clone(),
                valid: TERRAFORM_ATTRS,
            },
        ),
        ("each", Some(_)) if scope.checked && scope.expansion != Expansion::ForEach => invalid(
            "Reference to \"each\" in context without for_each",
            "The \"each\" object can be used only in \"module\" or \"resource\" blocks, and only when the \"for_each\" argument is set.".into(),
            Problem::EachWithoutForEach,
        ),
        ("each", Some(a)) if !EACH_ATTRS.contains(&a.as_str()) => invalid(
            "Invalid \"each\" attribute",
            format!(
                "The \"each\" object does not have an attribute named \"{a}\". The supported attributes are each.key and each.value, the current key and value pair of the \"for_each\" attribute set."
            ),
            Problem::NoSuchAttribute {
                object: "each",
                name: a.clone(),
                valid: EACH_ATTRS,
            },
        ),
        ("count", Some(_))
            if scope.checked && !(scope.countable && scope.expansion == Expansion::Count) =>
        {
            invalid(
                "Reference to \"count\" in non-counted context",
                "The \"count\" object can only be used in \"module\", \"resource\", and \"data\" blocks, and only when the \"count\" argument is set.".into(),
                Problem::CountWithoutCount,
            )
        }
        ("count", Some(a)) if !COUNT_ATTRS.contains(&a.as_str()) => invalid(
            "Invalid \"count\" attribute",
            format!(
                "The \"count\" object does not have an attribute named \"{a}\". The only supported attribute is count.index, which is the index of each instance of a resource block that has the \"count\" argument set."
            ),
            Problem::NoSuchAttribute {
                object: "count",
                name: a.clone(),
                valid: COUNT_ATTRS,
            },
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::terraform::expr::references;
    use hcl_edit::expr::Expression;
    use std::str::FromStr;

    fn problems(top: &str, path: &[&str], expr: &str) -> Vec<Problem> {
        let body = hcl_edit::parser::parse_body(top).unwrap();
        let block = body.blocks().next().unwrap();
        let scope = Scope::of(block, path);
        references(&Expression::from_str(expr).unwrap())
            .iter()
            .filter_map(|r| check(&scope, r))
            .map(|i| i.problem)
            .collect()
    }

    #[test]
    fn each_and_count_follow_the_blocks_meta_arguments() {
        let fe = "resource \"t\" \"n\" {\n  for_each = {}\n}\n";
        let cnt = "module \"m\" {\n  count = 1\n}\n";
        let single = "resource \"t\" \"n\" {}\n";
        assert_eq!(problems(fe, &[], "each.key"), []);
        assert_eq!(problems(fe, &["dynamic", "content"], "each.value"), []);
        assert_eq!(
            problems(fe, &[], "count.index"),
            [Problem::CountWithoutCount]
        );
        assert_eq!(problems(cnt, &[], "count.index"), []);
        assert_eq!(
            problems(single, &["dynamic", "content"], "each.value"),
            [Problem::EachWithoutForEach]
        );
        assert_eq!(
            problems("output \"o\" {}\n", &[], "count.index"),
            [Problem::CountWithoutCount]
        );
        assert_eq!(problems("provider \"p\" {}\n", &[], "each.key"), []);
    }

    #[test]
    fn self_only_in_provisioners_connections_and_postconditions() {
        let r = "resource \"t\" \"n\" {}\n";
        assert_eq!(problems(r, &[], "self.id"), [Problem::SelfOutside]);
        assert_eq!(
            problems(r, &["lifecycle", "precondition"], "self.id"),
            [Problem::SelfOutside]
        );
        for path in [
            &["provisioner"][..],
            &["connection"],
            &["provisioner", "connection"],
            &["lifecycle", "postcondition"],
        ] {
            assert_eq!(problems(r, path, "self.id"), [], "{path:?}");
        }
    }

    #[test]
    fn bare_names_and_missing_attributes() {
        let o = "output \"o\" {}\n";
        assert_eq!(problems(o, &[], "x"), [Problem::Bare]);
        assert_eq!(problems(o, &[], "var"), [Problem::Bare]);
        assert_eq!(problems(o, &[], "data.aws_region"), [Problem::Bare]);
        assert_eq!(problems(o, &[], "x[0]"), [Problem::Bare]);
        assert_eq!(problems(o, &[], "[for x in var.l : x]"), []);
        assert_eq!(problems(o, &[], "[null, true, false, upper(\"a\")]"), []);
        assert_eq!(problems(o, &[], "aws_s3_bucket.b.arn"), []);
        assert_eq!(problems(o, &[], "ephemeral.t.n.v"), []);
        assert_eq!(
            problems(
                o,
                &[],
                "\"${path.module}${path.root}${path.cwd}${terraform.workspace}\""
            ),
            []
        );
        assert!(matches!(
            problems(o, &[], "path.modul")[..],
            [Problem::NoSuchAttribute { object: "path", .. }]
        ));
        assert!(matches!(
            problems(o, &[], "terraform.env")[..],
            [Problem::NoSuchAttribute {
                object: "terraform",
                ..
            }]
        ));
    }
}
