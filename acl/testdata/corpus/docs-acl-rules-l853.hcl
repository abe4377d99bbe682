service "app" {
  policy = "write"
  intentions = "read"
}
