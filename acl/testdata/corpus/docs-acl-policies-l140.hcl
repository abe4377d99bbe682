service_prefix "web" {
  policy = "write"
}
