//! Write a realistic platform monorepo of any size, for benchmarks.
//!
//! ```text
//! cargo run --release --example gen-monorepo -- --scale N [--git] OUT
//! ```
//!
//! Scale 1 is about 1,200 files and 2 MB; every unit of scale adds the same again (scale
//! 100 ≈ 120,000 files, 190 MB). One unit is a team platform modelled on a real EKS +
//! ArgoCD repository: four environment roots (`envs/<env>/`) calling local modules (vpc,
//! eks, iam, kubernetes_addons, …) with `count` gates and the two-pass
//! `enable_k8s_resources` flag; ArgoCD Applications per environment with multi-source
//! Helm charts and `$values`; Helm charts with per-environment values and ingress
//! annotations; kustomize bases and overlays; IAM policy documents; and the filler a real
//! repository carries (Markdown, scripts, workflows).
//!
//! Output is deterministic: no randomness, no timestamps. `--git` makes OUT a git
//! repository (init, add, commit) so discovery goes through `git ls-files`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

const ENVS: [&str; 4] = ["dev", "staging", "prod", "sandbox"];
const MODULES: [&str; 8] = [
    "vpc",
    "eks",
    "iam",
    "kubernetes_addons",
    "rds",
    "s3",
    "route53",
    "secrets",
];
const CHARTS: [&str; 30] = [
    "cert-manager",
    "external-dns",
    "external-secrets",
    "kong",
    "backstage",
    "keycloak",
    "grafana",
    "prometheus",
    "loki",
    "tempo",
    "argo-rollouts",
    "cluster-autoscaler",
    "aws-load-balancer-controller",
    "metrics-server",
    "kyverno",
    "vault",
    "redis",
    "postgres-operator",
    "kafka",
    "opensearch",
    "jaeger",
    "velero",
    "falco",
    "trivy-operator",
    "sealed-secrets",
    "nginx",
    "minio",
    "harbor",
    "sonarqube",
    "podinfo",
];
const BASES: [&str; 20] = [
    "cert-manager",
    "namespaces",
    "network-policies",
    "rbac",
    "priority-classes",
    "storage-classes",
    "limit-ranges",
    "resource-quotas",
    "pod-security",
    "monitoring-rules",
    "alerting",
    "dashboards",
    "service-accounts",
    "ingress-classes",
    "external-secrets-stores",
    "kyverno-policies",
    "gatekeeper",
    "backup-schedules",
    "cronjobs",
    "configmaps",
];

struct Gen {
    root: PathBuf,
    files: usize,
    bytes: usize,
}

impl Gen {
    fn write(&mut self, rel: &str, text: &str) {
        let p = self.root.join(rel);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).expect("create folder");
        }
        std::fs::write(&p, text).expect("write file");
        self.files += 1;
        self.bytes += text.len();
    }
}

fn main() {
    let mut scale = 1usize;
    let mut git = false;
    let mut out: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--scale" => {
                scale = args
                    .next()
                    .and_then(|s| s.parse().ok())
                    .expect("--scale N (a positive integer)")
            }
            "--git" => git = true,
            "-h" | "--help" => {
                eprintln!("usage: gen-monorepo --scale N [--git] OUT");
                return;
            }
            _ if out.is_none() => out = Some(PathBuf::from(a)),
            _ => panic!("unexpected argument {a}"),
        }
    }
    let out = out.expect("usage: gen-monorepo --scale N [--git] OUT");
    if out.exists() {
        std::fs::remove_dir_all(&out).expect("clear OUT");
    }
    std::fs::create_dir_all(&out).expect("create OUT");
    let mut g = Gen {
        root: out.clone(),
        files: 0,
        bytes: 0,
    };
    g.write("preflight.toml", "# generated benchmark repository\n");
    g.write(
        "README.md",
        &markdown("Platform monorepo", "Infrastructure for every team.", 40),
    );
    g.write(
        ".gitignore",
        ".terraform/\n*.tfstate\n*.tfstate.backup\n.DS_Store\n",
    );
    g.write("Makefile", &makefile());
    for unit in 0..scale {
        gen_unit(&mut g, unit);
    }
    if git {
        git_commit(&out);
    }
    eprintln!(
        "wrote {} files, {:.1} MB to {}",
        g.files,
        g.bytes as f64 / 1e6,
        out.display()
    );
}

fn git_commit(dir: &Path) {
    let run = |args: &[&str]| {
        let ok = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args([
                "-c",
                "user.name=gen",
                "-c",
                "user.email=gen@example.invalid",
            ])
            .args(["-c", "commit.gpgsign=false"])
            .args(args)
            .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
            .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
            .stdout(std::process::Stdio::null())
            .status()
            .expect("run git")
            .success();
        assert!(ok, "git {args:?} failed");
    };
    run(&["init", "-q", "-b", "main"]);
    run(&["add", "-A"]);
    run(&["commit", "-q", "-m", "Generated platform monorepo"]);
}

/// Suffix that keeps the names of one unit apart from every other ("" for the first).
fn tag(unit: usize) -> String {
    if unit == 0 {
        String::new()
    } else {
        format!("-u{unit:03}")
    }
}

fn gen_unit(g: &mut Gen, unit: usize) {
    let t = tag(unit);
    let mods = if unit == 0 {
        "modules".to_string()
    } else {
        format!("modules/u{unit:03}")
    };
    for (i, env) in ENVS.iter().enumerate() {
        gen_env_root(g, unit, &format!("{env}{t}"), env, i, &mods);
    }
    for m in MODULES {
        gen_module(g, &format!("{mods}/{m}"), m);
    }
    gen_gitops(g, unit);
    for i in 0..40 {
        let name = format!("docs/policies{t}/{:02}-{}.json", i, policy_name(i));
        g.write(&name, &iam_policy(i, unit));
    }
    // Filler a real repository carries.
    for i in 0..330 {
        let title = format!("ADR-{:04} {}", unit * 330 + i, CHARTS[i % CHARTS.len()]);
        g.write(
            &format!("docs/adrs{t}/ADR-{:04}.md", unit * 330 + i),
            &markdown(&title, "Decision record.", 5 + i % 12),
        );
    }
    for i in 0..90 {
        g.write(
            &format!("scripts{t}/{:03}-{}.sh", i, MODULES[i % MODULES.len()]),
            &script(i),
        );
    }
    for i in 0..10 {
        g.write(
            &format!(".github/workflows/{:02}-deploy{t}.yml", i),
            &workflow(i, &t),
        );
    }
    for i in 0..20 {
        g.write(
            &format!("bootstrap{t}/{:02}_step/README.md", i),
            &markdown("Bootstrap step", "Run the step with make.", 25),
        );
        g.write(&format!("bootstrap{t}/{:02}_step/run.py", i), &python(i));
    }
}

