service "web" {
  policy = ""
}
