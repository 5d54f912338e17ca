//! `unmanaged-secret`: an ExternalSecret reads a Secrets Manager key that no Terraform root
//! of its environment creates, although that environment's Terraform manages secrets under
//! the same prefix (so the secret is evidently meant to be Terraform's).

use crate::diagnostic::{Finding, Severity};
use crate::model::identities::{IdKind, Named, literal_envs};
use crate::model::terraform::analysis::Count;
use crate::rules::{Context, Rule};

crate::rules::declare_rule! {
    pub struct UnmanagedSecret {
        id: "unmanaged-secret",
        severity: Severity::Warning,
        summary: "An ExternalSecret reads a secret no Terraform root of its environment creates, under a prefix that environment's Terraform manages",
        fix: None,
    }
}

/// The secret name a key or ARN names (`arn:aws:secretsmanager:…:secret:NAME-AbCdEf`).
fn secret_name(key: &str) -> &str {
    match key.split_once(":secret:") {
        Some((_, rest)) => match rest.rsplit_once('-') {
            Some((name, suffix)) if suffix.len() == 6 => name,
            _ => rest,
        },
        None => key,
    }
}

/// The prefix a secret name is managed under: its first two path segments (one for a
/// two-segment name), with the trailing `/`. `None` for a name without `/`.
fn managed_prefix(name: &str) -> Option<String> {
    let segs: Vec<&str> = name.split('/').collect();
    if segs.len() < 2 || segs[0].is_empty() {
        return None;
    }
    let n = (segs.len() - 1).min(2);
    Some(format!("{}/", segs[..n].join("/")))
}

fn common_prefix(a: &str, b: &str) -> usize {
    a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count()
}

