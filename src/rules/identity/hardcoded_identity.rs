//! `hardcoded-identity`: a literal in what an Application deploys names an identity the
//! environment's Terraform computes — an EKS cluster name, an RDS endpoint, the IAM role of
//! a service account — but not the one it computes, or only one whose instance count is
//! zero.

use crate::diagnostic::{Finding, Severity};
use crate::model::environments::Environments;
use crate::model::identities::{
    CLUSTER_CONSUMERS, arn_accounts, ecr_image, role_arn, root_accounts,
};
use crate::model::identities::{
    IdKind, Literal, Named, Names, is_cluster_key, is_placeholder, literal_envs, rds_host_label,
};
use crate::model::terraform::expr::Value;
use crate::model::workload_identity::{RoleRef, roles_of_service_account, values_role_annotations};
use crate::rules::{Context, Rule};

crate::rules::declare_rule! {
    pub struct HardcodedIdentity {
        id: "hardcoded-identity",
        severity: Severity::Error,
        summary: "A literal names a cluster, database or service-account role other than the one the environment's Terraform computes, or one it switches off",
        fix: None,
    }
}

/// What a literal names: (kind, the name in it).
fn identity_in(l: &Literal) -> Option<(IdKind, String)> {
    let found = if is_cluster_key(l.key()) {
        let v = l.value.trim();
        if v.is_empty() || v.contains(char::is_whitespace) || v.contains(['/', ':']) {
            return None;
        }
        (IdKind::Cluster, v.to_string())
    } else {
        let h = rds_host_label(&l.value)?;
        (IdKind::RdsIdentifier, h.to_string())
    };
    // Asked last: most literals name nothing, and this is the dearer test.
    (!is_placeholder(&l.value)).then_some(found)
}

/// Per environment of the literal, the first object of `kind` named `name` that the
/// environment creates and switches on.
fn created_for<'a>(
    envs: &'a Environments,
    index: &'a Names,
    lit: &Literal,
    kind: IdKind,
    name: &'a str,
) -> impl Iterator<Item = &'a Named> + 'a {
    literal_envs(envs, lit).into_iter().filter_map(move |env| {
        let roots: Vec<usize> = envs.roots_of(env).map(|r| r.inst).collect();
        index
            .created(kind, &roots)
            .find(|n| n.name == name && n.count.is_active())
    })
}

