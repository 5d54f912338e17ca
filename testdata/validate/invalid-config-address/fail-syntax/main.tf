resource "terraform_data" "current" {}

moved {
  from = terraform_data.previous[0].output
  to   = terraform_data.current
}

moved {
  from = module.legacy
  to   = terraform_data.current
}

import {
  to = terraform_data.current.id
  id = "x"
}

removed {
  from = data.terraform_remote_state.old
}
