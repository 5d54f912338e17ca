environment  = "dev"
cluster_name = "goldenpath-dev-eks"
