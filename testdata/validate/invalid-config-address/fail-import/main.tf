resource "terraform_data" "bucket" {}

import {
  to = terraform_data.buckett
  id = "acme-logs"
}
