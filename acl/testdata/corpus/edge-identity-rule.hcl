identity "web" {
  policy = "write"
}
