//! `unknown-argument`: an argument or nested block a resource or data source type does not
//! have, a required one missing, a computed-only attribute set, or a type the provider does
//! not have, for the providers whose schemas preflight carries
//! ([`crate::model::terraform::schema`]). When the configuration allows provider versions
//! the data does not cover, the findings are notes; types of other providers are not
//! checked (said in `--verbose`).

use super::{closest, complete, is_override_file, scoped_modules, span_or};
use crate::diagnostic::{Finding, Severity};
use crate::model::terraform::schema::{
    self, BlockSchema, Coverage, ProviderSchema, SchemaKind, implied_provider,
};
use crate::model::terraform::validity::{self, BlockView, BodyView};
use crate::model::terraform::{BlockKind, TfBlock, TfModule};
use crate::repo::Repository;
use crate::rules::{Context, Rule};
use crate::source::{FileId, Span};
use std::collections::BTreeSet;

crate::rules::declare_rule! {
    pub struct UnknownArgument {
        id: "unknown-argument",
        severity: Severity::Error,
        summary: "An argument or nested block a resource or data source type does not have, or a required one missing (for the providers preflight knows)",
        fix: None,
        reads: Terraform,
    }
}

/// Meta-arguments and blocks Terraform handles itself.
const RESOURCE_META_ARGS: &[&str] = &["count", "for_each", "provider", "depends_on"];
const RESOURCE_META_BLOCKS: &[&str] = &["lifecycle", "provisioner", "connection"];
const DATA_META_BLOCKS: &[&str] = &["lifecycle"];

struct Problem {
    span: Span,
    summary: String,
    detail: String,
    help: String,
}

impl Rule for UnknownArgument {
    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let repo = &cx.session.repo;
        let model = cx.session.terraform();
        let mut out = Vec::new();
        let mut not_covered: BTreeSet<String> = BTreeSet::new();
        for id in scoped_modules(cx.session) {
            let module = model.module(id);
            let requirements = schema::requirements(repo, model, module);
            let mut coverage: Vec<(&'static str, Coverage)> = Vec::new();
            for b in &module.blocks {
                let kind = match b.kind {
                    BlockKind::Resource => SchemaKind::Resource,
                    BlockKind::Data => SchemaKind::Data,
                    _ => continue,
                };
                let Some(block) = validity::block(model, repo, b.at) else {
                    continue;
                };
                let local = provider_local_name(block, &b.type_name);
                // The local name must mean the provider the data is for.
                let source = requirements
                    .iter()
                    .find(|r| r.name == local)
                    .map_or_else(|| schema::normalise_source(&local), |r| r.source.clone());
                let Some(provider) = schema::provider(&local).filter(|p| p.source == source) else {
                    not_covered.insert(format!("{local} ({source})"));
                    continue;
                };
                if !coverage.iter().any(|(n, _)| *n == provider.name) {
                    coverage.push((provider.name, schema::coverage(repo, model, id, provider)));
                }
                let Some((_, cov)) = coverage.iter().find(|(n, _)| *n == provider.name) else {
                    continue;
                };
                for p in problems(repo, module, b, block, kind, provider) {
                    let message = format!("\"{}\": {}", p.summary, p.detail);
                    let finding = if cov.covered {
                        cx.finding(p.span, message)
                    } else {
                        let allowed = if cov.constraints.is_empty() {
                            "no version constraint".to_string()
                        } else {
                            format!("`{}`", cov.constraints.join("`, `"))
                        };
                        cx.note(
                            p.span,
                            format!(
                                "{message} (in {} {}; this configuration allows other versions: {allowed}, so preflight cannot tell)",
                                provider.name, provider.version
                            ),
                        )
                    };
                    out.push(
                        finding
                            .with_span_label(p.summary.clone())
                            .with_help(p.help)
                            .with_address(b.address()),
                    );
                }
            }
        }
        for p in not_covered {
            cx.session.verbose(format!(
                "unknown-argument: no schema data for provider {p}; its resource and data source arguments are not checked"
            ));
        }
        out
    }
}

/// The provider local name a block uses: its `provider = NAME.ALIAS`, else the type's
/// prefix.
fn provider_local_name(block: BlockView<'_>, ty: &str) -> String {
    let explicit = block
        .body()
        .attribute("provider")
        .and_then(|a| a.root_name())
        .map(str::to_string);
    explicit.unwrap_or_else(|| implied_provider(ty).to_string())
}

