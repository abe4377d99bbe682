service "web" {
  policy = "read"
  polcy = "write"
}
