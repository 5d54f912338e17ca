resource "terraform_data" "b" {
  for_each = toset(["a"])
}

module "app" {
  source = "./app"
}

moved {
  from = terraform_data.b[0]
  to   = terraform_data.b["a"]
}

moved {
  from = module.old_app
  to   = module.app
}

moved {
  from = terraform_data.legacy
  to   = module.app.terraform_data.this
}

removed {
  from = terraform_data.retired
  lifecycle {
    destroy = false
  }
}

removed {
  from = module.retired
  lifecycle {
    destroy = false
  }
}
