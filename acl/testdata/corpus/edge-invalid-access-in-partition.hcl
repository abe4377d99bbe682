partition "p" {
  peering = "reed"
}
