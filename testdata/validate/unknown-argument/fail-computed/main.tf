resource "aws_s3_bucket" "logs" {
  bucket = "acme-logs"
  arn    = "arn:aws:s3:::acme-logs"
}
