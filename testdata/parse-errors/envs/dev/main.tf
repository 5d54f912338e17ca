module "network" {
  source = "../../modules/network"
  cidr   = "10.20.0.0/16"
}

resource "aws_s3_bucket" "state" {
  bucket = "acme-dev-terraform-state"

  tags = {
    Environment = "dev"
  # the closing braces of tags and of the resource are missing
