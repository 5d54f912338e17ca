resource "aws_s3_buckett" "logs" {
  bucket = "acme-logs"
}

data "aws_regionn" "current" {}
