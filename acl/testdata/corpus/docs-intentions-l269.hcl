service "web" {
  policy = "write"
}
