module "app" {
  source = "./app"
  count  = 1
}

output "url" {
  value = module.app.url
}
