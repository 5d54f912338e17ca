output "url" {
  value = "https://example.com"
}
