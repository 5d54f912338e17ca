locals {
  cluster_name = var.eks_config.cluster_name
  host_suffix  = "${var.environment}.${var.base_domain}"
  dns_owner_id = "${var.name_prefix}-${var.environment}"
  common_tags = {
    Environment = var.environment
    Lifecycle   = "persistent"
    ManagedBy   = "terraform"
  }
}

provider "aws" {
  region = var.region
  default_tags {
    tags = local.common_tags
  }
}

module "vpc" {
  source = "../../modules/vpc"
  name   = "${var.name_prefix}-${var.environment}"
  cidr   = var.vpc_cidr
  tags   = local.common_tags
}

module "eks" {
  source             = "../../modules/eks"
  count              = var.eks_config.enabled ? 1 : 0
  cluster_name       = local.cluster_name
  kubernetes_version = var.eks_config.version
  subnet_ids         = module.vpc.private_subnet_ids
  node_min_size      = var.eks_config.node_min_size
  node_max_size      = var.eks_config.node_max_size
  instance_types     = var.eks_config.instance_types
  tags               = local.common_tags
}

module "iam" {
  source            = "../../modules/iam"
  count             = var.eks_config.enabled ? 1 : 0
  name_prefix       = "${var.name_prefix}-idp"
  environment       = var.environment
  oidc_provider_arn = module.eks[0].oidc_provider_arn
  oidc_issuer       = module.eks[0].oidc_issuer
  iam_config        = var.iam_config
  hosted_zone_id    = var.hosted_zone_id
}

# Two-pass bootstrap: the cluster data sources configure the kubernetes and helm
# providers. Pass 1 (enable_k8s_resources = false) creates the VPC and the cluster;
# pass 2 creates the Kubernetes resources.
data "aws_eks_cluster" "this" {
  count = var.eks_config.enabled ? 1 : 0
  name  = module.eks[0].cluster_name
}

data "aws_eks_cluster_auth" "this" {
  count = var.eks_config.enabled ? 1 : 0
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

module "kubernetes_addons" {
  source                   = "../../modules/kubernetes_addons"
  count                    = var.enable_k8s_resources ? 1 : 0
  cluster_name             = local.cluster_name
  region                   = var.region
  external_dns_role_arn    = module.iam[0].external_dns_role_arn
  eso_role_arn             = module.iam[0].eso_role_arn
  autoscaler_role_arn      = module.iam[0].cluster_autoscaler_role_arn
  rds_provisioner_role_arn = module.iam[0].rds_provisioner_role_arn
  enable_rds_provisioner   = var.iam_config.enable_rds_provisioner_role
  host_suffix              = local.host_suffix
}

resource "kubernetes_config_map_v1" "argocd_bootstrap" {
  count = var.enable_k8s_resources ? 1 : 0

  metadata {
    name      = "argocd-bootstrap"
    namespace = "argocd"
  }

  data = {
    cluster_name = local.cluster_name
    host_suffix  = local.host_suffix
    dns_owner_id = local.dns_owner_id
    environment  = var.environment
  }
}

resource "aws_secretsmanager_secret" "keycloak_postgres" {
  name = "goldenpath/${var.environment}/keycloak/postgres"
}

resource "aws_secretsmanager_secret_version" "keycloak_postgres" {
  secret_id     = aws_secretsmanager_secret.keycloak_postgres.id
  secret_string = jsonencode({ username = "keycloak_user", password = "CHANGE_ME" })
}

# No initial_value: the module creates the secret without a version, an empty secret
# (no AWSCURRENT value) that ExternalSecrets cannot sync.
module "backstage_postgres_secret" {
  source      = "../../modules/aws_secrets_manager"
  name        = "${var.name_prefix}/${var.environment}/backstage/postgres"
  description = "Backstage database credentials"
  tags        = local.common_tags
}

resource "aws_route53_record" "wildcard" {
  count   = var.enable_k8s_resources ? 1 : 0
  zone_id = var.hosted_zone_id
  name    = "*.${local.host_suffix}"
  type    = "CNAME"
  ttl     = 300
  records = ["ingress.${local.host_suffix}"]
}

data "aws_iam_openid_connect_provider" "github" {
  url = "https://token.actions.githubusercontent.com"
}

module "ci_deployer" {
  source            = "../../modules/ci_deployer"
  role_name         = "${var.name_prefix}-${var.environment}-deployer"
  github_repository = "acme/platform-infra"
  oidc_provider_arn = data.aws_iam_openid_connect_provider.github.arn
  policy_arns       = ["arn:aws:iam::aws:policy/PowerUserAccess"]
}