// ---------------------------------------------------------------- Terraform

fn gen_env_root(g: &mut Gen, unit: usize, env: &str, base_env: &str, idx: usize, mods: &str) {
    let dir = format!("envs/{env}");
    let m = format!("../../{mods}");
    let cidr = format!("10.{}.0.0/16", (unit * 4 + idx) % 250);
    g.write(
        &format!("{dir}/versions.tf"),
        "terraform {\n  required_version = \">= 1.6.0\"\n  required_providers {\n    aws = {\n      source  = \"hashicorp/aws\"\n      version = \"~> 5.40\"\n    }\n    kubernetes = {\n      source  = \"hashicorp/kubernetes\"\n      version = \"~> 2.27\"\n    }\n    helm = {\n      source  = \"hashicorp/helm\"\n      version = \"~> 2.12\"\n    }\n  }\n}\n",
    );
    g.write(
        &format!("{dir}/backend.tf"),
        &format!(
            "terraform {{\n  backend \"s3\" {{\n    bucket         = \"goldenpath-tfstate-{env}\"\n    key            = \"envs/{env}/terraform.tfstate\"\n    region         = \"eu-west-2\"\n    dynamodb_table = \"goldenpath-tflock\"\n    encrypt        = true\n  }}\n}}\n"
        ),
    );
    g.write(&format!("{dir}/providers.tf"), PROVIDERS_TF);
    g.write(&format!("{dir}/variables.tf"), &env_variables());
    g.write(&format!("{dir}/locals.tf"), &env_locals(env, base_env));
    g.write(&format!("{dir}/main.tf"), &env_main(&m));
    g.write(&format!("{dir}/kubernetes.tf"), &env_kubernetes());
    g.write(&format!("{dir}/outputs.tf"), ENV_OUTPUTS_TF);
    g.write(
        &format!("{dir}/terraform.tfvars"),
        &format!(
            "environment = \"{env}\"\nregion      = \"eu-west-2\"\nname_prefix = \"goldenpath\"\nvpc_cidr    = \"{cidr}\"\n\nenable_k8s_resources = {}\n\neks_config = {{\n  enabled         = true\n  cluster_version = \"1.29\"\n  node_min        = {}\n  node_max        = {}\n  instance_types  = [\"m6i.large\", \"m6i.xlarge\"]\n}}\n\niam_config = {{\n  enable_cluster_autoscaler_role   = true\n  enable_external_dns_role         = true\n  enable_eso_role                  = true\n  enable_rds_provisioner_role      = {}\n  enable_load_balancer_controller  = true\n}}\n\nrds_config = {{\n  enabled        = {}\n  instance_class = \"db.t4g.medium\"\n  databases      = [\"keycloak\", \"backstage\"]\n}}\n\ntags = {{\n  Owner       = \"platform-team\"\n  CostCenter  = \"cc-{:04}\"\n  Lifecycle   = \"persistent\"\n}}\n",
            idx.is_multiple_of(2),
            1 + idx,
            4 + idx * 2,
            idx != 3,
            idx != 3,
            unit * 10 + idx
        ),
    );
}

const PROVIDERS_TF: &str = r#"provider "aws" {
  region = var.region

  default_tags {
    tags = local.common_tags
  }
}

# Pass 2 only: the cluster exists once pass 1 has run (enable_k8s_resources = false).
data "aws_eks_cluster" "this" {
  count = var.eks_config.enabled && var.enable_k8s_resources ? 1 : 0
  name  = module.eks[0].cluster_name
}

data "aws_eks_cluster_auth" "this" {
  count = var.eks_config.enabled && var.enable_k8s_resources ? 1 : 0
  name  = module.eks[0].cluster_name
}

provider "kubernetes" {
  host                   = try(data.aws_eks_cluster.this[0].endpoint, "")
  cluster_ca_certificate = try(base64decode(data.aws_eks_cluster.this[0].certificate_authority[0].data), "")
  token                  = try(data.aws_eks_cluster_auth.this[0].token, "")
}

provider "helm" {
  kubernetes {
    host                   = try(data.aws_eks_cluster.this[0].endpoint, "")
    cluster_ca_certificate = try(base64decode(data.aws_eks_cluster.this[0].certificate_authority[0].data), "")
    token                  = try(data.aws_eks_cluster_auth.this[0].token, "")
  }
}
"#;

fn env_variables() -> String {
    let mut s = String::new();
    let vars: [(&str, &str, &str); 8] = [
        ("environment", "string", ""),
        ("region", "string", "\"eu-west-2\""),
        ("name_prefix", "string", "\"goldenpath\""),
        ("vpc_cidr", "string", "\"10.0.0.0/16\""),
        ("enable_k8s_resources", "bool", "false"),
        ("tags", "map(string)", "{}"),
        ("build_id", "string", "\"\""),
        ("owner_team", "string", "\"platform\""),
    ];
    for (name, ty, default) in vars {
        let _ = writeln!(
            s,
            "variable \"{name}\" {{\n  description = \"The {} of this environment.\"\n  type        = {ty}",
            name.replace('_', " ")
        );
        if !default.is_empty() {
            let _ = writeln!(s, "  default     = {default}");
        }
        s.push_str("}\n\n");
    }
    s.push_str(
        r#"variable "eks_config" {
  description = "EKS cluster settings."
  type = object({
    enabled         = bool
    cluster_version = string
    node_min        = number
    node_max        = number
    instance_types  = list(string)
  })
}

variable "iam_config" {
  description = "Which IRSA roles to create."
  type = object({
    enable_cluster_autoscaler_role  = bool
    enable_external_dns_role        = bool
    enable_eso_role                 = bool
    enable_rds_provisioner_role     = optional(bool, false)
    enable_load_balancer_controller = bool
  })
}

variable "rds_config" {
  description = "Coupled RDS settings."
  type = object({
    enabled        = bool
    instance_class = string
    databases      = list(string)
  })
  default = {
    enabled        = false
    instance_class = "db.t4g.micro"
    databases      = []
  }

  validation {
    condition     = length(var.rds_config.databases) <= 20
    error_message = "At most 20 databases."
  }
}
"#,
    );
    s
}

