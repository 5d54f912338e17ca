resource "terraform_data" "retired" {}

removed {
  from = terraform_data.retired
  lifecycle {
    destroy = false
  }
}
