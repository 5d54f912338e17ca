# The role GitHub Actions deploys with. Early environments were bootstrapped by hand, so
# the role is adopted when it already exists and created otherwise.
variable "role_name" {
  type = string
}

variable "github_repository" {
  type = string
}

variable "oidc_provider_arn" {
  type = string
}

variable "policy_arns" {
  type    = list(string)
  default = []
}

data "aws_iam_roles" "existing" {
  name_regex = "^${var.role_name}$"
}

locals {
  create_role = length(data.aws_iam_roles.existing.names) == 0
  role_arn    = local.create_role ? aws_iam_role.this[0].arn : tolist(data.aws_iam_roles.existing.arns)[0]
}

data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [var.oidc_provider_arn]
    }
    condition {
      test     = "StringLike"
      variable = "token.actions.githubusercontent.com:sub"
      values   = ["repo:${var.github_repository}:*"]
    }
  }
}

resource "aws_iam_role" "this" {
  count              = local.create_role ? 1 : 0
  name               = var.role_name
  assume_role_policy = data.aws_iam_policy_document.trust.json
}

resource "aws_iam_role_policy_attachment" "this" {
  for_each   = toset(var.policy_arns)
  role       = var.role_name
  policy_arn = each.value
}

output "role_arn" {
  value = local.role_arn
}
