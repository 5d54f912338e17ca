variable "region" {
  type    = string
  default = "eu-west-2"
}

variable "environment" {
  type = string
}

variable "name_prefix" {
  type    = string
  default = "goldenpath"
}

variable "enable_k8s_resources" {
  description = "v4 two-pass bootstrap: false on pass 1 (VPC, EKS), true on pass 2 (Kubernetes resources)."
  type        = bool
  default     = false
}

variable "eks_config" {
  type = object({
    enabled        = bool
    cluster_name   = string
    version        = optional(string, "1.29")
    node_min_size  = optional(number, 1)
    node_max_size  = optional(number, 3)
    instance_types = optional(list(string), ["t3.large"])
  })
}

variable "vpc_cidr" {
  type    = string
  default = "10.20.0.0/16"
}

variable "iam_config" {
  type = object({
    enable_cluster_autoscaler_role = optional(bool, true)
    enable_external_dns_role       = optional(bool, true)
    enable_eso_role                = optional(bool, true)
    enable_rds_provisioner_role    = optional(bool, false)
  })
  default = {}
}

variable "hosted_zone_id" {
  type    = string
  default = "Z0123456789ABCDEFGHIJ"
}

variable "base_domain" {
  type    = string
  default = "goldenpathidp.io"
}
