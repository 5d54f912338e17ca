//! `missing-instance-key`: an attribute read of a resource or data source that has `count`
//! or `for_each` without an instance key, of a module call with `count` without one, and an
//! instance key on a resource or data source that has neither. Splats (`x[*].id`) and whole
//! objects (`for b in x : b.id`, `length(x)`) are fine. How a block expands, override files
//! merged, is the model's (`TfModule::expansion`).

use super::{scoped_modules, sites, span_or};
use crate::diagnostic::{Finding, Severity};
use crate::model::terraform::Expansion;
use crate::model::terraform::expr::{RefStep, Reference};
use crate::rules::{Context, Rule};

crate::rules::declare_rule! {
    pub struct MissingInstanceKey {
        id: "missing-instance-key",
        severity: Severity::Error,
        summary: "An attribute read of a block with `count`/`for_each` without an instance key, or an instance key on a block with neither",
        fix: None,
        reads: Terraform,
    }
}

/// Roots that are not resource types.
const NOT_RESOURCES: &[&str] = &[
    "var",
    "local",
    "data",
    "module",
    "each",
    "count",
    "self",
    "path",
    "terraform",
    "ephemeral",
    "resource",
    "action",
    "list",
];

/// What a reference reads of a block: its address, how many leading names form the
/// address, and whether it is a module call.
fn target(r: &Reference) -> Option<(String, usize, bool)> {
    match r.root.as_str() {
        "data" => Some((
            format!("data.{}.{}", r.attrs.first()?, r.attrs.get(1)?),
            2,
            false,
        )),
        "module" => Some((format!("module.{}", r.attrs.first()?), 1, true)),
        root if !NOT_RESOURCES.contains(&root) => {
            Some((format!("{root}.{}", r.attrs.first()?), 1, false))
        }
        _ => None,
    }
}

impl Rule for MissingInstanceKey {
    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let repo = &cx.session.repo;
        let model = cx.session.terraform();
        let mut out = Vec::new();
        for id in scoped_modules(cx.session) {
            let module = model.module(id);
            for site in sites(repo, module) {
                // `replace_triggered_by` may name a whole resource, not one instance.
                if site.holds_no_references() || site.key == "replace_triggered_by" {
                    continue;
                }
                for r in site.references() {
                    if site.iterators.contains(&r.root) {
                        continue;
                    }
                    let Some((address, names, is_module)) = target(&r) else {
                        continue;
                    };
                    let Some(expansion) = module.expansion(&address) else {
                        continue;
                    };
                    let attr = r.attrs.get(names);
                    let indexed = matches!(r.rest.first(), Some(RefStep::Index(_)));
                    let verdict = match (expansion, attr) {
                        // Terraform reads `module.m.out` of a `for_each` call as the
                        // instance keyed "out": not an error it can report before plan.
                        (Expansion::ForEach, Some(_)) if is_module => None,
                        (Expansion::Count | Expansion::ForEach, Some(a)) => {
                            Some(missing(&address, expansion, a, is_module))
                        }
                        // Validate cannot tell an index on a single module call (its
                        // outputs are unknown then).
                        (Expansion::Single, None) if indexed && !is_module => {
                            Some(unexpected(&address, &r))
                        }
                        _ => None,
                    };
                    let Some((summary, detail, help)) = verdict else {
                        continue;
                    };
                    let file = repo.file(site.file);
                    let span = span_or(repo, site.file, r.span.clone(), file.span(0..0));
                    let mut finding = cx
                        .finding(span, format!("`{address}`: \"{summary}\": {detail}"))
                        .with_span_label(summary)
                        .with_help(help)
                        .with_address(site.address());
                    if let Some(b) = module.block(&address) {
                        let what = match expansion.argument() {
                            Some(arg) => format!("declared with `{arg}`"),
                            None => "declared without `count` or `for_each`".to_string(),
                        };
                        finding = finding.with_label(b.header, what);
                    }
                    out.push(finding);
                }
            }
        }
        out
    }
}

fn missing(
    address: &str,
    expansion: Expansion,
    attr: &str,
    is_module: bool,
) -> (&'static str, String, String) {
    let arg = expansion.argument().unwrap_or("count");
    let (one, all) = match expansion {
        Expansion::ForEach => (
            format!("{address}[each.key].{attr}` (or `{address}[\"KEY\"].{attr}"),
            format!("values({address})[*].{attr}"),
        ),
        _ => (
            format!("{address}[0].{attr}` (or `{address}[count.index].{attr}"),
            format!("{address}[*].{attr}"),
        ),
    };
    let help = format!("read one instance, `{one}`), or all of them, `{all}`");
    if is_module {
        (
            "Unsupported attribute",
            format!(
                "Can't access attributes on a list of objects. Did you mean to access attribute \"{attr}\" for a specific element of the list, or across all elements of the list? ({address} has \"{arg}\" set)"
            ),
            help,
        )
    } else {
        (
            "Missing resource instance key",
            format!(
                "Because {address} has \"{arg}\" set, its attributes must be accessed on specific instances."
            ),
            help,
        )
    }
}

