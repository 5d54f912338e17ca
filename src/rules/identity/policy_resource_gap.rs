//! `policy-resource-gap`: the IAM role an External Secrets store authenticates with (IRSA or
//! pod identity, found through the service account and Terraform) has no policy allowing
//! `secretsmanager:GetSecretValue` on the secrets its ExternalSecrets read.

use crate::diagnostic::{Finding, Severity};
use crate::model::gitops::{GroupId, ObjId};
use crate::model::iam::pattern::UNKNOWN;
use crate::model::iam::policy::{Decision, Request};
use crate::model::workload_identity::{
    RoleRef, external_secret_keys, role_policies, roles_of_service_account, secret_store_identity,
};
use crate::rules::{Context, Rule};
use std::collections::{BTreeMap, HashSet};

crate::rules::declare_rule! {
    pub struct PolicyResourceGap {
        id: "policy-resource-gap",
        severity: Severity::Error,
        summary: "The role an External Secrets store authenticates with does not allow reading the secrets its ExternalSecrets name",
        fix: None,
    }
}

const ACTION: &str = "secretsmanager:GetSecretValue";

impl Rule for PolicyResourceGap {
    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let s = cx.session;
        let an = s.terraform_analysis_all();
        let model = s.gitops();
        let envs = s.environments();
        if envs.groups.is_empty() {
            return Vec::new();
        }
        // ExternalSecret → groups deploying it.
        let mut deployed: BTreeMap<ObjId, Vec<GroupId>> = BTreeMap::new();
        for app in &model.apps {
            for &o in &app.objects {
                if model.object(o).kind == "ExternalSecret" {
                    deployed.entry(o).or_default().push(app.group);
                }
            }
        }
        let mut out = Vec::new();
        let mut seen: HashSet<(u32, u32, u32)> = HashSet::new();
        for (o, mut groups) in deployed {
            groups.sort_unstable();
            groups.dedup();
            let obj = model.object(o);
            let Some(y) = model.yaml(&s.repo, obj.node) else {
                continue;
            };
            let Some(spec) = y.get("spec") else { continue };
            let Some(store) = spec.get("secretStoreRef") else {
                continue;
            };
            for g in groups {
                if !s.gitops_group_in_scope(g)
                    && !s.in_scope(&s.repo.file(obj.name_span.file).rel_path)
                {
                    continue;
                }
                let Some(env) = envs.of_group(g) else {
                    continue;
                };
                let Some((region, ns, sa, store_name)) =
                    secret_store_identity(s, model, g, obj.namespace.as_deref(), store)
                else {
                    continue;
                };
                let roots: Vec<usize> = envs.roots_of(env).map(|r| r.inst).collect();
                let roles = roles_of_service_account(s, an, model, &roots, Some(g), &ns, &sa);
                if roles.is_empty() {
                    continue;
                }
                for (key, span) in external_secret_keys(spec) {
                    if key.contains("{{") || key.contains("${") {
                        continue;
                    }
                    let name = key.split(":secret:").nth(1).unwrap_or(&key);
                    let arn = if key.starts_with("arn:") {
                        key.clone()
                    } else {
                        format!(
                            "arn:aws:secretsmanager:{}:{UNKNOWN}:secret:{name}-{UNKNOWN}",
                            region.clone().unwrap_or_else(|| UNKNOWN.to_string())
                        )
                    };
                    let shown = arn.replace(UNKNOWN, "…");
                    let req = Request::new(ACTION, &arn);
                    let mut denied = Vec::new();
                    let mut unsure: Option<String> = None;
                    let mut allowed = false;
                    for r in &roles {
                        match r {
                            RoleRef::Terraform { at, address } => {
                                let mut any_unsure = None;
                                let mut ok = false;
                                for p in role_policies(s, an, *at) {
                                    match &p.policy {
                                        Ok(pol) => match pol.evaluate(&req).decision {
                                            Decision::Allowed => ok = true,
                                            Decision::Denied => {}
                                            Decision::CannotTell(why) => {
                                                any_unsure.get_or_insert(format!(
                                                    "`{}`: {why}",
                                                    p.address
                                                ));
                                            }
                                        },
                                        Err(why) => {
                                            any_unsure
                                                .get_or_insert(format!("`{}`: {why}", p.address));
                                        }
                                    }
                                }
                                if ok {
                                    allowed = true;
                                } else if let Some(u) = any_unsure {
                                    unsure.get_or_insert(u);
                                } else {
                                    denied.push((*at, address.clone()));
                                }
                            }
                            RoleRef::Outside { arn, .. } => {
                                unsure.get_or_insert(format!(
                                    "the service account is also annotated with `{arn}`, a role no Terraform root of the {env} environment creates"
                                ));
                            }
                            RoleRef::Unknown(why) => {
                                unsure.get_or_insert(why.clone());
                            }
                        }
                    }
                    if allowed || denied.is_empty() && unsure.is_none() {
                        continue;
                    }
                    if !seen.insert((span.file.0, span.start, span.end)) {
                        continue;
                    }
                    let (at, address) = match denied.first() {
                        Some(d) => d.clone(),
                        None => {
                            if let Some(u) = unsure {
                                out.push(cx.note(
                                    span,
                                    format!(
                                        "cannot tell whether the store `{store_name}` (service account `{ns}/{sa}`) may read `{name}`: {u}"
                                    ),
                                ).with_address(key.clone()));
                            }
                            continue;
                        }
                    };
                    let head = format!(
                        "the store `{store_name}` authenticates as `{ns}/{sa}`, which assumes `{address}`; no policy of that role allows `{ACTION}` on `{shown}`"
                    );
                    let f = match unsure {
                        Some(u) => cx.note(
                            span,
                            format!("{head}, but another source of its role cannot be read: {u}"),
                        ),
                        None => cx.finding(
                            span,
                            format!(
                                "{head}: the ExternalSecret fails to sync (AccessDeniedException)"
                            ),
                        ),
                    };
                    out.push(
                        f.with_span_label("not readable by the store's role")
                            .with_label(an.span(s, at, None), "the role the store assumes")
                            .with_help(format!(
                                "add `{ACTION}` on `arn:aws:secretsmanager:*:*:secret:{name}-*` to a policy of `{address}`, or read a secret under a path that role may read"
                            ))
                            .with_address(key.clone()),
                    );
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::Severity;
    use crate::testing::{check_rule, expect};

    const CONFIG: &str = "[gitops]\nrepo_urls = [\"https://github.com/acme/platform.git\"]\n";

    fn tf(policy: &str) -> String {
        format!(
            r#"variable "environment" {{
  type    = string
  default = "dev"
}}

resource "aws_iam_role" "eso" {{
  name               = "goldenpath-${{var.environment}}-eso"
  assume_role_policy = "{{}}"
}}

{policy}

resource "helm_release" "external_secrets" {{
  name      = "external-secrets"
  chart     = "external-secrets"
  namespace = "external-secrets"
  set {{
    name  = "serviceAccount.annotations.eks\\.amazonaws\\.com/role-arn"
    value = aws_iam_role.eso.arn
  }}
}}
"#
        )
    }

    const INLINE: &str = r#"resource "aws_iam_role_policy" "eso" {
  name = "eso-read"
  role = aws_iam_role.eso.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["secretsmanager:GetSecretValue"]
      Resource = ["arn:aws:secretsmanager:*:*:secret:goldenpath/${var.environment}/*"]
    }]
  })
}"#;

    const MANAGED: &str = r#"resource "aws_iam_role_policy_attachment" "eso" {
  role       = aws_iam_role.eso.name
  policy_arn = "arn:aws:iam::aws:policy/SecretsManagerReadWrite"
}"#;

    const APP: &str = r#"apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: dev-secrets
