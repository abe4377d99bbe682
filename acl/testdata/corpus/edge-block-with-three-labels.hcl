service "a" "b" "c" {
  policy = "read"
}
