//! `invalid-config-address`: `moved`, `import` and `removed` blocks whose addresses are not
//! resource or module addresses, that import into nothing, that move or remove an object
//! the configuration still declares, or that move an object onto itself. A `moved` whose
//! `to` nothing declares is a warning: Terraform accepts it and plans to destroy the moved
//! object. Addresses are read by the model ([`crate::model::terraform::address`]).

use super::{complete, scoped_modules, span_or};
use crate::diagnostic::{Finding, Severity};
use crate::model::terraform::address::{AddressError, ConfigAddress};
use crate::model::terraform::validity::{self, BlockView};
use crate::model::terraform::{BlockKind, ModuleSource, TerraformModel, TfBlock, TfModule};
use crate::repo::Repository;
use crate::rules::{Context, Rule};
use crate::source::Span;

crate::rules::declare_rule! {
    pub struct InvalidConfigAddress {
        id: "invalid-config-address",
        severity: Severity::Error,
        summary: "A `moved`, `import` or `removed` block whose address is not a resource or module address, imports into nothing, or moves or removes a block still declared",
        fix: None,
        reads: Terraform,
    }
}

/// One problem: where, Terraform's summary and detail, the fix, and whether it is only a
/// warning.
struct Problem {
    span: Span,
    summary: &'static str,
    detail: String,
    help: String,
    warning: bool,
}

impl Rule for InvalidConfigAddress {
    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let repo = &cx.session.repo;
        let model = cx.session.terraform();
        let mut out = Vec::new();
        for id in scoped_modules(cx.session) {
            let module = model.module(id);
            // "Not declared" is a fact only when every file of the module was read.
            let known = complete(repo, module);
            for b in &module.blocks {
                let Some(block) = validity::block(model, repo, b.at) else {
                    continue;
                };
                let problems = match b.kind {
                    BlockKind::Moved => moved(repo, model, module, b, block, known),
                    BlockKind::Import => import(repo, model, module, b, block, known),
                    BlockKind::Removed => removed(repo, module, b, block, known),
                    _ => continue,
                };
                for p in problems {
                    let severity = match (p.warning, cx.settings.severity) {
                        (_, Some(s)) => s,
                        (true, None) => Severity::Warning,
                        (false, None) => Severity::Error,
                    };
                    let message = if p.detail.is_empty() {
                        format!("\"{}\"", p.summary)
                    } else {
                        format!("\"{}\": {}", p.summary, p.detail)
                    };
                    let label = p.summary;
                    out.push(
                        Finding::new(META.id, severity, p.span, message)
                            .with_span_label(label)
                            .with_help(p.help)
                            .with_address(b.kind_name()),
                    );
                }
            }
        }
        out
    }
}

trait KindName {
    fn kind_name(&self) -> String;
}

impl KindName for TfBlock {
    fn kind_name(&self) -> String {
        match self.kind {
            BlockKind::Moved => "moved",
            BlockKind::Import => "import",
            _ => "removed",
        }
        .to_string()
    }
}

/// An address attribute: its parsed form, its span and its text.
fn attr<'r>(
    repo: &'r Repository,
    b: &TfBlock,
    block: BlockView<'r>,
    key: &str,
) -> Option<(Result<ConfigAddress, AddressError>, Span, &'r str)> {
    let a = block.body().attribute(key)?;
    let span = span_or(repo, b.at.file, a.value_range(), b.header);
    let text = &repo.file(b.at.file).text[span.range()];
    Some((a.config_address(), span, text.trim()))
}

/// Whether the module declares what a module-local address names.
/// The module an address's last block lives in: the module itself, or the local module its
/// `module.NAME` steps lead to; `None` when a step leads to a registry, git or unparsed
/// module preflight cannot see into.
fn container<'m>(
    repo: &Repository,
    model: &'m TerraformModel,
    module: &'m TfModule,
    a: &ConfigAddress,
) -> Option<&'m TfModule> {
    let steps = if a.resource.is_some() {
        &a.modules[..]
    } else {
        &a.modules[..a.modules.len().saturating_sub(1)]
    };
    let mut m = module;
    for step in steps {
        let ModuleSource::Local(target) = m.call(&step.name)?.source else {
            return None;
        };
        m = model.module(target);
        if !complete(repo, m) {
            return None;
        }
    }
    Some(m)
}

