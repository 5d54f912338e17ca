variable "name_prefix" {
  type = string
}

variable "environment" {
  type = string
}

variable "oidc_provider_arn" {
  type = string
}

variable "oidc_issuer" {
  type = string
}

variable "hosted_zone_id" {
  type = string
}

variable "iam_config" {
  type = object({
    enable_cluster_autoscaler_role = optional(bool, true)
    enable_external_dns_role       = optional(bool, true)
    enable_eso_role                = optional(bool, true)
    enable_rds_provisioner_role    = optional(bool, false)
  })
}

locals {
  issuer = replace(var.oidc_issuer, "https://", "")
  tags = {
    Environment = var.environment
  }
}

data "aws_iam_policy_document" "irsa" {
  for_each = {
    cluster-autoscaler           = "kube-system:cluster-autoscaler"
    aws-load-balancer-controller = "kube-system:aws-load-balancer-controller"
    external-dns                 = "kube-system:external-dns"
    eso                          = "external-secrets:external-secrets"
    rds-provisioner              = "platform-system:platform-provisioner"
  }
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [var.oidc_provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.issuer}:sub"
      values   = ["system:serviceaccount:${each.value}"]
    }
  }
}

resource "aws_iam_role" "cluster_autoscaler" {
  count              = var.iam_config.enable_cluster_autoscaler_role ? 1 : 0
  name               = "${var.name_prefix}-cluster-autoscaler"
  assume_role_policy = data.aws_iam_policy_document.irsa["cluster-autoscaler"].json
  tags               = local.tags
}

resource "aws_iam_role" "load_balancer_controller" {
  name               = "${var.name_prefix}-aws-load-balancer-controller"
  assume_role_policy = data.aws_iam_policy_document.irsa["aws-load-balancer-controller"].json
  tags               = local.tags
}

resource "aws_iam_role" "external_dns" {
  count              = var.iam_config.enable_external_dns_role ? 1 : 0
  name               = "${var.name_prefix}-external-dns"
  assume_role_policy = data.aws_iam_policy_document.irsa["external-dns"].json
  tags               = local.tags
}

resource "aws_iam_policy" "external_dns" {
  count = var.iam_config.enable_external_dns_role ? 1 : 0
  name  = "${var.name_prefix}-external-dns-policy"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect   = "Allow"
        Action   = ["route53:ChangeResourceRecordSets"]
        Resource = ["arn:aws:route53:::hostedzone/${var.hosted_zone_id}"]
      },
      {
        Effect   = "Allow"
        Action   = ["route53:ListHostedZones", "route53:ListResourceRecordSets"]
        Resource = ["*"]
      },
    ]
  })
}

resource "aws_iam_role_policy_attachment" "external_dns" {
  count      = var.iam_config.enable_external_dns_role ? 1 : 0
  role       = aws_iam_role.external_dns[0].name
  policy_arn = aws_iam_policy.external_dns[0].arn
}

resource "aws_iam_role" "eso" {
  count              = var.iam_config.enable_eso_role ? 1 : 0
  name               = "${var.name_prefix}-eso-role"
  assume_role_policy = data.aws_iam_policy_document.irsa["eso"].json
  tags               = local.tags
}

resource "aws_iam_role_policy" "eso" {
  count = var.iam_config.enable_eso_role ? 1 : 0
  name  = "${var.name_prefix}-eso-role-policy"
  role  = aws_iam_role.eso[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
      Resource = ["arn:aws:secretsmanager:*:*:secret:goldenpath/${var.environment}/*"]
    }]
  })
}

resource "aws_iam_role" "rds_provisioner" {
  count              = var.iam_config.enable_rds_provisioner_role ? 1 : 0
  name               = "${var.name_prefix}-rds-provisioner"
  assume_role_policy = data.aws_iam_policy_document.irsa["rds-provisioner"].json
  tags               = local.tags
}

resource "aws_iam_role_policy" "rds_provisioner" {
  count = var.iam_config.enable_rds_provisioner_role ? 1 : 0
  name  = "${var.name_prefix}-rds-provisioner-policy"
  role  = aws_iam_role.rds_provisioner[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "secretsmanager:CreateSecret"]
      Resource = ["arn:aws:secretsmanager:*:*:secret:goldenpath/${var.environment}/*"]
    }]
  })
}

output "cluster_autoscaler_role_arn" {
  value = try(aws_iam_role.cluster_autoscaler[0].arn, null)
}

output "load_balancer_controller_role_arn" {
  value = aws_iam_role.load_balancer_controller.arn
}

output "external_dns_role_arn" {
  value = try(aws_iam_role.external_dns[0].arn, null)
}

output "eso_role_arn" {
  value = try(aws_iam_role.eso[0].arn, null)
}

output "rds_provisioner_role_arn" {
  value = var.iam_config.enable_rds_provisioner_role ? aws_iam_role.rds_provisioner[0].arn : null
}
