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

# The Keycloak database lives on the standalone instance, so its credentials were added
# here too; envs/dev already creates this secret.
resource "aws_secretsmanager_secret" "keycloak_postgres" {
  name = "goldenpath/${var.environment}/keycloak/postgres"
}

# Cluster access for whoever applies this root, to run the provisioning job.
resource "aws_eks_access_entry" "provisioner" {
  cluster_name  = var.cluster_name
  principal_arn = data.aws_caller_identity.current.arn
}
