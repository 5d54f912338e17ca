//! `secret-without-value`: an `ExternalSecret` reads an AWS Secrets Manager secret that
//! Terraform creates without any `aws_secretsmanager_secret_version` (the secret has no
//! `AWSCURRENT` value), or asks for a `property` its initial JSON value does not have.

use crate::diagnostic::{Finding, Severity};
use crate::model::secrets::{
    Located, ReadVerdict, Secrets, StoreIs, VersionDeps, classify_store, collect_reads,
    collect_secrets, read_verdict, terraform_stores,
};
use crate::model::terraform::analysis::{Analysis, BlockAt};
use crate::model::terraform::expr;
use crate::model::workspace::Workspace;
use crate::rules::{Context, Rule};
use std::collections::{BTreeSet, HashMap};

crate::rules::declare_rule! {
    pub struct SecretWithoutValue {
        id: "secret-without-value",
        severity: Severity::Error,
        summary: "An ExternalSecret reads a Secrets Manager secret that Terraform creates without a value, or a property its value lacks",
        fix: None,
    }
}

/// `{ password = "CHANGE_ME", username = "CHANGE_ME" }` for the properties asked for.
fn placeholder_object(properties: &BTreeSet<String>) -> String {
    if properties.is_empty() {
        return "{ KEY = \"CHANGE_ME\" }".to_string();
    }
    let parts: Vec<String> = properties
        .iter()
        .map(|p| {
            let ident = p
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                && !p.starts_with(|c: char| c.is_ascii_digit() || c == '-');
            if ident {
                format!("{p} = \"CHANGE_ME\"")
            } else {
                format!("{} = \"CHANGE_ME\"", expr::quote_string(p))
            }
        })
        .collect();
    format!("{{ {} }}", parts.join(", "))
}

impl Rule for SecretWithoutValue {
    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let s = cx.session;
        let model = s.gitops();
        let reads: Vec<Located> = collect_reads(s, model)
            .into_iter()
            .filter(|l| {
                s.in_scope(&s.repo.file(l.read.key_span.file).rel_path)
                    || l.groups.iter().any(|&g| s.gitops_group_in_scope(g))
            })
            .filter(|l| !l.read.key.contains("{{") && !l.read.key.contains("${"))
            .collect();
        if reads.is_empty() {
            return Vec::new();
        }
        let an = s.terraform_analysis_all();
        let secrets = collect_secrets(s, an);
        if secrets.by_name.is_empty() && secrets.prefixes.is_empty() {
            return Vec::new();
        }
        let tf_stores = if reads.iter().any(|l| l.read.store.is_some()) {
            terraform_stores(s, an)
        } else {
            HashMap::new()
        };
        // Properties asked for, per secret name (for the suggested initial value).
        let mut asked: HashMap<String, BTreeSet<String>> = HashMap::new();
        for l in &reads {
            let e = asked.entry(l.read.key.clone()).or_default();
            if let Some((p, _)) = &l.read.property {
                e.insert(p.split('.').next().unwrap_or(p).to_string());
            }
        }
        let mut deps = VersionDeps::default();
        let mut findings = Vec::new();
        for l in &reads {
            let store = match classify_store(s, model, &tf_stores, &l.groups, &l.read.store) {
                StoreIs::Other => continue,
                StoreIs::SecretsManager => None,
                StoreIs::Unknown(why) => Some(why),
            };
            if let Some(f) = check_read(cx, an, &secrets, &mut deps, l, store, &asked) {
                findings.push(f);
            }
        }
        findings
    }
}

