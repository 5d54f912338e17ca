locals {
  bucket_name = "logs-dev"
}

variable "region" {
  type = string
}

resource "terraform_data" "named" {
  input = bucket_name
}

resource "terraform_data" "single" {
  input = "${each.key}-${var.region}"
}

resource "terraform_data" "keyed" {
  for_each = toset(["a", "b"])
  input    = "${each.key}-${count.index}"
}

resource "terraform_data" "checked" {
  input = "x"
  lifecycle {
    precondition {
      condition     = self.input != ""
      error_message = "The input must not be empty."
    }
  }
}

output "where" {
  value = "${path.modul}/${terraform.env}"
}