impl Rule for HardcodedIdentity {
    fn check(&self, cx: &Context<'_>) -> Vec<Finding> {
        let s = cx.session;
        let an = s.terraform_analysis_all();
        let model = s.gitops();
        let envs = s.environments();
        let index = s.identity_names();
        let tf = s.terraform();
        let dir = |n: &Named| an.module(tf, n.root).dir.clone();
        let mut out = Vec::new();
        for lit in s.gitops_literals() {
            let Some((kind, name)) = identity_in(lit) else {
                continue;
            };
            if !lit.in_scope(s) {
                continue;
            }
            for env in literal_envs(envs, lit) {
                let roots: Vec<usize> = envs.roots_of(env).map(|r| r.inst).collect();
                let computed: Vec<&Named> = index
                    .named
                    .iter()
                    .filter(|n| n.kind == kind && roots.contains(&n.root))
                    .collect();
                if computed.is_empty() {
                    if let Some(u) = index.unknown_in(kind, &roots) {
                        out.push(
                            cx.note(
                                lit.span,
                                format!(
                                    "cannot tell whether `{name}` is the {} the {env} environment's Terraform computes: {}",
                                    kind.noun(),
                                    u.reason
                                ),
                            )
                            .with_address(lit.value.clone()),
                        );
                        break;
                    }
                    continue;
                }
                // What Terraform creates comes before what it looks up.
                let mut active: Vec<&&Named> =
                    computed.iter().filter(|n| n.count.is_active()).collect();
                active.sort_by_key(|n| n.lookup);
                if active.iter().any(|n| n.name == name) {
                    continue;
                }
                let unsure = |n: &&&Named| !n.count.is_active() && !n.count.is_zero();
                if let Some(u) = computed
                    .iter()
                    .filter(|n| n.name == name)
                    .find(unsure)
                    .or_else(|| {
                        if active.is_empty() {
                            computed.iter().find(unsure)
                        } else {
                            None
                        }
                    })
                {
                    out.push(
                        cx.note(
                            lit.span,
                            format!(
                                "cannot tell whether `{name}` is the {} the {env} environment's Terraform computes: the instances of `{}` are {}",
                                kind.noun(),
                                u.address,
                                u.count.reason()
                            ),
                        )
                        .with_address(lit.value.clone()),
                    );
                    break;
                }
                let switched_off = computed
                    .iter()
                    .find(|n| n.name == name && n.count.is_zero());
                let Some(target) = active.first() else {
                    if let Some(off) = switched_off {
                        out.push(
                            cx.finding(
                                lit.span,
                                format!(
                                    "`{name}` is the {} of `{}` in `{}`, which has 0 instances in the {env} environment: it does not exist",
                                    kind.noun(),
                                    off.address,
                                    dir(off)
                                ),
                            )
                            .with_span_label("switched off")
                            .with_help(format!(
                                "enable `{}` in the {env} environment, or remove this reference",
                                off.address
                            ))
                            .with_address(lit.value.clone()),
                        );
                        break;
                    }
                    continue;
                };
                if let Some(u) = index.unknown_in(kind, &roots) {
                    out.push(
                        cx.note(
                            lit.span,
                            format!(
                                "`{name}` is not a {} the {env} environment's Terraform computes (it computes `{}`), but not every one can be evaluated: {}",
                                kind.noun(),
                                target.name,
                                u.reason
                            ),
                        )
                        .with_address(lit.value.clone()),
                    );
                    break;
                }
                let why = match switched_off {
                    Some(off) => format!(
                        "; `{name}` is the name of `{}` in `{}`, which has 0 instances",
                        off.address,
                        dir(off)
                    ),
                    None => String::new(),
                };
                let fix = match kind {
                    IdKind::RdsIdentifier => lit.value.replacen(&name, &target.name, 1),
                    _ => target.name.clone(),
                };
                out.push(
                    cx.finding(
                        lit.span,
                        format!(
                            "`{name}` is not the {} the {env} environment's Terraform computes: `{}` names it `{}` (in `{}`){why}",
                            kind.noun(),
                            target.address,
                            target.name,
                            dir(target)
                        ),
                    )
                    .with_span_label(format!("Terraform computes `{}`", target.name))
                    .with_label(an.span(s, target.at, None), format!("computes `{}`", target.name))
                    .with_help(format!("use `{fix}`, or pass the value from Terraform (an output written to the cluster, a Helm parameter) instead of a literal"))
                    .with_address(lit.value.clone()),
                );
                break;
            }
        }
        // Cluster names another root of the environment is given (a standalone root's
        // tfvars), where that root creates no cluster itself.
        for r in &envs.roots {
            let Some(env) = r.env.as_deref() else {
                continue;
            };
            let root = r.inst;
            let creates_own = index
                .named
                .iter()
                .any(|n| n.root == root && n.kind == IdKind::Cluster && !n.lookup);
            if creates_own {
                continue;
            }
            let roots: Vec<usize> = envs.roots_of(env).map(|r| r.inst).collect();
            let created: Vec<&Named> = index
                .named
                .iter()
                .filter(|n| n.kind == IdKind::Cluster && !n.lookup && roots.contains(&n.root))
                .collect();
            if created.is_empty() || index.unknown_in(IdKind::Cluster, &roots).is_some() {
                continue;
            }
            for at in an.blocks_of_root(tf, root) {
                let tb = &an.module(tf, at.inst).blocks[at.block];
                let arg = match (tb.kind, tb.type_name.as_str()) {
                    (
                        crate::model::terraform::BlockKind::Data,
                        "aws_eks_cluster" | "aws_eks_cluster_auth",
                    ) => "name",
                    (crate::model::terraform::BlockKind::Resource, ty)
                        if CLUSTER_CONSUMERS.contains(&ty) =>
                    {
                        "cluster_name"
                    }
                    _ => continue,
                };
                let Some(e) = an.block(s, at).arg(arg) else {
                    continue;
                };
                let Some(pass) = an
                    .selected
                    .iter()
                    .copied()
                    .find(|&p| an.count(s, p, at).is_active())
                else {
                    continue;
                };
                let Value::String(name) = e.value_first(pass) else {
                    continue;
                };
                if is_placeholder(&name) {
                    continue;
                }
                let same: Vec<&&Named> = created.iter().filter(|n| n.name == name).collect();
                if same.iter().any(|n| !n.count.is_zero()) {
                    continue;
                }
                let Some(target) = created.iter().find(|n| n.count.is_active()) else {
                    continue;
                };
                let span = e
                    .where_set()
                    .unwrap_or_else(|| super::attr_span(an, s, at, arg));
                if !s.file_in_scope(&s.repo.file(span.file).rel_path) {
                    continue;
                }
                let why = match same.first() {
                    Some(off) => format!(
                        "; `{name}` is the name of `{}`, which has 0 instances",
                        off.address
                    ),
                    None => String::new(),
                };
                out.push(
                    cx.finding(
                        span,
                        format!(
                            "`{}` in `{}` names the EKS cluster `{name}`, which the {env} environment's Terraform does not create: `{}` names it `{}` (in `{}`){why}",
                            an.address(tf, at),
                            r.dir,
                            target.address,
                            target.name,
                            dir(target)
                        ),
                    )
                    .with_span_label(format!("Terraform computes `{}`", target.name))
                    .with_label(an.span(s, target.at, None), format!("creates `{}`", target.name))
                    .with_help(format!("use `\"{}\"`, or read it from the creating root's outputs", target.name))
                    .with_address(an.address(tf, at)),
                );
            }
        }
        // Role ARNs naming a role the environment creates, in an account its roots are not
        // pinned to.
        for lit in s.gitops_literals() {
            let Some((account, role)) = role_arn(&lit.value) else {
                continue;
            };
            if is_placeholder(account) || is_placeholder(role) {
                continue;
            }
            if !lit.in_scope(s) {
                continue;
            }
            for created in created_for(envs, index, lit, IdKind::Role, role) {
                let accounts = root_accounts(s, an, created.root);
                if accounts.is_empty() || accounts.iter().any(|a| a == account) {
                    continue;
                }
                let fixed = lit.value.replacen(account, &accounts[0], 1);
                out.push(
                    cx.finding(
                        lit.span,
                        format!(
                            "`{}` names the role `{role}` in account `{account}`, but `{}` creates it in `{}`, whose AWS account is `{}`",
                            lit.value,
                            created.address,
                            dir(created),
                            accounts.join("`, `")
                        ),
                    )
                    .with_span_label("another account")
                    .with_label(an.span(s, created.at, None), format!("creates `{role}`"))
                    .with_help(format!("use `{fixed}`"))
                    .with_address(lit.value.clone()),
                );
                break;
            }
        }
        // ECR images of a repository the environment creates, pulled from another account.
        for lit in s.gitops_literals() {
            let Some((account, region, repo)) = ecr_image(&lit.value) else {
                continue;
            };
            if is_placeholder(account) {
                continue;
            }
            if !lit.in_scope(s) {
                continue;
            }
            for created in created_for(envs, index, lit, IdKind::EcrRepository, repo) {
                let pinned = root_accounts(s, an, created.root);
                if pinned.iter().any(|a| a == account) {
                    continue;
                }
                let used = arn_accounts(s, an, created.root);
                if used.iter().any(|a| a == account) {
                    continue;
                }
                // Pinned (allowed_account_ids, an account_id variable): the repository is
                // provably in another account. Only seen in the root's ARNs: it may be
                // replicated to the image's account.
                let (accounts, pinned_here) = if pinned.is_empty() {
                    (&used, false)
                } else {
                    (&pinned, true)
                };
                if accounts.is_empty() {
                    continue;
                }
                let fixed = lit.value.replacen(account, &accounts[0], 1);
                let why = if pinned_here {
                    "whose AWS account is"
                } else {
                    "whose ARNs name the account"
                };
                let mut f = cx
                    .finding(
                        lit.span,
                        format!(
                            "`{}` pulls the ECR repository `{repo}` ({region}) from account `{account}`, but `{}` creates that repository in `{}`, {why} `{}`: the image pull fails unless the repository is replicated there",
                            lit.value,
                            created.address,
                            dir(created),
                            accounts.join("`, `")
                        ),
                    )
                    .with_span_label("another account")
                    .with_label(an.span(s, created.at, None), format!("creates `{repo}`"))
                    .with_help(format!("use `{fixed}`"))
                    .with_address(lit.value.clone());
                if !pinned_here && f.severity == Severity::Error {
                    f.severity = Severity::Warning;
                }
                out.push(f);
                break;
            }
        }
        // Role ARNs written for a service account Terraform also gives a role.
        for a in values_role_annotations(s, model) {
            let Some(env) = envs.of_group(a.group) else {
                continue;
            };
            if !s.in_scope(&s.repo.file(a.span.file).rel_path) && !s.gitops_group_in_scope(a.group)
            {
                continue;
            }
            let Some((_, written)) = role_arn(&a.arn) else {
                continue;
            };
            if is_placeholder(written) {
                continue;
            }
            let roots: Vec<usize> = envs.roots_of(env).map(|r| r.inst).collect();
            let tf_roles: Vec<(&Named, String)> =
                roles_of_service_account(s, an, model, &roots, None, &a.namespace, &a.name)
                    .into_iter()
                    .filter_map(|r| match r {
                        RoleRef::Terraform { at, address } => index
                            .named
                            .iter()
                            .find(|n| n.at == at && n.count.is_active())
                            .map(|n| (n, address)),
                        _ => None,
                    })
                    .collect();
            let Some((target, address)) = tf_roles.first() else {
                continue;
            };
            if tf_roles.iter().any(|(n, _)| n.name == written) {
                continue;
            }
            let fixed = a.arn.replacen(
                &format!("role/{written}"),
                &format!("role/{}", target.name),
                1,
            );
            out.push(
                cx.finding(
                    a.span,
                    format!(
                        "the service account `{}/{}` is annotated with the role `{written}`, but the {env} environment's Terraform gives that service account the role `{}` (`{address}` in `{}`): pods assume a role Terraform does not create or grant",
                        a.namespace,
                        a.name,
                        target.name,
                        dir(target)
                    ),
                )
                .with_span_label(format!("Terraform's role is `{}`", target.name))
                .with_label(an.span(s, target.at, None), format!("creates `{}`", target.name))
                .with_help(format!("use `{fixed}`, or let Terraform set the annotation alone"))
                .with_address(a.arn.clone()),
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::diagnostic::Severity;
    use crate::testing::{check_rule, expect};

    const CONFIG: &str = "[gitops]\nrepo_urls = [\"https://github.com/acme/platform.git\"]\n";

    const TF: &str = r#"variable "environment" {
  type    = string
  default = "dev"
}

variable "enable_rds" {
  type    = bool
  default = false
}

resource "aws_eks_cluster" "this" {
  name     = "goldenpath-${var.environment}-eks"
  role_arn = "arn:aws:iam::210987654322:role/eks"
  vpc_config {
    subnet_ids = []
  }
}

resource "aws_db_instance" "platform" {
  count      = var.enable_rds ? 1 : 0
  identifier = "goldenpath-${var.environment}-platform"
}
"#;

    const RDS: &str = r#"resource "aws_db_instance" "platform" {
  identifier = "goldenpath-dev-platform-standalone"
}
"#;

    fn app(chart: &str) -> String {
        format!(
            r#"apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: dev-{chart}
spec:
  destination:
    server: https://kubernetes.default.svc
  sources:
    - repoURL: https://kubernetes.github.io/autoscaler
      chart: {chart}
      targetRevision: 9.35.0
      helm:
        valueFiles:
          - $values/gitops/helm/{chart}/values/dev.yaml
    - repoURL: https://github.com/acme/platform.git
      targetRevision: main
      ref: values
"#
        )
    }

    fn run(values: &str, with_rds_root: bool) -> Vec<crate::testing::Reported> {
        let mut files = vec![
            ("preflight.toml", CONFIG),
            ("envs/dev/main.tf", TF),
            ("gitops/helm/cluster-autoscaler/values/dev.yaml", values),
        ];
        let a = app("cluster-autoscaler");
        files.push(("gitops/argocd/apps/dev/cluster-autoscaler.yaml", &a));
        if with_rds_root {
            files.push(("envs/dev-rds/main.tf", RDS));
        }
        check_rule("hardcoded-identity", &files)
    }

    #[test]
    fn cluster_name_without_the_suffix() {
        let values = "# clusterName: goldenpath-dev (a comment is no value)\nautoDiscovery:\n  clusterName: goldenpath-dev\n";
        let found = run(values, false);
        expect(
            &found,
            &[(
                "hardcoded-identity",
                "gitops/helm/cluster-autoscaler/values/dev.yaml",
                3,
            )],
        );
        assert_eq!(found[0].severity, Severity::Error);
        assert!(
            found[0].help.contains("goldenpath-dev-eks"),
            "{}",
            found[0].help
        );
        expect(
            &run("autoDiscovery:\n  clusterName: goldenpath-dev-eks\n", false),
            &[],
        );
        // Placeholders are not identities.
        expect(
            &run("autoDiscovery:\n  clusterName: <CLUSTER_NAME>\n", false),
            &[],
        );
    }

    #[test]
    fn database_host_of_a_switched_off_instance() {
        let values =
            "env:\n  DB_HOST: goldenpath-dev-platform.cxmcacaams2q.eu-west-2.rds.amazonaws.com\n";
        // Only the coupled instance, switched off: it does not exist.
        let found = run(values, false);
        expect(
            &found,
            &[(
                "hardcoded-identity",
                "gitops/helm/cluster-autoscaler/values/dev.yaml",
                2,
            )],
        );
        assert!(
            found[0].message.contains("0 instances"),
            "{}",
            found[0].message
        );
        // The standalone root of the same environment creates another: name that one.
        let found = run(values, true);
        expect(
            &found,
            &[(
                "hardcoded-identity",
                "gitops/helm/cluster-autoscaler/values/dev.yaml",
                2,
            )],
        );
        assert!(
            found[0]
                .help
                .contains("goldenpath-dev-platform-standalone.cxmcacaams2q"),
            "{}",
            found[0].help
        );
    }

    #[test]
    fn role_arn_for_a_service_account_terraform_gives_another_role() {
        let tf = r#"variable "environment" {
  type    = string
  default = "dev"
}

resource "aws_iam_role" "eso" {
  name               = "goldenpath-idp-eso-role"
  assume_role_policy = "{}"
}

resource "helm_release" "external_secrets" {
  name      = "external-secrets"
  chart     = "external-secrets"
  namespace = "external-secrets"
  set {
    name  = "serviceAccount.annotations.eks\\.amazonaws\\.com/role-arn"
    value = aws_iam_role.eso.arn
  }
}
"#;
        let app = |arn: &str| {
            format!(
                r#"apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: dev-external-secrets
spec:
  destination:
    server: https://kubernetes.default.svc
    namespace: external-secrets
  source:
    repoURL: https://charts.external-secrets.io
    chart: external-secrets
    targetRevision: 0.9.13
    helm:
      releaseName: external-secrets
      valuesObject:
        serviceAccount:
          annotations:
            eks.amazonaws.com/role-arn: {arn}
"#
            )
        };
        let run = |arn: &str| {
            check_rule(
                "hardcoded-identity",
                &[
                    ("preflight.toml", CONFIG),
                    ("envs/dev/main.tf", tf),
                    ("gitops/argocd/apps/dev/external-secrets.yaml", &app(arn)),
                ],
            )
        };
        let found = run("arn:aws:iam::123456789012:role/dev-external-secrets");
        expect(
            &found,
            &[(
                "hardcoded-identity",
                "gitops/argocd/apps/dev/external-secrets.yaml",
                18,
            )],
        );
        assert!(
            found[0]
                .help
                .contains("arn:aws:iam::123456789012:role/goldenpath-idp-eso-role"),
            "{}",
            found[0].help
        );
        expect(
            &run("arn:aws:iam::123456789012:role/goldenpath-idp-eso-role"),
            &[],
        );
    }