fn env_locals(env: &str, base_env: &str) -> String {
    format!(
        r#"locals {{
  cluster_name = "${{var.name_prefix}}-{env}-eks"
  base_env     = "{base_env}"
  host_suffix  = local.base_env == "prod" ? "goldenpathidp.io" : "${{local.base_env}}.goldenpathidp.io"
  dns_owner_id = "${{var.name_prefix}}-${{var.environment}}"
  azs          = ["${{var.region}}a", "${{var.region}}b", "${{var.region}}c"]

  public_subnets  = [for i, az in local.azs : cidrsubnet(var.vpc_cidr, 8, i)]
  private_subnets = [for i, az in local.azs : cidrsubnet(var.vpc_cidr, 8, i + 10)]

  common_tags = merge(var.tags, {{
    Environment = var.environment
    ManagedBy   = "terraform"
    BuildId     = var.build_id != "" ? var.build_id : null
  }})

  irsa_roles = {{
    cluster-autoscaler = var.iam_config.enable_cluster_autoscaler_role
    external-dns       = var.iam_config.enable_external_dns_role
    eso                = var.iam_config.enable_eso_role
    rds-provisioner    = var.iam_config.enable_rds_provisioner_role
  }}
  enabled_irsa_roles = {{ for k, v in local.irsa_roles : k => v if v }}
}}
"#
    )
}

fn env_main(m: &str) -> String {
    format!(
        r#"module "vpc" {{
  source = "{m}/vpc"

  name            = "${{var.name_prefix}}-${{var.environment}}"
  cidr            = var.vpc_cidr
  azs             = local.azs
  public_subnets  = local.public_subnets
  private_subnets = local.private_subnets
  cluster_name    = local.cluster_name
  tags            = local.common_tags
}}

module "eks" {{
  source = "{m}/eks"
  count  = var.eks_config.enabled ? 1 : 0

  cluster_name    = local.cluster_name
  cluster_version = var.eks_config.cluster_version
  vpc_id          = module.vpc.vpc_id
  subnet_ids      = module.vpc.private_subnet_ids
  node_min        = var.eks_config.node_min
  node_max        = var.eks_config.node_max
  instance_types  = var.eks_config.instance_types
  tags            = local.common_tags
}}

module "iam" {{
  source = "{m}/iam"
  count  = var.eks_config.enabled ? 1 : 0

  name_prefix       = var.name_prefix
  oidc_provider_arn = module.eks[0].oidc_provider_arn
  oidc_issuer       = module.eks[0].oidc_issuer
  roles             = local.enabled_irsa_roles
  tags              = local.common_tags
}}

module "kubernetes_addons" {{
  source = "{m}/kubernetes_addons"
  count  = var.eks_config.enabled && var.enable_k8s_resources ? 1 : 0

  cluster_name          = module.eks[0].cluster_name
  host_suffix           = local.host_suffix
  dns_owner_id          = local.dns_owner_id
  external_dns_role_arn = try(module.iam[0].role_arns["external-dns"], "")
  eso_role_arn          = try(module.iam[0].role_arns["eso"], "")
}}

module "rds" {{
  source = "{m}/rds"
  count  = var.rds_config.enabled ? 1 : 0

  identifier     = "${{var.name_prefix}}-${{var.environment}}-platform"
  instance_class = var.rds_config.instance_class
  subnet_ids     = module.vpc.private_subnet_ids
  vpc_id         = module.vpc.vpc_id
  databases      = var.rds_config.databases
}}

module "artifacts" {{
  source = "{m}/s3"

  bucket_name = "${{var.name_prefix}}-${{var.environment}}-artifacts"
  versioning  = true
  tags        = local.common_tags
}}

module "dns" {{
  source = "{m}/route53"

  zone_name = local.host_suffix
  tags      = local.common_tags
}}

module "secrets" {{
  source   = "{m}/secrets"
  for_each = toset(var.rds_config.databases)

  name          = "goldenpath/${{var.environment}}/${{each.key}}/postgres"
  initial_value = jsonencode({{ username = "${{each.key}}_user", password = "placeholder" }})
}}
"#
    )
}

