resource "terraform_data" "logs" {}

moved {
  from = terraform_data.log_bucket
  to   = terraform_data.log
}