    #[test]
    fn a_standalone_root_given_the_cluster_name_without_its_suffix() {
        let consumer = r#"variable "cluster_name" {
  type = string
}

data "aws_caller_identity" "current" {}

resource "aws_eks_pod_identity_association" "provisioner" {
  cluster_name    = var.cluster_name
  namespace       = "platform-system"
  service_account = "platform-provisioner"
  role_arn        = "arn:aws:iam::210987654322:role/provisioner"
}
"#;
        let run = |tfvars: &str| {
            check_rule(
                "hardcoded-identity",
                &[
                    ("preflight.toml", CONFIG),
                    ("envs/dev/main.tf", TF),
                    ("envs/dev-rds/main.tf", consumer),
                    ("envs/dev-rds/terraform.tfvars", tfvars),
                ],
            )
        };
        let found = run("cluster_name = \"goldenpath-dev\"\n");
        expect(
            &found,
            &[("hardcoded-identity", "envs/dev-rds/terraform.tfvars", 1)],
        );
        assert!(
            found[0].help.contains("goldenpath-dev-eks"),
            "{}",
            found[0].help
        );
        expect(&run("cluster_name = \"goldenpath-dev-eks\"\n"), &[]);
    }

    #[test]
    fn role_arn_in_another_account() {
        let tf = format!(
            "{TF}\nprovider \"aws\" {{\n  allowed_account_ids = [\"210987654322\"]\n}}\n\nresource \"aws_iam_role\" \"app\" {{\n  name               = \"goldenpath-dev-app\"\n  assume_role_policy = \"{{}}\"\n}}\n"
        );
        let run = |arn: &str| {
            check_rule(
                "hardcoded-identity",
                &[
                    ("preflight.toml", CONFIG),
                    ("envs/dev/main.tf", &tf),
                    (
                        "gitops/helm/cluster-autoscaler/values/dev.yaml",
                        &format!("podAnnotations:\n  iam.amazonaws.com/role: {arn}\n"),
                    ),
                    (
                        "gitops/argocd/apps/dev/cluster-autoscaler.yaml",
                        &app("cluster-autoscaler"),
                    ),
                ],
            )
        };
        let found = run("arn:aws:iam::210987654999:role/goldenpath-dev-app");
        expect(
            &found,
            &[(
                "hardcoded-identity",
                "gitops/helm/cluster-autoscaler/values/dev.yaml",
                2,
            )],
        );
        assert!(
            found[0]
                .help
                .contains("arn:aws:iam::210987654322:role/goldenpath-dev-app"),
            "{}",
            found[0].help
        );
        expect(
            &run("arn:aws:iam::210987654322:role/goldenpath-dev-app"),
            &[],
        );
        // A role the environment does not create: not Terraform's to judge.
        expect(&run("arn:aws:iam::210987654999:role/vendor-role"), &[]);
    }

    #[test]
    fn ecr_image_of_a_repository_the_environment_creates_in_another_account() {
        let ecr = "\nresource \"aws_ecr_repository\" \"api\" {\n  name = \"goldenpath/api\"\n}\n";
        let pinned = format!(
            "{TF}\nprovider \"aws\" {{\n  allowed_account_ids = [\"210987654322\"]\n}}\n{ecr}"
        );
        let unpinned = format!("{TF}{ecr}");
        let run = |tf: &str, image: &str| {
            check_rule(
                "hardcoded-identity",
                &[
                    ("preflight.toml", CONFIG),
                    ("envs/dev/main.tf", tf),
                    (
                        "gitops/helm/cluster-autoscaler/values/dev.yaml",
                        &format!(
                            "# pulled from {image}\nimage:\n  repository: {image}\n  tag: 1.4.2\n"
                        ),
                    ),
                    (
                        "gitops/argocd/apps/dev/cluster-autoscaler.yaml",
                        &app("cluster-autoscaler"),
                    ),
                ],
            )
        };
        let elsewhere = "210987654999.dkr.ecr.eu-west-1.amazonaws.com/goldenpath/api";
        let found = run(&pinned, elsewhere);
        expect(
            &found,
            &[(
                "hardcoded-identity",
                "gitops/helm/cluster-autoscaler/values/dev.yaml",
                3,
            )],
        );
        assert_eq!(found[0].severity, Severity::Error);
        assert!(
            found[0]
                .help
                .contains("210987654322.dkr.ecr.eu-west-1.amazonaws.com/goldenpath/api"),
            "{}",
            found[0].help
        );
        // Not pinned: only the root's ARNs name its account; the repository may be
        // replicated, so a warning.
        let found = run(&unpinned, elsewhere);
        expect(
            &found,
            &[(
                "hardcoded-identity",
                "gitops/helm/cluster-autoscaler/values/dev.yaml",
                3,
            )],
        );
        assert_eq!(found[0].severity, Severity::Warning);
        // The right account, or a repository the environment does not create.
        expect(
            &run(
                &pinned,
                "210987654322.dkr.ecr.eu-west-1.amazonaws.com/goldenpath/api@sha256:0f",
            ),
            &[],
        );
        expect(
            &run(
                &pinned,
                "602401143452.dkr.ecr.eu-west-1.amazonaws.com/amazon/aws-load-balancer-controller",
            ),
            &[],
        );
    }

    #[test]
    fn unknown_cluster_count_is_a_note() {
        let tf = TF.replace(
            "resource \"aws_eks_cluster\" \"this\" {\n",
            "variable \"n\" {\n  type = number\n}\n\nresource \"aws_eks_cluster\" \"this\" {\n  count    = var.n\n",
        );
        let found = check_rule(
            "hardcoded-identity",
            &[
                ("preflight.toml", CONFIG),
                ("envs/dev/main.tf", &tf),
                (
                    "gitops/helm/cluster-autoscaler/values/dev.yaml",
                    "autoDiscovery:\n  clusterName: goldenpath-dev\n",
                ),
                (
                    "gitops/argocd/apps/dev/cluster-autoscaler.yaml",
                    &app("cluster-autoscaler"),
                ),
            ],
        );
        expect(
            &found,
            &[(
                "hardcoded-identity",
                "gitops/helm/cluster-autoscaler/values/dev.yaml",
                2,
            )],
        );
        assert_eq!(found[0].severity, Severity::Note);
    }
}
