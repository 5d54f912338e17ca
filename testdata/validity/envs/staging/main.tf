module "network" {
  source = "../../modules/network"
  cidr   = "10.10.0.0/16"
}

module "app" {
  source   = "../../modules/app"
  name     = "shop-staging"
  replicas = 1
  ports    = [{ port = 443 }]
}

output "app_instances" {
  value = module.app.instance_ids
}

output "vpc_id" {
  value = module.network.vpc_id
}
