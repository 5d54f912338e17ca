output "cluster_name" {
  value = one(module.eks[*].cluster_name)
}

output "vpc_id" {
  value = module.vpc.vpc_id
}
