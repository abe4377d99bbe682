peering =
mesh = "write"
