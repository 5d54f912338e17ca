resource "terraform_data" "many" {
  count = 2
  input = count.index
}

resource "terraform_data" "one" {
  input = "one"
  lifecycle {
    precondition {
      condition     = terraform_data.many.output != null
      error_message = "The first instance must exist."
    }
  }
}
