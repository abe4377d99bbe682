peering = "reed"
peering = "read"