fn problems(
    repo: &Repository,
    module: &TfModule,
    b: &TfBlock,
    block: BlockView<'_>,
    kind: SchemaKind,
    provider: &ProviderSchema,
) -> Vec<Problem> {
    let mut out = Vec::new();
    let Some(schema) = provider.get(kind, &b.type_name) else {
        let what = match kind {
            SchemaKind::Resource => "resource",
            SchemaKind::Data => "data source",
        };
        // Terraform's wording: "Invalid resource type" / "Invalid data source".
        let (summary, noun) = match kind {
            SchemaKind::Resource => ("Invalid resource type", "resource type"),
            SchemaKind::Data => ("Invalid data source", "data source"),
        };
        out.push(Problem {
            span: b.header,
            summary: summary.to_string(),
            detail: format!(
                "The provider {} does not support {noun} \"{}\".",
                provider.source.trim_start_matches("registry.terraform.io/"),
                b.type_name
            ),
            help: help_closest(
                &b.type_name,
                provider.types(kind),
                &format!(
                    "{} {} has no such {what} type",
                    provider.name, provider.version
                ),
            ),
        });
        return out;
    };
    // An override file may supply what the main block lacks, and its own block is partial:
    // check names everywhere, requirements only on blocks no override touches.
    // A `.tf.json` file preflight does not read may be an override too.
    let overridden = module.blocks_at(&b.address()).count() > 1
        || is_override_file(repo, b.at.file)
        || !complete(repo, module);
    let (meta_args, meta_blocks) = match kind {
        SchemaKind::Resource => (RESOURCE_META_ARGS, RESOURCE_META_BLOCKS),
        SchemaKind::Data => (RESOURCE_META_ARGS, DATA_META_BLOCKS),
    };
    let cx = Walk {
        repo,
        file: b.at.file,
        fallback: b.header,
        check_required: !overridden,
    };
    cx.body(
        block.body(),
        &schema,
        meta_args,
        meta_blocks,
        b.header,
        0,
        &mut out,
    );
    out
}

struct Walk<'a> {
    repo: &'a Repository,
    file: FileId,
    fallback: Span,
    check_required: bool,
}

const MAX_DEPTH: usize = 32;

