locals {
  prefix = "${var.name}-${terraform.workspace}"
  tags   = { App = var.name, Module = basename(path.module) }
}

resource "aws_security_group" "app" {
  name = "${local.prefix}-app"

  dynamic "ingress" {
    for_each = var.ports
    content {
      from_port   = ingress.value.port
      to_port     = ingress.value.port
      protocol    = "tcp"
      cidr_blocks = ingress.value.cidr_blocks
    }
  }

  dynamic "egress" {
    for_each = var.ports
    iterator = rule
    content {
      from_port   = rule.value.port
      to_port     = rule.value.port
      protocol    = "tcp"
      cidr_blocks = rule.value.cidr_blocks
    }
  }

  tags = local.tags
}

resource "aws_instance" "app" {
  count                  = var.replicas
  ami                    = data.aws_ami.base.id
  instance_type          = "t3.small"
  vpc_security_group_ids = [aws_security_group.app.id]
  user_data              = templatefile("${path.module}/init.sh.tpl", { index = count.index, root = path.root })

  tags = merge(local.tags, { Name = "${local.prefix}-${count.index}" })

  lifecycle {
    ignore_changes = [ami, tags_all]

    postcondition {
      condition     = self.instance_state != "terminated"
      error_message = "The instance must be running."
    }
  }
}

resource "aws_s3_bucket" "data" {
  for_each = var.buckets
  bucket   = "${local.prefix}-${each.key}"
  tags     = merge(local.tags, { Purpose = each.value })
}

data "aws_ami" "base" {
  most_recent = true
  owners      = ["amazon"]
}
