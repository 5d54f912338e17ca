module "network" {
  source = "../../modules/network"
  cidr   = "10.20.0.0/16"
}

module "app" {
  source         = "../../modules/app"
  name           = "shop-prod"
  instance_count = 3
  ports          = [{ port = 443 }]
}

module "audit" {
  source = "../../modules/audit"
}

output "app_instances" {
  value = module.app.instance_ids
}

output "app_security_group" {
  value = module.app.security_group
}

output "vpc_id" {
  value = module.network.vpc
}
