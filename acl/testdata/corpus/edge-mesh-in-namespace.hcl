namespace_prefix "" {
  mesh = "write"
}
