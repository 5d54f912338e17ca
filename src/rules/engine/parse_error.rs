//! `parse-error`: a Terraform, YAML or JSON file that does not parse.

use crate::diagnostic::{Finding, Severity};
use crate::rules::syntax::Syntax;
use crate::rules::{Context, Rule};

crate::rules::declare_rule! {
    pub struct ParseError {
        id: "parse-error",
        severity: Severity::Error,
        summary: "A Terraform, YAML or JSON file does not parse; plan or sync would fail on it too",
        fix: None,
    }
}

impl Rule for ParseError {
    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let repo = &cx.session.repo;
        let mut out = inline_values(cx);
        out.extend(rendered_templates(cx));
        out.extend(repo.iter()
            .filter(|(f, _)| cx.session.file_in_scope(&f.rel_path))
            .filter_map(|(file, syntax)| match syntax {
                // A Terraform template is valid only once rendered (`skipped-file` says so).
                Syntax::Failed(e)
                    if !e.template && !cx.session.terraform_templates().contains_key(&file.id) =>
                {
                    let end = (e.offset + 1).min(file.text.len()).max(e.offset);
                    let end = crate::source::floor_char_boundary(&file.text, end).max(e.offset);
                    Some(
                        cx.finding(file.span(e.offset..end), format!("{} does not parse", file.rel_path))
                            .with_span_label(e.message.clone())
                            .with_help(match file.kind {
                                crate::source::FileKind::Yaml => {
                                    "fix the YAML syntax at this position (indentation, an unclosed quote or bracket, a tab used for indentation)"
                                }
                                crate::source::FileKind::Json => "fix the JSON syntax at this position (a missing comma or quote, a trailing comma)",
                                _ => "fix the HCL syntax at this position (an unclosed brace or string, a missing `=`)",
                            }),
                    )
                }
                _ => None,
            }));
        out
    }
}

/// YAML and JSON templates that `templatefile()` renders, with the values it is given, into
/// text that does not parse: whatever reads the result (`yamldecode`, Helm, cloud-init, an
/// IAM policy, `jsondecode`) fails.
fn rendered_templates(cx: &Context<'_>) -> Vec<Finding> {
    let repo = &cx.session.repo;
    crate::model::terraform::templates::rendered_yaml_errors(cx.session)
        .into_iter()
        .filter(|e| cx.session.file_in_scope(&repo.file(e.call.file).rel_path))
        .map(|e| {
            let template = repo.file(e.template);
            cx.finding(
                e.call,
                format!(
                    "`templatefile()` renders {} into {} that does not parse: {} (rendered line {}: `{}`)",
                    template.rel_path,
                    if template.kind == crate::source::FileKind::Json { "JSON" } else { "YAML" },
                    e.message,
                    e.line,
                    e.line_text
                ),
            )
            .with_label(template.span(0..0), "the template")
            .with_help("fix the template so that its rendered text parses: the indentation around interpolations and `~` strip markers in YAML, commas and quotes around interpolations in JSON (`jsonencode()` for lists and objects)")
        })
        .collect()
}

