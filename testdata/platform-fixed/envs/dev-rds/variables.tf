variable "region" {
  type    = string
  default = "eu-west-2"
}

variable "environment" {
  type = string
}

variable "cluster_name" {
  description = "The EKS cluster envs/<env> creates; the RDS provisioner job runs in it."
  type        = string
}

variable "base_domain" {
  type    = string
  default = "goldenpathidp.io"
}
