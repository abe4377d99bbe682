query "" {
  policy = "read"
}
query "foo" {
  policy = "write"
}