impl Rule for UnmanagedSecret {
    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let s = cx.session;
        let an = s.terraform_analysis_all();
        let envs = s.environments();
        if envs.groups.is_empty() {
            return Vec::new();
        }
        let index = s.identity_names();
        let mut out = Vec::new();
        for lit in s.gitops_literals() {
            if lit.key() != "key" || !matches!(lit.parent_key(), "remoteRef" | "extract") {
                continue;
            }
            if !lit.in_scope(s) {
                continue;
            }
            let key = secret_name(&lit.value);
            if key.contains("{{") || key.contains("${") || key.contains('<') {
                continue;
            }
            let Some(prefix) = managed_prefix(key) else {
                continue;
            };
            for env in literal_envs(envs, lit) {
                let roots: Vec<usize> = envs.roots_of(env).map(|r| r.inst).collect();
                let created: Vec<&Named> = index.created(IdKind::Secret, &roots).collect();
                let same: Vec<&&Named> = created.iter().filter(|n| n.name == key).collect();
                if same.iter().any(|n| n.count.is_active()) {
                    continue;
                }
                if let Some(n) = same.iter().find(|n| matches!(n.count, Count::Unknown(_))) {
                    out.push(
                        cx.note(
                            lit.span,
                            format!(
                                "cannot tell whether the {env} environment's Terraform creates the secret `{key}` this ExternalSecret reads: the instances of `{}` are {}",
                                n.address,
                                n.count.reason()
                            ),
                        )
                        .with_address(lit.value.clone()),
                    );
                    break;
                }
                let tf = s.terraform();
                if let Some(off) = same.first() {
                    out.push(
                        cx.finding(
                            lit.span,
                            format!(
                                "the ExternalSecret reads `{key}`, which `{}` in `{}` would create, but it is switched off in the {env} environment (0 instances): the secret does not exist and the sync fails",
                                off.address,
                                an.module(tf, off.root).dir
                            ),
                        )
                        .with_span_label("no such secret")
                        .with_help(format!(
                            "enable `{}` in the {env} environment, or read a secret it creates",
                            off.address
                        ))
                        .with_address(lit.value.clone()),
                    );
                    break;
                }
                let siblings: Vec<&&Named> = created
                    .iter()
                    .filter(|n| n.count.is_active() && n.name.starts_with(&prefix))
                    .collect();
                let Some(closest) = siblings.iter().max_by_key(|n| {
                    (
                        common_prefix(&n.name, key),
                        std::cmp::Reverse(n.name.clone()),
                    )
                }) else {
                    continue;
                };
                if let Some(u) = index.unknown_in(IdKind::Secret, &roots) {
                    out.push(
                        cx.note(
                            lit.span,
                            format!(
                                "cannot tell whether the {env} environment's Terraform creates the secret `{key}`: {}",
                                u.reason
                            ),
                        )
                        .with_address(lit.value.clone()),
                    );
                    break;
                }
                let mut managed: Vec<&str> = siblings.iter().map(|n| n.name.as_str()).collect();
                managed.sort_unstable();
                managed.dedup();
                let shown: Vec<String> = managed.iter().take(4).map(|m| format!("`{m}`")).collect();
                out.push(
                    cx.finding(
                        lit.span,
                        format!(
                            "the ExternalSecret reads `{key}`, which no Terraform root of the {env} environment creates, while that Terraform manages the secrets under `{prefix}` ({}): unless someone creates it by hand, the sync fails (SecretSyncedError)",
                            shown.join(", ")
                        ),
                    )
                    .with_span_label("not created by Terraform")
                    .with_label(
                        an.span(s, closest.at, None),
                        format!("creates `{}`", closest.name),
                    )
                    .with_help(format!(
                        "read `{}` if that is the secret meant, or add an `aws_secretsmanager_secret` named `{key}` (with a version) to the {env} environment's Terraform",
                        closest.name
                    ))
                    .with_address(lit.value.clone()),
                );
                break;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{check_rule, expect};

    #[test]
    fn prefixes_and_arns() {
        assert_eq!(
            managed_prefix("goldenpath/dev/keycloak/admin").as_deref(),
            Some("goldenpath/dev/")
        );
        assert_eq!(managed_prefix("app/password").as_deref(), Some("app/"));
        assert_eq!(managed_prefix("password"), None);
        assert_eq!(
            secret_name(
                "arn:aws:secretsmanager:eu-west-2:210987654322:secret:goldenpath/dev/x-AbCdEf"
            ),
            "goldenpath/dev/x"
        );
    }

    const TF: &str = r#"variable "environment" {
  type    = string
  default = "dev"
}

variable "keycloak" {
  type    = bool
  default = true
}

resource "aws_secretsmanager_secret" "keycloak" {
  count = var.keycloak ? 1 : 0
  name  = "goldenpath/${var.environment}/keycloak/postgres"
}
"#;

    fn app(env: &str) -> String {
        format!(
            r#"apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: {env}-keycloak
spec:
  destination:
    server: https://kubernetes.default.svc
  source:
    repoURL: https://github.com/acme/platform.git
    path: gitops/manifests/keycloak/{env}
"#
        )
    }

    fn es(key: &str) -> String {
        format!(
            r#"apiVersion: external-secrets.io/v1beta1
kind: ExternalSecret
metadata:
  name: keycloak
spec:
  secretStoreRef:
    name: aws
    kind: ClusterSecretStore
  data:
    - secretKey: password
      remoteRef:
        key: {key}
        property: password
"#
        )
    }

    const CONFIG: &str = "[gitops]\nrepo_urls = [\"https://github.com/acme/platform.git\"]\n";

    fn run(tf: &str, key: &str) -> Vec<crate::testing::Reported> {
        check_rule(
            "unmanaged-secret",
            &[
                ("preflight.toml", CONFIG),
                ("envs/dev/main.tf", tf),
                ("gitops/argocd/apps/dev/keycloak.yaml", &app("dev")),
                ("gitops/manifests/keycloak/dev/es.yaml", &es(key)),
            ],
        )
    }

    #[test]
    fn a_key_terraform_does_not_create_under_its_prefix() {
        let found = run(TF, "goldenpath/dev/keycloak/admin");
        expect(
            &found,
            &[(
                "unmanaged-secret",
                "gitops/manifests/keycloak/dev/es.yaml",
                12,
            )],
        );
        assert_eq!(found[0].severity, Severity::Warning);
        assert!(
            found[0].help.contains("goldenpath/dev/keycloak/postgres"),
            "{}",
            found[0].help
        );
        // Created: silent. Another prefix: not Terraform's business.
        expect(&run(TF, "goldenpath/dev/keycloak/postgres"), &[]);
        expect(&run(TF, "vendor/license"), &[]);
    }

    #[test]
    fn switched_off_warns_and_unknown_count_is_a_note() {
        let off = TF.replace("default = true", "default = false");
        let found = run(&off, "goldenpath/dev/keycloak/postgres");
        expect(
            &found,
            &[(
                "unmanaged-secret",
                "gitops/manifests/keycloak/dev/es.yaml",
                12,
            )],
        );
        assert!(
            found[0].message.contains("switched off"),
            "{}",
            found[0].message
        );
        let unknown = TF.replace("  default = true\n", "");
        let found = run(&unknown, "goldenpath/dev/keycloak/postgres");
        expect(
            &found,
            &[(
                "unmanaged-secret",
                "gitops/manifests/keycloak/dev/es.yaml",
                12,
            )],
        );
        assert_eq!(found[0].severity, Severity::Note);
    }
}
