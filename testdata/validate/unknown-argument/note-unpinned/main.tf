resource "aws_s3_bucket" "logs" {
  buckt = "acme-logs"
}
