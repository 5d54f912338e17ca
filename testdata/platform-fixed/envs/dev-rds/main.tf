# Standalone RDS lifecycle: applied on its own, after envs/dev, with the same environment.
provider "aws" {
  region = var.region
  default_tags {
    tags = {
      Environment = var.environment
      Lifecycle   = "persistent"
      ManagedBy   = "terraform"
    }
  }
}

data "aws_caller_identity" "current" {}

data "aws_route53_zone" "primary" {
  name = var.base_domain
}

# envs/dev owns the Keycloak credentials; this root reads them.
data "aws_secretsmanager_secret" "keycloak_postgres" {
  name = "goldenpath/${var.environment}/keycloak/postgres"
}

# The cluster was created with bootstrap_cluster_creator_admin_permissions = true: whoever
# applies envs/dev already has an access entry, so this root adds none for itself.
