module "app" {
  source = "./app"
}

import {
  to = module.app.terraform_data.that
  id = "acme-app"
}
