mesh = "write"
service "gw" {
  policy = "write"
}