spec:
  destination:
    server: https://kubernetes.default.svc
    namespace: apps
  source:
    repoURL: https://github.com/acme/platform.git
    path: gitops/manifests/dev
"#;

    fn manifests(key: &str) -> String {
        format!(
            r#"apiVersion: external-secrets.io/v1beta1
kind: ClusterSecretStore
metadata:
  name: aws
spec:
  provider:
    aws:
      service: SecretsManager
      region: eu-west-2
      auth:
        jwt:
          serviceAccountRef:
            name: external-secrets
            namespace: external-secrets
---
apiVersion: external-secrets.io/v1beta1
kind: ExternalSecret
metadata:
  name: app
  namespace: apps
spec:
  secretStoreRef:
    name: aws
    kind: ClusterSecretStore
  data:
    - secretKey: password
      remoteRef:
        key: {key}
"#
        )
    }

    fn run(policy: &str, key: &str) -> Vec<crate::testing::Reported> {
        check_rule(
            "policy-resource-gap",
            &[
                ("preflight.toml", CONFIG),
                ("envs/dev/main.tf", &tf(policy)),
                ("gitops/argocd/apps/dev/secrets.yaml", APP),
                ("gitops/manifests/dev/secrets.yaml", &manifests(key)),
            ],
        )
    }

    #[test]
    fn a_secret_outside_the_role_policy() {
        let found = run(INLINE, "platform/dev/app/db");
        expect(
            &found,
            &[(
                "policy-resource-gap",
                "gitops/manifests/dev/secrets.yaml",
                28,
            )],
        );
        assert_eq!(found[0].severity, Severity::Error);
        assert!(
            found[0].message.contains("aws_iam_role.eso"),
            "{}",
            found[0].message
        );
        assert!(
            found[0].help.contains("secret:platform/dev/app/db-*"),
            "{}",
            found[0].help
        );
        expect(&run(INLINE, "goldenpath/dev/app/db"), &[]);
    }

    #[test]
    fn a_managed_policy_is_a_note() {
        let found = run(MANAGED, "platform/dev/app/db");
        expect(
            &found,
            &[(
                "policy-resource-gap",
                "gitops/manifests/dev/secrets.yaml",
                28,
            )],
        );
        assert_eq!(found[0].severity, Severity::Note);
    }
}
