resource "terraform_data" "many" {
  count = 2
  input = count.index
}

resource "terraform_data" "keyed" {
  for_each = toset(["a", "b"])
  input    = each.key
}

resource "terraform_data" "one" {
  input = "one"
}

output "reads" {
  value = [
    terraform_data.many.output,
    terraform_data.keyed.output,
    terraform_data.one[0].output,
  ]
}
