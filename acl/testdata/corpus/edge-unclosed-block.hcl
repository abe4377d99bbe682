mesh = "write"
service "web" {
  policy = "read"
