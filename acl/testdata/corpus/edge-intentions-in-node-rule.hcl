node "n" {
  policy = "read"
  intentions = "read"
}
