partition "a" {
  partition "b" {
    peering = "read"
  }
}