fn check_read(
    cx: &Context<'_>,
    an: &Analysis,
    secrets: &Secrets,
    deps: &mut VersionDeps,
    l: &Located,
    store_unknown: Option<String>,
    asked: &HashMap<String, BTreeSet<String>>,
) -> Option<Finding> {
    let s = cx.session;
    let tf = s.terraform();
    let r = &l.read;
    let store_note = store_unknown
        .as_ref()
        .map(|why| format!(" (if its store is AWS Secrets Manager: {why})"))
        .unwrap_or_default();
    let with_app = |f: Finding| match &l.app {
        Some(a) => f.with_address(a.clone()),
        None => f,
    };
    let pass_phrase = |p: usize| {
        if an.passes.len() > 1 {
            format!(" {}", an.passes[p].phrase())
        } else {
            String::new()
        }
    };
    let (c, gated) = match read_verdict(s, an, secrets, deps, r)? {
        ReadVerdict::Prefixed { at, prefix } => {
            let address = an.address(tf, at);
            return Some(with_app(
                cx.note(
                    r.key_span,
                    format!(
                        "cannot tell whether `{}` is the secret `{address}` creates: its name is generated from `name_prefix = \"{prefix}\"`",
                        r.key
                    ),
                )
                .with_label(an.span(s, at, None), "creates a secret with a generated name")
                .with_help("give the secret a fixed `name` so that the ExternalSecret can name it"),
            ));
        }
        ReadVerdict::MayBeCreated { secret: c, why } => {
            return Some(with_app(
                cx.note(
                    r.key_span,
                    format!(
                        "cannot tell whether Terraform creates the secret `{}` read here (`{}`): {why}",
                        r.key, c.address
                    ),
                )
                .with_label(an.span(s, c.at, None), "may create the secret"),
            ));
        }
        ReadVerdict::PropertyMissing {
            secret: c,
            version: v,
            why,
            keys,
        } => {
            let (property, pspan) = r.property.as_ref()?;
            let mut props = asked.get(&r.key).cloned().unwrap_or_default();
            props.extend(keys);
            return Some(with_app(
                cx.finding(
                    *pspan,
                    format!(
                        "property `{property}` is not in the initial value of `{}`{}: {why}{store_note}",
                        r.key,
                        pass_phrase(c.pass)
                    ),
                )
                .with_span_label("the ExternalSecret asks for this property")
                .with_label(r.key_span, "of this secret")
                .with_label(an.span(s, v, None), "sets the initial value without it")
                .with_help(format!(
                    "add `{property}` to the initial value, e.g. `secret_string = jsonencode({})`, or fix the property name",
                    placeholder_object(&props)
                )),
            ));
        }
        ReadVerdict::CannotTell { secret: c, why } => {
            return Some(with_app(
                cx.note(
                    r.key_span,
                    format!(
                        "cannot tell whether the secret `{}` that `{}` creates has a value{}: {why}",
                        r.key,
                        c.address,
                        pass_phrase(c.pass)
                    ),
                )
                .with_label(an.span(s, c.at, None), "creates the secret"),
            ));
        }
        ReadVerdict::NoValue { secret, gated } => (secret, gated),
    };
    let props = asked.get(&r.key).cloned().unwrap_or_default();
    let mut f = cx
        .finding(
            r.key_span,
            format!(
                "`{}` reads the secret `{}`, which Terraform creates (`{}`) without an active `aws_secretsmanager_secret_version`{}: it has no AWSCURRENT value and the ExternalSecret cannot sync{store_note}",
                r.via,
                r.key,
                c.address,
                pass_phrase(c.pass)
            ),
        )
        .with_span_label("the ExternalSecret reads this secret")
        .with_label(an.span(s, c.at, None), "creates the secret with no value");
    for g in &gated {
        f = f.with_label(
            an.span(s, *g, None),
            format!("gated to zero{}", pass_phrase(c.pass)),
        );
    }
    let module = an.module(tf, c.at.inst);
    let initial = ["initial_value", "secret_string", "initial_secret_string"]
        .into_iter()
        .find(|v| module.block(&format!("var.{v}")).is_some());
    let help = match (initial, an.insts[c.at.inst].parent) {
        (Some(var), Some((p, b))) => {
            let call = BlockAt { inst: p, block: b };
            f = f.with_label(
                an.span(s, call, None),
                format!("does not set the module's `{var}`"),
            );
            format!(
                "set the module's `{var}` input on `{}` ({}): `{var} = jsonencode({})`; the real value can replace the placeholder later",
                an.address(tf, call),
                s.repo.file(module_file(an, s, call)).rel_path,
                placeholder_object(&props)
            )
        }
        _ => {
            let tb = &module.blocks[c.at.block];
            format!(
                "add a version next to `{}` ({}):\nresource \"aws_secretsmanager_secret_version\" \"{}\" {{\n  secret_id     = {}{}.id\n  secret_string = jsonencode({})\n}}",
                tb.address(),
                s.repo.file(tb.at.file).rel_path,
                tb.name,
                tb.address(),
                c.index,
                placeholder_object(&props)
            )
        }
    };
    Some(with_app(f.with_help(help)))
}