fn env_kubernetes() -> String {
    let mut s = String::from(
        r#"# Kubernetes objects: pass 2 only (enable_k8s_resources = true).

resource "kubernetes_namespace_v1" "argocd" {
  count = var.enable_k8s_resources ? 1 : 0

  metadata {
    name = "argocd"
    labels = {
      "app.kubernetes.io/managed-by" = "terraform"
    }
  }
}

resource "kubernetes_config_map_v1" "argocd_bootstrap" {
  count = var.enable_k8s_resources ? 1 : 0

  metadata {
    name      = "argocd-bootstrap"
    namespace = kubernetes_namespace_v1.argocd[0].metadata[0].name
  }

  data = {
    host_suffix  = local.host_suffix
    dns_owner_id = local.dns_owner_id
    cluster_name = local.cluster_name
  }

  depends_on = [kubernetes_namespace_v1.argocd]
}

resource "kubernetes_namespace_v1" "platform_system" {
  count = var.enable_k8s_resources ? 1 : 0

  metadata {
    name = "platform-system"
  }
}

resource "kubernetes_service_account_v1" "platform_provisioner" {
  count = var.enable_k8s_resources && var.iam_config.enable_rds_provisioner_role ? 1 : 0

  metadata {
    name      = "platform-provisioner"
    namespace = kubernetes_namespace_v1.platform_system[0].metadata[0].name
    annotations = {
      "eks.amazonaws.com/role-arn" = try(module.iam[0].role_arns["rds-provisioner"], "")
    }
  }
}

resource "helm_release" "argocd" {
  count = var.enable_k8s_resources ? 1 : 0

  name       = "argocd"
  repository = "https://argoproj.github.io/argo-helm"
  chart      = "argo-cd"
  version    = "6.7.3"
  namespace  = kubernetes_namespace_v1.argocd[0].metadata[0].name

  values = [yamlencode({
    server = {
      ingress = {
        enabled  = true
        hostname = "argocd.${local.host_suffix}"
      }
    }
  })]
}
"#,
    );
    for (i, ns) in ["backstage", "keycloak", "monitoring", "kong-system"]
        .iter()
        .enumerate()
    {
        let _ = write!(
            s,
            r#"
resource "kubernetes_namespace_v1" "app_{i}" {{
  count = var.enable_k8s_resources ? 1 : 0

  metadata {{
    name = "{ns}"
  }}
}}
"#
        );
    }
    s
}

const ENV_OUTPUTS_TF: &str = r#"output "vpc_id" {
  value = module.vpc.vpc_id
}

output "cluster_name" {
  value = try(module.eks[0].cluster_name, null)
}

output "cluster_endpoint" {
  value     = try(data.aws_eks_cluster.this[0].endpoint, null)
  sensitive = true
}

output "irsa_role_arns" {
  value = try(module.iam[0].role_arns, {})
}
"#;

fn gen_module(g: &mut Gen, dir: &str, kind: &str) {
    let (vars, main, outputs) = module_parts(kind);
    let mut v = String::new();
    for (name, ty) in vars {
        let _ = writeln!(
            v,
            "variable \"{name}\" {{\n  description = \"{}.\"\n  type        = {ty}\n}}\n",
            name.replace('_', " ")
        );
    }
    g.write(&format!("{dir}/variables.tf"), &v);
    g.write(&format!("{dir}/main.tf"), main);
    let mut o = String::new();
    for (name, value) in outputs {
        let _ = writeln!(o, "output \"{name}\" {{\n  value = {value}\n}}\n");
    }
    g.write(&format!("{dir}/outputs.tf"), &o);
    g.write(
        &format!("{dir}/versions.tf"),
        "terraform {\n  required_providers {\n    aws = {\n      source  = \"hashicorp/aws\"\n      version = \">= 5.0\"\n    }\n  }\n}\n",
    );
    g.write(
        &format!("{dir}/README.md"),
        &markdown(&format!("Module {kind}"), "Inputs and outputs.", 30),
    );
}

type ModuleParts = (
    &'static [(&'static str, &'static str)],
    &'static str,
    &'static [(&'static str, &'static str)],
);

fn module_parts(kind: &str) -> ModuleParts {
    match kind {
        "vpc" => (
            &[
                ("name", "string"),
                ("cidr", "string"),
                ("azs", "list(string)"),
                ("public_subnets", "list(string)"),
                ("private_subnets", "list(string)"),
                ("cluster_name", "string"),
                ("tags", "map(string)"),
            ],
            r#"resource "aws_vpc" "this" {
  cidr_block           = var.cidr
  enable_dns_hostnames = true
  enable_dns_support   = true
  tags                 = merge(var.tags, { Name = var.name })
}

resource "aws_subnet" "public" {
  count                   = length(var.public_subnets)
  vpc_id                  = aws_vpc.this.id
  cidr_block              = var.public_subnets[count.index]
  availability_zone       = var.azs[count.index]
  map_public_ip_on_launch = true
  tags = merge(var.tags, {
    Name                                        = "${var.name}-public-${var.azs[count.index]}"
    "kubernetes.io/role/elb"                    = "1"
    "kubernetes.io/cluster/${var.cluster_name}" = "shared"
  })
}

resource "aws_subnet" "private" {
  count             = length(var.private_subnets)
  vpc_id            = aws_vpc.this.id
  cidr_block        = var.private_subnets[count.index]
  availability_zone = var.azs[count.index]
  tags = merge(var.tags, {
    Name                                        = "${var.name}-private-${var.azs[count.index]}"
    "kubernetes.io/role/internal-elb"           = "1"
    "kubernetes.io/cluster/${var.cluster_name}" = "shared"
  })
}

resource "aws_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id
  tags   = var.tags
}

resource "aws_eip" "nat" {
  count  = length(var.azs)
  domain = "vpc"
  tags   = var.tags
}

resource "aws_nat_gateway" "this" {
  count         = length(var.azs)
  allocation_id = aws_eip.nat[count.index].id
  subnet_id     = aws_subnet.public[count.index].id
  tags          = var.tags
  depends_on    = [aws_internet_gateway.this]
}
"#,
            &[
                ("vpc_id", "aws_vpc.this.id"),
                ("public_subnet_ids", "aws_subnet.public[*].id"),
                ("private_subnet_ids", "aws_subnet.private[*].id"),
            ],
        ),
        "eks" => (
            &[
                ("cluster_name", "string"),
                ("cluster_version", "string"),
                ("vpc_id", "string"),
                ("subnet_ids", "list(string)"),
                ("node_min", "number"),
                ("node_max", "number"),
                ("instance_types", "list(string)"),
                ("tags", "map(string)"),
            ],
            r#"data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["eks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "cluster" {
  name               = "${var.cluster_name}-cluster"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "cluster" {
  for_each   = toset(["AmazonEKSClusterPolicy", "AmazonEKSVPCResourceController"])
  role       = aws_iam_role.cluster.name
  policy_arn = "arn:aws:iam::aws:policy/${each.value}"
}

resource "aws_eks_cluster" "this" {
  name     = var.cluster_name
  version  = var.cluster_version
  role_arn = aws_iam_role.cluster.arn

  vpc_config {
    subnet_ids              = var.subnet_ids
    endpoint_private_access = true
    endpoint_public_access  = true
  }

  tags       = var.tags
  depends_on = [aws_iam_role_policy_attachment.cluster]
}

resource "aws_eks_node_group" "default" {
  cluster_name    = aws_eks_cluster.this.name
  node_group_name = "default"
  node_role_arn   = aws_iam_role.cluster.arn
  subnet_ids      = var.subnet_ids
  instance_types  = var.instance_types

  scaling_config {
    min_size     = var.node_min
    max_size     = var.node_max
    desired_size = var.node_min
  }
}

data "tls_certificate" "oidc" {
  url = aws_eks_cluster.this.identity[0].oidc[0].issuer
}

resource "aws_iam_openid_connect_provider" "this" {
  url             = aws_eks_cluster.this.identity[0].oidc[0].issuer
  client_id_list  = ["sts.amazonaws.com"]
  thumbprint_list = [data.tls_certificate.oidc.certificates[0].sha1_fingerprint]
}
"#,
            &[
                ("cluster_name", "aws_eks_cluster.this.name"),
                ("cluster_endpoint", "aws_eks_cluster.this.endpoint"),
                (
                    "oidc_provider_arn",
                    "aws_iam_openid_connect_provider.this.arn",
                ),
                (
                    "oidc_issuer",
                    "replace(aws_eks_cluster.this.identity[0].oidc[0].issuer, \"https://\", \"\")",
                ),
            ],
        ),
        "iam" => (
            &[
                ("name_prefix", "string"),
                ("oidc_provider_arn", "string"),
                ("oidc_issuer", "string"),
                ("roles", "map(bool)"),
                ("tags", "map(string)"),
            ],
            r#"data "aws_iam_policy_document" "irsa" {
  for_each = var.roles

  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [var.oidc_provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${var.oidc_issuer}:sub"
      values   = ["system:serviceaccount:${each.key}:${each.key}"]
    }
  }
}

