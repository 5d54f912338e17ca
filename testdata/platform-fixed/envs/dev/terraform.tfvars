environment = "dev"

eks_config = {
  enabled      = true
  cluster_name = "goldenpath-dev-eks"
}

iam_config = {
  enable_rds_provisioner_role = true
}
