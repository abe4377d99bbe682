service "example-https" {
  policy = "write"
}
