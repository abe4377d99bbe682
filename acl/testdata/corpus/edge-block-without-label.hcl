service {
  policy = "read"
}
