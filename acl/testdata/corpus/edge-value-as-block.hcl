peering "" {
  policy = "read"
}
