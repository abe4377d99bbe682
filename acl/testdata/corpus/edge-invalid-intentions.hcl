service "web" {
  policy = "read"
  intentions = "all"
}
