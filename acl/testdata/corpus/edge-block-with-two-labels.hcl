service "a" "b" {
  policy = "read"
}
