mesh = "write"
peering =