fn module_file(an: &Analysis, s: &Workspace, at: BlockAt) -> crate::source::FileId {
    an.module(s.terraform(), at.inst).blocks[at.block].at.file
}

#[cfg(test)]
mod tests {
    use crate::testing::{check_rule, check_tree, expect};

    const CONFIG: (&str, &str) = (
        "preflight.toml",
        "[gitops]\nrepo_urls = [\"https://github.com/acme/infra.git\"]\n",
    );

    const APP: (&str, &str) = (
        "apps/app.yaml",
        "apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: app
spec:
  destination:
    server: https://eks.example.com
  source:
    repoURL: https://github.com/acme/infra.git
    targetRevision: HEAD
    path: k8s
",
    );

    fn store(provider: &str) -> String {
        format!(
            "apiVersion: external-secrets.io/v1beta1
kind: ClusterSecretStore
metadata:
  name: aws
spec:
  provider:
{provider}
"
        )
    }

    const AWS_SM: &str = "    aws:\n      service: SecretsManager\n      region: eu-west-1";

    fn external_secret(key: &str, property: &str) -> String {
        format!(
            "apiVersion: external-secrets.io/v1beta1
kind: ExternalSecret
metadata:
  name: db
spec:
  secretStoreRef:
    name: aws
    kind: ClusterSecretStore
  data:
    - secretKey: password
      remoteRef:
        key: {key}
        property: {property}
"
        )
    }

    fn run(tf: &str, es: &str, store_provider: &str) -> Vec<crate::testing::Reported> {
        check_rule(
            "secret-without-value",
            &[
                CONFIG,
                APP,
                ("k8s/es.yaml", es),
                ("k8s/store.yaml", &store(store_provider)),
                ("infra/main.tf", tf),
            ],
        )
    }

    const SECRET: &str = "variable \"env\" {\n  default = \"dev\"\n}\n\nresource \"aws_secretsmanager_secret\" \"db\" {\n  name = \"app/${var.env}/db\"\n}\n";

    #[test]
    fn a_secret_without_version_is_an_error() {
        let f = run(SECRET, &external_secret("app/dev/db", "password"), AWS_SM);
        expect(&f, &[("secret-without-value", "k8s/es.yaml", 12)]);
        assert!(
            f[0].help
                .contains("secret_id     = aws_secretsmanager_secret.db.id")
        );
        assert!(
            f[0].help
                .contains("jsonencode({ password = \"CHANGE_ME\" })")
        );
        assert!(!f[0].message.contains("store"), "{}", f[0].message);
    }

