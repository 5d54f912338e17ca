//! `undeployed-secret-store`: an `ExternalSecret` whose `secretStoreRef` names a
//! `SecretStore`/`ClusterSecretStore` that nothing deploys to the same cluster.

use super::{check_references, references_by_app};
use crate::diagnostic::{Finding, Severity};
use crate::rules::{Context, Rule};

crate::rules::declare_rule! {
    pub struct UndeployedSecretStore {
        id: "undeployed-secret-store",
        severity: Severity::Error,
        summary: "An ExternalSecret names a SecretStore or ClusterSecretStore that nothing deploys to its cluster",
        fix: Safe,
    }
}

impl Rule for UndeployedSecretStore {
    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let model = cx.session.gitops();
        // `secretStoreRef` mappings of ExternalSecrets and ClusterExternalSecrets, and of
        // chart values that template one.
        let walked = model.refs(&cx.session.repo);
        let refs = references_by_app(
            model,
            &|o| &walked.object(o).stores,
            &|v| &walked.values(v).stores,
            &|_, _| None,
        );
        check_references(cx, refs, "external-secrets")
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{check_rule, expect};

    const CONFIG: (&str, &str) = (
        "preflight.toml",
        "[gitops]\nrepo_urls = [\"git@github.com:acme/platform-infra.git\"]\n",
    );

    fn app(name: &str, path: &str) -> String {
        format!(
            "apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: {name}
spec:
  destination:
    server: https://eks.example.com
  source:
    repoURL: https://github.com/acme/platform-infra
    targetRevision: HEAD
    path: {path}
"
        )
    }

    const EXTERNAL_SECRET: &str = "apiVersion: external-secrets.io/v1beta1
kind: ExternalSecret
metadata:
  name: db
spec:
  refreshInterval: 1h
  secretStoreRef:
    name: aws-secrets-manager
    kind: ClusterSecretStore
  target:
    name: db
  data:
    - secretKey: password
      remoteRef:
        key: dev/db
";

    const STORE: &str = "apiVersion: external-secrets.io/v1beta1
kind: ClusterSecretStore
metadata:
  name: aws-secrets-manager
spec:
  provider:
    aws:
      service: SecretsManager
      region: eu-west-1
";

    #[test]
    fn external_secret_without_its_store_is_an_error() {
        let findings = check_rule(
            "undeployed-secret-store",
            &[
                CONFIG,
                ("apps/app.yaml", &app("app", "k8s/app")),
                ("k8s/app/secret.yaml", EXTERNAL_SECRET),
                ("k8s/stores/store.yaml", STORE),
            ],
        );
        expect(
            &findings,
            &[("undeployed-secret-store", "k8s/app/secret.yaml", 8)],
        );
        assert!(
            findings[0]
                .finding
                .labels
                .iter()
                .any(|l| l.message.contains("defined here"))
        );
    }

    #[test]
    fn deployed_store_and_default_kind() {
        let es_default_kind = "apiVersion: external-secrets.io/v1beta1
kind: ExternalSecret
metadata:
  name: api
spec:
  secretStoreRef:
    name: team-store
";
        let findings = check_rule(
            "undeployed-secret-store",
            &[
                CONFIG,
                ("apps/app.yaml", &app("app", "k8s/app")),
                ("apps/stores.yaml", &app("stores", "k8s/stores")),
                ("k8s/app/secret.yaml", EXTERNAL_SECRET),
                ("k8s/app/api.yaml", es_default_kind),
                ("k8s/stores/store.yaml", STORE),
                // A ClusterSecretStore of that name does not satisfy the SecretStore ref.
                (
                    "k8s/stores/team.yaml",
                    "apiVersion: external-secrets.io/v1beta1\nkind: ClusterSecretStore\nmetadata:\n  name: team-store\n",
                ),
            ],
        );
        expect(
            &findings,
            &[("undeployed-secret-store", "k8s/app/api.yaml", 7)],
        );
    }