fn declared(module: &TfModule, a: &ConfigAddress) -> bool {
    match a.local_address() {
        Some(addr) if a.resource.is_some() => module.block(&addr).is_some(),
        Some(addr) => module.call(addr.trim_start_matches("module.")).is_some(),
        None => false,
    }
}

/// Where the module declares what a module-local address names, as Terraform prints it:
/// `main.tf:1,1` (the file relative to the module's folder).
fn declaration(repo: &Repository, module: &TfModule, a: &ConfigAddress) -> Option<String> {
    let addr = a.local_address()?;
    let b = module.block(&addr)?;
    let file = repo.file(b.span.file);
    let name = file
        .rel_path
        .strip_prefix(&module.dir)
        .map_or(file.rel_path.as_str(), |p| p.trim_start_matches('/'));
    let (line, col) = file.line_col(b.span.start as usize);
    Some(format!("{name}:{line},{col}"))
}

fn kind_of(a: &ConfigAddress) -> &'static str {
    if a.resource.is_some() {
        "resource"
    } else {
        "module call"
    }
}

fn syntax_problem(span: Span, text: &str, e: &AddressError) -> Problem {
    let detail = match e {
        AddressError::ExtraOperators { .. } => "Unexpected extra operators after address.",
        AddressError::Incomplete => {
            "The address is missing the names that must follow `module` or the resource type."
        }
        AddressError::NotATraversal => {
            "An address is written as a reference (`TYPE.NAME`, `module.NAME`), not a string or an expression."
        }
    };
    Problem {
        span,
        summary: "Invalid address",
        detail: detail.to_string(),
        help: format!(
            "`{text}` must name a resource (`TYPE.NAME`, `TYPE.NAME[KEY]`) or a module call (`module.NAME`), not an attribute"
        ),
        warning: false,
    }
}

fn moved(
    repo: &Repository,
    model: &TerraformModel,
    module: &TfModule,
    b: &TfBlock,
    block: BlockView<'_>,
    known: bool,
) -> Vec<Problem> {
    let mut out = Vec::new();
    let (Some((from, from_span, from_text)), Some((to, to_span, to_text))) =
        (attr(repo, b, block, "from"), attr(repo, b, block, "to"))
    else {
        return out;
    };
    let (from, to) = match (from, to) {
        (Ok(f), Ok(t)) => (f, t),
        (f, t) => {
            for (r, span, text) in [(f, from_span, from_text), (t, to_span, to_text)] {
                if let Err(e) = r {
                    out.push(syntax_problem(span, text, &e));
                }
            }
            return out;
        }
    };
    if from.resource.is_some() != to.resource.is_some() {
        out.push(Problem {
            span: b.header,
            summary: "Invalid \"moved\" addresses",
            detail: "The \"from\" and \"to\" addresses must either both refer to resources or both refer to modules.".into(),
            help: format!(
                "`{from_text}` is a {} and `{to_text}` a {}: move a resource to a resource, or a module call to a module call",
                kind_of(&from),
                kind_of(&to)
            ),
            warning: false,
        });
        return out;
    }
    let squash = |s: &str| s.split_whitespace().collect::<String>();
    if squash(from_text) == squash(to_text) {
        out.push(Problem {
            span: b.header,
            summary: "Redundant move statement",
            detail: format!(
                "This statement declares a move from {from_text} to the same address, which is the same as not declaring this move at all."
            ),
            help: "remove the `moved` block, or set `from` to the address the object had before".into(),
            warning: false,
        });
        return out;
    }
    if !known {
        return out;
    }
    if from.modules.is_empty()
        && !from.is_keyed()
        && let Some(at) = declaration(repo, module, &from)
    {
        out.push(Problem {
            span: from_span,
            summary: "Moved object still exists",
            detail: format!(
                "This statement declares a move from {from_text}, but that {} is still declared at {at}.",
                kind_of(&from)
            ),
            help: format!(
                "rename or remove the `{from_text}` block (the move is for an object whose block is gone), or remove this `moved` block"
            ),
            warning: false,
        });
    }
    if let Some(target) = container(repo, model, module, &to)
        && !declared(target, &to)
    {
        out.push(Problem {
            span: to_span,
            summary: "Moved object not declared",
            detail: format!(
                "Nothing in the configuration declares {to_text}: Terraform moves the object there and then plans to destroy it."
            ),
            help: format!("declare the {} `{to_text}`, or point `to` at the block that replaced `{from_text}`", kind_of(&to)),
            warning: true,
        });
    }
    out
}