resource "aws_iam_role" "irsa" {
  for_each           = var.roles
  name               = "${var.name_prefix}-idp-${each.key}"
  assume_role_policy = data.aws_iam_policy_document.irsa[each.key].json
  tags               = var.tags
}

resource "aws_iam_policy" "external_dns" {
  count = lookup(var.roles, "external-dns", false) ? 1 : 0
  name  = "${var.name_prefix}-idp-external-dns-policy"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["route53:ChangeResourceRecordSets", "route53:ListResourceRecordSets"]
      Resource = ["arn:aws:route53:::hostedzone/*"]
    }]
  })
}

resource "aws_iam_role_policy_attachment" "external_dns" {
  count      = lookup(var.roles, "external-dns", false) ? 1 : 0
  role       = aws_iam_role.irsa["external-dns"].name
  policy_arn = aws_iam_policy.external_dns[0].arn
}
"#,
            &[(
                "role_arns",
                "{ for k, r in aws_iam_role.irsa : k => r.arn }",
            )],
        ),
        "kubernetes_addons" => (
            &[
                ("cluster_name", "string"),
                ("host_suffix", "string"),
                ("dns_owner_id", "string"),
                ("external_dns_role_arn", "string"),
                ("eso_role_arn", "string"),
            ],
            r#"resource "kubernetes_namespace_v1" "external_dns" {
  metadata {
    name = "external-dns"
  }
}

resource "helm_release" "external_dns" {
  name       = "external-dns"
  repository = "https://kubernetes-sigs.github.io/external-dns"
  chart      = "external-dns"
  version    = "1.14.3"
  namespace  = kubernetes_namespace_v1.external_dns.metadata[0].name

  set {
    name  = "txtOwnerId"
    value = var.dns_owner_id
  }

  set {
    name  = "serviceAccount.annotations.eks\\.amazonaws\\.com/role-arn"
    value = var.external_dns_role_arn
  }

  set {
    name  = "domainFilters[0]"
    value = var.host_suffix
  }
}

resource "helm_release" "external_secrets" {
  name             = "external-secrets"
  repository       = "https://charts.external-secrets.io"
  chart            = "external-secrets"
  version          = "0.9.13"
  namespace        = "external-secrets"
  create_namespace = true

  set {
    name  = "serviceAccount.annotations.eks\\.amazonaws\\.com/role-arn"
    value = var.eso_role_arn
  }
}
"#,
            &[(
                "external_dns_namespace",
                "kubernetes_namespace_v1.external_dns.metadata[0].name",
            )],
        ),
        "rds" => (
            &[
                ("identifier", "string"),
                ("instance_class", "string"),
                ("subnet_ids", "list(string)"),
                ("vpc_id", "string"),
                ("databases", "list(string)"),
            ],
            r#"resource "aws_db_subnet_group" "this" {
  name       = var.identifier
  subnet_ids = var.subnet_ids
}

resource "aws_security_group" "rds" {
  name   = "${var.identifier}-rds"
  vpc_id = var.vpc_id

  ingress {
    from_port   = 5432
    to_port     = 5432
    protocol    = "tcp"
    cidr_blocks = ["10.0.0.0/8"]
  }
}

resource "random_password" "master" {
  length  = 32
  special = false
}

resource "aws_db_instance" "this" {
  identifier             = var.identifier
  engine                 = "postgres"
  engine_version         = "15.5"
  instance_class         = var.instance_class
  allocated_storage      = 50
  db_subnet_group_name   = aws_db_subnet_group.this.name
  vpc_security_group_ids = [aws_security_group.rds.id]
  username               = "platform_admin"
  password               = random_password.master.result
  skip_final_snapshot    = false
  deletion_protection    = true
}
"#,
            &[
                ("endpoint", "aws_db_instance.this.endpoint"),
                ("databases", "var.databases"),
            ],
        ),
        "s3" => (
            &[
                ("bucket_name", "string"),
                ("versioning", "bool"),
                ("tags", "map(string)"),
            ],
            r#"resource "aws_s3_bucket" "this" {
  bucket = var.bucket_name
  tags   = var.tags
}

