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
  lifecycle {
    replace_triggered_by = [terraform_data.many]
  }
  depends_on = [terraform_data.keyed]
}

module "app" {
  source   = "./app"
  for_each = toset(["a"])
}

module "single" {
  source = "./app"
}

output "reads" {
  value = [
    terraform_data.many[*].output,
    terraform_data.many.*.output,
    terraform_data.many[0].output,
    [for d in terraform_data.keyed : d.output],
    values(terraform_data.keyed)[*].output,
    terraform_data.keyed["a"].output,
    length(terraform_data.many),
    terraform_data.one.output,
    terraform_data.one[*].output,
    module.app["a"].url,
    module.single.url,
  ]
}
