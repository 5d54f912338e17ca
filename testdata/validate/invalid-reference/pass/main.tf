terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

variable "rules" {
  type = list(object({
    port  = number
    cidrs = optional(list(string), [])
  }))
  default = []
}

locals {
  names = { for i, r in var.rules : i => "rule-${r.port}" }
}

provider "aws" {
  alias  = "west"
  region = "us-west-2"
}

resource "aws_security_group" "web" {
  for_each = toset(["a"])
  provider = aws.west
  name     = "${each.key}-${terraform.workspace}"

  dynamic "ingress" {
    for_each = var.rules
    iterator = rule
    content {
      from_port   = rule.value.port
      to_port     = rule.value.port
      protocol    = "tcp"
      cidr_blocks = [for c in rule.value.cidrs : c if c != ""]
      description = each.value
    }
  }

  lifecycle {
    ignore_changes       = [tags, description]
    replace_triggered_by = [terraform_data.marker]
    postcondition {
      condition     = self.name != ""
      error_message = "The group needs a name."
    }
  }

  depends_on = [terraform_data.marker]
}

resource "terraform_data" "marker" {
  count = 1
  input = <<-EOT
    ${path.module} ${path.root} ${path.cwd} ${count.index}
    %{for k, v in local.names}${k}=${v} %{endfor}
  EOT

  connection {
    host = self.output
  }

  provisioner "local-exec" {
    command = "echo ${self.id}"
  }

  provisioner "local-exec" {
    when       = destroy
    on_failure = continue
    command    = "echo ${self.id}"
  }
}

output "arn_region" {
  value = provider::aws::arn_parse("arn:aws:s3:::bucket").region
}
