resource "aws_s3_bucket" "logs" {
  buckt = "acme-logs"
  versioning_cfg {
  }
}

resource "aws_instance" "web" {
  ami           = "ami-12345678"
  instance_type = "t3.micro"
  root_block_device {
    volume_sise = 20
  }
  dynamic "ebs_blok" {
    for_each = []
    content {}
  }
}

resource "aws_iam_role" "ci" {
  inline_policy = [{ name = "x" }]
}

resource "aws_eks_cluster" "main" {
  name     = "main"
  role_arn = "arn:aws:iam::123456789012:role/eks"
}

data "aws_iam_policy_document" "read" {
  statement {
    actionz = ["s3:GetObject"]
  }
}