resource "aws_s3_bucket_versioning" "this" {
  count  = var.versioning ? 1 : 0
  bucket = aws_s3_bucket.this.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket                  = aws_s3_bucket.this.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}
"#,
            &[
                ("bucket_arn", "aws_s3_bucket.this.arn"),
                ("bucket_id", "aws_s3_bucket.this.id"),
            ],
        ),
        "route53" => (
            &[("zone_name", "string"), ("tags", "map(string)")],
            r#"data "aws_route53_zone" "parent" {
  name = "goldenpathidp.io"
}

resource "aws_route53_zone" "this" {
  count = var.zone_name == "goldenpathidp.io" ? 0 : 1
  name  = var.zone_name
  tags  = var.tags
}

resource "aws_route53_record" "delegation" {
  count   = var.zone_name == "goldenpathidp.io" ? 0 : 1
  zone_id = data.aws_route53_zone.parent.zone_id
  name    = var.zone_name
  type    = "NS"
  ttl     = 300
  records = aws_route53_zone.this[0].name_servers
}
"#,
            &[(
                "zone_id",
                "try(aws_route53_zone.this[0].zone_id, data.aws_route53_zone.parent.zone_id)",
            )],
        ),
        _ => (
            &[("name", "string"), ("initial_value", "string")],
            r#"resource "aws_secretsmanager_secret" "this" {
  name                    = var.name
  recovery_window_in_days = 0
}

resource "aws_secretsmanager_secret_version" "initial" {
  count         = var.initial_value != "" ? 1 : 0
  secret_id     = aws_secretsmanager_secret.this.id
  secret_string = var.initial_value

  lifecycle {
    ignore_changes = [secret_string]
  }
}
"#,
            &[("arn", "aws_secretsmanager_secret.this.arn")],
        ),
    }
}

// ---------------------------------------------------------------- GitOps

const REPO_URL: &str = "https://github.com/example/platform-monorepo.git";

fn gen_gitops(g: &mut Gen, unit: usize) {
    let t = tag(unit);
    for (ei, base_env) in ENVS.iter().enumerate() {
        let env = format!("{base_env}{t}");
        // The app-of-apps root for the environment.
        g.write(
            &format!("gitops/argocd/apps/{env}/_root.yaml"),
            &format!(
                r#"apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: {env}-root
  namespace: argocd
spec:
  project: platform
  source:
    repoURL: {REPO_URL}
    targetRevision: main
    path: gitops/argocd/apps/{env}
    directory:
      exclude: "_root.yaml"
  destination:
    server: https://kubernetes.default.svc
    namespace: argocd
  syncPolicy:
    automated:
      prune: true
      selfHeal: true
"#
            ),
        );
        for (ci, chart) in CHARTS.iter().enumerate() {
            let ch = format!("{chart}{t}");
            let base = BASES[ci % BASES.len()];
            let extra_source = if ci % 3 == 0 {
                format!(
                    "    - repoURL: {REPO_URL}\n      targetRevision: main\n      path: gitops/kustomize/overlays/{env}/{base}{t}\n"
                )
            } else {
                String::new()
            };
            g.write(
                &format!("gitops/argocd/apps/{env}/{chart}.yaml"),
                &format!(
                    r#"apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: {env}-{chart}
  namespace: argocd
  annotations:
    argocd.argoproj.io/sync-wave: "{wave}"
  finalizers:
    - resources-finalizer.argocd.argoproj.io
spec:
  project: platform
  sources:
    - repoURL: {REPO_URL}
      targetRevision: main
      path: gitops/helm/{ch}
      helm:
        releaseName: {chart}
        valueFiles:
          - values.yaml
          - $values/gitops/helm/{ch}/values/{base_env}.yaml
        parameters:
          - name: global.environment
            value: {env}
    - repoURL: {REPO_URL}
      targetRevision: main
      ref: values
{extra_source}  destination:
    server: https://kubernetes.default.svc
    namespace: {chart}
  syncPolicy:
    automated:
      prune: true
      selfHeal: {heal}
    syncOptions:
      - CreateNamespace=true
      - ServerSideApply=true
    retry:
      limit: 5
      backoff:
        duration: 10s
        factor: 2
        maxDuration: 3m
  ignoreDifferences:
    - group: apps
      kind: Deployment
      jsonPointers:
        - /spec/replicas
"#,
                    wave = (ci % 5) as i32 - 1,
                    heal = ei != 0,
                ),
            );
        }
    }
    for (ci, chart) in CHARTS.iter().enumerate() {
        let ch = format!("{chart}{t}");
        let dir = format!("gitops/helm/{ch}");
        g.write(
            &format!("{dir}/Chart.yaml"),
            &format!(
                "apiVersion: v2\nname: {chart}\ndescription: Platform wrapper chart for {chart}\ntype: application\nversion: 0.{ci}.0\nappVersion: \"1.{ci}.0\"\n"
            ),
        );
        g.write(
            &format!("{dir}/values.yaml"),
            &chart_values(chart, "base", ci),
        );
        for env in ENVS {
            g.write(
                &format!("{dir}/values/{env}.yaml"),
                &chart_values(chart, env, ci),
            );
        }
        g.write(&format!("{dir}/templates/deployment.yaml"), HELM_DEPLOYMENT);
        g.write(&format!("{dir}/templates/ingress.yaml"), HELM_INGRESS);
        g.write(&format!("{dir}/templates/_helpers.tpl"), HELM_HELPERS);
    }
    for (bi, base) in BASES.iter().enumerate() {
        let b = format!("{base}{t}");
        let dir = format!("gitops/kustomize/bases/{b}");
        g.write(
            &format!("{dir}/kustomization.yaml"),
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - resources.yaml\n  - config.yaml\n",
        );
        g.write(
            &format!("{dir}/resources.yaml"),
            &kustomize_resources(base, bi),
        );
        g.write(
            &format!("{dir}/config.yaml"),
            &format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {base}-config\n  namespace: platform-system\n  labels:\n    app.kubernetes.io/part-of: platform\ndata:\n  component: {base}\n  revision: \"{bi}\"\n"
            ),
        );
        for env in ENVS {
            let odir = format!("gitops/kustomize/overlays/{env}{t}/{b}");
            g.write(
                &format!("{odir}/kustomization.yaml"),
                &format!(
                    "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../../../bases/{b}\npatches:\n  - path: patch.yaml\n    target:\n      kind: ConfigMap\n      name: {base}-config\ncommonLabels:\n  environment: {env}\n"
                ),
            );
            g.write(
                &format!("{odir}/patch.yaml"),
                &format!(
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {base}-config\n  namespace: platform-system\ndata:\n  environment: {env}\n"
                ),
            );
        }
    }
}

