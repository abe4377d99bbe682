PEERING = "READ"
Service "Web" {
  Policy = "Write"
  Intentions = "DENY"
}