    #[test]
    fn a_version_gives_it_a_value_and_its_keys_are_checked() {
        let tf = format!(
            "{SECRET}\nresource \"aws_secretsmanager_secret_version\" \"db\" {{\n  secret_id     = aws_secretsmanager_secret.db.id\n  secret_string = jsonencode({{ username = \"u\", password = random_password.db.result }})\n}}\n"
        );
        expect(
            &run(&tf, &external_secret("app/dev/db", "password"), AWS_SM),
            &[],
        );
        // A property the initial value lacks: reported at the property.
        let f = run(&tf, &external_secret("app/dev/db", "pass"), AWS_SM);
        expect(&f, &[("secret-without-value", "k8s/es.yaml", 13)]);
        assert!(
            f[0].message.contains("`password`, `username`"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn a_version_gated_to_zero_does_not_count() {
        let tf = format!(
            "{SECRET}\nresource \"aws_secretsmanager_secret_version\" \"db\" {{\n  count         = 0\n  secret_id     = aws_secretsmanager_secret.db.arn\n  secret_string = \"{{}}\"\n}}\n"
        );
        let f = run(&tf, &external_secret("app/dev/db", "password"), AWS_SM);
        expect(&f, &[("secret-without-value", "k8s/es.yaml", 12)]);
        assert!(
            f[0].finding
                .labels
                .iter()
                .any(|l| l.message.contains("gated to zero"))
        );
    }

    #[test]
    fn versions_by_literal_name_and_through_module_outputs() {
        let by_name = format!(
            "{SECRET}\nresource \"aws_secretsmanager_secret_version\" \"db\" {{\n  secret_id     = \"app/dev/db\"\n  secret_string = jsonencode({{ password = \"x\" }})\n}}\n"
        );
        expect(
            &run(&by_name, &external_secret("app/dev/db", "password"), AWS_SM),
            &[],
        );
        let module = "variable \"name\" {}\n\nresource \"aws_secretsmanager_secret\" \"this\" {\n  for_each = toset([\"a\", \"b\"])\n  name     = \"${var.name}/${each.key}\"\n}\n\noutput \"ids\" {\n  value = { for k, s in aws_secretsmanager_secret.this : k => s.id }\n}\n";
        let root = "module \"s\" {\n  source = \"../modules/s\"\n  name   = \"app\"\n}\n\nresource \"aws_secretsmanager_secret_version\" \"a\" {\n  secret_id     = module.s.ids[\"a\"]\n  secret_string = jsonencode({ password = \"x\" })\n}\n";
        let files = [
            CONFIG,
            APP,
            ("k8s/a.yaml", &external_secret("app/a", "password") as &str),
            ("k8s/b.yaml", &external_secret("app/b", "password")),
            ("k8s/store.yaml", &store(AWS_SM)),
            ("infra/main.tf", root),
            ("modules/s/main.tf", module),
        ];
        let f = check_rule("secret-without-value", &files);
        expect(&f, &[("secret-without-value", "k8s/b.yaml", 12)]);
        assert!(
            f[0].help
                .contains("aws_secretsmanager_secret.this[\"b\"].id"),
            "{}",
            f[0].help
        );
    }

    #[test]
    fn secrets_terraform_does_not_create_and_other_stores_are_not_reported() {
        expect(
            &run(
                SECRET,
                &external_secret("app/dev/other", "password"),
                AWS_SM,
            ),
            &[],
        );
        let vault = "    vault:\n      server: https://vault.example.com";
        expect(
            &run(SECRET, &external_secret("app/dev/db", "password"), vault),
            &[],
        );
        let parameter_store = "    aws:\n      service: ParameterStore";
        expect(
            &run(
                SECRET,
                &external_secret("app/dev/db", "password"),
                parameter_store,
            ),
            &[],
        );
    }

    #[test]
    fn an_unknown_store_is_checked_and_said() {
        let f = check_rule(
            "secret-without-value",
            &[
                CONFIG,
                APP,
                ("k8s/es.yaml", &external_secret("app/dev/db", "password")),
                ("infra/main.tf", SECRET),
            ],
        );
        expect(&f, &[("secret-without-value", "k8s/es.yaml", 12)]);
        assert!(
            f[0].message.contains("no ClusterSecretStore `aws`"),
            "{}",
            f[0].message
        );
    }

    #[test]
    fn helm_values_extract_and_the_module_initial_value() {
        let module = "variable \"name\" {}\n\nvariable \"initial_value\" {\n  default = null\n}\n\nresource \"aws_secretsmanager_secret\" \"this\" {\n  name = var.name\n}\n\nresource \"aws_secretsmanager_secret_version\" \"this\" {\n  count         = var.initial_value == null ? 0 : 1\n  secret_id     = aws_secretsmanager_secret.this.id\n  secret_string = var.initial_value\n}\n";
        let root = |init: &str| {
            format!(
                "variable \"environment\" {{}}\n\nmodule \"kc\" {{\n  source = \"../../modules/secret\"\n  name   = \"goldenpath/${{var.environment}}/keycloak/postgres\"\n{init}}}\n"
            )
        };
        let app = "apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: keycloak
spec:
  destination:
    server: https://eks.example.com
  sources:
    - repoURL: https://charts.bitnami.com/bitnami
      chart: keycloak
      targetRevision: 1.0.0
      helm:
        valueFiles: [$values/values/keycloak.yaml]
    - repoURL: https://github.com/acme/infra.git
      targetRevision: HEAD
      ref: values
";
        let values = "externalSecret:\n  secretStoreRef:\n    name: aws\n    kind: ClusterSecretStore\n  dataFrom:\n    - extract:\n        key: goldenpath/dev/keycloak/postgres\n";
        let files = |tf: String| {
            vec![
                (CONFIG.0.to_string(), CONFIG.1.to_string()),
                ("apps/keycloak.yaml".into(), app.to_string()),
                ("values/keycloak.yaml".into(), values.to_string()),
                ("k8s/store.yaml".into(), store(AWS_SM)),
                ("envs/dev/main.tf".into(), tf),
                (
                    "envs/dev/terraform.tfvars".into(),
                    "environment = \"dev\"\n".into(),
                ),
                ("modules/secret/main.tf".into(), module.to_string()),
            ]
        };
        let run = |tf: String, paths: &[&str]| {
            let owned = files(tf);
            let refs: Vec<(&str, &str)> = owned
                .iter()
                .map(|(a, b)| (a.as_str(), b.as_str()))
                .collect();
            check_tree(&refs, paths, Default::default())
                .into_iter()
                .filter(|r| r.rule == "secret-without-value")
                .collect::<Vec<_>>()
        };
        let f = run(root(""), &[]);
        expect(&f, &[("secret-without-value", "values/keycloak.yaml", 7)]);
        assert!(
            f[0].help.contains("`initial_value = jsonencode("),
            "{}",
            f[0].help
        );
        // Checking only the values file still finds the Terraform secret.
        expect(
            &run(root(""), &["values"]),
            &[("secret-without-value", "values/keycloak.yaml", 7)],
        );
        // Checking only an unrelated folder reports nothing.
        expect(&run(root(""), &["k8s"]), &[]);
        let fixed = root("  initial_value = jsonencode({ password = \"x\" })\n");
        expect(&run(fixed, &[]), &[]);
    }

    #[test]
    fn a_generated_name_is_a_note() {
        let tf =
            "resource \"aws_secretsmanager_secret\" \"db\" {\n  name_prefix = \"app/dev/db-\"\n}\n";
        let f = run(tf, &external_secret("app/dev/db-x1", "password"), AWS_SM);
        expect(&f, &[("secret-without-value", "k8s/es.yaml", 12)]);
        assert_eq!(f[0].severity, crate::diagnostic::Severity::Note);
    }
}

#[cfg(test)]
mod data_source_tests {
    use crate::testing::{check_rule, expect};

    #[test]
    fn a_version_through_a_data_source_read_at_apply_counts() {
        let tf = "resource \"aws_secretsmanager_secret\" \"db\" {\n  name = \"app/dev/db\"\n}\n\ndata \"aws_secretsmanager_secret\" \"db\" {\n  name       = \"app/dev/db\"\n  depends_on = [aws_secretsmanager_secret.db]\n}\n\nresource \"aws_secretsmanager_secret_version\" \"db\" {\n  secret_id     = data.aws_secretsmanager_secret.db.id\n  secret_string = jsonencode({ password = \"x\" })\n}\n";
        let es = "apiVersion: external-secrets.io/v1beta1\nkind: ExternalSecret\nmetadata:\n  name: db\nspec:\n  data:\n    - secretKey: password\n      remoteRef:\n        key: app/dev/db\n";
        let app = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata:\n  name: app\nspec:\n  destination:\n    server: https://eks.example.com\n  source:\n    repoURL: https://github.com/acme/infra.git\n    targetRevision: HEAD\n    path: k8s\n";
        let f = check_rule(
            "secret-without-value",
            &[
                (
                    "preflight.toml",
                    "[gitops]\nrepo_urls = [\"https://github.com/acme/infra.git\"]\n",
                ),
                ("apps/app.yaml", app),
                ("k8s/es.yaml", es),
                ("infra/main.tf", tf),
            ],
        );
        expect(&f, &[]);
    }
}
