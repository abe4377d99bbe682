event "" {
  policy = "read"
}
event "deploy" {
  policy = "write"
}