impl Walk<'_> {
    fn span(&self, range: Option<std::ops::Range<usize>>) -> Span {
        span_or(self.repo, self.file, range, self.fallback)
    }

    #[allow(clippy::too_many_arguments)]
    fn body(
        &self,
        body: BodyView<'_>,
        schema: &BlockSchema,
        meta_args: &[&str],
        meta_blocks: &[&str],
        header: Span,
        depth: usize,
        out: &mut Vec<Problem>,
    ) {
        if depth > MAX_DEPTH {
            return;
        }
        for attr in body.attributes() {
            let key = attr.key();
            if meta_args.contains(&key) {
                continue;
            }
            let span = self.span(attr.key_range());
            match schema.attributes.get(key) {
                Some(a) if a.computed_only => out.push(Problem {
                    span,
                    summary: "Value for unconfigurable attribute".into(),
                    detail: format!(
                        "Can't configure a value for \"{key}\": its value will be decided automatically based on the result of applying this configuration."
                    ),
                    help: format!("remove `{key}`: the provider sets it (read it as an attribute instead)"),
                }),
                Some(_) => {}
                None if schema.blocks.contains_key(key) => out.push(Problem {
                    span,
                    summary: "Unsupported argument".into(),
                    detail: format!(
                        "An argument named \"{key}\" is not expected here. Did you mean to define a block of type \"{key}\"?"
                    ),
                    help: format!("write `{key}` as a block, `{key} {{ … }}` (or a `dynamic \"{key}\"` block for a list)"),
                }),
                None => out.push(Problem {
                    span,
                    summary: "Unsupported argument".into(),
                    detail: format!("An argument named \"{key}\" is not expected here."),
                    help: help_closest(
                        key,
                        schema
                            .attributes
                            .iter()
                            .filter(|(_, a)| !a.computed_only)
                            .map(|(n, _)| n.as_str()),
                        "remove it, or check the provider's documentation for its current name",
                    ),
                }),
            }
        }
        let mut seen: Vec<&str> = Vec::new();
        let mut dynamic: Vec<&str> = Vec::new();
        for block in body.blocks() {
            let ident = block.ident();
            if meta_blocks.contains(&ident) {
                continue;
            }
            let (name, inner, span) = if ident == "dynamic" {
                let Some(name) = block.label(0) else {
                    continue;
                };
                dynamic.push(name);
                let content = block.body().blocks().find(|c| c.ident() == "content");
                (
                    name,
                    content.map(|c| c.body()),
                    self.span(block.label_range(0)),
                )
            } else {
                seen.push(ident);
                (ident, Some(block.body()), self.span(block.ident_range()))
            };
            match (schema.blocks.get(name), schema.attributes.get(name)) {
                (Some(nested), _) => {
                    if let Some(inner) = inner {
                        self.body(inner, &nested.body, &[], &[], span, depth + 1, out);
                    }
                }
                // Terraform's "attributes as blocks": a list of objects written as blocks.
                (None, Some(a)) if a.as_blocks => {}
                (None, Some(_)) => out.push(Problem {
                    span,
                    summary: "Unsupported block type".into(),
                    detail: format!(
                        "Blocks of type \"{name}\" are not expected here. Did you mean to define argument \"{name}\"? If so, use the equals sign to assign it a value."
                    ),
                    help: format!("write `{name} = …`"),
                }),
                (None, None) => out.push(Problem {
                    span,
                    summary: "Unsupported block type".into(),
                    detail: format!("Blocks of type \"{name}\" are not expected here."),
                    help: help_closest(
                        name,
                        schema.blocks.keys().map(String::as_str),
                        "remove it, or check the provider's documentation for its current name",
                    ),
                }),
            }
        }
        if !self.check_required {
            return;
        }
        for (name, a) in &schema.attributes {
            if a.required && body.attribute(name).is_none() {
                out.push(Problem {
                    span: header,
                    summary: "Missing required argument".into(),
                    detail: format!(
                        "The argument \"{name}\" is required, but no definition was found."
                    ),
                    help: format!("set `{name}`"),
                });
            }
        }
        for (name, nested) in &schema.blocks {
            let n = seen.iter().filter(|s| **s == name.as_str()).count() as u32;
            if nested.min_items > 0 && n < nested.min_items && !dynamic.contains(&name.as_str()) {
                out.push(Problem {
                    span: header,
                    summary: format!("Insufficient {name} blocks"),
                    detail: format!(
                        "At least {} \"{name}\" blocks are required.",
                        nested.min_items
                    ),
                    help: format!("add a `{name} {{ … }}` block"),
                });
            }
        }
    }
}

