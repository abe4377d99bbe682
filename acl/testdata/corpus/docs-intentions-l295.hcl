service "web" {
  policy = "read"
  intentions = "deny"
}
