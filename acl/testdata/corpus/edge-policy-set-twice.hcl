service "web" {
  policy = "write"
  policy = "deny"
}