fn help_closest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    otherwise: &str,
) -> String {
    match closest(name, candidates) {
        Some(s) => format!("did you mean `{s}`?"),
        None => otherwise.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::Severity;
    use crate::testing::{check_rule, expect};

    const RULE: &str = "unknown-argument";

    const PIN: &str = "terraform {\n  required_providers {\n    aws = {\n      source  = \"hashicorp/aws\"\n      version = \"~> 5.0\"\n    }\n  }\n}\n";

    #[test]
    fn flags_unknown_missing_and_unconfigurable_with_the_closest_name() {
        let findings = check_rule(
            RULE,
            &[
                ("versions.tf", PIN),
                (
                    "main.tf",
                    r#"resource "aws_s3_bucket" "a" {
  buckt = "x"
  versioning_cfg {
  }
}
resource "aws_instance" "b" {
  ami           = "ami-1"
  instance_type = "t3.micro"
  arn           = "x"
  root_block_device {
    volume_sise = 3
  }
  dynamic "ebs_blok" {
    for_each = []
    content {}
  }
}
resource "aws_iam_role" "c" {
  inline_policy = [{ name = "x" }]
}
resource "aws_eks_cluster" "d" {
  name     = "x"
  role_arn = "x"
}
data "aws_iam_policy_document" "e" {
  statement {
    actionz = ["s3:GetObject"]
  }
}
resource "aws_s3_buckett" "f" {}
"#,
                ),
            ],
        );
        expect(
            &findings,
            &[
                (RULE, "main.tf", 2),
                (RULE, "main.tf", 3),
                (RULE, "main.tf", 9),
                (RULE, "main.tf", 11),
                (RULE, "main.tf", 13),
                (RULE, "main.tf", 18),
                (RULE, "main.tf", 19),
                (RULE, "main.tf", 21),
                (RULE, "main.tf", 27),
                (RULE, "main.tf", 30),
            ],
        );
        assert!(findings.iter().all(|f| f.severity == Severity::Error));
        let helps: Vec<&str> = findings.iter().map(|f| f.help.as_str()).collect();
        for want in [
            "did you mean `bucket`?",
            "did you mean `volume_size`?",
            "did you mean `actions`?",
            "did you mean `aws_s3_bucket`?",
            "set `assume_role_policy`",
            "add a `vpc_config { … }` block",
            "write `inline_policy` as a block, `inline_policy { … }` (or a `dynamic \"inline_policy\"` block for a list)",
        ] {
            assert!(helps.contains(&want), "{want} not in {helps:?}");
        }
        assert_eq!(
            findings[0].message,
            "\"Unsupported argument\": An argument named \"buckt\" is not expected here."
        );
    }

    #[test]
    fn meta_arguments_attributes_as_blocks_and_dynamic_blocks_are_fine() {
        let findings = check_rule(
            RULE,
            &[
                ("versions.tf", PIN),
                (
                    "main.tf",
                    r#"provider "aws" {
  alias  = "west"
  region = "us-west-2"
}
resource "aws_security_group" "a" {
  count    = 1
  provider = aws.west
  name     = "a"
  ingress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["10.0.0.0/8"]
  }
  egress = [{
    from_port        = 0
    to_port          = 0
    protocol         = "-1"
    cidr_blocks      = ["0.0.0.0/0"]
    ipv6_cidr_blocks = []
    prefix_list_ids  = []
    security_groups  = []
    self             = false
    description      = ""
  }]
  lifecycle {
    create_before_destroy = true
  }
  provisioner "local-exec" {
    command = "true"
  }
  connection {
    host = "x"
  }
  depends_on = [terraform_data.t]
  timeouts {
    create = "5m"
  }
}
resource "aws_eks_cluster" "b" {
  name     = "b"
  role_arn = "arn"
  dynamic "vpc_config" {
    for_each = [1]
    content {
      subnet_ids = []
    }
  }
}
data "aws_region" "r" {
  for_each = toset(["a"])
}
resource "terraform_data" "t" {
  input = 1
}
resource "kubernetes_namespace_v1" "n" {
  metadata {
    name = "x"
  }
  anything = true
}
"#,
                ),
            ],
        );
        expect(&findings, &[]);
    }

    #[test]
    fn a_huge_type_name_is_reported_without_a_suggestion_quickly() {
        let ty = format!("aws_{}", "x".repeat(200_000));
        let main = format!("resource \"{ty}\" \"a\" {{}}\n");
        let started = std::time::Instant::now();
        let findings = check_rule(RULE, &[("versions.tf", PIN), ("main.tf", &main)]);
        expect(&findings, &[(RULE, "main.tf", 1)]);
        assert!(!findings[0].help.contains("did you mean"));
        assert!(started.elapsed().as_secs() < 20);
    }

    #[test]
    fn unpinned_or_other_major_versions_give_notes_and_other_sources_are_skipped() {
        let body = "resource \"aws_s3_bucket\" \"a\" {\n  buckt = \"x\"\n}\n";
        let unpinned = check_rule(RULE, &[("main.tf", body)]);
        expect(&unpinned, &[(RULE, "main.tf", 2)]);
        assert_eq!(unpinned[0].severity, Severity::Note);
        assert!(unpinned[0].message.contains("no version constraint"));
        let v4 = check_rule(
            RULE,
            &[
                ("main.tf", body),
                ("versions.tf", &PIN.replace("~> 5.0", "~> 4.67")),
            ],
        );
        assert_eq!(v4[0].severity, Severity::Note);
        let forked = check_rule(
            RULE,
            &[
                ("main.tf", body),
                ("versions.tf", &PIN.replace("hashicorp/aws", "example/aws")),
            ],
        );
        expect(&forked, &[]);
        let root_pins = check_rule(
            RULE,
            &[
                ("envs/dev/versions.tf", PIN),
                (
                    "envs/dev/main.tf",
                    "module \"b\" {\n  source = \"../../modules/b\"\n}\n",
                ),
                ("modules/b/main.tf", body),
            ],
        );
        expect(&root_pins, &[(RULE, "modules/b/main.tf", 2)]);
        assert_eq!(root_pins[0].severity, Severity::Error);
    }
}