fn import(
    repo: &Repository,
    model: &TerraformModel,
    module: &TfModule,
    b: &TfBlock,
    block: BlockView<'_>,
    known: bool,
) -> Vec<Problem> {
    let Some((to, span, text)) = attr(repo, b, block, "to") else {
        return Vec::new();
    };
    let to = match to {
        Err(AddressError::ExtraOperators { after_key: false }) => {
            return vec![Problem {
                span,
                summary: "Invalid address",
                detail: "Resource instance key must be given in square brackets.".into(),
                help: format!(
                    "`{text}` names an attribute: import into the resource, `TYPE.NAME` or `TYPE.NAME[KEY]`"
                ),
                warning: false,
            }];
        }
        Err(e) => return vec![syntax_problem(span, text, &e)],
        Ok(to) => to,
    };
    let Some(resource) = to.resource.as_ref().filter(|r| !r.data) else {
        return vec![Problem {
            span,
            summary: "Invalid import address",
            detail: "Only managed resources can be imported.".into(),
            help: format!(
                "`{text}` is not a managed resource: import into a `resource` block's address"
            ),
            warning: false,
        }];
    };
    if known
        && let Some(target) = container(repo, model, module, &to)
        && !declared(target, &to)
    {
        let addr = format!("{}.{}", resource.type_name, resource.name);
        return vec![Problem {
            span,
            summary: "Configuration for import target does not exist",
            detail: if to.modules.is_empty() {
                format!(
                    "The configuration for the given import target {text} does not exist. All target instances must have an associated configuration to be imported."
                )
            } else {
                format!(
                    "Resource {text} not found. Only resources within the root module are eligible for config generation."
                )
            },
            help: format!(
                "declare `resource \"{}\" \"{}\"` for the imported object, or fix the address (no block `{addr}` exists)",
                resource.type_name, resource.name
            ),
            warning: false,
        }];
    }
    Vec::new()
}

