provider "aws" {
  alias  = "west"
  region = "us-west-2"
}

resource "aws_security_group" "web" {
  count    = 1
  provider = aws.west
  name     = "web"

  ingress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["10.0.0.0/8"]
  }

  egress = [{
    from_port        = 0
    to_port          = 0
    protocol         = "-1"
    cidr_blocks      = ["0.0.0.0/0"]
    ipv6_cidr_blocks = []
    prefix_list_ids  = []
    security_groups  = []
    self             = false
    description      = ""
  }]

  lifecycle {
    create_before_destroy = true
  }

  provisioner "local-exec" {
    command = "true"
  }

  connection {
    host = "example.com"
  }

  timeouts {
    create = "5m"
  }

  depends_on = [terraform_data.marker]
}

resource "aws_eks_cluster" "main" {
  name     = "main"
  role_arn = "arn:aws:iam::123456789012:role/eks"
  dynamic "vpc_config" {
    for_each = [1]
    content {
      subnet_ids = ["subnet-1", "subnet-2"]
    }
  }
}

data "aws_iam_policy_document" "read" {
  statement {
    actions   = ["s3:GetObject"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["*"]
    }
  }
}

data "aws_region" "each" {
  for_each = toset(["a"])
}

resource "terraform_data" "marker" {
  input = data.aws_iam_policy_document.read.json
}