fn chart_values(chart: &str, env: &str, ci: usize) -> String {
    let host = if env == "prod" {
        format!("{chart}.goldenpathidp.io")
    } else {
        format!("{chart}.{env}.goldenpathidp.io")
    };
    let issuer = if env == "prod" {
        "letsencrypt-prod"
    } else {
        "letsencrypt-staging"
    };
    let mut s = format!(
        r#"# Values for {chart} ({env})
replicaCount: {replicas}

image:
  repository: ghcr.io/example/{chart}
  tag: "1.{ci}.{patch}"
  pullPolicy: IfNotPresent

serviceAccount:
  create: true
  name: {chart}
  annotations:
    eks.amazonaws.com/role-arn: arn:aws:iam::123456789012:role/goldenpath-idp-{chart}

ingress:
  enabled: true
  className: kong
  annotations:
    cert-manager.io/cluster-issuer: {issuer}
    external-dns.alpha.kubernetes.io/hostname: {host}
    konghq.com/strip-path: "true"
    konghq.com/protocols: https
  hosts:
    - host: {host}
      paths:
        - path: /
          pathType: Prefix
  tls:
    - secretName: {chart}-tls
      hosts:
        - {host}

resources:
  requests:
    cpu: {cpu}m
    memory: {mem}Mi
  limits:
    memory: {memlim}Mi

podAnnotations:
  prometheus.io/scrape: "true"
  prometheus.io/port: "9090"

nodeSelector:
  kubernetes.io/os: linux

tolerations: []

affinity:
  podAntiAffinity:
    preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        podAffinityTerm:
          topologyKey: kubernetes.io/hostname
          labelSelector:
            matchLabels:
              app.kubernetes.io/name: {chart}
"#,
        replicas = if env == "prod" { 3 } else { 1 },
        patch = env.len(),
        cpu = 100 + ci * 10,
        mem = 128 + ci * 16,
        memlim = 256 + ci * 32,
    );
    s.push_str("\nenv:\n");
    for i in 0..8 {
        let _ = writeln!(
            s,
            "  - name: {}_SETTING_{i}\n    value: \"{env}-{i}\"",
            chart.to_uppercase().replace('-', "_")
        );
    }
    if ci.is_multiple_of(4) {
        // Charts that accept whole manifests inside values.
        let _ = write!(
            s,
            "\nextraObjects:\n  - apiVersion: cert-manager.io/v1\n    kind: Certificate\n    metadata:\n      name: {chart}-cert\n    spec:\n      secretName: {chart}-tls\n      issuerRef:\n        kind: ClusterIssuer\n        name: {issuer}\n      dnsNames:\n        - {host}\n"
        );
    }
    s
}

fn kustomize_resources(base: &str, bi: usize) -> String {
    if base == "cert-manager" {
        return r#"apiVersion: cert-manager.io/v1
kind: ClusterIssuer
metadata:
  name: letsencrypt-staging
spec:
  acme:
    server: https://acme-staging-v02.api.letsencrypt.org/directory
    email: platform@example.com
    privateKeySecretRef:
      name: letsencrypt-staging
    solvers:
      - http01:
          ingress:
            class: kong
---
apiVersion: cert-manager.io/v1
kind: ClusterIssuer
metadata:
  name: letsencrypt-prod
spec:
  acme:
    server: https://acme-v02.api.letsencrypt.org/directory
    email: platform@example.com
    privateKeySecretRef:
      name: letsencrypt-prod
    solvers:
      - http01:
          ingress:
            class: kong
"#
        .to_string();
    }
    let mut s = String::new();
    for i in 0..3 {
        let _ = write!(
            s,
            "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: {base}-{i}\n  labels:\n    pod-security.kubernetes.io/enforce: baseline\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: {base}-reader-{i}\n  namespace: {base}-{i}\nrules:\n  - apiGroups: [\"\"]\n    resources: [\"configmaps\", \"secrets\"]\n    verbs: [\"get\", \"list\", \"watch\"]\n    # revision {bi}\n"
        );
    }
    s
}

const HELM_DEPLOYMENT: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "chart.fullname" . }}
  labels:
    {{- include "chart.labels" . | nindent 4 }}
