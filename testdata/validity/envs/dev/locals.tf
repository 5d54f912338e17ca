locals {
  env = "development"
}

variable "version" {
  type    = string
  default = "1"
}