/// Inline `helm.values` strings of Applications that do not parse: Helm fails the sync.
fn inline_values(cx: &Context<'_>) -> Vec<Finding> {
    let repo = &cx.session.repo;
    cx.session
        .gitops()
        .inline_values_errors(repo)
        .into_iter()
        .filter(|(span, _, _)| cx.session.file_in_scope(&repo.file(span.file).rel_path))
        .map(|(span, message, app)| {
            cx.finding(
                span,
                format!("the inline `helm.values` of Application `{app}` does not parse: Helm fails the sync on it"),
            )
            .with_span_label(message)
            .with_help("fix the YAML of the values string at this position (indentation, an unclosed quote or bracket)")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::testing::{check_rule, expect};

    #[test]
    fn reports_malformed_terraform_yaml_and_json_with_their_lines() {
        let findings = check_rule(
            "parse-error",
            &[
                (
                    "envs/dev/main.tf",
                    "resource \"aws_s3_bucket\" \"logs\" {\n  bucket = \"logs\"\n\n",
                ),
                (
                    "apps/dev/app.yaml",
                    "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: [broken\n",
                ),
                (
                    "iam/ci.json",
                    "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n}\n",
                ),
                ("envs/dev/ok.tf", "variable \"x\" {}\n"),
            ],
        );
        expect(
            &findings,
            &[
                ("parse-error", "apps/dev/app.yaml", 5),
                ("parse-error", "envs/dev/main.tf", 3),
                ("parse-error", "iam/ci.json", 4),
            ],
        );
    }

    #[test]
    fn valid_files_and_templates_are_not_errors() {
        let findings = check_rule(
            "parse-error",
            &[
                ("envs/dev/main.tf", "variable \"x\" {\n  default = 1\n}\n"),
                (
                    ".github/workflows/ci.yaml",
                    "on: push\njobs:\n  a:\n    steps:\n      - run: echo ${{ github.sha }}\n",
                ),
                ("skeleton/app.yaml", "name: {{ .Name }}\n  bad: [\n"),
                (
                    "charts/app/Chart.yaml",
                    "apiVersion: v2\nname: app\nversion: 1.0.0\n",
                ),
                (
                    "charts/app/templates/deploy.yaml",
                    "{{- if .Values.x }}\nkind: Deployment\n  :\n",
                ),
            ],
        );
        expect(&findings, &[]);
    }

    #[test]
    fn binary_terraform_file_is_an_error() {
        let findings = check_rule(
            "parse-error",
            &[("modules/x/main.tf", "\u{0}\u{1}\u{2}ELF")],
        );
        expect(&findings, &[("parse-error", "modules/x/main.tf", 1)]);
    }
}

#[cfg(test)]
mod jsonc_tests {
    use crate::testing::{check_tree, expect};

    #[test]
    fn json_with_comments_is_not_a_parse_error() {
        let found = check_tree(
            &[
                (
                    "backstage/tsconfig.json",
                    "{\n  // strict mode\n  \"compilerOptions\": { \"strict\": true, },\n}\n",
                ),
                (".vscode/settings.json", "{ \"editor.tabSize\": 2, }\n"),
                ("iam/broken.json", "{ \"Version\": \"2012-10-17\", }\n"),
            ],
            &[],
            Default::default(),
        );
        expect(&found, &[("parse-error", "iam/broken.json", 1)]);
    }
}

#[cfg(test)]
mod template_tests {
    use crate::testing::{check_tree, expect};

    const CALLS: &str = r#"locals {
  ingress = templatefile("${path.module}/values/ingress.yaml", { ipv6 = false })
  apps    = { for k in ["carts", "ui"] : k => templatefile("${path.module}/apps/${k}.yaml", {}) }
}
"#;
    /// Not valid YAML raw (` : ` inside a plain scalar); valid once rendered.
    const INTERPOLATED: &str = "controller:\n  ipFamilies:\n    - ${ipv6 ? \"IPv6\" : \"IPv4\"}\n";
    const DIRECTIVES: &str =
        "image:\n  tag: ${tag}\n%{ if otel }\nopentelemetry:\n  enabled: true\n%{ endif }\n";

    #[test]
    fn templates_named_by_templatefile_or_holding_directives_are_notes() {
        let found = check_tree(
            &[
                ("infra/main.tf", CALLS),
                ("infra/values/ingress.yaml", INTERPOLATED),
                ("infra/apps/carts.yaml", INTERPOLATED),
                ("gitops/values/orders.yaml", DIRECTIVES),
            ],
            &[],
            Default::default(),
        );
        let found: Vec<_> = found
            .into_iter()
            .filter(|r| r.rule == "parse-error" || r.rule == "skipped-file")
            .collect();
        expect(
            &found,
            &[
                ("skipped-file", "infra/values/ingress.yaml", 1),
                ("skipped-file", "infra/apps/carts.yaml", 1),
                ("skipped-file", "gitops/values/orders.yaml", 1),
            ],
        );
        let ingress = found
            .iter()
            .find(|r| r.file == "infra/values/ingress.yaml")
            .unwrap();
        assert!(
            ingress.message.contains("Terraform template"),
            "{}",
            ingress.message
        );
        assert_eq!(ingress.finding.labels.len(), 1);
    }

    #[test]
    fn the_same_text_no_call_names_is_a_parse_error() {
        let found = check_tree(
            &[
                ("infra/main.tf", CALLS),
                ("infra/values/other.yaml", INTERPOLATED),
                ("infra/apps/sub/carts.yaml", INTERPOLATED),
                ("infra/ingress.yaml", INTERPOLATED),
            ],
            &[],
            Default::default(),
        );
        let found: Vec<_> = found
            .into_iter()
            .filter(|r| r.rule == "parse-error" || r.rule == "skipped-file")
            .collect();
        expect(
            &found,
            &[
                ("parse-error", "infra/values/other.yaml", 3),
                ("parse-error", "infra/apps/sub/carts.yaml", 3),
                ("parse-error", "infra/ingress.yaml", 3),
            ],
        );
    }
}

#[cfg(test)]
mod go_yaml_tests {
    use crate::testing::{check_rule, expect};

    #[test]
    fn yaml_go_yaml_accepts_is_not_an_error_and_what_it_rejects_is() {
        let findings = check_rule(
            "parse-error",
            &[
                (
                    "manifests/nodepool.yaml",
                    "apiVersion: karpenter.sh/v1\nkind: NodePool\nspec:\n  requirements:\n    - key: karpenter.k8s.aws/instance-family\n      operator: In\n      values: [\n        \"c5d\", \"m5d\",\n        \"r5d\"\n      ]\n",
                ),
                (
                    "benchmarks/job.yaml",
                    "kind: SparkApplication\nspec:\n  driver:\n    volumeMounts:\n      - name: log4j\n        mountPath: /opt/log4j\n    - name: local-dir\n      mountPath: /data1\n",
                ),
            ],
        );
        expect(&findings, &[("parse-error", "benchmarks/job.yaml", 7)]);
    }
}

#[cfg(test)]
mod terraform_accepts_tests {
    use crate::testing::{check_tree, expect};

    #[test]
    fn hcl_terraform_validate_accepts_is_not_a_parse_error() {
        // Each checked with `terraform validate` (1.11): valid; the repeated key's last value
        // wins (`local.tags.Name` is "b").
        let repeated = "locals {\n  tags = {\n    Name = \"a\"\n    Team = \"x\"\n    Name = \"b\"\n  }\n}\n\noutput \"name\" {\n  value = local.tags.Name\n}\n";
        let parens = format!(
            "locals {{\n  deep = {}1{}\n}}\n\noutput \"deep\" {{\n  value = local.deep\n}}\n",
            "(".repeat(64),
            ")".repeat(64)
        );
        let chain = format!(
            "locals {{\n  chain = {}\n}}\n\noutput \"chain\" {{\n  value = local.chain\n}}\n",
            vec!["1"; 130].join(" + ")
        );
        let objects = format!(
            "locals {{\n  nested = {}1{}\n}}\n\noutput \"n\" {{\n  value = local.nested\n}}\n\nresource \"aws_s3_bucket\" \"b\" {{\n  count  = length(local.nested) > 0 ? 1 : 0\n  bucket = jsonencode(local.nested)\n}}\n",
            "{ a = [".repeat(120),
            "]}".repeat(120)
        );
        let found = check_tree(
            &[
                ("repeated/main.tf", repeated),
                ("parens/main.tf", &parens),
                ("chain/main.tf", &chain),
                ("objects/main.tf", &objects),
                ("broken/main.tf", "locals {\n  a = {\n    b = 1\n  \n}\n"),
            ],
            &[],
            Default::default(),
        );
        let found: Vec<_> = found
            .into_iter()
            .filter(|r| r.severity != crate::diagnostic::Severity::Note)
            .collect();
        expect(&found, &[("parse-error", "broken/main.tf", 5)]);
    }
}

#[cfg(test)]
mod inline_values_tests {
    use crate::testing::{check_rule, expect};

    const APP: &str = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: ingress\n  namespace: argocd\nspec:\n  destination:\n    server: https://kubernetes.default.svc\n    namespace: ingress\n  source:\n    repoURL: https://kubernetes.github.io/ingress-nginx\n    chart: ingress-nginx\n    targetRevision: 4.10.0\n    helm:\n      values: |\n        controller:\n          replicaCount: 2\n";

    #[test]
    fn inline_helm_values_that_do_not_parse_are_errors_at_their_line() {
        let broken = format!("{APP}        service: [LoadBalancer\n          type: x\n");
        let flow = format!("{APP}          ports: [\n          80, 443\n        ]\n");
        let findings = check_rule(
            "parse-error",
            &[
                ("apps/broken.yaml", &broken),
                ("apps/ok.yaml", APP),
                ("apps/flow.yaml", &flow),
            ],
        );
        expect(&findings, &[("parse-error", "apps/broken.yaml", 19)]);
        assert!(
            findings[0].message.contains("`ingress`"),
            "{}",
            findings[0].message
        );
    }
}

#[cfg(test)]
mod rendered_template_tests {
    use crate::testing::{check_rule, expect};

    const TEMPLATE: &str = "controller:\n  service:\n    annotations:\n%{ if internal ~}\n      scheme: internal\n%{ endif ~}\n      ipFamily: ${ipv6 ? \"IPv6\" : \"IPv4\"}\n  replicas: ${replicas}\n";

    fn main_tf(replicas: &str) -> String {
        format!(
            "variable \"replicas\" {{\n  default = {replicas}\n}}\n\nlocals {{\n  values = templatefile(\"${{path.module}}/values/ingress.yaml\", {{\n    internal = true\n    ipv6     = false\n    replicas = var.replicas\n  }})\n}}\n"
        )
    }

    #[test]
    fn a_template_that_renders_to_yaml_is_fine() {
        let main = main_tf("2");
        let findings = check_rule(
            "parse-error",
            &[
                ("infra/main.tf", &main),
                ("infra/values/ingress.yaml", TEMPLATE),
            ],
        );
        expect(&findings, &[]);
    }

    #[test]
    fn a_template_that_renders_to_broken_yaml_is_an_error_at_the_call() {
        // A multi-line value interpolated without `indent()`: the second line lands at
        // column 0 inside a mapping.
        let main = main_tf("\"2\\nnodes: [\"");
        let findings = check_rule(
            "parse-error",
            &[
                ("infra/main.tf", &main),
                ("infra/values/ingress.yaml", TEMPLATE),
            ],
        );
        expect(&findings, &[("parse-error", "infra/main.tf", 6)]);
        assert!(
            findings[0].message.contains("rendered line"),
            "{}",
            findings[0].message
        );
    }

    #[test]
    fn json_templates_are_rendered_too_and_unknown_values_are_not_judged() {
        let policy = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\n    \"Effect\": \"Allow\",\n    \"Action\": ${actions},\n    \"Resource\": \"${arn}\"\n  }]\n}\n";
        let main = "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"logs\"\n}\n\nlocals {\n  good    = templatefile(\"${path.module}/policy.json\", { actions = jsonencode([\"s3:GetObject\"]), arn = \"arn:aws:s3:::logs/*\" })\n  bad     = templatefile(\"${path.module}/policy.json\", { actions = \"s3:GetObject\", arn = \"arn:aws:s3:::logs/*\" })\n  unknown = templatefile(\"${path.module}/policy.json\", { actions = aws_s3_bucket.b.arn, arn = aws_s3_bucket.b.arn })\n}\n";
        let findings = check_rule(
            "parse-error",
            &[("iam/main.tf", main), ("iam/policy.json", policy)],
        );
        expect(&findings, &[("parse-error", "iam/main.tf", 7)]);
        assert!(
            findings[0].message.contains("into JSON"),
            "{}",
            findings[0].message
        );
    }
}
