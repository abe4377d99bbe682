namespace "ns" {
  policy = "write"
  service_prefix "" { policy = "read" }
}