    #[test]
    fn external_secrets_in_helm_values() {
        let app = "apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: backstage
spec:
  destination:
    server: https://eks.example.com
  sources:
    - repoURL: https://backstage.github.io/charts
      chart: backstage
      targetRevision: 1.9.0
      helm:
        valueFiles:
          - $values/values/backstage.yaml
        valuesObject:
          extraDeploy:
            - apiVersion: external-secrets.io/v1beta1
              kind: ExternalSecret
              metadata:
                name: backstage-github
              spec:
                secretStoreRef:
                  name: github-store
    - repoURL: https://github.com/acme/platform-infra.git
      targetRevision: HEAD
      ref: values
";
        let values = "externalSecret:\n  enabled: true\n  secretStoreRef:\n    name: aws-secrets-manager\n    kind: ClusterSecretStore\n";
        let findings = check_rule(
            "undeployed-secret-store",
            &[
                CONFIG,
                ("apps/backstage.yaml", app),
                ("values/backstage.yaml", values),
            ],
        );
        expect(
            &findings,
            &[
                ("undeployed-secret-store", "apps/backstage.yaml", 23),
                ("undeployed-secret-store", "values/backstage.yaml", 4),
            ],
        );
    }

    fn terraform_store(enabled: bool) -> String {
        format!(
            "variable \"enable_k8s_resources\" {{
  type    = bool
  default = {enabled}
}}

resource \"kubernetes_manifest\" \"store\" {{
  count = var.enable_k8s_resources ? 1 : 0
  manifest = {{
    apiVersion = \"external-secrets.io/v1beta1\"
    kind       = \"ClusterSecretStore\"
    metadata   = {{ name = \"aws-${{local.store}}\" }}
    spec       = {{ provider = {{ aws = {{ service = \"SecretsManager\", region = \"eu-west-1\" }} }} }}
  }}
}}

locals {{
  store = \"secrets-manager\"
}}
"
        )
    }

    #[test]
    fn a_store_terraform_creates_satisfies_the_reference() {
        let findings = check_rule(
            "undeployed-secret-store",
            &[
                CONFIG,
                ("apps/app.yaml", &app("app", "k8s/app")),
                ("k8s/app/secret.yaml", EXTERNAL_SECRET),
                ("infra/main.tf", &terraform_store(true)),
            ],
        );
        expect(&findings, &[]);
        // Checking only the GitOps files still sees what Terraform creates elsewhere.
        let findings: Vec<_> = crate::testing::check_tree(
            &[
                CONFIG,
                ("apps/app.yaml", &app("app", "k8s/app")),
                ("k8s/app/secret.yaml", EXTERNAL_SECRET),
                ("infra/main.tf", &terraform_store(true)),
            ],
            &["k8s", "apps"],
            Default::default(),
        )
        .into_iter()
        .filter(|r| r.rule == "undeployed-secret-store")
        .collect();
        expect(&findings, &[]);
    }

    #[test]
    fn a_terraform_store_gated_to_zero_does_not() {
        let findings = check_rule(
            "undeployed-secret-store",
            &[
                CONFIG,
                ("apps/app.yaml", &app("app", "k8s/app")),
                ("k8s/app/secret.yaml", EXTERNAL_SECRET),
                ("infra/main.tf", &terraform_store(false)),
            ],
        );
        expect(
            &findings,
            &[("undeployed-secret-store", "k8s/app/secret.yaml", 8)],
        );
    }

    #[test]
    fn a_kubectl_manifest_store_counts_in_a_later_pass() {
        let tf = "variable \"enable_k8s_resources\" {
  type    = bool
  default = false
}

resource \"kubectl_manifest\" \"store\" {
  count     = var.enable_k8s_resources ? 1 : 0
  yaml_body = <<-YAML
    apiVersion: external-secrets.io/v1beta1
    kind: ClusterSecretStore
    metadata:
      name: aws-secrets-manager
  YAML
}
";
        let config = (
            "preflight.toml",
            "[gitops]\nrepo_urls = [\"git@github.com:acme/platform-infra.git\"]\n\n[terraform.passes]\npass1 = { enable_k8s_resources = false }\npass2 = { enable_k8s_resources = true }\n",
        );
        let findings = check_rule(
            "undeployed-secret-store",
            &[
                config,
                ("apps/app.yaml", &app("app", "k8s/app")),
                ("k8s/app/secret.yaml", EXTERNAL_SECRET),
                ("infra/main.tf", tf),
            ],
        );
        expect(&findings, &[]);
    }
}