fn unexpected(address: &str, r: &Reference) -> (&'static str, String, String) {
    let rest: Vec<String> = r
        .rest
        .iter()
        .skip(1)
        .map_while(|s| match s {
            RefStep::Attr(a) => Some(format!(".{a}")),
            _ => None,
        })
        .collect();
    (
        "Unexpected resource instance key",
        format!(
            "Because {address} does not have \"count\" or \"for_each\" set, references to it must not include an index key. Remove the bracketed index to refer to the single instance of this resource."
        ),
        format!("remove the index: `{address}{}`", rest.concat()),
    )
}

#[cfg(test)]
mod tests {
    use crate::testing::{check_rule, expect};

    const RULE: &str = "missing-instance-key";

    #[test]
    fn flags_reads_without_and_with_a_wrong_key() {
        let findings = check_rule(
            RULE,
            &[
                (
                    "main.tf",
                    r#"resource "aws_s3_bucket" "many" {
  count  = 2
  bucket = "b-${count.index}"
}
resource "aws_s3_bucket" "keyed" {
  for_each = toset(["a"])
  bucket   = each.key
}
resource "aws_s3_bucket" "one" {
  bucket = "one"
}
data "aws_region" "maybe" {
  count = 1
}
module "app" {
  source = "./app"
  count  = 1
}
output "o" {
  value = [
    aws_s3_bucket.many.arn,
    aws_s3_bucket.keyed.arn,
    aws_s3_bucket.one[0].arn,
    data.aws_region.maybe.name,
    module.app.url,
  ]
}
"#,
                ),
                ("app/main.tf", "output \"url\" {\n  value = \"u\"\n}\n"),
            ],
        );
        expect(
            &findings,
            &[
                (RULE, "main.tf", 21),
                (RULE, "main.tf", 22),
                (RULE, "main.tf", 23),
                (RULE, "main.tf", 24),
                (RULE, "main.tf", 25),
            ],
        );
        assert!(
            findings[0]
                .message
                .contains("\"Missing resource instance key\"")
        );
        assert_eq!(
            findings[0].help,
            "read one instance, `aws_s3_bucket.many[0].arn` (or `aws_s3_bucket.many[count.index].arn`), or all of them, `aws_s3_bucket.many[*].arn`"
        );
        assert_eq!(
            findings[2].help,
            "remove the index: `aws_s3_bucket.one.arn`"
        );
        assert!(findings[4].message.contains("\"Unsupported attribute\""));
    }

    #[test]
    fn splats_for_expressions_and_whole_objects_are_fine() {
        let findings = check_rule(
            RULE,
            &[
                (
                    "main.tf",
                    r#"resource "aws_s3_bucket" "many" {
  count  = 2
  bucket = "b-${count.index}"
}
resource "aws_s3_bucket" "keyed" {
  for_each = toset(["a"])
  bucket   = each.key
}
resource "aws_s3_bucket" "one" {
  bucket = "one"
  lifecycle {
    replace_triggered_by = [aws_s3_bucket.many.arn]
  }
  depends_on = [aws_s3_bucket.many]
}
module "app" {
  source   = "./app"
  for_each = toset(["a"])
}
output "o" {
  value = [
    aws_s3_bucket.many[*].arn,
    aws_s3_bucket.many.*.arn,
    aws_s3_bucket.many[0].arn,
    [for b in aws_s3_bucket.keyed : b.arn],
    values(aws_s3_bucket.keyed)[*].arn,
    aws_s3_bucket.keyed["a"].arn,
    length(aws_s3_bucket.many),
    aws_s3_bucket.one.arn,
    aws_s3_bucket.one[*].arn,
    module.app.a,
    module.app["a"].url,
  ]
}
"#,
                ),
                ("app/main.tf", "output \"url\" {\n  value = \"u\"\n}\n"),
            ],
        );
        expect(&findings, &[]);
    }

    #[test]
    fn an_override_file_adding_count_counts() {
        let findings = check_rule(
            RULE,
            &[
                (
                    "main.tf",
                    "resource \"aws_s3_bucket\" \"a\" {\n  bucket = \"a\"\n}\noutput \"o\" {\n  value = aws_s3_bucket.a.arn\n}\n",
                ),
                (
                    "main_override.tf",
                    "resource \"aws_s3_bucket\" \"a\" {\n  count = 1\n}\n",
                ),
            ],
        );
        expect(&findings, &[(RULE, "main.tf", 5)]);
    }
}
