service_prefix "" {
  policy = "list"
}