spec:
  replicas: {{ .Values.replicaCount }}
  selector:
    matchLabels:
      {{- include "chart.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "chart.selectorLabels" . | nindent 8 }}
    spec:
      serviceAccountName: {{ .Values.serviceAccount.name }}
      containers:
        - name: {{ .Chart.Name }}
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
"#;

const HELM_INGRESS: &str = r#"{{- if .Values.ingress.enabled -}}
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {{ include "chart.fullname" . }}
  annotations:
    {{- toYaml .Values.ingress.annotations | nindent 4 }}
spec:
  ingressClassName: {{ .Values.ingress.className }}
  tls:
    {{- toYaml .Values.ingress.tls | nindent 4 }}
{{- end }}
"#;

const HELM_HELPERS: &str = r#"{{- define "chart.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- define "chart.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
{{- define "chart.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
{{- end -}}
"#;

// ---------------------------------------------------------------- IAM

fn policy_name(i: usize) -> &'static str {
    [
        "github-actions-terraform",
        "external-dns",
        "cluster-autoscaler",
        "eso",
        "rds-provisioner",
        "load-balancer-controller",
        "readonly",
        "break-glass",
    ][i % 8]
}

fn iam_policy(i: usize, unit: usize) -> String {
    let groups: [(&str, &[&str]); 8] = [
        (
            "Terraform",
            &[
                "iam:CreatePolicy",
                "iam:CreateRole",
                "iam:AttachRolePolicy",
                "iam:PassRole",
                "eks:CreateCluster",
                "eks:DescribeCluster",
                "ec2:CreateVpc",
                "ec2:Describe*",
            ],
        ),
        (
            "Route53",
            &[
                "route53:ChangeResourceRecordSets",
                "route53:ListResourceRecordSets",
                "route53:ListHostedZones",
            ],
        ),
        (
            "Autoscaling",
            &[
                "autoscaling:DescribeAutoScalingGroups",
                "autoscaling:SetDesiredCapacity",
                "autoscaling:TerminateInstanceInAutoScalingGroup",
            ],
        ),
        (
            "Secrets",
            &[
                "secretsmanager:GetSecretValue",
                "secretsmanager:DescribeSecret",
                "secretsmanager:ListSecretVersionIds",
            ],
        ),
        (
            "Provisioner",
            &[
                "secretsmanager:GetSecretValue",
                "secretsmanager:PutSecretValue",
                "secretsmanager:CreateSecret",
            ],
        ),
        (
            "LoadBalancer",
            &[
                "elasticloadbalancing:*",
                "ec2:DescribeSubnets",
                "ec2:DescribeSecurityGroups",
                "ec2:AuthorizeSecurityGroupIngress",
            ],
        ),
        (
            "ReadOnly",
            &["s3:GetObject", "s3:ListBucket", "ec2:Describe*"],
        ),
        ("BreakGlass", &["*"]),
    ];
    let (sid, actions) = groups[i % groups.len()];
    let actions = actions
        .iter()
        .map(|a| format!("        \"{a}\""))
        .collect::<Vec<_>>()
        .join(",\n");
    format!(
        r#"{{
  "Version": "2012-10-17",
  "Statement": [
    {{
      "Sid": "{sid}{i}",
      "Effect": "Allow",
      "Action": [
{actions}
      ],
      "Resource": "*",
      "Condition": {{
        "StringEquals": {{
          "aws:RequestedRegion": ["eu-west-2", "eu-west-1"],
          "aws:ResourceTag/Team": "team-{unit}"
        }}
      }}
    }},
    {{
      "Sid": "DenyOutsideOrg{i}",
      "Effect": "Deny",
      "NotAction": ["iam:*", "organizations:*", "sts:*"],
      "Resource": "*",
      "Condition": {{
        "StringNotEquals": {{ "aws:PrincipalOrgID": "o-example{unit}" }}
      }}
    }}
  ]
}}
"#
    )
}

// ---------------------------------------------------------------- filler

fn markdown(title: &str, lead: &str, paragraphs: usize) -> String {
    let mut s = format!("# {title}\n\n{lead}\n\n");
    for p in 0..paragraphs {
        let _ = write!(
            s,
            "## Section {p}\n\nThe platform team keeps this section current. Environments are created in two passes: \
             the first creates the network and the cluster, the second the Kubernetes objects. \
             See `envs/dev/main.tf` and `gitops/argocd/apps/dev/` for the details of item {p}.\n\n"
        );
        if p % 5 == 0 {
            s.push_str("| Column | Meaning |\n|---|---|\n| a | first |\n| b | second |\n\n");
        }
    }
    s
}

fn script(i: usize) -> String {
    format!(
        r#"#!/usr/bin/env bash
# Helper {i}: run against one environment.
set -euo pipefail

ENV="${{1:-dev}}"
REGION="${{REGION:-eu-west-2}}"
DRY_RUN="${{DRY_RUN:-true}}"

run_with_retry() {{
  local attempts=$1 delay=$2; shift 2
  for ((n = 1; n <= attempts; n++)); do
    if eval "$@"; then return 0; fi
    echo "attempt $n failed; retrying in ${{delay}}s" >&2
    sleep "$delay"; delay=$((delay * 2))
  done
  return 1
}}

cd "$(dirname "$0")/../envs/${{ENV}}"
terraform init -input=false
terraform plan -input=false -var "enable_k8s_resources=false" -out=pass1.plan
if [[ "$DRY_RUN" != "true" ]]; then
  run_with_retry 5 10 "terraform apply -input=false pass1.plan"
  terraform plan -input=false -var "enable_k8s_resources=true" -out=pass2.plan
  run_with_retry 5 10 "terraform apply -input=false pass2.plan"
fi
echo "done: ${{ENV}} in ${{REGION}} (step {i})"
"#
    )
}

fn python(i: usize) -> String {
    format!(
        r#""""Bootstrap step {i}."""
import json
import os
import sys


def main() -> int:
    env = os.environ.get("ENV", "dev")
    config = {{"step": {i}, "env": env, "region": os.environ.get("REGION", "eu-west-2")}}
    json.dump(config, sys.stdout, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
"#
    )
}

fn workflow(i: usize, t: &str) -> String {
    format!(
        r#"name: deploy-{i}{t}
on:
  push:
    branches: [main]
  pull_request:
jobs:
  plan:
    runs-on: ubuntu-latest
    permissions:
      id-token: write
      contents: read
    steps:
      - uses: actions/checkout@v4
      - uses: hashicorp/setup-terraform@v3
      - name: Plan
        run: make plan ENV=${{{{ matrix.env }}}}
    strategy:
      matrix:
        env: [dev, staging, prod]
"#
    )
}

fn makefile() -> String {
    let mut s = String::from(".PHONY: plan apply deploy-persistent\n\n");
    for target in ["plan", "apply", "deploy-persistent", "cleanup-orphans"] {
        let _ = write!(s, "{target}:\n\t./scripts/000-vpc.sh $(ENV)\n\n");
    }
    s
}