fn removed(
    repo: &Repository,
    module: &TfModule,
    b: &TfBlock,
    block: BlockView<'_>,
    known: bool,
) -> Vec<Problem> {
    let Some((from, span, text)) = attr(repo, b, block, "from") else {
        return Vec::new();
    };
    let keys = |resource: bool| Problem {
        span,
        summary: if resource {
            "Resource instance keys not allowed"
        } else {
            "Module instance keys not allowed"
        },
        detail: if resource {
            "Resource address must be a resource (e.g. \"test_instance.foo\"), not a resource instance (e.g. \"test_instance.foo[1]\").".into()
        } else {
            "Module address must be a module (e.g. \"module.foo\"), not a module instance (e.g. \"module.foo[1]\").".into()
        },
        help: format!(
            "`{text}` names an instance or an attribute: remove the whole block's address (`TYPE.NAME` or `module.NAME`)"
        ),
        warning: false,
    };
    let from = match from {
        Err(AddressError::ExtraOperators { .. }) => return vec![keys(true)],
        Err(e) => return vec![syntax_problem(span, text, &e)],
        Ok(f) => f,
    };
    if from.resource.as_ref().is_some_and(|r| r.data) {
        return vec![Problem {
            span,
            summary: "Data source address not allowed",
            detail: "Data sources are never destroyed, so they are not valid targets of removed blocks. To remove the data source from state, remove the data source block from configuration.".into(),
            help: "remove this `removed` block; deleting the `data` block is enough".into(),
            warning: false,
        }];
    }
    if from.resource.as_ref().is_some_and(|r| r.keyed) {
        return vec![keys(true)];
    }
    if from.modules.iter().any(|m| m.keyed) {
        return vec![keys(false)];
    }
    if known && from.modules.is_empty() && declared(module, &from) {
        let resource = from.resource.is_some();
        return vec![Problem {
            span,
            summary: if resource {
                "Removed resource still exists"
            } else {
                "Removed module still exists"
            },
            detail: format!(
                "This statement declares that {text} was removed, but it is still declared in configuration."
            ),
            help: format!("delete the `{text}` block as well, or remove this `removed` block"),
            warning: false,
        }];
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::Severity;
    use crate::testing::{check_rule, expect};

    const RULE: &str = "invalid-config-address";

    #[test]
    fn flags_bad_addresses_and_blocks_still_declared() {
        let findings = check_rule(
            RULE,
            &[
                (
                    "main.tf",
                    r#"resource "aws_s3_bucket" "new" {}
resource "aws_s3_bucket" "live" {}
module "app" {
  source = "./app"
}
moved {
  from = aws_s3_bucket.old[0].id
  to   = aws_s3_bucket.new
}
moved {
  from = aws_s3_bucket.live
  to   = aws_s3_bucket.new
}
moved {
  from = aws_s3_bucket.new
  to   = aws_s3_bucket.new
}
moved {
  from = module.old
  to   = aws_s3_bucket.new
}
moved {
  from = aws_s3_bucket.gone
  to   = aws_s3_bucket.nothing
}
import {
  to = aws_s3_bucket.missing
  id = "b"
}
import {
  to = aws_s3_bucket.new.id
  id = "b"
}
import {
  to = module.app
  id = "b"
}
import {
  to = module.app.aws_s3_bucket.nope
  id = "b"
}
moved {
  from = aws_s3_bucket.gone_too
  to   = module.app.aws_s3_bucket.nope
}
removed {
  from = aws_s3_bucket.live
}
removed {
  from = aws_s3_bucket.gone[0]
}
removed {
  from = data.aws_region.r
}
"#,
                ),
                ("app/main.tf", "variable \"x\" {\n  default = 1\n}\n"),
            ],
        );
        expect(
            &findings,
            &[
                (RULE, "main.tf", 7),
                (RULE, "main.tf", 11),
                (RULE, "main.tf", 14),
                (RULE, "main.tf", 18),
                (RULE, "main.tf", 24),
                (RULE, "main.tf", 27),
                (RULE, "main.tf", 31),
                (RULE, "main.tf", 35),
                (RULE, "main.tf", 39),
                (RULE, "main.tf", 44),
                (RULE, "main.tf", 47),
                (RULE, "main.tf", 50),
                (RULE, "main.tf", 53),
            ],
        );
        let warnings: Vec<usize> = findings
            .iter()
            .filter(|f| f.severity == Severity::Warning)
            .map(|f| f.line)
            .collect();
        assert_eq!(warnings, [24, 44]);
        assert!(
            findings[0]
                .message
                .starts_with("\"Invalid address\": Unexpected extra operators")
        );
    }

    #[test]
    fn accepts_moves_between_instances_modules_and_resources_in_modules() {
        let findings = check_rule(
            RULE,
            &[
                (
                    "main.tf",
                    r#"resource "aws_s3_bucket" "b" {
  for_each = toset(["a"])
}
module "app" {
  source = "./app"
}
moved {
  from = aws_s3_bucket.b[0]
  to   = aws_s3_bucket.b["a"]
}
moved {
  from = module.old_app
  to   = module.app
}
moved {
  from = aws_s3_bucket.legacy
  to   = module.app.aws_s3_bucket.this
}
module "vpc" {
  source = "terraform-aws-modules/vpc/aws"
}
moved {
  from = aws_vpc.this
  to   = module.vpc.aws_vpc.this[0]
}
import {
  for_each = toset(["a"])
  to       = aws_s3_bucket.b[each.key]
  id       = each.key
}
import {
  to = module.app.aws_s3_bucket.this
  id = "x"
}
removed {
  from = aws_s3_bucket.retired
  lifecycle {
    destroy = false
  }
}
removed {
  from = module.retired
}
"#,
                ),
                ("app/main.tf", "resource \"aws_s3_bucket\" \"this\" {}\n"),
            ],
        );
        expect(&findings, &[]);
    }
}
