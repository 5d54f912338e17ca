variable "region" {
  type    = string
  default = "eu-west-1"

  validation {
    condition     = true
    error_message = "Placeholder."
  }
}

provider "aws" {
  region = var.regoin
}

module "network" {
  source = "../../modules/network"
}

module "app" {
  source = "../../modules/app"
  name   = trim(var.region)
}

locals {
  env = "dev"
}
