services "web" {
  policy = "read"
}
