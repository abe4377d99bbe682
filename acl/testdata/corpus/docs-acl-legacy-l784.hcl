key "" {
  policy = "deny"
}

key "bar" {
  policy = "list"
}

key "baz" {
  policy = "read"
}
